//! The router: every call of the contract, the service's own `/-/` paths,
//! and the JSON answers for unknown paths and methods.

pub(crate) mod apps;
pub(crate) mod envs;
pub(crate) mod events;
pub(crate) mod service;
pub(crate) mod story;

use axum::Router;
use axum::http::{HeaderValue, Method, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use serde::Serialize;

use crate::error::ApiError;
use crate::state::SharedState;

/// The API. With `metrics`, `/-/metrics` is served here too; otherwise it
/// is left to [`metrics_router`] on a listener of its own.
pub fn router(state: SharedState, metrics: bool) -> Router {
    let router = if metrics {
        Router::new().route("/-/metrics", get(crate::metrics::render))
    } else {
        Router::new()
    };
    router
        .route("/-/health", get(service::health))
        .route("/-/openapi.json", get(crate::openapi::serve))
        .route("/-/ready", get(service::ready))
        .route("/{username}/apps", get(apps::list))
        .route(
            "/{username}/apps/{app_name}",
            get(apps::get).put(apps::create).delete(apps::delete),
        )
        .route("/{username}/apps/{app_name}/envs", get(envs::list_of_app))
        .route(
            "/{username}/apps/{app_name}/envs/{env_name}",
            put(envs::create),
        )
        .route("/{username}/envs", get(envs::list))
        .route(
            "/{username}/envs/{env_name}",
            get(envs::get).delete(envs::delete),
        )
        .route("/{username}/apps/{app_name}/events", get(events::list))
        .route(
            "/{username}/apps/{app_name}/events/pushEvent",
            put(events::create_push),
        )
        .route(
            "/{username}/apps/{app_name}/events/pullRequestEvent",
            put(events::create_pull_request),
        )
        .route(
            "/{username}/apps/{app_name}/events/buildEvent",
            put(events::create_build),
        )
        .route(
            "/{username}/apps/{app_name}/events/releaseEvent",
            put(events::create_release),
        )
        .route(
            "/{username}/apps/{app_name}/events/deployEvent",
            put(events::create_deploy),
        )
        .route(
            "/{username}/apps/{app_name}/events/{event_id}",
            get(story::get_event).post(events::update),
        )
        .route(
            "/{username}/apps/{app_name}/events/{event_id}/history",
            get(story::history),
        )
        .route(
            "/{username}/apps/{app_name}/events/{event_id}/lineage",
            get(story::lineage),
        )
        .route(
            "/{username}/apps/{app_name}/commits/{commit_id}",
            get(story::commit),
        )
        .route("/{username}/changes", get(story::changes))
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

/// Only `/-/metrics`, for a separate metrics listener.
pub fn metrics_router(state: SharedState) -> Router {
    Router::new()
        .route("/-/metrics", get(crate::metrics::render))
        .fallback(no_route)
        .with_state(state)
}

async fn no_route(uri: Uri) -> ApiError {
    ApiError::NoRoute(format!("Path {}", uri.path()))
}

async fn method_not_allowed(method: Method) -> ApiError {
    ApiError::MethodNotAllowed(method.to_string())
}

/// A 200 answer with compact JSON.
pub fn json<T: Serialize>(value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => {
            let mut response = body.into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
        Err(err) => ApiError::Internal(format!("serialising a response: {err}")).into_response(),
    }
}

/// A 200 answer with an empty body, as delete calls give.
pub fn empty() -> Response {
    ().into_response()
}
