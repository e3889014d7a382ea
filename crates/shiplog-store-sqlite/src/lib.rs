//! The SQLite store: one writer thread with group commit, a pool of readers,
//! WAL mode and `synchronous=FULL`, so an answered write survives a crash.

mod apps;
mod auth;
mod backup;
mod events;
mod migrations;
mod readers;
mod tx;
mod writer;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, ErrorCode, OpenFlags};
use shiplog_domain::input::{EventUpdate, NewEvent};
use shiplog_domain::resources::{App, AppUpdate, Env, NewApp, NewEnv};
use shiplog_domain::token::TokenHash;
use shiplog_domain::{Event, EventFilter, Level, PageRequest, ResourceName, Timestamp};

use readers::Readers;
use shiplog_api::hooks::{CdeventOut, DeliveryOut};
use shiplog_domain::{Actor, Change};
use shiplog_ingest::cdevents::incoming::Incoming;
use shiplog_ingest::{Delivery, Provider};
use shiplog_store::columns::ListedApp;
use shiplog_store::constraints::Unique;
use shiplog_store::db::run_ready;
use shiplog_store::members::{Member, MemberSet};
use shiplog_store::signal::ChangeSignal;
use shiplog_store::webhooks::{self, Attempt, AttemptRow, Claimed, Webhook, WebhookConfig};
use shiplog_store::{
    Access, Account, AuthCache, CommitStory, Lineage, PoolStatus, Result, Store, StoreError,
    TokenInfo, reads, write,
};
use shiplog_store::{IdempotencyKey, Keyed};
use shiplog_store::{cdevents, dora, hooks, members, retention, sessions};
use tx::SqliteConn;
use writer::Writer;

pub use backup::backup;
pub use migrations::VERSIONS as MIGRATION_VERSIONS;

/// Read connections kept open: one per core and some to spare.
const READERS: usize = 4;
/// Writes that may wait for the writer before new ones are refused: a few
/// full batches.
const WRITE_QUEUE: usize = 1024;
/// Prepared statements kept per connection: every list filter combination
/// at the usual page sizes fits.
const STATEMENT_CACHE: usize = 256;
/// Readers read the database through a memory map of its first GiB: a page
/// is then the kernel's cached page itself, not a `pread` into SQLite's own
/// cache of each connection. The mapped pages count in the resident size
/// only as far as the lists touch them (the newest rows and their index
/// pages); pages still in the WAL are read from it as before.
const READER_PRAGMAS: &str = "PRAGMA query_only = ON; PRAGMA mmap_size = 1073741824;";

pub struct SqliteStore {
    writer: Writer,
    signal: ChangeSignal,
    readers: Readers,
    marker_secret: Vec<u8>,
    auth_cache: AuthCache,
    stop_checkpoints: Arc<AtomicBool>,
    checkpointer: Option<std::thread::JoinHandle<()>>,
}

impl Drop for SqliteStore {
    /// Stops the checkpointer and waits for its last checkpoint.
    fn drop(&mut self) {
        self.stop_checkpoints.store(true, Ordering::Relaxed);
        if let Some(checkpointer) = self.checkpointer.take() {
            checkpointer.thread().unpark();
            let _ = checkpointer.join();
        }
    }
}

/// How often the WAL is copied back into the database.
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(500);
/// WAL frames (pages) past which the checkpointer restarts the WAL even if
/// it must briefly hold the writer back: about 64 MiB.
const WAL_RESET_FRAMES: i64 = 16 * 1024;

