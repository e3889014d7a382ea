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
    (7, include_str!("../migrations/0007_access.sql")),
    (8, include_str!("../migrations/0008_retention.sql")),
    (9, include_str!("../migrations/0009_sessions.sql")),
    (10, include_str!("../migrations/0010_auth_generation.sql")),
];

/// The versions this build knows, in order.
pub const VERSIONS: &[i64] = &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_memberships_made_before_levels_keep_every_right() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_ms INTEGER NOT NULL)",
        )
        .unwrap();
        for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v < 7) {
            conn.execute_batch(sql).unwrap();
            conn.execute(
                "INSERT INTO schema_migrations (version, applied_ms) VALUES (?1, 0)",
                [version],
            )
            .unwrap();
        }
        conn.execute_batch(
            "INSERT INTO users (id, name, created_ms) VALUES (1, 'team', 0), (2, 'ci', 0);
             INSERT INTO tokens (user_id, hash, created_ms) VALUES (2, x'00', 0);
             INSERT INTO memberships (account_id, user_id) VALUES (1, 2);",
        )
        .unwrap();
        run(&conn).unwrap();
        let levels: (String, String) = conn
            .query_row(
                "SELECT t.scope, m.role FROM tokens t JOIN memberships m ON m.user_id = t.user_id",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .unwrap();
        assert_eq!(levels, ("admin".to_owned(), "admin".to_owned()));
        let bad = conn.execute(
            "UPDATE memberships SET role = 'owner' WHERE user_id = 2",
            [],
        );
        assert!(bad.is_err(), "only the three levels are stored");
    }
}
