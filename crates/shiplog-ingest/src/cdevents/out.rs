//! A change as a CDEvent: the mapping of beyond.md §10 from the change
//! (its kind, the event after it, the fields it changed) and the few facts
//! about other rows that the store finds for it ([`Context`]).
//!
//! Ids are derived, never random: a change's CDEvent has the same
//! `context.id` each time it is made, so a retried webhook or a resumed
//! stream carries the same CDEvent.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use shiplog_domain::event::IncidentStatus;
use shiplog_domain::{
    BuildStatus, Change, ChangeKind, DeploymentStatus, DeploymentType, EventType,
};

use super::{SPEC_VERSION, event_type, package_url};

/// Which CDEvent a change is, before the facts that refine it are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A PUSH: `change.merged`.
    ChangeMerged,
    /// A PULLREQUEST: `change.created` the first time its branch is seen
    /// in the app, `change.updated` after.
    PullRequest,
    PipelineRunQueued,
    PipelineRunStarted,
    /// A BUILD that ended, with its CDEvents `outcome`.
    PipelineRunFinished(&'static str),
    /// A RELEASE: `artifact.published`.
    ArtifactPublished,
    /// A DEPLOY that ended `Ok`: `service.deployed`, `.upgraded` or
    /// `.rolledback` by what the env ran before.
    ServiceDeployed,
    IncidentDetected,
    IncidentResolved,
}

/// How a deployment's release compares with the env's previous `Ok`
/// deployment's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReleaseMove {
    /// The env had no `Ok` deployment before: `service.deployed`.
    #[default]
    First,
    /// A newer release, the same one again, or one that cannot be
    /// compared: `service.upgraded`.
    Newer,
    /// An older release (DORA's rollback rule): `service.rolledback`.
    Older,
}

/// What a change's CDEvent needs beyond the change itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context<'a> {
    /// The server's public URL: every CDEvent's `context.source`, and the
    /// base of the URLs that name subjects.
    pub source: &'a str,
    /// The account the change was made in.
    pub account: &'a str,
    /// The root of the event's chain of parents (the event itself when it
    /// has no parent): one `chainId` per chain.
    pub chain_root: i64,
    /// The parent's latest change before this one, whose CDEvent this one
    /// follows: a `PATH` link in `context.links`.
    pub parent_change: Option<i64>,
    /// For a PULLREQUEST: whether an earlier event of the app had its branch.
    pub branch_seen: bool,
    /// For a DEPLOY: its release against what the env ran before.
    pub release_move: ReleaseMove,
}

impl<'a> Context<'a> {
    /// The context of an event with no parent, no earlier sighting of its
    /// branch and no earlier deployment.
    pub fn new(source: &'a str, account: &'a str, chain_root: i64) -> Context<'a> {
        Context {
            source,
            account,
            chain_root,
            parent_change: None,
            branch_seen: false,
            release_move: ReleaseMove::First,
        }
    }
}

/// Which CDEvent a change is, if any: a creation, or an update that moved
/// a BUILD, DEPLOY or INCIDENT to a status the mapping names. A DEPLOY
/// counts once it ended `Ok` as a deploy (`deployment_type` `Deploy`, as
/// DORA counts them); a BUILD `Waiting`, a DEPLOY in progress and
/// DOCKERIMAGE have none.
pub fn kind(change: &Change) -> Option<Kind> {
    let event = &change.event;
    let created = change.kind == ChangeKind::Created;
    let moved = |field: &str| created || change.fields.contains_key(field);
    let kind = match EventType::parse(text(event, "event_type")?)? {
        EventType::Push if created => Kind::ChangeMerged,
        EventType::PullRequest if created => Kind::PullRequest,
        EventType::Release if created => Kind::ArtifactPublished,
        EventType::Build if moved("build_status") => {
            match BuildStatus::parse(text(event, "build_status")?)? {
                BuildStatus::Waiting => return None,
                BuildStatus::Queued => Kind::PipelineRunQueued,
                BuildStatus::Running => Kind::PipelineRunStarted,
                BuildStatus::Success => Kind::PipelineRunFinished("success"),
                BuildStatus::Failed => Kind::PipelineRunFinished("failure"),
                BuildStatus::Cancelled => Kind::PipelineRunFinished("cancel"),
                BuildStatus::TimedOut => Kind::PipelineRunFinished("error"),
            }
        }
        EventType::Deploy if moved("deployment_status") => {
            let ok = text(event, "deployment_status").and_then(DeploymentStatus::parse)
                == Some(DeploymentStatus::Ok);
            let deploy = text(event, "deployment_type")
                .and_then(DeploymentType::parse)
                .unwrap_or(DeploymentType::Deploy)
                == DeploymentType::Deploy;
            if !(ok && deploy) {
                return None;
            }
            Kind::ServiceDeployed
        }
        EventType::Incident if moved("incident_status") => {
            match IncidentStatus::parse(text(event, "incident_status")?)? {
                IncidentStatus::Open if created => Kind::IncidentDetected,
                IncidentStatus::Open => return None,
                IncidentStatus::Resolved => Kind::IncidentResolved,
            }
        }
        _ => return None,
    };
    Some(kind)
}

