//! The web UI scenarios: the account page and an app's timeline, fetched
//! with a session cookie as a browser would, on the large store. The
//! session is opened through the store before the server starts, so no
//! sign-in form is part of the measurement.

use std::time::Duration;

use anyhow::Context;
use shiplog_domain::Timestamp;
use shiplog_domain::token::hash_token;

use crate::loadgen::Request;

/// The session's secret, as its cookie carries it.
pub const SESSION_SECRET: &str = "bench-ui-session-0123456789abcdef";
/// The cookie a signed-in browser sends.
pub const COOKIE: &str = "shiplog_session=bench-ui-session-0123456789abcdef";

/// Opens a session of `user` on the store at `url`, valid for a day.
pub async fn open_session(url: &str, user: &str) -> anyhow::Result<()> {
    let store = shiplog_server::database::open(url).await?;
    let now = Timestamp::now();
    let expires =
        Timestamp::from_millis(now.millis() + Duration::from_secs(86_400).as_millis() as i64);
    store
        .create_session(
            user,
            hash_token(SESSION_SECRET),
            "bench-csrf-token",
            now,
            expires,
        )
        .await
        .context("opening the web UI session of the benchmark")
}

/// Requests of one page, with the session's cookie.
pub fn page_requests(path: &str) -> Vec<Request> {
    vec![Request::with_headers(
        "GET",
        path,
        &[("cookie", COOKIE)],
        None,
        0,
    )]
}
