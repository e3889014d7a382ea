//! Applications and environments on the wire.

use serde::{Deserialize, Serialize};
use shiplog_domain::Timestamp;
use shiplog_domain::resources::{App, Env, EnvVar};
use utoipa::ToSchema;

use crate::EventOut;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AppOut {
    pub api_url: String,
    #[schema(value_type = String)]
    pub created: Timestamp,
    pub description: Option<String>,
    pub html_url: String,
    /// The newest BUILD event.
    pub latest_build: Option<EventOut>,
    /// The newest RELEASE event.
    pub latest_release: Option<EventOut>,
    pub name: String,
    pub owner: String,
    /// Days the app's events are kept, when it has a retention of its own
    /// (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<u32>,
}

impl AppOut {
    /// `public_url` is the server's base URL, without a trailing slash.
    pub fn new(app: App, public_url: &str) -> AppOut {
        let url = format!("{public_url}/{}/apps/{}", app.owner, app.name);
        AppOut {
            // The app's page in the web UI.
            html_url: format!("{public_url}/-/ui/{}/apps/{}", app.owner, app.name),
            api_url: url,
            created: app.created,
            description: app.description,
            latest_build: app.latest_build.map(EventOut::from),
            latest_release: app.latest_release.map(EventOut::from),
            name: app.name,
            owner: app.owner,
            retention_days: app.retention_days,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AppEnvelope {
    pub app: AppOut,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AppListOut {
    pub apps: Vec<AppOut>,
    /// Pass back as `marker` for the next page; `null` on the last page.
    pub marker: Option<String>,
}

/// An environment variable of an env, as the original service shaped it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EnvVarOut {
    pub name: String,
    pub value: String,
}

impl From<EnvVar> for EnvVarOut {
    fn from(var: EnvVar) -> EnvVarOut {
        EnvVarOut {
            name: var.name,
            value: var.value,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EnvOut {
    /// The release of the newest deploy to this env that ended `Ok`.
    pub active_release_version: Option<String>,
    pub api_url: String,
    pub app_name: String,
    pub description: Option<String>,
    pub html_url: String,
    /// The newest DEPLOY event to this env.
    pub last_deployment: Option<EventOut>,
    pub name: String,
    pub owner: String,
    pub tags: Vec<String>,
    pub vars: Vec<EnvVarOut>,
}

impl EnvOut {
    /// `public_url` is the server's base URL, without a trailing slash.
    pub fn new(env: Env, public_url: &str) -> EnvOut {
        let url = format!("{public_url}/{}/envs/{}", env.owner, env.name);
        EnvOut {
            active_release_version: env.active_release_version,
            // The env's page in the web UI.
            html_url: format!("{public_url}/-/ui/{}/envs/{}", env.owner, env.name),
            api_url: url,
            app_name: env.app_name,
            description: env.description,
            last_deployment: env.last_deployment.map(EventOut::from),
            name: env.name,
            owner: env.owner,
            tags: env.tags,
            vars: env.vars.into_iter().map(EnvVarOut::from).collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EnvEnvelope {
    pub env: EnvOut,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EnvListOut {
    pub envs: Vec<EnvOut>,
    /// Pass back as `marker` for the next page; `null` on the last page.
    pub marker: Option<String>,
}
