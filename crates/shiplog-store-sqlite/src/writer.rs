//! The single SQLite writer, with group commit.
//!
//! Every write is a job sent to one thread that owns the only writing
//! connection. The thread takes all jobs waiting, runs each inside its own
//! savepoint of one transaction, commits once (`synchronous=FULL`), and only
//! then answers each job. Under load many writes share one fsync; a job that
//! fails rolls back its savepoint without disturbing the others.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::thread;

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use shiplog_store::db::run_ready;
use shiplog_store::signal::ChangeSignal;
use shiplog_store::{Result, StoreError, webhooks};

use crate::tx::SqliteConn;

/// The most jobs one transaction takes: bounds the latency of the batch.
const MAX_BATCH: usize = 256;

type Reply = Box<dyn FnOnce(Result<()>) + Send>;
/// A job runs its work on the connection it is given, or, given none, fails
/// without running.
type Job = Box<dyn FnOnce(Option<&mut Connection>) -> (bool, Reply) + Send>;

pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer thread on `conn`; at most `queue` jobs wait at once.
    /// Each commit bumps `signal`.
    pub fn start(conn: Connection, queue: usize, signal: ChangeSignal) -> Writer {
        let (jobs, receiver) = mpsc::channel(queue);
        thread::Builder::new()
            .name("shiplog-sqlite-writer".into())
            .spawn(move || run(conn, receiver, signal))
            .expect("spawn the writer thread");
        Writer { jobs }
    }

    /// Runs `work` in the next transaction and answers once it is committed.
    pub async fn write<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let (sender, receiver) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let result = match conn {
                Some(conn) => catch_unwind(AssertUnwindSafe(|| work(conn)))
                    .unwrap_or_else(|_| Err(StoreError::Internal("a write panicked".into()))),
                None => Err(StoreError::Unavailable(
                    "the transaction could not start".into(),
                )),
            };
            let ok = result.is_ok();
            let reply: Reply = Box::new(move |commit| {
                let _ = sender.send(commit.and(result));
            });
            (ok, reply)
        });
        self.jobs.try_send(job).map_err(|err| match err {
            mpsc::error::TrySendError::Full(_) => StoreError::Overloaded,
            mpsc::error::TrySendError::Closed(_) => {
                StoreError::Unavailable("the writer has stopped".into())
            }
        })?;
        receiver
            .await
            .map_err(|_| StoreError::Unavailable("the writer has stopped".into()))?
    }
}

fn run(mut conn: Connection, mut receiver: mpsc::Receiver<Job>, signal: ChangeSignal) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut replies = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = receiver.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        metrics::histogram!("shiplog_writer_batch_size").record(batch.len() as f64);
        // Changes past this id are the batch's, queued for the webhooks
        // once before the commit.
        let begun = run_cached(&conn, "BEGIN IMMEDIATE").and_then(|_| {
            conn.prepare_cached(webhooks::LAST_CHANGE_ID)?
                .query_row([], |row| row.get::<_, i64>(0))
        });
        let last_change = match begun {
            Ok(id) => id,
            Err(err) => {
                let failure = unavailable(&err);
                for job in batch.drain(..) {
                    let (_, reply) = job(None);
                    reply(Err(failure.clone()));
                }
                let _ = conn.execute_batch("ROLLBACK");
                continue;
            }
        };
        // A lone job needs no savepoint: its failure rolls back the whole
        // transaction, which holds nothing else.
        let lone = batch.len() == 1;
        let mut any_ok = false;
        // Set when the transaction may hold writes of a job that failed:
        // then it is rolled back whole and no job is acknowledged.
        let mut roll_back = false;
        for job in batch.drain(..) {
            if !lone && run_cached(&conn, "SAVEPOINT job").is_err() {
                // A job whose failure could not be undone alone does not run.
                let (_, reply) = job(None);
                replies.push(reply);
                continue;
            }
            let (ok, reply) = job(Some(&mut conn));
            any_ok |= ok;
            if lone {
                roll_back = !ok;
            } else {
                let end = if ok {
                    run_cached(&conn, "RELEASE job")
                } else {
                    run_cached(&conn, "ROLLBACK TO job")
                        .and_then(|_| run_cached(&conn, "RELEASE job"))
                };
                if let Err(err) = end {
                    tracing::error!(error = %err, "ending a savepoint failed; the batch is rolled back");
                    roll_back = true;
                }
            }
            replies.push(reply);
        }
        // The outbox is derived from the batch's changes: without it the
        // batch is not committed.
        let mut queued = true;
        if any_ok && !roll_back {
            let mut tx = SqliteConn(&mut conn);
            if let Err(err) = run_ready(webhooks::enqueue_since(&mut tx, last_change)) {
                tracing::error!(error = %err, "queueing a batch's changes for the webhooks failed");
                queued = false;
                roll_back = true;
            }
        }
        let end = if roll_back { "ROLLBACK" } else { "COMMIT" };
        let commit = run_cached(&conn, end).map_err(|err| {
            let _ = conn.execute_batch("ROLLBACK");
            unavailable(&err)
        });
        // A lone job's rollback is its own failure, answered as such; a
        // batch rolled back for a broken savepoint acknowledges nothing.
        let commit = match commit {
            Ok(()) if roll_back && (!lone || !queued) => Err(StoreError::Unavailable(
                "a write batch was rolled back".into(),
            )),
            other => other,
        };
        if commit.is_ok() {
            signal.bump();
        }
        for reply in replies.drain(..) {
            reply(commit.clone());
        }
    }
}

/// Runs a statement without parameters, prepared once per connection.
fn run_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

fn unavailable(err: &rusqlite::Error) -> StoreError {
    tracing::error!(error = %err, "SQLite transaction failed");
    StoreError::Unavailable(err.to_string())
}
