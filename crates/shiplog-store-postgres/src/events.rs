//! Events and changes in PostgreSQL: row mapping, the statements the write
//! path runs, and keyset listing.

use shiplog_domain::event::CommitFields;
use shiplog_domain::{
    Actor, BuildStatus, Change, DeploymentStatus, DeploymentType, Event, EventFields, EventFilter,
    EventType, NewChange, Order, PageRequest, RepoProvider, Timestamp,
};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, QueryBuilder, Row};

use super::{db_error, unique_violation};
use shiplog_store::Result;
use shiplog_store::columns::{AppRow, ChangeColumns, EVENT_COLUMNS, to_json_text};
use shiplog_store::constraints::Unique;
use shiplog_store::queries;
use shiplog_store::write::Counter;

fn event_from_row(row: &PgRow, app_name: &str) -> Result<Event, sqlx::Error> {
    let text = |i: usize| row.try_get::<Option<String>, _>(i);
    let time = |i: usize| -> Result<Option<Timestamp>, sqlx::Error> {
        Ok(row
            .try_get::<Option<i64>, _>(i)?
            .map(Timestamp::from_millis))
    };
    let event_type: String = row.try_get(1)?;
    let event_type = EventType::parse(&event_type)
        .ok_or_else(|| sqlx::Error::Decode(format!("unknown event type {event_type}").into()))?;
    Ok(Event {
        app_name: app_name.to_owned(),
        event_id: row.try_get(0)?,
        event_time: Timestamp::from_millis(row.try_get(2)?),
        event_type,
        fields: EventFields {
            commit: CommitFields {
                author_name: text(3)?,
                author_username: text(4)?,
                branch: text(5)?,
                commit_id: text(6)?,
                commit_msg: text(7)?,
                commit_time: time(28)?,
                commit_url: text(8)?,
                repo_name: text(9)?,
                repo_owner: text(10)?,
                repo_provider: text(11)?.as_deref().and_then(RepoProvider::parse),
                repo_url: text(12)?,
            },
            auto_build: row.try_get(13)?,
            build_end: time(14)?,
            build_id: text(15)?,
            build_provider: text(16)?,
            build_start: time(17)?,
            build_status: text(18)?.as_deref().and_then(BuildStatus::parse),
            build_url: text(19)?,
            parent_event_id: row.try_get(20)?,
            release_version: text(21)?,
            auto_deploy: row.try_get(22)?,
            deployment_id: text(23)?,
            deployment_number: text(24)?,
            deployment_status: text(25)?.as_deref().and_then(DeploymentStatus::parse),
            deployment_type: text(26)?.as_deref().and_then(DeploymentType::parse),
            deployment_start: time(29)?,
            deployment_end: time(30)?,
            hotfix: row.try_get(31)?,
            env_name: text(27)?,
        },
    })
}

/// Inserts an event and returns its id.
pub async fn insert(
    conn: &mut PgConnection,
    app: &AppRow,
    event_type: EventType,
    event_time: Timestamp,
    f: &EventFields,
) -> Result<i64> {
    let c = &f.commit;
    let inserted = sqlx::query_scalar(queries::INSERT_EVENT)
        .bind(app.id)
        .bind(event_type.as_str())
        .bind(event_time.millis())
        .bind(&c.author_name)
        .bind(&c.author_username)
        .bind(&c.branch)
        .bind(&c.commit_id)
        .bind(&c.commit_msg)
        .bind(&c.commit_url)
        .bind(&c.repo_name)
        .bind(&c.repo_owner)
        .bind(c.repo_provider.map(|p| p.as_str()))
        .bind(&c.repo_url)
        .bind(f.auto_build)
        .bind(f.build_end.map(Timestamp::millis))
        .bind(&f.build_id)
        .bind(&f.build_provider)
        .bind(f.build_start.map(Timestamp::millis))
        .bind(f.build_status.map(|s| s.as_str()))
        .bind(&f.build_url)
        .bind(f.parent_event_id)
        .bind(&f.release_version)
        .bind(f.auto_deploy)
        .bind(&f.deployment_id)
        .bind(&f.deployment_number)
        .bind(f.deployment_status.map(|s| s.as_str()))
        .bind(f.deployment_type.map(|t| t.as_str()))
        .bind(&f.env_name)
        .bind(c.commit_time.map(Timestamp::millis))
        .bind(f.deployment_start.map(Timestamp::millis))
        .bind(f.deployment_end.map(Timestamp::millis))
        .bind(f.hotfix)
        .fetch_one(conn)
        .await;
    inserted.map_err(|err| match unique_violation(&err) {
        Some(Unique::ReleaseVersion) => {
            Unique::ReleaseVersion.error(f.release_version.as_deref().unwrap_or_default())
        }
        _ => db_error(err),
    })
}

/// Runs a query of events of `app` and maps each row.
pub async fn events(
    conn: &mut PgConnection,
    app: &AppRow,
    query: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
) -> Result<Vec<Event>> {
    let rows = query.fetch_all(conn).await.map_err(db_error)?;
    rows.iter()
        .map(|row| event_from_row(row, &app.name))
        .collect::<Result<_, _>>()
        .map_err(db_error)
}

