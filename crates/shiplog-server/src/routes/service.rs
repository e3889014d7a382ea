//! The service's own endpoints under `/-/`.

use axum::extract::State;
use axum::response::Response;
use serde_json::json;

use super::json;
use crate::error::ApiError;
use crate::state::SharedState;

#[utoipa::path(get, path = "/-/health", operation_id = "Health", tag = "Service", security(()),
    responses((status = 200, description = "The server accepts requests")))]
/// Alive: answers as soon as the server accepts requests.
pub async fn health() -> Response {
    json(&json!({"status": "ok"}))
}

#[utoipa::path(get, path = "/-/ready", operation_id = "Ready", tag = "Service", security(()),
    responses((status = 200, description = "The database can be reached"),
        (status = 503, description = "The database cannot be reached", body = shiplog_api::ErrorBody)))]
/// Ready: the database can be reached.
pub async fn ready(State(state): State<SharedState>) -> Result<Response, ApiError> {
    state.store.ping().await?;
    Ok(json(&json!({"status": "ready"})))
}
