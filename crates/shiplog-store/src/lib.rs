//! shiplog's storage: the [`Store`] trait and its implementations.
//!
//! Everything above this crate talks to a `dyn Store`; which database backs
//! it is decided once, from the URL scheme, by the server. The backends live
//! in crates of their own (`shiplog-store-sqlite`, `shiplog-store-postgres`)
//! and enforce the domain's rules atomically (conditional updates, unique
//! indexes), so they hold across concurrent writers.

pub mod append;
pub mod auth_cache;
pub mod cdevents;
pub mod columns;
pub mod constraints;
pub mod db;
pub mod dora;
mod error;
pub mod hooks;
pub mod idempotency;
pub mod members;
pub mod pages;
pub mod queries;
pub mod reads;
pub mod retention;
pub mod sessions;
pub mod signal;
pub mod webhooks;
pub mod write;

use async_trait::async_trait;
use shiplog_domain::input::{EventUpdate, NewEvent};
use shiplog_domain::resources::{App, AppUpdate, Env, NewApp, NewEnv};
use shiplog_domain::token::TokenHash;
use shiplog_domain::{
    Actor, Change, Event, EventFilter, Level, PageRequest, ResourceName, Timestamp,
};

pub use auth_cache::AuthCache;
pub use error::StoreError;
pub use idempotency::{IdempotencyKey, Keyed};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// An account that a request was authorised to act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: i64,
    pub name: String,
}

/// What a token may do with the account named in a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// The token is unknown or revoked.
    Unauthenticated,
    /// The token is valid but its user has no role on the account: neither
    /// owner nor member (or the account does not exist).
    Denied,
    /// The token may act on the account up to `level` (the lower of its
    /// user's role there and its scope); its changes are made by `actor`.
    Granted {
        account: Account,
        actor: Actor,
        level: Level,
    },
}

/// An event with every event it descends from and every event descending
/// from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lineage {
    /// Nearest first, up to the root.
    pub ancestors: Vec<Event>,
    pub event: Event,
    /// In id order.
    pub descendants: Vec<Event>,
}

/// An env whose active release was built from a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployed {
    pub env_name: String,
    pub release_version: Option<String>,
    /// When the deploy ended (or, lacking that, was recorded).
    pub deployed_at: Timestamp,
    /// The DEPLOY's id.
    pub event_id: i64,
}

/// Every event of an app that carried a commit, and where it runs now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitStory {
    pub commit_id: String,
    pub events: Vec<Event>,
    pub deployed_to: Vec<Deployed>,
}

/// A token as listed to its owner: never the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub id: i64,
    pub label: Option<String>,
    pub created: Timestamp,
    pub revoked: Option<Timestamp>,
    /// The most the token may do, on any account.
    pub scope: Level,
}

