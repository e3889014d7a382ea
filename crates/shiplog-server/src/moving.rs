//! `shiplog migrate`: a SQLite store copied into an empty PostgreSQL one.
//!
//! Nothing here names a table or a column: the tables come from the SQLite
//! schema in dependency order, the columns from each side's catalog, and
//! each value is converted to the PostgreSQL column's type, so a table a
//! later migration adds is copied as it is. Rows are streamed in batches
//! taken by primary key, so memory stays bounded whatever the store's
//! size; the whole copy is one PostgreSQL transaction, so a failure leaves
//! the target as it was. Each table is then read back and compared with
//! what was read, by row count and by a checksum of its rows.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::{Context, bail};
use futures_util::TryStreamExt;
use rusqlite::types::ValueRef;
use sha2::{Digest, Sha256};
use sqlx::{Connection, PgConnection, Row};

use crate::database::DatabaseUrl;

/// Tables the copy leaves alone: each side keeps its own record of the
/// migrations applied; SQLite's own bookkeeping is not data.
const NOT_COPIED: &[&str] = &["schema_migrations", "sqlite_sequence"];
/// A row of `settings` a target may hold before the copy: the schema's
/// creation makes a marker secret, which the source's replaces.
const SETTINGS: &str = "settings";
/// Bound parameters per INSERT stay well under PostgreSQL's 65,535.
const PARAMETERS_PER_INSERT: usize = 30_000;
const MAX_BATCH_ROWS: usize = 1_000;

/// What was copied, per table in copy order.
#[derive(Debug)]
pub struct Copied {
    pub tables: Vec<(String, u64)>,
}

/// Copies the SQLite store at `from` into the PostgreSQL database `to`
/// (whose schema is created or brought up to date first).
pub async fn migrate(from: &str, to: &str) -> anyhow::Result<Copied> {
    let source = match DatabaseUrl::parse(from)? {
        DatabaseUrl::Sqlite(path) => path,
        DatabaseUrl::Postgres(_) => bail!("--from names a SQLite store: sqlite://PATH"),
    };
    let target = match DatabaseUrl::parse(to)? {
        DatabaseUrl::Postgres(url) => url,
        DatabaseUrl::Sqlite(_) => bail!("--to names a PostgreSQL database: postgres://…"),
    };
    if !source.is_file() {
        bail!("no SQLite database at {}", source.display());
    }
    let is_store: bool = rusqlite::Connection::open_with_flags(
        &source,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )?
    .query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations')",
        [],
        |row| row.get(0),
    )?;
    if !is_store {
        bail!("{} is not a shiplog database", source.display());
    }
    // Both schemas at this build's version: the same tables on each side.
    drop(shiplog_store_sqlite::SqliteStore::open(&source).await?);
    drop(shiplog_store_postgres::PostgresStore::open(&target).await?);

    let sqlite = open_source(&source)?;
    let mut pg = PgConnection::connect(&target)
        .await
        .context("connecting to the PostgreSQL target")?;
    let mut tx = pg.begin().await?;
    refuse_unless_empty(&mut tx).await?;

    let tables = source_tables(&sqlite)?;
    let total: u64 = tables.iter().map(|t| t.rows).sum();
    let mut progress = Progress::new(total);
    let mut copied = Vec::new();
    for table in &tables {
        let columns = target_columns(&mut tx, &table.name).await?;
        let plan = Plan::new(table, columns)?;
        if table.name == SETTINGS {
            sqlx::query(&format!("DELETE FROM {}", quoted(SETTINGS)))
                .execute(&mut *tx)
                .await?;
        }
        let written = copy_table(&sqlite, &mut tx, &plan, &mut progress).await?;
        verify(&mut tx, &plan, &written).await?;
        advance_identities(&sqlite, &mut tx, &plan).await?;
        copied.push((table.name.clone(), written.rows));
    }
    progress.finish();
    tx.commit().await?;
    sqlite.execute_batch("COMMIT")?;
    Ok(Copied { tables: copied })
}

/// The source, inside one read transaction: the copy sees one state.
fn open_source(path: &Path) -> anyhow::Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    conn.execute_batch("BEGIN")?;
    Ok(conn)
}

