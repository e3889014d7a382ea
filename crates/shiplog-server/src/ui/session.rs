//! Signing in and out, and the session behind every page.
//!
//! A session is a random secret in an `HttpOnly`, `SameSite=Strict`
//! cookie (`Secure` when the public URL is https); the database keeps only
//! its SHA-256, so any instance sharing it knows the session. A session
//! ends at sign-out, or after [`crate::state::AppState::session_idle`]
//! without a request.

use std::time::Duration;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, RawPathParams, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use shiplog_domain::token::{hash_token, random_alnum};
use shiplog_domain::{Actor, ResourceName, Timestamp};
use shiplog_store::sessions::SessionAccess;
use shiplog_store::{Access, Account};

use super::{UiError, csrf, render};
use crate::error::ApiError;
use crate::state::SharedState;

/// The cookie holding the session's secret.
pub const SESSION_COOKIE: &str = "shiplog_session";
/// The cookie the sign-in form's CSRF token is checked against.
pub const SIGN_IN_COOKIE: &str = "shiplog_signin";
/// A session's use is written down at most this often: its expiry moves
/// on without a write for every page.
const TOUCH_EVERY: Duration = Duration::from_secs(60);
/// Characters of a session's secret: about 250 bits.
const SECRET_LEN: usize = 48;

/// The signed-in user, for the navigation and the sign-out form of a page.
#[derive(Debug, Clone)]
pub struct Nav {
    pub user: String,
    pub csrf: String,
    /// The account the page shows (the user's own on pages of none).
    pub account: String,
}

/// The account a page names, which the session's user may read.
pub struct Viewer {
    pub account: Account,
    pub nav: Nav,
}

impl FromRequestParts<SharedState> for Viewer {
    type Rejection = UiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &SharedState,
    ) -> Result<Self, Self::Rejection> {
        let secret = cookie(&parts.headers, SESSION_COOKIE).ok_or(UiError::SignIn)?;
        let named = named_account(parts, state).await;
        let id = hash_token(&secret);
        let now = Timestamp::now();
        let access = state
            .store
            .session(id, &named, now)
            .await
            .map_err(|err| lookup_failed(err.into()))?;
        let nav = |session: &shiplog_store::sessions::Session, account: &str| Nav {
            user: session.user.clone(),
            csrf: session.csrf.clone(),
            account: account.to_owned(),
        };
        match access {
            SessionAccess::Unauthenticated => Err(UiError::SignIn),
            SessionAccess::Denied(session) => {
                let own = session.user.clone();
                Err(UiError::page(
                    StatusCode::FORBIDDEN,
                    format!("Access denied: {own} may not read the account {named}"),
                    Some(nav(&session, &own)),
                ))
            }
            SessionAccess::Granted(session, account) => {
                if elapsed(session.last_seen, now) >= TOUCH_EVERY {
                    let expires = later(now, state.session_idle);
                    state
                        .store
                        .touch_session(id, now, expires)
                        .await
                        .map_err(|err| lookup_failed(err.into()))?;
                }
                let nav = nav(&session, &account.name);
                Ok(Viewer { account, nav })
            }
        }
    }
}

/// The account named by the request's `username` segment, if a session
/// cookie was sent whose user may read it: how a page's script follows the
/// live stream. `None` without a cookie or with one that ended or expired.
pub async fn session_account(
    parts: &mut Parts,
    state: &SharedState,
) -> Result<Option<Account>, ApiError> {
    let Some(secret) = cookie(&parts.headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let named = named_account(parts, state).await;
    match state
        .store
        .session(hash_token(&secret), &named, Timestamp::now())
        .await?
    {
        SessionAccess::Unauthenticated => Ok(None),
        SessionAccess::Denied(_) => Err(ApiError::AccessDenied),
        SessionAccess::Granted(_, account) => Ok(Some(account)),
    }
}

/// The `username` segment of the path; empty when absent or not a valid
/// name, which no account has.
async fn named_account(parts: &mut Parts, state: &SharedState) -> String {
    let params = RawPathParams::from_request_parts(parts, state).await.ok();
    params
        .as_ref()
        .and_then(|params| params.iter().find(|(key, _)| *key == "username"))
        .map(|(_, value)| value.to_owned())
        .filter(|name| ResourceName::is_valid(name))
        .unwrap_or_default()
}

fn lookup_failed(err: ApiError) -> UiError {
    if let ApiError::Internal(detail) = &err {
        tracing::error!(%detail, "internal error");
    }
    let (status, _, message) = err.parts();
    UiError::page(status, message, None)
}

fn elapsed(from: Timestamp, to: Timestamp) -> Duration {
    Duration::from_millis(u64::try_from(to.millis() - from.millis()).unwrap_or(0))
}

fn later(now: Timestamp, by: Duration) -> Timestamp {
    let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX / 2);
    Timestamp::from_millis(now.millis().saturating_add(by))
}

