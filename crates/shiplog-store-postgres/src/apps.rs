//! Apps and envs in PostgreSQL.

use shiplog_domain::Event;
use shiplog_domain::resources::{App, AppUpdate, Env, NewApp, NewEnv};
use shiplog_domain::{EventType, PageRequest, ResourceName, Timestamp};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use super::events;
use super::tx;
use super::{db_error, unique_violation};
use shiplog_store::columns::AppRow;
use shiplog_store::columns::{env_lists, list_to_json};
use shiplog_store::constraints::Unique;
use shiplog_store::pages::{self, EnvScope};
use shiplog_store::queries;
use shiplog_store::{Account, Result, StoreError, known_name};

fn app_row(row: &PgRow, offset: usize) -> Result<AppRow, sqlx::Error> {
    Ok(AppRow {
        id: row.try_get(offset)?,
        name: row.try_get(offset + 1)?,
        description: row.try_get(offset + 2)?,
        created_ms: row.try_get(offset + 3)?,
        retention_days: None,
    })
}

pub async fn find_app(conn: &mut PgConnection, account: &Account, name: &str) -> Result<AppRow> {
    known_name("App", name)?;
    let row = sqlx::query(queries::FIND_APP)
        .bind(account.id)
        .bind(name)
        .fetch_optional(conn)
        .await
        .map_err(db_error)?
        .ok_or_else(|| StoreError::not_found(format!("App {name}")))?;
    looked_up_app(&row, 0)
}

/// An app as a lookup reads it ([`queries::APP_LOOKUP_COLUMNS`], from
/// column `offset` on).
fn looked_up_app(row: &PgRow, offset: usize) -> Result<AppRow> {
    let mut app = app_row(row, offset).map_err(db_error)?;
    app.retention_days = row.try_get(offset + 4).map_err(db_error)?;
    Ok(app)
}

/// The name of the first column of [`apps_by_id_sql`]'s rows.
const KNOWN_APP: &str = "known_app_account";

/// The apps of these ids that still exist, each with its account id first,
/// as one statement of a simple query (which binds nothing: the ids, plain
/// integers, are written into it).
pub fn apps_by_id_sql(ids: &[i64]) -> String {
    let list = ids
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT account_id AS {KNOWN_APP}, {} FROM apps WHERE id IN ({list})",
        queries::APP_LOOKUP_COLUMNS
    )
}

/// The apps among the rows of a simple query that ran [`apps_by_id_sql`],
/// each with its account id.
pub fn apps_by_id(rows: &[PgRow]) -> Result<Vec<(i64, AppRow)>> {
    rows.iter()
        .filter(|row| crate::batch::first_column_is(row, KNOWN_APP))
        .map(|row| Ok((row.try_get(0).map_err(db_error)?, looked_up_app(row, 1)?)))
        .collect()
}

/// An app with its newest build and release.
pub async fn app_view(conn: &mut PgConnection, account: &Account, row: AppRow) -> Result<App> {
    Ok(App {
        owner: account.name.clone(),
        latest_build: events::latest(conn, &row, EventType::Build, None).await?,
        latest_release: events::latest(conn, &row, EventType::Release, None).await?,
        created: Timestamp::from_millis(row.created_ms),
        retention_days: row.retention(),
        description: row.description,
        name: row.name,
    })
}

pub async fn create_app(
    conn: &mut PgConnection,
    account: &Account,
    name: &ResourceName,
    app: NewApp,
) -> Result<App> {
    let inserted = sqlx::query(queries::INSERT_APP_WITH_RETENTION)
        .bind(account.id)
        .bind(name.as_str())
        .bind(&app.description)
        .bind(Timestamp::now().millis())
        .bind(app.retention_days.map(i64::from))
        .execute(&mut *conn)
        .await;
    match inserted {
        Ok(_) => {}
        Err(err) if unique_violation(&err) == Some(Unique::AppName) => {
            return Err(Unique::AppName.error(name.as_str()));
        }
        Err(err) => return Err(db_error(err)),
    }
    let row = find_app(conn, account, name.as_str()).await?;
    app_view(conn, account, row).await
}

pub async fn update_app(
    conn: &mut PgConnection,
    account: &Account,
    name: &str,
    update: AppUpdate,
) -> Result<App> {
    known_name("App", name)?;
    let sql = queries::update_app_sql(
        update.description.is_some(),
        update.retention_days.is_some(),
    );
    let mut query = sqlx::query(&sql);
    if let Some(description) = update.description {
        query = query.bind(description);
    }
    if let Some(days) = update.retention_days {
        query = query.bind(days.map(i64::from));
    }
    let changed = query
        .bind(account.id)
        .bind(name)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?
        .rows_affected();
    if changed == 0 {
        return Err(StoreError::not_found(format!("App {name}")));
    }
    let row = find_app(conn, account, name).await?;
    app_view(conn, account, row).await
}

/// Names of one page of a keyset listing of `table` owned by `owner_column`.
/// Runs a page query whose parameters are (owner, after if any, limit).
async fn page_rows(
    conn: &mut PgConnection,
    sql: &str,
    owner: i64,
    page: &PageRequest<String>,
) -> Result<Vec<PgRow>> {
    let mut query = sqlx::query(sql).bind(owner);
    if let Some(after) = &page.after {
        query = query.bind(after.clone());
    }
    query
        .bind(page.fetch_limit() as i64)
        .fetch_all(conn)
        .await
        .map_err(db_error)
}

/// The events a page shows, in one query.
async fn events_by_ids(conn: &mut PgConnection, ids: &[i64]) -> Result<Vec<Event>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids = pages::padded(ids.iter().copied());
    let sql = pages::events_by_ids_sql(ids.len());
    let values = ids.iter().map(|id| (*id).into()).collect();
    tx::events(conn, "", tx::bound(&sql, values)).await
}

