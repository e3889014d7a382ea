//! Request plumbing around the router: path normalisation, request ids and
//! the one log line per request.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, Uri};
use axum::middleware::Next;
use axum::response::Response;
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
    span.in_scope(|| {
        tracing::info!(
            %method,
            route = %route,
            status,
            duration_us = started.elapsed().as_micros() as u64,
            "request"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&rid) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}
