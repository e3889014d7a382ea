//! The Events calls: create each type, update builds and deploys, list.

use axum::extract::State;
use axum::response::Response;
use shiplog_api::{CreatedOut, EventEnvelope, EventListOut, EventOut};
use shiplog_domain::input::{EventUpdate, NewEvent, parse_event_id};
use shiplog_domain::{EventFilter, EventType, Order};
use shiplog_store::Keyed;

use super::{json, json_text};
use crate::error::ApiError;
use crate::extract::{Authorized, IdempotencyHeader, JsonBody, Params, Segments};
use crate::pagination::{Listing, Ordering};
use crate::state::SharedState;

async fn create(
    state: SharedState,
    Authorized(account, actor): Authorized,
    app: String,
    event_type: EventType,
    idempotency: IdempotencyHeader,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let event = NewEvent::parse(event_type, &body)?;
    let key = idempotency.key_for(&body);
    let answer = state
        .store
        .create_event_keyed(&account, &actor, &app, event, key)
        .await?;
    match answer {
        Keyed::Done(id) => {
            crate::metrics::record_event_written(event_type.as_str());
            Ok(json(&CreatedOut {
                event_id: id.to_string(),
            }))
        }
        Keyed::Repeat(answer) => Ok(json_text(answer)),
    }
}

macro_rules! create_handler {
    ($(#[$attr:meta])* $name:ident, $event_type:expr) => {
        $(#[$attr])*
        pub async fn $name(
            State(state): State<SharedState>,
            auth: Authorized,
            Segments((_, app)): Segments<(String, String)>,
            idempotency: IdempotencyHeader,
            body: JsonBody,
        ) -> Result<Response, ApiError> {
            create(state, auth, app, $event_type, idempotency, body).await
        }
    };
}

create_handler!(
    /// Records a PUSH event.
    #[utoipa::path(
        put,
        path = "/{username}/apps/{app_name}/events/pushEvent",
        operation_id = "CreatePushEvent",
        tag = "Events",
        params(crate::openapi::AppPath, crate::openapi::IdempotencyKeyHeader),
        request_body(content = shiplog_api::CommitFieldsIn, description = "JSON, whatever the content type; empty means {}"),
        responses((status = 200, body = shiplog_api::CreatedOut), crate::openapi::ApiErrors)
    )]
    create_push,
    EventType::Push
);
create_handler!(
    /// Records a PULLREQUEST event.
    #[utoipa::path(
        put,
        path = "/{username}/apps/{app_name}/events/pullRequestEvent",
        operation_id = "CreatePullRequestEvent",
        tag = "Events",
        params(crate::openapi::AppPath, crate::openapi::IdempotencyKeyHeader),
        request_body(content = shiplog_api::CommitFieldsIn, description = "JSON, whatever the content type; empty means {}"),
        responses((status = 200, body = shiplog_api::CreatedOut), crate::openapi::ApiErrors)
    )]
    create_pull_request,
    EventType::PullRequest
);
create_handler!(
    /// Records a BUILD event.
    #[utoipa::path(
        put,
        path = "/{username}/apps/{app_name}/events/buildEvent",
        operation_id = "CreateBuildEvent",
        tag = "Events",
        params(crate::openapi::AppPath, crate::openapi::IdempotencyKeyHeader),
        request_body(content = shiplog_api::BuildEventIn, description = "JSON, whatever the content type; empty means {}"),
        responses((status = 200, body = shiplog_api::CreatedOut), crate::openapi::ApiErrors)
    )]
    create_build,
    EventType::Build
);
create_handler!(
    /// Records a RELEASE event.
    #[utoipa::path(
        put,
        path = "/{username}/apps/{app_name}/events/releaseEvent",
        operation_id = "CreateReleaseEvent",
        tag = "Events",
        params(crate::openapi::AppPath, crate::openapi::IdempotencyKeyHeader),
        request_body(content = shiplog_api::ReleaseEventIn, description = "JSON, whatever the content type; empty means {}"),
        responses((status = 200, body = shiplog_api::CreatedOut), crate::openapi::ApiErrors)
    )]
    create_release,
    EventType::Release
);
create_handler!(
    /// Records a DEPLOY event.
    #[utoipa::path(
        put,
        path = "/{username}/apps/{app_name}/events/deployEvent",
        operation_id = "CreateDeployEvent",
        tag = "Events",
        params(crate::openapi::AppPath, crate::openapi::IdempotencyKeyHeader),
        request_body(content = shiplog_api::DeployEventIn, description = "JSON, whatever the content type; empty means {}"),
        responses((status = 200, body = shiplog_api::CreatedOut), crate::openapi::ApiErrors)
    )]
    create_deploy,
    EventType::Deploy
);

