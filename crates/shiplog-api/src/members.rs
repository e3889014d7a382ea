//! Members on the wire: users who act on an account that is not their
//! own, each with a role.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The body of SetMember.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MemberIn {
    /// `read`, `write` (the default) or `admin`, in any letter case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// A member of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MemberOut {
    /// The member's user name.
    pub user: String,
    /// `read`, `write` or `admin`.
    pub role: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MemberEnvelope {
    pub member: MemberOut,
}

/// An account's members, by user name (never its owner, who is always
/// `admin` there).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MemberListOut {
    pub members: Vec<MemberOut>,
}
