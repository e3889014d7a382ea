//! The service's own endpoints under `/-/`.

use axum::extract::State;
use axum::response::Response;
use serde_json::json;

use super::json;
use crate::error::ApiError;
use crate::state::SharedState;

/// Alive: answers as soon as the server accepts requests.
pub async fn health() -> Response {
    json(&json!({"status": "ok"}))
}

/// Ready: the database can be reached.
pub async fn ready(State(state): State<SharedState>) -> Result<Response, ApiError> {
    state.store.ping().await?;
    Ok(json(&json!({"status": "ready"})))
}
