//! The delivery workers of outbound webhooks. One loop per instance claims
//! the deliveries that are due (on PostgreSQL with `FOR UPDATE SKIP
//! LOCKED`, so instances never take the same one) and hands each to a task
//! of its own, at most [`CONCURRENCY`] at once; each attempt is signed
//! afresh and recorded durably before the next is planned. A claim is a
//! lease: a worker that dies mid-attempt leaves its claims to fall due
//! again, so a crash delays deliveries but loses none.

use std::sync::Arc;
use std::time::{Duration, Instant};

use shiplog_domain::outbound::sign;
use shiplog_domain::{Order, PageRequest, Timestamp};
use shiplog_store::webhooks::{Attempt, Claimed};
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinHandle;

use super::message::{Message, render};
use super::targets::ATTEMPT_TIMEOUT;
use crate::state::SharedState;

/// Deliveries in flight at once, per instance.
pub const CONCURRENCY: usize = 16;
/// How long a claim holds: longer than an attempt may take.
const LEASE: Duration = Duration::from_secs(20);
/// The longest the loop sleeps without a wake-up (a safety net: commits
/// and due times wake it sooner).
const IDLE: Duration = Duration::from_secs(5);
/// At most this much of a receiver's answer is kept, as the error.
const ANSWER_EXCERPT: usize = 200;

/// Starts this instance's delivery loop.
pub fn start(state: SharedState) -> JoinHandle<()> {
    tokio::spawn(run(state))
}

async fn run(state: SharedState) {
    let permits = Arc::new(Semaphore::new(CONCURRENCY));
    let freed = Arc::new(Notify::new());
    let mut signal = state.store.outbox_signal();
    loop {
        signal.borrow_and_update();
        let wait = match due_in(&state).await {
            Some(wait) if wait.is_zero() && permits.available_permits() > 0 => {
                let free = permits.available_permits() as u32;
                let claimed = state
                    .store
                    .claim_deliveries(Timestamp::now(), LEASE.as_millis() as i64, free)
                    .await;
                match claimed {
                    Ok(claimed) => {
                        for claim in claimed {
                            let Ok(permit) = permits.clone().try_acquire_owned() else {
                                break;
                            };
                            let (state, freed) = (state.clone(), freed.clone());
                            tokio::spawn(async move {
                                deliver(&state, claim).await;
                                drop(permit);
                                freed.notify_one();
                            });
                        }
                        continue;
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, "claiming webhook deliveries failed");
                        Duration::from_secs(1)
                    }
                }
            }
            Some(wait) => wait.min(IDLE),
            None => IDLE,
        };
        tokio::select! {
            _ = signal.changed() => {}
            _ = freed.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// How long until the next delivery falls due; none when none waits or
/// the store cannot say.
async fn due_in(state: &SharedState) -> Option<Duration> {
    match state.store.next_delivery_due().await {
        Ok(due) => due.map(|due| {
            Duration::from_millis(
                due.millis()
                    .saturating_sub(Timestamp::now().millis())
                    .max(0) as u64,
            )
        }),
        Err(err) => {
            tracing::warn!(error = %err, "reading the webhook outbox failed");
            None
        }
    }
}

/// Makes one attempt of a claimed delivery and records it.
async fn deliver(state: &SharedState, claim: Claimed) {
    let message = match message_of(state, &claim).await {
        Ok(message) => message,
        Err(err) => {
            // The claim's lease runs out and the delivery falls due again.
            tracing::warn!(error = ?err, change_id = claim.change_id, "reading a change to deliver failed");
            return;
        }
    };
    let attempt = match message {
        Some(message) => Some(attempt(state, &claim, &message).await),
        None => None,
    };
    if let Some(attempt) = &attempt
        && !attempt.succeeded()
    {
        tracing::info!(
            change_id = claim.change_id,
            attempt = claim.attempt,
            status = attempt.status_code,
            error = attempt.error.as_deref().unwrap_or_default(),
            "a webhook delivery failed"
        );
    }
    if let Err(err) = state.store.finish_delivery(claim, attempt).await {
        tracing::warn!(error = %err, "recording a webhook delivery failed");
    }
}

/// The change a delivery carries, in its webhook's format.
async fn message_of(
    state: &SharedState,
    claim: &Claimed,
) -> Result<Option<Message>, crate::error::ApiError> {
    let page = PageRequest {
        order: Order::Asc,
        limit: 1,
        after: Some(claim.change_id - 1),
    };
    let change = state
        .store
        .list_changes(&claim.account, &page)
        .await?
        .into_iter()
        .find(|change| change.change_id == claim.change_id);
    match change {
        Some(change) => render(state, &claim.account, change, claim.format).await,
        // Gone with its app: nothing to send.
        None => Ok(None),
    }
}

/// POSTs a message, signed as the Standard Webhooks specification says.
async fn attempt(state: &SharedState, claim: &Claimed, message: &Message) -> Attempt {
    let at = Timestamp::now();
    let started = Instant::now();
    let outcome = send(state, claim, message, at).await;
    let duration_ms = started.elapsed().as_millis() as u64;
    match outcome {
        Ok((status, answer)) => Attempt {
            at,
            status_code: Some(status),
            duration_ms,
            error: (!(200..300).contains(&status)).then(|| {
                let excerpt: String = answer.chars().take(ANSWER_EXCERPT).collect();
                format!("answered {status}: {excerpt}")
                    .trim_end()
                    .to_owned()
            }),
        },
        Err(error) => Attempt {
            at,
            status_code: None,
            duration_ms,
            error: Some(error),
        },
    }
}

async fn send(
    state: &SharedState,
    claim: &Claimed,
    message: &Message,
    at: Timestamp,
) -> Result<(u16, String), String> {
    let url = state
        .targets
        .check_form(&claim.url)
        .map_err(|err| err.to_string())?;
    let id = claim.message_id();
    let timestamp = at.millis() / 1000;
    let signature = sign(&claim.secret, &id, timestamp, message.body.as_bytes());
    let mut request = state
        .targets
        .client()
        .post(url)
        .header("webhook-id", &id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature);
    for (name, value) in &message.headers {
        request = request.header(*name, value);
    }
    let response = request
        .body(message.body.clone())
        .send()
        .await
        // The URL is left out: it may carry the receiver's own credentials.
        .map_err(|err| describe(&err.without_url()))?;
    let status = response.status().as_u16();
    let answer = tokio::time::timeout(ATTEMPT_TIMEOUT, response.text())
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    Ok((status, answer))
}

/// An error with its causes, which say what actually went wrong.
fn describe(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
