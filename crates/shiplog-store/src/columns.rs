//! What both backends store the same way: the column order of an event row,
//! an app's identity, the columns of a change, and the JSON text of an
//! env's tag and var lists.

use shiplog_domain::resources::EnvVar;
use shiplog_domain::{Actor, Change, ChangeKind, Timestamp};

use crate::{Result, StoreError};

/// The columns of an event row, in the order each backend's row mapping
/// reads them.
pub const EVENT_COLUMNS: &str = "id, event_type, event_time_ms, author_name, author_username, \
     branch, commit_id, commit_msg, commit_url, repo_name, repo_owner, repo_provider, repo_url, \
     auto_build, build_end_ms, build_id, build_provider, build_start_ms, build_status, build_url, \
     parent_event_id, release_version, auto_deploy, deployment_id, deployment_number, \
     deployment_status, deployment_type, env_name, commit_time_ms, deployment_start_ms, \
     deployment_end_ms, hotfix";

/// The identity of an app, as the event queries need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppRow {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub created_ms: i64,
}

/// The columns of a change row, in the order [`ChangeColumns`] holds them;
/// `app_name` comes from the apps table.
pub const CHANGE_COLUMNS: &str = "c.id, c.at_ms, c.kind, c.actor, c.fields, c.event, a.name";

/// A change row as read, before its JSON columns are parsed.
pub struct ChangeColumns {
    pub change_id: i64,
    pub at_ms: i64,
    pub kind: String,
    pub actor: String,
    pub fields: String,
    pub event: String,
    pub app_name: String,
}

impl ChangeColumns {
    pub fn into_change(self) -> Result<Change> {
        let corrupt = |what: &str, err: &dyn std::fmt::Display| {
            StoreError::Internal(format!("change {}: {what}: {err}", self.change_id))
        };
        let kind = ChangeKind::parse(&self.kind).ok_or_else(|| corrupt("kind", &self.kind))?;
        let actor: Actor =
            serde_json::from_str(&self.actor).map_err(|err| corrupt("actor", &err))?;
        let fields = serde_json::from_str(&self.fields).map_err(|err| corrupt("fields", &err))?;
        let event: serde_json::Value =
            serde_json::from_str(&self.event).map_err(|err| corrupt("event", &err))?;
        let event_id = event
            .get("event_id")
            .and_then(serde_json::Value::as_i64)
            .ok_or_else(|| corrupt("event", &"no event_id"))?;
        Ok(Change {
            change_id: self.change_id,
            at: Timestamp::from_millis(self.at_ms),
            kind,
            actor,
            app_name: self.app_name,
            event_id,
            fields,
            event,
        })
    }
}

/// The JSON text of a value a change column holds.
pub fn to_json_text<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("change values serialise")
}

/// An env's tag or var list as the text of its column.
pub fn list_to_json<T: serde::Serialize>(list: &[T]) -> String {
    serde_json::to_string(list).expect("lists of strings serialise")
}

/// An env's tags and vars read back from their columns.
pub fn env_lists(tags: &str, vars: &str) -> Result<(Vec<String>, Vec<EnvVar>)> {
    let tags = serde_json::from_str(tags)
        .map_err(|err| StoreError::Internal(format!("env tags: {err}")))?;
    let vars = serde_json::from_str(vars)
        .map_err(|err| StoreError::Internal(format!("env vars: {err}")))?;
    Ok((tags, vars))
}
