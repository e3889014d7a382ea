//! The PostgreSQL store, for several stateless instances on one database.
//!
//! Writes go through this instance's group-commit [`writer::Writer`]; reads
//! use the pool directly, the hot ones keeping their connections between
//! requests ([`kept`]). Every call is bounded in time, so an unreachable
//! database gives `Unavailable` (503) rather than a hang, and the pool
//! reconnects by itself once the database is back.

mod apps;
mod auth;
mod batch;
mod events;
mod kept;
mod migrations;
pub mod testing;
mod tx;
mod writer;

use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use shiplog_domain::input::{EventUpdate, NewEvent};
use shiplog_domain::resources::{App, AppUpdate, Env, NewApp, NewEnv};
use shiplog_domain::token::TokenHash;
use shiplog_domain::{Event, EventFilter, Level, PageRequest, ResourceName, Timestamp};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};

use kept::{ReadConn, ReadConns};
use shiplog_api::hooks::{CdeventOut, DeliveryOut};
use shiplog_domain::{Actor, Change};
use shiplog_ingest::cdevents::incoming::Incoming;
use shiplog_ingest::{Delivery, Provider};
use shiplog_store::columns::ListedApp;
use shiplog_store::constraints::Unique;
use shiplog_store::members::{Member, MemberSet};
use shiplog_store::signal::{ChangeSignal, OUTBOX_TOUCHED};
use shiplog_store::webhooks::{self, Attempt, AttemptRow, Claimed, Webhook, WebhookConfig};
use shiplog_store::{
    Access, Account, AuthCache, CommitStory, Lineage, PoolStatus, Result, Store, StoreError,
    TokenInfo, reads, write,
};
use shiplog_store::{IdempotencyKey, Keyed};
use shiplog_store::{cdevents, dora, hooks, members, retention, sessions};
use tx::PgConn;
use writer::Writer;

pub use migrations::VERSIONS as MIGRATION_VERSIONS;

/// Connections one instance opens at most: size `max_connections` of the
/// server as instances × this, plus room for administration.
pub const POOL_SIZE: u32 = 10;
/// Writes that may wait for the writer before new ones are refused: a few
/// full batches.
const WRITE_QUEUE: usize = 1024;
/// The longest a read may take before it is answered `Unavailable`.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// The advisory lock a prune run holds: one pruner at a time across instances.
const PRUNE_LOCK: i64 = 0x5348_4950_5052_554e;
/// How long to wait for a free or new connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);
/// A connection idle longer is checked (pinged) before it is used again.
const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// Whether a connection idle for `idle_for` is taken as alive without a
/// ping: the pool's, the writer's and the reads' kept ones alike. A ping on
/// every use would add a round trip to each request; one closed by the
/// server within the second fails the one use that finds it (`Unavailable`)
/// and is not used again.
pub(crate) fn known_alive(idle_for: Duration) -> bool {
    idle_for <= PING_AFTER_IDLE
}

pub struct PostgresStore {
    pool: PgPool,
    reads: ReadConns,
    writer: Writer,
    marker_secret: Vec<u8>,
    signal: ChangeSignal,
    auth_cache: AuthCache,
    auth_generation: Arc<AuthGeneration>,
    /// Dropped with the store, which ends its listener.
    _stop_listening: tokio::sync::oneshot::Sender<()>,
}

/// Row locks of a claim, so that the workers of several instances skip
/// each other's rows.
const CLAIM_LOCK: &str = " FOR UPDATE OF o SKIP LOCKED";

/// The channel every write to tokens, users or memberships notifies (by
/// the trigger of migration 0010), delivered when it commits.
const AUTH_CHANNEL: &str = "shiplog_auth";

/// This instance's generation of what tokens are authorised by (see
/// [`shiplog_store::auth_cache`]). Reading the database's would cost a
/// round trip, as much as the lookup the cache saves, so it is kept here
/// and moved on by the notifications of every instance's commits, by this
/// instance's own writes as they commit, and whenever the listener
/// connects or fails (notifications may have been missed).
#[derive(Default)]
struct AuthGeneration {
    n: AtomicU64,
    /// True only while notifications are being received: without them a
    /// cached answer could outlive a revocation, so the cache is not used.
    listening: AtomicBool,
}

impl AuthGeneration {
    /// The generation to cache under; none while not listening.
    fn current(&self) -> Option<u64> {
        self.listening
            .load(Ordering::SeqCst)
            .then(|| self.n.load(Ordering::SeqCst))
    }

    fn bump(&self) {
        self.n.fetch_add(1, Ordering::SeqCst);
    }

    /// After LISTEN: whatever changed before it was not heard.
    fn connected(&self) {
        self.bump();
        self.listening.store(true, Ordering::SeqCst);
    }

