//! The store's error type.

use shiplog_domain::DomainError;

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The request breaks a rule or names something missing or taken.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The database cannot be reached or refused to commit.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Too many writes are waiting; the caller should retry later.
    #[error("too many writes are waiting")]
    Overloaded,
    /// The store was configured wrongly (bad URL, unreadable file).
    #[error("{0}")]
    Config(String),
    /// A write broke a unique constraint; the write path turns this into
    /// the client error it means, naming the value.
    #[error("unique constraint {0:?} violated")]
    Unique(crate::constraints::Unique),
    /// A bug or corrupt data; the detail is for the log only.
    #[error("internal store error: {0}")]
    Internal(String),
}

impl StoreError {
    pub fn not_found(what: impl std::fmt::Display) -> Self {
        StoreError::Domain(DomainError::NotFound(what.to_string()))
    }

    pub fn already_exists(what: impl std::fmt::Display) -> Self {
        StoreError::Domain(DomainError::AlreadyExists(what.to_string()))
    }
}
