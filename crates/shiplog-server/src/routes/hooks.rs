//! Webhooks: configuring an account's hook per provider, and receiving
//! deliveries. A delivery is authenticated by the provider's signature over
//! the raw bytes before anything is parsed, mapped by the ingest crate's
//! pure functions, and applied by the store in one transaction.

use axum::extract::{FromRequest, Request, State};
use axum::http::HeaderMap;
use axum::response::Response;
use shiplog_api::hooks::{DeliveryOut, HookEnvelope, HookIn, HookInfoOut, HookListOut, HookOut};
use shiplog_domain::DomainError;
use shiplog_domain::input::HookSettings;
use shiplog_ingest::{Headers, Provider, signature};
use shiplog_store::hooks::{HookAuth, StoredSecret};

use super::{empty, json};
use crate::error::ApiError;
use crate::extract::{Authorized, JsonBody, Segments};
use crate::state::SharedState;

/// Hook bodies may be this large (pushes with many commits); other calls
/// keep the general limit.
pub const HOOK_BODY_LIMIT: usize = 5 * 1024 * 1024;

fn provider(name: &str) -> Result<Provider, ApiError> {
    crate::admin::provider(name).map_err(ApiError::from)
}

fn hook_url(state: &SharedState, account: &str, provider: Provider) -> String {
    crate::admin::hook_url(&state.public_url, account, provider)
}

/// ConfigureHook: a new secret (shown only now) and the address to paste
/// into the provider; a repeat rotates the secret.
#[utoipa::path(put, path = "/{username}/hooks/{provider}", operation_id = "ConfigureHook", tag = "Hooks",
    params(crate::openapi::HookPath),
    request_body(content = HookIn, description = "JSON, whatever the content type; empty means {}"),
    responses((status = 200, body = HookEnvelope), crate::openapi::ApiErrors))]
pub async fn configure(
    State(state): State<SharedState>,
    Authorized(account, _): Authorized,
    Segments((_, name)): Segments<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let provider = provider(&name)?;
    let settings = HookSettings::parse(&body)?;
    let (secret, config) =
        crate::admin::configure_hook(state.store.as_ref(), &account, provider, settings).await?;
    Ok(json(&HookEnvelope {
        hook: HookOut {
            provider: provider.as_str().to_owned(),
            url: hook_url(&state, &account.name, provider),
            secret,
            app: config.app,
            create_apps: config.create_apps,
        },
    }))
}

/// ListHooks: the account's hooks, never a secret.
#[utoipa::path(get, path = "/{username}/hooks", operation_id = "ListHooks", tag = "Hooks",
    params(crate::openapi::AccountPath),
    responses((status = 200, body = HookListOut), crate::openapi::ApiErrors))]
pub async fn list(
    State(state): State<SharedState>,
    Authorized(account, _): Authorized,
) -> Result<Response, ApiError> {
    let hooks = state.store.list_hooks(&account).await?;
    Ok(json(&HookListOut {
        hooks: hooks
            .into_iter()
            .map(|hook| HookInfoOut {
                provider: hook.config.provider.as_str().to_owned(),
                url: hook_url(&state, &account.name, hook.config.provider),
                app: hook.config.app,
                create_apps: hook.config.create_apps,
                last_delivery_at: hook.last_delivery,
                deliveries: hook.deliveries,
            })
            .collect(),
    }))
}

/// DeleteHook: deliveries to it are refused from now on.
#[utoipa::path(delete, path = "/{username}/hooks/{provider}", operation_id = "DeleteHook", tag = "Hooks",
    params(crate::openapi::HookPath),
    responses((status = 200, description = "Deleted; the body is empty"), crate::openapi::ApiErrors))]
pub async fn delete(
    State(state): State<SharedState>,
    Authorized(account, _): Authorized,
    Segments((_, name)): Segments<(String, String)>,
) -> Result<Response, ApiError> {
    state.store.delete_hook(&account, provider(&name)?).await?;
    Ok(empty())
}

/// A delivery's headers, as the mappings read them.
pub(crate) struct HttpHeaders<'a>(pub(crate) &'a HeaderMap);

impl Headers for HttpHeaders<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(|value| value.to_str().ok())
    }
}

/// Whether a delivery carries the hook's signature (or token).
fn authentic(hook: &HookAuth, headers: &HeaderMap, body: &[u8]) -> bool {
    let headers = HttpHeaders(headers);
    match &hook.secret {
        StoredSecret::Plain(secret) => {
            signature::verify(hook.config.provider, secret, &headers, body)
        }
        // GitLab sends the secret itself; only its hash is kept.
        StoredSecret::Hashed(_) => headers
            .get("X-Gitlab-Token")
            .is_some_and(|token| hook.secret.token_matches(token)),
    }
}

/// Deliver: a webhook delivery, authenticated by the provider's signature.
#[utoipa::path(post, path = "/{username}/hooks/{provider}", operation_id = "Deliver", tag = "Hooks",
    params(crate::openapi::HookPath),
    request_body(content = String, description = "The provider's payload, as it sent it (up to 5 MiB)"),
    responses((status = 200, body = DeliveryOut), crate::openapi::ApiErrors),
    security(()))]
pub async fn deliver(
    State(state): State<SharedState>,
    Segments((account, name)): Segments<(String, String)>,
    request: Request,
) -> Result<Response, ApiError> {
    let provider = provider(&name)?;
    let headers = request.headers().clone();
    let body = RawBody::from_request(request, &state).await?.0;
    // The same answer whether the account or its hook is missing or the
    // signature is wrong: nothing tells a stranger which accounts exist.
    let hook = state
        .store
        .hook_auth(&account, provider)
        .await?
        .filter(|hook| authentic(hook, &headers, &body))
        .ok_or(ApiError::Unauthenticated)?;
    let payload: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|err| DomainError::Malformed(format!("The delivery is not valid JSON: {err}")))?;
    let delivery = shiplog_ingest::map(provider, &HttpHeaders(&headers), &payload)
        .map_err(|err| DomainError::BadParam(err.0))?;
    let answer = state
        .store
        .deliver(&hook.account, hook.config, delivery)
        .await?;
    Ok(json(&answer))
}

/// A body read whole, up to [`HOOK_BODY_LIMIT`].
struct RawBody(axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, _: &S) -> Result<Self, Self::Rejection> {
        axum::body::to_bytes(request.into_body(), HOOK_BODY_LIMIT)
            .await
            .map(RawBody)
            .map_err(|_| {
                ApiError::PayloadTooLarge(format!(
                    "The delivery exceeds the limit of {HOOK_BODY_LIMIT} bytes"
                ))
            })
    }
}
