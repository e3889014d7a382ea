//! The Applications calls.

use axum::extract::State;
use axum::response::Response;
use serde::Serialize;
use shiplog_domain::ResourceName;
use shiplog_domain::resources::{AppOut, NewApp};

use super::{empty, json, name_marker, name_page};
use crate::error::ApiError;
use crate::extract::{Authorized, JsonBody, Params, Segments};
use crate::state::SharedState;

#[derive(Serialize)]
struct AppEnvelope<'a> {
    app: AppOut<'a>,
}

#[derive(Serialize)]
struct AppListOut<'a> {
    apps: Vec<AppOut<'a>>,
    marker: Option<String>,
}

/// ListApps.
#[utoipa::path(get, path = "/{username}/apps", operation_id = "ListApps", tag = "Applications",
    params(crate::openapi::AccountPath, crate::openapi::PageQuery),
    responses((status = 200, body = crate::openapi::AppListOut), crate::openapi::ApiErrors))]
pub async fn list(
    State(state): State<SharedState>,
    Authorized(account, _): Authorized,
    params: Params,
) -> Result<Response, ApiError> {
    let mut scope = vec!["apps".to_owned(), account.name.clone()];
    let page = name_page(&state, &params, &mut scope)?;
    let rows = state.store.list_apps(&account, &page).await?;
    let (apps, marker) = name_marker(&state, &scope, rows, page.limit, |app| &app.name);
    Ok(json(&AppListOut {
        apps: apps
            .iter()
            .map(|app| AppOut::new(app, &state.public_url))
            .collect(),
        marker,
    }))
}

/// GetApp.
#[utoipa::path(get, path = "/{username}/apps/{app_name}", operation_id = "GetApp", tag = "Applications",
    params(crate::openapi::AppPath),
    responses((status = 200, body = crate::openapi::AppEnvelope), crate::openapi::ApiErrors))]
pub async fn get(
    State(state): State<SharedState>,
    Authorized(account, _): Authorized,
    Segments((_, name)): Segments<(String, String)>,
) -> Result<Response, ApiError> {
    let app = state.store.get_app(&account, &name).await?;
    Ok(json(&AppEnvelope {
        app: AppOut::new(&app, &state.public_url),
    }))
}

/// CreateApp.
#[utoipa::path(put, path = "/{username}/apps/{app_name}", operation_id = "CreateApp", tag = "Applications",
    params(crate::openapi::AppPath),
    request_body(content = crate::openapi::AppIn, description = "JSON, whatever the content type; empty means {}"),
    responses((status = 200, body = crate::openapi::AppEnvelope), crate::openapi::ApiErrors))]
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
        app: AppOut::new(&app, &state.public_url),
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
