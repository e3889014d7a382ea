//! A pool of read connections. In WAL mode readers see the last commit and
//! never wait for the writer.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;

use rusqlite::Connection;
use tokio::sync::Semaphore;

use crate::{Result, StoreError};

pub struct Readers {
    idle: Mutex<Vec<Connection>>,
    permits: Semaphore,
}

impl Readers {
    pub fn new(connections: Vec<Connection>) -> Readers {
        Readers {
            permits: Semaphore::new(connections.len()),
            idle: Mutex::new(connections),
        }
    }

    /// Connections not in use now.
    pub fn idle(&self) -> usize {
        self.permits.available_permits()
    }

    /// Runs `work` on an idle connection, on a blocking thread.
    pub async fn read<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| StoreError::Unavailable("the store is closed".into()))?;
        let conn = self
            .idle
            .lock()
            .expect("reader pool lock")
            .pop()
            .expect("one idle connection per permit");
        let (conn, result) = tokio::task::spawn_blocking(move || {
            let result = catch_unwind(AssertUnwindSafe(|| work(&conn)))
                .unwrap_or_else(|_| Err(StoreError::Internal("a read panicked".into())));
            (conn, result)
        })
        .await
        .map_err(|err| StoreError::Internal(format!("read task failed: {err}")))?;
        self.idle.lock().expect("reader pool lock").push(conn);
        result
    }
}
