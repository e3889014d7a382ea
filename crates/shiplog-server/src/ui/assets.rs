//! The UI's style sheet, its one script and its icon, built into the
//! binary.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

const STYLE: &str = include_str!("../../assets/style.css");
const LIVE: &str = include_str!("../../assets/live.js");
const ICON: &[u8] = include_bytes!("../../assets/favicon.ico");

fn asset(content_type: &'static str, body: impl IntoResponse) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Short: a new version of the server is picked up within the hour.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}

pub async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE)
}

pub async fn live() -> Response {
    asset("text/javascript; charset=utf-8", LIVE)
}

pub async fn icon() -> Response {
    asset("image/x-icon", ICON)
}
