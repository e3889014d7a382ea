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
    (7, include_str!("../migrations/0007_access.sql")),
    (8, include_str!("../migrations/0008_retention.sql")),
    (9, include_str!("../migrations/0009_sessions.sql")),
    (10, include_str!("../migrations/0010_auth_generation.sql")),
];

/// The versions this build knows, in order.
pub const VERSIONS: &[i64] = &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::fresh_database;

    #[tokio::test]
    async fn tokens_and_memberships_made_before_levels_keep_every_right() {
        let Some(database) = fresh_database().await else {
            return;
        };
        let pool = PgPool::connect(&database.url).await.unwrap();
        let old = MIGRATIONS.iter().filter(|(version, _)| *version < 7);
        let mut setup = String::from(
            "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, applied_ms BIGINT NOT NULL);",
        );
        for (version, sql) in old {
            setup.push_str(sql);
            setup.push_str(&format!(
                ";INSERT INTO schema_migrations VALUES ({version}, 0);"
            ));
        }
        setup.push_str(
            "INSERT INTO users (name, created_ms) VALUES ('team', 0), ('ci', 0);
             INSERT INTO tokens (user_id, hash, created_ms)
                 SELECT id, '\\x00'::bytea, 0 FROM users WHERE name = 'ci';
             INSERT INTO memberships (account_id, user_id)
                 SELECT a.id, u.id FROM users a, users u WHERE a.name = 'team' AND u.name = 'ci';",
        );
        sqlx::raw_sql(&setup).execute(&pool).await.unwrap();

        run(&pool).await.unwrap();
        let levels: (String, String) = sqlx::query_as(
            "SELECT t.scope, m.role FROM tokens t JOIN memberships m ON m.user_id = t.user_id",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(levels, ("admin".to_owned(), "admin".to_owned()));
        // New rows must name their level.
        let unnamed = sqlx::query(
            "INSERT INTO tokens (user_id, hash, created_ms) \
             SELECT id, '\\x01'::bytea, 0 FROM users WHERE name = 'ci'",
        )
        .execute(&pool)
        .await;
        assert!(unnamed.is_err(), "a token without a scope is refused");
        pool.close().await;
    }
}
