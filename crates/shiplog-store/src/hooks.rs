//! Webhooks: each account's hook per provider, and the write path of a
//! delivery. A delivery's events, its answer and the hook's counters are
//! written in one transaction, through the same write path as every other
//! event, with the hook and delivery id as the actor; a redelivery finds
//! its answer and records nothing.

use shiplog_api::hooks::DeliveryOut;
use shiplog_domain::input::{EventUpdate, NewEvent};
use shiplog_domain::rules;
use shiplog_domain::{Actor, DomainError, Event, EventFields, EventType, ResourceName, Timestamp};
use shiplog_ingest::{Command, Delivery, Outcome, Provider};

use crate::columns::{AppRow, Columns, SqlValue, to_json_text};
use crate::db::{Db, WriteTx};
use crate::reads::load_event;
use crate::write::{create_event, update_event};
use crate::{Account, Result, StoreError, queries};

/// How a hook authenticates its deliveries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredSecret {
    /// The secret itself, which an HMAC signature is checked with.
    Plain(String),
    /// The SHA-256 (hex) of a secret sent as is (GitLab's token).
    Hashed(String),
}

impl StoredSecret {
    /// A new random secret for a provider's hook, and how it is kept: the
    /// HMAC schemes need the secret itself; GitLab's token is kept hashed.
    pub fn generate(provider: Provider) -> (String, StoredSecret) {
        let secret = shiplog_domain::token::generate_token();
        let stored = match provider {
            Provider::Gitlab => StoredSecret::Hashed(sha256_hex(&secret)),
            Provider::Github | Provider::Bitbucket => StoredSecret::Plain(secret.clone()),
        };
        (secret, stored)
    }

    /// Whether a GitLab token presented matches a hashed secret (in
    /// constant time); a plain secret is checked by a signature instead.
    pub fn token_matches(&self, token: &str) -> bool {
        match self {
            StoredSecret::Hashed(hash) => {
                subtle::ConstantTimeEq::ct_eq(sha256_hex(token).as_bytes(), hash.as_bytes()).into()
            }
            StoredSecret::Plain(_) => false,
        }
    }
}

fn sha256_hex(secret: &str) -> String {
    shiplog_domain::token::hex(&shiplog_domain::token::hash_token(secret).0)
}

/// What a hook is configured to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookConfig {
    pub provider: Provider,
    /// The app every delivery goes to; else the repository's name.
    pub app: Option<String>,
    /// Whether an app named after a repository is created on first use.
    pub create_apps: bool,
}

/// A hook as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookInfo {
    pub config: HookConfig,
    pub last_delivery: Option<Timestamp>,
    /// The deliveries accepted.
    pub deliveries: u64,
}

/// What a delivery to `/:username/hooks/:provider` is checked and applied
/// with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookAuth {
    pub account: Account,
    pub secret: StoredSecret,
    pub config: HookConfig,
}

/// The account of that name; `NotFound` without one.
pub async fn account_named<D: Db>(db: &mut D, name: &str) -> Result<Account> {
    let found = db
        .rows(ACCOUNT_NAMED, vec![name.into()], |row| {
            Ok((row.int(0)?, row.text(1)?))
        })
        .await?
        .pop();
    match found {
        Some((Some(id), Some(name))) => Ok(Account { id, name }),
        _ => Err(StoreError::not_found(format!("User {name}"))),
    }
}

/// The account's hooks, by provider.
pub async fn list<D: Db>(db: &mut D, account: &Account) -> Result<Vec<HookInfo>> {
    db.rows(HOOKS_OF_ACCOUNT, vec![account.id.into()], hook_info)
        .await
}

