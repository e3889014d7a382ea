//! The SQLite schema, versioned. The PostgreSQL store keeps the same list of
//! versions in its own folder.

use rusqlite::{Connection, OptionalExtension};

use super::config_error;
use shiplog_store::{Result, StoreError};

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_init.sql")),
    (2, include_str!("../migrations/0002_changes.sql")),
    (3, include_str!("../migrations/0003_dora.sql")),
    (4, include_str!("../migrations/0004_idempotency.sql")),
    (5, include_str!("../migrations/0005_hooks.sql")),
    (6, include_str!("../migrations/0006_webhooks.sql")),
    (9, include_str!("../migrations/0009_sessions.sql")),
];

/// The versions this build knows, in order.
pub const VERSIONS: &[i64] = &[1, 2, 3, 4, 5, 6, 9];

/// Applies every migration not yet applied, each in its own transaction,
/// and returns the marker secret (made on first start).
pub fn run(conn: &Connection) -> Result<Vec<u8>> {
    debug_assert_eq!(
        MIGRATIONS.iter().map(|(v, _)| *v).collect::<Vec<_>>(),
        VERSIONS
    );
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_ms INTEGER NOT NULL)",
    )
    .map_err(config_error)?;
    for (version, sql) in MIGRATIONS {
        let tx = conn.unchecked_transaction().map_err(config_error)?;
        let applied = tx
            .query_row(
                "SELECT 1 FROM schema_migrations WHERE version = ?1",
                [version],
                |_| Ok(()),
            )
            .optional()
            .map_err(config_error)?
            .is_some();
        if !applied {
            tx.execute_batch(sql)
                .map_err(|err| StoreError::Config(format!("migration {version} failed: {err}")))?;
            tx.execute(
                "INSERT INTO schema_migrations (version, applied_ms) VALUES (?1, ?2)",
                rusqlite::params![version, shiplog_domain::Timestamp::now().millis()],
            )
            .map_err(config_error)?;
        }
        tx.commit().map_err(config_error)?;
    }
    conn.execute(
        "INSERT OR IGNORE INTO settings (key, value) VALUES ('marker_secret', ?1)",
        [shiplog_domain::token::random_alnum(48).into_bytes()],
    )
    .map_err(config_error)?;
    conn.query_row(
        "SELECT value FROM settings WHERE key = 'marker_secret'",
        [],
        |row| row.get(0),
    )
    .map_err(config_error)
}
