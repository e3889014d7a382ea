//! What the event writes of one group-commit batch share beside its
//! transaction, to save round trips: the rows they append (see
//! [`shiplog_store::append`]), in a batch of event writes only their
//! events too, all written in one statement of multi-row inserts, and the
//! apps they looked up (or the batch read at its start: the apps recent
//! batches used, see [`RecentApps`]).
//!
//! Appended rows and apps are good only while the batch runs nothing but
//! event writes: the writer writes the held rows and forgets the apps
//! before any other job (one that may delete an app, an env or a user),
//! and before the commit. Held events are written before any statement
//! other than an app lookup, so that nothing the transaction reads misses
//! them; their ids are taken from the events' sequence for the batch at
//! once, under the write lock, so they still increase in commit order.
//! The connection also notes whether the current write has run a
//! statement that may have changed something, or failed in the database:
//! only such a write needs a savepoint to be undone alone.

use std::collections::VecDeque;
use std::sync::LazyLock;

use async_trait::async_trait;
use shiplog_domain::{Event, EventFields, EventType, Timestamp};
use shiplog_store::append::{Append, ColumnKind};
use shiplog_store::columns::{AppRow, ChangeRow, SqlValue, event_values};
use shiplog_store::db::{Db, RowMap, WriteTx};
use shiplog_store::queries::EVENT_INSERT_COLUMNS;
use shiplog_store::{Account, Result, StoreError};
use sqlx::postgres::PgRow;
use sqlx::{Column, Executor, PgConnection, Row};

use super::db_error;
use crate::tx::PgConn;

/// Where a write's held rows and events begin, to undo them: events are
/// counted from the batch's first, written or not.
#[derive(Debug, Clone, Copy)]
pub struct Mark {
    rows: usize,
    events: usize,
}

/// What the batch's event writes hold until the writer writes it.
#[derive(Default)]
pub struct Held {
    rows: Vec<(Append, Vec<SqlValue>)>,
    /// Events not yet inserted, each row its id then the values of
    /// `INSERT_EVENT`; only held when `event_ids` is more than zero.
    events: Vec<Vec<SqlValue>>,
    /// Ids taken from the sequence and not yet given out.
    ids: VecDeque<i64>,
    /// How many ids to take at once; zero: events are inserted at once.
    event_ids: usize,
    /// How many of the batch's events are written.
    written: usize,
    apps: Vec<(i64, AppRow)>,
    /// The ids of the apps the batch's event writes used, first use first.
    used_apps: Vec<i64>,
    touched: bool,
    /// Where the current write's events begin, counted from the batch's
    /// first.
    current: usize,
}

impl Held {
    /// What a batch of `writes` event writes holds: their events too, with
    /// `ids` taken for them (more are taken `writes` at a time if these run
    /// out).
    pub fn with_events(writes: usize, ids: Vec<i64>) -> Held {
        Held {
            event_ids: writes.max(1),
            ids: ids.into(),
            ..Held::default()
        }
    }

    /// Knows `apps` (each with its account id), read in this transaction
    /// under the write lock, without looking them up again.
    pub fn know_apps(&mut self, apps: Vec<(i64, AppRow)>) {
        self.apps = apps;
    }

    /// The ids of the apps the batch's event writes used.
    pub fn used_apps(&self) -> &[i64] {
        &self.used_apps
    }

    /// Notes that an event write used the app `id`.
    fn use_app(&mut self, id: i64) {
        if !self.used_apps.contains(&id) {
            self.used_apps.push(id);
        }
    }

    /// Starts a write: answers a mark to undo its rows with
    /// [`Held::undo_to`].
    pub fn start(&mut self) -> Mark {
        self.touched = false;
        self.current = self.event_count();
        Mark {
            rows: self.rows.len(),
            events: self.current,
        }
    }

    /// The batch's events so far, written or held.
    fn event_count(&self) -> usize {
        self.written + self.events.len()
    }

    /// Whether the write started last ran a statement that may have
    /// changed something or left the transaction failed.
    pub fn touched(&self) -> bool {
        self.touched
    }

    /// Forgets the rows and events held since `mark` (the write that held
    /// them failed and what it ran is undone). Any of its events already
    /// written made it touched, and the transaction is not kept.
    pub fn undo_to(&mut self, mark: Mark) {
        self.rows.truncate(mark.rows);
        self.events
            .truncate(mark.events.saturating_sub(self.written));
    }