/// Refuses a target in which any shiplog table has a row.
async fn refuse_unless_empty(tx: &mut PgConnection) -> anyhow::Result<()> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1",
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut holding = Vec::new();
    for table in tables.iter().filter(|t| !NOT_COPIED.contains(&t.as_str())) {
        let only_made_by_schema = if table == SETTINGS {
            " WHERE key <> 'marker_secret'"
        } else {
            ""
        };
        let sql = format!(
            "SELECT EXISTS (SELECT 1 FROM {}{only_made_by_schema})",
            quoted(table)
        );
        if sqlx::query_scalar::<_, bool>(&sql)
            .fetch_one(&mut *tx)
            .await?
        {
            holding.push(table.as_str());
        }
    }
    if !holding.is_empty() {
        bail!(
            "the target database is not empty (rows in: {}); migrate only into a new database, \
             nothing was written",
            holding.join(", ")
        );
    }
    Ok(())
}

/// A table of the source.
struct SourceTable {
    name: String,
    /// Every column, in the table's order.
    columns: Vec<String>,
    /// The columns rows are taken in order of (`rowid` without a key).
    key: Vec<String>,
    rows: u64,
}

/// The tables to copy, each after every table it references.
fn source_tables(conn: &rusqlite::Connection) -> anyhow::Result<Vec<SourceTable>> {
    let mut names: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid")?
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    names.retain(|name| !NOT_COPIED.contains(&name.as_str()) && !name.starts_with("sqlite_"));
    let mut references = BTreeMap::new();
    for name in &names {
        let parents: BTreeSet<String> = conn
            .prepare("SELECT \"table\" FROM pragma_foreign_key_list(?1)")?
            .query_map([name], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        references.insert(name.clone(), parents);
    }
    let mut ordered: Vec<String> = Vec::new();
    while ordered.len() < names.len() {
        let before = ordered.len();
        for name in &names {
            let ready = references[name]
                .iter()
                .all(|parent| parent == name || ordered.contains(parent));
            if !ordered.contains(name) && ready {
                ordered.push(name.clone());
            }
        }
        if ordered.len() == before {
            bail!("the source's foreign keys form a cycle");
        }
    }
    ordered
        .into_iter()
        .map(|name| {
            let mut columns = Vec::new();
            let mut key = Vec::new();
            let mut stmt =
                conn.prepare("SELECT name, pk FROM pragma_table_info(?1) ORDER BY cid")?;
            let mut rows = stmt.query([&name])?;
            let mut keyed: Vec<(i64, String)> = Vec::new();
            while let Some(row) = rows.next()? {
                let column: String = row.get(0)?;
                let pk: i64 = row.get(1)?;
                if pk > 0 {
                    keyed.push((pk, column.clone()));
                }
                columns.push(column);
            }
            keyed.sort();
            key.extend(keyed.into_iter().map(|(_, c)| c));
            if key.is_empty() {
                key.push("rowid".to_owned());
            }
            let rows: i64 = conn.query_row(
                &format!("SELECT COUNT(*) FROM {}", quoted(&name)),
                [],
                |r| r.get(0),
            )?;
            Ok(SourceTable {
                name,
                columns,
                key,
                rows: rows as u64,
            })
        })
        .collect()
}

/// What a value becomes in PostgreSQL, by the column's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    Bool,
    Float,
    Text,
    Bytes,
}

impl Kind {
    fn of(data_type: &str) -> Option<Kind> {
        Some(match data_type {
            "bigint" | "integer" | "smallint" => Kind::Int,
            "boolean" => Kind::Bool,
            "double precision" | "real" | "numeric" => Kind::Float,
            "text" | "character varying" | "character" => Kind::Text,
            "bytea" => Kind::Bytes,
            _ => return None,
        })
    }

    /// The column as read back, in the type its values are compared in.
    fn read_back(self, column: &str) -> String {
        let column = quoted(column);
        match self {
            Kind::Int => format!("{column}::bigint"),
            Kind::Float => format!("{column}::float8"),
            Kind::Text => format!("{column}::text"),
            Kind::Bool | Kind::Bytes => column,
        }
    }
}

/// A column of the target.
struct TargetColumn {
    name: String,
    kind: Kind,
    identity: bool,
}

