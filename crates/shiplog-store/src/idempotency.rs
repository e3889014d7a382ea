//! Idempotency keys: a write sent with a key is done once; a retry with the
//! same key and request answers what the first call answered and records
//! nothing. The key and the first answer are stored in the transaction of
//! the write, so a crash cannot separate them, and writes are serialised
//! (one writer; one advisory lock on PostgreSQL), so concurrent repeats see
//! each other.

use shiplog_domain::{DomainError, Timestamp};

use crate::columns::Columns;
use crate::db::WriteTx;
use crate::{Result, StoreError};

/// How long a key is kept, in milliseconds: 24 hours.
pub const KEPT_MS: i64 = 24 * 3_600_000;

/// A client's key for a write, with the fingerprint of the request it came
/// with (the server's hash of its method, path and body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    pub key: String,
    pub fingerprint: String,
}

/// The answer of a keyed write: done now, or a repeat answered with the
/// JSON text of the first answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Keyed<T> {
    Done(T),
    Repeat(String),
}

impl<T> Keyed<T> {
    /// The value of a write sent without a key, which is never a repeat.
    pub fn done(self) -> Result<T> {
        match self {
            Keyed::Done(value) => Ok(value),
            Keyed::Repeat(_) => Err(StoreError::Internal(
                "a write without an idempotency key was answered as a repeat".into(),
            )),
        }
    }
}

/// The first answer given to `key`, if it was used within [`KEPT_MS`];
/// `IdempotencyKeyReused` if it came with another request.
pub async fn recall<T: WriteTx>(
    tx: &mut T,
    account_id: i64,
    key: &IdempotencyKey,
    now: Timestamp,
) -> Result<Option<String>> {
    let values = vec![
        account_id.into(),
        key.key.as_str().into(),
        (now.millis() - KEPT_MS).into(),
    ];
    let found = tx.rows(RECALL, values, stored).await?.pop();
    match found {
        None => Ok(None),
        Some((fingerprint, answer)) if fingerprint == key.fingerprint => Ok(Some(answer)),
        Some(_) => Err(DomainError::IdempotencyKeyReused(format!(
            "Idempotency-Key {} was already used with another request",
            key.key
        ))
        .into()),
    }
}

/// Stores the answer given to `key`, and forgets keys past their time.
pub async fn remember<T: WriteTx>(
    tx: &mut T,
    account_id: i64,
    key: &IdempotencyKey,
    answer: &str,
    now: Timestamp,
) -> Result<()> {
    tx.execute(FORGET, vec![(now.millis() - KEPT_MS).into()])
        .await?;
    let values = vec![
        account_id.into(),
        key.key.as_str().into(),
        key.fingerprint.as_str().into(),
        answer.into(),
        now.millis().into(),
    ];
    tx.execute(REMEMBER, values).await.map(|_| ())
}

fn stored(row: &dyn Columns) -> Result<(String, String)> {
    let text = |i| {
        row.text(i)?
            .ok_or_else(|| StoreError::Internal("an idempotency key row lacks a column".into()))
    };
    Ok((text(0)?, text(1)?))
}

/// (account id, key, oldest kept).
const RECALL: &str = "SELECT fingerprint, answer FROM idempotency_keys \
     WHERE account_id = $1 AND idempotency_key = $2 AND created_ms >= $3";

/// (oldest kept). A key past its time is removed before it can be used
/// again, so [`REMEMBER`] never meets it.
const FORGET: &str = "DELETE FROM idempotency_keys WHERE created_ms < $1";

/// (account id, key, fingerprint, answer, created).
const REMEMBER: &str = "INSERT INTO idempotency_keys \
     (account_id, idempotency_key, fingerprint, answer, created_ms) VALUES ($1, $2, $3, $4, $5)";
