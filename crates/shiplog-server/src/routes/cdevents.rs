//! CDEvents received: `POST /:username/apps/:app/cdevents`. The body is
//! read as JSON, its mode and events mapped by the ingest crate's pure
//! functions, and the events recorded by the store in one transaction,
//! once per `(context.source, context.id)`.

use axum::extract::{Request, State};
use axum::response::Response;
use shiplog_api::hooks::{CdeventAnswer, CdeventBatchOut, CdeventIn, CloudEventIn};
use shiplog_domain::DomainError;
use shiplog_ingest::cdevents::incoming::{self, Received};

use super::hooks::HttpHeaders;
use super::json;
use crate::error::ApiError;
use crate::extract::{Authorized, BODY_LIMIT, Segments};
use crate::state::SharedState;

/// ReceiveCdevents: records what the CDEvents name, as a webhook delivery
/// would; an unmapped type is answered with `ignored`.
#[utoipa::path(post, path = "/{username}/apps/{app_name}/cdevents", operation_id = "ReceiveCdevents", tag = "CDEvents",
    params(crate::openapi::AppPath),
    request_body(description = "A CDEvent as JSON (or in binary mode: `ce-*` headers and the CDEvent, \
        or only its subject, as body); a structured CloudEvent with the CDEvent as `data`; or a batch of them",
        content(
            (CdeventIn = "application/json"),
            (CloudEventIn = "application/cloudevents+json"),
            (Vec<CloudEventIn> = "application/cloudevents-batch+json"),
        )),
    responses((status = 200, body = CdeventAnswer,
        description = "One result, or `{\"results\":[…]}` for a batch"), crate::openapi::ApiErrors))]
pub async fn receive(
    State(state): State<SharedState>,
    Authorized(account, _): Authorized,
    Segments((_, app)): Segments<(String, String)>,
    request: Request,
) -> Result<Response, ApiError> {
    let headers = request.headers().clone();
    let body = axum::body::to_bytes(request.into_body(), BODY_LIMIT)
        .await
        .map_err(|_| {
            ApiError::PayloadTooLarge(format!("The body exceeds the limit of {BODY_LIMIT} bytes"))
        })?;
    let body: serde_json::Value = serde_json::from_slice(&body).map_err(|err| {
        DomainError::Malformed(format!("The request body is not valid JSON: {err}"))
    })?;
    let received = incoming::receive(&HttpHeaders(&headers), &body)
        .map_err(|err| DomainError::BadParam(err.0))?;
    let (events, batch) = match received {
        Received::One(event) => (vec![event], false),
        Received::Batch(events) => (events, true),
    };
    let mut results = state.store.ingest_cdevents(&account, &app, events).await?;
    let answer = match (batch, results.pop()) {
        (false, Some(one)) => CdeventAnswer::One(one),
        (_, last) => {
            results.extend(last);
            CdeventAnswer::Batch(CdeventBatchOut { results })
        }
    };
    Ok(json(&answer))
}
