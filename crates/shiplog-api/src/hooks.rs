//! Webhooks on the wire: configuring a hook, listing hooks, and the answer
//! to a delivery.

use serde::{Deserialize, Serialize};
use shiplog_domain::Timestamp;
use utoipa::ToSchema;

/// The body of ConfigureHook.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HookIn {
    /// The app every delivery records to; default: the repository's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// Whether an app named after a repository is created on first use
    /// (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_apps: Option<bool>,
}

/// A hook as configured, with its secret: shown only in this answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HookOut {
    /// `github`, `gitlab` or `bitbucket`.
    pub provider: String,
    /// The address to paste into the provider's webhook settings.
    pub url: String,
    pub secret: String,
    pub app: Option<String>,
    pub create_apps: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HookEnvelope {
    pub hook: HookOut,
}

/// A hook as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HookInfoOut {
    pub provider: String,
    pub url: String,
    pub app: Option<String>,
    pub create_apps: bool,
    #[schema(value_type = Option<String>)]
    pub last_delivery_at: Option<Timestamp>,
    /// The deliveries accepted.
    pub deliveries: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HookListOut {
    pub hooks: Vec<HookInfoOut>,
}

/// The answer to a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeliveryOut {
    /// The provider's id of the delivery.
    pub delivery: String,
    /// The events created or changed, as strings.
    pub event_ids: Vec<String>,
    /// True when the delivery was received before: nothing was recorded.
    pub duplicate: bool,
    /// Why nothing was recorded, when the delivery is of no use.
    pub ignored: Option<String>,
}

/// The answer to one CDEvent received: Deliver's without `delivery`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CdeventOut {
    /// The events created or changed, as strings.
    pub event_ids: Vec<String>,
    /// True when this `(context.source, context.id)` was received before:
    /// nothing was recorded.
    pub duplicate: bool,
    /// Why nothing was recorded, when shiplog records nothing of its type.
    pub ignored: Option<String>,
}

/// The answer to a batch of CDEvents: one result per event, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CdeventBatchOut {
    pub results: Vec<CdeventOut>,
}

/// The answer to `…/cdevents`: one result, or a batch's results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum CdeventAnswer {
    One(CdeventOut),
    Batch(CdeventBatchOut),
}

/// A CDEvent as ReceiveCdevents reads it; other fields (`chainId`,
/// `links`, `customData`, …) are accepted and not kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CdeventIn {
    pub context: CdeventContextIn,
    pub subject: CdeventSubjectIn,
}

/// A CDEvent's `context`: `(source, id)` names it once per account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CdeventContextIn {
    /// The CDEvents version, `0.4.x` or `0.5.x`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub specversion: Option<String>,
    /// 1 to 512 bytes, unique per source.
    #[schema(min_length = 1, max_length = 512)]
    pub id: String,
    /// Who sent it; 1 to 512 bytes.
    #[schema(min_length = 1, max_length = 512)]
    pub source: String,
    /// `dev.cdevents.<subject>.<predicate>.<version>`.
    #[serde(rename = "type")]
    #[schema(min_length = 1)]
    pub kind: String,
    /// RFC 3339; when the run started or ended, the deploy or incident happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
}

/// A CDEvent's `subject`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CdeventSubjectIn {
    /// The build, incident, commit, branch or package the event is about.
    #[schema(min_length = 1, max_length = 512)]
    pub id: String,
    /// What the event's type carries (`environment`, `outcome`, `uri`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub content: Option<serde_json::Value>,
}

/// A structured CloudEvent carrying a CDEvent as its `data`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CloudEventIn {
    /// `1.0`.
    pub specversion: String,
    pub id: String,
    pub source: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    pub data: CdeventIn,
}