/// Checkpoints the WAL in the background, off the writer's path. A passive
/// checkpoint waits for no one: it copies what no reader still needs while
/// the writer keeps committing. Under endless writes the WAL then never
/// starts over, so past a size the checkpointer restarts it, which waits
/// for the writer's current batch and holds the next one back for the copy
/// of what the passive checkpoint missed. Restarting rather than truncating
/// keeps the file's blocks, so commits overwrite them instead of growing
/// the file, and their fdatasync has no new blocks or size to record (the
/// writer's `journal_size_limit` trims a WAL that grew past 64 MiB). On the
/// way out the WAL is truncated, so the next start finds none to recover.
fn checkpoints(conn: Connection, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    let checkpoint = move |mode: &str| -> rusqlite::Result<i64> {
        conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |row| {
            row.get::<_, i64>(1)
        })
    };
    let run = move || {
        while !stop.load(Ordering::Relaxed) {
            std::thread::park_timeout(CHECKPOINT_INTERVAL);
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let frames = checkpoint("PASSIVE");
            let result = match frames {
                Ok(frames) if frames > WAL_RESET_FRAMES => checkpoint("RESTART"),
                other => other,
            };
            if let Err(err) = result {
                tracing::warn!(error = %err, "WAL checkpoint failed");
            }
        }
        let _ = checkpoint("TRUNCATE");
    };
    std::thread::Builder::new()
        .name("shiplog-sqlite-checkpoint".into())
        .spawn(run)
        .expect("spawn the checkpoint thread")
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its
    /// schema up to date.
    pub async fn open(path: &Path) -> Result<SqliteStore> {
        let path = path.to_owned();
        tokio::task::spawn_blocking(move || Self::open_blocking(&path))
            .await
            .map_err(|err| StoreError::Internal(err.to_string()))?
    }

    fn open_blocking(path: &Path) -> Result<SqliteStore> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|err| {
                StoreError::Config(format!("cannot create {}: {err}", dir.display()))
            })?;
        }
        let writer = connect(path, true)?;
        // The writer never checkpoints: a checkpoint copies the WAL into the
        // database and fsyncs it, a pause of milliseconds that would land on
        // whichever request's commit crossed the threshold. A thread of its
        // own checkpoints instead (see `checkpoints`). Each write of a batch
        // runs in a savepoint whose journal SQLite keeps in a temporary file
        // once past 64 KiB; in memory it costs a copy instead of a write.
        writer
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA wal_autocheckpoint = 0; \
                 PRAGMA temp_store = MEMORY; PRAGMA journal_size_limit = 67108864;",
            )
            .map_err(config_error)?;
        let marker_secret = migrations::run(&writer)?;
        let readers = (0..READERS)
            .map(|_| connect(path, false))
            .collect::<Result<Vec<_>>>()?;
        let reader_path = path.to_owned();
        let stop = Arc::new(AtomicBool::new(false));
        let checkpointer = checkpoints(connect(path, true)?, stop.clone());
        let signal = ChangeSignal::default();
        Ok(SqliteStore {
            checkpointer: Some(checkpointer),
            writer: Writer::start(writer, WRITE_QUEUE, signal.clone()),
            signal,
            readers: Readers::new(readers, move || connect(&reader_path, false)),
            marker_secret,
            auth_cache: AuthCache::new(),
            stop_checkpoints: stop,
        })
    }
}

fn connect(path: &Path, writer: bool) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags).map_err(config_error)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // Another process (the CLI) may hold the write lock for a moment.
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(config_error)?;
    let pragmas = if writer {
        "PRAGMA foreign_keys = ON;"
    } else {
        READER_PRAGMAS
    };
    conn.execute_batch(pragmas).map_err(config_error)?;
    Ok(conn)
}

fn config_error(err: rusqlite::Error) -> StoreError {
    StoreError::Config(format!("cannot open the SQLite database: {err}"))
}

/// Maps an unexpected SQLite error: busy or I/O trouble means the database
/// is unavailable; anything else is a bug.
pub(crate) fn sql_error(err: rusqlite::Error) -> StoreError {
    match err.sqlite_error_code() {
        Some(
            ErrorCode::DatabaseBusy
            | ErrorCode::DatabaseLocked
            | ErrorCode::SystemIoFailure
            | ErrorCode::DiskFull
            | ErrorCode::CannotOpen,
        ) => StoreError::Unavailable(err.to_string()),
        _ => StoreError::Internal(err.to_string()),
    }
}

