//! An event on the wire: the four common fields, then every field of its
//! type in alphabetical order, `null` when unknown, and no other.

use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use shiplog_domain::event::{Field, IncidentStatus};
use shiplog_domain::{
    BuildStatus, DeploymentStatus, DeploymentType, Event, EventType, RepoProvider, Timestamp,
};
use utoipa::ToSchema;

/// An event. The first four fields are always present; then come every
/// field of its type in alphabetical order, `null` when unknown.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
pub struct EventOut {
    pub app_name: String,
    pub event_id: i64,
    /// When shiplog recorded the event (UTC, milliseconds).
    #[schema(value_type = String)]
    pub event_time: Timestamp,
    /// `PUSH`, `PULLREQUEST`, `BUILD`, `RELEASE`, `DEPLOY`, `DOCKERIMAGE` or `INCIDENT`.
    #[schema(value_type = String)]
    pub event_type: EventType,
    #[serde(default)]
    pub author_name: Option<String>,
    #[serde(default)]
    pub author_username: Option<String>,
    #[serde(default)]
    pub auto_build: Option<bool>,
    #[serde(default)]
    pub auto_deploy: Option<bool>,
    #[serde(default)]
    pub branch: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub build_end: Option<Timestamp>,
    #[serde(default)]
    pub build_id: Option<String>,
    #[serde(default)]
    pub build_provider: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub build_start: Option<Timestamp>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub build_status: Option<BuildStatus>,
    #[serde(default)]
    pub build_url: Option<String>,
    /// INCIDENT: the DEPLOY that caused it, as a string.
    #[serde(default, with = "id_as_string")]
    #[schema(value_type = Option<String>)]
    pub caused_by_event_id: Option<i64>,
    #[serde(default)]
    pub commit_id: Option<String>,
    #[serde(default)]
    pub commit_msg: Option<String>,
    /// When the commit was made (RFC 3339), where known.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub commit_time: Option<Timestamp>,
    #[serde(default)]
    pub commit_url: Option<String>,
    /// DEPLOY: when it reached a terminal status (set by the server unless sent).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub deployment_end: Option<Timestamp>,
    #[serde(default)]
    pub deployment_id: Option<String>,
    #[serde(default)]
    pub deployment_number: Option<String>,
    /// DEPLOY: when it began (its creation unless sent).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub deployment_start: Option<Timestamp>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub deployment_status: Option<DeploymentStatus>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub deployment_type: Option<DeploymentType>,
    #[serde(default)]
    pub env_name: Option<String>,
    /// DEPLOY: an unplanned deploy made to repair production (default false).
    #[serde(default)]
    pub hotfix: Option<bool>,
    /// INCIDENT: when it was resolved.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub incident_end: Option<Timestamp>,
    /// INCIDENT: when it began (its creation unless sent).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub incident_start: Option<Timestamp>,
    /// INCIDENT: `Open` or `Resolved`.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub incident_status: Option<IncidentStatus>,
    /// The parent's id, as a string.
    #[serde(default, with = "id_as_string")]
    #[schema(value_type = Option<String>)]
    pub parent_event_id: Option<i64>,
    #[serde(default)]
    pub release_version: Option<String>,
    #[serde(default)]
    pub repo_name: Option<String>,
    #[serde(default)]
    pub repo_owner: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub repo_provider: Option<RepoProvider>,
    #[serde(default)]
    pub repo_url: Option<String>,
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
}

impl From<Event> for EventOut {
    fn from(event: Event) -> EventOut {
        let f = event.fields;
        let c = f.commit;
        EventOut {
            app_name: event.app_name,
            event_id: event.event_id,
            event_time: event.event_time,
            event_type: event.event_type,
            author_name: c.author_name,
            author_username: c.author_username,
            auto_build: f.auto_build,
            auto_deploy: f.auto_deploy,
            branch: c.branch,
            build_end: f.build_end,
            build_id: f.build_id,
            build_provider: f.build_provider,
            build_start: f.build_start,
            build_status: f.build_status,
            build_url: f.build_url,
            caused_by_event_id: f.caused_by_event_id,
            commit_id: c.commit_id,
            commit_msg: c.commit_msg,
            commit_time: c.commit_time,
            commit_url: c.commit_url,
            deployment_end: f.deployment_end,
            deployment_id: f.deployment_id,
            deployment_number: f.deployment_number,
            deployment_start: f.deployment_start,
            deployment_status: f.deployment_status,
            deployment_type: f.deployment_type,
            env_name: f.env_name,
            hotfix: f.hotfix,
            incident_end: f.incident_end,
            incident_start: f.incident_start,
            incident_status: f.incident_status,
            parent_event_id: f.parent_event_id,
            release_version: f.release_version,
            repo_name: c.repo_name,
            repo_owner: c.repo_owner,
            repo_provider: c.repo_provider,
            repo_url: c.repo_url,
            severity: f.severity,
            title: f.title,
            url: f.url,
        }
    }
}

impl From<&Event> for EventOut {
    fn from(event: &Event) -> EventOut {
        EventOut::from(event.clone())
    }
}

impl EventOut {
    /// The event as the JSON value it is on the wire.
    pub fn json(event: &Event) -> serde_json::Value {
        serde_json::to_value(EventOut::from(event)).expect("events serialise")
    }
}

