//! The PostgreSQL writer of one instance, with group commit.
//!
//! Writes wait in a bounded queue; one task takes all that wait, runs them
//! in one transaction and commits once, answering each write only after the
//! commit. Every write transaction first takes a transaction-level advisory
//! lock, so the writers of all instances commit one batch at a time and
//! event ids (from a sequence) increase in commit order: a reader that has
//! seen id N will never later find a smaller new id.
//!
//! Round trips are what a batch costs, so a batch of event writes only
//! runs them one after the other, with nothing between them: their events,
//! changes and commit rows are held and written together ([`Held`]), and
//! no savepoint is set. A write that fails before it changed anything leaves
//! nothing to undo; one that fails after has the whole transaction rolled
//! back and the batch run again, each write in its own savepoint, as every
//! batch with another kind of write runs.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, PgPool, Postgres};
use tokio::sync::{mpsc, oneshot};

use super::{db_error, known_alive};
use crate::apps;
use crate::batch::{self, BatchConn, Held, RecentApps};
use crate::tx::PgConn;
use shiplog_store::columns::AppRow;
use shiplog_store::signal::{ChangeSignal, OUTBOX_TOUCHED};
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

/// The open transaction of a batch, with what its event writes hold.
pub struct Batch<'a> {
    tx: &'a mut WriterConn,
    held: Held,
}

/// The writer's connection. It is kept from one batch to the next while
/// batches follow closely: taken from the pool and given back for each
/// batch, it would cost a round trip each time (the pool pings what comes
/// back), and so would a `BEGIN` of its own. The writer opens and ends
/// transactions itself, `BEGIN` travelling with the write lock and `COMMIT`
/// with the notification. A connection dropped inside a transaction (a
/// batch abandoned or failed midway) is closed rather than returned to the
/// pool, and the server rolls its transaction back.
struct WriterConn {
    conn: PoolConnection<Postgres>,
    in_transaction: bool,
    last_used: Instant,
}

impl WriterConn {
    /// Whether it may serve the next batch: used recently enough to be
    /// known alive (one idle longer goes back to the pool, which checks it,
    /// and a fresh one is taken). One left in a transaction is never kept.
    fn reusable(&self) -> bool {
        known_alive(self.last_used.elapsed())
    }

    /// Ends the transaction, keeping nothing of it.
    async fn rollback(&mut self) {
        if (&mut *self.conn).execute("ROLLBACK").await.is_ok() {
            self.in_transaction = false;
        }
    }

    /// Runs `sql`, which ends the transaction with its last statement
    /// (`COMMIT`), as one simple query.
    async fn end(&mut self, sql: &str) -> Result<()> {
        (&mut *self.conn).execute(sql).await.map_err(db_error)?;
        self.in_transaction = false;
        self.last_used = Instant::now();
        Ok(())
    }
}

impl Drop for WriterConn {
    fn drop(&mut self) {
        if self.in_transaction {
            self.conn.close_on_drop();
        }
    }
}

impl std::ops::Deref for WriterConn {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for WriterConn {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.conn
    }
}

/// A write in the queue: its work, the outcome of its last run, and where
/// its answer goes.
trait Job: Send {
    /// Whether this is an event write: it runs on a [`BatchConn`], and may
    /// run again after a transaction that ran it was rolled back.
    fn event_write(&self) -> bool;
    /// Runs the work in `batch`, or, given none, fails without running;
    /// true if it succeeded.
    fn run<'c>(&'c mut self, batch: Option<&'c mut Batch<'_>>) -> BoxFuture<'c, bool>;
    /// Answers the write: the outcome of its last run if the transaction
    /// committed, else the commit's failure.
    fn answer(self: Box<Self>, commit: Result<()>);
}

/// What a write answers when it did not run.
fn not_run() -> StoreError {
    StoreError::Unavailable("the transaction could not start".into())
}

/// The outcome of a write's last run, and where it goes.
struct Answer<T> {
    outcome: Option<Result<T>>,
    sender: oneshot::Sender<Result<T>>,
}

