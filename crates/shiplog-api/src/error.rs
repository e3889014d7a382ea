//! The answer of every refused call.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable machine code: `MalformedRequest`, `BadParam`, `MissingParam`,
    /// `AuthenticationFailed`, `AccessDenied`, `NotFound`,
    /// `UnsupportedHttpMethod`, `AlreadyExists`, `ImmutableEvent`,
    /// `PayloadTooLarge`, `InternalServerError`, `ServiceUnavailable`.
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
}
