//! The PostgreSQL writer of one instance, with group commit.
//!
//! Writes wait in a bounded queue; one task takes all that wait, runs each in
//! its own savepoint of one transaction and commits once, answering each
//! write only after the commit. Event writes share what they hold
//! ([`Held`]), written before any other write runs and before the commit. Every write transaction first takes a
//! transaction-level advisory lock, so the writers of all instances commit
//! one batch at a time and event ids (from a sequence) increase in commit
//! order: a reader that has seen id N will never later find a smaller new id.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::time::Duration;

use futures_util::FutureExt;
use sqlx::{PgConnection, PgPool};
use tokio::sync::{mpsc, oneshot};

use super::db_error;
use crate::batch::{BatchConn, Held};
use crate::tx::PgConn;
use shiplog_store::signal::ChangeSignal;
use shiplog_store::{Result, StoreError, webhooks};
use sqlx::{Executor, Row};

/// The most writes one transaction takes.
const MAX_BATCH: usize = 256;
/// A batch that takes longer is abandoned (rolled back) and its writes
/// answered 503, so an unreachable database never hangs a request.
const BATCH_TIMEOUT: Duration = Duration::from_secs(10);
/// The advisory lock that orders write transactions across instances
/// (key 0x5348_4950_4c4f_4731, "SHIPLOG1").
const LOCK: &str = "SELECT pg_advisory_xact_lock(6001127112697661233)";
/// The channel a commit notifies, so that every instance's followers of the
/// change record wake up.
pub const CHANGES_CHANNEL: &str = "shiplog_changes";

type BoxFuture<'c, T> = Pin<Box<dyn Future<Output = T> + Send + 'c>>;
type Reply = Box<dyn FnOnce(Result<()>) + Send>;
/// A job runs its work in the batch it is given or, given none, fails
/// without running.
type Run = Box<dyn for<'c> FnOnce(Option<&'c mut Batch>) -> BoxFuture<'c, (bool, Reply)> + Send>;

struct Job {
    /// Whether the job runs on a [`BatchConn`], sharing what the batch holds.
    event_write: bool,
    run: Run,
}

/// The open transaction of a batch, with what its event writes hold.
pub struct Batch {
    tx: sqlx::Transaction<'static, sqlx::Postgres>,
    held: Held,
}

pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Each commit bumps `signal` here and notifies the other instances.
    pub fn start(pool: PgPool, queue: usize, signal: ChangeSignal) -> Writer {
        let (jobs, receiver) = mpsc::channel(queue);
        tokio::spawn(run(pool, receiver, signal));
        Writer { jobs }
    }

    /// Runs `work` in the next transaction; answers once it is committed.
    pub async fn write<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, Result<T>> + Send + 'static,
    {
        self.submit(false, move |batch| work(&mut batch.tx)).await
    }

    /// Runs the event write `work` in the next transaction, on a connection
    /// that holds its appended rows for the batch; answers once committed.
    pub async fn write_events<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(BatchConn<'c>) -> BoxFuture<'c, Result<T>> + Send + 'static,
    {
        self.submit(true, move |batch| {
            work(BatchConn {
                conn: &mut batch.tx,
                held: &mut batch.held,
            })
        })
        .await
    }

    async fn submit<T, F>(&self, event_write: bool, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Batch) -> BoxFuture<'c, Result<T>> + Send + 'static,
    {
        let (sender, receiver) = oneshot::channel();
        let run: Run = Box::new(move |batch| {
            Box::pin(async move {
                let result = match batch {
                    Some(batch) => AssertUnwindSafe(work(batch))
                        .catch_unwind()
                        .await
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
            })
        });
        let job = Job { event_write, run };
        self.jobs.try_send(job).map_err(|err| match err {
            mpsc::error::TrySendError::Full(_) => StoreError::Overloaded,
            mpsc::error::TrySendError::Closed(_) => {
                StoreError::Unavailable("the writer has stopped".into())
            }
        })?;
        // A dropped reply (an abandoned batch) means the outcome is unknown:
        // the write was not acknowledged.
        receiver
            .await
            .map_err(|_| StoreError::Unavailable("the write did not complete".into()))?
    }
}

async fn run(pool: PgPool, mut receiver: mpsc::Receiver<Job>, signal: ChangeSignal) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = receiver.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let jobs = std::mem::take(&mut batch);
        metrics::histogram!("shiplog_writer_batch_size").record(jobs.len() as f64);
        match tokio::time::timeout(BATCH_TIMEOUT, run_batch(&pool, jobs)).await {
            Ok(true) => signal.bump(),
            Ok(false) => {}
            Err(_) => tracing::warn!("a write batch timed out and was rolled back"),
        }
    }
}

