//! Events in SQLite: row mapping, creation with its parent rules, the
//! conditional update, and keyset listing.

use std::sync::LazyLock;

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, params};
use shiplog_domain::input::{EventUpdate, NewEvent};
use shiplog_domain::rules::{self, UpdateOutcome};
use shiplog_domain::{
    BuildStatus, DeploymentStatus, DeploymentType, DomainError, Event, EventFields, EventFilter,
    EventType, Order, PageRequest, RepoProvider, Timestamp,
};

use super::apps::{AppRow, ensure_deploy_env};
use super::{is_unique_violation, sql_error};
use shiplog_store::columns::EVENT_COLUMNS;
use shiplog_store::{Result, StoreError};

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
            env_name: text(27)?,
        },
    })
}

fn insert(conn: &Connection, app: &AppRow, event_type: EventType, f: &EventFields) -> Result<i64> {
    let c = &f.commit;
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO events (app_id, event_type, event_time_ms, author_name, author_username, \
             branch, commit_id, commit_msg, commit_url, repo_name, repo_owner, repo_provider, \
             repo_url, auto_build, build_end_ms, build_id, build_provider, build_start_ms, \
             build_status, build_url, parent_event_id, release_version, auto_deploy, \
             deployment_id, deployment_number, deployment_status, deployment_type, env_name) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, \
             ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28)",
        )
        .map_err(sql_error)?;
    let result = stmt.execute(params![
        app.id,
        event_type.as_str(),
        Timestamp::now().millis(),
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
    ]);
    match result {
        Ok(_) => Ok(conn.last_insert_rowid()),
        Err(err) if is_unique_violation(&err) => Err(StoreError::already_exists(format!(
            "Release {}",
            f.release_version.as_deref().unwrap_or_default()
        ))),
        Err(err) => Err(sql_error(err)),
    }
}

/// Loads one event of `app`.
pub fn load(conn: &Connection, app: &AppRow, event_id: i64) -> Result<Option<Event>> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE id = ?1 AND app_id = ?2"
        ))
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

fn find_release(conn: &Connection, app: &AppRow, version: &str) -> Result<Option<Event>> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {EVENT_COLUMNS} FROM events \
             WHERE app_id = ?1 AND event_type = 'RELEASE' AND release_version = ?2"
        ))
        .map_err(sql_error)?;
    stmt.query_row(params![app.id, version], |row| {
        event_from_row(row, &app.name)
    })
    .optional()
    .map_err(sql_error)
}

/// The parent an event names, which must be an event of the same app of one
/// of the `allowed` types.
fn parent(conn: &Connection, app: &AppRow, id: i64, child: EventType) -> Result<Event> {
    let allowed = rules::allowed_parents(child);
    load(conn, app, id)?
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
pub fn create(conn: &Connection, account_id: i64, app: &AppRow, event: NewEvent) -> Result<i64> {
    let NewEvent {
        event_type,
        mut fields,
    } = event;
    match event_type {
        EventType::Build => {
            if let Some(id) = fields.parent_event_id {
                parent(conn, app, id, event_type)?;
            }
        }
        EventType::Release => {
            if let Some(id) = fields.parent_event_id {
                let build = parent(conn, app, id, event_type)?;
                rules::inherit_from_build(&mut fields, &build.fields);
            }
            match &fields.release_version {
                Some(version) => {
                    if find_release(conn, app, version)?.is_some() {
                        return Err(StoreError::already_exists(format!("Release {version}")));
                    }
                }
                None => fields.release_version = Some(next_release_version(conn, app)?),
            }
        }
        EventType::Deploy => {
            let env = fields.env_name.as_deref().unwrap_or_default();
            ensure_deploy_env(conn, account_id, app, env)?;
            let release = match (fields.parent_event_id, &fields.release_version) {
                (Some(id), _) => Some(parent(conn, app, id, event_type)?),
                (None, Some(version)) => find_release(conn, app, version)?,
                (None, None) => None,
            };
            if let Some(release) = release {
                fields.commit.fill_from(&release.fields.commit);
                fields.parent_event_id = Some(release.event_id);
                if fields.release_version.is_none() {
                    fields.release_version = release.fields.release_version;
                }
            }
            if fields.deployment_id.is_none() {
                fields.deployment_id =
                    Some(format!("d-{}", shiplog_domain::token::random_alnum(20)));
            }
            if fields.deployment_number.is_none() {
                fields.deployment_number =
                    Some(bump_counter(conn, app, Counter::Deploy)?.to_string());
            }
            fields.deployment_type.get_or_insert(DeploymentType::Deploy);
        }
        EventType::Push | EventType::PullRequest | EventType::DockerImage => {}
    }
    let id = insert(conn, app, event_type, &fields)?;
    if event_type == EventType::Build
        && let Some(version) = &fields.release_version
    {
        ensure_release_of_build(conn, app, id, version, &fields)?;
    }
    Ok(id)
}

/// Records the RELEASE a build reported, unless the app already has it.
fn ensure_release_of_build(
    conn: &Connection,
    app: &AppRow,
    build_id: i64,
    version: &str,
    build: &EventFields,
) -> Result<()> {
    if find_release(conn, app, version)?.is_some() {
        return Ok(());
    }
    let release = rules::release_of_build(build_id, build, version);
    insert(conn, app, EventType::Release, &release).map(|_| ())
}

/// The per-app counters behind generated values.
enum Counter {
    Release,
    Deploy,
}

/// Increments one of the app's counters and returns its new value.
fn bump_counter(conn: &Connection, app: &AppRow, counter: Counter) -> Result<i64> {
    let sql = match counter {
        Counter::Release => {
            "UPDATE apps SET release_seq = release_seq + 1 WHERE id = ?1 RETURNING release_seq"
        }
        Counter::Deploy => {
            "UPDATE apps SET deploy_seq = deploy_seq + 1 WHERE id = ?1 RETURNING deploy_seq"
        }
    };
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.query_row([app.id], |row| row.get(0)))
        .map_err(sql_error)
}

