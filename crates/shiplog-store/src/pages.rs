//! Pages of apps and envs with the events they show (`latest_build`,
//! `latest_release`, `last_deployment`) in two queries whatever the page
//! size: one for the page, which names the events by id, and one for the
//! events. Both backends run the same SQL and assemble pages here.

use std::collections::HashMap;

use shiplog_domain::resources::{App, Env};
use shiplog_domain::{Event, EventFilter, EventType, Order, PageRequest, Timestamp};

use crate::columns::{AppRow, Columns, EVENT_COLUMNS, env_lists};
use crate::{Result, StoreError};

/// Whose envs a page lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvScope {
    Account,
    App,
}

/// A page of apps: (account id, then `after` if the page has one, then the
/// row limit). Columns: the app's, then the ids of its newest BUILD and
/// RELEASE.
pub fn app_page_sql(page: &PageRequest<String>) -> String {
    let latest = |event_type: &str| {
        format!(
            "(SELECT e.id FROM events e WHERE e.app_id = a.id AND e.event_type = '{event_type}' \
             ORDER BY e.id DESC LIMIT 1)"
        )
    };
    format!(
        "SELECT a.id, a.name, a.description, a.created_ms, {}, {}, a.retention_days FROM apps a \
         WHERE a.account_id = $1{}",
        latest("BUILD"),
        latest("RELEASE"),
        keyset("a.name", page)
    )
}

/// A page of envs: (account or app id, then `after` if the page has one,
/// then the row limit). Columns: the app's, the env's name, description,
/// tags and vars, the id of its newest DEPLOY and the release of its newest
/// deploy that ended `Ok`.
pub fn env_page_sql(scope: EnvScope, page: &PageRequest<String>) -> String {
    let owner = match scope {
        EnvScope::Account => "v.account_id",
        EnvScope::App => "v.app_id",
    };
    let newest = |column: &str, status: &str| {
        format!(
            "(SELECT e.{column} FROM events e WHERE e.app_id = v.app_id AND e.env_name = v.name \
             AND e.event_type = 'DEPLOY'{status} ORDER BY e.id DESC LIMIT 1)"
        )
    };
    format!(
        "SELECT a.id, a.name, a.description, a.created_ms, v.name, v.description, v.tags, \
         v.vars, {}, {} FROM envs v JOIN apps a ON a.id = v.app_id WHERE {owner} = $1{}",
        newest("id", ""),
        newest("release_version", " AND e.deployment_status = 'Ok'"),
        keyset("v.name", page)
    )
}

/// The keyset condition, order and limit of a page of names.
fn keyset(column: &str, page: &PageRequest<String>) -> String {
    let (after, direction) = match page.order {
        Order::Asc => (">", "ASC"),
        Order::Desc => ("<", "DESC"),
    };
    match page.after {
        Some(_) => format!(" AND {column} {after} $2 ORDER BY {column} {direction} LIMIT $3"),
        None => format!(" ORDER BY {column} {direction} LIMIT $2"),
    }
}

/// Ids to bind to an `IN` list, padded with the last one to a power of
/// two: the list's SQL then takes a handful of shapes, each prepared once,
/// instead of one per length.
pub fn padded(ids: impl IntoIterator<Item = i64>) -> Vec<i64> {
    let mut ids: Vec<i64> = ids.into_iter().collect();
    if let Some(&last) = ids.last() {
        ids.resize(ids.len().next_power_of_two(), last);
    }
    ids
}

/// Events by id: `count` placeholders `$1…`.
pub fn events_by_ids_sql(count: usize) -> String {
    let placeholders: Vec<String> = (1..=count).map(|i| format!("${i}")).collect();
    format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE id IN ({})",
        placeholders.join(", ")
    )
}

/// A row of a page of apps.
pub struct AppPageRow {
    pub app: AppRow,
    pub latest_build: Option<i64>,
    pub latest_release: Option<i64>,
}

/// A row of a page of envs.
pub struct EnvPageRow {
    pub app: AppRow,
    pub name: String,
    pub description: Option<String>,
    pub tags: String,
    pub vars: String,
    pub last_deployment: Option<i64>,
    pub active_release_version: Option<String>,
}

