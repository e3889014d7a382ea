//! Request plumbing around the router: path normalisation, request ids and
//! the one log line per request.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::extract::BODY_LIMIT;
use tracing::Instrument;

/// The response header carrying the request id.
pub const REQUEST_ID_HEADER: &str = "x-dstli-rid";

/// Collapses repeated slashes (`//jdoe//apps`) and drops a trailing one, as
/// a popular client builds such URLs. Runs before routing.
pub fn normalize_path<B>(mut request: axum::http::Request<B>) -> axum::http::Request<B> {
    let path = request.uri().path();
    if !(path.contains("//") || (path.len() > 1 && path.ends_with('/'))) {
        return request;
    }
    let mut clean = String::with_capacity(path.len());
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        clean.push('/');
        clean.push_str(segment);
    }
    if clean.is_empty() {
        clean.push('/');
    }
    if let Some(query) = request.uri().query() {
        clean.push('?');
        clean.push_str(query);
    }
    let mut parts = request.uri().clone().into_parts();
    if let Ok(path_and_query) = clean.parse() {
        parts.path_and_query = Some(path_and_query);
        if let Ok(uri) = Uri::from_parts(parts) {
            *request.uri_mut() = uri;
        }
    }
    request
}

/// Reads and drops the body of a GET, HEAD or DELETE, which the API ignores:
/// answering without reading it would cost the client its connection.
pub async fn discard_ignored_body(request: Request, next: Next) -> Response {
    let ignored = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::DELETE
    );
    let headers = request.headers();
    let has_body = headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .is_some_and(|len| len.as_bytes() != b"0");
    if !(ignored && has_body) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    if axum::body::to_bytes(body, BODY_LIMIT).await.is_err() {
        return ApiError::PayloadTooLarge(format!(
            "The request body exceeds the limit of {BODY_LIMIT} bytes"
        ))
        .into_response();
    }
    next.run(Request::from_parts(parts, Body::empty())).await
}

/// Bounds the API requests being served at once: past the limit a request
/// is answered 503 with `Retry-After` at once, instead of queueing without
/// end. The service's own `/-/` paths are not counted.
pub async fn limit_in_flight(
    State(permits): State<Arc<Semaphore>>,
    request: Request,
    next: Next,
) -> Response {
    if request.uri().path().starts_with("/-/") {
        return next.run(request).await;
    }
    match permits.try_acquire() {
        Ok(_permit) => next.run(request).await,
        Err(_) => ApiError::Overloaded.into_response(),
    }
}

/// Answers 503 to a request that takes longer than the configured limit.
pub async fn request_deadline(
    State(limit): State<Duration>,
    request: Request,
    next: Next,
) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(limit_ms = limit.as_millis() as u64, "request timed out");
            ApiError::Timeout.into_response()
        }
    }
}

/// Gives every request an id (in the `x-dstli-rid` header and in its log
/// line) and logs method, route template, status and duration. The raw URI
/// is never logged: it may carry `apiToken`.
pub async fn request_log(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let rid = format!("{:016x}", rand::random::<u64>());
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_owned();
    let span = tracing::info_span!("request", rid = %rid);
    let mut response = next.run(request).instrument(span.clone()).await;
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    crate::metrics::record_request(&route, method.as_str(), status, elapsed.as_secs_f64());
    span.in_scope(|| {
        tracing::info!(
            %method,
            route = %route,
            status,
            duration_us = elapsed.as_micros() as u64,
            "request"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&rid) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}
