//! Outbound webhooks: their configuration, the outbox each change fills in
//! the transaction that records it, the claims of the delivery workers and
//! the attempts they make. The stream and the workers read the change
//! record itself; the outbox only says which webhook still owes which
//! change.

use shiplog_domain::outbound::{self, Format, Scope};
use shiplog_domain::{EventType, Timestamp};

use crate::columns::{Columns, SqlValue};
use crate::db::{Db, WriteTx};
use crate::{Account, Result, StoreError};

/// When a paused webhook's rows are due: never, until it is enabled.
const PAUSED: i64 = i64::MAX;

/// What a webhook is configured to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookConfig {
    pub url: String,
    pub scope: Scope,
    pub format: Format,
    pub enabled: bool,
}

/// A webhook as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub name: String,
    pub config: WebhookConfig,
    /// Since when its deliveries have been failing.
    pub failing_since: Option<Timestamp>,
    /// Why it was disabled, when the server disabled it.
    pub disabled_reason: Option<String>,
}

/// A delivery a worker has claimed: the change it owes and where to send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub outbox_id: i64,
    pub webhook_id: i64,
    pub account: Account,
    pub change_id: i64,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// Retries stop this long after the change.
    pub deadline: Timestamp,
    pub url: String,
    pub secret: String,
    pub format: Format,
}

impl Claimed {
    /// The `webhook-id` of this delivery: the same for every attempt.
    pub fn message_id(&self) -> String {
        message_id(self.webhook_id, self.change_id)
    }
}

/// The `webhook-id` of a webhook's delivery of a change.
pub fn message_id(webhook_id: i64, change_id: i64) -> String {
    format!("msg_{webhook_id}_{change_id}")
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub at: Timestamp,
    /// The receiver's status; none when no answer came.
    pub status_code: Option<u16>,
    pub duration_ms: u64,
    /// Why it failed: no answer, or an answer other than 2xx.
    pub error: Option<String>,
}

impl Attempt {
    pub fn succeeded(&self) -> bool {
        self.status_code
            .is_some_and(|code| (200..300).contains(&code))
    }
}

/// An attempt as listed by ListDeliveries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRow {
    pub id: i64,
    pub webhook_id: i64,
    pub change_id: i64,
    pub attempt: u32,
    pub outcome: Attempt,
}

/// Queues every change recorded after `after` for each webhook whose scope
/// takes it. A backend's writer calls this once per batch, before it
/// commits, with the last change id before the batch: writes are
/// serialised (one SQLite writer; one advisory lock on PostgreSQL), so the
/// changes past it are the batch's own, and they are queued in the
/// transaction that records them with one statement instead of one per
/// change. Answers how many deliveries it queued.
pub async fn enqueue_since<T: WriteTx>(tx: &mut T, after: i64) -> Result<u64> {
    let window = outbound::RETRY_WINDOW.as_millis() as i64;
    let values = vec![PAUSED.into(), window.into(), after.into()];
    tx.execute(&ENQUEUE_SINCE, values).await
}

/// The last change id recorded so far (in a column `last_change_id`):
/// where [`enqueue_since`] starts.
pub const LAST_CHANGE_ID: &str = "SELECT coalesce(max(id), 0) AS last_change_id FROM changes";