pub async fn list_apps(
    conn: &mut PgConnection,
    account: &Account,
    page: &PageRequest<String>,
) -> Result<Vec<App>> {
    let rows = page_rows(conn, &pages::app_page_sql(page), account.id, page).await?;
    let rows = rows
        .iter()
        .map(|row| pages::app_page_row(&tx::PgColumns(row)))
        .collect::<Result<Vec<_>>>()?;
    let events = events_by_ids(conn, &pages::app_page_events(&rows)).await?;
    Ok(pages::assemble_apps(&account.name, rows, events))
}

pub async fn delete_app(conn: &mut PgConnection, account: &Account, name: &str) -> Result<()> {
    known_name("App", name)?;
    // Events and envs go with the app (ON DELETE CASCADE).
    let deleted = sqlx::query("DELETE FROM apps WHERE account_id = $1 AND name = $2")
        .bind(account.id)
        .bind(name)
        .execute(conn)
        .await
        .map_err(db_error)?
        .rows_affected();
    if deleted == 0 {
        return Err(StoreError::not_found(format!("App {name}")));
    }
    Ok(())
}

pub async fn create_env(
    conn: &mut PgConnection,
    account: &Account,
    app: &str,
    name: &ResourceName,
    env: NewEnv,
) -> Result<Env> {
    let app = find_app(conn, account, app).await?;
    insert_env(conn, account.id, &app, name.as_str(), &env).await?;
    get_env(conn, account, name.as_str()).await
}

async fn insert_env(
    conn: &mut PgConnection,
    account_id: i64,
    app: &AppRow,
    name: &str,
    env: &NewEnv,
) -> Result<()> {
    let inserted = sqlx::query(queries::INSERT_ENV)
        .bind(account_id)
        .bind(app.id)
        .bind(name)
        .bind(&env.description)
        .bind(list_to_json(&env.tags))
        .bind(list_to_json(&env.vars))
        .bind(Timestamp::now().millis())
        .execute(conn)
        .await;
    match inserted {
        Ok(_) => Ok(()),
        Err(err) if unique_violation(&err) == Some(Unique::EnvName) => {
            Err(Unique::EnvName.error(name))
        }
        Err(err) => Err(db_error(err)),
    }
}

pub async fn get_env(conn: &mut PgConnection, account: &Account, name: &str) -> Result<Env> {
    known_name("Env", name)?;
    let row = sqlx::query(
        "SELECT a.id, a.name, a.description, a.created_ms, e.name, e.description, e.tags, e.vars \
         FROM envs e JOIN apps a ON a.id = e.app_id WHERE e.account_id = $1 AND e.name = $2",
    )
    .bind(account.id)
    .bind(name)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_error)?
    .ok_or_else(|| StoreError::not_found(format!("Env {name}")))?;
    let app = app_row(&row, 0).map_err(db_error)?;
    let name: String = row.try_get(4).map_err(db_error)?;
    let description: Option<String> = row.try_get(5).map_err(db_error)?;
    let tags: String = row.try_get(6).map_err(db_error)?;
    let vars: String = row.try_get(7).map_err(db_error)?;
    let (tags, vars) = env_lists(&tags, &vars)?;
    let last_deployment = events::latest(conn, &app, EventType::Deploy, Some(&name)).await?;
    let active_release_version: Option<String> = sqlx::query_scalar(queries::ACTIVE_RELEASE)
        .bind(app.id)
        .bind(&name)
        .fetch_optional(conn)
        .await
        .map_err(db_error)?
        .flatten();
    Ok(Env {
        owner: account.name.clone(),
        app_name: app.name,
        description,
        name,
        tags,
        vars,
        last_deployment,
        active_release_version,
    })
}

/// Whether `app` has an env of that name.
pub async fn app_has_env(conn: &mut PgConnection, app: &AppRow, name: &str) -> Result<bool> {
    if !shiplog_domain::ResourceName::is_valid(name) {
        return Ok(false);
    }
    let found: Option<i32> =
        sqlx::query_scalar("SELECT 1 FROM envs WHERE app_id = $1 AND name = $2")
            .bind(app.id)
            .bind(name)
            .fetch_optional(conn)
            .await
            .map_err(db_error)?;
    Ok(found.is_some())
}

pub async fn list_envs(
    conn: &mut PgConnection,
    account: &Account,
    app: Option<&str>,
    page: &PageRequest<String>,
) -> Result<Vec<Env>> {
    let (scope, owner) = match app {
        None => (EnvScope::Account, account.id),
        Some(app) => (EnvScope::App, find_app(conn, account, app).await?.id),
    };
    let rows = page_rows(conn, &pages::env_page_sql(scope, page), owner, page).await?;
    let rows = rows
        .iter()
        .map(|row| pages::env_page_row(&tx::PgColumns(row)))
        .collect::<Result<Vec<_>>>()?;
    let events = events_by_ids(conn, &pages::env_page_events(&rows)).await?;
    pages::assemble_envs(&account.name, rows, events)
}

pub async fn delete_env(conn: &mut PgConnection, account: &Account, name: &str) -> Result<()> {
    known_name("Env", name)?;
    let deleted = sqlx::query("DELETE FROM envs WHERE account_id = $1 AND name = $2")
        .bind(account.id)
        .bind(name)
        .execute(conn)
        .await
        .map_err(db_error)?
        .rows_affected();
    if deleted == 0 {
        return Err(StoreError::not_found(format!("Env {name}")));
    }
    Ok(())
}
