//! The reads' connections: taken in turn, and kept out of the pool between
//! reads that ran to the end.
//!
//! The pool pings every connection given back to it, for it cannot know
//! whether the last query on it ran to the end (a request abandoned midway
//! leaves one mid-answer). On the hot reads that ping is a round trip as
//! dear as the read itself. A read that ran to the end knows its
//! connection is idle and keeps it here instead, for the next read to take
//! without the pool; one abandoned midway is simply dropped, and the pool
//! checks it as before. Reads wait their turn here, first come first
//! served, and never more of them at once than the pool can serve beside
//! the writer: so a kept connection goes to the read that waited longest,
//! and a read never waits in the pool's own queue for one kept here.

use std::sync::Mutex;
use std::time::Instant;

use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, PgPool, Postgres};
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::{POOL_SIZE, db_error, known_alive};
use shiplog_store::Result;

/// Reads at once: the pool's size less the writer's connection and one to
/// spare for it when it reconnects.
const READS_AT_ONCE: usize = POOL_SIZE as usize - 2;

pub(crate) struct ReadConns {
    turns: Semaphore,
    /// The newest last.
    kept: Mutex<Vec<Kept>>,
}

struct Kept {
    conn: PoolConnection<Postgres>,
    since: Instant,
}

/// A read's connection, for as long as its turn lasts.
pub(crate) struct ReadConn<'a> {
    conn: PoolConnection<Postgres>,
    conns: &'a ReadConns,
    _turn: SemaphorePermit<'a>,
}

impl Default for ReadConns {
    fn default() -> Self {
        ReadConns {
            turns: Semaphore::new(READS_AT_ONCE),
            kept: Mutex::new(Vec::with_capacity(READS_AT_ONCE)),
        }
    }
}

impl ReadConns {
    /// Waits for a turn, then takes the connection kept last if it was kept
    /// recently enough to be known alive, or one from the pool. Older ones
    /// go back to the pool, which checks them.
    pub(crate) async fn get(&self, pool: &PgPool) -> Result<ReadConn<'_>> {
        let turn = self
            .turns
            .acquire()
            .await
            .expect("the semaphore is never closed");
        let conn = match self.take_fresh() {
            Some(conn) => conn,
            None => pool.acquire().await.map_err(db_error)?,
        };
        Ok(ReadConn {
            conn,
            conns: self,
            _turn: turn,
        })
    }

    fn take_fresh(&self) -> Option<PoolConnection<Postgres>> {
        let mut kept = self.kept.lock().unwrap_or_else(|err| err.into_inner());
        let newest = kept.pop()?;
        if known_alive(newest.since.elapsed()) {
            return Some(newest.conn);
        }
        // Kept longer than the newest: stale as well.
        let stale = std::mem::take(&mut *kept);
        drop(kept);
        drop(stale);
        None
    }

    /// How many are kept now, idle.
    pub(crate) fn kept(&self) -> usize {
        self.kept
            .lock()
            .unwrap_or_else(|err| err.into_inner())
            .len()
    }
}

impl ReadConn<'_> {
    /// Keeps the connection for the next read: the caller's last query on
    /// it ran to the end, so it is idle. (Dropped instead, it goes back to
    /// the pool.)
    pub(crate) fn keep(self) {
        let mut kept = self
            .conns
            .kept
            .lock()
            .unwrap_or_else(|err| err.into_inner());
        kept.push(Kept {
            conn: self.conn,
            since: Instant::now(),
        });
    }

    /// Takes the connection out of the pool for good.
    pub(crate) fn detach(self) -> PgConnection {
        self.conn.detach()
    }
}

impl std::ops::Deref for ReadConn<'_> {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for ReadConn<'_> {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.conn
    }
}
