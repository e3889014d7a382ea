//! The PostgreSQL schema, versioned like the SQLite one (same versions).

use sqlx::{Connection, PgPool, Row};

use super::db_error;
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

/// A session-level advisory lock serialises instances starting at once.
const MIGRATION_LOCK: i64 = 0x5348_4950_4c4f_4730;

/// Applies every migration not yet applied and returns the marker secret.
pub async fn run(pool: &PgPool) -> Result<Vec<u8>> {
    let mut conn = pool.acquire().await.map_err(db_error)?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    let result = apply(&mut conn).await;
    let unlock = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *conn)
        .await
        .map_err(db_error);
    let secret = result?;
    unlock?;
    Ok(secret)
}

async fn apply(conn: &mut sqlx::PgConnection) -> Result<Vec<u8>> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_ms BIGINT NOT NULL)",
    )
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    for (version, sql) in MIGRATIONS {
        let mut tx = conn.begin().await.map_err(db_error)?;
        let applied = sqlx::query("SELECT 1 FROM schema_migrations WHERE version = $1")
            .bind(version)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?
            .is_some();
        if !applied {
            sqlx::raw_sql(sql)
                .execute(&mut *tx)
                .await
                .map_err(|err| StoreError::Config(format!("migration {version} failed: {err}")))?;
            sqlx::query("INSERT INTO schema_migrations (version, applied_ms) VALUES ($1, $2)")
                .bind(version)
                .bind(shiplog_domain::Timestamp::now().millis())
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)?;
    }
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES ('marker_secret', $1) ON CONFLICT (key) DO NOTHING",
    )
    .bind(shiplog_domain::token::random_alnum(48).into_bytes())
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    let row = sqlx::query("SELECT value FROM settings WHERE key = 'marker_secret'")
        .fetch_one(&mut *conn)
        .await
        .map_err(db_error)?;
    row.try_get(0).map_err(db_error)
}
