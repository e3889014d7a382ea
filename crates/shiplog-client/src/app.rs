//! The calls on one app: its events (create, update, get, list), an
//! event's history and lineage, commits, and the app's envs.

use reqwest::Method;
use shiplog_api::{
    AppEnvelope, AppIn, AppOut, BuildEventIn, ChangeListOut, CommitFieldsIn, CommitOut, CreatedOut,
    DeployEventIn, EnvEnvelope, EnvIn, EnvListOut, EnvOut, EventEnvelope, EventListOut, EventOut,
    EventUpdateIn, IncidentEventIn, LineageOut, ReleaseEventIn,
};
use shiplog_domain::Order;

use crate::transport::Call;
use crate::{Client, Error, Pages, Result};

/// The filters and order of ListEvents; what is given applies together.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventQuery {
    /// `Build`, `Deploy`, `Incident`, `Pullrequest`, `Push`, `Release`, any
    /// letter case.
    pub event_type: Option<String>,
    pub branch: Option<String>,
    /// DEPLOY and INCIDENT events of this env.
    pub env: Option<String>,
    /// Newest first unless `Asc`.
    pub order: Option<Order>,
    /// Events per page (the server caps it at 100).
    pub page_size: Option<u32>,
}

/// The calls on one app of the client's account.
#[derive(Clone)]
pub struct AppClient {
    client: Client,
    name: String,
}

impl AppClient {
    pub(crate) fn new(client: Client, name: &str) -> AppClient {
        AppClient {
            client,
            name: name.to_owned(),
        }
    }

    /// The app's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn call<'a>(&'a self, method: Method, rest: &[&'a str]) -> Call<'a> {
        let mut segments = vec![self.client.account(), "apps", self.name.as_str()];
        segments.extend_from_slice(rest);
        Call::new(method, &segments)
    }

    fn segments<'a>(&'a self, rest: &[&'a str]) -> Vec<&'a str> {
        self.call(Method::GET, rest).segments
    }

    /// GetApp of this app.
    pub async fn get(&self) -> Result<AppOut> {
        Ok(self
            .client
            .call::<AppEnvelope>(self.call(Method::GET, &[]))
            .await?
            .app)
    }

    /// CreateApp of this app.
    pub async fn create(&self, app: &AppIn) -> Result<AppOut> {
        self.client.create_app(&self.name, app).await
    }

    async fn create_event(&self, kind: &str, body: Vec<u8>) -> Result<i64> {
        let mut call = self.call(Method::PUT, &["events", kind]);
        call.body = Some(body);
        let created: CreatedOut = self.client.call(call).await?;
        created.event_id.parse().map_err(|_| {
            Error::Protocol(format!("event_id {:?} is not a number", created.event_id))
        })
    }

    /// CreatePushEvent; the new event's id.
    pub async fn create_push(&self, push: &CommitFieldsIn) -> Result<i64> {
        self.create_event("pushEvent", to_json(push)).await
    }

    /// CreatePullRequestEvent.
    pub async fn create_pull_request(&self, pull_request: &CommitFieldsIn) -> Result<i64> {
        self.create_event("pullRequestEvent", to_json(pull_request))
            .await
    }

    /// CreateBuildEvent.
    pub async fn create_build(&self, build: &BuildEventIn) -> Result<i64> {
        self.create_event("buildEvent", to_json(build)).await
    }

    /// CreateReleaseEvent; the version is assigned when absent.
    pub async fn create_release(&self, release: &ReleaseEventIn) -> Result<i64> {
        self.create_event("releaseEvent", to_json(release)).await
    }

    /// CreateDeployEvent; `env_name` is required.
    pub async fn create_deploy(&self, deploy: &DeployEventIn) -> Result<i64> {
        self.create_event("deployEvent", to_json(deploy)).await
    }

    /// CreateIncidentEvent; `env_name` is required.
    pub async fn create_incident(&self, incident: &IncidentEventIn) -> Result<i64> {
        self.create_event("incidentEvent", to_json(incident)).await
    }

    /// UpdateBuildEvent, UpdateDeployEvent or UpdateIncidentEvent, by the
    /// event's type; the event after the update.
    pub async fn update_event(&self, event_id: i64, update: &EventUpdateIn) -> Result<EventOut> {
        let id = event_id.to_string();
        let call = self.call(Method::POST, &["events", &id]).json(update);
        Ok(self.client.call::<EventEnvelope>(call).await?.event)
    }

    /// GetEvent.
    pub async fn get_event(&self, event_id: i64) -> Result<EventOut> {
        let id = event_id.to_string();
        let call = self.call(Method::GET, &["events", &id]);
        Ok(self.client.call::<EventEnvelope>(call).await?.event)
    }

    /// ListEvents, every page, newest first unless asked otherwise.
    pub fn events(&self, query: &EventQuery) -> Pages<EventListOut> {
        let mut params = Vec::new();
        let mut add = |name: &'static str, value: Option<String>| {
            if let Some(value) = value {
                params.push((name, value));
            }
        };
        add("filter_event_type", query.event_type.clone());
        add("filter_branch", query.branch.clone());
        add("filter_env", query.env.clone());
        add("order", query.order.map(|order| order.as_str().to_owned()));
        add("max_results", query.page_size.map(|size| size.to_string()));
        Pages::new(self.client.clone(), &self.segments(&["events"]), params)
    }

    /// GetEventHistory: every change to the event, oldest first.
    pub fn history(&self, event_id: i64) -> Pages<ChangeListOut> {
        let id = event_id.to_string();
        Pages::new(
            self.client.clone(),
            &self.segments(&["events", &id, "history"]),
            Vec::new(),
        )
    }

    /// GetEventLineage: the event's ancestors and descendants.
    pub async fn lineage(&self, event_id: i64) -> Result<LineageOut> {
        let id = event_id.to_string();
        let call = self.call(Method::GET, &["events", &id, "lineage"]);
        self.client.call(call).await
    }

    /// GetCommit: every event that carried the commit, and the envs running it.
    pub async fn commit(&self, commit_id: &str) -> Result<CommitOut> {
        let call = self.call(Method::GET, &["commits", commit_id]);
        self.client.call(call).await
    }

    /// ListAppEnvs, every page.
    pub fn envs(&self) -> Pages<EnvListOut> {
        Pages::new(self.client.clone(), &self.segments(&["envs"]), Vec::new())
    }

    /// CreateEnv of this app.
    pub async fn create_env(&self, name: &str, env: &EnvIn) -> Result<EnvOut> {
        let call = self.call(Method::PUT, &["envs", name]).json(env);
        Ok(self.client.call::<EnvEnvelope>(call).await?.env)
    }
}

fn to_json(body: &impl serde::Serialize) -> Vec<u8> {
    serde_json::to_vec(body).expect("wire types serialise")
}
