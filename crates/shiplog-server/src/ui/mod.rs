//! The web UI: pages for people in a browser under `/-/ui/`, rendered on
//! the server from the templates in `templates/`.
//!
//! Pages read through the same store calls and access rules as the API
//! (a session stands in for the token). They are pages, not calls: they
//! are routed beside the API, not described in its OpenAPI document.

mod assets;
mod charts;
mod csrf;
mod dora;
mod error;
mod pages;
mod session;
mod view;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::state::SharedState;

pub use error::UiError;
pub use session::{Nav, session_account};

/// Whether timelines follow the live stream (`/:username/stream`).
const LIVE_STREAM: bool = true;

/// Where the pages live.
pub const BASE: &str = "/-/ui";

/// What a page may load: only the server's own script, styles and images.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Every page, the sign-in and sign-out forms and the assets they load.
pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/-/ui/") }))
        .route("/favicon.ico", get(assets::icon))
        .route(BASE, get(session::landing))
        .route(
            "/-/ui/login",
            get(session::sign_in_form).post(session::sign_in),
        )
        .route("/-/ui/-/signout", post(session::sign_out))
        .route("/-/ui/-/style.css", get(assets::style))
        .route("/-/ui/-/live.js", get(assets::live))
        .route("/-/ui/{username}", get(pages::account))
        .route("/-/ui/{username}/apps/{app}", get(pages::timeline))
        .route(
            "/-/ui/{username}/apps/{app}/events/{event_id}",
            get(pages::event),
        )
        .route(
            "/-/ui/{username}/apps/{app}/commits/{commit_id}",
            get(pages::commit),
        )
        .route("/-/ui/{username}/envs/{env}", get(pages::env))
        .route("/-/ui/{username}/dora", get(dora::page))
        .layer(axum::middleware::map_response(protect))
}

/// The headers of every UI answer: the content security policy, no
/// framing or sniffing, and no caching of pages (they show live data and
/// carry a CSRF token).
async fn protect(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// A rendered template as a 200 page.
fn render(template: &impl askama::Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(err) => UiError::internal(format!("rendering a page: {err}")).into_response(),
    }
}