    fn lost(&self) {
        self.listening.store(false, Ordering::SeqCst);
        self.bump();
    }
}

/// Bumps `signal` whenever another instance (or this one) commits, and
/// `auth` whenever what tokens are authorised by changes, until `stop`. A
/// lost connection may have lost notifications, so reconnecting bumps
/// both: the followers then read the record and find what they missed,
/// and no authorisation cached before is used.
async fn listen(
    pool: PgPool,
    signal: ChangeSignal,
    auth: Arc<AuthGeneration>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    loop {
        tokio::select! {
            _ = &mut stop => return,
            err = follow(&pool, &signal, &auth) => {
                auth.lost();
                tracing::warn!(error = %err, "listening for other instances' changes failed; retrying");
            }
        }
        tokio::select! {
            _ = &mut stop => return,
            _ = tokio::time::sleep(Duration::from_secs(1)) => signal.bump(),
        }
    }
}

/// Bumps `signal` (the outbox's too if the payload says so) or `auth` on
/// every notification, by its channel, until the listening connection
/// fails.
async fn follow(pool: &PgPool, signal: &ChangeSignal, auth: &AuthGeneration) -> sqlx::Error {
    let mut listener = match sqlx::postgres::PgListener::connect_with(pool).await {
        Ok(listener) => listener,
        Err(err) => return err,
    };
    // A lost connection is re-established, listening again, before
    // `try_recv` says so; a failure to re-establish it is an error.
    listener.eager_reconnect(true);
    if let Err(err) = listener
        .listen_all([writer::CHANGES_CHANNEL, AUTH_CHANNEL])
        .await
    {
        return err;
    }
    auth.connected();
    signal.bump();
    loop {
        match listener.try_recv().await {
            Ok(Some(notification)) if notification.channel() == AUTH_CHANNEL => auth.bump(),
            Ok(Some(notification)) => signal.committed(notification.payload() == OUTBOX_TOUCHED),
            // The connection was lost and is back: whatever was notified
            // meanwhile was missed, so wake up and read, and cache afresh.
            Ok(None) => {
                auth.bump();
                signal.bump();
            }
            Err(err) => return err,
        }
    }
}

impl PostgresStore {
    /// Connects, and creates or upgrades the schema (safe when several
    /// instances start at once).
    pub async fn open(url: &str) -> Result<PostgresStore> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|err| StoreError::Config(format!("invalid PostgreSQL URL: {err}")))?
            .application_name("shiplog");
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .min_connections(0)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if !known_alive(meta.idle_for) {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(options)
            .await
            .map_err(|err| StoreError::Config(format!("cannot connect to PostgreSQL: {err}")))?;
        let marker_secret = migrations::run(&pool).await?;
        let signal = ChangeSignal::default();
        let (stop_listening, stop) = tokio::sync::oneshot::channel();
        let auth_generation = Arc::new(AuthGeneration::default());
        tokio::spawn(listen(
            pool.clone(),
            signal.clone(),
            auth_generation.clone(),
            stop,
        ));
        Ok(PostgresStore {
            writer: Writer::start(pool.clone(), WRITE_QUEUE, signal.clone()),
            pool,
            reads: ReadConns::default(),
            marker_secret,
            signal,
            auth_cache: AuthCache::new(),
            auth_generation,
            _stop_listening: stop_listening,
        })
    }

    /// A read's connection, in its turn.
    async fn conn(&self) -> Result<ReadConn<'_>> {
        self.reads.get(&self.pool).await
    }

    /// Whether this instance hears the others' changes now, and so uses
    /// its cache of authorisations.
    pub fn listening(&self) -> bool {
        self.auth_generation.current().is_some()
    }

    /// Runs a write to tokens, users or memberships, then moves the
    /// generation on: this instance's next request must not find an answer
    /// cached before the write, even before the write's notification comes
    /// back.
    async fn changing_access<T>(&self, write: impl Future<Output = Result<T>>) -> Result<T> {
        let written = write.await;
        self.auth_generation.bump();
        written
    }
}

/// A page of `app`'s events: with the app looked up in the page's own
/// query, and only if that finds none, looked up alone to tell an empty
/// page from an unknown app (or env).
async fn list_events(
    conn: &mut PgConnection,
    account: &Account,
    app: &str,
    filter: &EventFilter,
    page: &PageRequest<i64>,
) -> Result<Vec<Event>> {
    if filter.env.is_none() {
        let named = ListedApp::Named {
            account_id: account.id,
            name: app,
        };
        let events = events::list(conn, named, filter, page, page.fetch_limit()).await?;
        if !events.is_empty() {
            return Ok(events);
        }
    }
    let app = apps::find_app(conn, account, app).await?;
    if let Some(env) = &filter.env
        && !apps::app_has_env(conn, &app, env).await?
    {
        return Err(StoreError::not_found(format!("Env {env}")));
    }
    let found = ListedApp::Found(&app);
    events::list(conn, found, filter, page, page.fetch_limit()).await
}

