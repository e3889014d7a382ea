//! Request bodies: lenient JSON in, typed values out.
//!
//! Clients of the original service send bodies without a content type, empty
//! bodies, `null`, booleans as strings and ids as numbers; all of that is
//! accepted here so that the rest of the system only sees typed values.

use serde_json::{Map, Value};

use crate::event::IncidentStatus;
use crate::event::{CommitFields, Field};
use crate::{
    BuildStatus, DeploymentStatus, DeploymentType, DomainError, EventFields, EventType, Level,
    RepoProvider, ResourceName, Timestamp,
};

/// Size limit of `commit_msg`, in bytes.
pub const COMMIT_MSG_LIMIT: usize = 64 * 1024;
/// Size limit of every other string field, in bytes.
pub const TEXT_LIMIT: usize = 4 * 1024;

pub type JsonObject = Map<String, Value>;

/// Parses a request body: empty or `null` means `{}`; anything but an object
/// is refused.
pub fn parse_body(bytes: &[u8]) -> Result<JsonObject, DomainError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(JsonObject::new());
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(Value::Null) => Ok(JsonObject::new()),
        Ok(_) => Err(DomainError::Malformed(
            "The request body must be a JSON object".into(),
        )),
        Err(err) => Err(DomainError::Malformed(format!(
            "The request body is not valid JSON: {err}"
        ))),
    }
}

/// An event to record, with its type-specific fields parsed and validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub event_type: EventType,
    pub fields: EventFields,
}

impl NewEvent {
    /// Parses the body of a create call for `event_type`. Keys that the type
    /// does not carry are ignored, like any unknown key.
    pub fn parse(event_type: EventType, body: &JsonObject) -> Result<Self, DomainError> {
        let mut fields = EventFields::default();
        for &field in event_type.fields() {
            if let Some(value) = present(body, field.key()) {
                set_field(&mut fields, field, value)?;
            }
        }
        match event_type {
            EventType::Build => crate::rules::check_build(&fields)?,
            EventType::Deploy => {
                crate::rules::check_deploy(&fields)?;
                env_of(&fields)?;
            }
            EventType::Incident => {
                crate::rules::check_incident(&fields)?;
                env_of(&fields)?;
            }
            _ => {}
        }
        Ok(NewEvent { event_type, fields })
    }
}

/// The env a DEPLOY or INCIDENT names, which it must.
fn env_of(fields: &EventFields) -> Result<(), DomainError> {
    let env = fields
        .env_name
        .as_deref()
        .ok_or_else(|| DomainError::MissingParam("env_name".into()))?;
    ResourceName::parse("Env", env).map(|_| ())
}

/// The body of an update call. Which fields apply depends on the type of the
/// event updated (see [`crate::rules`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventUpdate {
    pub build_end: Option<Timestamp>,
    pub build_status: Option<BuildStatus>,
    pub release_version: Option<String>,
    pub deployment_status: Option<DeploymentStatus>,
    pub deployment_end: Option<Timestamp>,
    pub incident_status: Option<IncidentStatus>,
    pub incident_end: Option<Timestamp>,
}

impl EventUpdate {
    pub fn parse(body: &JsonObject) -> Result<Self, DomainError> {
        let mut fields = EventFields::default();
        for field in [
            Field::BuildEnd,
            Field::BuildStatus,
            Field::ReleaseVersion,
            Field::DeploymentStatus,
            Field::DeploymentEnd,
            Field::IncidentStatus,
            Field::IncidentEnd,
        ] {
            if let Some(value) = present(body, field.key()) {
                set_field(&mut fields, field, value)?;
            }
        }
        Ok(EventUpdate {
            build_end: fields.build_end,
            build_status: fields.build_status,
            release_version: fields.release_version,
            deployment_status: fields.deployment_status,
            deployment_end: fields.deployment_end,
            incident_status: fields.incident_status,
            incident_end: fields.incident_end,
        })
    }
}

/// The body of ConfigureHook: the app deliveries record to (default: the
/// repository's name) and whether apps are created on first use (default
/// true).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookSettings {
    pub app: Option<ResourceName>,
    pub create_apps: bool,
}

