//! The rows the write path appends and no statement of the same
//! transaction reads back: the change record of each write and the first
//! sighting of a commit. Because nothing in the transaction reads them
//! before it commits, a backend may hold them and write all of a batch's
//! rows of one table in one statement just before the commit (PostgreSQL's
//! writer does, saving two round trips per event); otherwise each is the
//! one-row insert of [`Append::insert_sql`].

use std::sync::LazyLock;

use crate::columns::SqlValue;

/// The SQL type of an appended column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Int,
    Text,
    Bool,
}

impl ColumnKind {
    /// The kind of column `value` goes into.
    pub fn of(value: &SqlValue) -> ColumnKind {
        match value {
            SqlValue::Int(_) => ColumnKind::Int,
            SqlValue::Text(_) => ColumnKind::Text,
            SqlValue::Bool(_) => ColumnKind::Bool,
        }
    }
}

/// A table the write path only appends to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Append {
    /// A change: (account id, app id, event id, at, kind, actor, fields).
    Change,
    /// The first PUSH or PULLREQUEST of a commit: (app id, commit id,
    /// time). The first row written wins, so rows keep their order.
    Commit,
}

impl Append {
    pub const ALL: [Append; 2] = [Append::Change, Append::Commit];

    pub fn table(self) -> &'static str {
        match self {
            Append::Change => "changes",
            Append::Commit => "dora_commits",
        }
    }

    /// The columns a row gives, in order.
    pub fn columns(self) -> &'static [(&'static str, ColumnKind)] {
        use ColumnKind::{Int, Text};
        match self {
            Append::Change => &[
                ("account_id", Int),
                ("app_id", Int),
                ("event_id", Int),
                ("at_ms", Int),
                ("kind", Text),
                ("actor", Text),
                ("fields", Text),
            ],
            Append::Commit => &[("app_id", Int), ("commit_id", Text), ("first_seen_ms", Int)],
        }
    }

    /// What the insert does with a row whose key is already there.
    pub fn on_conflict(self) -> &'static str {
        match self {
            Append::Change => "",
            Append::Commit => " ON CONFLICT DO NOTHING",
        }
    }

    /// `col, col, …` of [`Append::columns`].
    pub fn column_list(self) -> String {
        let names: Vec<_> = self.columns().iter().map(|(name, _)| *name).collect();
        names.join(", ")
    }

    /// The one-row insert.
    pub fn insert_sql(self) -> &'static str {
        static SQL: LazyLock<[String; 2]> = LazyLock::new(|| {
            Append::ALL.map(|table| {
                let placeholders: Vec<_> = (1..=table.columns().len())
                    .map(|i| format!("${i}"))
                    .collect();
                format!(
                    "INSERT INTO {} ({}) VALUES ({}){}",
                    table.table(),
                    table.column_list(),
                    placeholders.join(", "),
                    table.on_conflict()
                )
            })
        });
        &SQL[self as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_table_has_its_own_insert() {
        assert_eq!(
            Append::Change.insert_sql(),
            "INSERT INTO changes (account_id, app_id, event_id, at_ms, kind, actor, fields) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)"
        );
        assert_eq!(
            Append::Commit.insert_sql(),
            "INSERT INTO dora_commits (app_id, commit_id, first_seen_ms) \
             VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
        );
    }
}
