//! Apps and envs in SQLite.

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params};
use shiplog_domain::Event;
use shiplog_domain::resources::{App, AppUpdate, Env, NewApp, NewEnv};
use shiplog_domain::{EventType, PageRequest, ResourceName, Timestamp};

use super::events;
use super::tx::{SqliteColumns, query};
use super::{sql_error, unique_violation};
use shiplog_store::columns::AppRow;
use shiplog_store::columns::event_from_columns;
use shiplog_store::columns::{env_lists, list_to_json};
use shiplog_store::constraints::Unique;
use shiplog_store::pages::{self, EnvScope};
use shiplog_store::queries;
use shiplog_store::{Account, Result, StoreError, known_name};

pub fn find_app(conn: &Connection, account: &Account, name: &str) -> Result<AppRow> {
    known_name("App", name)?;
    let mut stmt = conn.prepare_cached(queries::FIND_APP).map_err(sql_error)?;
    stmt.query_row(params![account.id, name], |row| {
        Ok(AppRow {
            id: row.get(0)?,
            name: row.get(1)?,
            description: row.get(2)?,
            created_ms: row.get(3)?,
            retention_days: row.get(4)?,
        })
    })
    .optional()
    .map_err(sql_error)?
    .ok_or_else(|| StoreError::not_found(format!("App {name}")))
}

/// An app with its newest build and release.
pub fn app_view(conn: &Connection, account: &Account, row: AppRow) -> Result<App> {
    Ok(App {
        owner: account.name.clone(),
        latest_build: events::latest(conn, &row, EventType::Build, None)?,
        latest_release: events::latest(conn, &row, EventType::Release, None)?,
        created: Timestamp::from_millis(row.created_ms),
        retention_days: row.retention(),
        description: row.description,
        name: row.name,
    })
}

pub fn create_app(
    conn: &Connection,
    account: &Account,
    name: &ResourceName,
    app: NewApp,
) -> Result<App> {
    let inserted = conn
        .prepare_cached(queries::INSERT_APP_WITH_RETENTION)
        .and_then(|mut stmt| {
            stmt.execute(params![
                account.id,
                name.as_str(),
                app.description,
                Timestamp::now().millis(),
                app.retention_days
            ])
        });
    match inserted {
        Ok(_) => {}
        Err(err) if unique_violation(&err) == Some(Unique::AppName) => {
            return Err(Unique::AppName.error(name.as_str()));
        }
        Err(err) => return Err(sql_error(err)),
    }
    let row = find_app(conn, account, name.as_str())?;
    app_view(conn, account, row)
}

pub fn update_app(
    conn: &Connection,
    account: &Account,
    name: &str,
    update: AppUpdate,
) -> Result<App> {
    known_name("App", name)?;
    let sql = queries::update_app_sql(
        update.description.is_some(),
        update.retention_days.is_some(),
    );
    let mut values: Vec<Value> = Vec::new();
    if let Some(description) = update.description {
        values.push(description.map_or(Value::Null, Value::Text));
    }
    if let Some(days) = update.retention_days {
        values.push(days.map_or(Value::Null, |d| Value::Integer(d.into())));
    }
    values.extend([Value::Integer(account.id), Value::Text(name.to_owned())]);
    let changed = conn
        .prepare_cached(&sql)
        .and_then(|mut stmt| stmt.execute(rusqlite::params_from_iter(values)))
        .map_err(sql_error)?;
    if changed == 0 {
        return Err(StoreError::not_found(format!("App {name}")));
    }
    let row = find_app(conn, account, name)?;
    app_view(conn, account, row)
}

pub fn list_apps(
    conn: &Connection,
    account: &Account,
    page: &PageRequest<String>,
) -> Result<Vec<App>> {
    let rows = page_rows(conn, &pages::app_page_sql(page), account.id, page, |row| {
        pages::app_page_row(row)
    })?;
    let events = events_by_ids(conn, &pages::app_page_events(&rows))?;
    Ok(pages::assemble_apps(&account.name, rows, events))
}

/// Runs a page query whose parameters are (owner, after if any, limit).
fn page_rows<T>(
    conn: &Connection,
    sql: &str,
    owner: i64,
    page: &PageRequest<String>,
    map: impl FnMut(&SqliteColumns<'_, '_>) -> Result<T>,
) -> Result<Vec<T>> {
    let mut values = vec![Value::Integer(owner)];
    if let Some(after) = &page.after {
        values.push(Value::Text(after.clone()));
    }
    values.push(Value::Integer(page.fetch_limit() as i64));
    query(conn, sql, values, map)
}

/// The events a page shows, in one query.
fn events_by_ids(conn: &Connection, ids: &[i64]) -> Result<Vec<Event>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids = pages::padded(ids.iter().copied());
    let values = ids.iter().map(|id| Value::Integer(*id)).collect();
    query(conn, &pages::events_by_ids_sql(ids.len()), values, |row| {
        event_from_columns(row, "")
    })
}