impl HookSettings {
    pub fn parse(body: &JsonObject) -> Result<Self, DomainError> {
        let app = match present(body, "app") {
            Some(value) => Some(ResourceName::parse("App", &text("app", value)?)?),
            None => None,
        };
        let create_apps = match present(body, "create_apps") {
            Some(value) => boolean("create_apps", value)?,
            None => true,
        };
        Ok(HookSettings { app, create_apps })
    }
}

/// The body of PutWebhook, checked: everything but the URL's target,
/// which is resolved where the network is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSettings {
    pub url: String,
    pub scope: crate::outbound::Scope,
    pub format: crate::outbound::Format,
    pub enabled: bool,
    pub rotate_secret: bool,
}

/// Webhooks name at most this many apps.
const WEBHOOK_APPS_LIMIT: usize = 100;

impl WebhookSettings {
    pub fn parse(body: &JsonObject) -> Result<Self, DomainError> {
        let url = match present(body, "url") {
            Some(value) => text("url", value)?,
            None => return Err(DomainError::MissingParam("url".into())),
        };
        let list = |key: &str| -> Result<Vec<String>, DomainError> {
            match present(body, key) {
                None => Ok(Vec::new()),
                Some(Value::Array(items)) => items.iter().map(|item| text(key, item)).collect(),
                Some(_) => Err(DomainError::bad_param(key, "expected an array of strings")),
            }
        };
        let event_types = crate::outbound::parse_event_types(
            "event_types",
            list("event_types")?.iter().map(String::as_str),
        )?;
        let mut apps = Vec::new();
        for app in list("apps")? {
            let name = ResourceName::parse("App", &app)?.to_string();
            if !apps.contains(&name) {
                apps.push(name);
            }
        }
        if apps.len() > WEBHOOK_APPS_LIMIT {
            return Err(DomainError::bad_param(
                "apps",
                format!("a webhook names at most {WEBHOOK_APPS_LIMIT} apps"),
            ));
        }
        apps.sort();
        let format = match present(body, "format") {
            Some(value) => crate::outbound::Format::parse("format", &text("format", value)?)?,
            None => crate::outbound::Format::Shiplog,
        };
        let flag = |key: &str, default: bool| match present(body, key) {
            Some(value) => boolean(key, value),
            None => Ok(default),
        };
        Ok(WebhookSettings {
            url,
            scope: crate::outbound::Scope { event_types, apps },
            format,
            enabled: flag("enabled", true)?,
            rotate_secret: flag("rotate_secret", false)?,
        })
    }
}

/// The role of SetMember's body: `role`, `write` when absent.
pub fn member_role(body: &JsonObject) -> Result<Level, DomainError> {
    match present(body, "role") {
        Some(value) => Level::parse("role", &text("role", value)?),
        None => Ok(Level::Write),
    }
}

/// Refuses text no store can keep: the NUL character.
pub fn check_text(key: &str, text: &str) -> Result<(), DomainError> {
    if text.contains('\0') {
        return Err(DomainError::bad_param(
            key,
            "text must not contain the NUL character",
        ));
    }
    Ok(())
}

/// A key whose value is `null` counts as absent.
fn present<'a>(body: &'a JsonObject, key: &str) -> Option<&'a Value> {
    body.get(key).filter(|value| !value.is_null())
}

