//! One call over HTTP: the URL from path segments, the token, the body, and
//! the attempts of [`crate::Retry`] until an answer that is not worth
//! retrying, or the budget is spent.

use std::time::Instant;

use reqwest::{Method, StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use shiplog_api::ErrorBody;

use crate::retry::{self, MIN_ATTEMPT};
use crate::{Client, Error, Result};

/// The header that makes writes safe to retry.
const IDEMPOTENCY_HEADER: &str = shiplog_domain::idempotency::HEADER;

/// A request before it is sent: method, path segments (encoded here, so a
/// branch or commit may hold any character) and query parameters.
pub(crate) struct Call<'a> {
    pub method: Method,
    pub segments: Vec<&'a str>,
    pub query: Vec<(&'a str, String)>,
    pub body: Option<Vec<u8>>,
    /// Deliveries are authenticated by their signature, not a token.
    pub token: bool,
    /// Whether attempts carry an `Idempotency-Key` of this client's making:
    /// every write but deliveries, which carry the provider's own.
    pub keyed: bool,
    pub headers: Vec<(String, String)>,
}

impl<'a> Call<'a> {
    pub fn new(method: Method, segments: &[&'a str]) -> Call<'a> {
        Call {
            keyed: method != Method::GET,
            method,
            segments: segments.to_vec(),
            query: Vec::new(),
            body: None,
            token: true,
            headers: Vec::new(),
        }
    }

    pub fn get(segments: &[&'a str]) -> Call<'a> {
        Call::new(Method::GET, segments)
    }

    /// Adds `name=value` when there is a value.
    pub fn query(mut self, name: &'a str, value: Option<impl ToString>) -> Call<'a> {
        if let Some(value) = value {
            self.query.push((name, value.to_string()));
        }
        self
    }

    pub fn json(mut self, body: &impl Serialize) -> Call<'a> {
        self.body = Some(serde_json::to_vec(body).expect("wire types serialise"));
        self
    }
}

impl Client {
    fn url(&self, call: &Call<'_>) -> Url {
        let mut url = self.inner.base.clone();
        {
            let mut path = url
                .path_segments_mut()
                .expect("the base URL was checked to be http(s)");
            path.pop_if_empty();
            path.extend(&call.segments);
        }
        if !call.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&call.query);
        }
        url
    }

    /// Sends `call` and reads its answer as `T`.
    pub(crate) async fn call<T: DeserializeOwned>(&self, call: Call<'_>) -> Result<T> {
        let bytes = self.send(call).await?;
        serde_json::from_slice(&bytes).map_err(|err| Error::Protocol(err.to_string()))
    }

    /// Sends `call`, retrying as [`crate::Retry`] allows, and returns the
    /// body of its 200 answer.
    pub(crate) async fn send(&self, call: Call<'_>) -> Result<Vec<u8>> {
        let url = self.url(&call);
        let policy = self.inner.retry;
        // One key for every attempt of this call, so the server records a
        // write at most once however many attempts reach it.
        let key = call.keyed.then(retry::idempotency_key);
        let started = Instant::now();
        let deadline = started + policy.budget;
        let mut failed = 0;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            let mut request = self
                .inner
                .http
                .request(call.method.clone(), url.clone())
                .timeout(remaining.max(MIN_ATTEMPT));
            if call.token {
                request = request.bearer_auth(&self.inner.token);
            }
            if let Some(key) = &key {
                request = request.header(IDEMPOTENCY_HEADER, key);
            }
            for (name, value) in &call.headers {
                request = request.header(name, value);
            }
            if let Some(body) = &call.body {
                request = request.body(body.clone());
            }
            let (problem, retry_after) = match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    let retry_after = retry::retry_after(response.headers());
                    match response.bytes().await {
                        Ok(body) if status == StatusCode::OK => return Ok(body.to_vec()),
                        Ok(body) if !retry::retryable(status) => {
                            return Err(refusal(status, &body));
                        }
                        Ok(body) => (describe(status, &body), retry_after),
                        Err(err) => (err.to_string(), None),
                    }
                }
                Err(err) => (transport_error(&err), None),
            };
            failed += 1;
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(Error::Unavailable {
                    attempts: failed,
                    waited: started.elapsed(),
                    last: problem,
                });
            }
            // The last wait is cut short so that the last attempt starts
            // within the budget.
            tokio::time::sleep(policy.delay(failed, retry_after).min(remaining)).await;
        }
    }
}

/// A refused call's error, from the body the server sent with it.
fn refusal(status: StatusCode, body: &[u8]) -> Error {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(ErrorBody { error }) => Error::Api {
            status: status.as_u16(),
            code: error.code,
            message: error.message,
        },
        // Not shiplog's error shape: a proxy, or another service at the URL.
        Err(_) => Error::Api {
            status: status.as_u16(),
            code: status
                .canonical_reason()
                .unwrap_or("Error")
                .replace(' ', ""),
            message: String::from_utf8_lossy(body).chars().take(200).collect(),
        },
    }
}

fn describe(status: StatusCode, body: &[u8]) -> String {
    match refusal(status, body) {
        Error::Api { code, message, .. } => format!("{status}: {code}: {message}"),
        other => other.to_string(),
    }
}

/// The innermost cause, which says what actually failed ("Connection
/// refused"), after reqwest's own summary.
fn transport_error(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    let mut innermost = None;
    while let Some(cause) = source {
        innermost = Some(cause.to_string());
        source = cause.source();
    }
    if let Some(cause) = innermost {
        text = format!("{text}: {cause}");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_encoded_under_the_base_path() {
        let client = Client::new("https://ci.example.com/shiplog/", "t", "jdoe").unwrap();
        let call = Call::get(&["jdoe", "apps", "web", "commits", "a/b c?"])
            .query("filter_branch", Some("feature/x&y"))
            .query("marker", None::<String>);
        assert_eq!(
            client.url(&call).as_str(),
            "https://ci.example.com/shiplog/jdoe/apps/web/commits/a%2Fb%20c%3F?filter_branch=feature%2Fx%26y"
        );
    }

    #[test]
    fn an_error_body_that_is_not_shiplogs_is_kept_short() {
        let err = refusal(StatusCode::BAD_REQUEST, "<html>".repeat(100).as_bytes());
        match err {
            Error::Api {
                status,
                code,
                message,
            } => {
                assert_eq!((status, code.as_str()), (400, "BadRequest"));
                assert_eq!(message.chars().count(), 200);
            }
            other => panic!("{other}"),
        }
    }
}
