//! The bodies of the write calls, as a client sends them.
//!
//! The server reads bodies leniently (any content type, booleans as
//! strings, ids and numbers for strings, any letter case in enumerations:
//! see `shiplog_domain::input`); these types are the canonical form, which
//! it always accepts.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::EnvVarOut;

/// The fields of the commit an event is about. Strings are limited to
/// 4 KiB, `commit_msg` to 64 KiB; numbers are accepted for strings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CommitFieldsIn {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_msg: Option<String>,
    /// RFC 3339 date-time: when the commit was made; lead time starts here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo_owner: Option<String>,
    /// `bitbucket`, `bitbucketserver`, `github`, `githubenterprise`,
    /// `gitlab` or `azuredevops`, in any letter case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo_provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo_url: Option<String>,
}

/// The body of CreateBuildEvent: the commit fields and these.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BuildEventIn {
    #[serde(flatten)]
    #[schema(inline)]
    pub commit: CommitFieldsIn,
    /// A boolean, or the string `"true"` or `"false"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_build: Option<bool>,
    /// RFC 3339 date-time; needed before a terminal `build_status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_end: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_provider: Option<String>,
    /// RFC 3339 date-time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_start: Option<String>,
    /// `Waiting`, `Queued`, `Running`, or the terminal `Success`, `Failed`,
    /// `TimedOut`, `Cancelled`, in any letter case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_url: Option<String>,
    /// A PUSH or PULLREQUEST event of the same app, as a string or number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_event_id: Option<String>,
    /// Records a RELEASE of this version with the build as parent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_version: Option<String>,
}

/// The body of CreateReleaseEvent: the commit fields and these.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReleaseEventIn {
    #[serde(flatten)]
    #[schema(inline)]
    pub commit: CommitFieldsIn,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_id: Option<String>,
    /// A BUILD event of the same app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_event_id: Option<String>,
    /// Assigned (`v1`, `v2`, …) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_version: Option<String>,
}

/// The body of CreateDeployEvent: the commit fields and these.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeployEventIn {
    #[serde(flatten)]
    #[schema(inline)]
    pub commit: CommitFieldsIn,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_deploy: Option<bool>,
    /// RFC 3339 date-time, only with a terminal `deployment_status`; set by
    /// the server when a terminal status is reached, unless sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_end: Option<String>,
    /// Assigned (`d-…`) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    /// Assigned when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_number: Option<String>,
    /// RFC 3339 date-time; the deploy's creation when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_start: Option<String>,
    /// `Pending`, `InProgress`, or the terminal `Ok`, `Failed`, `Aborted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_status: Option<String>,
    /// `Deploy` (default), `Restart` or `Terminate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_type: Option<String>,
    /// Required; the env is created if the app lacks it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env_name: Option<String>,
    /// An unplanned deploy made to repair production; default false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hotfix: Option<bool>,
    /// A RELEASE event of the same app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_event_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_version: Option<String>,
}

/// The body of UpdateBuildEvent (on a BUILD) or UpdateDeployEvent (on a
/// DEPLOY): a BUILD takes the `build_*` fields and `release_version`, a
/// DEPLOY `deployment_status` and `deployment_end` (only with a terminal
/// status).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EventUpdateIn {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_end: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_end: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_status: Option<String>,
    /// INCIDENT: RFC 3339 date-time; required with `Resolved`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident_end: Option<String>,
    /// INCIDENT: `Open` or the terminal `Resolved`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident_status: Option<String>,
}

/// The body of CreateIncidentEvent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IncidentEventIn {
    /// A DEPLOY event of the same app that caused the incident.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caused_by_event_id: Option<String>,
    /// Required; the env is created if the app lacks it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env_name: Option<String>,
    /// RFC 3339 date-time; required with `Resolved`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident_end: Option<String>,
    /// RFC 3339 date-time; the incident's creation when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident_start: Option<String>,
    /// `Open` (default) or the terminal `Resolved`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident_status: Option<String>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// The body of CreateApp, and of UpdateApp (where a field sent as `null`
/// is cleared and one left out stays as it is).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AppIn {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Days the app's events are kept (1 to 36500), instead of the
    /// server's `--retention-days`; what runs is always kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 36500)]
    pub retention_days: Option<u32>,
}

/// The body of CreateEnv.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EnvIn {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vars: Option<Vec<EnvVarOut>>,
}
