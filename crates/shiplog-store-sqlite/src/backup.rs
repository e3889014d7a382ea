//! A consistent copy of a store while it serves writes.
//!
//! `VACUUM INTO` reads the database inside one read transaction, so in WAL
//! mode it sees one committed state and holds the writer back not at all;
//! the copy is compact, has no WAL beside it and opens like any store. A
//! file copy instead could catch the database between a commit and its
//! checkpoint.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};
use shiplog_store::{Result, StoreError};

/// Writes a copy of the store at `source` to `destination`, which must not
/// exist. The copy is written beside it under another name and renamed
/// once complete, so `destination` never holds half a copy.
pub fn backup(source: &Path, destination: &Path) -> Result<()> {
    if destination.exists() {
        return Err(StoreError::Config(format!(
            "{} exists already: name a new file",
            destination.display()
        )));
    }
    if !source.is_file() {
        return Err(StoreError::Config(format!(
            "no SQLite database at {}",
            source.display()
        )));
    }
    let conn = Connection::open_with_flags(
        source,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(backup_error)?;
    // The server's checkpointer may hold the database for a moment.
    conn.busy_timeout(std::time::Duration::from_secs(30))
        .map_err(backup_error)?;
    let is_store: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations')",
            [],
            |row| row.get(0),
        )
        .map_err(backup_error)?;
    if !is_store {
        return Err(StoreError::Config(format!(
            "{} is not a shiplog database",
            source.display()
        )));
    }
    let partial = partial_path(destination);
    let _ = std::fs::remove_file(&partial);
    let written = conn
        .execute("VACUUM INTO ?1", [partial.to_string_lossy()])
        .map_err(backup_error)
        .and_then(|_| {
            std::fs::rename(&partial, destination).map_err(|err| {
                StoreError::Config(format!("cannot write {}: {err}", destination.display()))
            })
        });
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    written
}

fn partial_path(destination: &Path) -> PathBuf {
    let mut name = destination.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

fn backup_error(err: rusqlite::Error) -> StoreError {
    StoreError::Config(format!("backup failed: {err}"))
}