/// Bounds a read in time.
async fn bounded<T>(read: impl Future<Output = Result<T>>) -> Result<T> {
    tokio::time::timeout(READ_TIMEOUT, read)
        .await
        .unwrap_or_else(|_| {
            Err(StoreError::Unavailable(
                "the database did not answer in time".into(),
            ))
        })
}

/// Maps an unexpected database error: a lost or refused connection means
/// the database is unavailable; anything else is a bug.
pub(crate) fn db_error(err: sqlx::Error) -> StoreError {
    let unavailable = match &err {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // Class 08: connection exceptions; 57P0x: shutdown and restart;
            // 53xxx: insufficient resources.
            code.starts_with("08") || code.starts_with("57P") || code.starts_with("53")
        }),
        _ => false,
    };
    // Class 22, data exceptions: a value the database refuses. Input is
    // validated before it gets here; this is the safety net.
    let refused_value = matches!(&err, sqlx::Error::Database(db)
        if db.code().is_some_and(|code| code.starts_with("22")));
    if unavailable {
        StoreError::Unavailable(err.to_string())
    } else if refused_value {
        tracing::warn!(error = %err, "the database refused a value");
        StoreError::Domain(shiplog_domain::DomainError::BadParam(
            "A value could not be stored as given".into(),
        ))
    } else {
        StoreError::Internal(err.to_string())
    }
}