    /// Writes the held events and rows in one statement, and forgets the
    /// apps; true if there was anything to write.
    pub async fn write(&mut self, conn: &mut PgConnection) -> Result<bool> {
        self.apps.clear();
        let rows = std::mem::take(&mut self.rows);
        let of_tables = Append::ALL.map(|table| {
            rows.iter()
                .filter(|(of, _)| *of == table)
                .map(|(_, values)| values.as_slice())
                .collect::<Vec<_>>()
        });
        self.insert(conn, &of_tables).await
    }

    /// Inserts the held events alone; true if there were any.
    async fn write_events(&mut self, conn: &mut PgConnection) -> Result<bool> {
        self.insert(conn, &Default::default()).await
    }

    /// Inserts the held events and `of_tables`, the rows of each appended
    /// table, in one statement (see [`Parts::sql`]); true if there was
    /// anything to insert. Inserting the current write's own events
    /// touches it, and so does a failure with events in the statement.
    async fn insert(
        &mut self,
        conn: &mut PgConnection,
        of_tables: &[Vec<&[SqlValue]>; Append::ALL.len()],
    ) -> Result<bool> {
        let with_events = !self.events.is_empty();
        let parts = Parts {
            events: with_events,
            tables: of_tables.each_ref().map(|rows| !rows.is_empty()),
        };
        if parts.is_empty() {
            return Ok(false);
        }
        if with_events && self.event_count() > self.current {
            self.touched = true;
        }
        let events: Vec<_> = self.events.iter().map(Vec::as_slice).collect();
        let written = async {
            let mut query = sqlx::query(parts.sql());
            if with_events {
                query = bind_arrays(query, &EVENT_KINDS, &events)?;
            }
            for (table, rows) in Append::ALL.into_iter().zip(of_tables) {
                if !rows.is_empty() {
                    query = bind_arrays(query, &column_kinds(table), rows)?;
                }
            }
            query.execute(&mut *conn).await.map_err(db_error)
        }
        .await;
        if written.is_err() && with_events {
            self.touched = true;
        }
        written?;
        self.written += self.events.len();
        self.events.clear();
        Ok(true)
    }

    /// The id of a new event: the next taken, after taking a batch's worth
    /// from the sequence when none is left.
    async fn next_event_id(&mut self, conn: &mut PgConnection) -> Result<i64> {
        if self.ids.is_empty() {
            let taken = conn
                .fetch_all(take_event_ids(self.event_ids).as_str())
                .await
                .map_err(db_error)
                .and_then(|rows| event_ids(&rows));
            match taken {
                Ok(taken) => self.ids.extend(taken),
                Err(err) => {
                    self.touched = true;
                    return Err(err);
                }
            }
        }
        self.ids
            .pop_front()
            .ok_or_else(|| StoreError::Internal("the events' sequence gave no id".into()))
    }
}

/// The statement that takes `count` ids from the events' sequence, in a
/// column named `nextval`; run as a simple query, it may travel with
/// others.
pub fn take_event_ids(count: usize) -> String {
    format!(
        "SELECT nextval(pg_get_serial_sequence('events', 'id')) FROM generate_series(1, {count})"
    )
}

/// The ids among `rows` (those of [`take_event_ids`]), in ascending order.
pub fn event_ids(rows: &[PgRow]) -> Result<Vec<i64>> {
    let mut ids = Vec::new();
    for row in rows {
        if first_column_is(row, "nextval") {
            ids.push(row.try_get::<i64, _>(0).map_err(db_error)?);
        }
    }
    ids.sort_unstable();
    Ok(ids)
}

/// The ids of the apps that recent batches' event writes used, most recent
/// first. The next batch reads these apps again in its first round trip,
/// under the write lock, and its writes find them there instead of each
/// looking its app up in a round trip of its own. Only ids are kept, never
/// an app: what a batch knows of an app it read itself, so an app deleted
/// or changed since is not found there, or found as it is now.
#[derive(Debug, Default)]
pub struct RecentApps(Vec<i64>);

impl RecentApps {
    /// How many apps are read again at the start of each batch.
    const MOST: usize = 32;

    pub fn ids(&self) -> &[i64] {
        &self.0
    }

    /// Puts the apps a batch used first, in their order.
    pub fn remember(&mut self, used: &[i64]) {
        self.0.retain(|id| !used.contains(id));
        self.0.splice(0..0, used.iter().copied().take(Self::MOST));
        self.0.truncate(Self::MOST);
    }
}