async fn target_columns(
    tx: &mut PgConnection,
    table: &str,
) -> anyhow::Result<BTreeMap<String, TargetColumn>> {
    let rows = sqlx::query(
        "SELECT column_name::text, data_type::text, is_identity::text = 'YES' \
         FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = $1",
    )
    .bind(table)
    .fetch_all(&mut *tx)
    .await?;
    if rows.is_empty() {
        bail!("the target has no table {table}: is it at the same version as the source?");
    }
    rows.into_iter()
        .map(|row| {
            let name: String = row.try_get(0)?;
            let data_type: String = row.try_get(1)?;
            let kind = Kind::of(&data_type).with_context(|| {
                format!(
                    "{table}.{name} has the type {data_type}, which the copy does not convert to"
                )
            })?;
            let identity = row.try_get(2)?;
            Ok((
                name.clone(),
                TargetColumn {
                    name,
                    kind,
                    identity,
                },
            ))
        })
        .collect()
}

/// How one table is copied.
struct Plan {
    table: String,
    /// The source's columns, each with the target's type.
    columns: Vec<(String, Kind)>,
    /// The positions of the key in the row read (appended when `rowid`).
    key_at: Vec<usize>,
    key: Vec<String>,
    identities: Vec<String>,
    batch: usize,
}

impl Plan {
    fn new(source: &SourceTable, target: BTreeMap<String, TargetColumn>) -> anyhow::Result<Plan> {
        let columns = source
            .columns
            .iter()
            .map(|name| {
                let column = target.get(name).with_context(|| {
                    format!("the target's table {} has no column {name}", source.name)
                })?;
                Ok((column.name.clone(), column.kind))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let key_at = source
            .key
            .iter()
            .map(|k| {
                source
                    .columns
                    .iter()
                    .position(|c| c == k)
                    .unwrap_or(source.columns.len())
            })
            .collect();
        Ok(Plan {
            table: source.name.clone(),
            key: source.key.clone(),
            key_at,
            identities: target
                .values()
                .filter(|c| c.identity)
                .map(|c| c.name.clone())
                .collect(),
            batch: (PARAMETERS_PER_INSERT / columns.len().max(1)).clamp(1, MAX_BATCH_ROWS),
            columns,
        })
    }

    /// The source's next rows after a key: `rowid` is read as a last
    /// column when it is the key.
    fn select_sql(&self, after: bool) -> String {
        let mut list: Vec<String> = self.columns.iter().map(|(c, _)| quoted(c)).collect();
        if self.key == ["rowid"] {
            list.push("rowid".into());
        }
        let key: Vec<String> = self.key.iter().map(|k| quoted_key(k)).collect();
        let marks: Vec<String> = (1..=key.len()).map(|i| format!("?{i}")).collect();
        let filter = if after {
            format!(" WHERE ({}) > ({})", key.join(", "), marks.join(", "))
        } else {
            String::new()
        };
        format!(
            "SELECT {} FROM {}{filter} ORDER BY {} LIMIT {}",
            list.join(", "),
            quoted(&self.table),
            key.join(", "),
            self.batch
        )
    }

    fn insert_sql(&self, rows: usize) -> String {
        let width = self.columns.len();
        let tuples: Vec<String> = (0..rows)
            .map(|r| {
                let marks: Vec<String> =
                    (1..=width).map(|c| format!("${}", r * width + c)).collect();
                format!("({})", marks.join(", "))
            })
            .collect();
        let names: Vec<String> = self.columns.iter().map(|(c, _)| quoted(c)).collect();
        format!(
            "INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE VALUES {}",
            quoted(&self.table),
            names.join(", "),
            tuples.join(", ")
        )
    }
}

/// A value on its way from SQLite to PostgreSQL.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Null,
    Int(i64),
    Bool(bool),
    Float(f64),
    Text(String),
    Bytes(Vec<u8>),
}

impl Value {
    /// A SQLite value as the PostgreSQL column's type holds it.
    fn convert(value: ValueRef<'_>, kind: Kind) -> Result<Value, String> {
        Ok(match (value, kind) {
            (ValueRef::Null, _) => Value::Null,
            (ValueRef::Integer(n), Kind::Int) => Value::Int(n),
            (ValueRef::Integer(0), Kind::Bool) => Value::Bool(false),
            (ValueRef::Integer(1), Kind::Bool) => Value::Bool(true),
            (ValueRef::Integer(n), Kind::Float) => Value::Float(n as f64),
            (ValueRef::Real(f), Kind::Float) => Value::Float(f),
            (ValueRef::Real(f), Kind::Int) if f.fract() == 0.0 => Value::Int(f as i64),
            (ValueRef::Text(text), Kind::Text) => {
                Value::Text(String::from_utf8(text.to_vec()).map_err(|_| "text that is not UTF-8")?)
            }
            (ValueRef::Blob(bytes), Kind::Text) => Value::Text(
                String::from_utf8(bytes.to_vec()).map_err(|_| "bytes that are not UTF-8 text")?,
            ),
            (ValueRef::Text(bytes) | ValueRef::Blob(bytes), Kind::Bytes) => {
                Value::Bytes(bytes.to_vec())
            }
            (other, kind) => return Err(format!("{:?} cannot become {kind:?}", other.data_type())),
        })
    }

