//! Outbound webhooks: where an account's changes are POSTed, and the
//! attempts made to deliver them. The workers that deliver live in
//! `crate::outbound`.

use axum::extract::State;
use axum::response::Response;
use shiplog_api::webhooks::{
    DeliveryAttemptListOut, DeliveryAttemptOut, WebhookEnvelope, WebhookListOut, WebhookOut,
};
use shiplog_domain::input::WebhookSettings;
use shiplog_domain::outbound::generate_secret;
use shiplog_domain::{Order, ResourceName};
use shiplog_store::webhooks::{Webhook, WebhookConfig, message_id};

use super::{empty, json};
use crate::error::ApiError;
use crate::extract::{Authorized, JsonBody, Params, Segments};
use crate::pagination::{Listing, Ordering};
use crate::state::SharedState;

fn webhook_name(name: &str) -> Result<ResourceName, ApiError> {
    Ok(ResourceName::parse("Webhook", name)?)
}

fn webhook_out(webhook: Webhook, secret: Option<String>) -> WebhookOut {
    let config = webhook.config;
    WebhookOut {
        name: webhook.name,
        url: config.url,
        event_types: config
            .scope
            .event_types
            .iter()
            .map(|t| t.filter_name().to_owned())
            .collect(),
        apps: config.scope.apps,
        format: config.format.as_str().to_owned(),
        enabled: config.enabled,
        failing_since: webhook.failing_since,
        disabled_reason: webhook.disabled_reason,
        secret,
    }
}

/// PutWebhook: creates a webhook (its secret shown only now) or replaces
/// its configuration; `rotate_secret` makes a new secret.
#[utoipa::path(put, path = "/{username}/webhooks/{name}", operation_id = "PutWebhook", tag = "Webhooks",
    params(crate::openapi::WebhookPath),
    request_body(content = shiplog_api::webhooks::WebhookIn, description = "JSON, whatever the content type"),
    responses((status = 200, body = WebhookEnvelope), crate::openapi::ApiErrors))]
pub async fn put(
    State(state): State<SharedState>,
    Authorized(account, _): Authorized,
    Segments((_, name)): Segments<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let name = webhook_name(&name)?;
    let settings = WebhookSettings::parse(&body)?;
    let url = state.targets.check(&settings.url).await?;
    let config = WebhookConfig {
        url: url.to_string(),
        scope: settings.scope,
        format: settings.format,
        enabled: settings.enabled,
    };
    // The store keeps the fresh secret when it creates the webhook or a
    // rotation was asked for, in the same transaction: only then is it shown.
    let secret = generate_secret();
    let kept = state
        .store
        .put_webhook(
            &account,
            name.as_str(),
            config,
            secret.clone(),
            settings.rotate_secret,
        )
        .await?;
    let webhook = state.store.get_webhook(&account, name.as_str()).await?;
    Ok(json(&WebhookEnvelope {
        webhook: webhook_out(webhook, kept.then_some(secret)),
    }))
}

/// ListWebhooks: the account's webhooks by name, never a secret.
#[utoipa::path(get, path = "/{username}/webhooks", operation_id = "ListWebhooks", tag = "Webhooks",
    params(crate::openapi::AccountPath),
    responses((status = 200, body = WebhookListOut), crate::openapi::ApiErrors))]
pub async fn list(
    State(state): State<SharedState>,
    Authorized(account, _): Authorized,
) -> Result<Response, ApiError> {
    let webhooks = state.store.list_webhooks(&account).await?;
    Ok(json(&WebhookListOut {
        webhooks: webhooks.into_iter().map(|w| webhook_out(w, None)).collect(),
    }))
}

/// GetWebhook.
#[utoipa::path(get, path = "/{username}/webhooks/{name}", operation_id = "GetWebhook", tag = "Webhooks",
    params(crate::openapi::WebhookPath),
    responses((status = 200, body = WebhookEnvelope), crate::openapi::ApiErrors))]
pub async fn get(
    State(state): State<SharedState>,
    Authorized(account, _): Authorized,
    Segments((_, name)): Segments<(String, String)>,
) -> Result<Response, ApiError> {
    let name = webhook_name(&name)?;
    let webhook = state.store.get_webhook(&account, name.as_str()).await?;
    Ok(json(&WebhookEnvelope {
        webhook: webhook_out(webhook, None),
    }))
}

/// DeleteWebhook: with what it still owed and its attempts.
#[utoipa::path(delete, path = "/{username}/webhooks/{name}", operation_id = "DeleteWebhook", tag = "Webhooks",
    params(crate::openapi::WebhookPath),
    responses((status = 200, description = "Deleted; the body is empty"), crate::openapi::ApiErrors))]
pub async fn delete(
    State(state): State<SharedState>,
    Authorized(account, _): Authorized,
    Segments((_, name)): Segments<(String, String)>,
) -> Result<Response, ApiError> {
    let name = webhook_name(&name)?;
    state.store.delete_webhook(&account, name.as_str()).await?;
    Ok(empty())
}

/// ListDeliveries: every attempt made for a webhook, newest first.
#[utoipa::path(get, path = "/{username}/webhooks/{name}/deliveries", operation_id = "ListDeliveries", tag = "Webhooks",
    params(crate::openapi::WebhookPath, crate::openapi::DescendingPageQuery),
    responses((status = 200, body = DeliveryAttemptListOut), crate::openapi::ApiErrors))]
pub async fn deliveries(
    State(state): State<SharedState>,
    Authorized(account, _): Authorized,
    Segments((_, name)): Segments<(String, String)>,
    params: Params,
) -> Result<Response, ApiError> {
    let name = webhook_name(&name)?;
    let scope = ["deliveries", &account.name, name.as_str()];
    let (listing, page) =
        Listing::start::<i64>(&state, &params, &scope, Ordering::Fixed(Order::Desc))?;
    let rows = state
        .store
        .webhook_attempts(
            &account,
            name.as_str(),
            page.after,
            page.fetch_limit() as u32,
        )
        .await?;
    let (rows, marker) = listing.finish(rows, |row| row.id);
    Ok(json(&DeliveryAttemptListOut {
        deliveries: rows
            .into_iter()
            .map(|row| DeliveryAttemptOut {
                change_id: row.change_id,
                webhook_id: message_id(row.webhook_id, row.change_id),
                attempt: row.attempt,
                at: row.outcome.at,
                status_code: row.outcome.status_code,
                duration_ms: row.outcome.duration_ms,
                error: row.outcome.error,
            })
            .collect(),
        marker,
    }))
}