/// Whether `row`'s first column is named `name`: which statement of a
/// simple query it comes from.
pub fn first_column_is(row: &PgRow, name: &str) -> bool {
    row.columns().first().is_some_and(|c| c.name() == name)
}

/// The kind of each column of an appended table.
fn column_kinds(table: Append) -> Vec<ColumnKind> {
    table.columns().iter().map(|(_, kind)| *kind).collect()
}

/// `unnest(…)` of arrays of these kinds, numbered from `$first`.
fn unnest_arrays(kinds: &[ColumnKind], first: usize) -> String {
    let arrays: Vec<_> = kinds
        .iter()
        .enumerate()
        .map(|(i, kind)| match kind {
            ColumnKind::Int => format!("${}::bigint[]", first + i),
            ColumnKind::Text => format!("${}::text[]", first + i),
            ColumnKind::Bool => format!("${}::boolean[]", first + i),
        })
        .collect();
    format!("unnest({})", arrays.join(", "))
}

/// Which inserts a write of held rows makes: of the events, and of each
/// appended table.
#[derive(Debug, Clone, Copy)]
struct Parts {
    events: bool,
    tables: [bool; Append::ALL.len()],
}

impl Parts {
    fn is_empty(self) -> bool {
        !self.events && !self.tables.contains(&true)
    }

    /// Which of the statements of [`Parts::sql`] it is.
    fn index(self) -> usize {
        let tables = self.tables.iter().enumerate();
        tables.fold(usize::from(self.events), |index, (i, &set)| {
            index | usize::from(set) << (i + 1)
        })
    }

    /// The statement: each insert of `unnest(…)` of arrays (one statement
    /// for any number of rows, so PostgreSQL prepares it once), numbered
    /// in order, all but the last in `WITH` (each runs once, to the end,
    /// whether or not anything reads it).
    fn sql(self) -> &'static str {
        const VARIANTS: usize = 1 << (Append::ALL.len() + 1);
        static SQL: LazyLock<Vec<String>> = LazyLock::new(|| {
            (0..VARIANTS)
                .map(|index| {
                    let parts = Parts {
                        events: index & 1 != 0,
                        tables: std::array::from_fn(|i| index & (1 << (i + 1)) != 0),
                    };
                    parts.build()
                })
                .collect()
        });
        &SQL[self.index()]
    }

    fn build(self) -> String {
        let mut inserts = Vec::new();
        let mut next = 1;
        if self.events {
            let kinds = &EVENT_KINDS;
            inserts.push(format!(
                "INSERT INTO events (id, {EVENT_INSERT_COLUMNS}) OVERRIDING SYSTEM VALUE \
                 SELECT * FROM {}",
                unnest_arrays(kinds, next)
            ));
            next += kinds.len();
        }
        for (table, _) in Append::ALL
            .into_iter()
            .zip(self.tables)
            .filter(|(_, set)| *set)
        {
            let kinds = column_kinds(table);
            inserts.push(format!(
                "INSERT INTO {} ({}) SELECT * FROM {}{}",
                table.table(),
                table.column_list(),
                unnest_arrays(&kinds, next),
                table.on_conflict()
            ));
            next += kinds.len();
        }
        let last = inserts.pop().unwrap_or_default();
        if inserts.is_empty() {
            return last;
        }
        let with: Vec<_> = inserts
            .iter()
            .enumerate()
            .map(|(i, insert)| format!("held_{i} AS ({insert})"))
            .collect();
        format!("WITH {} {last}", with.join(", "))
    }
}

/// The kinds of the columns of a held event: its id, then those of the
/// values `event_values` gives.
static EVENT_KINDS: LazyLock<Vec<ColumnKind>> = LazyLock::new(|| {
    let sample = event_values(
        0,
        EventType::Push,
        Timestamp::from_millis(0),
        &EventFields::default(),
    );
    std::iter::once(ColumnKind::Int)
        .chain(sample.iter().map(ColumnKind::of))
        .collect()
});

type PgQuery<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

