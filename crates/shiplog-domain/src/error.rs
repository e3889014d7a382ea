//! The one error type of the domain: every way a request can break a rule.

/// A request that breaks a rule of the contract. Each variant maps to one row
/// of the contract's error table; the message is what the client reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// The body is not JSON, or not a JSON object.
    #[error("{0}")]
    Malformed(String),
    /// A parameter has a wrong type or value; the message names it.
    #[error("{0}")]
    BadParam(String),
    /// A required parameter is absent.
    #[error("Missing required parameter: {0}")]
    MissingParam(String),
    /// A field exceeds its size limit.
    #[error("{0}")]
    TooLarge(String),
    /// The thing named (`App x`, `Env y`, `Event 12`) does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// A name that must be unique is taken.
    #[error("{0} already exists")]
    AlreadyExists(String),
    /// The event is in a terminal state and the request would change it.
    #[error("{0}")]
    Immutable(String),
    /// An `Idempotency-Key` was already used with another request.
    #[error("{0}")]
    IdempotencyKeyReused(String),
}

impl DomainError {
    pub fn bad_param(param: &str, detail: impl std::fmt::Display) -> Self {
        DomainError::BadParam(format!("Invalid value for parameter {param}: {detail}"))
    }
}