/// The event ids a page of apps shows.
pub fn app_page_events(rows: &[AppPageRow]) -> Vec<i64> {
    rows.iter()
        .flat_map(|row| [row.latest_build, row.latest_release])
        .flatten()
        .collect()
}

/// The event ids a page of envs shows.
pub fn env_page_events(rows: &[EnvPageRow]) -> Vec<i64> {
    rows.iter().filter_map(|row| row.last_deployment).collect()
}

/// Events by id, named after their app (the query reads them without it).
fn by_id(events: Vec<Event>) -> HashMap<i64, Event> {
    events.into_iter().map(|e| (e.event_id, e)).collect()
}

fn take(events: &mut HashMap<i64, Event>, id: Option<i64>, app: &str) -> Option<Event> {
    let mut event = events.remove(&id?)?;
    event.app_name = app.to_owned();
    Some(event)
}

pub fn assemble_apps(owner: &str, rows: Vec<AppPageRow>, events: Vec<Event>) -> Vec<App> {
    let mut events = by_id(events);
    rows.into_iter()
        .map(|row| App {
            owner: owner.to_owned(),
            latest_build: take(&mut events, row.latest_build, &row.app.name),
            latest_release: take(&mut events, row.latest_release, &row.app.name),
            created: Timestamp::from_millis(row.app.created_ms),
            retention_days: row.app.retention(),
            description: row.app.description,
            name: row.app.name,
        })
        .collect()
}

pub fn assemble_envs(owner: &str, rows: Vec<EnvPageRow>, events: Vec<Event>) -> Result<Vec<Env>> {
    let mut events = by_id(events);
    rows.into_iter()
        .map(|row| {
            let (tags, vars) = env_lists(&row.tags, &row.vars)?;
            Ok(Env {
                owner: owner.to_owned(),
                last_deployment: take(&mut events, row.last_deployment, &row.app.name),
                app_name: row.app.name,
                name: row.name,
                description: row.description,
                tags,
                vars,
                active_release_version: row.active_release_version,
            })
        })
        .collect()
}

/// The listing whose first row is the newest event of a type, optionally
/// only those to one env.
pub fn newest(event_type: EventType, env: Option<&str>) -> (EventFilter, PageRequest<i64>) {
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
    (filter, page)
}

fn required<T>(value: Option<T>, index: usize) -> Result<T> {
    value.ok_or_else(|| StoreError::Internal(format!("a page row has no column {index}")))
}

/// The app columns that start every page row.
fn app_columns(row: &impl Columns) -> Result<AppRow> {
    Ok(AppRow {
        id: required(row.int(0)?, 0)?,
        name: required(row.text(1)?, 1)?,
        description: row.text(2)?,
        created_ms: required(row.int(3)?, 3)?,
        retention_days: None,
    })
}

/// A row of [`app_page_sql`].
pub fn app_page_row(row: &impl Columns) -> Result<AppPageRow> {
    let mut app = app_columns(row)?;
    app.retention_days = row.int(6)?;
    Ok(AppPageRow {
        app,
        latest_build: row.int(4)?,
        latest_release: row.int(5)?,
    })
}

/// A row of [`env_page_sql`].
pub fn env_page_row(row: &impl Columns) -> Result<EnvPageRow> {
    Ok(EnvPageRow {
        app: app_columns(row)?,
        name: required(row.text(4)?, 4)?,
        description: row.text(5)?,
        tags: required(row.text(6)?, 6)?,
        vars: required(row.text(7)?, 7)?,
        last_deployment: row.int(8)?,
        active_release_version: row.text(9)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_lists_are_padded_to_a_power_of_two_with_their_last_id() {
        assert_eq!(padded([]), Vec::<i64>::new());
        assert_eq!(padded([7]), [7]);
        assert_eq!(padded([1, 2, 3]), [1, 2, 3, 3]);
        assert_eq!(padded([1, 2, 3, 4, 5]).len(), 8);
    }
}
