//! The shared read and write paths' interface on SQLite: each call runs at
//! once on the connection, so its future is ready at its first poll (see
//! `shiplog_store::db::run_ready`).

use async_trait::async_trait;
use rusqlite::types::Value;
use rusqlite::{Connection, Row};
use shiplog_domain::Event;
use shiplog_store::columns::{
    AppRow, ChangeRow, Columns, SqlValue, change_from_columns, event_from_columns,
};
use shiplog_store::db::{Db, RowMap, WriteTx};
use shiplog_store::{Account, Result, StoreError};

use super::{apps, sql_error, unique_violation};

/// A connection, held by `&mut` (which is `Send`: a connection may move
/// between threads but not be shared by them).
pub struct SqliteConn<'c>(pub &'c mut Connection);

/// A row read by index, with SQLite's errors mapped.
pub struct SqliteColumns<'a, 'r>(pub &'a Row<'r>);

impl Columns for SqliteColumns<'_, '_> {
    fn int(&self, index: usize) -> Result<Option<i64>> {
        self.0.get(index).map_err(sql_error)
    }

    fn text(&self, index: usize) -> Result<Option<String>> {
        self.0.get(index).map_err(sql_error)
    }

    fn boolean(&self, index: usize) -> Result<Option<bool>> {
        self.0.get(index).map_err(sql_error)
    }
}

pub fn sqlite_values(values: Vec<SqlValue>) -> Vec<Value> {
    values
        .into_iter()
        .map(|value| match value {
            SqlValue::Int(Some(n)) => Value::Integer(n),
            SqlValue::Text(Some(text)) => Value::Text(text),
            SqlValue::Bool(Some(b)) => Value::Integer(b.into()),
            SqlValue::Int(None) | SqlValue::Text(None) | SqlValue::Bool(None) => Value::Null,
        })
        .collect()
}

/// Runs a query and maps each row.
pub fn query<T>(
    conn: &Connection,
    sql: &str,
    values: Vec<Value>,
    mut map: impl FnMut(&SqliteColumns<'_, '_>) -> Result<T>,
) -> Result<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql).map_err(sql_error)?;
    let mut rows = stmt
        .query(rusqlite::params_from_iter(values))
        .map_err(sql_error)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(sql_error)? {
        out.push(map(&SqliteColumns(row))?);
    }
    Ok(out)
}

#[async_trait]
impl Db for SqliteConn<'_> {
    async fn find_app(&mut self, account: &Account, name: &str) -> Result<AppRow> {
        apps::find_app(self.0, account, name)
    }

    async fn events(
        &mut self,
        app_name: &str,
        sql: &str,
        values: Vec<SqlValue>,
    ) -> Result<Vec<Event>> {
        query(self.0, sql, sqlite_values(values), |row| {
            event_from_columns(row, app_name)
        })
    }

    async fn changes(&mut self, sql: &str, values: Vec<SqlValue>) -> Result<Vec<ChangeRow>> {
        query(self.0, sql, sqlite_values(values), |row| {
            change_from_columns(row)
        })
    }

    async fn rows<R: Send + 'static>(
        &mut self,
        sql: &str,
        values: Vec<SqlValue>,
        map: RowMap<R>,
    ) -> Result<Vec<R>> {
        query(self.0, sql, sqlite_values(values), |row| map(row))
    }
}

#[async_trait]
impl WriteTx for SqliteConn<'_> {
    async fn scalar(&mut self, sql: &str, values: Vec<SqlValue>) -> Result<Option<i64>> {
        let mut stmt = self.0.prepare_cached(sql).map_err(sql_error)?;
        let mut rows = stmt
            .query(rusqlite::params_from_iter(sqlite_values(values)))
            .map_err(write_error)?;
        match rows.next().map_err(write_error)? {
            Some(row) => row.get(0).map_err(sql_error),
            None => Ok(None),
        }
    }

    async fn insert(&mut self, sql: &str, values: Vec<SqlValue>) -> Result<i64> {
        self.execute(sql, values).await?;
        Ok(self.0.last_insert_rowid())
    }

    async fn execute(&mut self, sql: &str, values: Vec<SqlValue>) -> Result<u64> {
        let mut stmt = self.0.prepare_cached(sql).map_err(sql_error)?;
        stmt.execute(rusqlite::params_from_iter(sqlite_values(values)))
            .map(|rows| rows as u64)
            .map_err(write_error)
    }
}

/// A broken unique constraint is named; anything else is mapped as usual.
fn write_error(err: rusqlite::Error) -> StoreError {
    match unique_violation(&err) {
        Some(unique) => StoreError::Unique(unique),
        None => sql_error(err),
    }
}