/// The next `vN` the app has not used.
fn next_release_version(conn: &Connection, app: &AppRow) -> Result<String> {
    loop {
        let version = rules::release_version(bump_counter(conn, app, Counter::Release)?);
        if find_release(conn, app, &version)?.is_none() {
            return Ok(version);
        }
    }
}

static BUILD_NOT_TERMINAL: LazyLock<String> = LazyLock::new(|| {
    not_terminal_clause(
        "build_status",
        BuildStatus::TERMINAL.iter().map(|s| s.as_str()),
    )
});
static DEPLOY_NOT_TERMINAL: LazyLock<String> = LazyLock::new(|| {
    not_terminal_clause(
        "deployment_status",
        DeploymentStatus::TERMINAL.iter().map(|s| s.as_str()),
    )
});

fn not_terminal_clause<'a>(column: &str, terminal: impl Iterator<Item = &'a str>) -> String {
    let quoted: Vec<_> = terminal.map(|s| format!("'{s}'")).collect();
    format!(
        "({column} IS NULL OR {column} NOT IN ({}))",
        quoted.join(", ")
    )
}

/// Applies `update` to an event under the terminal-state rule. The UPDATE
/// only matches a non-terminal row, so a racing writer cannot slip past it.
pub fn update(
    conn: &Connection,
    app: &AppRow,
    event_id: i64,
    update: &EventUpdate,
) -> Result<Event> {
    let not_found = || StoreError::not_found(format!("Event {event_id}"));
    let current = load(conn, app, event_id)?.ok_or_else(not_found)?;
    let next = match rules::apply_update(event_id, current.event_type, &current.fields, update)? {
        UpdateOutcome::Unchanged => return Ok(current),
        UpdateOutcome::Changed(next) => next,
    };
    let changed = if current.event_type == EventType::Build {
        conn.prepare_cached(&format!(
            "UPDATE events SET build_end_ms = ?1, build_status = ?2, release_version = ?3 \
             WHERE id = ?4 AND {}",
            *BUILD_NOT_TERMINAL
        ))
        .and_then(|mut stmt| {
            stmt.execute(params![
                next.build_end.map(Timestamp::millis),
                next.build_status.map(|s| s.as_str()),
                next.release_version,
                event_id
            ])
        })
    } else {
        conn.prepare_cached(&format!(
            "UPDATE events SET deployment_status = ?1 WHERE id = ?2 AND {}",
            *DEPLOY_NOT_TERMINAL
        ))
        .and_then(|mut stmt| {
            stmt.execute(params![
                next.deployment_status.map(|s| s.as_str()),
                event_id
            ])
        })
    }
    .map_err(sql_error)?;
    if changed == 0 {
        // Another writer made it terminal first: judge the update again.
        let now = load(conn, app, event_id)?.ok_or_else(not_found)?;
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
        ensure_release_of_build(conn, app, event_id, version, &next)?;
    }
    load(conn, app, event_id)?.ok_or_else(not_found)
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
        let app = AppRow::for_tests(1, "a");
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
