//! CDEvents received over HTTP: the four ways one arrives (plain JSON, a
//! structured CloudEvent, binary mode, a batch), each event mapped to the
//! commands a webhook delivery makes, in reverse of beyond.md §10:
//!
//! | CDEvent | records |
//! |---|---|
//! | `change.merged` | PUSH of the commit `subject.id` |
//! | `change.created`, `change.updated` | PULLREQUEST of the branch `subject.id` |
//! | `pipelinerun.queued` / `.started` / `.finished` | one BUILD per `subject.id`: Queued, Running, then terminal by `outcome` |
//! | `artifact.published` | RELEASE of the version of the package URL `subject.id` |
//! | `service.deployed` / `.upgraded` / `.rolledback` | DEPLOY `Ok` to `subject.content.environment.id` |
//! | `incident.detected` / `.resolved` | one INCIDENT per `subject.id`: Open, then Resolved |
//!
//! Any version of each type is read (v0.4 and v0.5 spell them alike but for
//! the version and `uri`, once `url`).

use serde_json::{Map, Value};
use shiplog_domain::event::{Field, IncidentStatus};
use shiplog_domain::{BuildStatus, DeploymentStatus, EventType, Timestamp};

use super::binding::decode_header;
use super::{package_version, subject_and_predicate};
use crate::draft::{Draft, env_name};
use crate::payload::{header, text};
use crate::{Command, Headers, MapError, Outcome};

/// The `build_provider` of the BUILDs CDEvents record: with `subject.id`
/// as `build_id`, it finds the BUILD a later event of the run updates.
pub const BUILD_PROVIDER: &str = "cdevents";

/// The longest `context.id`, `context.source` or `subject.id` taken, in
/// bytes: each is part of a key some index holds.
pub const MAX_KEY_LEN: usize = 512;

/// The most events one batch may hold: all are recorded in one
/// transaction, which must stay short.
pub const MAX_BATCH: usize = 1000;

/// One CDEvent received, mapped.
#[derive(Debug, Clone, PartialEq)]
pub struct Incoming {
    /// `context.source`.
    pub source: String,
    /// `context.id`: with the source, the event's idempotency key.
    pub id: String,
    pub outcome: Outcome,
}

impl Incoming {
    /// The key the event is remembered by, per account: its source and id,
    /// written so that no two pairs give the same text.
    pub fn key(&self) -> String {
        Value::from(vec![self.source.as_str(), self.id.as_str()]).to_string()
    }

    /// The delivery its changes' actor names: `<source> <id>`.
    pub fn delivery(&self) -> String {
        format!("{} {}", self.source, self.id)
    }
}

/// What one request brought.
#[derive(Debug, Clone, PartialEq)]
pub enum Received {
    One(Incoming),
    /// `application/cloudevents-batch+json`: answered one result per event.
    Batch(Vec<Incoming>),
}

/// Reads a request to `…/cdevents` whose body parsed as JSON. The
/// content type picks the mode, as the CloudEvents HTTP binding says:
/// `application/cloudevents-batch…` a batch, `application/cloudevents…` a
/// structured CloudEvent; otherwise `ce-*` headers mean binary mode, and
/// without them the body is the CDEvent itself (or, leniently, a
/// structured CloudEvent sent as plain JSON).
pub fn receive(headers: &dyn Headers, body: &Value) -> Result<Received, MapError> {
    let content_type = headers
        .get("content-type")
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if content_type.starts_with("application/cloudevents-batch") {
        let Value::Array(events) = body else {
            return Err(MapError(
                "A batch must be a JSON array of CloudEvents".into(),
            ));
        };
        if events.len() > MAX_BATCH {
            return Err(MapError(format!(
                "A batch holds at most {MAX_BATCH} CloudEvents, not {}",
                events.len()
            )));
        }
        return events
            .iter()
            .map(structured)
            .collect::<Result<_, _>>()
            .map(Received::Batch);
    }
    let incoming = if content_type.starts_with("application/cloudevents") {
        structured(body)?
    } else if header(headers, "ce-id").is_some() || header(headers, "ce-type").is_some() {
        binary(headers, body)?
    } else if body.get("context").is_none() && body.get("specversion").is_some() {
        structured(body)?
    } else {
        cdevent(body)?
    };
    Ok(Received::One(incoming))
}