fn set_field(fields: &mut EventFields, field: Field, value: &Value) -> Result<(), DomainError> {
    let key = field.key();
    let c: &mut CommitFields = &mut fields.commit;
    match field {
        Field::AuthorName => c.author_name = Some(text(key, value)?),
        Field::AuthorUsername => c.author_username = Some(text(key, value)?),
        Field::Branch => c.branch = Some(text(key, value)?),
        Field::CommitId => c.commit_id = Some(text(key, value)?),
        Field::CommitMsg => c.commit_msg = Some(text(key, value)?),
        Field::CommitTime => c.commit_time = Some(timestamp(key, value)?),
        Field::CommitUrl => c.commit_url = Some(text(key, value)?),
        Field::DeploymentStart => fields.deployment_start = Some(timestamp(key, value)?),
        Field::DeploymentEnd => fields.deployment_end = Some(timestamp(key, value)?),
        Field::Hotfix => fields.hotfix = Some(boolean(key, value)?),
        Field::RepoName => c.repo_name = Some(text(key, value)?),
        Field::RepoOwner => c.repo_owner = Some(text(key, value)?),
        Field::RepoProvider => {
            c.repo_provider = Some(choice(
                key,
                value,
                RepoProvider::parse,
                RepoProvider::accepted,
            )?)
        }
        Field::RepoUrl => c.repo_url = Some(text(key, value)?),
        Field::AutoBuild => fields.auto_build = Some(boolean(key, value)?),
        Field::AutoDeploy => fields.auto_deploy = Some(boolean(key, value)?),
        Field::BuildEnd => fields.build_end = Some(timestamp(key, value)?),
        Field::BuildStart => fields.build_start = Some(timestamp(key, value)?),
        Field::BuildId => fields.build_id = Some(text(key, value)?),
        Field::BuildProvider => fields.build_provider = Some(text(key, value)?),
        Field::BuildStatus => {
            fields.build_status = Some(choice(
                key,
                value,
                BuildStatus::parse,
                BuildStatus::accepted,
            )?)
        }
        Field::BuildUrl => fields.build_url = Some(text(key, value)?),
        Field::ParentEventId => fields.parent_event_id = Some(event_id(key, value)?),
        Field::ReleaseVersion => fields.release_version = Some(text(key, value)?),
        Field::DeploymentId => fields.deployment_id = Some(text(key, value)?),
        Field::DeploymentNumber => fields.deployment_number = Some(text(key, value)?),
        Field::DeploymentStatus => {
            fields.deployment_status = Some(choice(
                key,
                value,
                DeploymentStatus::parse,
                DeploymentStatus::accepted,
            )?)
        }
        Field::DeploymentType => {
            fields.deployment_type = Some(choice(
                key,
                value,
                DeploymentType::parse,
                DeploymentType::accepted,
            )?)
        }
        Field::EnvName => fields.env_name = Some(text(key, value)?),
        Field::CausedByEventId => fields.caused_by_event_id = Some(event_id(key, value)?),
        Field::IncidentStart => fields.incident_start = Some(timestamp(key, value)?),
        Field::IncidentEnd => fields.incident_end = Some(timestamp(key, value)?),
        Field::IncidentStatus => {
            fields.incident_status = Some(choice(
                key,
                value,
                IncidentStatus::parse,
                IncidentStatus::accepted,
            )?)
        }
        Field::Severity => fields.severity = Some(text(key, value)?),
        Field::Title => fields.title = Some(text(key, value)?),
        Field::Url => fields.url = Some(text(key, value)?),
    }
    Ok(())
}

/// A string field. Whole numbers are taken as their decimal text, since CI
/// tools send build and deployment numbers as JSON numbers; other numbers
/// would lose digits, so they must be sent as strings.
fn text(key: &str, value: &Value) -> Result<String, DomainError> {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) if n.is_i64() || n.is_u64() => n.to_string(),
        Value::Number(_) => {
            return Err(DomainError::bad_param(
                key,
                "numbers must be whole and fit in 64 bits; send other values as strings",
            ));
        }
        _ => return Err(DomainError::bad_param(key, "expected a string")),
    };
    check_text(key, &text)?;
    let limit = if key == "commit_msg" {
        COMMIT_MSG_LIMIT
    } else {
        TEXT_LIMIT
    };
    if text.len() > limit {
        return Err(DomainError::TooLarge(format!(
            "Parameter {key} exceeds its limit of {limit} bytes"
        )));
    }
    Ok(text)
}

fn boolean(key: &str, value: &Value) -> Result<bool, DomainError> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(DomainError::bad_param(key, "expected true or false")),
    }
}

