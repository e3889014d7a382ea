//! The Applications calls.

use axum::extract::State;
use axum::response::Response;
use shiplog_api::{AppEnvelope, AppListOut, AppOut};
use shiplog_domain::ResourceName;
use shiplog_domain::resources::{AppUpdate, NewApp};

use shiplog_domain::Order;

use super::{empty, json};
use crate::error::ApiError;
use crate::extract::{Authorized, JsonBody, Params, Segments};
use crate::pagination::{Listing, Ordering};
use crate::state::SharedState;

/// ListApps.
#[utoipa::path(get, path = "/{username}/apps", operation_id = "ListApps", tag = "Applications",
    params(crate::openapi::AccountPath, crate::openapi::PageQuery),
    responses((status = 200, body = shiplog_api::AppListOut), crate::openapi::ApiErrors))]
pub async fn list(
    State(state): State<SharedState>,
    Authorized(account, _): Authorized,
    params: Params,
) -> Result<Response, ApiError> {
    let scope = ["apps", &account.name];
    let (listing, page) = Listing::start(&state, &params, &scope, Ordering::Default(Order::Asc))?;
    let rows = state.store.list_apps(&account, &page).await?;
    let (apps, marker) = listing.finish(rows, |app| app.name.clone());
    Ok(json(&AppListOut {
        apps: apps
            .into_iter()
            .map(|app| AppOut::new(app, &state.public_url))
            .collect(),
        marker,
    }))
}

/// GetApp.
#[utoipa::path(get, path = "/{username}/apps/{app_name}", operation_id = "GetApp", tag = "Applications",
    params(crate::openapi::AppPath),
    responses((status = 200, body = shiplog_api::AppEnvelope), crate::openapi::ApiErrors))]
pub async fn get(
    State(state): State<SharedState>,
    Authorized(account, _): Authorized,
    Segments((_, name)): Segments<(String, String)>,
) -> Result<Response, ApiError> {
    let app = state.store.get_app(&account, &name).await?;
    Ok(json(&AppEnvelope {
        app: AppOut::new(app, &state.public_url),
    }))
}

/// CreateApp.
#[utoipa::path(put, path = "/{username}/apps/{app_name}", operation_id = "CreateApp", tag = "Applications",
    params(crate::openapi::AppPath),
    request_body(content = shiplog_api::AppIn, description = "JSON, whatever the content type; empty means {}"),
    responses((status = 200, body = shiplog_api::AppEnvelope), crate::openapi::ApiErrors))]
pub async fn create(
    State(state): State<SharedState>,
    Authorized(account, _): Authorized,
    Segments((_, name)): Segments<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let name = ResourceName::parse("App", &name)?;
    let new = NewApp::parse(&body)?;
    let app = state.store.create_app(&account, &name, new).await?;
    Ok(json(&AppEnvelope {
        app: AppOut::new(app, &state.public_url),
    }))
}

/// UpdateApp: sets the description or the retention the body names.
#[utoipa::path(post, path = "/{username}/apps/{app_name}", operation_id = "UpdateApp", tag = "Applications",
    params(crate::openapi::AppPath),
    request_body(content = shiplog_api::AppIn, description = "JSON, whatever the content type; a field sent as null is cleared, one left out is kept"),
    responses((status = 200, body = shiplog_api::AppEnvelope), crate::openapi::ApiErrors))]
pub async fn update(
    State(state): State<SharedState>,
    Authorized(account, _): Authorized,
    Segments((_, name)): Segments<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let update = AppUpdate::parse(&body)?;
    let app = state.store.update_app(&account, &name, update).await?;
    Ok(json(&AppEnvelope {
        app: AppOut::new(app, &state.public_url),
    }))
}

/// DeleteApp: the app with its events and envs.
#[utoipa::path(delete, path = "/{username}/apps/{app_name}", operation_id = "DeleteApp", tag = "Applications",
    params(crate::openapi::AppPath),
    responses((status = 200, description = "Deleted; the body is empty"), crate::openapi::ApiErrors))]
pub async fn delete(
    State(state): State<SharedState>,
    Authorized(account, _): Authorized,
    Segments((_, name)): Segments<(String, String)>,
) -> Result<Response, ApiError> {
    state.store.delete_app(&account, &name).await?;
    Ok(empty())
}
