//! The router: every call of the contract, the service's own `/-/` paths,
//! and the JSON answers for unknown paths and methods.

pub(crate) mod apps;
pub(crate) mod cdevents;
pub(crate) mod dora;
pub(crate) mod envs;
pub(crate) mod events;
pub(crate) mod hooks;
pub(crate) mod members;
pub(crate) mod service;
pub(crate) mod story;
pub(crate) mod stream;
pub(crate) mod webhooks;

use axum::Router;
use axum::http::{HeaderValue, Method, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::state::SharedState;

/// Every documented call, registered once with its OpenAPI operation: the
/// router and the description cannot disagree.
pub fn api() -> OpenApiRouter<SharedState> {
    OpenApiRouter::with_openapi(crate::openapi::ApiDoc::openapi())
        .routes(routes!(events::create_push))
        .routes(routes!(events::create_pull_request))
        .routes(routes!(events::create_build))
        .routes(routes!(events::create_release))
        .routes(routes!(events::create_deploy))
        .routes(routes!(events::create_incident))
        .routes(routes!(story::get_event, events::update))
        .routes(routes!(events::list))
        .routes(routes!(story::history))
        .routes(routes!(story::lineage))
        .routes(routes!(story::commit))
        .routes(routes!(story::changes))
        .routes(routes!(dora::get))
        .routes(routes!(hooks::list))
        .routes(routes!(hooks::configure, hooks::delete, hooks::deliver))
        .routes(routes!(webhooks::list))
        .routes(routes!(webhooks::put, webhooks::get, webhooks::delete))
        .routes(routes!(webhooks::deliveries))
        .routes(routes!(stream::stream))
        .routes(routes!(members::list))
        .routes(routes!(members::set, members::remove))
        .routes(routes!(cdevents::receive))
        .routes(routes!(apps::list))
        .routes(routes!(apps::get, apps::create, apps::update, apps::delete))
        .routes(routes!(envs::list))
        .routes(routes!(envs::list_of_app))
        .routes(routes!(envs::get, envs::delete))
        .routes(routes!(envs::create))
        .routes(routes!(service::health))
        .routes(routes!(service::ready))
}

/// The API and the web UI's pages. With `metrics`, `/-/metrics` is served
/// here too; otherwise it is left to [`metrics_router`] on a listener of
/// its own.
pub fn router(state: SharedState, metrics: bool) -> Router {
    let (api, _) = api().split_for_parts();
    let router = if metrics {
        api.route("/-/metrics", get(crate::metrics::render))
    } else {
        api
    };
    router
        .route("/-/openapi.json", get(crate::openapi::serve))
        .merge(crate::ui::router())
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

/// A 200 answer with JSON text made earlier (the first answer of a
/// repeated write).
pub fn json_text(text: String) -> Response {
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// A 200 answer with an empty body, as delete calls give.
pub fn empty() -> Response {
    ().into_response()
}