fn timestamp(key: &str, value: &Value) -> Result<Timestamp, DomainError> {
    value.as_str().and_then(Timestamp::parse).ok_or_else(|| {
        DomainError::bad_param(
            key,
            "expected an ISO 8601 (RFC 3339) date-time such as 2016-08-15T22:22:22.111Z",
        )
    })
}

fn choice<T>(
    key: &str,
    value: &Value,
    parse: fn(&str) -> Option<T>,
    accepted: fn() -> String,
) -> Result<T, DomainError> {
    value
        .as_str()
        .and_then(parse)
        .ok_or_else(|| DomainError::bad_param(key, format!("accepted values are {}", accepted())))
}

/// An event id, sent as a JSON string (`"1800"`) or number.
fn event_id(key: &str, value: &Value) -> Result<i64, DomainError> {
    let id = match value {
        Value::String(s) => s.trim().parse::<i64>().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    };
    id.filter(|id| *id > 0)
        .ok_or_else(|| DomainError::bad_param(key, "expected a positive integer event id"))
}

/// Parses an event id from a URL path segment.
pub fn parse_event_id(segment: &str) -> Option<i64> {
    segment.parse::<i64>().ok().filter(|id| *id > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> JsonObject {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn empty_and_null_bodies_are_empty_objects() {
        assert!(parse_body(b"").unwrap().is_empty());
        assert!(parse_body(b"  \n").unwrap().is_empty());
        assert!(parse_body(b"null").unwrap().is_empty());
        assert!(matches!(parse_body(b"[1]"), Err(DomainError::Malformed(_))));
        assert!(matches!(parse_body(b"{"), Err(DomainError::Malformed(_))));
        assert!(matches!(
            parse_body(b"\"x\""),
            Err(DomainError::Malformed(_))
        ));
    }

    #[test]
    fn a_build_accepts_lenient_values() {
        let event = NewEvent::parse(
            EventType::Build,
            &object(json!({
                "build_status": "running",
                "auto_build": "true",
                "build_id": 96,
                "repo_provider": "GitHub",
                "parent_event_id": "1800",
                "build_start": "2016-08-30T22:30:52.0Z",
                "unknown": {"nested": true},
            })),
        )
        .unwrap();
        assert_eq!(event.fields.build_status, Some(BuildStatus::Running));
        assert_eq!(event.fields.auto_build, Some(true));
        assert_eq!(event.fields.build_id.as_deref(), Some("96"));
        assert_eq!(
            event.fields.commit.repo_provider,
            Some(RepoProvider::Github)
        );
        assert_eq!(event.fields.parent_event_id, Some(1800));
    }

    #[test]
    fn wrong_values_name_the_parameter() {
        let err = NewEvent::parse(EventType::Build, &object(json!({"build_status": "done"})))
            .unwrap_err();
        let DomainError::BadParam(message) = err else {
            panic!("{err:?}")
        };
        assert!(message.contains("build_status") && message.contains("TimedOut"));
        let err = NewEvent::parse(EventType::Push, &object(json!({"repo_provider": "svn"})));
        assert!(matches!(err, Err(DomainError::BadParam(_))));
        let err = NewEvent::parse(EventType::Push, &object(json!({"branch": ["a"]})));
        assert!(matches!(err, Err(DomainError::BadParam(_))));
    }

    #[test]
    fn oversized_fields_are_refused_with_their_limit() {
        let err = NewEvent::parse(
            EventType::Push,
            &object(json!({"branch": "b".repeat(4097)})),
        );
        assert!(matches!(err, Err(DomainError::TooLarge(m)) if m.contains("4096")));
        let fits = NewEvent::parse(
            EventType::Push,
            &object(json!({"commit_msg": "m".repeat(COMMIT_MSG_LIMIT)})),
        );
        assert!(fits.is_ok());
    }

    #[test]
    fn a_deploy_needs_an_env() {
        let err = NewEvent::parse(EventType::Deploy, &object(json!({})));
        assert_eq!(err, Err(DomainError::MissingParam("env_name".into())));
        let err = NewEvent::parse(EventType::Deploy, &object(json!({"env_name": "../etc"})));
        assert!(matches!(err, Err(DomainError::BadParam(_))));
    }
}