/// The hook a delivery to `/:account/hooks/:provider` is checked with; none
/// when the account or its hook does not exist.
pub async fn auth<D: Db>(
    db: &mut D,
    account: &str,
    provider: Provider,
) -> Result<Option<HookAuth>> {
    let values = vec![account.into(), provider.as_str().into()];
    let mut rows = db
        .rows(HOOK_AUTH, values, |row| {
            let id = row.int(0)?;
            let name = row.text(1)?;
            let secret = match (row.text(2)?, row.text(3)?) {
                (Some(plain), _) => Some(StoredSecret::Plain(plain)),
                (None, Some(hash)) => Some(StoredSecret::Hashed(hash)),
                (None, None) => None,
            };
            Ok((
                id,
                name,
                secret,
                row.text(4)?,
                row.boolean(5)?,
                row.text(6)?,
            ))
        })
        .await?;
    let Some((Some(id), Some(name), Some(secret), app, Some(create_apps), Some(provider))) =
        rows.pop()
    else {
        return Ok(None);
    };
    let provider = Provider::parse(&provider)
        .ok_or_else(|| StoreError::Internal(format!("a hook of provider {provider}")))?;
    Ok(Some(HookAuth {
        account: Account { id, name },
        secret,
        config: HookConfig {
            provider,
            app,
            create_apps,
        },
    }))
}

fn hook_info(row: &dyn Columns) -> Result<HookInfo> {
    let corrupt = || StoreError::Internal("a hook row lacks a column".into());
    let provider = row.text(0)?.ok_or_else(corrupt)?;
    Ok(HookInfo {
        config: HookConfig {
            provider: Provider::parse(&provider).ok_or_else(corrupt)?,
            app: row.text(1)?,
            create_apps: row.boolean(2)?.ok_or_else(corrupt)?,
        },
        last_delivery: row.int(3)?.map(Timestamp::from_millis),
        deliveries: row.int(4)?.ok_or_else(corrupt)?.try_into().unwrap_or(0),
    })
}

/// Creates the account's hook of a provider, or rotates its secret and
/// replaces its configuration.
pub async fn configure<T: WriteTx>(
    tx: &mut T,
    account: &Account,
    config: &HookConfig,
    secret: &StoredSecret,
) -> Result<()> {
    let (plain, hashed) = match secret {
        StoredSecret::Plain(secret) => (Some(secret.clone()), None),
        StoredSecret::Hashed(hash) => (None, Some(hash.clone())),
    };
    let values = vec![
        account.id.into(),
        config.provider.as_str().into(),
        SqlValue::Text(plain),
        SqlValue::Text(hashed),
        SqlValue::Text(config.app.clone()),
        SqlValue::Bool(Some(config.create_apps)),
        Timestamp::now().millis().into(),
    ];
    tx.execute(UPSERT_HOOK, values).await.map(|_| ())
}

/// Removes the account's hook of a provider; `NotFound` if it has none.
pub async fn delete<T: WriteTx>(tx: &mut T, account: &Account, provider: Provider) -> Result<()> {
    let values = vec![account.id.into(), provider.as_str().into()];
    match tx.execute(DELETE_HOOK, values).await? {
        0 => Err(StoreError::not_found(format!("Hook {}", provider.as_str()))),
        _ => Ok(()),
    }
}

/// Applies a delivery whose signature was checked, once: a redelivery
/// answers the first answer with `duplicate` set.
pub async fn deliver<T: WriteTx>(
    tx: &mut T,
    account: &Account,
    config: &HookConfig,
    delivery: Delivery,
) -> Result<DeliveryOut> {
    let provider = config.provider.as_str();
    if let Some(mut first) = recall::<_, DeliveryOut>(tx, account, provider, &delivery.id).await? {
        first.duplicate = true;
        return Ok(first);
    }
    let actor = Actor::Hook {
        hook: provider.to_owned(),
        delivery: delivery.id.clone(),
    };
    let (event_ids, ignored) = match delivery.outcome {
        Outcome::Ignored(why) => (Vec::new(), Some(why)),
        Outcome::Record(commands) => {
            let app = app_of(tx, account, config, delivery.repository.as_deref()).await?;
            let mut ids = Vec::new();
            for command in commands {
                if let Some(id) = apply(tx, account, &actor, &app, command).await? {
                    ids.push(id);
                }
            }
            (ids, None)
        }
    };
    let answer = DeliveryOut {
        delivery: delivery.id,
        event_ids: event_ids.iter().map(i64::to_string).collect(),
        duplicate: false,
        ignored,
    };
    remember(
        tx,
        account,
        provider,
        &answer.delivery,
        &to_json_text(&answer),
    )
    .await?;
    let values = vec![
        Timestamp::now().millis().into(),
        account.id.into(),
        provider.into(),
    ];
    tx.execute(COUNT_DELIVERY, values).await?;
    Ok(answer)
}