/// Creates a webhook with `secret`, or replaces its configuration (and,
/// with `rotate`, its secret by `secret`); true if `secret` is now the
/// webhook's. A webhook enabled again resumes with what it still owes,
/// each change given a fresh retry window.
pub async fn put<T: WriteTx>(
    tx: &mut T,
    account: &Account,
    name: &str,
    config: &WebhookConfig,
    secret: &str,
    rotate: bool,
) -> Result<bool> {
    let now = Timestamp::now().millis();
    let existing = tx
        .rows(WEBHOOK_STATE, vec![account.id.into(), name.into()], |row| {
            Ok((row.int(0)?, row.boolean(1)?))
        })
        .await?
        .pop();
    let (id, kept) = match existing {
        Some((Some(id), Some(was_enabled))) => {
            let values = vec![
                config.url.as_str().into(),
                config.scope.event_type_mask().into(),
                config.format.as_str().into(),
                SqlValue::Bool(Some(config.enabled)),
                id.into(),
            ];
            tx.execute(UPDATE_WEBHOOK, values).await?;
            if rotate {
                tx.execute(ROTATE_SECRET, vec![secret.into(), id.into()])
                    .await?;
            }
            if config.enabled && !was_enabled {
                let deadline = now + outbound::RETRY_WINDOW.as_millis() as i64;
                tx.execute(RESUME_OUTBOX, vec![now.into(), deadline.into(), id.into()])
                    .await?;
                tx.execute(CLEAR_FAILURE, vec![id.into()]).await?;
            } else if !config.enabled && was_enabled {
                tx.execute(PAUSE_OUTBOX, vec![PAUSED.into(), id.into()])
                    .await?;
            }
            tx.execute(CLEAR_APPS, vec![id.into()]).await?;
            (id, rotate)
        }
        _ => {
            let values = vec![
                account.id.into(),
                name.into(),
                config.url.as_str().into(),
                config.scope.event_type_mask().into(),
                config.format.as_str().into(),
                SqlValue::Bool(Some(config.enabled)),
                secret.into(),
                now.into(),
            ];
            (tx.insert(INSERT_WEBHOOK, values).await?, true)
        }
    };
    for app in &config.scope.apps {
        tx.execute(INSERT_APP, vec![id.into(), app.as_str().into()])
            .await?;
    }
    Ok(kept)
}

/// The account's webhooks, by name.
pub async fn list<D: Db>(db: &mut D, account: &Account) -> Result<Vec<Webhook>> {
    let mut webhooks = db
        .rows(&LIST_WEBHOOKS, vec![account.id.into()], webhook_row)
        .await?;
    for (id, webhook) in &mut webhooks {
        webhook.config.scope.apps = apps_of(db, *id).await?;
    }
    Ok(webhooks.into_iter().map(|(_, webhook)| webhook).collect())
}

/// One of the account's webhooks; `NotFound` without it.
pub async fn get<D: Db>(db: &mut D, account: &Account, name: &str) -> Result<Webhook> {
    let (id, mut webhook) = db
        .rows(
            &GET_WEBHOOK,
            vec![account.id.into(), name.into()],
            webhook_row,
        )
        .await?
        .pop()
        .ok_or_else(|| not_found(name))?;
    webhook.config.scope.apps = apps_of(db, id).await?;
    Ok(webhook)
}

/// Removes a webhook with what it still owes and its attempts.
pub async fn delete<T: WriteTx>(tx: &mut T, account: &Account, name: &str) -> Result<()> {
    match tx
        .execute(DELETE_WEBHOOK, vec![account.id.into(), name.into()])
        .await?
    {
        0 => Err(not_found(name)),
        _ => Ok(()),
    }
}

/// One page of a webhook's attempts, newest first, `limit` at most, before
/// the attempt `before` (none: from the newest).
pub async fn attempts<D: Db>(
    db: &mut D,
    account: &Account,
    name: &str,
    before: Option<i64>,
    limit: u32,
) -> Result<Vec<AttemptRow>> {
    let id = webhook_id(db, account, name).await?;
    let values = vec![
        id.into(),
        before.unwrap_or(i64::MAX).into(),
        i64::from(limit).into(),
    ];
    db.rows(ATTEMPTS, values, |row| {
        let int = |i| row.int(i)?.ok_or_else(corrupt);
        Ok(AttemptRow {
            id: int(0)?,
            webhook_id: int(1)?,
            change_id: int(2)?,
            attempt: int(3)?.try_into().unwrap_or(0),
            outcome: Attempt {
                at: Timestamp::from_millis(int(4)?),
                status_code: row.int(5)?.and_then(|code| code.try_into().ok()),
                duration_ms: int(6)?.try_into().unwrap_or(0),
                error: row.text(7)?,
            },
        })
    })
    .await
}