    fn bind<'q>(
        self,
        kind: Kind,
        query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    ) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
        match (self, kind) {
            (Value::Int(n), _) => query.bind(n),
            (Value::Bool(b), _) => query.bind(b),
            (Value::Float(f), _) => query.bind(f),
            (Value::Text(t), _) => query.bind(t),
            (Value::Bytes(b), _) => query.bind(b),
            (Value::Null, Kind::Int) => query.bind(None::<i64>),
            (Value::Null, Kind::Bool) => query.bind(None::<bool>),
            (Value::Null, Kind::Float) => query.bind(None::<f64>),
            (Value::Null, Kind::Text) => query.bind(None::<String>),
            (Value::Null, Kind::Bytes) => query.bind(None::<Vec<u8>>),
        }
    }

    /// Feeds an unambiguous encoding of the value to a checksum.
    fn digest(&self, hasher: &mut Sha256) {
        let (tag, bytes): (u8, Vec<u8>) = match self {
            Value::Null => (0, Vec::new()),
            Value::Int(n) => (1, n.to_be_bytes().to_vec()),
            Value::Bool(b) => (2, vec![u8::from(*b)]),
            Value::Float(f) => (3, f.to_bits().to_be_bytes().to_vec()),
            Value::Text(t) => (4, t.as_bytes().to_vec()),
            Value::Bytes(b) => (5, b.clone()),
        };
        hasher.update([tag]);
        hasher.update((bytes.len() as u64).to_be_bytes());
        hasher.update(bytes);
    }
}

/// A table's rows as counted and summed: the sum of each row's hash does
/// not depend on the order rows are read in, which differs between the
/// databases' collations.
#[derive(Debug, Default, PartialEq, Eq)]
struct Tally {
    rows: u64,
    checksum: u128,
}

impl Tally {
    fn add(&mut self, row: &[Value]) {
        let mut hasher = Sha256::new();
        row.iter().for_each(|value| value.digest(&mut hasher));
        let hash = hasher.finalize();
        let mut first = [0u8; 16];
        first.copy_from_slice(&hash[..16]);
        self.rows += 1;
        self.checksum = self.checksum.wrapping_add(u128::from_be_bytes(first));
    }
}

async fn copy_table(
    sqlite: &rusqlite::Connection,
    tx: &mut PgConnection,
    plan: &Plan,
    progress: &mut Progress,
) -> anyhow::Result<Tally> {
    let mut tally = Tally::default();
    let mut after: Option<Vec<rusqlite::types::Value>> = None;
    loop {
        let (rows, last_key) = read_batch(sqlite, plan, after.as_deref())?;
        if rows.is_empty() {
            return Ok(tally);
        }
        let sql = plan.insert_sql(rows.len());
        let mut query = sqlx::query(&sql);
        for row in &rows {
            tally.add(row);
        }
        for row in rows.iter().cloned() {
            for (value, (_, kind)) in row.into_iter().zip(&plan.columns) {
                query = value.bind(*kind, query);
            }
        }
        query
            .execute(&mut *tx)
            .await
            .with_context(|| format!("writing rows of {}", plan.table))?;
        progress.advance(&plan.table, rows.len() as u64);
        after = Some(last_key);
    }
}

type Batch = (Vec<Vec<Value>>, Vec<rusqlite::types::Value>);