/// The unique constraint a write broke, known by the name PostgreSQL gives.
pub(crate) fn unique_violation(err: &sqlx::Error) -> Option<Unique> {
    match err {
        sqlx::Error::Database(db) if db.code().as_deref() == Some("23505") => {
            db.constraint().and_then(Unique::from_postgres)
        }
        _ => None,
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn ping(&self) -> Result<()> {
        bounded(async {
            sqlx::query("SELECT 1")
                .execute(&mut *self.conn().await?)
                .await
                .map_err(db_error)
                .map(|_| ())
        })
        .await
    }

    fn pool_status(&self) -> PoolStatus {
        PoolStatus {
            size: self.pool.size(),
            // Kept connections are idle too, out of the pool.
            idle: (self.pool.num_idle() + self.reads.kept()) as u32,
        }
    }

    async fn marker_secret(&self) -> Result<Vec<u8>> {
        Ok(self.marker_secret.clone())
    }

    /// From the cache while nothing it is authorised by has changed. The
    /// generation is read before the lookup: a change that commits after
    /// the read moves it on, so an answer the change makes wrong is stored
    /// under a generation already past and never used.
    async fn authorize(&self, token: TokenHash, account: &str) -> Result<Access> {
        let generation = self.auth_generation.current();
        if let Some(access) =
            generation.and_then(|generation| self.auth_cache.get(&token, account, generation))
        {
            return Ok(access);
        }
        let access =
            bounded(async { auth::authorize(&mut *self.conn().await?, token, account).await })
                .await?;
        if let Some(generation) = generation {
            self.auth_cache.put(token, account, generation, &access);
        }
        Ok(access)
    }

    async fn user_count(&self) -> Result<u64> {
        bounded(async { auth::user_count(&mut *self.conn().await?).await }).await
    }

    async fn create_user(&self, name: &ResourceName) -> Result<()> {
        let name = name.clone();
        self.changing_access(
            self.writer
                .write(move |conn| Box::pin(async move { auth::create_user(conn, &name).await })),
        )
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
        self.changing_access(self.writer.write(move |conn| {
            Box::pin(
                async move { auth::add_token(conn, &user, token, label.as_deref(), scope).await },
            )
        }))
        .await
    }

    async fn ensure_user_token(&self, user: &ResourceName, token: TokenHash) -> Result<bool> {
        let user = user.clone();
        self.changing_access(self.writer.write(move |conn| {
            Box::pin(async move { auth::ensure_user_token(conn, &user, token).await })
        }))
        .await
    }

    async fn list_tokens(&self, user: &str) -> Result<Vec<TokenInfo>> {
        bounded(async { auth::list_tokens(&mut *self.conn().await?, user).await }).await
    }

    async fn revoke_token(&self, user: &str, token_id: i64) -> Result<()> {
        let user = user.to_owned();
        self.changing_access(self.writer.write(move |conn| {
            Box::pin(async move { auth::revoke_token(conn, &user, token_id).await })
        }))
        .await
    }

    async fn create_app(&self, account: &Account, name: &ResourceName, app: NewApp) -> Result<App> {
        let (account, name) = (account.clone(), name.clone());
        self.writer
            .write(move |conn| {
                Box::pin(async move { apps::create_app(conn, &account, &name, app).await })
            })
            .await
    }

    async fn get_app(&self, account: &Account, name: &str) -> Result<App> {
        bounded(async {
            let mut conn = self.conn().await?;
            let row = apps::find_app(&mut conn, account, name).await?;
            apps::app_view(&mut conn, account, row).await
        })
        .await
    }

    async fn list_apps(&self, account: &Account, page: &PageRequest<String>) -> Result<Vec<App>> {
        bounded(async { apps::list_apps(&mut *self.conn().await?, account, page).await }).await
    }

    async fn update_app(&self, account: &Account, name: &str, update: AppUpdate) -> Result<App> {
        let (account, name) = (account.clone(), name.to_owned());
        self.writer
            .write(move |conn| {
                Box::pin(async move { apps::update_app(conn, &account, &name, update).await })
            })
            .await
    }

    async fn delete_app(&self, account: &Account, name: &str) -> Result<()> {
        let (account, name) = (account.clone(), name.to_owned());
        self.writer
            .write(move |conn| {
                Box::pin(async move { apps::delete_app(conn, &account, &name).await })
            })
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
            .write(move |conn| {
                Box::pin(async move { apps::create_env(conn, &account, &app, &name, env).await })
            })
            .await
    }

    async fn get_env(&self, account: &Account, name: &str) -> Result<Env> {
        bounded(async { apps::get_env(&mut *self.conn().await?, account, name).await }).await
    }

    async fn list_envs(
        &self,
        account: &Account,
        app: Option<&str>,
        page: &PageRequest<String>,
    ) -> Result<Vec<Env>> {
        bounded(async { apps::list_envs(&mut *self.conn().await?, account, app, page).await }).await
    }

    async fn delete_env(&self, account: &Account, name: &str) -> Result<()> {
        let (account, name) = (account.clone(), name.to_owned());
        self.writer
            .write(move |conn| {
                Box::pin(async move { apps::delete_env(conn, &account, &name).await })
            })
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
            .write_events(move |mut tx| {
                let (account, actor, app) = (account.clone(), actor.clone(), app.clone());
                let (event, key) = (event.clone(), key.clone());
                Box::pin(async move {
                    write::create_event_keyed(&mut tx, &account, &actor, &app, event, key.as_ref())
                        .await
                })
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
            .write_events(move |mut tx| {
                let (account, actor, app) = (account.clone(), actor.clone(), app.clone());
                let (update, key) = (update.clone(), key.clone());
                Box::pin(async move {
                    write::update_event_keyed(
                        &mut tx,
                        &account,
                        &actor,
                        &app,
                        event_id,
                        &update,
                        key.as_ref(),
                    )
                    .await
                })
            })
            .await
    }

    async fn get_event(&self, account: &Account, app: &str, event_id: i64) -> Result<Event> {
        bounded(async {
            let mut conn = self.conn().await?;
            reads::get_event(&mut PgConn(&mut conn), account, app, event_id).await
        })
        .await
    }

    async fn event_history(
        &self,
        account: &Account,
        app: &str,
        event_id: i64,
        page: &PageRequest<i64>,
    ) -> Result<Vec<Change>> {
        bounded(async {
            let mut conn = self.conn().await?;
            reads::event_history(&mut PgConn(&mut conn), account, app, event_id, page).await
        })
        .await
    }

    async fn event_lineage(&self, account: &Account, app: &str, event_id: i64) -> Result<Lineage> {
        bounded(async {
            let mut conn = self.conn().await?;
            reads::event_lineage(&mut PgConn(&mut conn), account, app, event_id).await
        })
        .await
    }

    async fn get_commit(
        &self,
        account: &Account,
        app: &str,
        commit_id: &str,
    ) -> Result<CommitStory> {
        bounded(async {
            let mut conn = self.conn().await?;
            reads::get_commit(&mut PgConn(&mut conn), account, app, commit_id).await
        })
        .await
    }

    async fn list_changes(
        &self,
        account: &Account,
        page: &PageRequest<i64>,
    ) -> Result<Vec<Change>> {
        bounded(async {
            let mut conn = self.conn().await?;
            reads::list_changes(&mut PgConn(&mut conn), account, page).await
        })
        .await
    }

    async fn set_member(&self, account: &Account, user: &str, role: Level) -> Result<MemberSet> {
        let (account, user) = (account.clone(), user.to_owned());
        self.changing_access(self.writer.write(move |conn| {
            Box::pin(async move { members::set(&mut PgConn(conn), &account, &user, role).await })
        }))
        .await
    }

    async fn list_members(&self, account: &Account) -> Result<Vec<Member>> {
        bounded(async {
            let mut conn = self.conn().await?;
            members::list(&mut PgConn(&mut conn), account).await
        })
        .await
    }

    async fn remove_member(&self, account: &Account, user: &str) -> Result<()> {
        let (account, user) = (account.clone(), user.to_owned());
        self.changing_access(self.writer.write(move |conn| {
            Box::pin(async move { members::remove(&mut PgConn(conn), &account, &user).await })
        }))
        .await
    }

    async fn find_account(&self, name: &str) -> Result<Account> {
        bounded(async {
            let mut conn = self.conn().await?;
            hooks::account_named(&mut PgConn(&mut conn), name).await
        })
        .await
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
                Box::pin(async move {
                    hooks::configure(&mut PgConn(conn), &account, &config, &secret).await
                })
            })
            .await
    }

    async fn list_hooks(&self, account: &Account) -> Result<Vec<hooks::HookInfo>> {
        bounded(async {
            let mut conn = self.conn().await?;
            hooks::list(&mut PgConn(&mut conn), account).await
        })
        .await
    }

    async fn delete_hook(&self, account: &Account, provider: Provider) -> Result<()> {
        let account = account.clone();
        self.writer
            .write(move |conn| {
                Box::pin(async move { hooks::delete(&mut PgConn(conn), &account, provider).await })
            })
            .await
    }

    async fn hook_auth(
        &self,
        account: &str,
        provider: Provider,
    ) -> Result<Option<hooks::HookAuth>> {
        bounded(async {
            let mut conn = self.conn().await?;
            hooks::auth(&mut PgConn(&mut conn), account, provider).await
        })
        .await
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
                Box::pin(async move {
                    hooks::deliver(&mut PgConn(conn), &account, &config, delivery).await
                })
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
        bounded(async {
            let mut conn = self.conn().await?;
            webhooks::last_change_id(&mut PgConn(&mut conn), account).await
        })
        .await
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
                Box::pin(async move {
                    webhooks::put(&mut PgConn(conn), &account, &name, &config, &secret, rotate)
                        .await
                })
            })
            .await
    }

    async fn list_webhooks(&self, account: &Account) -> Result<Vec<Webhook>> {
        bounded(async {
            let mut conn = self.conn().await?;
            webhooks::list(&mut PgConn(&mut conn), account).await
        })
        .await
    }

    async fn get_webhook(&self, account: &Account, name: &str) -> Result<Webhook> {
        bounded(async {
            let mut conn = self.conn().await?;
            webhooks::get(&mut PgConn(&mut conn), account, name).await
        })
        .await
    }

    async fn delete_webhook(&self, account: &Account, name: &str) -> Result<()> {
        let (account, name) = (account.clone(), name.to_owned());
        self.writer
            .write(move |conn| {
                Box::pin(async move { webhooks::delete(&mut PgConn(conn), &account, &name).await })
            })
            .await
    }

    async fn webhook_attempts(
        &self,
        account: &Account,
        name: &str,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AttemptRow>> {
        bounded(async {
            let mut conn = self.conn().await?;
            webhooks::attempts(&mut PgConn(&mut conn), account, name, before, limit).await
        })
        .await
    }

    async fn claim_deliveries(
        &self,
        now: shiplog_domain::Timestamp,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<Claimed>> {
        self.writer
            .write(move |conn| {
                Box::pin(async move {
                    webhooks::claim(&mut PgConn(conn), now, lease_ms, limit, CLAIM_LOCK).await
                })
            })
            .await
    }

    async fn finish_delivery(&self, claimed: Claimed, attempt: Option<Attempt>) -> Result<()> {
        self.writer
            .write(move |conn| {
                Box::pin(async move {
                    webhooks::finish(&mut PgConn(conn), &claimed, attempt.as_ref()).await
                })
            })
            .await
    }

    async fn next_delivery_due(&self) -> Result<Option<shiplog_domain::Timestamp>> {
        bounded(async {
            let mut conn = self.conn().await?;
            webhooks::next_due(&mut PgConn(&mut conn)).await
        })
        .await
    }

    async fn cdevent(
        &self,
        account: &Account,
        change: &Change,
        source: &str,
    ) -> Result<Option<serde_json::Value>> {
        bounded(async {
            let mut conn = self.conn().await?;
            cdevents::cdevent(&mut PgConn(&mut conn), account, change, source).await
        })
        .await
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
                Box::pin(async move {
                    cdevents::ingest(&mut PgConn(conn), &account, &app, events).await
                })
            })
            .await
    }

    async fn dora_facts(
        &self,
        account: &Account,
        app: Option<&str>,
        env: Option<&str>,
    ) -> Result<dora::DoraFacts> {
        bounded(async {
            let mut conn = self.conn().await?;
            dora::read(&mut PgConn(&mut conn), account, app, env).await
        })
        .await
    }

    async fn prune_step(&self, step: retention::Step) -> Result<retention::StepDone> {
        self.writer
            .write(move |conn| {
                Box::pin(async move { retention::step(&mut PgConn(conn), step).await })
            })
            .await
    }

    /// A session-level advisory lock on a connection of its own, taken out
    /// of the pool: closing it (when the lease is dropped, or the process
    /// dies) releases the lock.
    async fn prune_lease(&self) -> Result<Option<retention::Lease>> {
        let mut conn = self.conn().await?.detach();
        let ours: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(PRUNE_LOCK)
            .fetch_one(&mut conn)
            .await
            .map_err(db_error)?;
        Ok(ours.then(|| Box::new(conn) as retention::Lease))
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
        bounded(async {
            let mut conn = self.conn().await?;
            let events = list_events(&mut conn, account, app, filter, page).await?;
            // It ran to the end: the connection is idle.
            conn.keep();
            Ok(events)
        })
        .await
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
                Box::pin(async move {
                    sessions::create(&mut PgConn(conn), &user, &id, &csrf, now, expires).await
                })
            })
            .await
    }

    async fn session(
        &self,
        id: TokenHash,
        account: &str,
        now: Timestamp,
    ) -> Result<sessions::SessionAccess> {
        bounded(async {
            let mut conn = self.conn().await?;
            sessions::lookup(&mut PgConn(&mut conn), &id, account, now).await
        })
        .await
    }

    async fn touch_session(&self, id: TokenHash, now: Timestamp, expires: Timestamp) -> Result<()> {
        self.writer
            .write(move |conn| {
                Box::pin(async move { sessions::touch(&mut PgConn(conn), &id, now, expires).await })
            })
            .await
    }

    async fn end_session(&self, id: TokenHash) -> Result<()> {
        self.writer
            .write(move |conn| Box::pin(async move { sessions::end(&mut PgConn(conn), &id).await }))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nothing is cached under a generation while notifications may be
    /// missed, and none from before a gap is used after it.
    #[test]
    fn the_generation_is_withheld_while_not_listening() {
        let auth = AuthGeneration::default();
        assert_eq!(auth.current(), None, "not listening yet");
        auth.connected();
        let first = auth.current().expect("listening");
        auth.bump();
        let second = auth.current().expect("listening");
        assert_ne!(first, second);
        auth.lost();
        assert_eq!(auth.current(), None);
        auth.connected();
        let after = auth.current().expect("listening again");
        assert!(after != first && after != second, "{after}");
    }

    /// With no notification to come, this instance's own writes still end
    /// what it had cached before them, on its very next request.
    #[tokio::test]
    async fn its_own_writes_end_its_cached_answers_without_notifications() {
        let Some(database) = testing::fresh_database().await else {
            return;
        };
        let mut store = PostgresStore::open(&database.url).await.unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !store.listening() {
            assert!(std::time::Instant::now() < deadline, "never listening");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // Ends the listener, leaving the cache in use: from here only this
        // store's own writes move the generation on.
        drop(std::mem::replace(
            &mut store._stop_listening,
            tokio::sync::oneshot::channel().0,
        ));
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(store.listening());

        let name = |n: &str| ResourceName::parse("Name", n).unwrap();
        let token = shiplog_domain::token::hash_token("token-of-ci-0123456789");
        store.create_user(&name("jdoe")).await.unwrap();
        store.create_user(&name("ci")).await.unwrap();
        let info = store
            .add_token("ci", token, None, Level::Admin)
            .await
            .unwrap();
        let jdoe = store.find_account("jdoe").await.unwrap();
        store.set_member(&jdoe, "ci", Level::Write).await.unwrap();
        let level = |access: Access| match access {
            Access::Granted { level, .. } => Some(level),
            _ => None,
        };
        assert_eq!(
            level(store.authorize(token, "jdoe").await.unwrap()),
            Some(Level::Write)
        );
        assert_eq!(store.auth_cache.len(), 1, "cached");
        assert_eq!(
            level(store.authorize(token, "jdoe").await.unwrap()),
            Some(Level::Write)
        );

        store.set_member(&jdoe, "ci", Level::Read).await.unwrap();
        assert_eq!(
            level(store.authorize(token, "jdoe").await.unwrap()),
            Some(Level::Read)
        );
        store.remove_member(&jdoe, "ci").await.unwrap();
        assert_eq!(
            store.authorize(token, "jdoe").await.unwrap(),
            Access::Denied
        );
        assert!(level(store.authorize(token, "ci").await.unwrap()).is_some());
        store.revoke_token("ci", info.id).await.unwrap();
        assert_eq!(
            store.authorize(token, "ci").await.unwrap(),
            Access::Unauthenticated
        );
    }

    /// A connection that sat idle in the pool is tested before it is
    /// handed out: one the server closed meanwhile (a restart, an idle
    /// timeout) is replaced, not failed into the request.
    #[tokio::test]
    async fn a_connection_closed_while_idle_is_replaced() {
        let Some(database) = testing::fresh_database().await else {
            return;
        };
        let store = PostgresStore::open(&database.url).await.unwrap();
        let name = |n: &str| ResourceName::parse("Name", n).unwrap();
        // The writer keeps its connection between batches.
        store.create_user(&name("jdoe")).await.unwrap();
        assert_eq!(store.user_count().await.unwrap(), 1);
        tokio::time::sleep(PING_AFTER_IDLE + Duration::from_millis(300)).await;

        let mut admin = sqlx::PgConnection::connect(&database.url).await.unwrap();
        let closed: Vec<bool> = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND application_name = 'shiplog'",
        )
        .fetch_all(&mut admin)
        .await
        .unwrap();
        assert!(!closed.is_empty(), "the store had connections open");

        assert_eq!(store.user_count().await.unwrap(), 1);
        store.create_user(&name("ci")).await.unwrap();
        assert_eq!(store.user_count().await.unwrap(), 2);
    }

    /// A user jdoe with an app `web`, and an actor writing as jdoe.
    async fn user_with_app(store: &PostgresStore) -> (Account, Actor) {
        let name = |n: &str| ResourceName::parse("Name", n).unwrap();
        store.create_user(&name("jdoe")).await.unwrap();
        let jdoe = store.find_account("jdoe").await.unwrap();
        store
            .create_app(&jdoe, &name("web"), NewApp::default())
            .await
            .unwrap();
        let actor = Actor::Token {
            user: "jdoe".into(),
            token_id: 1,
            token_label: None,
        };
        (jdoe, actor)
    }

    /// A fresh database (`None`, with a notice, without a server to make it
    /// on), a store on it, and its user jdoe whose app `web` has one push.
    async fn store_with_a_push() -> Option<(testing::TempDatabase, PostgresStore, Account)> {
        let database = testing::fresh_database().await?;
        let store = PostgresStore::open(&database.url).await.unwrap();
        let (jdoe, actor) = user_with_app(&store).await;
        store
            .create_event(&jdoe, &actor, "web", push())
            .await
            .unwrap();
        Some((database, store, jdoe))
    }

    /// A fresh database (`None`, with a notice, without a server to make it
    /// on) and two stores on it, as two instances would be.
    async fn two_instances() -> Option<(testing::TempDatabase, PostgresStore, PostgresStore)> {
        let database = testing::fresh_database().await?;
        let store = PostgresStore::open(&database.url).await.unwrap();
        let other = PostgresStore::open(&database.url).await.unwrap();
        Some((database, store, other))
    }

    /// The first page of ten, oldest first.
    fn first_page() -> PageRequest<i64> {
        PageRequest {
            order: shiplog_domain::Order::Asc,
            limit: 10,
            after: None,
        }
    }

    fn push() -> NewEvent {
        let body = serde_json::json!({"commit_id": "abc"});
        NewEvent::parse(shiplog_domain::EventType::Push, body.as_object().unwrap()).unwrap()
    }

    /// The writer reads again, under its write lock, the apps its recent
    /// batches used: an app another instance deleted since is not found
    /// (not written to by its old id), and one made again under the same
    /// name is written to under its new id.
    #[tokio::test]
    async fn apps_changed_by_another_instance_are_read_as_they_are_now() {
        let Some((_database, store, other)) = two_instances().await else {
            return;
        };
        let (jdoe, actor) = user_with_app(&store).await;
        store
            .create_event(&jdoe, &actor, "web", push())
            .await
            .unwrap();
        other.delete_app(&jdoe, "web").await.unwrap();
        let refused = store.create_event(&jdoe, &actor, "web", push()).await;
        assert!(
            matches!(&refused, Err(StoreError::Domain(shiplog_domain::DomainError::NotFound(what))) if what == "App web"),
            "{refused:?}"
        );

        let name = ResourceName::parse("Name", "web").unwrap();
        other
            .create_app(&jdoe, &name, NewApp::default())
            .await
            .unwrap();
        // Some in one batch, each finding the app the batch read.
        let writes = (0..3).map(|_| store.create_event(&jdoe, &actor, "web", push()));
        for written in futures_util::future::join_all(writes).await {
            written.unwrap();
        }
        let events = other
            .list_events(&jdoe, "web", &EventFilter::default(), &first_page())
            .await
            .unwrap();
        assert_eq!(events.len(), 3, "only the new app's events: {events:?}");
    }

    /// A batch of event writes that queued no delivery leaves the webhook
    /// workers asleep, here and on the other instances; one that queued
    /// some, or any other write, wakes them.
    #[tokio::test]
    async fn only_commits_that_may_change_the_outbox_wake_the_webhook_workers() {
        let Some((_database, store, other)) = two_instances().await else {
            return;
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !(store.listening() && other.listening()) {
            assert!(std::time::Instant::now() < deadline, "never listening");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let (jdoe, actor) = user_with_app(&store).await;
        // Lets the notifications of the writes above arrive first.
        tokio::time::sleep(Duration::from_millis(300)).await;

        let (mut here, mut there) = (store.outbox_signal(), other.outbox_signal());
        let mut changes = other.change_signal();
        here.borrow_and_update();
        there.borrow_and_update();
        changes.borrow_and_update();
        store
            .create_event(&jdoe, &actor, "web", push())
            .await
            .unwrap();
        tokio::time::timeout(Duration::from_secs(5), changes.changed())
            .await
            .expect("the other instance hears of the commit")
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!here.has_changed().unwrap(), "no delivery was queued here");
        assert!(!there.has_changed().unwrap(), "nor there");

        let config = WebhookConfig {
            url: "https://receiver.example/hook".into(),
            scope: shiplog_domain::outbound::Scope::default(),
            format: shiplog_domain::outbound::Format::Shiplog,
            enabled: true,
        };
        store
            .put_webhook(&jdoe, "all", config, "whsec_a".into(), false)
            .await
            .unwrap();
        assert!(here.has_changed().unwrap(), "a webhook's configuration");
        here.borrow_and_update();
        tokio::time::timeout(Duration::from_secs(5), there.changed())
            .await
            .expect("the other instance's workers wake")
            .unwrap();
        there.borrow_and_update();

        store
            .create_event(&jdoe, &actor, "web", push())
            .await
            .unwrap();
        assert!(here.has_changed().unwrap(), "a delivery was queued");
        tokio::time::timeout(Duration::from_secs(5), there.changed())
            .await
            .expect("the other instance's workers wake for it")
            .unwrap();
    }

    /// A listing that ran to the end keeps its connection for the next
    /// read; one abandoned midway (here, waiting on a table lock) leaves
    /// its connection to the pool, and the next read still answers right.
    #[tokio::test]
    async fn only_a_read_that_ran_to_the_end_keeps_its_connection() {
        let Some((database, store, jdoe)) = store_with_a_push().await else {
            return;
        };
        let page = first_page();
        let filter = EventFilter::default();
        let list = || store.list_events(&jdoe, "web", &filter, &page);
        assert_eq!(store.reads.kept(), 0);
        let listed = list().await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(store.reads.kept(), 1, "kept after a listing");

        let mut admin = sqlx::PgConnection::connect(&database.url).await.unwrap();
        sqlx::raw_sql("BEGIN; LOCK TABLE events IN ACCESS EXCLUSIVE MODE")
            .execute(&mut admin)
            .await
            .unwrap();
        let abandoned = tokio::time::timeout(Duration::from_millis(300), list()).await;
        assert!(abandoned.is_err(), "the listing waited on the lock");
        assert_eq!(store.reads.kept(), 0, "not kept when abandoned");
        sqlx::raw_sql("COMMIT").execute(&mut admin).await.unwrap();

        assert_eq!(list().await.unwrap(), listed);
        assert_eq!(store.reads.kept(), 1);
    }

    /// Connections kept by the writer and by a listing that the server
    /// closes right after their use fail at most the uses that find them,
    /// as `Unavailable` (503), and are not used again: reads and writes
    /// answer right within a few tries.
    #[tokio::test]
    async fn kept_connections_the_server_closed_fail_as_unavailable_and_are_replaced() {
        let Some((database, store, jdoe)) = store_with_a_push().await else {
            return;
        };
        let page = first_page();
        let filter = EventFilter::default();
        let listed = store
            .list_events(&jdoe, "web", &filter, &page)
            .await
            .unwrap();
        assert_eq!(store.reads.kept(), 1);

        let mut admin = sqlx::PgConnection::connect(&database.url).await.unwrap();
        let closed: Vec<bool> = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .fetch_all(&mut admin)
        .await
        .unwrap();
        assert!(closed.len() >= 2, "the writer's and the listing's");

        let tries = POOL_SIZE as usize + 2;
        let mut read = None;
        for _ in 0..tries {
            match store.list_events(&jdoe, "web", &filter, &page).await {
                Ok(events) => {
                    read = Some(events);
                    break;
                }
                Err(err) => assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}"),
            }
        }
        assert_eq!(read, Some(listed));
        let name = ResourceName::parse("Name", "ci").unwrap();
        let mut wrote = false;
        for _ in 0..tries {
            match store.create_user(&name).await {
                Ok(_) => {
                    wrote = true;
                    break;
                }
                Err(err) => assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}"),
            }
        }
        assert!(wrote, "a write went through");
        assert_eq!(store.user_count().await.unwrap(), 2);
    }
}
