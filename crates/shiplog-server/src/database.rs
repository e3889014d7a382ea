//! Which store backs the server, decided once from the database URL's scheme.

use std::sync::Arc;

use shiplog_store::{Result, Store, StoreError};
use shiplog_store_postgres::PostgresStore;
use shiplog_store_sqlite::SqliteStore;

/// Opens the store a database URL names: `sqlite://PATH` (or a bare path),
/// or `postgres://…` (also `postgresql://…`).
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Arc::new(PostgresStore::open(url).await?));
    }
    if url.contains("://") && !url.starts_with("sqlite://") {
        return Err(StoreError::Config(format!(
            "unsupported database URL scheme in {url:?}: expected sqlite://PATH or postgres://…"
        )));
    }
    let path = url.strip_prefix("sqlite://").unwrap_or(url);
    Ok(Arc::new(SqliteStore::open(path.as_ref()).await?))
}