/// The change as a bare CDEvent (`{"context","subject"}`), or `None` when
/// the mapping names none for it.
pub fn cdevent(change: &Change, context: &Context<'_>) -> Option<Value> {
    let kind = kind(change)?;
    let names = Names {
        source: context.source,
        account: context.account,
        app: &change.app_name,
    };
    let event = &change.event;
    let event_url = names.event(change.event_id);
    let (subject, predicate, subject_id, content) = match kind {
        Kind::ChangeMerged => (
            "change",
            "merged",
            text(event, "commit_id").map_or(event_url, str::to_owned),
            repository(event),
        ),
        Kind::PullRequest => {
            let mut content = repository(event);
            let predicate = if context.branch_seen {
                "updated"
            } else {
                // Only `change.created` has a description.
                if let Some(message) = text(event, "commit_msg") {
                    content.insert("description".into(), message.into());
                }
                "created"
            };
            let id = text(event, "branch")
                .or_else(|| text(event, "commit_id"))
                .map_or(event_url, str::to_owned);
            ("change", predicate, id, content)
        }
        Kind::PipelineRunQueued | Kind::PipelineRunStarted | Kind::PipelineRunFinished(_) => {
            let mut content = Map::new();
            content.insert("pipelineName".into(), change.app_name.as_str().into());
            let uri = text(event, "build_url")
                .filter(|url| is_absolute_url(url))
                .map_or_else(|| event_url.clone(), str::to_owned);
            content.insert("uri".into(), uri.into());
            let predicate = match kind {
                Kind::PipelineRunQueued => "queued",
                Kind::PipelineRunStarted => "started",
                _ => "finished",
            };
            if let Kind::PipelineRunFinished(outcome) = kind {
                content.insert("outcome".into(), outcome.into());
            }
            ("pipelinerun", predicate, event_url, content)
        }
        Kind::ArtifactPublished => {
            let mut content = Map::new();
            if let Some(user) = text(event, "author_username") {
                content.insert("user".into(), user.into());
            }
            let purl = package_url(&change.app_name, text(event, "release_version"));
            ("artifact", "published", purl, content)
        }
        Kind::ServiceDeployed => {
            let predicate = match context.release_move {
                ReleaseMove::First => "deployed",
                ReleaseMove::Newer => "upgraded",
                ReleaseMove::Older => "rolledback",
            };
            let content = json!({
                "environment": {"id": text(event, "env_name")?},
                "artifactId": package_url(&change.app_name, text(event, "release_version")),
            });
            ("service", predicate, names.app(), into_map(content))
        }
        Kind::IncidentDetected | Kind::IncidentResolved => {
            let mut content = Map::new();
            if let Some(title) = text(event, "title") {
                content.insert("description".into(), title.into());
            }
            content.insert(
                "environment".into(),
                json!({"id": text(event, "env_name")?}),
            );
            content.insert("service".into(), json!({"id": names.app()}));
            let predicate = match kind {
                Kind::IncidentDetected => "detected",
                _ => "resolved",
            };
            ("incident", predicate, event_url, content)
        }
    };
    let mut head = json!({
        "specversion": SPEC_VERSION,
        "id": stable_id(context.source, "changes", change.change_id),
        "source": context.source,
        "type": event_type(subject, predicate),
        "timestamp": change.at.to_string(),
        "chainId": stable_id(context.source, "chains", context.chain_root),
    });
    if let Some(parent) = context.parent_change {
        head["links"] = json!([{
            "linkType": "PATH",
            "from": {"contextId": stable_id(context.source, "changes", parent)},
        }]);
    }
    Some(json!({
        "context": head,
        "subject": {"id": subject_id, "content": content},
    }))
}

