//! The router: every call of the contract, the service's own `/-/` paths,
//! and the JSON answers for unknown paths and methods.

pub(crate) mod apps;
pub(crate) mod envs;
pub(crate) mod events;
pub(crate) mod service;

use axum::Router;
use axum::http::{HeaderValue, Method, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
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
            post(events::update),
        )
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

/// The page a list of named things (apps, envs) asks for. `scope` names the
/// listing, so that its markers work for it alone.
fn name_page(
    state: &SharedState,
    params: &crate::extract::Params,
    scope: &mut Vec<String>,
) -> Result<shiplog_domain::PageRequest<String>, ApiError> {
    use shiplog_domain::Order;
    let order = Order::parse(params.get("order"), Order::Asc)?;
    let limit = shiplog_domain::page::parse_page_size(params.get("max_results"))?;
    scope.push(order.as_str().to_owned());
    let after = match params.get("marker").filter(|m| !m.is_empty()) {
        Some(marker) => Some(state.markers.decode_name(&scope_refs(scope), marker)?),
        None => None,
    };
    Ok(shiplog_domain::PageRequest {
        order,
        limit,
        after,
    })
}

/// Cuts a fetched page of named things and makes the marker of the next.
fn name_marker<T>(
    state: &SharedState,
    scope: &[String],
    rows: Vec<T>,
    limit: usize,
    name: impl Fn(&T) -> &str,
) -> (Vec<T>, Option<String>) {
    let (items, more) = shiplog_domain::page::split_page(rows, limit);
    let marker = more
        .then(|| {
            items
                .last()
                .map(|last| state.markers.encode_name(&scope_refs(scope), name(last)))
        })
        .flatten();
    (items, marker)
}

fn scope_refs(scope: &[String]) -> Vec<&str> {
    scope.iter().map(String::as_str).collect()
}
