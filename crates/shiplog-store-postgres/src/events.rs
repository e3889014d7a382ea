//! Events in PostgreSQL: row mapping, creation with its parent rules, the
//! conditional update, and keyset listing.

use shiplog_domain::event::CommitFields;
use shiplog_domain::input::{EventUpdate, NewEvent};
use shiplog_domain::rules::{self, UpdateOutcome};
use shiplog_domain::{
    BuildStatus, DeploymentStatus, DeploymentType, DomainError, Event, EventFields, EventFilter,
    EventType, Order, PageRequest, RepoProvider, Timestamp,
};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, QueryBuilder, Row};

use super::apps::{AppRow, ensure_deploy_env};
use super::{db_error, is_unique_violation};
use shiplog_store::columns::EVENT_COLUMNS;
use shiplog_store::{Result, StoreError};

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
            env_name: text(27)?,
        },
    })
}

async fn insert(
    conn: &mut PgConnection,
    app: &AppRow,
    event_type: EventType,
    f: &EventFields,
) -> Result<i64> {
    let c = &f.commit;
    let inserted = sqlx::query_scalar(
        "INSERT INTO events (app_id, event_type, event_time_ms, author_name, author_username, \
         branch, commit_id, commit_msg, commit_url, repo_name, repo_owner, repo_provider, \
         repo_url, auto_build, build_end_ms, build_id, build_provider, build_start_ms, \
         build_status, build_url, parent_event_id, release_version, auto_deploy, \
         deployment_id, deployment_number, deployment_status, deployment_type, env_name) \
         VALUES ($1, $2, (extract(epoch FROM clock_timestamp()) * 1000)::bigint, $3, $4, $5, \
         $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, \
         $24, $25, $26, $27) RETURNING id",
    )
    .bind(app.id)
    .bind(event_type.as_str())
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
    .fetch_one(conn)
    .await;
    match inserted {
        Ok(id) => Ok(id),
        Err(err) if is_unique_violation(&err) => Err(StoreError::already_exists(format!(
            "Release {}",
            f.release_version.as_deref().unwrap_or_default()
        ))),
        Err(err) => Err(db_error(err)),
    }
}

async fn fetch_one_event(
    conn: &mut PgConnection,
    app: &AppRow,
    mut query: QueryBuilder<'_, sqlx::Postgres>,
) -> Result<Option<Event>> {
    let row = query.build().fetch_optional(conn).await.map_err(db_error)?;
    row.map(|row| event_from_row(&row, &app.name))
        .transpose()
        .map_err(db_error)
}