/// The answer kept for a delivery `key` of `source` (a provider, or
/// `cdevents`) in the account, if it was received before.
pub(crate) async fn recall<D: Db, A: serde::de::DeserializeOwned>(
    db: &mut D,
    account: &Account,
    source: &str,
    key: &str,
) -> Result<Option<A>> {
    let values = vec![account.id.into(), source.into(), key.into()];
    let Some(answer) = db.rows(FIND_DELIVERY, values, text_column).await?.pop() else {
        return Ok(None);
    };
    serde_json::from_str(&answer)
        .map(Some)
        .map_err(|err| StoreError::Internal(format!("a stored delivery answer: {err}")))
}

/// Keeps the answer to a delivery `key` of `source`, in the transaction of
/// what it recorded, so that a repeat records nothing.
pub(crate) async fn remember<T: WriteTx>(
    tx: &mut T,
    account: &Account,
    source: &str,
    key: &str,
    answer: &str,
) -> Result<()> {
    let values = vec![
        account.id.into(),
        source.into(),
        key.into(),
        answer.into(),
        Timestamp::now().millis().into(),
    ];
    tx.execute(UPSERT_DELIVERY, values).await.map(|_| ())
}

/// The app a delivery records to: the hook's, else the repository's,
/// created on first use when the hook allows it.
async fn app_of<T: WriteTx>(
    tx: &mut T,
    account: &Account,
    config: &HookConfig,
    repository: Option<&str>,
) -> Result<AppRow> {
    let name = config
        .app
        .as_deref()
        .or(repository)
        .ok_or_else(|| DomainError::BadParam("The delivery names no repository".into()))?;
    let name = ResourceName::parse("App", name)?;
    match tx.find_app(account, name.as_str()).await {
        Ok(app) => Ok(app),
        Err(StoreError::Domain(DomainError::NotFound(_))) if config.create_apps => {
            let created_ms = Timestamp::now().millis();
            let values = vec![
                account.id.into(),
                name.as_str().into(),
                SqlValue::Text(None),
                created_ms.into(),
            ];
            let id = tx.insert(queries::INSERT_APP, values).await?;
            Ok(AppRow {
                id,
                name: name.as_str().to_owned(),
                description: None,
                created_ms,
                retention_days: None,
            })
        }
        Err(err) => Err(err),
    }
}

