//! The shared read and write paths' interface on PostgreSQL: a pooled
//! connection for reads, or the writer task's inside its transaction.

use async_trait::async_trait;
use shiplog_domain::Event;
use shiplog_store::columns::{
    AppRow, ChangeRow, Columns, SqlValue, change_from_columns, event_from_columns,
};
use shiplog_store::db::{Db, RowMap, WriteTx};
use shiplog_store::{Account, Result, StoreError};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::{PgConnection, Postgres, Row};

use super::{apps, db_error, unique_violation};

pub struct PgConn<'c>(pub &'c mut PgConnection);

/// A row read by index, with sqlx's errors mapped.
pub struct PgColumns<'r>(pub &'r PgRow);

impl Columns for PgColumns<'_> {
    fn int(&self, index: usize) -> Result<Option<i64>> {
        self.0.try_get(index).map_err(db_error)
    }

    fn text(&self, index: usize) -> Result<Option<String>> {
        self.0.try_get(index).map_err(db_error)
    }

    fn boolean(&self, index: usize) -> Result<Option<bool>> {
        self.0.try_get(index).map_err(db_error)
    }
}

/// `sql` with `values` bound in order.
pub fn bound(sql: &str, values: Vec<SqlValue>) -> Query<'_, Postgres, PgArguments> {
    values
        .into_iter()
        .fold(sqlx::query(sql), |query, value| match value {
            SqlValue::Int(n) => query.bind(n),
            SqlValue::Text(text) => query.bind(text),
            SqlValue::Bool(b) => query.bind(b),
        })
}

/// Runs a query of events and maps each row.
pub async fn events(
    conn: &mut PgConnection,
    app_name: &str,
    query: Query<'_, Postgres, PgArguments>,
) -> Result<Vec<Event>> {
    let rows = query.fetch_all(conn).await.map_err(db_error)?;
    rows.iter()
        .map(|row| event_from_columns(&PgColumns(row), app_name))
        .collect()
}

#[async_trait]
impl Db for PgConn<'_> {
    async fn find_app(&mut self, account: &Account, name: &str) -> Result<AppRow> {
        apps::find_app(self.0, account, name).await
    }

    async fn events(
        &mut self,
        app_name: &str,
        sql: &str,
        values: Vec<SqlValue>,
    ) -> Result<Vec<Event>> {
        events(self.0, app_name, bound(sql, values)).await
    }

    async fn changes(&mut self, sql: &str, values: Vec<SqlValue>) -> Result<Vec<ChangeRow>> {
        let rows = bound(sql, values)
            .fetch_all(&mut *self.0)
            .await
            .map_err(db_error)?;
        rows.iter()
            .map(|row| change_from_columns(&PgColumns(row)))
            .collect()
    }

    async fn rows<R: Send + 'static>(
        &mut self,
        sql: &str,
        values: Vec<SqlValue>,
        map: RowMap<R>,
    ) -> Result<Vec<R>> {
        let rows = bound(sql, values)
            .fetch_all(&mut *self.0)
            .await
            .map_err(db_error)?;
        rows.iter().map(|row| map(&PgColumns(row))).collect()
    }
}

#[async_trait]
impl WriteTx for PgConn<'_> {
    async fn scalar(&mut self, sql: &str, values: Vec<SqlValue>) -> Result<Option<i64>> {
        let row = bound(sql, values)
            .fetch_optional(&mut *self.0)
            .await
            .map_err(write_error)?;
        match row {
            Some(row) => row.try_get(0).map_err(db_error),
            None => Ok(None),
        }
    }

    async fn insert(&mut self, sql: &str, values: Vec<SqlValue>) -> Result<i64> {
        let sql = format!("{sql} RETURNING id");
        self.scalar(&sql, values)
            .await?
            .ok_or_else(|| StoreError::Internal("an insert returned no id".into()))
    }

    async fn execute(&mut self, sql: &str, values: Vec<SqlValue>) -> Result<u64> {
        bound(sql, values)
            .execute(&mut *self.0)
            .await
            .map(|done| done.rows_affected())
            .map_err(write_error)
    }
}

/// A broken unique constraint is named; anything else is mapped as usual.
fn write_error(err: sqlx::Error) -> StoreError {
    match unique_violation(&err) {
        Some(unique) => StoreError::Unique(unique),
        None => db_error(err),
    }
}