/// Loads one event of `app`.
pub async fn load(conn: &mut PgConnection, app: &AppRow, event_id: i64) -> Result<Option<Event>> {
    let mut query = QueryBuilder::new(format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = "));
    query
        .push_bind(event_id)
        .push(" AND app_id = ")
        .push_bind(app.id);
    fetch_one_event(conn, app, query).await
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

async fn find_release(
    conn: &mut PgConnection,
    app: &AppRow,
    version: &str,
) -> Result<Option<Event>> {
    let mut query = QueryBuilder::new(format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE event_type = 'RELEASE' AND app_id = "
    ));
    query
        .push_bind(app.id)
        .push(" AND release_version = ")
        .push_bind(version.to_owned());
    fetch_one_event(conn, app, query).await
}

/// The parent an event of type `child` names: an event of the same app of
/// an allowed type.
async fn parent(conn: &mut PgConnection, app: &AppRow, id: i64, child: EventType) -> Result<Event> {
    let allowed = rules::allowed_parents(child);
    load(conn, app, id)
        .await?
        .filter(|event| allowed.contains(&event.event_type))
        .ok_or_else(|| {
            let types: Vec<_> = allowed.iter().map(|t| t.as_str()).collect();
            DomainError::bad_param(
                "parent_event_id",
                format!(
                    "event {id} is not a {} event of app {}",
                    types.join(" or "),
                    app.name
                ),
            )
            .into()
        })
}

/// Records `event` in `app`, applying the rules that involve other rows.
pub async fn create(
    conn: &mut PgConnection,
    account_id: i64,
    app: &AppRow,
    event: NewEvent,
) -> Result<i64> {
    let NewEvent {
        event_type,
        mut fields,
    } = event;
    match event_type {
        EventType::Build => {
            if let Some(id) = fields.parent_event_id {
                parent(conn, app, id, event_type).await?;
            }
        }
        EventType::Release => {
            if let Some(id) = fields.parent_event_id {
                let build = parent(conn, app, id, event_type).await?;
                rules::inherit_from_build(&mut fields, &build.fields);
            }
            match &fields.release_version {
                Some(version) => {
                    if find_release(conn, app, version).await?.is_some() {
                        return Err(StoreError::already_exists(format!("Release {version}")));
                    }
                }
                None => fields.release_version = Some(next_release_version(conn, app).await?),
            }
        }
        EventType::Deploy => {
            let env = fields.env_name.clone().unwrap_or_default();
            ensure_deploy_env(conn, account_id, app, &env).await?;
            let release = match (fields.parent_event_id, &fields.release_version) {
                (Some(id), _) => Some(parent(conn, app, id, event_type).await?),
                (None, Some(version)) => find_release(conn, app, version).await?,
                (None, None) => None,
            };
            if let Some(release) = release {
                rules::inherit_from_release(&mut fields, &release);
            }
            if fields.deployment_id.is_none() {
                fields.deployment_id = Some(rules::new_deployment_id());
            }
            if fields.deployment_number.is_none() {
                let number = bump_counter(conn, app, Counter::Deploy).await?;
                fields.deployment_number = Some(number.to_string());
            }
            fields.deployment_type.get_or_insert(DeploymentType::Deploy);
        }
        EventType::Push | EventType::PullRequest | EventType::DockerImage => {}
    }
    let id = insert(conn, app, event_type, &fields).await?;
    if event_type == EventType::Build
        && let Some(version) = &fields.release_version
    {
        ensure_release_of_build(conn, app, id, version, &fields).await?;
    }
    Ok(id)
}

/// Records the RELEASE a build reported, unless the app already has it.
/// Write transactions are serialised by the writers' advisory lock, so the
/// check cannot race; the unique index would refuse a duplicate regardless.
async fn ensure_release_of_build(
    conn: &mut PgConnection,
    app: &AppRow,
    build_id: i64,
    version: &str,
    build: &EventFields,
) -> Result<()> {
    if find_release(conn, app, version).await?.is_some() {
        return Ok(());
    }
    let release = rules::release_of_build(build_id, build, version);
    insert(conn, app, EventType::Release, &release)
        .await
        .map(|_| ())
}

enum Counter {
    Release,
    Deploy,
}

/// Increments one of the app's counters and returns its new value.
async fn bump_counter(conn: &mut PgConnection, app: &AppRow, counter: Counter) -> Result<i64> {
    let sql = match counter {
        Counter::Release => {
            "UPDATE apps SET release_seq = release_seq + 1 WHERE id = $1 RETURNING release_seq"
        }
        Counter::Deploy => {
            "UPDATE apps SET deploy_seq = deploy_seq + 1 WHERE id = $1 RETURNING deploy_seq"
        }
    };
    sqlx::query_scalar(sql)
        .bind(app.id)
        .fetch_one(conn)
        .await
        .map_err(db_error)
}

/// The next `vN` the app has not used.
async fn next_release_version(conn: &mut PgConnection, app: &AppRow) -> Result<String> {
    loop {
        let version = rules::release_version(bump_counter(conn, app, Counter::Release).await?);
        if find_release(conn, app, &version).await?.is_none() {
            return Ok(version);
        }
    }
}

fn terminal_list<'a>(terminal: impl Iterator<Item = &'a str>) -> Vec<String> {
    terminal.map(str::to_owned).collect()
}

/// Applies `update` to an event under the terminal-state rule. The UPDATE
/// only matches a non-terminal row, so of racing writers (on any instance)
/// exactly one changes a terminal state.
pub async fn update(
    conn: &mut PgConnection,
    app: &AppRow,
    event_id: i64,
    update: &EventUpdate,
) -> Result<Event> {
    let not_found = || StoreError::not_found(format!("Event {event_id}"));
    let current = load(conn, app, event_id).await?.ok_or_else(not_found)?;
    let next = match rules::apply_update(event_id, current.event_type, &current.fields, update)? {
        UpdateOutcome::Unchanged => return Ok(current),
        UpdateOutcome::Changed(next) => next,
    };
    let changed = if current.event_type == EventType::Build {
        sqlx::query(
            "UPDATE events SET build_end_ms = $1, build_status = $2, release_version = $3 \
             WHERE id = $4 AND (build_status IS NULL OR build_status <> ALL($5))",
        )
        .bind(next.build_end.map(Timestamp::millis))
        .bind(next.build_status.map(|s| s.as_str()))
        .bind(&next.release_version)
        .bind(event_id)
        .bind(terminal_list(
            BuildStatus::TERMINAL.iter().map(|s| s.as_str()),
        ))
        .execute(&mut *conn)
        .await
    } else {
        sqlx::query(
            "UPDATE events SET deployment_status = $1 \
             WHERE id = $2 AND (deployment_status IS NULL OR deployment_status <> ALL($3))",
        )
        .bind(next.deployment_status.map(|s| s.as_str()))
        .bind(event_id)
        .bind(terminal_list(
            DeploymentStatus::TERMINAL.iter().map(|s| s.as_str()),
        ))
        .execute(&mut *conn)
        .await
    }
    .map_err(db_error)?
    .rows_affected();
    if changed == 0 {
        // Another writer made it terminal first: judge the update again.
        let now = load(conn, app, event_id).await?.ok_or_else(not_found)?;
        return match rules::apply_update(event_id, now.event_type, &now.fields, update)? {
            UpdateOutcome::Unchanged => Ok(now),
            UpdateOutcome::Changed(_) => Err(StoreError::Internal(format!(
                "event {event_id} changed under a conditional update"
            ))),
        };
    }
    if current.event_type == EventType::Build
        && let Some(version) = &update.release_version
    {
        ensure_release_of_build(conn, app, event_id, version, &next).await?;
    }
    load(conn, app, event_id).await?.ok_or_else(not_found)
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
