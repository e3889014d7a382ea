//! What the event writes of one group-commit batch share beside its
//! transaction, to save round trips: the rows they append (written one
//! multi-row statement per table, see [`shiplog_store::append`]) and the
//! apps they looked up.
//!
//! Both are good only while the batch runs nothing but event writes: the
//! writer writes the held rows and forgets the apps before any other job
//! (one that may delete an app, an env or a user), and before the commit.
//! It also notes whether the current write has run a statement that may
//! have changed something, or failed in the database: only such a write
//! needs a savepoint to be undone alone.

use std::sync::LazyLock;

use async_trait::async_trait;
use shiplog_domain::Event;
use shiplog_store::append::{Append, ColumnKind};
use shiplog_store::columns::{AppRow, ChangeRow, SqlValue};
use shiplog_store::db::{Db, RowMap, WriteTx};
use shiplog_store::{Account, Result, StoreError};
use sqlx::PgConnection;

use super::db_error;
use crate::tx::PgConn;

/// What the batch's event writes hold until the writer writes it.
#[derive(Default)]
pub struct Held {
    rows: Vec<(Append, Vec<SqlValue>)>,
    apps: Vec<(i64, AppRow)>,
    touched: bool,
}

impl Held {
    /// Starts a write: answers a mark to undo its rows with
    /// [`Held::undo_to`].
    pub fn start(&mut self) -> usize {
        self.touched = false;
        self.rows.len()
    }

    /// Whether the write started last ran a statement that may have
    /// changed something or left the transaction failed.
    pub fn touched(&self) -> bool {
        self.touched
    }

    /// Forgets the rows held since `mark` (the write that held them failed
    /// and what it ran is undone).
    pub fn undo_to(&mut self, mark: usize) {
        self.rows.truncate(mark);
    }

    /// Writes the held rows, one statement per table, and forgets the apps;
    /// true if there were rows to write.
    pub async fn write(&mut self, conn: &mut PgConnection) -> Result<bool> {
        self.apps.clear();
        if self.rows.is_empty() {
            return Ok(false);
        }
        let rows = std::mem::take(&mut self.rows);
        for table in Append::ALL {
            let of_table: Vec<_> = rows
                .iter()
                .filter(|(of, _)| *of == table)
                .map(|(_, values)| values.as_slice())
                .collect();
            if !of_table.is_empty() {
                insert_all(conn, table, &of_table).await?;
            }
        }
        Ok(true)
    }
}

/// `INSERT INTO t (…) SELECT * FROM unnest($1::bigint[], …)`: one
/// statement for any number of rows, so PostgreSQL prepares it once.
fn unnest_sql(table: Append) -> &'static str {
    static SQL: LazyLock<[String; 2]> = LazyLock::new(|| {
        Append::ALL.map(|table| {
            let arrays: Vec<_> = table
                .columns()
                .iter()
                .enumerate()
                .map(|(i, (_, kind))| match kind {
                    ColumnKind::Int => format!("${}::bigint[]", i + 1),
                    ColumnKind::Text => format!("${}::text[]", i + 1),
                })
                .collect();
            format!(
                "INSERT INTO {} ({}) SELECT * FROM unnest({}){}",
                table.table(),
                table.column_list(),
                arrays.join(", "),
                table.on_conflict()
            )
        })
    });
    &SQL[table as usize]
}

/// Inserts `rows` of `table` in one statement, in their order.
async fn insert_all(conn: &mut PgConnection, table: Append, rows: &[&[SqlValue]]) -> Result<()> {
    let mismatch =
        || StoreError::Internal(format!("a row of {} has the wrong shape", table.table()));
    let mut query = sqlx::query(unnest_sql(table));
    for (column, (_, kind)) in table.columns().iter().enumerate() {
        let cells = rows.iter().map(|row| row.get(column));
        query = match kind {
            ColumnKind::Int => {
                let array = cells
                    .map(|cell| match cell {
                        Some(SqlValue::Int(n)) => Ok(*n),
                        _ => Err(mismatch()),
                    })
                    .collect::<Result<Vec<Option<i64>>>>()?;
                query.bind(array)
            }
            ColumnKind::Text => {
                let array = cells
                    .map(|cell| match cell {
                        Some(SqlValue::Text(text)) => Ok(text.as_deref()),
                        _ => Err(mismatch()),
                    })
                    .collect::<Result<Vec<Option<&str>>>>()?;
                query.bind(array)
            }
        };
    }
    query.execute(conn).await.map_err(db_error)?;
    Ok(())
}

/// The connection an event write of a batch runs on: [`PgConn`]'s
/// statements, with appended rows held and apps remembered.
pub struct BatchConn<'c> {
    pub conn: &'c mut PgConnection,
    pub held: &'c mut Held,
}

impl BatchConn<'_> {
    /// A read's outcome, noting a failure of the database (a rule's
    /// refusal, such as a missing app, leaves the transaction as it was).
    fn read<T>(&mut self, outcome: Result<T>) -> Result<T> {
        if let Err(err) = &outcome
            && !matches!(err, StoreError::Domain(_))
        {
            self.held.touched = true;
        }
        outcome
    }
}

#[async_trait]
impl Db for BatchConn<'_> {
    async fn find_app(&mut self, account: &Account, name: &str) -> Result<AppRow> {
        let known = self
            .held
            .apps
            .iter()
            .find(|(of, app)| *of == account.id && app.name == name);
        if let Some((_, app)) = known {
            return Ok(app.clone());
        }
        let found = PgConn(self.conn).find_app(account, name).await;
        let app = self.read(found)?;
        self.held.apps.push((account.id, app.clone()));
        Ok(app)
    }

    async fn events(
        &mut self,
        app_name: &str,
        sql: &str,
        values: Vec<SqlValue>,
    ) -> Result<Vec<Event>> {
        let events = PgConn(self.conn).events(app_name, sql, values).await;
        self.read(events)
    }

    async fn changes(&mut self, sql: &str, values: Vec<SqlValue>) -> Result<Vec<ChangeRow>> {
        let changes = PgConn(self.conn).changes(sql, values).await;
        self.read(changes)
    }

    async fn rows<R: Send + 'static>(
        &mut self,
        sql: &str,
        values: Vec<SqlValue>,
        map: RowMap<R>,
    ) -> Result<Vec<R>> {
        let rows = PgConn(self.conn).rows(sql, values, map).await;
        self.read(rows)
    }
}

#[async_trait]
impl WriteTx for BatchConn<'_> {
    async fn scalar(&mut self, sql: &str, values: Vec<SqlValue>) -> Result<Option<i64>> {
        self.held.touched = true;
        PgConn(self.conn).scalar(sql, values).await
    }

    async fn insert(&mut self, sql: &str, values: Vec<SqlValue>) -> Result<i64> {
        self.held.touched = true;
        PgConn(self.conn).insert(sql, values).await
    }

    async fn execute(&mut self, sql: &str, values: Vec<SqlValue>) -> Result<u64> {
        self.held.touched = true;
        PgConn(self.conn).execute(sql, values).await
    }

    async fn append(&mut self, table: Append, values: Vec<SqlValue>) -> Result<()> {
        self.held.rows.push((table, values));
        Ok(())
    }
}