create_handler!(
    /// Records an INCIDENT: production broke in an env, perhaps by a deploy.
    #[utoipa::path(
        put,
        path = "/{username}/apps/{app_name}/events/incidentEvent",
        operation_id = "CreateIncidentEvent",
        tag = "Events",
        params(crate::openapi::AppPath, crate::openapi::IdempotencyKeyHeader),
        request_body(content = shiplog_api::IncidentEventIn, description = "JSON, whatever the content type; empty means {}"),
        responses((status = 200, body = shiplog_api::CreatedOut), crate::openapi::ApiErrors)
    )]
    create_incident,
    EventType::Incident
);

#[utoipa::path(
    post,
    path = "/{username}/apps/{app_name}/events/{event_id}",
    operation_id = "UpdateEvent",
    tag = "Events",
    params(crate::openapi::EventPath, crate::openapi::IdempotencyKeyHeader),
    request_body(content = shiplog_api::EventUpdateIn, description = "JSON, whatever the content type"),
    responses((status = 200, body = shiplog_api::EventEnvelope), crate::openapi::ApiErrors)
)]
/// UpdateBuildEvent, UpdateDeployEvent on a DEPLOY, and UpdateIncidentEvent
/// on an INCIDENT.
pub async fn update(
    State(state): State<SharedState>,
    Authorized(account, actor): Authorized,
    Segments((_, app, event_id)): Segments<(String, String, String)>,
    idempotency: IdempotencyHeader,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let update = EventUpdate::parse(&body)?;
    let id = parse_event_id(&event_id)
        .ok_or_else(|| shiplog_domain::DomainError::NotFound(format!("Event {event_id}")))?;
    let key = idempotency.key_for(&body);
    let answer = state
        .store
        .update_event_keyed(&account, &actor, &app, id, update, key)
        .await?;
    match answer {
        Keyed::Done(event) => Ok(json(&EventEnvelope {
            event: event.into(),
        })),
        Keyed::Repeat(answer) => Ok(json_text(answer)),
    }
}

/// ListEvents: an app's events, newest first by default.
#[utoipa::path(
    get,
    path = "/{username}/apps/{app_name}/events",
    operation_id = "ListEvents",
    tag = "Events",
    params(crate::openapi::AppPath, crate::openapi::EventFilterQuery, crate::openapi::PageQuery),
    responses((status = 200, body = shiplog_api::EventListOut), crate::openapi::ApiErrors)
)]
pub async fn list(
    State(state): State<SharedState>,
    Authorized(account, _): Authorized,
    Segments((_, app)): Segments<(String, String)>,
    params: Params,
) -> Result<Response, ApiError> {
    let filter = EventFilter::from_query(|name| params.get(name))?;
    let [branch, event_type, env] = filter.scope();
    let scope = ["events", &account.name, &app, branch, event_type, env];
    let (listing, page) = Listing::start(&state, &params, &scope, Ordering::Default(Order::Desc))?;
    let rows = state
        .store
        .list_events(&account, &app, &filter, &page)
        .await?;
    let (events, marker) = listing.finish(rows, |event| event.event_id);
    Ok(json(&EventListOut {
        app_name: app,
        events: events.into_iter().map(EventOut::from).collect(),
        marker,
    }))
}