impl<T> Answer<T> {
    fn new(sender: oneshot::Sender<Result<T>>) -> Answer<T> {
        Answer {
            outcome: None,
            sender,
        }
    }

    /// Keeps `outcome` (of the last run); true if it succeeded.
    fn keep(&mut self, outcome: Result<T>) -> bool {
        let ok = outcome.is_ok();
        self.outcome = Some(outcome);
        ok
    }

    fn send(self, commit: Result<()>) {
        let outcome = self.outcome.unwrap_or_else(|| Err(not_run()));
        let _ = self.sender.send(commit.and(outcome));
    }
}

/// A write that runs once, on the bare connection.
struct Once<T, F> {
    work: Option<F>,
    answer: Answer<T>,
}

impl<T, F> Job for Once<T, F>
where
    T: Send + 'static,
    F: for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, Result<T>> + Send + 'static,
{
    fn event_write(&self) -> bool {
        false
    }

    fn run<'c>(&'c mut self, batch: Option<&'c mut Batch<'_>>) -> BoxFuture<'c, bool> {
        Box::pin(async move {
            let outcome = match (batch, self.work.take()) {
                (Some(batch), Some(work)) => guarded(work(&mut *batch.tx)).await,
                _ => Err(not_run()),
            };
            self.answer.keep(outcome)
        })
    }

    fn answer(self: Box<Self>, commit: Result<()>) {
        self.answer.send(commit);
    }
}

/// An event write, which may run again.
struct Repeatable<T, F> {
    work: F,
    answer: Answer<T>,
}

impl<T, F> Job for Repeatable<T, F>
where
    T: Send + 'static,
    F: for<'c> Fn(BatchConn<'c>) -> BoxFuture<'c, Result<T>> + Send + 'static,
{
    fn event_write(&self) -> bool {
        true
    }

    fn run<'c>(&'c mut self, batch: Option<&'c mut Batch<'_>>) -> BoxFuture<'c, bool> {
        Box::pin(async move {
            let outcome = match batch {
                Some(batch) => {
                    let conn = BatchConn {
                        conn: &mut *batch.tx,
                        held: &mut batch.held,
                    };
                    guarded((self.work)(conn)).await
                }
                None => Err(not_run()),
            };
            self.answer.keep(outcome)
        })
    }

    fn answer(self: Box<Self>, commit: Result<()>) {
        self.answer.send(commit);
    }
}

/// `work`'s outcome, a panic in it included.
async fn guarded<T>(work: BoxFuture<'_, Result<T>>) -> Result<T> {
    AssertUnwindSafe(work)
        .catch_unwind()
        .await
        .unwrap_or_else(|_| Err(StoreError::Internal("a write panicked".into())))
}

pub struct Writer {
    jobs: mpsc::Sender<Box<dyn Job>>,
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
        let (sender, receiver) = oneshot::channel();
        let job = Once {
            work: Some(work),
            answer: Answer::new(sender),
        };
        self.submit(Box::new(job), receiver).await
    }

    /// Runs the event write `work` in the next transaction, on a connection
    /// that holds its appended rows for the batch; answers once committed.
    /// `work` may run more than once: only its last run is kept.
    pub async fn write_events<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> Fn(BatchConn<'c>) -> BoxFuture<'c, Result<T>> + Send + 'static,
    {
        let (sender, receiver) = oneshot::channel();
        let job = Repeatable {
            work,
            answer: Answer::new(sender),
        };
        self.submit(Box::new(job), receiver).await
    }

    async fn submit<T>(
        &self,
        job: Box<dyn Job>,
        receiver: oneshot::Receiver<Result<T>>,
    ) -> Result<T> {
        self.jobs.try_send(job).map_err(|err| match err {
            mpsc::error::TrySendError::Full(_) => StoreError::Overloaded,
            mpsc::error::TrySendError::Closed(_) => {
                StoreError::Unavailable("the writer has stopped".into())
            }
        })?;
        // A dropped answer (an abandoned batch) means the outcome is
        // unknown: the write was not acknowledged.
        receiver
            .await
            .map_err(|_| StoreError::Unavailable("the write did not complete".into()))?
    }
}

