//! What both backends store the same way: the column order of an event row
//! and the JSON text of an env's tag and var lists.

use shiplog_domain::resources::EnvVar;

use crate::{Result, StoreError};

/// The columns of an event row, in the order each backend's row mapping
/// reads them.
pub const EVENT_COLUMNS: &str = "id, event_type, event_time_ms, author_name, author_username, \
     branch, commit_id, commit_msg, commit_url, repo_name, repo_owner, repo_provider, repo_url, \
     auto_build, build_end_ms, build_id, build_provider, build_start_ms, build_status, build_url, \
     parent_event_id, release_version, auto_deploy, deployment_id, deployment_number, \
     deployment_status, deployment_type, env_name";

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