/// The CloudEvent attributes a CDEvent's context is made of when its data
/// has none of its own.
struct Attributes {
    id: Option<String>,
    source: Option<String>,
    kind: Option<String>,
    time: Option<String>,
}

/// A structured CloudEvent: the CDEvent is its `data`.
fn structured(event: &Value) -> Result<Incoming, MapError> {
    let Value::Object(attributes) = event else {
        return Err(MapError("A CloudEvent must be a JSON object".into()));
    };
    let data = match attributes.get("data") {
        Some(data @ Value::Object(_)) => data,
        _ => {
            return Err(MapError(
                "The CloudEvent carries no CDEvent: its data must be a JSON object".into(),
            ));
        }
    };
    let attribute = |name: &str| {
        attributes
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let attributes = Attributes {
        id: attribute("id"),
        source: attribute("source"),
        kind: attribute("type"),
        time: attribute("time"),
    };
    cdevent(&completed(data, attributes))
}

/// Binary mode: the attributes are `ce-*` headers, the body the CDEvent.
fn binary(headers: &dyn Headers, body: &Value) -> Result<Incoming, MapError> {
    let attribute = |name: &str| match header(headers, name) {
        None => Ok(None),
        Some(value) => decode_header(value).map(Some).ok_or_else(|| {
            MapError(format!(
                "The {name} header is not UTF-8 once percent-decoded"
            ))
        }),
    };
    let attributes = Attributes {
        id: attribute("ce-id")?,
        source: attribute("ce-source")?,
        kind: attribute("ce-type")?,
        time: attribute("ce-time")?,
    };
    cdevent(&completed(body, attributes))
}

/// The CDEvent a CloudEvent carries: its data when that has a `context`,
/// else its data under a context made of the CloudEvent's attributes.
fn completed(data: &Value, attributes: Attributes) -> Value {
    if data.get("context").is_some() || !data.is_object() {
        return data.clone();
    }
    let mut context = Map::new();
    for (key, value) in [
        ("id", attributes.id),
        ("source", attributes.source),
        ("type", attributes.kind),
        ("timestamp", attributes.time),
    ] {
        if let Some(value) = value {
            context.insert(key.into(), value.into());
        }
    }
    let mut event = data.clone();
    event["context"] = Value::Object(context);
    event
}

/// A bare CDEvent, mapped.
fn cdevent(event: &Value) -> Result<Incoming, MapError> {
    let Some(context) = event.get("context").filter(|c| c.is_object()) else {
        return Err(MapError("The CDEvent has no context object".into()));
    };
    let id = key_text(context, "id")?;
    let source = key_text(context, "source")?;
    let kind = match context.get("type").and_then(Value::as_str) {
        Some(kind) if !kind.is_empty() => kind,
        _ => return Err(MapError("The CDEvent lacks context.type".into())),
    };
    let timestamp = match context.get("timestamp") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(Timestamp::parse(s).ok_or_else(|| {
            MapError(format!(
                "The CDEvent's context.timestamp is not a time: {s:?}"
            ))
        })?),
        Some(_) => {
            return Err(MapError(
                "The CDEvent's context.timestamp is not a time".into(),
            ));
        }
    };
    let outcome = match subject_and_predicate(kind) {
        Some((subject, predicate)) => map(&subject, &predicate, event, timestamp)?,
        None => Outcome::Ignored(format!("{kind:?} is not a CDEvents type")),
    };
    Ok(Incoming {
        source,
        id,
        outcome,
    })
}

/// `context.<name>`: a string of 1 to [`MAX_KEY_LEN`] bytes without
/// control characters, as the key it is part of is kept.
fn key_text(context: &Value, name: &str) -> Result<String, MapError> {
    match context.get(name).and_then(Value::as_str) {
        Some(text) if !text.is_empty() => {
            if !fits_key(text) {
                return Err(MapError(format!(
                    "The CDEvent's context.{name} must be 1 to {MAX_KEY_LEN} bytes \
                     without control characters"
                )));
            }
            Ok(text.to_owned())
        }
        _ => Err(MapError(format!("The CDEvent lacks context.{name}"))),
    }
}