/// The URLs that name an account's apps and events on this server.
struct Names<'a> {
    source: &'a str,
    account: &'a str,
    app: &'a str,
}

impl Names<'_> {
    fn app(&self) -> String {
        format!("{}/{}/apps/{}", self.source, self.account, self.app)
    }

    fn event(&self, event_id: i64) -> String {
        format!("{}/events/{event_id}", self.app())
    }
}

/// A UUID (version 8, RFC 9562) made from the server's URL and a change or
/// chain: the same inputs always give the same id, and no two servers or
/// changes share one.
pub fn stable_id(source: &str, what: &str, id: i64) -> String {
    let digest = Sha256::digest(format!("{source}\n{what}\n{id}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = shiplog_domain::token::hex(&bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// `{"repository":{"id","source"}}` of a change, when the event names its
/// repository: `owner/name` (or the name alone) and its URL.
fn repository(event: &Value) -> Map<String, Value> {
    let mut content = Map::new();
    let id = match (text(event, "repo_owner"), text(event, "repo_name")) {
        (Some(owner), Some(name)) => format!("{owner}/{name}"),
        (None, Some(name)) => name.to_owned(),
        _ => return content,
    };
    let mut repository = json!({"id": id});
    if let Some(url) = text(event, "repo_url").filter(|url| is_absolute_url(url)) {
        repository["source"] = url.into();
    }
    content.insert("repository".into(), repository);
    content
}

/// Whether text a client sent is an `http(s)` URL that is also a valid
/// URI (no spaces, quotes or other characters URIs exclude, `%` only
/// before two hex digits); other text is never put where the schemas
/// require a URI.
fn is_absolute_url(text: &str) -> bool {
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"));
    let Some(rest) = rest.filter(|rest| !rest.is_empty() && !rest.starts_with('/')) else {
        return false;
    };
    let bytes = rest.as_bytes();
    bytes.iter().enumerate().all(|(i, &b)| match b {
        b'%' => {
            bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
        }
        b'"' | b'<' | b'>' | b'\\' | b'^' | b'`' | b'{' | b'|' | b'}' => false,
        _ => b.is_ascii_graphic(),
    })
}

/// A non-empty string of the event's wire form.
fn text<'a>(event: &'a Value, key: &str) -> Option<&'a str> {
    event
        .get(key)
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
}

fn into_map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shiplog_domain::{Actor, Timestamp};

    const SOURCE: &str = "https://shiplog.example.com";

    fn change(kind: ChangeKind, event: Value, fields: Value) -> Change {
        Change {
            change_id: 41,
            at: Timestamp::parse("2026-03-20T14:27:05.315Z").unwrap(),
            kind,
            actor: Actor::Hook {
                hook: "github".into(),
                delivery: "d".into(),
            },
            app_name: "web".into(),
            event_id: 7,
            fields: into_map(fields),
            event,
        }
    }

    fn created(event: Value) -> Change {
        change(ChangeKind::Created, event, json!({}))
    }

    fn context() -> Context<'static> {
        Context::new(SOURCE, "jdoe", 7)
    }

    fn emitted(change: &Change, context: &Context<'_>) -> Value {
        cdevent(change, context).expect("a CDEvent")
    }

    #[test]
    fn a_push_is_a_merged_change_of_its_commit_and_repository() {
        let push = created(json!({"event_type": "PUSH", "commit_id": "abc123",
            "repo_owner": "jdoe", "repo_name": "web", "repo_url": "https://github.com/jdoe/web"}));
        let event = emitted(&push, &context());
        assert_eq!(event["context"]["type"], "dev.cdevents.change.merged.0.3.0");
        assert_eq!(event["context"]["specversion"], "0.5.1");
        assert_eq!(event["context"]["source"], SOURCE);
        assert_eq!(event["context"]["timestamp"], "2026-03-20T14:27:05.315Z");
        assert_eq!(event["subject"]["id"], "abc123");
        assert_eq!(
            event["subject"]["content"],
            json!({"repository": {"id": "jdoe/web", "source": "https://github.com/jdoe/web"}})
        );
        assert!(
            event["context"].get("links").is_none(),
            "a root links nowhere"
        );
    }

    #[test]
    fn a_pull_request_is_created_for_a_new_branch_and_updated_after() {
        let pr = created(json!({"event_type": "PULLREQUEST", "branch": "feature-x",
            "commit_msg": "Fix it", "repo_name": "web", "repo_url": "not a url"}));
        let first = emitted(&pr, &context());
        assert_eq!(
            first["context"]["type"],
            "dev.cdevents.change.created.0.4.0"
        );
        assert_eq!(first["subject"]["id"], "feature-x");
        assert_eq!(
            first["subject"]["content"],
            json!({"repository": {"id": "web"}, "description": "Fix it"})
        );
        let later = Context {
            branch_seen: true,
            ..context()
        };
        let again = emitted(&pr, &later);
        assert_eq!(
            again["context"]["type"],
            "dev.cdevents.change.updated.0.3.0"
        );
        assert_eq!(
            again["subject"]["content"],
            json!({"repository": {"id": "web"}})
        );
    }

    #[test]
    fn builds_run_through_queued_started_and_finished_with_their_outcome() {
        let build = |status: &str| {
            json!({"event_type": "BUILD", "build_status": status,
            "build_url": "https://ci.example.com/runs/9"})
        };
        let queued = emitted(&created(build("Queued")), &context());
        assert_eq!(
            queued["context"]["type"],
            "dev.cdevents.pipelinerun.queued.0.3.0"
        );
        assert_eq!(
            queued["subject"],
            json!({"id": format!("{SOURCE}/jdoe/apps/web/events/7"),
                   "content": {"pipelineName": "web", "uri": "https://ci.example.com/runs/9"}})
        );
        let update = |status: &str| {
            change(
                ChangeKind::Updated,
                build(status),
                json!({"build_status": ["Queued", status]}),
            )
        };
        let started = emitted(&update("Running"), &context());
        assert_eq!(
            started["context"]["type"],
            "dev.cdevents.pipelinerun.started.0.3.0"
        );
        assert_eq!(started["subject"]["id"], queued["subject"]["id"]);
        for (status, outcome) in [
            ("Success", "success"),
            ("Failed", "failure"),
            ("Cancelled", "cancel"),
            ("TimedOut", "error"),
        ] {
            let finished = emitted(&update(status), &context());
            assert_eq!(
                finished["context"]["type"],
                "dev.cdevents.pipelinerun.finished.0.3.0"
            );
            assert_eq!(
                finished["subject"]["content"]["outcome"], outcome,
                "{status}"
            );
        }
        assert_eq!(cdevent(&created(build("Waiting")), &context()), None);
        let version_only = change(
            ChangeKind::Updated,
            build("Running"),
            json!({"release_version": [null, "1.0"]}),
        );
        assert_eq!(cdevent(&version_only, &context()), None, "no status moved");
    }

    #[test]
    fn a_build_without_a_usable_url_points_at_its_event() {
        let build = created(json!({"event_type": "BUILD", "build_status": "Running",
            "build_url": "ci/run 9"}));
        let event = emitted(&build, &context());
        assert_eq!(
            event["subject"]["content"]["uri"],
            format!("{SOURCE}/jdoe/apps/web/events/7")
        );
    }

    #[test]
    fn a_release_is_a_published_generic_package() {
        let release = created(json!({"event_type": "RELEASE", "release_version": "1.4.0",
            "author_username": "jdoe"}));
        let event = emitted(&release, &context());
        assert_eq!(
            event["context"]["type"],
            "dev.cdevents.artifact.published.0.3.0"
        );
        assert_eq!(event["subject"]["id"], "pkg:generic/web@1.4.0");
        assert_eq!(event["subject"]["content"], json!({"user": "jdoe"}));
    }

    #[test]
    fn an_ok_deploy_is_deployed_upgraded_or_rolled_back() {
        let deploy = |status: &str, ty: &str| {
            json!({"event_type": "DEPLOY",
            "deployment_status": status, "deployment_type": ty, "env_name": "production",
            "release_version": "v2"})
        };
        let ok = change(
            ChangeKind::Updated,
            deploy("Ok", "Deploy"),
            json!({"deployment_status": ["InProgress", "Ok"]}),
        );
        for (release_move, predicate) in [
            (ReleaseMove::First, "deployed"),
            (ReleaseMove::Newer, "upgraded"),
            (ReleaseMove::Older, "rolledback"),
        ] {
            let context = Context {
                release_move,
                ..context()
            };
            let event = emitted(&ok, &context);
            assert_eq!(
                event["context"]["type"],
                format!("dev.cdevents.service.{predicate}.0.3.0")
            );
            assert_eq!(event["subject"]["id"], format!("{SOURCE}/jdoe/apps/web"));
            assert_eq!(
                event["subject"]["content"],
                json!({"environment": {"id": "production"}, "artifactId": "pkg:generic/web@v2"})
            );
        }
        let in_progress = change(
            ChangeKind::Updated,
            deploy("InProgress", "Deploy"),
            json!({"deployment_status": ["Pending", "InProgress"]}),
        );
        assert_eq!(cdevent(&in_progress, &context()), None);
        assert_eq!(cdevent(&created(deploy("Ok", "Restart")), &context()), None);
        assert_eq!(
            cdevent(&created(deploy("Failed", "Deploy")), &context()),
            None
        );
    }

    #[test]
    fn incidents_are_detected_then_resolved() {
        let incident = |status: &str| {
            json!({"event_type": "INCIDENT", "incident_status": status,
            "env_name": "production", "title": "Checkout down"})
        };
        let detected = emitted(&created(incident("Open")), &context());
        assert_eq!(
            detected["context"]["type"],
            "dev.cdevents.incident.detected.0.3.0"
        );
        assert_eq!(
            detected["subject"]["content"],
            json!({"description": "Checkout down", "environment": {"id": "production"},
                   "service": {"id": format!("{SOURCE}/jdoe/apps/web")}})
        );
        let resolved = change(
            ChangeKind::Updated,
            incident("Resolved"),
            json!({"incident_status": ["Open", "Resolved"]}),
        );
        let resolved = emitted(&resolved, &context());
        assert_eq!(
            resolved["context"]["type"],
            "dev.cdevents.incident.resolved.0.3.0"
        );
        assert_eq!(resolved["subject"]["id"], detected["subject"]["id"]);
    }

    #[test]
    fn unmapped_types_give_nothing() {
        assert_eq!(
            cdevent(&created(json!({"event_type": "DOCKERIMAGE"})), &context()),
            None
        );
        assert_eq!(cdevent(&created(json!({})), &context()), None);
    }

    #[test]
    fn ids_are_stable_uuids_and_parents_link_into_one_chain() {
        let release = created(json!({"event_type": "RELEASE", "release_version": "1"}));
        let context = Context {
            parent_change: Some(40),
            chain_root: 3,
            ..context()
        };
        let one = emitted(&release, &context);
        assert_eq!(
            one,
            emitted(&release, &context),
            "the same change, the same CDEvent"
        );
        let id = one["context"]["id"].as_str().unwrap();
        assert_eq!(id, stable_id(SOURCE, "changes", 41));
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "8", "a version 8 UUID");
        assert_ne!(id, stable_id("https://other.example.com", "changes", 41));
        assert_eq!(one["context"]["chainId"], stable_id(SOURCE, "chains", 3));
        assert_eq!(
            one["context"]["links"],
            json!([{"linkType": "PATH", "from": {"contextId": stable_id(SOURCE, "changes", 40)}}])
        );
    }

    #[test]
    fn only_valid_absolute_urls_count_as_urls() {
        for good in ["https://a.example/x?y=1#z", "http://h:8080/p%20q"] {
            assert!(is_absolute_url(good), "{good}");
        }
        for bad in [
            "ftp://a",
            "https://",
            "https:///x",
            "https://a b",
            "https://a/%zz",
            "/x",
        ] {
            assert!(!is_absolute_url(bad), "{bad}");
        }
    }
}
