//! What both backends store the same way: the column order of an event row,
//! an app's identity, the columns of a change, the values bound to
//! statements, and the JSON text of an env's tag and var lists.

use shiplog_domain::change::ChangedFields;
use shiplog_domain::event::{CommitFields, IncidentStatus};
use shiplog_domain::resources::EnvVar;
use shiplog_domain::{
    Actor, BuildStatus, ChangeKind, DeploymentStatus, DeploymentType, Event, EventFields,
    EventType, RepoProvider, Timestamp,
};

use crate::{Result, StoreError};

/// The columns of an event row, in the order each backend's row mapping
/// reads them.
pub const EVENT_COLUMNS: &str = "id, event_type, event_time_ms, author_name, author_username, \
     branch, commit_id, commit_msg, commit_url, repo_name, repo_owner, repo_provider, repo_url, \
     auto_build, build_end_ms, build_id, build_provider, build_start_ms, build_status, build_url, \
     parent_event_id, release_version, auto_deploy, deployment_id, deployment_number, \
     deployment_status, deployment_type, env_name, commit_time_ms, deployment_start_ms, \
     deployment_end_ms, hotfix, incident_status, incident_start_ms, incident_end_ms, \
     caused_by_event_id, severity, title, url";

/// The app a listing reads: one already found, or one named in an account
/// and found by the listing's own query, so that a page costs one query.
/// An empty page of a named app says nothing about whether the app exists:
/// the caller finds it then, to answer 404 or the empty page.
#[derive(Debug, Clone, Copy)]
pub enum ListedApp<'a> {
    Found(&'a AppRow),
    Named { account_id: i64, name: &'a str },
}

impl ListedApp<'_> {
    /// The app's name, which every listed event carries.
    pub fn name(&self) -> &str {
        match self {
            ListedApp::Found(app) => &app.name,
            ListedApp::Named { name, .. } => name,
        }
    }
}

/// The identity of an app, as the event queries need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppRow {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub created_ms: i64,
    /// The app's own retention; read only by the queries of apps (an env
    /// row's app has none here, and never shows it).
    pub retention_days: Option<i64>,
}

impl AppRow {
    /// The retention an app shows: a stored value is always in bounds.
    pub fn retention(&self) -> Option<u32> {
        self.retention_days
            .and_then(|days| u32::try_from(days).ok())
    }
}

/// The columns of a change row, in the order [`ChangeRow`] holds them;
/// `app_name` comes from the apps table.
pub const CHANGE_COLUMNS: &str =
    "c.id, c.at_ms, c.kind, c.actor, c.fields, c.event_id, c.app_id, a.name";

/// A change as stored: what the event was after it is not stored but
/// rebuilt by the reads (see `reads::complete`).
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeRow {
    pub change_id: i64,
    pub at: Timestamp,
    pub kind: ChangeKind,
    pub actor: Actor,
    /// An update's changed fields; none for a creation.
    pub fields: Option<ChangedFields>,
    pub event_id: i64,
    pub app_id: i64,
    pub app_name: String,
}

/// A change from a row of [`CHANGE_COLUMNS`].
pub fn change_from_columns(row: &impl Columns) -> Result<ChangeRow> {
    let int = |i: usize| -> Result<i64> {
        row.int(i)?
            .ok_or_else(|| StoreError::Internal(format!("a change row has no column {i}")))
    };
    let text = |i: usize| -> Result<String> {
        row.text(i)?
            .ok_or_else(|| StoreError::Internal(format!("a change row has no column {i}")))
    };
    let change_id = int(0)?;
    let corrupt = |what: &str, err: &dyn std::fmt::Display| {
        StoreError::Internal(format!("change {change_id}: {what}: {err}"))
    };
    let kind = text(2)?;
    let fields = match row.text(4)? {
        Some(json) => Some(serde_json::from_str(&json).map_err(|err| corrupt("fields", &err))?),
        None => None,
    };
    Ok(ChangeRow {
        change_id,
        at: Timestamp::from_millis(int(1)?),
        kind: ChangeKind::parse(&kind).ok_or_else(|| corrupt("kind", &kind))?,
        actor: serde_json::from_str(&text(3)?).map_err(|err| corrupt("actor", &err))?,
        fields,
        event_id: int(5)?,
        app_id: int(6)?,
        app_name: text(7)?,
    })
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

/// A value bound to a statement, in a form both backends bind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlValue {
    Int(Option<i64>),
    Text(Option<String>),
    Bool(Option<bool>),
}

impl From<i64> for SqlValue {
    fn from(value: i64) -> SqlValue {
        SqlValue::Int(Some(value))
    }
}

impl From<&str> for SqlValue {
    fn from(value: &str) -> SqlValue {
        SqlValue::Text(Some(value.to_owned()))
    }
}

