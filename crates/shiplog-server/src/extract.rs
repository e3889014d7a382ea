//! Extractors: the authorised account, path segments, query parameters and
//! the lenient JSON body, each failing with the contract's errors.

use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Path, RawPathParams, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use shiplog_domain::idempotency;
use shiplog_domain::input::{JsonObject, parse_body};
use shiplog_domain::token::hash_token;
use shiplog_domain::{Actor, DomainError, ResourceName};
use shiplog_store::{Access, Account, IdempotencyKey};

use crate::error::ApiError;
use crate::state::SharedState;

/// The `Idempotency-Key` a write was sent with, and the request it names.
pub struct IdempotencyHeader {
    key: Option<String>,
    method: String,
    path: String,
}

impl IdempotencyHeader {
    /// The key of this request with `body`, if one was sent.
    pub fn key_for(&self, body: &JsonObject) -> Option<IdempotencyKey> {
        self.key.as_ref().map(|key| IdempotencyKey {
            key: key.clone(),
            fingerprint: idempotency::fingerprint(&self.method, &self.path, body),
        })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyHeader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let key = match parts.headers.get(idempotency::HEADER) {
            None => None,
            Some(value) => {
                let text = value.to_str().unwrap_or("\u{0}");
                Some(idempotency::parse_key(text)?)
            }
        };
        Ok(IdempotencyHeader {
            key,
            method: parts.method.to_string(),
            path: parts.uri.path().to_owned(),
        })
    }
}

/// Bodies over this size are refused with 413.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// The account named by `/:username/…`, on which the request's token may
/// make this call, and who acts: the token's user, the token's id and
/// label.
///
/// The one place where access is decided: the store answers the level the
/// token has on the account (the lower of its user's role there and its
/// scope) in the query that resolves the token, and the call's method and
/// route template give the level it needs ([`crate::access::CALLS`]).
pub struct Authorized(pub Account, pub Actor);

impl FromRequestParts<SharedState> for Authorized {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &SharedState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer_token(parts)
            .or_else(|| query_token(parts))
            .ok_or(ApiError::Unauthenticated)?;
        // A path whose percent-encoding is not UTF-8 is refused, but only
        // once the token is known to be valid.
        let params = RawPathParams::from_request_parts(parts, state).await.ok();
        let account = params
            .as_ref()
            .and_then(|params| params.iter().find(|(key, _)| *key == "username"))
            .map(|(_, value)| value)
            .filter(|name| ResourceName::is_valid(name))
            // No account has an invalid name: the empty one is denied too.
            .unwrap_or_default();
        let access = state.store.authorize(hash_token(&token), account).await?;
        if params.is_none() && access != Access::Unauthenticated {
            return Err(ApiError::Domain(DomainError::BadParam(
                "Invalid path: a percent-encoded segment is not valid UTF-8".into(),
            )));
        }
        // An account that does not exist is denied like any other that is not
        // the token's own, so the answer reveals nothing.
        match access {
            Access::Granted {
                account,
                actor,
                level,
            } => {
                let route = parts
                    .extensions
                    .get::<MatchedPath>()
                    .map(MatchedPath::as_str);
                let needed = crate::access::needed(&parts.method, route);
                if level.allows(needed) {
                    Ok(Authorized(account, actor))
                } else {
                    Err(ApiError::LevelTooLow { needed, level })
                }
            }
            Access::Denied => Err(ApiError::AccessDenied),
            Access::Unauthenticated => Err(ApiError::Unauthenticated),
        }
    }
}

/// The account a read names, authorised by a token as [`Authorized`] does
/// or, when a GET carries no token, by the web UI's session cookie: how a
/// page's script follows the live stream. The cookie is `SameSite=Strict`,
/// so no other site's page can send it.
pub struct ReadAccess(pub Account);

impl FromRequestParts<SharedState> for ReadAccess {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &SharedState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer_token(parts).or_else(|| query_token(parts));
        if token.is_none()
            && parts.method == axum::http::Method::GET
            && let Some(account) = crate::ui::session_account(parts, state).await?
        {
            return Ok(ReadAccess(account));
        }
        let Authorized(account, _) = Authorized::from_request_parts(parts, state).await?;
        Ok(ReadAccess(account))
    }
}

fn bearer_token(parts: &Parts) -> Option<String> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
        .filter(|t| !t.is_empty())
}

fn query_token(parts: &Parts) -> Option<String> {
    form_urlencoded::parse(parts.uri.query()?.as_bytes())
        .find(|(key, _)| key == "apiToken")
        .map(|(_, value)| value.into_owned())
        .filter(|t| !t.is_empty())
}

/// Path segments, percent-decoded.
pub struct Segments<T>(pub T);

impl<T, S> FromRequestParts<S> for Segments<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| Segments(value))
            .map_err(|err| ApiError::Domain(DomainError::BadParam(format!("Invalid path: {err}"))))
    }
}

/// The query string's parameters; the first of repeated keys wins.
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// These parameters with `name` set to `value` unless a non-empty one
    /// was sent.
    pub fn or_default(mut self, name: &str, value: &str) -> Params {
        self.0
            .retain(|(key, value)| key != name || !value.is_empty());
        self.0.push((name.to_owned(), value.to_owned()));
        self
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let pairs = form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Ok(Params(pairs))
    }
}

/// The body as a JSON object, whatever the content type says; empty or
/// `null` is `{}`.
pub struct JsonBody(pub JsonObject);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, _: &S) -> Result<Self, Self::Rejection> {
        let too_large = || {
            ApiError::PayloadTooLarge(format!(
                "The request body exceeds the limit of {BODY_LIMIT} bytes"
            ))
        };
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > BODY_LIMIT as u64) {
            return Err(too_large());
        }
        let bytes = axum::body::to_bytes(request.into_body(), BODY_LIMIT)
            .await
            .map_err(|err| {
                if std::error::Error::source(&err)
                    .is_some_and(|e| e.is::<http_body_util::LengthLimitError>())
                {
                    too_large()
                } else {
                    ApiError::Domain(DomainError::Malformed(format!(
                        "The request body could not be read: {err}"
                    )))
                }
            })?;
        Ok(JsonBody(parse_body(&bytes)?))
    }
}