/// `/-/ui`: the signed-in user's account, else the sign-in page.
pub async fn landing(State(state): State<SharedState>, headers: HeaderMap) -> Response {
    let Some(secret) = cookie(&headers, SESSION_COOKIE) else {
        return Redirect::to("/-/ui/login").into_response();
    };
    match state
        .store
        .session(hash_token(&secret), "", Timestamp::now())
        .await
    {
        Ok(access) => match access.session() {
            Some(session) => Redirect::to(&format!("/-/ui/{}", session.user)).into_response(),
            None => Redirect::to("/-/ui/login").into_response(),
        },
        Err(err) => lookup_failed(err.into()).into_response(),
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct SignInPage<'a> {
    title: &'a str,
    nav: Option<&'a Nav>,
    csrf: &'a str,
    username: &'a str,
    error: Option<&'a str>,
}

/// The sign-in form, with the CSRF token of its cookie (made if absent).
pub async fn sign_in_form(State(state): State<SharedState>, headers: HeaderMap) -> Response {
    let token = cookie(&headers, SIGN_IN_COOKIE)
        .filter(|value| csrf::well_formed(value))
        .unwrap_or_else(csrf::new_token);
    sign_in_page(&state, StatusCode::OK, &token, "", None)
}

fn sign_in_page(
    state: &SharedState,
    status: StatusCode,
    token: &str,
    username: &str,
    error: Option<&str>,
) -> Response {
    let page = SignInPage {
        title: "Sign in",
        nav: None,
        csrf: token,
        username,
        error,
    };
    let mut response = (status, render(&page)).into_response();
    set_cookie(&mut response, state, SIGN_IN_COOKIE, token, None);
    response
}

/// Checks the user name and token as the API authorises a request, and
/// opens a session of the token's user.
pub async fn sign_in(
    State(state): State<SharedState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = Form::parse(&body);
    let expected = cookie(&headers, SIGN_IN_COOKIE).unwrap_or_default();
    if !csrf::matches(&expected, form.get("csrf")) {
        return forged(None);
    }
    let username = form.get("username").trim();
    let token = form.get("token").trim();
    let refused = "Unknown user name or token";
    if !ResourceName::is_valid(username) || token.is_empty() {
        return sign_in_page(
            &state,
            StatusCode::UNAUTHORIZED,
            &expected,
            username,
            Some(refused),
        );
    }
    let access = match state.store.authorize(hash_token(token), username).await {
        Ok(access) => access,
        Err(err) => return lookup_failed(err.into()).into_response(),
    };
    let user = match access {
        Access::Granted {
            actor: Actor::Token { user, .. },
            ..
        } => user,
        _ => {
            return sign_in_page(
                &state,
                StatusCode::UNAUTHORIZED,
                &expected,
                username,
                Some(refused),
            );
        }
    };
    let secret = random_alnum(SECRET_LEN);
    let now = Timestamp::now();
    let opened = state
        .store
        .create_session(
            &user,
            hash_token(&secret),
            &csrf::new_token(),
            now,
            later(now, state.session_idle),
        )
        .await;
    if let Err(err) = opened {
        return lookup_failed(err.into()).into_response();
    }
    let mut response = Redirect::to(&format!("/-/ui/{username}")).into_response();
    set_cookie(&mut response, &state, SESSION_COOKIE, &secret, None);
    set_cookie(&mut response, &state, SIGN_IN_COOKIE, "", Some(0));
    response
}

/// Ends the session whose form this is.
pub async fn sign_out(
    State(state): State<SharedState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(secret) = cookie(&headers, SESSION_COOKIE) else {
        return Redirect::to("/-/ui/login").into_response();
    };
    let id = hash_token(&secret);
    let access = match state.store.session(id, "", Timestamp::now()).await {
        Ok(access) => access,
        Err(err) => return lookup_failed(err.into()).into_response(),
    };
    let Some(session) = access.session() else {
        return Redirect::to("/-/ui/login").into_response();
    };
    if !csrf::matches(&session.csrf, Form::parse(&body).get("csrf")) {
        return forged(Some(Nav {
            user: session.user.clone(),
            csrf: session.csrf.clone(),
            account: session.user.clone(),
        }));
    }
    if let Err(err) = state.store.end_session(id).await {
        return lookup_failed(err.into()).into_response();
    }
    let mut response = Redirect::to("/-/ui/login").into_response();
    set_cookie(&mut response, &state, SESSION_COOKIE, "", Some(0));
    response
}

fn forged(nav: Option<Nav>) -> Response {
    UiError::page(
        StatusCode::FORBIDDEN,
        "The form's CSRF token is missing or wrong: reload the page and try again",
        nav,
    )
    .into_response()
}

/// A form body's fields; the first of repeated names wins.
struct Form(Vec<(String, String)>);

impl Form {
    fn parse(body: &[u8]) -> Form {
        Form(
            form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map_or("", |(_, value)| value.as_str())
    }
}

/// The value of a request cookie, if sent and not empty.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

/// Sets a cookie that scripts cannot read and other sites cannot send;
/// `max_age` 0 removes it. Without one it lasts as long as the browser's
/// session (the server ends a session on its own when idle).
fn set_cookie(
    response: &mut Response,
    state: &SharedState,
    name: &str,
    value: &str,
    max_age: Option<u64>,
) {
    let mut text = format!("{name}={value}; HttpOnly; SameSite=Strict; Path=/");
    if let Some(max_age) = max_age {
        text.push_str(&format!("; Max-Age={max_age}"));
    }
    if state.public_url.starts_with("https://") {
        text.push_str("; Secure");
    }
    if let Ok(value) = HeaderValue::from_str(&text) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}