async fn one_event(
    conn: &mut PgConnection,
    app: &AppRow,
    query: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
) -> Result<Option<Event>> {
    Ok(events(conn, app, query).await?.pop())
}

/// Loads one event of `app`.
pub async fn load(conn: &mut PgConnection, app: &AppRow, event_id: i64) -> Result<Option<Event>> {
    let query = sqlx::query(&queries::LOAD_EVENT)
        .bind(event_id)
        .bind(app.id);
    one_event(conn, app, query).await
}

/// The RELEASE of `app` with this version.
pub async fn find_release(
    conn: &mut PgConnection,
    app: &AppRow,
    version: &str,
) -> Result<Option<Event>> {
    let query = sqlx::query(&queries::FIND_RELEASE)
        .bind(app.id)
        .bind(version);
    one_event(conn, app, query).await
}

/// Increments one of the app's counters and returns its new value.
pub async fn bump_counter(conn: &mut PgConnection, app: &AppRow, counter: Counter) -> Result<i64> {
    sqlx::query_scalar(queries::bump_counter(counter))
        .bind(app.id)
        .fetch_one(conn)
        .await
        .map_err(db_error)
}

/// Stores the updatable fields of a BUILD or DEPLOY unless it is terminal.
pub async fn update_unless_terminal(
    conn: &mut PgConnection,
    event_id: i64,
    event_type: EventType,
    next: &EventFields,
) -> Result<bool> {
    let query = if event_type == EventType::Build {
        sqlx::query(&queries::UPDATE_BUILD_UNLESS_TERMINAL)
            .bind(next.build_end.map(Timestamp::millis))
            .bind(next.build_status.map(|s| s.as_str()))
            .bind(&next.release_version)
            .bind(event_id)
    } else {
        sqlx::query(&queries::UPDATE_DEPLOY_UNLESS_TERMINAL)
            .bind(next.deployment_status.map(|s| s.as_str()))
            .bind(next.deployment_end.map(Timestamp::millis))
            .bind(event_id)
    };
    let done = query.execute(conn).await.map_err(db_error)?;
    Ok(done.rows_affected() > 0)
}

/// Records a change and returns its id.
pub async fn insert_change(
    conn: &mut PgConnection,
    account_id: i64,
    app: &AppRow,
    actor: &Actor,
    change: &NewChange,
) -> Result<i64> {
    sqlx::query_scalar(queries::INSERT_CHANGE)
        .bind(account_id)
        .bind(app.id)
        .bind(change.event_id)
        .bind(change.at.millis())
        .bind(change.kind.as_str())
        .bind(to_json_text(actor))
        .bind(to_json_text(&change.fields))
        .bind(to_json_text(&change.event))
        .fetch_one(conn)
        .await
        .map_err(db_error)
}

/// Runs a query of changes and parses each row.
pub async fn changes(
    conn: &mut PgConnection,
    query: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
) -> Result<Vec<Change>> {
    let rows = query.fetch_all(conn).await.map_err(db_error)?;
    rows.iter()
        .map(|row| {
            Ok(ChangeColumns {
                change_id: row.try_get(0)?,
                at_ms: row.try_get(1)?,
                kind: row.try_get(2)?,
                actor: row.try_get(3)?,
                fields: row.try_get(4)?,
                event: row.try_get(5)?,
                app_name: row.try_get(6)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(db_error)?
        .into_iter()
        .map(ChangeColumns::into_change)
        .collect()
}

/// The newest event of `app` of a type, optionally only those to one env.
pub async fn latest(
    conn: &mut PgConnection,
    app: &AppRow,
    event_type: EventType,
    env: Option<&str>,
) -> Result<Option<Event>> {
    let filter = EventFilter {
        event_type: Some(event_type),
        env: env.map(str::to_owned),
        branch: None,
    };
    let page = PageRequest {
        order: Order::Desc,
        limit: 1,
        after: None,
    };
    Ok(list(conn, app, &filter, &page, 1).await?.pop())
}

/// One page of `app`'s events: at most `fetch` rows after the page's key.
/// Filters are compiled with bound values only.
pub async fn list(
    conn: &mut PgConnection,
    app: &AppRow,
    filter: &EventFilter,
    page: &PageRequest<i64>,
    fetch: usize,
) -> Result<Vec<Event>> {
    let mut query = QueryBuilder::new(format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE app_id = "
    ));
    query.push_bind(app.id);
    if let Some(branch) = &filter.branch {
        query.push(" AND branch = ").push_bind(branch.clone());
    }
    if let Some(event_type) = filter.event_type {
        query
            .push(" AND event_type = ")
            .push_bind(event_type.as_str());
    }
    if let Some(env) = &filter.env {
        query.push(" AND env_name = ").push_bind(env.clone());
    }
    if let Some(after) = page.after {
        query.push(match page.order {
            Order::Asc => " AND id > ",
            Order::Desc => " AND id < ",
        });
        query.push_bind(after);
    }
    query.push(match page.order {
        Order::Asc => " ORDER BY id ASC LIMIT ",
        Order::Desc => " ORDER BY id DESC LIMIT ",
    });
    query.push_bind(fetch as i64);
    let rows = query.build().fetch_all(conn).await.map_err(db_error)?;
    rows.iter()
        .map(|row| event_from_row(row, &app.name))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(db_error)
}