/// Applies one command; the id of the event it created or changed, if any.
pub(crate) async fn apply<T: WriteTx>(
    tx: &mut T,
    account: &Account,
    actor: &Actor,
    app: &AppRow,
    command: Command,
) -> Result<Option<i64>> {
    let name = app.name.as_str();
    match command {
        // A release the app already has (a tag CI also reported) is no
        // change: the host must not see the delivery fail.
        Command::Create(event) => match create_event(tx, account, actor, name, event).await {
            Err(StoreError::Domain(DomainError::AlreadyExists(_))) => Ok(None),
            other => other.map(Some),
        },
        Command::Build {
            mut fields,
            parent_commit,
        } => {
            let found = existing(tx, app, &BUILD_BY_ID, build_key(&fields)).await?;
            match found {
                Some(build) => advance(tx, account, actor, name, &build, &fields).await,
                None => {
                    if let Some(commit) = parent_commit {
                        fields.parent_event_id =
                            first_id(tx, app, &FIRST_PUSH_OF_COMMIT, &commit).await?;
                    }
                    rules::check_build(&fields)?;
                    let event = NewEvent {
                        event_type: EventType::Build,
                        fields,
                    };
                    create_event(tx, account, actor, name, event)
                        .await
                        .map(Some)
                }
            }
        }
        Command::Deploy {
            mut fields,
            release_commit,
        } => {
            let id = vec![SqlValue::Text(fields.deployment_id.clone())];
            let found = existing(tx, app, &DEPLOY_BY_ID, id).await?;
            match found {
                Some(deploy) => advance(tx, account, actor, name, &deploy, &fields).await,
                None => {
                    if let Some(commit) = release_commit {
                        fields.parent_event_id =
                            first_id(tx, app, &LATEST_RELEASE_OF_COMMIT, &commit).await?;
                    }
                    rules::check_deploy(&fields)?;
                    let event = NewEvent {
                        event_type: EventType::Deploy,
                        fields,
                    };
                    create_event(tx, account, actor, name, event)
                        .await
                        .map(Some)
                }
            }
        }
        Command::Incident { fields, subject } => {
            // The INCIDENT of each subject is found through a kept key, as
            // incidents have no id column of their own to look one up by.
            let key = serde_json::json!([app.id, subject]).to_string();
            let known: Option<i64> = recall(tx, account, INCIDENT_SUBJECTS, &key).await?;
            let found = match known {
                Some(id) => load_event(tx, app, id).await?,
                None => None,
            };
            match found {
                Some(incident) => advance(tx, account, actor, name, &incident, &fields).await,
                None => {
                    let event = NewEvent {
                        event_type: EventType::Incident,
                        fields,
                    };
                    let id = create_event(tx, account, actor, name, event).await?;
                    remember(tx, account, INCIDENT_SUBJECTS, &key, &id.to_string()).await?;
                    Ok(Some(id))
                }
            }
        }
    }
}

/// The `source` under which each INCIDENT's subject (per app) is kept
/// beside the deliveries, with the INCIDENT's id as its answer.
const INCIDENT_SUBJECTS: &str = "cdevents:incident";

fn build_key(fields: &EventFields) -> Vec<SqlValue> {
    vec![
        SqlValue::Text(fields.build_id.clone()),
        SqlValue::Text(fields.build_provider.clone()),
    ]
}

/// Moves a BUILD, DEPLOY or INCIDENT forward to the status a delivery reports; a
/// delivery that would move it back (or repeat it) changes nothing.
async fn advance<T: WriteTx>(
    tx: &mut T,
    account: &Account,
    actor: &Actor,
    app: &str,
    current: &Event,
    reported: &EventFields,
) -> Result<Option<i64>> {
    let ty = current.event_type;
    if rules::progress(ty, reported) <= rules::progress(ty, &current.fields) {
        return Ok(None);
    }
    let update = EventUpdate {
        build_status: reported.build_status,
        build_end: reported.build_end,
        deployment_status: reported.deployment_status,
        deployment_end: reported.deployment_end,
        incident_status: reported.incident_status,
        incident_end: reported.incident_end,
        ..EventUpdate::default()
    };
    update_event(tx, account, actor, app, current.event_id, &update).await?;
    Ok(Some(current.event_id))
}

/// The event a query of (app id, key…) finds first.
async fn existing<T: WriteTx>(
    tx: &mut T,
    app: &AppRow,
    sql: &str,
    key: Vec<SqlValue>,
) -> Result<Option<Event>> {
    let mut values = vec![SqlValue::from(app.id)];
    values.extend(key);
    Ok(tx.events(&app.name, sql, values).await?.pop())
}