/// Claims up to `limit` deliveries due at `now` for `lease_ms`: past it an
/// unanswered claim is due again (its worker is taken to have died).
/// `lock` is what the backend appends so that concurrent claimers skip the
/// rows another holds (`FOR UPDATE … SKIP LOCKED`), or nothing.
pub async fn claim<T: WriteTx>(
    tx: &mut T,
    now: Timestamp,
    lease_ms: i64,
    limit: u32,
    lock: &str,
) -> Result<Vec<Claimed>> {
    let sql = format!("{CLAIM}{lock}");
    let values = vec![now.millis().into(), i64::from(limit).into()];
    let claimed = tx
        .rows(&sql, values, |row| {
            let int = |i| row.int(i)?.ok_or_else(corrupt);
            let text = |i| row.text(i)?.ok_or_else(corrupt);
            let format = text(9)?;
            Ok(Claimed {
                outbox_id: int(0)?,
                webhook_id: int(1)?,
                change_id: int(2)?,
                attempt: u32::try_from(int(3)?).unwrap_or(u32::MAX - 1) + 1,
                deadline: Timestamp::from_millis(int(4)?),
                account: Account {
                    id: int(5)?,
                    name: text(6)?,
                },
                url: text(7)?,
                secret: text(8)?,
                format: Format::parse("format", &format).map_err(|_| corrupt())?,
            })
        })
        .await?;
    let until = now.millis().saturating_add(lease_ms);
    for claim in &claimed {
        tx.execute(TAKE_CLAIM, vec![until.into(), claim.outbox_id.into()])
            .await?;
    }
    Ok(claimed)
}

/// Records an attempt: done when it succeeded; else due again after the
/// retry schedule, or, past the change's retry window, the webhook is
/// disabled with the reason and keeps what it owes until enabled again.
/// No attempt means there was nothing to send (a change its format does
/// not carry, or one deleted with its app): the delivery is done.
pub async fn finish<T: WriteTx>(
    tx: &mut T,
    claimed: &Claimed,
    attempt: Option<&Attempt>,
) -> Result<()> {
    let Some(attempt) = attempt else {
        return tx
            .execute(DELETE_OUTBOX, vec![claimed.outbox_id.into()])
            .await
            .map(|_| ());
    };
    let values = vec![
        claimed.change_id.into(),
        i64::from(claimed.attempt).into(),
        attempt.at.millis().into(),
        SqlValue::Int(attempt.status_code.map(i64::from)),
        i64::try_from(attempt.duration_ms)
            .unwrap_or(i64::MAX)
            .into(),
        SqlValue::Text(attempt.error.clone()),
        claimed.webhook_id.into(),
    ];
    if tx.execute(INSERT_ATTEMPT, values).await? == 0 {
        // The webhook was deleted meanwhile, with what it owed.
        return Ok(());
    }
    let now = attempt.at.millis();
    if attempt.succeeded() {
        tx.execute(DELETE_OUTBOX, vec![claimed.outbox_id.into()])
            .await?;
        tx.execute(CLEAR_FAILING, vec![claimed.webhook_id.into()])
            .await?;
        return Ok(());
    }
    tx.execute(MARK_FAILING, vec![now.into(), claimed.webhook_id.into()])
        .await?;
    let next = now + outbound::retry_delay(claimed.attempt).as_millis() as i64;
    if next <= claimed.deadline.millis() {
        let values = vec![
            next.into(),
            i64::from(claimed.attempt).into(),
            claimed.outbox_id.into(),
        ];
        tx.execute(RETRY_LATER, values).await?;
        return Ok(());
    }
    let reason = format!(
        "change {} could not be delivered within {} hours of being made: {}",
        claimed.change_id,
        outbound::RETRY_WINDOW.as_secs() / 3600,
        attempt.error.as_deref().unwrap_or("no 2xx answer")
    );
    let values = vec![i64::from(claimed.attempt).into(), claimed.outbox_id.into()];
    tx.execute(COUNT_ATTEMPTS, values).await?;
    tx.execute(
        DISABLE,
        vec![reason.as_str().into(), claimed.webhook_id.into()],
    )
    .await?;
    tx.execute(PAUSE_OUTBOX, vec![PAUSED.into(), claimed.webhook_id.into()])
        .await
        .map(|_| ())
}

