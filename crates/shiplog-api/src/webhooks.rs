//! Outbound webhooks on the wire: configuring one, listing them, and the
//! attempts made to deliver to one.

use serde::{Deserialize, Serialize};
use shiplog_domain::Timestamp;
use utoipa::ToSchema;

/// The body of PutWebhook.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WebhookIn {
    /// Where changes are POSTed: `http` or `https`.
    pub url: String,
    /// Event types whose changes are sent (`Build`, `Deploy`, …); absent or
    /// empty: all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_types: Option<Vec<String>>,
    /// Apps whose changes are sent; absent or empty: all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apps: Option<Vec<String>>,
    /// `shiplog` (default) or `cdevents`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Default true; false pauses deliveries, which wait until enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// True: a new secret is made and shown in the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotate_secret: Option<bool>,
}

/// A webhook; `secret` only in the answer that made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WebhookOut {
    pub name: String,
    pub url: String,
    /// Empty: all.
    pub event_types: Vec<String>,
    /// Empty: all.
    pub apps: Vec<String>,
    pub format: String,
    pub enabled: bool,
    /// Since when deliveries have been failing; null while they succeed.
    #[schema(value_type = Option<String>)]
    pub failing_since: Option<Timestamp>,
    /// Why the server disabled the webhook, when it did.
    pub disabled_reason: Option<String>,
    /// The signing secret (`whsec_…`), shown only on creation or rotation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WebhookEnvelope {
    pub webhook: WebhookOut,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WebhookListOut {
    pub webhooks: Vec<WebhookOut>,
}

/// One attempt to deliver a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeliveryAttemptOut {
    pub change_id: i64,
    /// The `webhook-id` header: the same for every attempt of a change.
    pub webhook_id: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    #[schema(value_type = String)]
    pub at: Timestamp,
    /// The receiver's status; null when no answer came.
    pub status_code: Option<u16>,
    pub duration_ms: u64,
    /// Why the attempt failed; null when it succeeded.
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeliveryAttemptListOut {
    /// Newest first.
    pub deliveries: Vec<DeliveryAttemptOut>,
    /// Pass back as `marker` for the next page; `null` on the last page.
    pub marker: Option<String>,
}
