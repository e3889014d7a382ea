//! The live stream: an account's changes as server-sent events, read from
//! the change record after the client's cursor whenever a commit (here or,
//! on PostgreSQL, on another instance) wakes the stream. The record is the
//! truth and the wake-up only a hint, so a stream resumed with
//! `Last-Event-ID` receives exactly what it missed, in order.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use shiplog_domain::outbound::{Format, Scope, parse_event_types};
use shiplog_domain::{Change, DomainError, EventType, Order, PageRequest, ResourceName};
use shiplog_store::Account;
use tokio::sync::{OwnedSemaphorePermit, mpsc};

use crate::error::ApiError;
use crate::extract::{Params, ReadAccess};
use crate::outbound::message::render;
use crate::state::SharedState;

/// Changes read from the record at a time.
const PAGE: usize = 100;
/// Messages a client may fall behind by before it is disconnected (it
/// resumes with `Last-Event-ID`).
const BUFFER: usize = 256;
/// The comment line that keeps proxies from closing an idle stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// The longest a stream waits without a wake-up before it reads the record
/// again, so that a lost notification only delays.
const IDLE: Duration = Duration::from_secs(15);

/// StreamChanges: the account's changes as they are committed
/// (`text/event-stream`): `id: <change_id>`, `event: change` (or `cdevent`),
/// `data: <the Change, or the CDEvent>`.
#[utoipa::path(get, path = "/{username}/stream", operation_id = "StreamChanges", tag = "Live",
    params(crate::openapi::AccountPath, crate::openapi::StreamQuery, crate::openapi::LastEventIdHeader),
    responses((status = 200, content_type = "text/event-stream", body = String,
        description = "Server-sent events, one per change, until the client leaves"),
        crate::openapi::ApiErrors))]
pub async fn stream(
    State(state): State<SharedState>,
    ReadAccess(account): ReadAccess,
    params: Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let app = match params.get("app").filter(|app| !app.is_empty()) {
        Some(app) => {
            let name = ResourceName::parse("App", app)?;
            state.store.get_app(&account, name.as_str()).await?;
            vec![name.to_string()]
        }
        None => Vec::new(),
    };
    let scope = Scope {
        event_types: parse_event_types(
            "event_type",
            params.get("event_type").unwrap_or_default().split(','),
        )?,
        apps: app,
    };
    let format = match params.get("format").filter(|f| !f.is_empty()) {
        Some(format) => Format::parse("format", format)?,
        None => Format::Shiplog,
    };
    let cursor = match last_event_id(&headers)? {
        Some(id) => id,
        None => match params.get("after").filter(|a| !a.trim().is_empty()) {
            Some(after) => change_id("after", after)?,
            // The first change after the stream opened.
            None => state.store.last_change_id(&account).await?,
        },
    };
    let permit = state
        .streams
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::Overloaded)?;
    let (sender, receiver) = mpsc::channel(BUFFER);
    let follower = Follower {
        state: state.clone(),
        account,
        scope,
        format,
        cursor,
        sender,
        _permit: permit,
    };
    tokio::spawn(follower.run());
    let events = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver
            .recv()
            .await
            .map(|event| (Ok::<_, Infallible>(event), receiver))
    });
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response())
}

/// `Last-Event-ID`, which wins over `after`.
fn last_event_id(headers: &HeaderMap) -> Result<Option<i64>, DomainError> {
    match headers.get("last-event-id") {
        None => Ok(None),
        Some(value) => {
            let text = value.to_str().unwrap_or("-");
            if text.trim().is_empty() {
                return Ok(None);
            }
            change_id("Last-Event-ID", text).map(Some)
        }
    }
}

fn change_id(param: &str, text: &str) -> Result<i64, DomainError> {
    match text.trim().parse::<i64>() {
        Ok(id) if id >= 0 => Ok(id),
        _ => Err(DomainError::bad_param(
            param,
            "expected a change id: a whole number, 0 or more",
        )),
    }
}

/// One client's stream, fed from the change record.
struct Follower {
    state: SharedState,
    account: Account,
    scope: Scope,
    format: Format,
    /// The last change id read (sent or skipped).
    cursor: i64,
    sender: mpsc::Sender<SseEvent>,
    /// Held while the stream is open: the server bounds open streams.
    _permit: OwnedSemaphorePermit,
}

impl Follower {
    /// Sends every change after the cursor, then waits for a commit, until
    /// the client leaves, falls too far behind or the store fails (the
    /// client then resumes from the last id it received).
    async fn run(mut self) {
        let mut signal = self.state.store.change_signal();
        loop {
            signal.borrow_and_update();
            let page = PageRequest {
                order: Order::Asc,
                limit: PAGE,
                after: Some(self.cursor),
            };
            // No connection is held past this read, while the stream waits.
            let changes = match self.state.store.list_changes(&self.account, &page).await {
                Ok(changes) => changes,
                Err(err) => {
                    tracing::warn!(error = %err, "a stream could not read the change record");
                    return;
                }
            };
            let more = changes.len() > PAGE;
            for change in changes.into_iter().take(PAGE) {
                if !self.send(change).await {
                    return;
                }
            }
            if more {
                continue;
            }
            tokio::select! {
                _ = signal.changed() => {}
                _ = self.sender.closed() => return,
                _ = tokio::time::sleep(IDLE) => {}
            }
        }
    }

    /// Sends a change if it is in scope; false when the stream must end.
    async fn send(&mut self, change: Change) -> bool {
        self.cursor = change.change_id;
        let event_type = change
            .event
            .get("event_type")
            .and_then(|t| t.as_str())
            .and_then(EventType::parse);
        if !event_type.is_some_and(|t| self.scope.matches(&change.app_name, t)) {
            return true;
        }
        let id = change.change_id;
        let message = match render(&self.state, &self.account, change, self.format).await {
            Ok(Some(message)) => message,
            Ok(None) => return true,
            Err(err) => {
                tracing::warn!(error = ?err, "a stream could not write a change");
                return false;
            }
        };
        let event = SseEvent::default()
            .id(id.to_string())
            .event(message.kind)
            .data(message.body);
        // A full buffer means the client reads too slowly: it is let go.
        self.sender.try_send(event).is_ok()
    }
}

/// Streams open at once; more are answered 503.
pub const MAX_STREAMS: usize = 512;

/// The permits of open streams.
pub fn stream_permits() -> Arc<tokio::sync::Semaphore> {
    Arc::new(tokio::sync::Semaphore::new(MAX_STREAMS))
}