/// Only the fields of the event's type are written, as the original
/// service did; the type's table in the domain decides which.
impl Serialize for EventOut {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let fields = self.event_type.fields();
        let mut map = serializer.serialize_map(Some(4 + fields.len()))?;
        map.serialize_entry("app_name", &self.app_name)?;
        map.serialize_entry("event_id", &self.event_id)?;
        map.serialize_entry("event_time", &self.event_time)?;
        map.serialize_entry("event_type", &self.event_type)?;
        for field in fields {
            let key = field.key();
            match field {
                Field::AuthorName => map.serialize_entry(key, &self.author_name)?,
                Field::AuthorUsername => map.serialize_entry(key, &self.author_username)?,
                Field::AutoBuild => map.serialize_entry(key, &self.auto_build)?,
                Field::AutoDeploy => map.serialize_entry(key, &self.auto_deploy)?,
                Field::Branch => map.serialize_entry(key, &self.branch)?,
                Field::BuildEnd => map.serialize_entry(key, &self.build_end)?,
                Field::BuildId => map.serialize_entry(key, &self.build_id)?,
                Field::BuildProvider => map.serialize_entry(key, &self.build_provider)?,
                Field::BuildStart => map.serialize_entry(key, &self.build_start)?,
                Field::BuildStatus => map.serialize_entry(key, &self.build_status)?,
                Field::BuildUrl => map.serialize_entry(key, &self.build_url)?,
                Field::CommitId => map.serialize_entry(key, &self.commit_id)?,
                Field::CommitMsg => map.serialize_entry(key, &self.commit_msg)?,
                Field::CommitTime => map.serialize_entry(key, &self.commit_time)?,
                Field::CommitUrl => map.serialize_entry(key, &self.commit_url)?,
                Field::DeploymentEnd => map.serialize_entry(key, &self.deployment_end)?,
                Field::DeploymentId => map.serialize_entry(key, &self.deployment_id)?,
                Field::DeploymentNumber => map.serialize_entry(key, &self.deployment_number)?,
                Field::DeploymentStart => map.serialize_entry(key, &self.deployment_start)?,
                Field::DeploymentStatus => map.serialize_entry(key, &self.deployment_status)?,
                Field::DeploymentType => map.serialize_entry(key, &self.deployment_type)?,
                Field::EnvName => map.serialize_entry(key, &self.env_name)?,
                Field::Hotfix => map.serialize_entry(key, &self.hotfix)?,
                // A string on the wire, as the original service returned it.
                Field::ParentEventId => {
                    map.serialize_entry(key, &self.parent_event_id.map(|id| id.to_string()))?
                }
                Field::CausedByEventId => {
                    map.serialize_entry(key, &self.caused_by_event_id.map(|id| id.to_string()))?
                }
                Field::IncidentEnd => map.serialize_entry(key, &self.incident_end)?,
                Field::IncidentStart => map.serialize_entry(key, &self.incident_start)?,
                Field::IncidentStatus => map.serialize_entry(key, &self.incident_status)?,
                Field::Severity => map.serialize_entry(key, &self.severity)?,
                Field::Title => map.serialize_entry(key, &self.title)?,
                Field::Url => map.serialize_entry(key, &self.url)?,
                Field::ReleaseVersion => map.serialize_entry(key, &self.release_version)?,
                Field::RepoName => map.serialize_entry(key, &self.repo_name)?,
                Field::RepoOwner => map.serialize_entry(key, &self.repo_owner)?,
                Field::RepoProvider => map.serialize_entry(key, &self.repo_provider)?,
                Field::RepoUrl => map.serialize_entry(key, &self.repo_url)?,
            }
        }
        map.end()
    }
}

/// `parent_event_id` is a string on the wire.
mod id_as_string {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(text) => text.parse().map(Some).map_err(serde::de::Error::custom),
        }
    }
}

/// The answer of an event creation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CreatedOut {
    /// The new event's id, as a string, as the original service answered.
    pub event_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EventEnvelope {
    pub event: EventOut,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EventListOut {
    pub app_name: String,
    pub events: Vec<EventOut>,
    /// Pass back as `marker` for the next page; `null` on the last page.
    pub marker: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use shiplog_domain::EventFields;
    use shiplog_domain::event::CommitFields;

    fn push() -> Event {
        Event {
            app_name: "example-node".into(),
            event_id: 1800,
            event_time: Timestamp::parse("2016-08-30T22:30:44.439Z").unwrap(),
            event_type: EventType::Push,
            fields: EventFields {
                commit: CommitFields {
                    branch: Some("origin/master".into()),
                    ..Default::default()
                },
                build_id: Some("ignored for pushes".into()),
                ..Default::default()
            },
        }
    }

    #[test]
    fn a_push_event_serialises_in_contract_order_with_nulls() {
        assert_eq!(
            serde_json::to_string(&EventOut::from(push())).unwrap(),
            r#"{"app_name":"example-node","event_id":1800,"event_time":"2016-08-30T22:30:44.439Z","event_type":"PUSH","author_name":null,"author_username":null,"branch":"origin/master","commit_id":null,"commit_msg":null,"commit_time":null,"commit_url":null,"repo_name":null,"repo_owner":null,"repo_provider":null,"repo_url":null}"#
        );
    }

    #[test]
    fn an_event_reads_back_from_its_wire_form() {
        let mut deploy = push();
        deploy.event_type = EventType::Deploy;
        deploy.fields.parent_event_id = Some(12);
        deploy.fields.hotfix = Some(true);
        deploy.fields.build_id = None;
        let out = EventOut::from(deploy);
        let text = serde_json::to_string(&out).unwrap();
        assert!(text.contains(r#""parent_event_id":"12""#), "{text}");
        assert_eq!(serde_json::from_str::<EventOut>(&text).unwrap(), out);
    }
}
