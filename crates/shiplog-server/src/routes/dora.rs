//! GetDora: DORA's five metrics of a scope, from the facts the write path
//! keeps.

use axum::extract::State;
use axum::response::Response;
use shiplog_api::dora::DoraScope;
use shiplog_api::{DoraEnvelope, DoraOut};
use shiplog_domain::Timestamp;
use shiplog_domain::dora::query::DoraQuery;
use shiplog_store::Account;

use super::json;
use crate::error::ApiError;
use crate::extract::{Authorized, Params};
use crate::state::SharedState;

/// GetDora: deployment frequency, change lead time, change fail rate,
/// failed deployment recovery time and deployment rework rate.
#[utoipa::path(get, path = "/{username}/dora", operation_id = "GetDora", tag = "DORA",
    params(crate::openapi::AccountPath, crate::openapi::DoraQuery),
    responses((status = 200, body = DoraEnvelope), crate::openapi::ApiErrors))]
pub async fn get(
    State(state): State<SharedState>,
    Authorized(account, _): Authorized,
    params: Params,
) -> Result<Response, ApiError> {
    let dora = evaluate(&state, &account, |name| params.get(name)).await?;
    Ok(json(&DoraEnvelope { dora }))
}

/// GetDora's answer for a scope named by `param`: the API's and the UI's.
pub async fn evaluate<'q>(
    state: &SharedState,
    account: &Account,
    param: impl Fn(&str) -> Option<&'q str>,
) -> Result<DoraOut, ApiError> {
    let query = DoraQuery::parse(param, Timestamp::now())?;
    // Checked before the database is read: a window of too many buckets
    // is refused at once.
    let window = query.window()?;
    let facts = state
        .store
        .dora_facts(account, query.app.as_deref(), query.env.as_deref())
        .await?;
    let (metrics, levels) = query.evaluate(&window, &facts.deployments, &facts.incidents);
    let scope = DoraScope {
        app: query.app,
        envs: facts.envs,
        bucket: query.bucket.as_str().to_owned(),
        tz: query.calendar.name().to_owned(),
        benchmark: query.benchmark_name,
        pruned_before: facts.pruned_before,
    };
    Ok(DoraOut::new(scope, &window, &metrics, levels))
}
