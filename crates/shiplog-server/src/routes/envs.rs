//! The Environments calls.

use axum::extract::State;
use axum::response::Response;
use shiplog_api::{EnvEnvelope, EnvListOut, EnvOut};
use shiplog_domain::ResourceName;
use shiplog_domain::resources::NewEnv;

use shiplog_domain::Order;

use super::{empty, json};
use crate::error::ApiError;
use crate::extract::{Authorized, JsonBody, Params, Segments};
use crate::pagination::{Listing, Ordering};
use crate::state::SharedState;

async fn list_envs(
    state: SharedState,
    account: shiplog_store::Account,
    app: Option<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let scope = ["envs", &account.name, app.as_deref().unwrap_or_default()];
    let (listing, page) = Listing::start(&state, &params, &scope, Ordering::Default(Order::Asc))?;
    let rows = state
        .store
        .list_envs(&account, app.as_deref(), &page)
        .await?;
    let (envs, marker) = listing.finish(rows, |env| env.name.clone());
    Ok(json(&EnvListOut {
        envs: envs
            .into_iter()
            .map(|env| EnvOut::new(env, &state.public_url))
            .collect(),
        marker,
    }))
}

#[utoipa::path(get, path = "/{username}/envs", operation_id = "ListEnvs", tag = "Environments",
    params(crate::openapi::AccountPath, crate::openapi::PageQuery),
    responses((status = 200, body = shiplog_api::EnvListOut), crate::openapi::ApiErrors))]
/// ListEnvs: every env of the account.
pub async fn list(
    State(state): State<SharedState>,
    Authorized(account, _): Authorized,
    params: Params,
) -> Result<Response, ApiError> {
    list_envs(state, account, None, params).await
}

#[utoipa::path(get, path = "/{username}/apps/{app_name}/envs", operation_id = "ListAppEnvs", tag = "Environments",
    params(crate::openapi::AppPath, crate::openapi::PageQuery),
    responses((status = 200, body = shiplog_api::EnvListOut), crate::openapi::ApiErrors))]
/// ListAppEnvs: the envs of one app.
pub async fn list_of_app(
    State(state): State<SharedState>,
    Authorized(account, _): Authorized,
    Segments((_, app)): Segments<(String, String)>,
    params: Params,
) -> Result<Response, ApiError> {
    list_envs(state, account, Some(app), params).await
}

/// GetEnv.
#[utoipa::path(get, path = "/{username}/envs/{env_name}", operation_id = "GetEnv", tag = "Environments",
    params(crate::openapi::EnvPath),
    responses((status = 200, body = shiplog_api::EnvEnvelope), crate::openapi::ApiErrors))]
pub async fn get(
    State(state): State<SharedState>,
    Authorized(account, _): Authorized,
    Segments((_, name)): Segments<(String, String)>,
) -> Result<Response, ApiError> {
    let env = state.store.get_env(&account, &name).await?;
    Ok(json(&EnvEnvelope {
        env: EnvOut::new(env, &state.public_url),
    }))
}

/// CreateEnv.
#[utoipa::path(put, path = "/{username}/apps/{app_name}/envs/{env_name}", operation_id = "CreateEnv", tag = "Environments",
    params(crate::openapi::AppEnvPath),
    request_body(content = shiplog_api::EnvIn, description = "JSON, whatever the content type; empty means {}"),
    responses((status = 200, body = shiplog_api::EnvEnvelope), crate::openapi::ApiErrors))]
pub async fn create(
    State(state): State<SharedState>,
    Authorized(account, _): Authorized,
    Segments((_, app, name)): Segments<(String, String, String)>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let name = ResourceName::parse("Env", &name)?;
    let new = NewEnv::parse(&body)?;
    let env = state.store.create_env(&account, &app, &name, new).await?;
    Ok(json(&EnvEnvelope {
        env: EnvOut::new(env, &state.public_url),
    }))
}

/// DeleteEnv: its deploy events stay.
#[utoipa::path(delete, path = "/{username}/envs/{env_name}", operation_id = "DeleteEnv", tag = "Environments",
    params(crate::openapi::EnvPath),
    responses((status = 200, description = "Deleted; the body is empty"), crate::openapi::ApiErrors))]
pub async fn delete(
    State(state): State<SharedState>,
    Authorized(account, _): Authorized,
    Segments((_, name)): Segments<(String, String)>,
) -> Result<Response, ApiError> {
    state.store.delete_env(&account, &name).await?;
    Ok(empty())
}
