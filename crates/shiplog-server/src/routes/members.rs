//! The members of an account over the API: the same as `shiplog member`,
//! for the account's admins (see [`crate::access::CALLS`]).

use axum::extract::State;
use axum::response::Response;
use shiplog_api::members::{MemberEnvelope, MemberIn, MemberListOut, MemberOut};
use shiplog_domain::input::member_role;

use super::{empty, json};
use crate::error::ApiError;
use crate::extract::{Authorized, JsonBody, Segments};
use crate::state::SharedState;

/// ListMembers: the users who may act on the account, and their roles.
#[utoipa::path(get, path = "/{username}/members", operation_id = "ListMembers", tag = "Members",
    params(crate::openapi::AccountPath),
    responses((status = 200, body = MemberListOut), crate::openapi::ApiErrors))]
pub async fn list(
    State(state): State<SharedState>,
    Authorized(account, _): Authorized,
) -> Result<Response, ApiError> {
    let members = state.store.list_members(&account).await?;
    Ok(json(&MemberListOut {
        members: members
            .into_iter()
            .map(|member| MemberOut {
                user: member.user,
                role: member.role.as_str().to_owned(),
            })
            .collect(),
    }))
}

/// SetMember: lets an existing user act on the account with a role, or
/// changes its role; it holds from the next request on.
#[utoipa::path(put, path = "/{username}/members/{member}", operation_id = "SetMember", tag = "Members",
    params(crate::openapi::MemberPath),
    request_body(content = MemberIn, description = "JSON, whatever the content type; empty means {}"),
    responses((status = 200, body = MemberEnvelope), crate::openapi::ApiErrors))]
pub async fn set(
    State(state): State<SharedState>,
    Authorized(account, _): Authorized,
    Segments((_, user)): Segments<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let role = member_role(&body)?;
    state.store.set_member(&account, &user, role).await?;
    Ok(json(&MemberEnvelope {
        member: MemberOut {
            user,
            role: role.as_str().to_owned(),
        },
    }))
}

/// RemoveMember: the user's tokens are refused on the account from the
/// next request on.
#[utoipa::path(delete, path = "/{username}/members/{member}", operation_id = "RemoveMember", tag = "Members",
    params(crate::openapi::MemberPath),
    responses((status = 200, description = "Removed; the body is empty"), crate::openapi::ApiErrors))]
pub async fn remove(
    State(state): State<SharedState>,
    Authorized(account, _): Authorized,
    Segments((_, user)): Segments<(String, String)>,
) -> Result<Response, ApiError> {
    state.store.remove_member(&account, &user).await?;
    Ok(empty())
}