/// When the next delivery falls due, if any is waiting.
pub async fn next_due<D: Db>(db: &mut D) -> Result<Option<Timestamp>> {
    let due = db
        .rows(NEXT_DUE, vec![PAUSED.into()], |row| row.int(0))
        .await?
        .pop()
        .flatten();
    Ok(due.map(Timestamp::from_millis))
}

/// The account's newest change id; 0 before its first.
pub async fn last_change_id<D: Db>(db: &mut D, account: &Account) -> Result<i64> {
    Ok(db
        .rows(LAST_CHANGE, vec![account.id.into()], |row| row.int(0))
        .await?
        .pop()
        .flatten()
        .unwrap_or(0))
}

async fn webhook_id<D: Db>(db: &mut D, account: &Account, name: &str) -> Result<i64> {
    db.rows(WEBHOOK_STATE, vec![account.id.into(), name.into()], |row| {
        row.int(0)
    })
    .await?
    .pop()
    .flatten()
    .ok_or_else(|| not_found(name))
}

async fn apps_of<D: Db>(db: &mut D, id: i64) -> Result<Vec<String>> {
    let apps = db.rows(APPS_OF, vec![id.into()], |row| row.text(0)).await?;
    Ok(apps.into_iter().flatten().collect())
}

fn webhook_row(row: &dyn Columns) -> Result<(i64, Webhook)> {
    let text = |i| row.text(i)?.ok_or_else(corrupt);
    let format = text(4)?;
    Ok((
        row.int(0)?.ok_or_else(corrupt)?,
        Webhook {
            name: text(1)?,
            config: WebhookConfig {
                url: text(2)?,
                scope: Scope {
                    event_types: Scope::event_types_of_mask(row.int(3)?.ok_or_else(corrupt)?),
                    apps: Vec::new(),
                },
                format: Format::parse("format", &format).map_err(|_| corrupt())?,
                enabled: row.boolean(5)?.ok_or_else(corrupt)?,
            },
            failing_since: row.int(6)?.map(Timestamp::from_millis),
            disabled_reason: row.text(7)?,
        },
    ))
}

fn corrupt() -> StoreError {
    StoreError::Internal("a webhook row lacks a column".into())
}

fn not_found(name: &str) -> StoreError {
    StoreError::not_found(format!("Webhook {name}"))
}

/// (paused, retry window, after change id: numbered in the order they
/// appear, as SQLite numbers them). The event type's bit of a
/// webhook's scope is written out from [`outbound::event_type_bit`].
static ENQUEUE_SINCE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let bits: String = EventType::ALL
        .iter()
        .map(|t| {
            format!(
                " WHEN '{}' THEN {}",
                t.as_str(),
                outbound::event_type_bit(*t)
            )
        })
        .collect();
    format!(
        "INSERT INTO webhook_outbox \
         (webhook_id, change_id, attempts, next_attempt_ms, deadline_ms) \
         SELECT w.id, c.id, 0, CASE WHEN w.enabled THEN c.at_ms ELSE $1 END, c.at_ms + $2 \
         FROM changes c JOIN events e ON e.id = c.event_id JOIN apps p ON p.id = c.app_id \
         JOIN webhooks w ON w.account_id = c.account_id \
         WHERE c.id > $3 \
         AND (w.event_types = 0 OR (w.event_types & (CASE e.event_type{bits} ELSE 0 END)) <> 0) \
         AND (NOT EXISTS (SELECT 1 FROM webhook_apps a WHERE a.webhook_id = w.id) \
              OR EXISTS (SELECT 1 FROM webhook_apps a WHERE a.webhook_id = w.id AND a.app_name = p.name)) \
         ORDER BY c.id, w.id"
    )
});

const WEBHOOK_STATE: &str = "SELECT id, enabled FROM webhooks WHERE account_id = $1 AND name = $2";

const WEBHOOK_COLUMNS: &str =
    "id, name, url, event_types, format, enabled, failing_since_ms, disabled_reason";

static LIST_WEBHOOKS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE account_id = $1 ORDER BY name")
});

