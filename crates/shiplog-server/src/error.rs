//! The API's errors and their HTTP form: `{"error":{"code","message"}}`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use shiplog_api::{ErrorBody, ErrorDetail};
use shiplog_domain::{DomainError, Level};
use shiplog_store::StoreError;

pub const AUTHENTICATION_FAILED: &str = "Request Authentication failed. Check your credentials.";

#[derive(Debug)]
pub enum ApiError {
    Domain(DomainError),
    /// No token, or an unknown or revoked one.
    Unauthenticated,
    /// A valid token naming an account that is not its own.
    AccessDenied,
    /// A call that needs more than the token may do on the account.
    LevelTooLow {
        needed: Level,
        level: Level,
    },
    NoRoute(String),
    MethodNotAllowed(String),
    PayloadTooLarge(String),
    /// The database cannot be reached.
    Unavailable,
    /// The write queue is full.
    Overloaded,
    /// The request took longer than the server's limit.
    Timeout,
    /// A bug: the detail is logged, never returned.
    Internal(String),
}

impl From<DomainError> for ApiError {
    fn from(err: DomainError) -> Self {
        ApiError::Domain(err)
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Domain(err) => ApiError::Domain(err),
            StoreError::Unavailable(detail) => {
                tracing::warn!(%detail, "database unavailable");
                ApiError::Unavailable
            }
            StoreError::Overloaded => ApiError::Overloaded,
            // The write path names the value of every constraint it can
            // break; one that reaches here is a bug.
            StoreError::Unique(unique) => {
                ApiError::Internal(format!("unmapped unique constraint {unique:?}"))
            }
            StoreError::Config(detail) | StoreError::Internal(detail) => ApiError::Internal(detail),
        }
    }
}

impl ApiError {
    pub(crate) fn parts(&self) -> (StatusCode, &'static str, String) {
        use StatusCode as S;
        match self {
            ApiError::Domain(err) => {
                let (status, code) = match err {
                    DomainError::Malformed(_) => (S::BAD_REQUEST, "MalformedRequest"),
                    DomainError::BadParam(_) => (S::BAD_REQUEST, "BadParam"),
                    DomainError::MissingParam(_) => (S::BAD_REQUEST, "MissingParam"),
                    DomainError::TooLarge(_) => (S::PAYLOAD_TOO_LARGE, "PayloadTooLarge"),
                    DomainError::NotFound(_) => (S::NOT_FOUND, "NotFound"),
                    DomainError::AlreadyExists(_) => (S::CONFLICT, "AlreadyExists"),
                    DomainError::Immutable(_) => (S::CONFLICT, "ImmutableEvent"),
                    DomainError::IdempotencyKeyReused(_) => (S::CONFLICT, "IdempotencyKeyReused"),
                };
                (status, code, err.to_string())
            }
            ApiError::Unauthenticated => (
                S::UNAUTHORIZED,
                "AuthenticationFailed",
                AUTHENTICATION_FAILED.into(),
            ),
            ApiError::AccessDenied => (
                S::FORBIDDEN,
                "AccessDenied",
                "Access denied: this token may not act on that account".into(),
            ),
            ApiError::LevelTooLow { needed, level } => (
                S::FORBIDDEN,
                "AccessDenied",
                format!(
                    "Access denied: this call needs {needed} access to the account; this token has {level} access to it"
                ),
            ),
            ApiError::NoRoute(what) => (S::NOT_FOUND, "NotFound", format!("{what} not found")),
            ApiError::MethodNotAllowed(method) => (
                S::METHOD_NOT_ALLOWED,
                "UnsupportedHttpMethod",
                format!("The method {method} is not supported on this path"),
            ),
            ApiError::PayloadTooLarge(message) => {
                (S::PAYLOAD_TOO_LARGE, "PayloadTooLarge", message.clone())
            }
            ApiError::Unavailable => (
                S::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                "The database is unavailable; retry in a few seconds".into(),
            ),
            ApiError::Overloaded => (
                S::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                "The server is overloaded; retry in a second".into(),
            ),
            ApiError::Timeout => (
                S::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                "The request took too long; retry later".into(),
            ),
            ApiError::Internal(_) => (
                S::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                "An internal error occurred".into(),
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self {
            tracing::error!(%detail, "internal error");
        }
        let (status, code, message) = self.parts();
        let body = serde_json::to_vec(&ErrorBody {
            error: ErrorDetail {
                code: code.to_owned(),
                message,
            },
        })
        .expect("error bodies serialise");
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}