/// Binds `rows` to `query` as one array per column of `kinds`, in their
/// order.
fn bind_arrays<'q>(
    mut query: PgQuery<'q>,
    kinds: &[ColumnKind],
    rows: &[&'q [SqlValue]],
) -> Result<PgQuery<'q>> {
    for (column, kind) in kinds.iter().enumerate() {
        query = match kind {
            ColumnKind::Int => query.bind(array(rows, column, |value| match value {
                SqlValue::Int(n) => Some(*n),
                _ => None,
            })?),
            ColumnKind::Text => query.bind(array(rows, column, |value| match value {
                SqlValue::Text(text) => Some(text.as_deref()),
                _ => None,
            })?),
            ColumnKind::Bool => query.bind(array(rows, column, |value| match value {
                SqlValue::Bool(b) => Some(*b),
                _ => None,
            })?),
        };
    }
    Ok(query)
}

/// The cells of `column` of `rows`, each taken out by `cell` (none if the
/// value is of another kind).
fn array<'r, T>(
    rows: &[&'r [SqlValue]],
    column: usize,
    cell: impl Fn(&'r SqlValue) -> Option<Option<T>>,
) -> Result<Vec<Option<T>>> {
    rows.iter()
        .map(|row| {
            row.get(column)
                .and_then(&cell)
                .ok_or_else(|| StoreError::Internal("a held row has the wrong shape".into()))
        })
        .collect()
}

/// The connection an event write of a batch runs on: [`PgConn`]'s
/// statements, with appended rows (and, in a batch of event writes only,
/// events) held and apps remembered.
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

    /// Writes the held events before a statement that could read them.
    async fn before_statement(&mut self) -> Result<()> {
        self.held.write_events(self.conn).await.map(|_| ())
    }
}

#[async_trait]
impl Db for BatchConn<'_> {
    /// Apps are not written by event writes: a lookup needs no held event
    /// written first.
    async fn find_app(&mut self, account: &Account, name: &str) -> Result<AppRow> {
        let known = self
            .held
            .apps
            .iter()
            .find(|(of, app)| *of == account.id && app.name == name);
        if let Some((_, app)) = known {
            let app = app.clone();
            self.held.use_app(app.id);
            return Ok(app);
        }
        let found = PgConn(self.conn).find_app(account, name).await;
        let app = self.read(found)?;
        self.held.apps.push((account.id, app.clone()));
        self.held.use_app(app.id);
        Ok(app)
    }

    async fn events(
        &mut self,
        app_name: &str,
        sql: &str,
        values: Vec<SqlValue>,
    ) -> Result<Vec<Event>> {
        self.before_statement().await?;
        let events = PgConn(self.conn).events(app_name, sql, values).await;
        self.read(events)
    }

    async fn changes(&mut self, sql: &str, values: Vec<SqlValue>) -> Result<Vec<ChangeRow>> {
        self.before_statement().await?;
        let changes = PgConn(self.conn).changes(sql, values).await;
        self.read(changes)
    }

    async fn rows<R: Send + 'static>(
        &mut self,
        sql: &str,
        values: Vec<SqlValue>,
        map: RowMap<R>,
    ) -> Result<Vec<R>> {
        self.before_statement().await?;
        let rows = PgConn(self.conn).rows(sql, values, map).await;
        self.read(rows)
    }
}

#[async_trait]
impl WriteTx for BatchConn<'_> {
    async fn scalar(&mut self, sql: &str, values: Vec<SqlValue>) -> Result<Option<i64>> {
        self.before_statement().await?;
        self.held.touched = true;
        PgConn(self.conn).scalar(sql, values).await
    }

    async fn insert(&mut self, sql: &str, values: Vec<SqlValue>) -> Result<i64> {
        self.before_statement().await?;
        self.held.touched = true;
        PgConn(self.conn).insert(sql, values).await
    }

    async fn execute(&mut self, sql: &str, values: Vec<SqlValue>) -> Result<u64> {
        self.before_statement().await?;
        self.held.touched = true;
        PgConn(self.conn).execute(sql, values).await
    }

    async fn append(&mut self, table: Append, values: Vec<SqlValue>) -> Result<()> {
        self.held.rows.push((table, values));
        Ok(())
    }

    async fn append_event(&mut self, values: Vec<SqlValue>) -> Result<i64> {
        if self.held.event_ids == 0 {
            return self
                .insert(&shiplog_store::queries::INSERT_EVENT, values)
                .await;
        }
        let id = self.held.next_event_id(self.conn).await?;
        let mut row = Vec::with_capacity(values.len() + 1);
        row.push(SqlValue::Int(Some(id)));
        row.extend(values);
        self.held.events.push(row);
        Ok(id)
    }
}