async fn first_id<T: WriteTx>(
    tx: &mut T,
    app: &AppRow,
    sql: &str,
    commit: &str,
) -> Result<Option<i64>> {
    let key = vec![SqlValue::from(commit)];
    Ok(existing(tx, app, sql, key)
        .await?
        .map(|event| event.event_id))
}

fn text_column(row: &dyn Columns) -> Result<String> {
    row.text(0)?
        .ok_or_else(|| StoreError::Internal("a delivery answer is empty".into()))
}

/// (name).
const ACCOUNT_NAMED: &str = "SELECT id, name FROM users WHERE name = $1";

/// (account id).
const HOOKS_OF_ACCOUNT: &str = "SELECT provider, app, create_apps, last_delivery_ms, deliveries \
     FROM hooks WHERE account_id = $1 ORDER BY provider";

/// (account name, provider).
const HOOK_AUTH: &str = "SELECT u.id, u.name, h.secret, h.secret_hash, h.app, h.create_apps, \
     h.provider FROM users u JOIN hooks h ON h.account_id = u.id \
     WHERE u.name = $1 AND h.provider = $2";

/// (account id, provider, secret, secret hash, app, create apps, created).
const UPSERT_HOOK: &str = "INSERT INTO hooks \
     (account_id, provider, secret, secret_hash, app, create_apps, created_ms) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) \
     ON CONFLICT (account_id, provider) DO UPDATE SET secret = excluded.secret, \
     secret_hash = excluded.secret_hash, app = excluded.app, create_apps = excluded.create_apps";

/// (account id, provider).
const DELETE_HOOK: &str = "DELETE FROM hooks WHERE account_id = $1 AND provider = $2";

/// (account id, provider, delivery id).
const FIND_DELIVERY: &str = "SELECT answer FROM hook_deliveries \
     WHERE account_id = $1 AND provider = $2 AND delivery_id = $3";

/// (account id, provider, delivery id, answer, at). A delivery is looked
/// up first in the same transaction, so only a kept incident subject whose
/// event is gone is ever replaced.
const UPSERT_DELIVERY: &str = "INSERT INTO hook_deliveries \
     (account_id, provider, delivery_id, answer, at_ms) VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (account_id, provider, delivery_id) \
     DO UPDATE SET answer = excluded.answer, at_ms = excluded.at_ms";

/// (at, account id, provider).
const COUNT_DELIVERY: &str = "UPDATE hooks SET last_delivery_ms = $1, deliveries = deliveries + 1 \
     WHERE account_id = $2 AND provider = $3";

/// The BUILD of a CI run: (app id, build id, build provider).
static BUILD_BY_ID: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {} FROM events WHERE app_id = $1 AND event_type = 'BUILD' AND build_id = $2 \
         AND build_provider = $3 ORDER BY id LIMIT 1",
        crate::columns::EVENT_COLUMNS
    )
});

/// The DEPLOY of a deployment: (app id, deployment id).
static DEPLOY_BY_ID: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {} FROM events WHERE app_id = $1 AND event_type = 'DEPLOY' \
         AND deployment_id = $2 ORDER BY id LIMIT 1",
        crate::columns::EVENT_COLUMNS
    )
});

/// The first PUSH or PULLREQUEST of a commit: (app id, commit id).
static FIRST_PUSH_OF_COMMIT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {} FROM events WHERE app_id = $1 AND commit_id = $2 \
         AND event_type IN ('PUSH', 'PULLREQUEST') ORDER BY id LIMIT 1",
        crate::columns::EVENT_COLUMNS
    )
});

/// The newest RELEASE built from a commit: (app id, commit id).
static LATEST_RELEASE_OF_COMMIT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {} FROM events WHERE app_id = $1 AND commit_id = $2 \
         AND event_type = 'RELEASE' ORDER BY id DESC LIMIT 1",
        crate::columns::EVENT_COLUMNS
    )
});