pub fn delete_app(conn: &Connection, account: &Account, name: &str) -> Result<()> {
    known_name("App", name)?;
    // Events and envs go with the app (ON DELETE CASCADE).
    let deleted = conn
        .prepare_cached("DELETE FROM apps WHERE account_id = ?1 AND name = ?2")
        .and_then(|mut stmt| stmt.execute(params![account.id, name]))
        .map_err(sql_error)?;
    if deleted == 0 {
        return Err(StoreError::not_found(format!("App {name}")));
    }
    Ok(())
}

pub fn create_env(
    conn: &Connection,
    account: &Account,
    app: &str,
    name: &ResourceName,
    env: NewEnv,
) -> Result<Env> {
    let app = find_app(conn, account, app)?;
    insert_env(conn, account.id, &app, name.as_str(), &env)?;
    get_env(conn, account, name.as_str())
}

fn insert_env(
    conn: &Connection,
    account_id: i64,
    app: &AppRow,
    name: &str,
    env: &NewEnv,
) -> Result<()> {
    let inserted = conn
        .prepare_cached(queries::INSERT_ENV)
        .and_then(|mut stmt| {
            stmt.execute(params![
                account_id,
                app.id,
                name,
                env.description,
                list_to_json(&env.tags),
                list_to_json(&env.vars),
                Timestamp::now().millis()
            ])
        });
    match inserted {
        Ok(_) => Ok(()),
        Err(err) if unique_violation(&err) == Some(Unique::EnvName) => {
            Err(Unique::EnvName.error(name))
        }
        Err(err) => Err(sql_error(err)),
    }
}

const ENV_SELECT: &str = "SELECT e.name, a.id, a.name, a.description, a.created_ms, \
     e.description, e.tags, e.vars FROM envs e JOIN apps a ON a.id = e.app_id";

fn env_from_row(conn: &Connection, account: &Account, row: &rusqlite::Row<'_>) -> Result<Env> {
    let parse = |i: usize| -> Result<String> { row.get(i).map_err(sql_error) };
    let app = AppRow {
        id: row.get(1).map_err(sql_error)?,
        name: parse(2)?,
        description: row.get(3).map_err(sql_error)?,
        created_ms: row.get(4).map_err(sql_error)?,
        retention_days: None,
    };
    let name = parse(0)?;
    let (tags, vars) = env_lists(&parse(6)?, &parse(7)?)?;
    let last_deployment = events::latest(conn, &app, EventType::Deploy, Some(&name))?;
    let active_release_version = conn
        .prepare_cached(queries::ACTIVE_RELEASE)
        .and_then(|mut stmt| {
            stmt.query_row(params![app.id, name], |row| row.get(0))
                .optional()
        })
        .map_err(sql_error)?
        .flatten();
    Ok(Env {
        owner: account.name.clone(),
        app_name: app.name,
        description: row.get(5).map_err(sql_error)?,
        name,
        tags,
        vars,
        last_deployment,
        active_release_version,
    })
}

pub fn get_env(conn: &Connection, account: &Account, name: &str) -> Result<Env> {
    known_name("Env", name)?;
    let mut stmt = conn
        .prepare_cached(&format!(
            "{ENV_SELECT} WHERE e.account_id = ?1 AND e.name = ?2"
        ))
        .map_err(sql_error)?;
    let mut rows = stmt.query(params![account.id, name]).map_err(sql_error)?;
    match rows.next().map_err(sql_error)? {
        Some(row) => env_from_row(conn, account, row),
        None => Err(StoreError::not_found(format!("Env {name}"))),
    }
}

/// Whether `app` has an env of that name.
pub fn app_has_env(conn: &Connection, app: &AppRow, name: &str) -> Result<bool> {
    if !shiplog_domain::ResourceName::is_valid(name) {
        return Ok(false);
    }
    conn.prepare_cached("SELECT 1 FROM envs WHERE app_id = ?1 AND name = ?2")
        .and_then(|mut stmt| stmt.exists(params![app.id, name]))
        .map_err(sql_error)
}

pub fn list_envs(
    conn: &Connection,
    account: &Account,
    app: Option<&str>,
    page: &PageRequest<String>,
) -> Result<Vec<Env>> {
    let (scope, owner) = match app {
        None => (EnvScope::Account, account.id),
        Some(app) => (EnvScope::App, find_app(conn, account, app)?.id),
    };
    let sql = pages::env_page_sql(scope, page);
    let rows = page_rows(conn, &sql, owner, page, |row| pages::env_page_row(row))?;
    let events = events_by_ids(conn, &pages::env_page_events(&rows))?;
    pages::assemble_envs(&account.name, rows, events)
}

pub fn delete_env(conn: &Connection, account: &Account, name: &str) -> Result<()> {
    known_name("Env", name)?;
    let deleted = conn
        .prepare_cached("DELETE FROM envs WHERE account_id = ?1 AND name = ?2")
        .and_then(|mut stmt| stmt.execute(params![account.id, name]))
        .map_err(sql_error)?;
    if deleted == 0 {
        return Err(StoreError::not_found(format!("Env {name}")));
    }
    Ok(())
}
