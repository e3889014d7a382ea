//! What the copy learns of each side's schema: the source's tables in
//! dependency order with their keys, the target's columns and their types,
//! and the statements one table is copied with.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, bail};
use sqlx::{PgConnection, Row};

use super::NOT_COPIED;
use super::values::Kind;

/// Bound parameters per INSERT stay well under PostgreSQL's 65,535.
pub(super) const PARAMETERS_PER_INSERT: usize = 30_000;
pub(super) const MAX_BATCH_ROWS: usize = 1_000;
/// A table of the source.
pub(super) struct SourceTable {
    pub(super) name: String,
    /// Every column, in the table's order.
    pub(super) columns: Vec<String>,
    /// The columns rows are taken in order of (`rowid` without a key).
    pub(super) key: Vec<String>,
    pub(super) rows: u64,
}

/// The tables to copy, each after every table it references.
pub(super) fn source_tables(conn: &rusqlite::Connection) -> anyhow::Result<Vec<SourceTable>> {
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

/// A column of the target.
pub(super) struct TargetColumn {
    pub(super) name: String,
    pub(super) kind: Kind,
    pub(super) identity: bool,
}

pub(super) async fn target_columns(
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
pub(super) struct Plan {
    pub(super) table: String,
    /// The source's columns, each with the target's type.
    pub(super) columns: Vec<(String, Kind)>,
    /// The positions of the key in the row read (appended when `rowid`).
    pub(super) key_at: Vec<usize>,
    pub(super) key: Vec<String>,
    pub(super) identities: Vec<String>,
    pub(super) batch: usize,
}

impl Plan {
    pub(super) fn new(
        source: &SourceTable,
        target: BTreeMap<String, TargetColumn>,
    ) -> anyhow::Result<Plan> {
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
    pub(super) fn select_sql(&self, after: bool) -> String {
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

    pub(super) fn insert_sql(&self, rows: usize) -> String {
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

pub(super) fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A key column: `rowid` is SQLite's own, not a column to quote.
pub(super) fn quoted_key(name: &str) -> String {
    if name == "rowid" {
        name.to_owned()
    } else {
        quoted(name)
    }
}