/// The unique constraint a write broke, known by the columns SQLite names.
pub(crate) fn unique_violation(err: &rusqlite::Error) -> Option<Unique> {
    match err {
        rusqlite::Error::SqliteFailure(e, Some(message))
            if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE =>
        {
            Unique::from_sqlite(message)
        }
        _ => None,
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<()> {
        self.readers.read(|conn| {
            conn.query_row("SELECT 1", [], |_| Ok(()))
                .map_err(sql_error)
        })
    }

    fn pool_status(&self) -> PoolStatus {
        let (size, idle) = self.readers.status();
        PoolStatus {
            size: size as u32,
            idle: idle as u32,
        }
    }

    async fn marker_secret(&self) -> Result<Vec<u8>> {
        Ok(self.marker_secret.clone())
    }

    async fn authorize(&self, token: TokenHash, account: &str) -> Result<Access> {
        self.readers
            .read(|conn| auth::authorize(conn, &self.auth_cache, token, account))
    }

    async fn user_count(&self) -> Result<u64> {
        self.readers.read(|conn| auth::user_count(conn))
    }

    async fn create_user(&self, name: &ResourceName) -> Result<()> {
        let name = name.clone();
        self.writer
            .write(move |conn| auth::create_user(conn, &name))
            .await
    }

    async fn add_token(
        &self,
        user: &str,
        token: TokenHash,
        label: Option<&str>,
        scope: Level,
    ) -> Result<TokenInfo> {
        let (user, label) = (user.to_owned(), label.map(str::to_owned));
        self.writer
            .write(move |conn| auth::add_token(conn, &user, token, label.as_deref(), scope))
            .await
    }

    async fn ensure_user_token(&self, user: &ResourceName, token: TokenHash) -> Result<bool> {
        let user = user.clone();
        self.writer
            .write(move |conn| auth::ensure_user_token(conn, &user, token))
            .await
    }

    async fn list_tokens(&self, user: &str) -> Result<Vec<TokenInfo>> {
        self.readers.read(|conn| auth::list_tokens(conn, user))
    }

    async fn revoke_token(&self, user: &str, token_id: i64) -> Result<()> {
        let user = user.to_owned();
        self.writer
            .write(move |conn| auth::revoke_token(conn, &user, token_id))
            .await
    }

    async fn create_app(&self, account: &Account, name: &ResourceName, app: NewApp) -> Result<App> {
        let (account, name) = (account.clone(), name.clone());
        self.writer
            .write(move |conn| apps::create_app(conn, &account, &name, app))
            .await
    }

    async fn get_app(&self, account: &Account, name: &str) -> Result<App> {
        self.readers.read(|conn| {
            let row = apps::find_app(conn, account, name)?;
            apps::app_view(conn, account, row)
        })
    }

    async fn list_apps(&self, account: &Account, page: &PageRequest<String>) -> Result<Vec<App>> {
        self.readers
            .read(|conn| apps::list_apps(conn, account, page))
    }

    async fn update_app(&self, account: &Account, name: &str, update: AppUpdate) -> Result<App> {
        let (account, name) = (account.clone(), name.to_owned());
        self.writer
            .write(move |conn| apps::update_app(conn, &account, &name, update))
            .await
    }

    async fn delete_app(&self, account: &Account, name: &str) -> Result<()> {
        let (account, name) = (account.clone(), name.to_owned());
        self.writer
            .write(move |conn| apps::delete_app(conn, &account, &name))
            .await
    }

    async fn create_env(
        &self,
        account: &Account,
        app: &str,
        name: &ResourceName,
        env: NewEnv,
    ) -> Result<Env> {
        let (account, app, name) = (account.clone(), app.to_owned(), name.clone());
        self.writer
            .write(move |conn| apps::create_env(conn, &account, &app, &name, env))
            .await
    }

    async fn get_env(&self, account: &Account, name: &str) -> Result<Env> {
        self.readers.read(|conn| apps::get_env(conn, account, name))
    }

    async fn list_envs(
        &self,
        account: &Account,
        app: Option<&str>,
        page: &PageRequest<String>,
    ) -> Result<Vec<Env>> {
        self.readers
            .read(|conn| apps::list_envs(conn, account, app, page))
    }

    async fn delete_env(&self, account: &Account, name: &str) -> Result<()> {
        let (account, name) = (account.clone(), name.to_owned());
        self.writer
            .write(move |conn| apps::delete_env(conn, &account, &name))
            .await
    }

    async fn create_event_keyed(
        &self,
        account: &Account,
        actor: &Actor,
        app: &str,
        event: NewEvent,
        key: Option<IdempotencyKey>,
    ) -> Result<Keyed<i64>> {
        let (account, actor, app) = (account.clone(), actor.clone(), app.to_owned());
        self.writer
            .write(move |conn| {
                let mut tx = SqliteConn(conn);
                run_ready(write::create_event_keyed(
                    &mut tx,
                    &account,
                    &actor,
                    &app,
                    event,
                    key.as_ref(),
                ))
            })
            .await
    }

    async fn update_event_keyed(
        &self,
        account: &Account,
        actor: &Actor,
        app: &str,
        event_id: i64,
        update: EventUpdate,
        key: Option<IdempotencyKey>,
    ) -> Result<Keyed<Event>> {
        let (account, actor, app) = (account.clone(), actor.clone(), app.to_owned());
        self.writer
            .write(move |conn| {
                let mut tx = SqliteConn(conn);
                run_ready(write::update_event_keyed(
                    &mut tx,
                    &account,
                    &actor,
                    &app,
                    event_id,
                    &update,
                    key.as_ref(),
                ))
            })
            .await
    }

    async fn get_event(&self, account: &Account, app: &str, event_id: i64) -> Result<Event> {
        self.readers.read(|conn| {
            run_ready(reads::get_event(
                &mut SqliteConn(conn),
                account,
                app,
                event_id,
            ))
        })
    }

    async fn event_history(
        &self,
        account: &Account,
        app: &str,
        event_id: i64,
        page: &PageRequest<i64>,
    ) -> Result<Vec<Change>> {
        self.readers.read(|conn| {
            let mut db = SqliteConn(conn);
            run_ready(reads::event_history(&mut db, account, app, event_id, page))
        })
    }

    async fn event_lineage(&self, account: &Account, app: &str, event_id: i64) -> Result<Lineage> {
        self.readers.read(|conn| {
            run_ready(reads::event_lineage(
                &mut SqliteConn(conn),
                account,
                app,
                event_id,
            ))
        })
    }

    async fn get_commit(
        &self,
        account: &Account,
        app: &str,
        commit_id: &str,
    ) -> Result<CommitStory> {
        self.readers.read(|conn| {
            run_ready(reads::get_commit(
                &mut SqliteConn(conn),
                account,
                app,
                commit_id,
            ))
        })
    }

    async fn list_changes(
        &self,
        account: &Account,
        page: &PageRequest<i64>,
    ) -> Result<Vec<Change>> {
        self.readers
            .read(|conn| run_ready(reads::list_changes(&mut SqliteConn(conn), account, page)))
    }

    async fn set_member(&self, account: &Account, user: &str, role: Level) -> Result<MemberSet> {
        let (account, user) = (account.clone(), user.to_owned());
        self.writer
            .write(move |conn| {
                run_ready(members::set(&mut SqliteConn(conn), &account, &user, role))
            })
            .await
    }

    async fn list_members(&self, account: &Account) -> Result<Vec<Member>> {
        self.readers
            .read(|conn| run_ready(members::list(&mut SqliteConn(conn), account)))
    }

    async fn remove_member(&self, account: &Account, user: &str) -> Result<()> {
        let (account, user) = (account.clone(), user.to_owned());
        self.writer
            .write(move |conn| run_ready(members::remove(&mut SqliteConn(conn), &account, &user)))
            .await
    }

    async fn find_account(&self, name: &str) -> Result<Account> {
        self.readers
            .read(|conn| run_ready(hooks::account_named(&mut SqliteConn(conn), name)))
    }

    async fn configure_hook(
        &self,
        account: &Account,
        config: hooks::HookConfig,
        secret: hooks::StoredSecret,
    ) -> Result<()> {
        let account = account.clone();
        self.writer
            .write(move |conn| {
                run_ready(hooks::configure(
                    &mut SqliteConn(conn),
                    &account,
                    &config,
                    &secret,
                ))
            })
            .await
    }

    async fn list_hooks(&self, account: &Account) -> Result<Vec<hooks::HookInfo>> {
        self.readers
            .read(|conn| run_ready(hooks::list(&mut SqliteConn(conn), account)))
    }

    async fn delete_hook(&self, account: &Account, provider: Provider) -> Result<()> {
        let account = account.clone();
        self.writer
            .write(move |conn| run_ready(hooks::delete(&mut SqliteConn(conn), &account, provider)))
            .await
    }

    async fn hook_auth(
        &self,
        account: &str,
        provider: Provider,
    ) -> Result<Option<hooks::HookAuth>> {
        self.readers
            .read(|conn| run_ready(hooks::auth(&mut SqliteConn(conn), account, provider)))
    }

    async fn deliver(
        &self,
        account: &Account,
        config: hooks::HookConfig,
        delivery: Delivery,
    ) -> Result<DeliveryOut> {
        let account = account.clone();
        self.writer
            .write(move |conn| {
                run_ready(hooks::deliver(
                    &mut SqliteConn(conn),
                    &account,
                    &config,
                    delivery,
                ))
            })
            .await
    }

    fn change_signal(&self) -> tokio::sync::watch::Receiver<u64> {
        self.signal.subscribe()
    }

    fn outbox_signal(&self) -> tokio::sync::watch::Receiver<u64> {
        self.signal.subscribe_outbox()
    }

    async fn last_change_id(&self, account: &Account) -> Result<i64> {
        self.readers
            .read(|conn| run_ready(webhooks::last_change_id(&mut SqliteConn(conn), account)))
    }

    async fn put_webhook(
        &self,
        account: &Account,
        name: &str,
        config: WebhookConfig,
        secret: String,
        rotate: bool,
    ) -> Result<bool> {
        let (account, name) = (account.clone(), name.to_owned());
        self.writer
            .write(move |conn| {
                run_ready(webhooks::put(
                    &mut SqliteConn(conn),
                    &account,
                    &name,
                    &config,
                    &secret,
                    rotate,
                ))
            })
            .await
    }

    async fn list_webhooks(&self, account: &Account) -> Result<Vec<Webhook>> {
        self.readers
            .read(|conn| run_ready(webhooks::list(&mut SqliteConn(conn), account)))
    }

    async fn get_webhook(&self, account: &Account, name: &str) -> Result<Webhook> {
        self.readers
            .read(|conn| run_ready(webhooks::get(&mut SqliteConn(conn), account, name)))
    }

    async fn delete_webhook(&self, account: &Account, name: &str) -> Result<()> {
        let (account, name) = (account.clone(), name.to_owned());
        self.writer
            .write(move |conn| run_ready(webhooks::delete(&mut SqliteConn(conn), &account, &name)))
            .await
    }

    async fn webhook_attempts(
        &self,
        account: &Account,
        name: &str,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AttemptRow>> {
        self.readers.read(|conn| {
            run_ready(webhooks::attempts(
                &mut SqliteConn(conn),
                account,
                name,
                before,
                limit,
            ))
        })
    }

    async fn claim_deliveries(
        &self,
        now: shiplog_domain::Timestamp,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<Claimed>> {
        // One writer serialises the claims: no row lock is needed.
        self.writer
            .write(move |conn| {
                run_ready(webhooks::claim(
                    &mut SqliteConn(conn),
                    now,
                    lease_ms,
                    limit,
                    "",
                ))
            })
            .await
    }

    async fn finish_delivery(&self, claimed: Claimed, attempt: Option<Attempt>) -> Result<()> {
        self.writer
            .write(move |conn| {
                run_ready(webhooks::finish(
                    &mut SqliteConn(conn),
                    &claimed,
                    attempt.as_ref(),
                ))
            })
            .await
    }

    async fn next_delivery_due(&self) -> Result<Option<shiplog_domain::Timestamp>> {
        self.readers
            .read(|conn| run_ready(webhooks::next_due(&mut SqliteConn(conn))))
    }

    async fn cdevent(
        &self,
        account: &Account,
        change: &Change,
        source: &str,
    ) -> Result<Option<serde_json::Value>> {
        self.readers.read(|conn| {
            run_ready(cdevents::cdevent(
                &mut SqliteConn(conn),
                account,
                change,
                source,
            ))
        })
    }

    async fn ingest_cdevents(
        &self,
        account: &Account,
        app: &str,
        events: Vec<Incoming>,
    ) -> Result<Vec<CdeventOut>> {
        let (account, app) = (account.clone(), app.to_owned());
        self.writer
            .write(move |conn| {
                run_ready(cdevents::ingest(
                    &mut SqliteConn(conn),
                    &account,
                    &app,
                    events,
                ))
            })
            .await
    }

    async fn dora_facts(
        &self,
        account: &Account,
        app: Option<&str>,
        env: Option<&str>,
    ) -> Result<dora::DoraFacts> {
        self.readers
            .read(|conn| run_ready(dora::read(&mut SqliteConn(conn), account, app, env)))
    }

    async fn prune_step(&self, step: retention::Step) -> Result<retention::StepDone> {
        self.writer
            .write(move |conn| run_ready(retention::step(&mut SqliteConn(conn), step)))
            .await
    }

    /// Runs may overlap: each step is a transaction of the one writer, and
    /// removing what another run removed is nothing.
    async fn prune_lease(&self) -> Result<Option<retention::Lease>> {
        Ok(Some(Box::new(())))
    }

    async fn list_events(
        &self,
        account: &Account,
        app: &str,
        filter: &EventFilter,
        page: &PageRequest<i64>,
    ) -> Result<Vec<Event>> {
        // A name no app can have is 404 before any query (or connection).
        shiplog_store::known_name("App", app)?;
        self.readers.read(|conn| {
            if filter.env.is_none() {
                let named = ListedApp::Named {
                    account_id: account.id,
                    name: app,
                };
                let events = events::list(conn, named, filter, page, page.fetch_limit())?;
                if !events.is_empty() {
                    return Ok(events);
                }
            }
            let app = apps::find_app(conn, account, app)?;
            if let Some(env) = &filter.env
                && !apps::app_has_env(conn, &app, env)?
            {
                return Err(StoreError::not_found(format!("Env {env}")));
            }
            events::list(
                conn,
                ListedApp::Found(&app),
                filter,
                page,
                page.fetch_limit(),
            )
        })
    }
    async fn create_session(
        &self,
        user: &str,
        id: TokenHash,
        csrf: &str,
        now: Timestamp,
        expires: Timestamp,
    ) -> Result<()> {
        let (user, csrf) = (user.to_owned(), csrf.to_owned());
        self.writer
            .write(move |conn| {
                run_ready(sessions::create(
                    &mut SqliteConn(conn),
                    &user,
                    &id,
                    &csrf,
                    now,
                    expires,
                ))
            })
            .await
    }

    async fn session(
        &self,
        id: TokenHash,
        account: &str,
        now: Timestamp,
    ) -> Result<sessions::SessionAccess> {
        self.readers
            .read(|conn| run_ready(sessions::lookup(&mut SqliteConn(conn), &id, account, now)))
    }

    async fn touch_session(&self, id: TokenHash, now: Timestamp, expires: Timestamp) -> Result<()> {
        self.writer
            .write(move |conn| run_ready(sessions::touch(&mut SqliteConn(conn), &id, now, expires)))
            .await
    }

    async fn end_session(&self, id: TokenHash) -> Result<()> {
        self.writer
            .write(move |conn| run_ready(sessions::end(&mut SqliteConn(conn), &id)))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Readers read through the memory map (SQLite would silently cap a
    /// size beyond what it was built for), and what a checkpoint wrote into
    /// the mapped file, past the size it had when mapped, is what they read
    /// next.
    #[test]
    fn readers_read_checkpointed_pages_through_the_map() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mapped.db");
        let writer = connect(&path, true).unwrap();
        writer.execute_batch("PRAGMA journal_mode = WAL").unwrap();
        migrations::run(&writer).unwrap();
        let reader = connect(&path, false).unwrap();
        let read = |sql: &str| {
            reader
                .query_row(sql, [], |row| row.get::<_, i64>(0))
                .unwrap()
        };
        assert_eq!(read("PRAGMA mmap_size"), 1 << 30);
        assert_eq!(read("SELECT count(*) FROM users"), 0);
        for id in 1..=50 {
            writer
                .execute(
                    "INSERT INTO users (id, name, created_ms) VALUES (?1, 'user' || ?1, 0)",
                    [id],
                )
                .unwrap();
        }
        let (busy, wal_frames) = writer
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?))
            })
            .unwrap();
        assert_eq!((busy, wal_frames), (0, 0), "the WAL is all in the file");
        assert_eq!(read("SELECT count(*) FROM users"), 50);
    }
}