async fn run(pool: PgPool, mut receiver: mpsc::Receiver<Box<dyn Job>>, signal: ChangeSignal) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut kept: Option<WriterConn> = None;
    let mut recent_apps = RecentApps::default();
    while let Some(first) = receiver.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let mut jobs = std::mem::take(&mut batch);
        metrics::histogram!("shiplog_writer_batch_size").record(jobs.len() as f64);
        let conn = match kept.take().filter(WriterConn::reusable) {
            Some(conn) => Ok(conn),
            None => acquire(&pool).await,
        };
        let commit = match conn {
            Ok(mut conn) => {
                let commit = tokio::time::timeout(
                    BATCH_TIMEOUT,
                    run_batch(&mut conn, &mut jobs, &mut recent_apps),
                )
                .await
                .unwrap_or_else(|_| {
                    // Abandoned wherever it was, the commit included:
                    // its outcome is unknown, so no write of it is
                    // acknowledged.
                    tracing::warn!("a write batch timed out and was abandoned");
                    Err(StoreError::Unavailable("the write did not complete".into()))
                });
                // One still in a transaction is closed as it is dropped.
                kept = Some(conn).filter(|conn| !conn.in_transaction);
                commit
            }
            Err(err) => Err(err),
        };
        if let Ok(committed) = &commit
            && committed.changed
        {
            signal.committed(committed.outbox_touched);
        }
        for job in jobs {
            job.answer(commit.clone().map(|_| ()));
        }
    }
}

async fn acquire(pool: &PgPool) -> Result<WriterConn> {
    let conn = pool.acquire().await.map_err(db_error)?;
    Ok(WriterConn {
        conn,
        in_transaction: false,
        last_used: Instant::now(),
    })
}

/// What a committed batch did.
#[derive(Debug, Clone, Copy)]
struct Committed {
    /// It kept at least one write.
    changed: bool,
    /// It may have changed what the webhook outbox holds: it queued
    /// deliveries, or held a write other than an event write.
    outbox_touched: bool,
}

/// Runs a batch in one transaction on `conn`; an error if it was rolled
/// back whole.
async fn run_batch(
    conn: &mut WriterConn,
    jobs: &mut [Box<dyn Job>],
    recent_apps: &mut RecentApps,
) -> Result<Committed> {
    if jobs.len() > 1
        && jobs.iter().all(|job| job.event_write())
        && let Some(commit) = without_savepoints(conn, jobs, recent_apps).await
    {
        return commit;
    }
    with_savepoints(conn, jobs, recent_apps).await
}

/// Runs event writes one after the other, with no savepoint; `None` if one
/// failed after it may have changed something, and the transaction was
/// rolled back for the batch to run again.
async fn without_savepoints(
    conn: &mut WriterConn,
    jobs: &mut [Box<dyn Job>],
    recent_apps: &mut RecentApps,
) -> Option<Result<Committed>> {
    let begun = match begin(conn, false, jobs.len(), recent_apps.ids()).await {
        Ok(begun) => begun,
        Err(err) => return Some(Err(err)),
    };
    let mut held = Held::with_events(jobs.len(), begun.event_ids);
    held.know_apps(begun.apps);
    let last_change = begun.last_change;
    let mut batch = Batch { tx: conn, held };
    let mut any_ok = false;
    for job in jobs.iter_mut() {
        let mark = batch.held.start();
        if job.run(Some(&mut batch)).await {
            any_ok = true;
            continue;
        }
        batch.held.undo_to(mark);
        if batch.held.touched() {
            batch.tx.rollback().await;
            return None;
        }
    }
    Some(finish(batch, last_change, any_ok, false, recent_apps).await)
}

