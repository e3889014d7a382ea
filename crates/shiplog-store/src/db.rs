//! What the shared read and write paths need of a backend's connection:
//! a handful of primitives that run the SQL of [`crate::queries`] with
//! bound [`SqlValue`]s. The backends differ only behind this interface.

use async_trait::async_trait;
use futures_util::FutureExt;
use shiplog_domain::Event;

use crate::append::Append;
use crate::columns::{AppRow, ChangeRow, Columns, SqlValue};
use crate::queries;
use crate::{Account, Result, StoreError};

/// Reads one row of a query into a value.
pub type RowMap<R> = fn(&dyn Columns) -> Result<R>;

/// A connection to read with.
#[async_trait]
pub trait Db: Send {
    /// The app of the account with this name, or `NotFound`.
    async fn find_app(&mut self, account: &Account, name: &str) -> Result<AppRow>;
    /// Runs a query of [`crate::columns::EVENT_COLUMNS`]; each event is
    /// named after `app_name`.
    async fn events(
        &mut self,
        app_name: &str,
        sql: &str,
        values: Vec<SqlValue>,
    ) -> Result<Vec<Event>>;
    /// Runs a query of [`crate::columns::CHANGE_COLUMNS`].
    async fn changes(&mut self, sql: &str, values: Vec<SqlValue>) -> Result<Vec<ChangeRow>>;
    /// Runs a query whose rows `map` reads.
    async fn rows<R: Send + 'static>(
        &mut self,
        sql: &str,
        values: Vec<SqlValue>,
        map: RowMap<R>,
    ) -> Result<Vec<R>>;
}

/// A connection inside an open write transaction.
#[async_trait]
pub trait WriteTx: Db {
    /// Runs a statement that answers one integer (or none); a broken unique
    /// constraint is `StoreError::Unique`.
    async fn scalar(&mut self, sql: &str, values: Vec<SqlValue>) -> Result<Option<i64>>;
    /// Inserts one row into a table with an `id` it generates, and answers
    /// that id; a broken unique constraint is `StoreError::Unique`.
    async fn insert(&mut self, sql: &str, values: Vec<SqlValue>) -> Result<i64>;
    /// Runs a statement and answers the rows it changed.
    async fn execute(&mut self, sql: &str, values: Vec<SqlValue>) -> Result<u64>;
    /// Appends a row to a table no statement of this transaction reads
    /// back (see [`crate::append`]). A backend may hold the row and write
    /// it just before the commit; until then no error of it shows here.
    async fn append(&mut self, table: Append, values: Vec<SqlValue>) -> Result<()> {
        self.execute(table.insert_sql(), values).await.map(|_| ())
    }
    /// Inserts an event that no constraint can refuse (any but a RELEASE,
    /// whose version is unique), given the values of
    /// [`queries::INSERT_EVENT`], and answers its id. A backend may hold the
    /// row and write it later in the transaction, but before any statement
    /// that could read it.
    async fn append_event(&mut self, values: Vec<SqlValue>) -> Result<i64> {
        self.insert(&queries::INSERT_EVENT, values).await
    }
}

/// Runs a read or write on a backend whose calls complete synchronously
/// (SQLite's, which may block on a lock but never yields): the future is
/// ready at its first poll.
pub fn run_ready<T>(work: impl Future<Output = Result<T>>) -> Result<T> {
    work.now_or_never().unwrap_or_else(|| {
        Err(StoreError::Internal(
            "a synchronous database call had to wait".into(),
        ))
    })
}
