//! Events and changes in SQLite: row mapping, the statements the write path
//! runs, and the reads (keyset listing, history, lineage, commits).

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, params};
use shiplog_domain::{
    Actor, BuildStatus, Change, DeploymentStatus, DeploymentType, Event, EventFields, EventFilter,
    EventType, NewChange, Order, PageRequest, RepoProvider, Timestamp,
};
use shiplog_store::Result;
use shiplog_store::columns::{AppRow, ChangeColumns, EVENT_COLUMNS, to_json_text};
use shiplog_store::constraints::Unique;
use shiplog_store::queries;
use shiplog_store::write::Counter;

use super::{sql_error, unique_violation};

pub fn event_from_row(row: &Row<'_>, app_name: &str) -> rusqlite::Result<Event> {
    let text = |i: usize| row.get::<_, Option<String>>(i);
    let time = |i: usize| -> rusqlite::Result<Option<Timestamp>> {
        Ok(row.get::<_, Option<i64>>(i)?.map(Timestamp::from_millis))
    };
    let event_type: String = row.get(1)?;
    let event_type = EventType::parse(&event_type).ok_or_else(|| {
        rusqlite::Error::InvalidColumnType(1, "event_type".into(), rusqlite::types::Type::Text)
    })?;
    Ok(Event {
        app_name: app_name.to_owned(),
        event_id: row.get(0)?,
        event_time: Timestamp::from_millis(row.get(2)?),
        event_type,
        fields: EventFields {
            commit: shiplog_domain::event::CommitFields {
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
            auto_build: row.get(13)?,
            build_end: time(14)?,
            build_id: text(15)?,
            build_provider: text(16)?,
            build_start: time(17)?,
            build_status: text(18)?.as_deref().and_then(BuildStatus::parse),
            build_url: text(19)?,
            parent_event_id: row.get(20)?,
            release_version: text(21)?,
            auto_deploy: row.get(22)?,
            deployment_id: text(23)?,
            deployment_number: text(24)?,
            deployment_status: text(25)?.as_deref().and_then(DeploymentStatus::parse),
            deployment_type: text(26)?.as_deref().and_then(DeploymentType::parse),
            deployment_start: time(29)?,
            deployment_end: time(30)?,
            hotfix: row.get(31)?,
            env_name: text(27)?,
        },
    })
}

/// Inserts an event and returns its id.
pub fn insert(
    conn: &Connection,
    app: &AppRow,
    event_type: EventType,
    event_time: Timestamp,
    f: &EventFields,
) -> Result<i64> {
    let c = &f.commit;
    let mut stmt = conn
        .prepare_cached(queries::INSERT_EVENT)
        .map_err(sql_error)?;
    let result = stmt.query_row(
        params![
            app.id,
            event_type.as_str(),
            event_time.millis(),
            c.author_name,
            c.author_username,
            c.branch,
            c.commit_id,
            c.commit_msg,
            c.commit_url,
            c.repo_name,
            c.repo_owner,
            c.repo_provider.map(|p| p.as_str()),
            c.repo_url,
            f.auto_build,
            f.build_end.map(Timestamp::millis),
            f.build_id,
            f.build_provider,
            f.build_start.map(Timestamp::millis),
            f.build_status.map(|s| s.as_str()),
            f.build_url,
            f.parent_event_id,
            f.release_version,
            f.auto_deploy,
            f.deployment_id,
            f.deployment_number,
            f.deployment_status.map(|s| s.as_str()),
            f.deployment_type.map(|t| t.as_str()),
            f.env_name,
            c.commit_time.map(Timestamp::millis),
            f.deployment_start.map(Timestamp::millis),
            f.deployment_end.map(Timestamp::millis),
            f.hotfix,
        ],
        |row| row.get(0),
    );
    match result {
        Ok(id) => Ok(id),
        Err(err) => Err(match unique_violation(&err) {
            Some(Unique::ReleaseVersion) => {
                Unique::ReleaseVersion.error(f.release_version.as_deref().unwrap_or_default())
            }
            _ => sql_error(err),
        }),
    }
}

/// Loads one event of `app`.
pub fn load(conn: &Connection, app: &AppRow, event_id: i64) -> Result<Option<Event>> {
    let mut stmt = conn
        .prepare_cached(&queries::LOAD_EVENT)
        .map_err(sql_error)?;
    stmt.query_row(params![event_id, app.id], |row| {
        event_from_row(row, &app.name)
    })
    .optional()
    .map_err(sql_error)
}

/// The newest event of `app` of a type, optionally only those to one env.
pub fn latest(
    conn: &Connection,
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
    Ok(list(conn, app, &filter, &page, 1)?.pop())
}

/// The RELEASE of `app` with this version.
pub fn find_release(conn: &Connection, app: &AppRow, version: &str) -> Result<Option<Event>> {
    let mut stmt = conn
        .prepare_cached(&queries::FIND_RELEASE)
        .map_err(sql_error)?;
    stmt.query_row(params![app.id, version], |row| {
        event_from_row(row, &app.name)
    })
    .optional()
    .map_err(sql_error)
}

/// Increments one of the app's counters and returns its new value.
pub fn bump_counter(conn: &Connection, app: &AppRow, counter: Counter) -> Result<i64> {
    conn.prepare_cached(queries::bump_counter(counter))
        .and_then(|mut stmt| stmt.query_row([app.id], |row| row.get(0)))
        .map_err(sql_error)
}

/// Stores the updatable fields of a BUILD or DEPLOY unless it is terminal.
/// The UPDATE only matches a non-terminal row, so a racing writer cannot
/// slip past it.
pub fn update_unless_terminal(
    conn: &Connection,
    event_id: i64,
    event_type: EventType,
    next: &EventFields,
) -> Result<bool> {
    let changed = if event_type == EventType::Build {
        conn.prepare_cached(&queries::UPDATE_BUILD_UNLESS_TERMINAL)
            .and_then(|mut stmt| {
                stmt.execute(params![
                    next.build_end.map(Timestamp::millis),
                    next.build_status.map(|s| s.as_str()),
                    next.release_version,
                    event_id
                ])
            })
    } else {
        conn.prepare_cached(&queries::UPDATE_DEPLOY_UNLESS_TERMINAL)
            .and_then(|mut stmt| {
                stmt.execute(params![
                    next.deployment_status.map(|s| s.as_str()),
                    next.deployment_end.map(Timestamp::millis),
                    event_id
                ])
            })
    }
    .map_err(sql_error)?;
    Ok(changed > 0)
}

/// Records a change and returns its id.
pub fn insert_change(
    conn: &Connection,
    account_id: i64,
    app: &AppRow,
    actor: &Actor,
    change: &NewChange,
) -> Result<i64> {
    conn.prepare_cached(queries::INSERT_CHANGE)
        .and_then(|mut stmt| {
            stmt.query_row(
                params![
                    account_id,
                    app.id,
                    change.event_id,
                    change.at.millis(),
                    change.kind.as_str(),
                    to_json_text(actor),
                    to_json_text(&change.fields),
                    to_json_text(&change.event),
                ],
                |row| row.get(0),
            )
        })
        .map_err(sql_error)
}

fn change_from_row(row: &Row<'_>) -> rusqlite::Result<ChangeColumns> {
    Ok(ChangeColumns {
        change_id: row.get(0)?,
        at_ms: row.get(1)?,
        kind: row.get(2)?,
        actor: row.get(3)?,
        fields: row.get(4)?,
        event: row.get(5)?,
        app_name: row.get(6)?,
    })
}

/// Runs a query of changes and parses each row.
pub fn changes(
    conn: &Connection,
    sql: &str,
    values: &[&dyn rusqlite::ToSql],
) -> Result<Vec<Change>> {
    let mut stmt = conn.prepare_cached(sql).map_err(sql_error)?;
    let rows = stmt
        .query_map(values, change_from_row)
        .map_err(sql_error)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(sql_error)?;
    rows.into_iter().map(ChangeColumns::into_change).collect()
}

/// Runs a query of events of `app` and maps each row.
pub fn events(
    conn: &Connection,
    app: &AppRow,
    sql: &str,
    values: &[&dyn rusqlite::ToSql],
) -> Result<Vec<Event>> {
    let mut stmt = conn.prepare_cached(sql).map_err(sql_error)?;
    stmt.query_map(values, |row| event_from_row(row, &app.name))
        .map_err(sql_error)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(sql_error)
}

/// One page of `app`'s events: at most `fetch` rows after the page's key.
pub fn list(
    conn: &Connection,
    app: &AppRow,
    filter: &EventFilter,
    page: &PageRequest<i64>,
    fetch: usize,
) -> Result<Vec<Event>> {
    let mut stmt = conn
        .prepare_cached(&list_sql(filter, page, fetch))
        .map_err(sql_error)?;
    let values = list_values(app, filter, page);
    let rows = stmt
        .query_map(rusqlite::params_from_iter(values), |row| {
            event_from_row(row, &app.name)
        })
        .map_err(sql_error)?;
    rows.collect::<rusqlite::Result<Vec<_>>>()
        .map_err(sql_error)
}

/// The listing's SQL, assembled from fixed fragments only: every value from
/// the request is bound, in the order [`list_values`] gives them.
///
/// The event type (one of six constants) and the row count (at most 101)
/// are written into the SQL instead: SQLite re-plans a statement on every
/// run when a bound value could change its choice of a partial index or its
/// LIMIT, and with them as literals each variant is planned once and cached.
fn list_sql(filter: &EventFilter, page: &PageRequest<i64>, fetch: usize) -> String {
    let mut sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE app_id = ?");
    if filter.branch.is_some() {
        sql.push_str(" AND branch = ?");
    }
    if let Some(event_type) = filter.event_type {
        sql.push_str(" AND event_type = '");
        sql.push_str(event_type.as_str());
        sql.push('\'');
    }
    if filter.env.is_some() {
        sql.push_str(" AND env_name = ?");
    }
    if page.after.is_some() {
        sql.push_str(match page.order {
            Order::Asc => " AND id > ?",
            Order::Desc => " AND id < ?",
        });
    }
    sql.push_str(match page.order {
        Order::Asc => " ORDER BY id ASC LIMIT ",
        Order::Desc => " ORDER BY id DESC LIMIT ",
    });
    sql.push_str(&fetch.to_string());
    sql
}

fn list_values(app: &AppRow, filter: &EventFilter, page: &PageRequest<i64>) -> Vec<Value> {
    let mut values = vec![Value::Integer(app.id)];
    if let Some(branch) = &filter.branch {
        values.push(Value::Text(branch.clone()));
    }
    if let Some(env) = &filter.env {
        values.push(Value::Text(env.clone()));
    }
    if let Some(after) = page.after {
        values.push(Value::Integer(after));
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every filter combination, in both orders and with a marker, is served
    /// by an index in id order: no table scan, no sort.
    #[test]
    fn every_listing_is_an_index_range_scan() {
        let conn = Connection::open_in_memory().unwrap();
        super::super::migrations::run(&conn).unwrap();
        let app = AppRow {
            id: 1,
            name: "a".into(),
            description: None,
            created_ms: 0,
        };
        for mask in 0..8u8 {
            let filter = EventFilter {
                branch: (mask & 1 != 0).then(|| "main".to_owned()),
                event_type: (mask & 2 != 0).then_some(EventType::Deploy),
                env: (mask & 4 != 0).then(|| "prod".to_owned()),
            };
            for order in [Order::Asc, Order::Desc] {
                for after in [None, Some(10)] {
                    let page = PageRequest {
                        order,
                        limit: 10,
                        after,
                    };
                    let plan = query_plan(&conn, &app, &filter, &page);
                    assert!(
                        plan.contains("USING INDEX") || plan.contains("USING COVERING INDEX"),
                        "{filter:?} {order:?}: {plan}"
                    );
                    assert!(
                        !plan.contains("TEMP B-TREE"),
                        "{filter:?} {order:?}: {plan}"
                    );
                }
            }
        }
    }

    fn query_plan(
        conn: &Connection,
        app: &AppRow,
        filter: &EventFilter,
        page: &PageRequest<i64>,
    ) -> String {
        let sql = format!("EXPLAIN QUERY PLAN {}", list_sql(filter, page, 11));
        let mut stmt = conn.prepare(&sql).unwrap();
        let values = list_values(app, filter, page);
        let rows = stmt
            .query_map(rusqlite::params_from_iter(values), |row| {
                row.get::<_, String>(3)
            })
            .unwrap();
        rows.map(Result::unwrap).collect::<Vec<_>>().join("; ")
    }
}
