//! Values on their way from SQLite to PostgreSQL: converted to the target
//! column's type, bound, read back, and summed into a checksum.

use rusqlite::types::ValueRef;
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::schema::quoted;

/// What a value becomes in PostgreSQL, by the column's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Int,
    Bool,
    Float,
    Text,
    Bytes,
}

impl Kind {
    pub(super) fn of(data_type: &str) -> Option<Kind> {
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
    pub(super) fn read_back(self, column: &str) -> String {
        let column = quoted(column);
        match self {
            Kind::Int => format!("{column}::bigint"),
            Kind::Float => format!("{column}::float8"),
            Kind::Text => format!("{column}::text"),
            Kind::Bool | Kind::Bytes => column,
        }
    }
}

/// A value on its way from SQLite to PostgreSQL.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Value {
    Null,
    Int(i64),
    Bool(bool),
    Float(f64),
    Text(String),
    Bytes(Vec<u8>),
}

impl Value {
    /// A SQLite value as the PostgreSQL column's type holds it.
    pub(super) fn convert(value: ValueRef<'_>, kind: Kind) -> Result<Value, String> {
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

    pub(super) fn bind<'q>(
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
pub(super) struct Tally {
    pub(super) rows: u64,
    pub(super) checksum: u128,
}

impl Tally {
    pub(super) fn add(&mut self, row: &[Value]) {
        let mut hasher = Sha256::new();
        row.iter().for_each(|value| value.digest(&mut hasher));
        let hash = hasher.finalize();
        let mut first = [0u8; 16];
        first.copy_from_slice(&hash[..16]);
        self.rows += 1;
        self.checksum = self.checksum.wrapping_add(u128::from_be_bytes(first));
    }
}

pub(super) fn read_back(
    row: &sqlx::postgres::PgRow,
    i: usize,
    kind: Kind,
) -> Result<Value, sqlx::Error> {
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