/// How the store's read connections are used, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    pub size: u32,
    pub idle: u32,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Answers once the database can be reached.
    async fn ping(&self) -> Result<()>;
    /// The connections open and idle now.
    fn pool_status(&self) -> PoolStatus;
    /// The secret that authenticates pagination markers; the same for every
    /// instance that shares the database.
    async fn marker_secret(&self) -> Result<Vec<u8>>;

    /// Resolves a token, the account a request names and what the token
    /// may do there, in one query, or from an [`AuthCache`] while nothing
    /// it is authorised by has changed, on this instance or any other.
    async fn authorize(&self, token: TokenHash, account: &str) -> Result<Access>;
    async fn user_count(&self) -> Result<u64>;
    /// Creates a user (and its account); `AlreadyExists` if taken.
    async fn create_user(&self, name: &ResourceName) -> Result<()>;
    /// Adds a token of a scope to an existing user.
    async fn add_token(
        &self,
        user: &str,
        token: TokenHash,
        label: Option<&str>,
        scope: Level,
    ) -> Result<TokenInfo>;
    /// Creates the user and the token (scope `admin`) unless they exist;
    /// true if anything was created.
    async fn ensure_user_token(&self, user: &ResourceName, token: TokenHash) -> Result<bool>;
    async fn list_tokens(&self, user: &str) -> Result<Vec<TokenInfo>>;
    /// Revokes a token of `user`; `NotFound` if it has no such token.
    async fn revoke_token(&self, user: &str, token_id: i64) -> Result<()>;

    /// Makes `user` a member of the account with `role`, or changes its
    /// role (see [`members::set`]).
    async fn set_member(
        &self,
        account: &Account,
        user: &str,
        role: Level,
    ) -> Result<members::MemberSet>;
    async fn list_members(&self, account: &Account) -> Result<Vec<members::Member>>;
    /// `NotFound` when the user is not a member.
    async fn remove_member(&self, account: &Account, user: &str) -> Result<()>;

    async fn create_app(&self, account: &Account, name: &ResourceName, app: NewApp) -> Result<App>;
    async fn get_app(&self, account: &Account, name: &str) -> Result<App>;
    async fn list_apps(&self, account: &Account, page: &PageRequest<String>) -> Result<Vec<App>>;
    /// Sets the fields an update names; `NotFound` without such an app.
    async fn update_app(&self, account: &Account, name: &str, update: AppUpdate) -> Result<App>;
    /// Deletes an app with its events and envs.
    async fn delete_app(&self, account: &Account, name: &str) -> Result<()>;

    async fn create_env(
        &self,
        account: &Account,
        app: &str,
        name: &ResourceName,
        env: NewEnv,
    ) -> Result<Env>;
    async fn get_env(&self, account: &Account, name: &str) -> Result<Env>;
    /// The envs of the account, or of one of its apps.
    async fn list_envs(
        &self,
        account: &Account,
        app: Option<&str>,
        page: &PageRequest<String>,
    ) -> Result<Vec<Env>>;
    async fn delete_env(&self, account: &Account, name: &str) -> Result<()>;

    /// Records an event and its change, once per idempotency key; returns
    /// its id once durably committed, or a repeat's first answer.
    async fn create_event_keyed(
        &self,
        account: &Account,
        actor: &Actor,
        app: &str,
        event: NewEvent,
        key: Option<IdempotencyKey>,
    ) -> Result<Keyed<i64>>;
    /// Updates a BUILD, DEPLOY or INCIDENT under the terminal-state rule,
    /// recording a change unless nothing changes; once per idempotency key.
    async fn update_event_keyed(
        &self,
        account: &Account,
        actor: &Actor,
        app: &str,
        event_id: i64,
        update: EventUpdate,
        key: Option<IdempotencyKey>,
    ) -> Result<Keyed<Event>>;
    /// [`Store::create_event_keyed`] without a key.
    async fn create_event(
        &self,
        account: &Account,
        actor: &Actor,
        app: &str,
        event: NewEvent,
    ) -> Result<i64> {
        self.create_event_keyed(account, actor, app, event, None)
            .await?
            .done()
    }
    /// [`Store::update_event_keyed`] without a key.
    async fn update_event(
        &self,
        account: &Account,
        actor: &Actor,
        app: &str,
        event_id: i64,
        update: EventUpdate,
    ) -> Result<Event> {
        self.update_event_keyed(account, actor, app, event_id, update, None)
            .await?
            .done()
    }
    async fn get_event(&self, account: &Account, app: &str, event_id: i64) -> Result<Event>;
    /// One page of an event's changes, oldest first, `page.limit + 1` at most.
    async fn event_history(
        &self,
        account: &Account,
        app: &str,
        event_id: i64,
        page: &PageRequest<i64>,
    ) -> Result<Vec<Change>>;
    async fn event_lineage(&self, account: &Account, app: &str, event_id: i64) -> Result<Lineage>;
    /// `NotFound` when no event of the app carries the commit.
    async fn get_commit(
        &self,
        account: &Account,
        app: &str,
        commit_id: &str,
    ) -> Result<CommitStory>;
    /// One page of the account's changes in commit order, `page.limit + 1` at most.
    async fn list_changes(&self, account: &Account, page: &PageRequest<i64>)
    -> Result<Vec<Change>>;
    /// One page of an app's events, `page.limit + 1` rows at most.
    async fn list_events(
        &self,
        account: &Account,
        app: &str,
        filter: &EventFilter,
        page: &PageRequest<i64>,
    ) -> Result<Vec<Event>>;
    /// The account of that name (for the command line, which has no token).
    async fn find_account(&self, name: &str) -> Result<Account>;
    /// Creates the account's hook of a provider, or rotates its secret and
    /// replaces its configuration.
    async fn configure_hook(
        &self,
        account: &Account,
        config: hooks::HookConfig,
        secret: hooks::StoredSecret,
    ) -> Result<()>;
    async fn list_hooks(&self, account: &Account) -> Result<Vec<hooks::HookInfo>>;
    /// `NotFound` when the account has no hook of the provider.
    async fn delete_hook(
        &self,
        account: &Account,
        provider: shiplog_ingest::Provider,
    ) -> Result<()>;
    /// The hook a delivery is checked with; none without such an account or
    /// hook.
    async fn hook_auth(
        &self,
        account: &str,
        provider: shiplog_ingest::Provider,
    ) -> Result<Option<hooks::HookAuth>>;
    /// Applies a checked delivery once (see [`hooks::deliver`]).
    async fn deliver(
        &self,
        account: &Account,
        config: hooks::HookConfig,
        delivery: shiplog_ingest::Delivery,
    ) -> Result<shiplog_api::hooks::DeliveryOut>;
    /// Bumped after each commit on this instance and, on PostgreSQL, on
    /// the others: what the stream waits on.
    fn change_signal(&self) -> tokio::sync::watch::Receiver<u64>;
    /// Bumped after each commit that may have changed the webhook outbox,
    /// here or, on PostgreSQL, on the other instances: what the webhook
    /// workers wait on.
    fn outbox_signal(&self) -> tokio::sync::watch::Receiver<u64>;
    /// The account's newest change id; 0 before its first.
    async fn last_change_id(&self, account: &Account) -> Result<i64>;
    /// Creates a webhook with `secret` or replaces its configuration (and,
    /// with `rotate`, its secret); true if `secret` is now the webhook's
    /// (see [`webhooks::put`]).
    async fn put_webhook(
        &self,
        account: &Account,
        name: &str,
        config: webhooks::WebhookConfig,
        secret: String,
        rotate: bool,
    ) -> Result<bool>;
    async fn list_webhooks(&self, account: &Account) -> Result<Vec<webhooks::Webhook>>;
    /// `NotFound` when the account has no webhook of that name.
    async fn get_webhook(&self, account: &Account, name: &str) -> Result<webhooks::Webhook>;
    async fn delete_webhook(&self, account: &Account, name: &str) -> Result<()>;
    /// One page of a webhook's attempts, newest first (see
    /// [`webhooks::attempts`]).
    async fn webhook_attempts(
        &self,
        account: &Account,
        name: &str,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<webhooks::AttemptRow>>;
    /// Claims deliveries that are due, for `lease_ms` (see [`webhooks::claim`]).
    async fn claim_deliveries(
        &self,
        now: Timestamp,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<webhooks::Claimed>>;
    /// Records the attempt of a claimed delivery, or none when there was
    /// nothing to send (see [`webhooks::finish`]).
    async fn finish_delivery(
        &self,
        claimed: webhooks::Claimed,
        attempt: Option<webhooks::Attempt>,
    ) -> Result<()>;
    /// When the next delivery falls due, if any waits.
    async fn next_delivery_due(&self) -> Result<Option<Timestamp>>;
    /// A change as a CDEvent whose `context.source` is `source` (the
    /// server's public URL); none when the mapping names none for it (see
    /// [`cdevents::cdevent`]).
    async fn cdevent(
        &self,
        account: &Account,
        change: &Change,
        source: &str,
    ) -> Result<Option<serde_json::Value>>;
    /// Records CDEvents received for an app in one transaction, once each
    /// per `(context.source, context.id)` (see [`cdevents::ingest`]).
    async fn ingest_cdevents(
        &self,
        account: &Account,
        app: &str,
        events: Vec<shiplog_ingest::cdevents::incoming::Incoming>,
    ) -> Result<Vec<shiplog_api::hooks::CdeventOut>>;
    /// What DORA's metrics of a scope are computed from (see [`dora::read`]).
    async fn dora_facts(
        &self,
        account: &Account,
        app: Option<&str>,
        env: Option<&str>,
    ) -> Result<dora::DoraFacts>;
    /// One bounded step of pruning, in a write transaction of its own (see
    /// [`retention::step`]).
    async fn prune_step(&self, step: retention::Step) -> Result<retention::StepDone>;
    /// The right to prune, held for a whole run; none while another
    /// instance prunes.
    async fn prune_lease(&self) -> Result<Option<retention::Lease>>;

    /// Opens a web UI session of `user` whose cookie secret hashes to
    /// `id`, until `expires` unless used; drops the user's expired ones.
    /// `NotFound` without such a user.
    async fn create_session(
        &self,
        user: &str,
        id: TokenHash,
        csrf: &str,
        now: Timestamp,
        expires: Timestamp,
    ) -> Result<()>;
    /// The session whose secret hashes to `id`, unless it ended or expired
    /// by `now`, and what its user may do with `account`.
    async fn session(
        &self,
        id: TokenHash,
        account: &str,
        now: Timestamp,
    ) -> Result<sessions::SessionAccess>;
    /// Moves a live session's expiry on to `expires`.
    async fn touch_session(&self, id: TokenHash, now: Timestamp, expires: Timestamp) -> Result<()>;
    /// Ends a session; nothing if there is none.
    async fn end_session(&self, id: TokenHash) -> Result<()>;
}

/// A name that is not a valid resource name cannot exist: it is answered
/// `NotFound` without asking the database (which may refuse its bytes).
pub fn known_name(kind: &str, name: &str) -> Result<()> {
    if ResourceName::is_valid(name) {
        Ok(())
    } else {
        Err(StoreError::not_found(format!("{kind} {name}")))
    }
}

impl Deployed {
    /// The env a DEPLOY put its release in.
    pub fn of(deploy: Event) -> Deployed {
        Deployed {
            env_name: deploy.fields.env_name.unwrap_or_default(),
            release_version: deploy.fields.release_version,
            deployed_at: deploy.fields.deployment_end.unwrap_or(deploy.event_time),
            event_id: deploy.event_id,
        }
    }
}

impl CommitStory {
    /// The story of a commit from its events and the active deploys that
    /// carry it; `NotFound` when no event carries it.
    pub fn new(commit_id: &str, events: Vec<Event>, active: Vec<Event>) -> Result<CommitStory> {
        if events.is_empty() {
            return Err(StoreError::not_found(format!("Commit {commit_id}")));
        }
        Ok(CommitStory {
            commit_id: commit_id.to_owned(),
            events,
            deployed_to: active.into_iter().map(Deployed::of).collect(),
        })
    }
}

/// What a token found by its hash may do: `stored` must match `presented`
/// (compared in constant time), and the account must exist and the token's
/// user have a role there (`admin` on its own). The level granted is the
/// lower of that role and the token's scope; a level the code does not
/// know grants nothing.
pub fn grant(
    stored: &TokenHash,
    presented: &TokenHash,
    account_id: Option<i64>,
    account_name: Option<String>,
    role: Option<&str>,
    scope: Option<&str>,
    actor: Actor,
) -> Access {
    if !stored.matches(presented) {
        return Access::Unauthenticated;
    }
    let level = |name: Option<&str>| name.and_then(|name| Level::parse("Level", name).ok());
    match (account_id, account_name, level(role), level(scope)) {
        (Some(id), Some(name), Some(role), Some(scope)) => Access::Granted {
            account: Account { id, name },
            actor,
            level: Level::effective(role, scope),
        },
        _ => Access::Denied,
    }
}