fn read_batch(
    sqlite: &rusqlite::Connection,
    plan: &Plan,
    after: Option<&[rusqlite::types::Value]>,
) -> anyhow::Result<Batch> {
    let mut stmt = sqlite.prepare_cached(&plan.select_sql(after.is_some()))?;
    let mut rows = match after {
        Some(key) => stmt.query(rusqlite::params_from_iter(key.iter()))?,
        None => stmt.query([])?,
    };
    let mut out = Vec::new();
    let mut last_key = Vec::new();
    while let Some(row) = rows.next()? {
        let values = plan
            .columns
            .iter()
            .enumerate()
            .map(|(i, (column, kind))| {
                Value::convert(row.get_ref(i)?, *kind)
                    .map_err(|why| anyhow::anyhow!("{}.{column}: {why}", plan.table))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        last_key = plan
            .key_at
            .iter()
            .map(|&i| row.get::<_, rusqlite::types::Value>(i))
            .collect::<Result<_, _>>()?;
        out.push(values);
    }
    Ok((out, last_key))
}

/// Reads the table back from the target and compares it with the source.
async fn verify(tx: &mut PgConnection, plan: &Plan, written: &Tally) -> anyhow::Result<()> {
    let list: Vec<String> = plan
        .columns
        .iter()
        .map(|(column, kind)| kind.read_back(column))
        .collect();
    let mut tally = Tally::default();
    let sql = format!("SELECT {} FROM {}", list.join(", "), quoted(&plan.table));
    let mut stream = sqlx::query(&sql).fetch(&mut *tx);
    while let Some(row) = stream.try_next().await? {
        let values = plan
            .columns
            .iter()
            .enumerate()
            .map(|(i, (_, kind))| read_back(&row, i, *kind))
            .collect::<Result<Vec<_>, _>>()?;
        tally.add(&values);
    }
    if &tally != written {
        bail!(
            "the copy of {} does not match its source: {} rows read, {} found (checksums {:032x} and {:032x}); nothing was written",
            plan.table,
            written.rows,
            tally.rows,
            written.checksum,
            tally.checksum
        );
    }
    Ok(())
}

fn read_back(row: &sqlx::postgres::PgRow, i: usize, kind: Kind) -> Result<Value, sqlx::Error> {
    fn or_null<T>(value: Option<T>, make: impl FnOnce(T) -> Value) -> Value {
        value.map_or(Value::Null, make)
    }
    Ok(match kind {
        Kind::Int => or_null(row.try_get::<Option<i64>, _>(i)?, Value::Int),
        Kind::Bool => or_null(row.try_get::<Option<bool>, _>(i)?, Value::Bool),
        Kind::Float => or_null(row.try_get::<Option<f64>, _>(i)?, Value::Float),
        Kind::Text => or_null(row.try_get::<Option<String>, _>(i)?, Value::Text),
        Kind::Bytes => or_null(row.try_get::<Option<Vec<u8>>, _>(i)?, Value::Bytes),
    })
}

/// Sets each identity past the largest id the source used, rows deleted
/// since included (SQLite's AUTOINCREMENT keeps it), so that new rows get
/// ids above the old ones.
async fn advance_identities(
    sqlite: &rusqlite::Connection,
    tx: &mut PgConnection,
    plan: &Plan,
) -> anyhow::Result<()> {
    for column in &plan.identities {
        let used: Option<i64> = sqlite
            .query_row(
                "SELECT seq FROM sqlite_sequence WHERE name = ?1",
                [&plan.table],
                |row| row.get(0),
            )
            .ok();
        let max: Option<i64> = sqlx::query_scalar(&format!(
            "SELECT MAX({})::bigint FROM {}",
            quoted(column),
            quoted(&plan.table)
        ))
        .fetch_one(&mut *tx)
        .await?;
        let Some(last) = max.max(used) else {
            continue;
        };
        sqlx::query("SELECT setval(pg_get_serial_sequence($1, $2), $3, true)")
            .bind(quoted(&plan.table))
            .bind(column)
            .bind(last.max(1))
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A key column: `rowid` is SQLite's own, not a column to quote.
fn quoted_key(name: &str) -> String {
    if name == "rowid" {
        name.to_owned()
    } else {
        quoted(name)
    }
}

/// A progress line on a terminal's standard error; nothing otherwise.
struct Progress {
    total: u64,
    done: u64,
    shown: Option<std::io::Stderr>,
}

impl Progress {
    fn new(total: u64) -> Progress {
        let stderr = std::io::stderr();
        Progress {
            total,
            done: 0,
            shown: stderr.is_terminal().then_some(stderr),
        }
    }

    fn advance(&mut self, table: &str, rows: u64) {
        self.done += rows;
        if let Some(stderr) = &mut self.shown {
            let percent = self.done * 100 / self.total.max(1);
            let _ = write!(
                stderr,
                "\r\x1b[2K{percent:>3}% {}/{} rows, copying {table}",
                self.done, self.total
            );
            let _ = stderr.flush();
        }
    }

    fn finish(&mut self) {
        if let Some(stderr) = &mut self.shown {
            let _ = writeln!(stderr, "\r\x1b[2K{} rows copied", self.done);
        }
    }
}