/// Runs a batch in one transaction; true if it committed any write.
///
/// Round trips are what a batch costs here, so the savepoint statements
/// between two jobs travel together (`RELEASE …; SAVEPOINT …` in one simple
/// query), the first savepoint travels with the write lock, a lone job
/// runs without one (its failure rolls back the transaction, which holds
/// nothing else), and the rows event writes append are written together.
async fn run_batch(pool: &PgPool, jobs: Vec<Job>) -> bool {
    let lone = jobs.len() == 1;
    let (tx, last_change) = match begin(pool, !lone).await {
        Ok(begun) => begun,
        Err(err) => {
            for job in jobs {
                let (_, reply) = (job.run)(None).await;
                reply(Err(err.clone()));
            }
            return false;
        }
    };
    let mut batch = Batch {
        tx,
        held: Held::default(),
    };
    let mut any_ok = false;
    let mut replies = Vec::with_capacity(jobs.len());
    let count = jobs.len();
    // Whether the savepoint `job` is set for the next job.
    let mut savepoint = !lone;
    let mut jobs = jobs.into_iter().enumerate();
    while let Some((index, job)) = jobs.next() {
        if !lone && !savepoint {
            // A job whose failure could not be undone alone does not run.
            let (_, reply) = (job.run)(None).await;
            replies.push(reply);
            savepoint = (&mut *batch.tx).execute("SAVEPOINT job").await.is_ok();
            continue;
        }
        if !job.event_write
            && let Err(err) = batch.held.write(&mut batch.tx).await
        {
            // The rows of writes already run are not stored: none is kept.
            tracing::error!(error = %err, "writing a batch's appended rows failed");
            replies.push((job.run)(None).await.1);
            for (_, job) in jobs {
                replies.push((job.run)(None).await.1);
            }
            abandon(batch, replies).await;
            return false;
        }
        let mark = batch.held.mark();
        let (ok, reply) = (job.run)(Some(&mut batch)).await;
        any_ok |= ok;
        replies.push(reply);
        if !ok {
            // Its savepoint is rolled back below; so are the rows it held.
            batch.held.undo_to(mark);
        }
        if lone {
            if !ok {
                // Nothing of the transaction is to be kept.
                let _ = batch.tx.rollback().await;
                for reply in replies {
                    reply(Ok(()));
                }
                return false;
            }
            continue;
        }
        let last = index + 1 == count;
        // A failed job's writes are undone; the savepoint stays set for the
        // next job. A kept job's are released into the transaction, and the
        // next job gets a savepoint of its own. The last needs neither:
        // COMMIT keeps what is not rolled back.
        let end = match (ok, last) {
            (true, true) => None,
            (true, false) => Some("RELEASE SAVEPOINT job; SAVEPOINT job"),
            (false, _) => Some("ROLLBACK TO SAVEPOINT job"),
        };
        if let Some(end) = end
            && let Err(err) = (&mut *batch.tx).execute(end).await
        {
            tracing::warn!(error = %err, "ending a savepoint failed");
            savepoint = false;
        }
    }
    if any_ok {
        // The outbox is derived from the batch's changes, in its
        // transaction: if writing or queueing them fails, nothing is
        // acknowledged.
        let queued = match batch.held.write(&mut batch.tx).await {
            Ok(()) => webhooks::enqueue_since(&mut PgConn(&mut batch.tx), last_change).await,
            Err(err) => Err(err),
        };
        if let Err(err) = queued {
            tracing::error!(error = %err, "storing or queueing a batch's changes failed");
            abandon(batch, replies).await;
            return false;
        }
        // Delivered to the listeners of every instance when, and only if,
        // the transaction commits.
        let notify = sqlx::query("SELECT pg_notify($1, '')")
            .bind(CHANGES_CHANNEL)
            .execute(&mut *batch.tx)
            .await;
        if let Err(err) = notify {
            tracing::warn!(error = %err, "notifying the other instances failed");
        }
    }
    let commit = batch.tx.commit().await.map_err(db_error);
    let committed = any_ok && commit.is_ok();
    for reply in replies {
        reply(commit.clone());
    }
    committed
}

/// Rolls a batch back and answers each of its writes that it was not kept.
async fn abandon(batch: Batch, replies: Vec<Reply>) {
    let _ = batch.tx.rollback().await;
    for reply in replies {
        reply(Err(StoreError::Unavailable(
            "a write batch was rolled back".into(),
        )));
    }
}

/// Opens the batch's transaction, takes the write lock and reads the last
/// change id (the batch's changes come after it), setting the first job's
/// savepoint in the same round trip when `savepoint`. Each statement of a
/// simple query reads its own snapshot, so the id is read after the lock
/// is held.
async fn begin(
    pool: &PgPool,
    savepoint: bool,
) -> Result<(sqlx::Transaction<'static, sqlx::Postgres>, i64)> {
    let mut tx = pool.begin().await.map_err(db_error)?;
    let mut sql = format!("{LOCK}; {}", webhooks::LAST_CHANGE_ID);
    if savepoint {
        sql.push_str("; SAVEPOINT job");
    }
    let rows = (&mut *tx).fetch_all(sql.as_str()).await.map_err(db_error)?;
    let last_change = match rows.last() {
        Some(row) => row.try_get::<i64, _>(0).map_err(db_error)?,
        None => return Err(StoreError::Internal("no last change id".into())),
    };
    Ok((tx, last_change))
}