/// Whether text can be part of a key: short, and free of control
/// characters (NUL among them, which PostgreSQL cannot store).
fn fits_key(text: &str) -> bool {
    text.len() <= MAX_KEY_LEN && !text.chars().any(char::is_control)
}

/// The commands of one CDEvent of a known type.
fn map(
    subject: &str,
    predicate: &str,
    event: &Value,
    at: Option<Timestamp>,
) -> Result<Outcome, MapError> {
    let subject_id = || match text(event, "/subject/id") {
        Some(id) if fits_key(id) => Ok(id),
        Some(_) => Err(MapError(format!(
            "The CDEvent's subject.id must be 1 to {MAX_KEY_LEN} bytes without control characters"
        ))),
        None => Err(MapError(format!(
            "The {subject}.{predicate} CDEvent lacks subject.id"
        ))),
    };
    let content = |pointer: &str| text(event, &format!("/subject/content{pointer}"));
    let mut draft = Draft::new();
    let command = match (subject, predicate) {
        ("change", "merged") => {
            draft.set(Field::CommitId, Some(subject_id()?));
            repository(&mut draft, event);
            draft.create(EventType::Push)?
        }
        ("change", "created" | "updated") => {
            draft
                .set(Field::Branch, Some(subject_id()?))
                .set(Field::CommitMsg, content("/description"));
            repository(&mut draft, event);
            draft.create(EventType::PullRequest)?
        }
        ("pipelinerun", "queued" | "started" | "finished") => {
            let status = match predicate {
                "queued" => BuildStatus::Queued,
                "started" => BuildStatus::Running,
                _ => outcome(content("/outcome"))?,
            };
            let start = (status == BuildStatus::Running).then_some(at).flatten();
            draft
                .set(Field::BuildProvider, Some(BUILD_PROVIDER))
                .set(Field::BuildId, Some(subject_id()?))
                .set(Field::BuildUrl, content("/uri").or(content("/url")))
                .build(status, start, at)?
        }
        ("artifact", "published") => {
            let purl = subject_id()?;
            let version = package_version(purl).ok_or_else(|| {
                MapError(format!(
                    "The artifact.published subject.id {purl:?} names no version \
                     (pkg:type/name@version)"
                ))
            })?;
            draft
                .set(Field::ReleaseVersion, Some(&version))
                .set(Field::AuthorUsername, content("/user"))
                .create(EventType::Release)?
        }
        ("service", "deployed" | "upgraded" | "rolledback") => {
            let version = content("/artifactId").and_then(package_version);
            draft
                .set(Field::ReleaseVersion, version.as_deref())
                .deploy(
                    &environment(event, subject, predicate)?,
                    DeploymentStatus::Ok,
                    None,
                    at,
                )?
        }
        ("incident", "detected" | "resolved") => {
            let env = environment(event, subject, predicate)?;
            draft
                .set(Field::EnvName, Some(&env))
                .set(Field::Title, content("/description"))
                .time(Field::IncidentStart, at);
            if predicate == "resolved" {
                draft
                    .set(
                        Field::IncidentStatus,
                        Some(IncidentStatus::Resolved.as_str()),
                    )
                    .time(Field::IncidentEnd, at);
            }
            Command::Incident {
                fields: draft.parse(EventType::Incident)?.fields,
                subject: subject_id()?.to_owned(),
            }
        }
        _ => {
            return Ok(Outcome::Ignored(format!(
                "shiplog records no {subject}.{predicate} events"
            )));
        }
    };
    Ok(Outcome::one(command))
}

/// The env a `service.*` or `incident.*` event names, as a shiplog env.
fn environment(event: &Value, subject: &str, predicate: &str) -> Result<String, MapError> {
    let id = text(event, "/subject/content/environment/id").ok_or_else(|| {
        MapError(format!(
            "The {subject}.{predicate} CDEvent lacks subject.content.environment.id"
        ))
    })?;
    env_name(id)
}

