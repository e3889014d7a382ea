//! The story of events: one event, its history and lineage, where a commit
//! went, and the account's changes in commit order.

use axum::extract::State;
use axum::response::Response;
use shiplog_api::{
    ChangeListOut, ChangeOut, CommitOut, DeployedOut, EventEnvelope, EventOut, LineageOut,
};
use shiplog_domain::input::parse_event_id;
use shiplog_domain::{DomainError, Order};

use super::json;
use crate::error::ApiError;
use crate::extract::{Authorized, Params, Segments};
use crate::pagination::{Listing, Ordering};
use crate::state::SharedState;

/// An event id from the path; one that cannot be an id names no event.
fn event_id(segment: &str) -> Result<i64, ApiError> {
    parse_event_id(segment).ok_or_else(|| DomainError::NotFound(format!("Event {segment}")).into())
}

/// GetEvent.
#[utoipa::path(get, path = "/{username}/apps/{app_name}/events/{event_id}",
    operation_id = "GetEvent", tag = "History",
    params(crate::openapi::EventPath),
    responses((status = 200, body = EventEnvelope), crate::openapi::ApiErrors))]
pub async fn get_event(
    State(state): State<SharedState>,
    Authorized(account, _): Authorized,
    Segments((_, app, id)): Segments<(String, String, String)>,
) -> Result<Response, ApiError> {
    let event = state
        .store
        .get_event(&account, &app, event_id(&id)?)
        .await?;
    Ok(json(&EventEnvelope {
        event: event.into(),
    }))
}

/// GetEventHistory: every change to an event, oldest first.
#[utoipa::path(get, path = "/{username}/apps/{app_name}/events/{event_id}/history",
    operation_id = "GetEventHistory", tag = "History",
    params(crate::openapi::EventPath, crate::openapi::AscendingPageQuery),
    responses((status = 200, body = ChangeListOut), crate::openapi::ApiErrors))]
pub async fn history(
    State(state): State<SharedState>,
    Authorized(account, _): Authorized,
    Segments((_, app, id)): Segments<(String, String, String)>,
    params: Params,
) -> Result<Response, ApiError> {
    let id = event_id(&id)?;
    let scope = ["history", &account.name, &app, &id.to_string()];
    let (listing, page) = Listing::start(&state, &params, &scope, Ordering::Fixed(Order::Asc))?;
    let rows = state.store.event_history(&account, &app, id, &page).await?;
    let (changes, marker) = listing.finish(rows, |change| change.change_id);
    Ok(json(&ChangeListOut {
        changes: changes.into_iter().map(ChangeOut::from).collect(),
        marker,
    }))
}

/// GetEventLineage: an event's ancestors and descendants.
#[utoipa::path(get, path = "/{username}/apps/{app_name}/events/{event_id}/lineage",
    operation_id = "GetEventLineage", tag = "History",
    params(crate::openapi::EventPath),
    responses((status = 200, body = LineageOut), crate::openapi::ApiErrors))]
pub async fn lineage(
    State(state): State<SharedState>,
    Authorized(account, _): Authorized,
    Segments((_, app, id)): Segments<(String, String, String)>,
) -> Result<Response, ApiError> {
    let lineage = state
        .store
        .event_lineage(&account, &app, event_id(&id)?)
        .await?;
    Ok(json(&LineageOut {
        ancestors: lineage.ancestors.into_iter().map(EventOut::from).collect(),
        event: lineage.event.into(),
        descendants: lineage
            .descendants
            .into_iter()
            .map(EventOut::from)
            .collect(),
    }))
}

/// GetCommit: every event that carried a commit, and the envs running it.
#[utoipa::path(get, path = "/{username}/apps/{app_name}/commits/{commit_id}",
    operation_id = "GetCommit", tag = "History",
    params(crate::openapi::CommitPath),
    responses((status = 200, body = CommitOut), crate::openapi::ApiErrors))]
pub async fn commit(
    State(state): State<SharedState>,
    Authorized(account, _): Authorized,
    Segments((_, app, commit_id)): Segments<(String, String, String)>,
) -> Result<Response, ApiError> {
    let story = state.store.get_commit(&account, &app, &commit_id).await?;
    Ok(json(&CommitOut {
        commit_id: story.commit_id,
        events: story.events.into_iter().map(EventOut::from).collect(),
        deployed_to: story
            .deployed_to
            .into_iter()
            .map(|deployed| DeployedOut {
                env_name: deployed.env_name,
                release_version: deployed.release_version,
                deployed_at: deployed.deployed_at,
                event_id: deployed.event_id,
            })
            .collect(),
    }))
}

/// ListChanges: the account's changes in commit order, from `after` or
/// from the first.
#[utoipa::path(get, path = "/{username}/changes", operation_id = "ListChanges", tag = "History",
    params(crate::openapi::AccountPath, crate::openapi::ChangesQuery),
    responses((status = 200, body = ChangeListOut), crate::openapi::ApiErrors))]
pub async fn changes(
    State(state): State<SharedState>,
    Authorized(account, _): Authorized,
    params: Params,
) -> Result<Response, ApiError> {
    let scope = ["changes", &account.name];
    let (listing, mut page) = Listing::start(&state, &params, &scope, Ordering::Fixed(Order::Asc))?;
    if page.after.is_none() {
        page.after = parse_after(params.get("after"))?;
    }
    let rows = state.store.list_changes(&account, &page).await?;
    let (changes, marker) = listing.finish(rows, |change| change.change_id);
    Ok(json(&ChangeListOut {
        changes: changes.into_iter().map(ChangeOut::from).collect(),
        marker,
    }))
}

/// `after`: a change id (0 or more); absent or empty means from the first.
fn parse_after(value: Option<&str>) -> Result<Option<i64>, DomainError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => match text.parse::<i64>() {
            Ok(id) if id >= 0 => Ok(Some(id)),
            _ => Err(DomainError::bad_param(
                "after",
                "expected a change id: a whole number, 0 or more",
            )),
        },
    }
}
