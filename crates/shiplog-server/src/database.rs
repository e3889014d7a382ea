//! Which store backs the server, decided once from the database URL's scheme.

use std::path::PathBuf;
use std::sync::Arc;

use shiplog_store::{Result, Store, StoreError};
use shiplog_store_postgres::PostgresStore;
use shiplog_store_sqlite::SqliteStore;

/// A database URL, by its scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite://PATH` or a bare path.
    Sqlite(PathBuf),
    /// `postgres://…` or `postgresql://…`, as given.
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<DatabaseUrl> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(url.to_owned()));
        }
        if url.contains("://") && !url.starts_with("sqlite://") {
            return Err(StoreError::Config(format!(
                "unsupported database URL scheme in {url:?}: expected sqlite://PATH or postgres://…"
            )));
        }
        let path = url.strip_prefix("sqlite://").unwrap_or(url);
        Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
    }
}

/// Opens the store a database URL names: `sqlite://PATH` (or a bare path),
/// or `postgres://…` (also `postgresql://…`).
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    Ok(match DatabaseUrl::parse(url)? {
        DatabaseUrl::Postgres(url) => Arc::new(PostgresStore::open(&url).await?),
        DatabaseUrl::Sqlite(path) => Arc::new(SqliteStore::open(&path).await?),
    })
}

/// Copies a SQLite store, consistently, while it serves (see
/// [`shiplog_store_sqlite::backup`]). PostgreSQL has its own tools.
pub async fn backup(url: &str, destination: PathBuf) -> Result<()> {
    let source = match DatabaseUrl::parse(url)? {
        DatabaseUrl::Sqlite(path) => path,
        DatabaseUrl::Postgres(_) => {
            return Err(StoreError::Config(
                "`shiplog backup` copies a SQLite store; back up a PostgreSQL database with \
                 pg_dump (for example `pg_dump -Fc -f shiplog.dump DATABASE_URL`)"
                    .into(),
            ));
        }
    };
    tokio::task::spawn_blocking(move || shiplog_store_sqlite::backup(&source, &destination))
        .await
        .map_err(|err| StoreError::Internal(err.to_string()))?
}