/// The BUILD status a finished pipeline run's `outcome` names; a run that
/// says none succeeded.
fn outcome(outcome: Option<&str>) -> Result<BuildStatus, MapError> {
    match outcome {
        None | Some("success") => Ok(BuildStatus::Success),
        Some("failure") => Ok(BuildStatus::Failed),
        Some("cancel") => Ok(BuildStatus::Cancelled),
        Some("error") => Ok(BuildStatus::TimedOut),
        Some(other) => Err(MapError(format!(
            "The pipelinerun.finished outcome {other:?} is not one of success, failure, \
             cancel, error"
        ))),
    }
}

/// `subject.content.repository`: `owner/name` (or a name alone) and its URL.
fn repository(draft: &mut Draft, event: &Value) {
    let id = text(event, "/subject/content/repository/id");
    let (owner, name) = match id.and_then(|id| id.rsplit_once('/')) {
        Some((owner, name)) if !owner.is_empty() && !name.is_empty() => (Some(owner), Some(name)),
        _ => (None, id),
    };
    draft
        .set(Field::RepoOwner, owner)
        .set(Field::RepoName, name)
        .set(
            Field::RepoUrl,
            text(event, "/subject/content/repository/source"),
        );
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use shiplog_domain::input::NewEvent;

    fn event(kind: &str, subject: Value) -> Value {
        json!({
            "context": {"specversion": "0.5.1", "id": "e-1", "source": "/ci/one",
                        "type": kind, "timestamp": "2026-03-20T14:27:05.315Z"},
            "subject": subject,
        })
    }

    fn one(headers: &[(&str, &str)], body: &Value) -> Incoming {
        match receive(&headers, body).unwrap() {
            Received::One(incoming) => incoming,
            other => panic!("{other:?}"),
        }
    }

    fn command(incoming: Incoming) -> Command {
        match incoming.outcome {
            Outcome::Record(mut commands) if commands.len() == 1 => commands.pop().unwrap(),
            other => panic!("{other:?}"),
        }
    }

    fn created(incoming: Incoming) -> NewEvent {
        match command(incoming) {
            Command::Create(event) => event,
            other => panic!("{other:?}"),
        }
    }

    fn at() -> Option<Timestamp> {
        Timestamp::parse("2026-03-20T14:27:05.315Z")
    }

    #[test]
    fn a_merged_change_is_a_push_of_its_commit() {
        let body = event(
            "dev.cdevents.change.merged.0.3.0",
            json!({"id": "abc123", "content": {"repository":
                {"id": "jdoe/web", "source": "https://github.com/jdoe/web"}}}),
        );
        let incoming = one(&[], &body);
        assert_eq!(
            (incoming.source.as_str(), incoming.id.as_str()),
            ("/ci/one", "e-1")
        );
        assert_eq!(incoming.key(), r#"["/ci/one","e-1"]"#);
        assert_eq!(incoming.delivery(), "/ci/one e-1");
        let push = created(incoming);
        assert_eq!(push.event_type, EventType::Push);
        let commit = push.fields.commit;
        assert_eq!(commit.commit_id.as_deref(), Some("abc123"));
        assert_eq!(commit.repo_owner.as_deref(), Some("jdoe"));
        assert_eq!(commit.repo_name.as_deref(), Some("web"));
        assert_eq!(
            commit.repo_url.as_deref(),
            Some("https://github.com/jdoe/web")
        );
    }

    #[test]
    fn created_and_updated_changes_are_pull_requests_of_their_branch() {
        for kind in [
            "dev.cdevents.change.created.0.4.0",
            "dev.cdevents.change.updated.0.2.0",
        ] {
            let body = event(
                kind,
                json!({"id": "feature-x", "content": {"description": "Fix"}}),
            );
            let pr = created(one(&[], &body));
            assert_eq!(pr.event_type, EventType::PullRequest);
            assert_eq!(pr.fields.commit.branch.as_deref(), Some("feature-x"));
            assert_eq!(pr.fields.commit.commit_msg.as_deref(), Some("Fix"));
        }
    }

    #[test]
    fn pipeline_runs_are_one_build_per_subject_through_its_statuses() {
        let run = |kind: &str, content: Value| {
            let body = event(kind, json!({"id": "run-9", "content": content}));
            match command(one(&[], &body)) {
                Command::Build { fields, .. } => fields,
                other => panic!("{other:?}"),
            }
        };
        let queued = run("dev.cdevents.pipelinerun.queued.0.3.0", json!({}));
        assert_eq!(queued.build_status, Some(BuildStatus::Queued));
        assert_eq!(queued.build_provider.as_deref(), Some(BUILD_PROVIDER));
        assert_eq!(queued.build_id.as_deref(), Some("run-9"));
        let started = run(
            "dev.cdevents.pipelinerun.started.0.2.0",
            json!({"pipelineName": "p", "url": "https://ci.example/9"}),
        );
        assert_eq!(started.build_status, Some(BuildStatus::Running));
        assert_eq!(started.build_start, at());
        assert_eq!(started.build_url.as_deref(), Some("https://ci.example/9"));
        for (outcome, status) in [
            (json!("success"), BuildStatus::Success),
            (json!("failure"), BuildStatus::Failed),
            (json!("cancel"), BuildStatus::Cancelled),
            (json!("error"), BuildStatus::TimedOut),
            (Value::Null, BuildStatus::Success),
        ] {
            let finished = run(
                "dev.cdevents.pipelinerun.finished.0.3.0",
                json!({"outcome": outcome, "uri": "https://ci.example/9"}),
            );
            assert_eq!(finished.build_status, Some(status), "{outcome}");
            assert_eq!(finished.build_end, at());
        }
        let body = event(
            "dev.cdevents.pipelinerun.finished.0.3.0",
            json!({"id": "run-9", "content": {"outcome": "exploded"}}),
        );
        let err = receive(&[] as &[(&str, &str); 0], &body).unwrap_err();
        assert!(err.0.contains("exploded"), "{err:?}");
    }

    #[test]
    fn a_published_artifact_is_a_release_of_its_package_version() {
        let body = event(
            "dev.cdevents.artifact.published.0.3.0",
            json!({"id": "pkg:golang/mygit.com/myorg/myapp@234fd47e", "content": {"user": "bot"}}),
        );
        let release = created(one(&[], &body));
        assert_eq!(release.event_type, EventType::Release);
        assert_eq!(release.fields.release_version.as_deref(), Some("234fd47e"));
        assert_eq!(
            release.fields.commit.author_username.as_deref(),
            Some("bot")
        );
        let body = event(
            "dev.cdevents.artifact.published.0.3.0",
            json!({"id": "myapp", "content": {}}),
        );
        let err = receive(&[] as &[(&str, &str); 0], &body).unwrap_err();
        assert!(err.0.contains("names no version"), "{err:?}");
    }

    #[test]
    fn service_events_are_ok_deploys_to_their_environment() {
        for predicate in ["deployed", "upgraded", "rolledback"] {
            let body = event(
                &format!("dev.cdevents.service.{predicate}.0.3.0"),
                json!({"id": "svc", "content": {"environment": {"id": "prod/eu"},
                        "artifactId": "pkg:generic/web@v2"}}),
            );
            let Command::Deploy { fields, .. } = command(one(&[], &body)) else {
                panic!()
            };
            assert_eq!(fields.env_name.as_deref(), Some("prod-eu"));
            assert_eq!(fields.deployment_status, Some(DeploymentStatus::Ok));
            assert_eq!(fields.release_version.as_deref(), Some("v2"));
            assert_eq!(fields.deployment_end, at());
        }
        let body = event(
            "dev.cdevents.service.deployed.0.3.0",
            json!({"id": "svc", "content": {"artifactId": "pkg:generic/web@v2"}}),
        );
        let err = receive(&[] as &[(&str, &str); 0], &body).unwrap_err();
        assert!(err.0.contains("environment.id"), "{err:?}");
    }

    #[test]
    fn incidents_are_one_per_subject_detected_then_resolved() {
        let incident = |predicate: &str| {
            let body = event(
                &format!("dev.cdevents.incident.{predicate}.0.3.0"),
                json!({"id": "inc-1", "content": {"environment": {"id": "prod1"},
                        "description": "Slow"}}),
            );
            match command(one(&[], &body)) {
                Command::Incident { fields, subject } => (fields, subject),
                other => panic!("{other:?}"),
            }
        };
        let (detected, subject) = incident("detected");
        assert_eq!(subject, "inc-1");
        assert_eq!(detected.env_name.as_deref(), Some("prod1"));
        assert_eq!(detected.title.as_deref(), Some("Slow"));
        assert_eq!(detected.incident_start, at());
        assert_eq!(detected.incident_status, None, "the store opens it");
        let (resolved, _) = incident("resolved");
        assert_eq!(resolved.incident_status, Some(IncidentStatus::Resolved));
        assert_eq!(resolved.incident_end, at());
    }

    #[test]
    fn other_types_are_ignored_with_a_reason() {
        for kind in [
            "dev.cdevents.taskrun.started.0.3.0",
            "dev.cdeventsx.tool.created.0.1.0",
        ] {
            let incoming = one(&[], &event(kind, json!({"id": "x", "content": {}})));
            let Outcome::Ignored(why) = incoming.outcome else {
                panic!("{kind}")
            };
            assert!(!why.is_empty());
        }
    }

    #[test]
    fn the_context_must_name_id_source_and_type() {
        for missing in ["id", "source", "type"] {
            let mut body = event("dev.cdevents.change.merged.0.3.0", json!({"id": "a"}));
            body["context"].as_object_mut().unwrap().remove(missing);
            let err = receive(&[] as &[(&str, &str); 0], &body).unwrap_err();
            assert!(err.0.contains(&format!("context.{missing}")), "{err:?}");
        }
        let mut body = event("dev.cdevents.change.merged.0.3.0", json!({"id": "a"}));
        body["context"]["id"] = json!("a\u{0}b");
        assert!(receive(&[] as &[(&str, &str); 0], &body).is_err());
        let long = "s".repeat(MAX_KEY_LEN + 1);
        for subject in [json!({"id": "a\u{0}b"}), json!({"id": long})] {
            let body = event("dev.cdevents.pipelinerun.queued.0.3.0", subject);
            let err = receive(&[] as &[(&str, &str); 0], &body).unwrap_err();
            assert!(err.0.contains("subject.id"), "{err:?}");
        }
        let err = receive(&[] as &[(&str, &str); 0], &json!([1])).unwrap_err();
        assert!(err.0.contains("context"), "{err:?}");
    }

    #[test]
    fn structured_binary_and_batched_modes_carry_the_same_event() {
        let cdevent = event("dev.cdevents.change.merged.0.3.0", json!({"id": "abc"}));
        let plain = one(&[], &cdevent);
        let wrapped = json!({"specversion": "1.0", "id": "e-1", "source": "/ci/one",
                             "type": "dev.cdevents.change.merged.0.3.0", "data": cdevent});
        let structured_ct = [(
            "Content-Type",
            "application/cloudevents+json; charset=UTF-8",
        )];
        assert_eq!(one(&structured_ct, &wrapped), plain);
        assert_eq!(one(&[], &wrapped), plain, "a CloudEvent sent as plain JSON");
        let binary = [
            ("ce-specversion", "1.0"),
            ("ce-id", "e-1"),
            ("ce-source", "/ci/one"),
            ("ce-type", "dev.cdevents.change.merged.0.3.0"),
            ("content-type", "application/json"),
        ];
        assert_eq!(one(&binary, &cdevent), plain, "the whole CDEvent as body");
        let bare = json!({"subject": {"id": "abc"}});
        let from_headers = one(&binary, &bare);
        assert_eq!(from_headers.source, "/ci/one");
        assert_eq!(from_headers.outcome, plain.outcome, "its data as body");
        let batch_ct = [("content-type", "application/cloudevents-batch+json")];
        let Received::Batch(events) = receive(&batch_ct, &json!([wrapped, wrapped])).unwrap()
        else {
            panic!()
        };
        assert_eq!(events, vec![plain.clone(), plain]);
        assert!(receive(&batch_ct, &json!({})).is_err());
        let too_many = Value::Array(vec![json!({}); MAX_BATCH + 1]);
        let err = receive(&batch_ct, &too_many).unwrap_err();
        assert!(err.0.contains("at most"), "{err:?}");
        let no_data = json!({"specversion": "1.0", "id": "x", "source": "/s", "type": "t"});
        assert!(receive(&structured_ct, &no_data).is_err());
        let bad = [("ce-id", "%C0%A0"), ("ce-type", "t")];
        assert!(receive(&bad, &bare).is_err());
    }
}