/// The values of `queries::INSERT_EVENT`, in its order.
pub fn event_values(
    app_id: i64,
    event_type: EventType,
    event_time: Timestamp,
    f: &EventFields,
) -> Vec<SqlValue> {
    use SqlValue::{Bool, Int, Text};
    let c = &f.commit;
    let time = |t: Option<Timestamp>| Int(t.map(Timestamp::millis));
    vec![
        Int(Some(app_id)),
        Text(Some(event_type.as_str().to_owned())),
        Int(Some(event_time.millis())),
        Text(c.author_name.clone()),
        Text(c.author_username.clone()),
        Text(c.branch.clone()),
        Text(c.commit_id.clone()),
        Text(c.commit_msg.clone()),
        Text(c.commit_url.clone()),
        Text(c.repo_name.clone()),
        Text(c.repo_owner.clone()),
        Text(c.repo_provider.map(|p| p.as_str().to_owned())),
        Text(c.repo_url.clone()),
        Bool(f.auto_build),
        time(f.build_end),
        Text(f.build_id.clone()),
        Text(f.build_provider.clone()),
        time(f.build_start),
        Text(f.build_status.map(|s| s.as_str().to_owned())),
        Text(f.build_url.clone()),
        Int(f.parent_event_id),
        Text(f.release_version.clone()),
        Bool(f.auto_deploy),
        Text(f.deployment_id.clone()),
        Text(f.deployment_number.clone()),
        Text(f.deployment_status.map(|s| s.as_str().to_owned())),
        Text(f.deployment_type.map(|t| t.as_str().to_owned())),
        Text(f.env_name.clone()),
        time(c.commit_time),
        time(f.deployment_start),
        time(f.deployment_end),
        Bool(f.hotfix),
        Text(f.incident_status.map(|s| s.as_str().to_owned())),
        time(f.incident_start),
        time(f.incident_end),
        Int(f.caused_by_event_id),
        Text(f.severity.clone()),
        Text(f.title.clone()),
        Text(f.url.clone()),
    ]
}

/// A result row read by column index, whatever the backend.
pub trait Columns {
    fn int(&self, index: usize) -> Result<Option<i64>>;
    fn text(&self, index: usize) -> Result<Option<String>>;
    fn boolean(&self, index: usize) -> Result<Option<bool>>;
}

/// An event from a row of [`EVENT_COLUMNS`].
pub fn event_from_columns(row: &impl Columns, app_name: &str) -> Result<Event> {
    let corrupt = |what: &str| StoreError::Internal(format!("an event row has no {what}"));
    let time =
        |i: usize| -> Result<Option<Timestamp>> { Ok(row.int(i)?.map(Timestamp::from_millis)) };
    let event_type = row.text(1)?.ok_or_else(|| corrupt("type"))?;
    let event_type = EventType::parse(&event_type)
        .ok_or_else(|| StoreError::Internal(format!("unknown event type {event_type}")))?;
    Ok(Event {
        app_name: app_name.to_owned(),
        event_id: row.int(0)?.ok_or_else(|| corrupt("id"))?,
        event_time: time(2)?.ok_or_else(|| corrupt("time"))?,
        event_type,
        fields: EventFields {
            commit: CommitFields {
                author_name: row.text(3)?,
                author_username: row.text(4)?,
                branch: row.text(5)?,
                commit_id: row.text(6)?,
                commit_msg: row.text(7)?,
                commit_time: time(28)?,
                commit_url: row.text(8)?,
                repo_name: row.text(9)?,
                repo_owner: row.text(10)?,
                repo_provider: row.text(11)?.as_deref().and_then(RepoProvider::parse),
                repo_url: row.text(12)?,
            },
            auto_build: row.boolean(13)?,
            build_end: time(14)?,
            build_id: row.text(15)?,
            build_provider: row.text(16)?,
            build_start: time(17)?,
            build_status: row.text(18)?.as_deref().and_then(BuildStatus::parse),
            build_url: row.text(19)?,
            parent_event_id: row.int(20)?,
            release_version: row.text(21)?,
            auto_deploy: row.boolean(22)?,
            deployment_id: row.text(23)?,
            deployment_number: row.text(24)?,
            deployment_status: row.text(25)?.as_deref().and_then(DeploymentStatus::parse),
            deployment_type: row.text(26)?.as_deref().and_then(DeploymentType::parse),
            deployment_start: time(29)?,
            deployment_end: time(30)?,
            hotfix: row.boolean(31)?,
            env_name: row.text(27)?,
            incident_status: row.text(32)?.as_deref().and_then(IncidentStatus::parse),
            incident_start: time(33)?,
            incident_end: time(34)?,
            caused_by_event_id: row.int(35)?,
            severity: row.text(36)?,
            title: row.text(37)?,
            url: row.text(38)?,
        },
    })
}