/// Runs each write in its own savepoint. The savepoint statements between
/// two writes travel together (`RELEASE …; SAVEPOINT …` in one simple
/// query), the first travels with the write lock, and a lone write runs
/// without one: its failure rolls back the transaction, which holds
/// nothing else.
async fn with_savepoints(
    conn: &mut WriterConn,
    jobs: &mut [Box<dyn Job>],
    recent_apps: &mut RecentApps,
) -> Result<Committed> {
    let lone = jobs.len() == 1;
    // Only event writes look apps up from what the batch knows.
    let known_apps = if jobs.iter().any(|job| job.event_write()) {
        recent_apps.ids()
    } else {
        &[]
    };
    let begun = begin(conn, !lone, 0, known_apps).await?;
    let last_change = begun.last_change;
    let mut held = Held::default();
    held.know_apps(begun.apps);
    let mut batch = Batch { tx: conn, held };
    let only_events = jobs.iter().all(|job| job.event_write());
    let mut any_ok = false;
    let count = jobs.len();
    // Whether the savepoint `job` is set for the next job.
    let mut savepoint = !lone;
    for (index, job) in jobs.iter_mut().enumerate() {
        if !lone && !savepoint {
            // A write whose failure could not be undone alone does not run.
            job.run(None).await;
            savepoint = (&mut **batch.tx).execute("SAVEPOINT job").await.is_ok();
            continue;
        }
        if !job.event_write()
            && let Err(err) = write_held_before(&mut batch).await
        {
            // The rows of the writes already run are not stored: none is kept.
            tracing::error!(error = %err, "writing a batch's appended rows failed");
            batch.tx.rollback().await;
            return Err(rolled_back());
        }
        let mark = batch.held.start();
        let ok = job.run(Some(&mut batch)).await;
        any_ok |= ok;
        if !ok {
            // Its savepoint is rolled back below; so are the rows it held.
            batch.held.undo_to(mark);
        }
        if lone {
            if !ok {
                // Nothing of the transaction is to be kept.
                batch.tx.rollback().await;
                return Ok(Committed {
                    changed: false,
                    outbox_touched: false,
                });
            }
            continue;
        }
        let last = index + 1 == count;
        // A failed write's statements are undone; the savepoint stays set
        // for the next. A kept write's are released into the transaction,
        // and the next gets a savepoint of its own. The last needs neither:
        // COMMIT keeps what is not rolled back.
        let end = match (ok, last) {
            (true, true) => None,
            (true, false) => Some("RELEASE SAVEPOINT job; SAVEPOINT job"),
            (false, _) => Some("ROLLBACK TO SAVEPOINT job"),
        };
        if let Some(end) = end
            && let Err(err) = (&mut **batch.tx).execute(end).await
        {
            tracing::warn!(error = %err, "ending a savepoint failed");
            savepoint = false;
        }
    }
    finish(batch, last_change, any_ok, !only_events, recent_apps).await
}

/// Writes what the batch holds before a write of another kind runs, in the
/// savepoint set for that write, then releases it and sets a fresh one:
/// that write's failure must not undo the rows of the writes before it.
async fn write_held_before(batch: &mut Batch<'_>) -> Result<()> {
    if batch.held.write(&mut *batch.tx).await? {
        (&mut *batch.tx)
            .execute("RELEASE SAVEPOINT job; SAVEPOINT job")
            .await
            .map_err(db_error)?;
    }
    Ok(())
}

