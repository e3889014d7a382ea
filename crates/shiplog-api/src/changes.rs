//! The story of events on the wire: changes, lineage and commits.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use shiplog_domain::{Actor, Change, ChangeKind, Timestamp};
use utoipa::ToSchema;

use crate::EventOut;

/// Who made a change: a user through a token, or a webhook delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ActorOut {
    Token {
        user: String,
        token_id: i64,
        token_label: Option<String>,
    },
    Hook {
        /// `github`, `gitlab` or `bitbucket`.
        hook: String,
        delivery: String,
    },
}

impl From<Actor> for ActorOut {
    fn from(actor: Actor) -> ActorOut {
        match actor {
            Actor::Token {
                user,
                token_id,
                token_label,
            } => ActorOut::Token {
                user,
                token_id,
                token_label,
            },
            Actor::Hook { hook, delivery } => ActorOut::Hook { hook, delivery },
        }
    }
}

/// One accepted write to an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChangeOut {
    /// Increases in commit order, server-wide.
    pub change_id: i64,
    #[schema(value_type = String)]
    pub at: Timestamp,
    /// `created` or `updated`.
    #[schema(value_type = String)]
    pub kind: ChangeKind,
    pub actor: ActorOut,
    pub app_name: String,
    pub event_id: i64,
    /// Each changed field as `[old, new]`; for `created`, every non-null
    /// field with `null` as the old value.
    #[schema(value_type = Object)]
    pub fields: Map<String, Value>,
    /// The event right after the change.
    #[schema(value_type = EventOut)]
    pub event: Value,
}

impl From<Change> for ChangeOut {
    fn from(change: Change) -> ChangeOut {
        ChangeOut {
            change_id: change.change_id,
            at: change.at,
            kind: change.kind,
            actor: change.actor.into(),
            app_name: change.app_name,
            event_id: change.event_id,
            fields: change.fields,
            event: change.event,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChangeListOut {
    pub changes: Vec<ChangeOut>,
    /// Pass back as `marker` for the next page; `null` on the last page.
    pub marker: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LineageOut {
    /// Up the chain of parents to the root, nearest first.
    pub ancestors: Vec<EventOut>,
    pub event: EventOut,
    /// Every event whose chain of parents leads here, in id order.
    pub descendants: Vec<EventOut>,
}

/// An env whose active release was built from the commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeployedOut {
    pub env_name: String,
    pub release_version: Option<String>,
    /// When the deploy ended (or, lacking that, was recorded).
    #[schema(value_type = String)]
    pub deployed_at: Timestamp,
    /// The DEPLOY's id.
    pub event_id: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CommitOut {
    pub commit_id: String,
    /// Every event of the app that carried the commit, in id order.
    pub events: Vec<EventOut>,
    /// The envs of the app whose active release carries the commit.
    pub deployed_to: Vec<DeployedOut>,
}
