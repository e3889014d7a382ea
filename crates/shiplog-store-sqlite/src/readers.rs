//! A pool of read connections. In WAL mode readers see the last commit and
//! never wait for the writer.
//!
//! A read runs inline on the calling task's thread: the queries it serves
//! (a token lookup, one page of an index range) take microseconds, far less
//! than handing them to another thread and back would cost.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;

use rusqlite::Connection;

use shiplog_store::{Result, StoreError};

pub struct Readers {
    idle: Mutex<Vec<Connection>>,
    /// Opens another connection when every pooled one is in use.
    open: Box<dyn Fn() -> Result<Connection> + Send + Sync>,
    size: usize,
}

impl Readers {
    pub fn new(
        connections: Vec<Connection>,
        open: impl Fn() -> Result<Connection> + Send + Sync + 'static,
    ) -> Readers {
        Readers {
            size: connections.len(),
            idle: Mutex::new(connections),
            open: Box::new(open),
        }
    }

    /// Connections pooled, and of those not in use now.
    pub fn status(&self) -> (usize, usize) {
        let idle = self.idle.lock().expect("reader pool lock").len();
        (self.size, idle)
    }

    /// Runs `work` on an idle connection, here and now.
    pub fn read<T, F>(&self, work: F) -> Result<T>
    where
        F: FnOnce(&mut Connection) -> Result<T>,
    {
        let pooled = self.idle.lock().expect("reader pool lock").pop();
        let mut conn = match pooled {
            Some(conn) => conn,
            None => (self.open)()?,
        };
        let result = catch_unwind(AssertUnwindSafe(|| work(&mut conn)))
            .unwrap_or_else(|_| Err(StoreError::Internal("a read panicked".into())));
        let mut idle = self.idle.lock().expect("reader pool lock");
        if idle.len() < self.size {
            idle.push(conn);
        }
        result
    }
}
