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

mod schema;
mod values;

use std::path::Path;

use anyhow::{Context, bail};
use futures_util::TryStreamExt;
use sqlx::{Connection, PgConnection};

use crate::database::DatabaseUrl;
use schema::{Plan, quoted, source_tables, target_columns};
use values::{Tally, Value, read_back};

/// Tables the copy leaves alone: each side keeps its own record of the
/// migrations applied and its own generation of what tokens are authorised
/// by (the copy's writes move the target's on); SQLite's own bookkeeping is
/// not data.
const NOT_COPIED: &[&str] = &["schema_migrations", "auth_generation", "sqlite_sequence"];
/// A row of `settings` a target may hold before the copy: the schema's
/// creation makes a marker secret, which the source's replaces.
const SETTINGS: &str = "settings";
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

/// A progress bar of the rows copied, on a terminal's standard error
/// (hidden otherwise).
struct Progress(indicatif::ProgressBar);

impl Progress {
    fn new(total: u64) -> Progress {
        let bar = indicatif::ProgressBar::new(total);
        let style = indicatif::ProgressStyle::with_template(
            "{bar:40} {percent:>3}% {pos}/{len} rows, {per_sec}, copying {msg}",
        )
        .expect("a valid progress template");
        bar.set_style(style);
        Progress(bar)
    }

    fn advance(&mut self, table: &str, rows: u64) {
        self.0.set_message(table.to_owned());
        self.0.inc(rows);
    }

    fn finish(&mut self) {
        self.0.finish_and_clear();
    }
}