static GET_WEBHOOK: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE account_id = $1 AND name = $2")
});

const APPS_OF: &str = "SELECT app_name FROM webhook_apps WHERE webhook_id = $1 ORDER BY app_name";

const INSERT_WEBHOOK: &str = "INSERT INTO webhooks \
     (account_id, name, url, event_types, format, enabled, secret, created_ms) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

const UPDATE_WEBHOOK: &str =
    "UPDATE webhooks SET url = $1, event_types = $2, format = $3, enabled = $4 WHERE id = $5";

const ROTATE_SECRET: &str = "UPDATE webhooks SET secret = $1 WHERE id = $2";

const CLEAR_APPS: &str = "DELETE FROM webhook_apps WHERE webhook_id = $1";

const INSERT_APP: &str = "INSERT INTO webhook_apps (webhook_id, app_name) VALUES ($1, $2)";

/// (now, deadline, webhook id): a resumed webhook's rows are due at once,
/// each with at least a fresh retry window.
const RESUME_OUTBOX: &str = "UPDATE webhook_outbox SET next_attempt_ms = $1, \
     deadline_ms = CASE WHEN deadline_ms < $2 THEN $2 ELSE deadline_ms END WHERE webhook_id = $3";

const PAUSE_OUTBOX: &str = "UPDATE webhook_outbox SET next_attempt_ms = $1 WHERE webhook_id = $2";

const CLEAR_FAILURE: &str =
    "UPDATE webhooks SET failing_since_ms = NULL, disabled_reason = NULL WHERE id = $1";

const DELETE_WEBHOOK: &str = "DELETE FROM webhooks WHERE account_id = $1 AND name = $2";

/// (webhook id, before, limit).
const ATTEMPTS: &str = "SELECT id, webhook_id, change_id, attempt, at_ms, status_code, \
     duration_ms, error FROM webhook_attempts WHERE webhook_id = $1 AND id < $2 \
     ORDER BY id DESC LIMIT $3";

/// (now, limit); the backend appends its row lock.
const CLAIM: &str = "SELECT o.id, o.webhook_id, o.change_id, o.attempts, o.deadline_ms, \
     w.account_id, u.name, w.url, w.secret, w.format \
     FROM webhook_outbox o JOIN webhooks w ON w.id = o.webhook_id JOIN users u ON u.id = w.account_id \
     WHERE o.next_attempt_ms <= $1 ORDER BY o.next_attempt_ms LIMIT $2";

const TAKE_CLAIM: &str = "UPDATE webhook_outbox SET next_attempt_ms = $1 WHERE id = $2";

/// (change id, attempt, at, status, duration, error, webhook id): nothing
/// when the webhook is gone.
const INSERT_ATTEMPT: &str = "INSERT INTO webhook_attempts \
     (webhook_id, change_id, attempt, at_ms, status_code, duration_ms, error) \
     SELECT id, $1, $2, $3, $4, $5, $6 FROM webhooks WHERE id = $7";

const DELETE_OUTBOX: &str = "DELETE FROM webhook_outbox WHERE id = $1";

const CLEAR_FAILING: &str =
    "UPDATE webhooks SET failing_since_ms = NULL WHERE id = $1 AND failing_since_ms IS NOT NULL";

const MARK_FAILING: &str =
    "UPDATE webhooks SET failing_since_ms = $1 WHERE id = $2 AND failing_since_ms IS NULL";

/// (next attempt, attempts made, outbox id).
const RETRY_LATER: &str =
    "UPDATE webhook_outbox SET next_attempt_ms = $1, attempts = $2 WHERE id = $3";

const COUNT_ATTEMPTS: &str = "UPDATE webhook_outbox SET attempts = $1 WHERE id = $2";

const DISABLE: &str = "UPDATE webhooks SET enabled = FALSE, disabled_reason = $1 WHERE id = $2";

const NEXT_DUE: &str = "SELECT MIN(next_attempt_ms) FROM webhook_outbox WHERE next_attempt_ms < $1";

const LAST_CHANGE: &str = "SELECT MAX(id) FROM changes WHERE account_id = $1";