/// Writes what the batch holds, queues its changes for the webhooks and
/// commits. `outbox_touched` says whether the batch's writes may have
/// changed the outbox themselves, besides queueing its changes.
async fn finish(
    batch: Batch<'_>,
    last_change: i64,
    any_ok: bool,
    outbox_touched: bool,
    recent_apps: &mut RecentApps,
) -> Result<Committed> {
    recent_apps.remember(batch.held.used_apps());
    if !any_ok {
        batch.tx.end("COMMIT").await?;
        return Ok(Committed {
            changed: false,
            outbox_touched: false,
        });
    }
    let Batch { tx, mut held } = batch;
    // The outbox is derived from the batch's changes, in its transaction:
    // if storing or queueing them fails, nothing is acknowledged.
    let queued = match held.write(&mut *tx).await {
        Ok(_) => webhooks::enqueue_since(&mut PgConn(&mut *tx), last_change).await,
        Err(err) => Err(err),
    };
    let queued = match queued {
        Ok(queued) => queued,
        Err(err) => {
            tracing::error!(error = %err, "storing or queueing a batch's changes failed");
            tx.rollback().await;
            return Err(rolled_back());
        }
    };
    let outbox_touched = outbox_touched || queued > 0;
    // Delivered to the listeners of every instance when, and only if, the
    // transaction commits; it travels with the COMMIT.
    let notify_and_commit = if outbox_touched {
        NOTIFY_OUTBOX_AND_COMMIT.as_str()
    } else {
        NOTIFY_AND_COMMIT.as_str()
    };
    tx.end(notify_and_commit).await?;
    Ok(Committed {
        changed: true,
        outbox_touched,
    })
}

/// The notification of a commit that may have changed the outbox (its
/// payload wakes the webhook workers), then the commit.
static NOTIFY_OUTBOX_AND_COMMIT: LazyLock<String> =
    LazyLock::new(|| format!("SELECT pg_notify('{CHANGES_CHANNEL}', '{OUTBOX_TOUCHED}'); COMMIT"));
/// The notification of a commit that only added changes, then the commit.
static NOTIFY_AND_COMMIT: LazyLock<String> =
    LazyLock::new(|| format!("SELECT pg_notify('{CHANGES_CHANNEL}', ''); COMMIT"));

fn rolled_back() -> StoreError {
    StoreError::Unavailable("a write batch was rolled back".into())
}

/// What a batch's first round trip read, under the write lock.
struct Begun {
    /// The last change id: the batch's changes come after it.
    last_change: i64,
    /// Ids taken for the batch's events.
    event_ids: Vec<i64>,
    /// The known apps that still exist, each with its account id.
    apps: Vec<(i64, AppRow)>,
}

/// Opens the batch's transaction on `conn`, takes the write lock and reads
/// the last change id, then, in the same round trip, takes `event_ids` ids
/// for the batch's events when more than zero, reads the apps of the ids
/// `known_apps`, and sets the first job's savepoint when `savepoint`. Each
/// statement of a simple query reads its own snapshot, so all is read, and
/// the new ids taken, after the lock is held.
async fn begin(
    conn: &mut WriterConn,
    savepoint: bool,
    event_ids: usize,
    known_apps: &[i64],
) -> Result<Begun> {
    let mut sql = format!("BEGIN; {LOCK}; {}", webhooks::LAST_CHANGE_ID);
    if event_ids > 0 {
        sql.push_str("; ");
        sql.push_str(&batch::take_event_ids(event_ids));
    }
    if !known_apps.is_empty() {
        sql.push_str("; ");
        sql.push_str(&apps::apps_by_id_sql(known_apps));
    }
    if savepoint {
        sql.push_str("; SAVEPOINT job");
    }
    // Set before the statement goes out: if it fails or is abandoned, the
    // connection may be in the transaction, and is not used again.
    conn.in_transaction = true;
    let rows = (&mut **conn)
        .fetch_all(sql.as_str())
        .await
        .map_err(db_error)?;
    let last_change = rows
        .iter()
        .find(|row| batch::first_column_is(row, "last_change_id"));
    let last_change = match last_change {
        Some(row) => row.try_get::<i64, _>(0).map_err(db_error)?,
        None => return Err(StoreError::Internal("no last change id".into())),
    };
    Ok(Begun {
        last_change,
        event_ids: batch::event_ids(&rows)?,
        apps: apps::apps_by_id(&rows)?,
    })
}
