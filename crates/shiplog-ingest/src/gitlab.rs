//! GitLab's webhooks (gitlab.com and self-managed): Push, Merge Request,
//! Pipeline, Deployment and Release hooks record events; every other hook
//! is answered and ignored.

use serde_json::Value;
use shiplog_domain::event::Field;
use shiplog_domain::{BuildStatus, DeploymentStatus, EventType, RepoProvider};

use crate::draft::Draft;
use crate::payload::{
    before_last_segment, header, is_commit_id, is_null_commit, last_segment, lookup,
    required_header, required_id, required_text, text, time,
};
use crate::{Delivery, Headers, MapError, Outcome};

const BUILD_PROVIDER: &str = "gitlab-ci";

/// A pipeline's `status`. `manual` (waiting for someone to start a job) is
/// absent on purpose: it is neither queued nor over.
const PIPELINE_STATUSES: &[(&str, BuildStatus)] = &[
    ("created", BuildStatus::Queued),
    ("waiting_for_resource", BuildStatus::Queued),
    ("preparing", BuildStatus::Queued),
    ("pending", BuildStatus::Queued),
    ("scheduled", BuildStatus::Queued),
    ("running", BuildStatus::Running),
    ("success", BuildStatus::Success),
    ("failed", BuildStatus::Failed),
    ("canceled", BuildStatus::Cancelled),
    ("skipped", BuildStatus::Cancelled),
];

/// A deployment's `status`; the hook fires on these four.
const DEPLOYMENT_STATUSES: &[(&str, DeploymentStatus)] = &[
    ("running", DeploymentStatus::InProgress),
    ("success", DeploymentStatus::Ok),
    ("failed", DeploymentStatus::Failed),
    ("canceled", DeploymentStatus::Aborted),
];

pub fn map(headers: &dyn Headers, body: &Value) -> Result<Delivery, MapError> {
    // Idempotency-Key (GitLab 17.4) stays the same across retries; older
    // instances send only the event UUID.
    let id = match header(headers, "Idempotency-Key") {
        Some(key) => key.to_owned(),
        None => required_header(headers, "X-Gitlab-Event-UUID")?,
    };
    let event = required_header(headers, "X-Gitlab-Event")?;
    let outcome = match event.as_str() {
        "Push Hook" => push(body)?,
        "Merge Request Hook" => merge_request(body)?,
        "Pipeline Hook" => pipeline(body)?,
        "Deployment Hook" => deployment(body)?,
        "Release Hook" => release(body)?,
        other => Outcome::Ignored(format!("GitLab {other} is not recorded")),
    };
    Ok(Delivery {
        id,
        repository: project_path(body).map(str::to_owned),
        outcome,
    })
}

/// GitLab sends tag pushes as Tag Push Hooks, so a Push Hook is a branch's;
/// the ref is checked anyway.
fn push(body: &Value) -> Result<Outcome, MapError> {
    let git_ref = required_text(body, "/ref")?;
    let Some(branch) = git_ref.strip_prefix("refs/heads/") else {
        return Ok(Outcome::Ignored(format!(
            "GitLab push to {git_ref}: only branch pushes are recorded"
        )));
    };
    let after = required_text(body, "/after")?;
    if is_null_commit(after) {
        return Ok(Outcome::Ignored(format!(
            "GitLab push deleting branch {branch}: deletions are not recorded"
        )));
    }
    let mut draft = Draft::new();
    draft
        .set(Field::CommitId, Some(after))
        .set(Field::Branch, Some(branch));
    // `commits` holds at most the newest 20, and none for a branch created
    // without new commits; the head's details are kept when it is there.
    let head = body["commits"]
        .as_array()
        .and_then(|commits| commits.iter().find(|c| c["id"] == after));
    if let Some(head) = head {
        commit(&mut draft, head)?;
    }
    project(&mut draft, body);
    Ok(Outcome::one(draft.create(EventType::Push)?))
}

/// Opened and reopened merge requests, and updates that bring new commits
/// (GitLab sends `oldrev` only then); the commit fields describe the merge
/// request as for GitHub: its title, its page, the user who acted.
fn merge_request(body: &Value) -> Result<Outcome, MapError> {
    let attributes = &body["object_attributes"];
    let action = text(attributes, "/action").unwrap_or_default();
    let new_commits = !attributes["oldrev"].is_null();
    match action {
        "open" | "reopen" => {}
        "update" if new_commits => {}
        "update" => {
            return Ok(Outcome::Ignored(
                "GitLab merge request update without new commits is not recorded".into(),
            ));
        }
        other => {
            return Ok(Outcome::Ignored(format!(
                "GitLab merge request action {other:?} is not recorded"
            )));
        }
    }
    let mut draft = Draft::new();
    draft
        .set(
            Field::CommitId,
            Some(required_text(body, "/object_attributes/last_commit/id")?),
        )
        .set(Field::Branch, text(attributes, "/source_branch"))
        .set(Field::CommitMsg, text(attributes, "/title"))
        .set(Field::CommitUrl, text(attributes, "/url"))
        .set(Field::AuthorName, text(body, "/user/name"))
        .set(Field::AuthorUsername, text(body, "/user/username"))
        .time(
            Field::CommitTime,
            time(body, "/object_attributes/last_commit/timestamp")?,
        );
    project(&mut draft, body);
    Ok(Outcome::one(draft.create(EventType::PullRequest)?))
}

/// One BUILD per pipeline. The hook carries no start time of its own, so a
/// pipeline starts when it was created.
fn pipeline(body: &Value) -> Result<Outcome, MapError> {
    let status_name = required_text(body, "/object_attributes/status")?;
    let Some(status) = lookup(PIPELINE_STATUSES, status_name) else {
        return Ok(Outcome::Ignored(format!(
            "GitLab pipeline status {status_name} is not recorded"
        )));
    };
    let attributes = &body["object_attributes"];
    let mut draft = Draft::new();
    draft
        .set(Field::BuildProvider, Some(BUILD_PROVIDER))
        .set(
            Field::BuildId,
            Some(&required_id(body, "/object_attributes/id")?),
        )
        .set(Field::BuildUrl, text(attributes, "/url"));
    commit(&mut draft, &body["commit"])?;
    // The pipeline's own sha wins over its commit object, which it names.
    draft.set(
        Field::CommitId,
        Some(required_text(body, "/object_attributes/sha")?),
    );
    if attributes["tag"] != true {
        draft.set(Field::Branch, text(attributes, "/ref"));
    }
    project(&mut draft, body);
    let start = time(body, "/object_attributes/created_at")?;
    let finished = time(body, "/object_attributes/finished_at")?;
    Ok(Outcome::one(draft.build(status, start, finished)?))
}

/// One DEPLOY per deployment id. The hook names its commit only by
/// `short_sha` and `commit_url`; the full id is the URL's last segment.
fn deployment(body: &Value) -> Result<Outcome, MapError> {
    let status_name = required_text(body, "/status")?;
    let Some(status) = lookup(DEPLOYMENT_STATUSES, status_name) else {
        return Ok(Outcome::Ignored(format!(
            "GitLab deployment status {status_name} is not recorded"
        )));
    };
    let env = required_text(body, "/environment")?;
    let commit_url = text(body, "/commit_url");
    let short_sha = text(body, "/short_sha").unwrap_or_default();
    let commit_id = commit_url
        .map(last_segment)
        .filter(|id| is_commit_id(id) && id.starts_with(short_sha));
    let mut draft = Draft::new();
    draft
        .set(
            Field::DeploymentId,
            Some(&required_id(body, "/deployment_id")?),
        )
        .set(Field::CommitId, commit_id)
        .set(Field::CommitUrl, commit_url)
        .set(Field::CommitMsg, text(body, "/commit_title"))
        .set(Field::AuthorName, text(body, "/user/name"))
        .set(Field::AuthorUsername, text(body, "/user/username"));
    project(&mut draft, body);
    let changed = time(body, "/status_changed_at")?;
    Ok(Outcome::one(draft.deploy(env, status, None, changed)?))
}

fn release(body: &Value) -> Result<Outcome, MapError> {
    let action = text(body, "/action").unwrap_or_default();
    if action != "create" {
        return Ok(Outcome::Ignored(format!(
            "GitLab release action {action:?} is not recorded"
        )));
    }
    let mut draft = Draft::new();
    draft.set(Field::ReleaseVersion, Some(required_text(body, "/tag")?));
    commit(&mut draft, &body["commit"])?;
    project(&mut draft, body);
    Ok(Outcome::one(draft.create(EventType::Release)?))
}

/// The fields of a commit object as GitLab hooks send it (`id`, `message`,
/// `timestamp`, `url`, `author.name`). It has no author username.
fn commit(draft: &mut Draft, commit: &Value) -> Result<(), MapError> {
    draft
        .set(Field::CommitId, text(commit, "/id"))
        .set(Field::CommitMsg, text(commit, "/message"))
        .set(Field::CommitUrl, text(commit, "/url"))
        .set(Field::AuthorName, text(commit, "/author/name"))
        .time(Field::CommitTime, time(commit, "/timestamp")?);
    Ok(())
}

/// The repo fields: the project's path as its name (the app's name too),
/// its namespace path as the owner.
fn project(draft: &mut Draft, body: &Value) {
    let full_path = text(body, "/project/path_with_namespace");
    draft
        .set(Field::RepoName, project_path(body))
        .set(Field::RepoOwner, full_path.and_then(before_last_segment))
        .set(Field::RepoUrl, text(body, "/project/web_url"))
        .set(Field::RepoProvider, Some(RepoProvider::Gitlab.as_str()));
}

/// `project.path`, which GitLab's hook payloads do not actually carry: the
/// same path is the last segment of `path_with_namespace`.
fn project_path(body: &Value) -> Option<&str> {
    text(body, "/project/path")
        .or_else(|| text(body, "/project/path_with_namespace").map(last_segment))
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use shiplog_domain::{EventFields, Timestamp};

    use super::*;
    use crate::Command;

    const SHA: &str = "da1560886d4f094c3e6c9ef40349f7d38b5d27d7";

    fn deliver(event: &str, body: &Value) -> Result<Delivery, MapError> {
        map(
            &[("Idempotency-Key", "key-1"), ("X-Gitlab-Event", event)],
            body,
        )
    }

    fn only(event: &str, body: Value) -> Command {
        match deliver(event, &body).unwrap().outcome {
            Outcome::Record(mut commands) if commands.len() == 1 => commands.remove(0),
            other => panic!("expected one command, got {other:?}"),
        }
    }

    fn created(event: &str, body: Value) -> (EventType, EventFields) {
        match only(event, body) {
            Command::Create(event) => (event.event_type, event.fields),
            other => panic!("expected a create, got {other:?}"),
        }
    }

    fn ignored(event: &str, body: Value) -> String {
        match deliver(event, &body).unwrap().outcome {
            Outcome::Ignored(why) => why,
            other => panic!("expected it ignored, got {other:?}"),
        }
    }

    fn at(text: &str) -> Option<Timestamp> {
        Timestamp::parse(text)
    }

    fn project() -> Value {
        json!({
            "name": "Web Shop",
            "path_with_namespace": "acme/retail/web-shop",
            "web_url": "https://gitlab.example.com/acme/retail/web-shop"
        })
    }

    fn commit_object() -> Value {
        json!({
            "id": SHA,
            "message": "fixed readme",
            "timestamp": "2012-01-03T23:36:29+02:00",
            "url": format!("https://gitlab.example.com/acme/retail/web-shop/-/commit/{SHA}"),
            "author": {"name": "GitLab dev user", "email": "dev@example.com"}
        })
    }

    fn assert_project(fields: &EventFields) {
        let c = &fields.commit;
        assert_eq!(c.repo_name.as_deref(), Some("web-shop"));
        assert_eq!(c.repo_owner.as_deref(), Some("acme/retail"));
        assert_eq!(
            c.repo_url.as_deref(),
            Some("https://gitlab.example.com/acme/retail/web-shop")
        );
        assert_eq!(c.repo_provider, Some(RepoProvider::Gitlab));
    }

    fn pipeline_body(status: &str) -> Value {
        json!({
            "object_kind": "pipeline",
            "object_attributes": {
                "id": 31, "ref": "main", "tag": false, "sha": SHA, "status": status,
                "created_at": "2016-08-12 15:23:28 UTC",
                "finished_at": "2016-08-12 15:26:29 UTC",
                "url": "https://gitlab.example.com/acme/retail/web-shop/-/pipelines/31"
            },
            "commit": commit_object(),
            "project": project()
        })
    }

    fn deployment_body(status: &str) -> Value {
        json!({
            "object_kind": "deployment",
            "status": status,
            "status_changed_at": "2021-04-28 21:50:00 +0200",
            "deployment_id": 15,
            "environment": "review/feature-x",
            "short_sha": "da156088",
            "commit_url": format!("https://gitlab.example.com/acme/retail/web-shop/-/commit/{SHA}"),
            "commit_title": "fixed readme",
            "user": {"name": "Administrator", "username": "root"},
            "project": project()
        })
    }

    #[test]
    fn a_push_records_its_head_commit_and_names_the_app_by_the_project_path() {
        let body = json!({
            "object_kind": "push",
            "ref": "refs/heads/main",
            "after": SHA,
            "commits": [
                {"id": "b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327", "message": "older"},
                commit_object()
            ],
            "project": project()
        });
        let delivery = deliver("Push Hook", &body).unwrap();
        assert_eq!(delivery.id, "key-1");
        assert_eq!(delivery.repository.as_deref(), Some("web-shop"));
        let (event_type, fields) = created("Push Hook", body);
        assert_eq!(event_type, EventType::Push);
        let c = &fields.commit;
        assert_eq!(c.commit_id.as_deref(), Some(SHA));
        assert_eq!(c.branch.as_deref(), Some("main"));
        assert_eq!(c.commit_msg.as_deref(), Some("fixed readme"));
        assert_eq!(c.commit_time, at("2012-01-03T21:36:29Z"));
        assert_eq!(c.author_name.as_deref(), Some("GitLab dev user"));
        assert_eq!(c.author_username, None);
        assert!(c.commit_url.as_deref().unwrap().ends_with(SHA));
        assert_project(&fields);
    }

    #[test]
    fn a_push_without_its_head_in_commits_still_records_the_commit_id() {
        let body =
            json!({"ref": "refs/heads/new", "after": SHA, "commits": [], "project": project()});
        let (_, fields) = created("Push Hook", body);
        assert_eq!(fields.commit.commit_id.as_deref(), Some(SHA));
        assert_eq!(fields.commit.commit_msg, None);
    }

    #[test]
    fn deletions_and_tag_pushes_are_ignored() {
        let deleted = json!({"ref": "refs/heads/old", "after": "0000000000000000000000000000000000000000", "project": project()});
        assert!(ignored("Push Hook", deleted).contains("deleting branch old"));
        let tag = json!({"ref": "refs/tags/v1", "after": SHA, "project": project()});
        assert!(ignored("Tag Push Hook", tag).contains("Tag Push Hook"));
    }

    #[test]
    fn merge_requests_opened_reopened_or_given_commits_record_their_head() {
        let body = |action: &str, oldrev: Option<&str>| {
            json!({
                "object_kind": "merge_request",
                "user": {"name": "Administrator", "username": "root"},
                "object_attributes": {
                    "action": action, "oldrev": oldrev,
                    "title": "MS-Viewport", "source_branch": "ms-viewport", "target_branch": "main",
                    "url": "https://gitlab.example.com/acme/retail/web-shop/-/merge_requests/1",
                    "last_commit": commit_object()
                },
                "project": project()
            })
        };
        for (action, oldrev) in [("open", None), ("reopen", None), ("update", Some("abc"))] {
            let (event_type, fields) = created("Merge Request Hook", body(action, oldrev));
            assert_eq!(event_type, EventType::PullRequest, "{action}");
            let c = &fields.commit;
            assert_eq!(c.commit_id.as_deref(), Some(SHA));
            assert_eq!(c.branch.as_deref(), Some("ms-viewport"));
            assert_eq!(c.commit_msg.as_deref(), Some("MS-Viewport"));
            assert!(
                c.commit_url
                    .as_deref()
                    .unwrap()
                    .ends_with("/merge_requests/1")
            );
            assert_eq!(c.commit_time, at("2012-01-03T21:36:29Z"));
            assert_eq!(c.author_username.as_deref(), Some("root"));
            assert_project(&fields);
        }
        let why = ignored("Merge Request Hook", body("update", None));
        assert!(why.contains("without new commits"), "{why}");
        for action in ["merge", "close", "approved"] {
            assert!(ignored("Merge Request Hook", body(action, None)).contains(action));
        }
    }

    #[test]
    fn a_pipeline_is_one_build_whose_status_follows_the_table() {
        use BuildStatus::*;
        for (status, expected) in [
            ("created", Queued),
            ("waiting_for_resource", Queued),
            ("preparing", Queued),
            ("pending", Queued),
            ("scheduled", Queued),
            ("running", Running),
            ("success", Success),
            ("failed", Failed),
            ("canceled", Cancelled),
            ("skipped", Cancelled),
        ] {
            let Command::Build {
                fields,
                parent_commit,
            } = only("Pipeline Hook", pipeline_body(status))
            else {
                panic!("{status}")
            };
            assert_eq!(fields.build_status, Some(expected), "{status}");
            assert_eq!(parent_commit.as_deref(), Some(SHA));
            assert_eq!(fields.build_provider.as_deref(), Some("gitlab-ci"));
            assert_eq!(fields.build_id.as_deref(), Some("31"));
            assert_eq!(fields.build_start, at("2016-08-12T15:23:28Z"));
            let end = expected
                .is_terminal()
                .then(|| at("2016-08-12T15:26:29Z").unwrap());
            assert_eq!(fields.build_end, end, "{status}");
            assert!(
                fields
                    .build_url
                    .as_deref()
                    .unwrap()
                    .ends_with("/pipelines/31")
            );
            assert_eq!(fields.commit.branch.as_deref(), Some("main"));
            assert_eq!(fields.commit.commit_msg.as_deref(), Some("fixed readme"));
            assert_project(&fields);
        }
        assert!(ignored("Pipeline Hook", pipeline_body("manual")).contains("manual"));
    }

    #[test]
    fn a_tag_pipeline_has_no_branch() {
        let mut body = pipeline_body("running");
        body["object_attributes"]["tag"] = json!(true);
        body["object_attributes"]["ref"] = json!("v1.0.0");
        let Command::Build { fields, .. } = only("Pipeline Hook", body) else {
            panic!()
        };
        assert_eq!(fields.commit.branch, None);
    }

    #[test]
    fn a_deployment_is_one_deploy_whose_status_follows_the_table() {
        use DeploymentStatus::*;
        for (status, expected) in [
            ("running", InProgress),
            ("success", Ok),
            ("failed", Failed),
            ("canceled", Aborted),
        ] {
            let Command::Deploy {
                fields,
                release_commit,
            } = only("Deployment Hook", deployment_body(status))
            else {
                panic!("{status}")
            };
            assert_eq!(fields.deployment_status, Some(expected), "{status}");
            assert_eq!(fields.deployment_id.as_deref(), Some("15"));
            assert_eq!(fields.env_name.as_deref(), Some("review-feature-x"));
            assert_eq!(release_commit.as_deref(), Some(SHA));
            assert_eq!(fields.commit.commit_msg.as_deref(), Some("fixed readme"));
            assert_eq!(fields.commit.author_username.as_deref(), Some("root"));
            let changed = at("2021-04-28T19:50:00Z");
            assert_eq!(fields.deployment_start, changed);
            let end = if expected.is_terminal() {
                changed
            } else {
                None
            };
            assert_eq!(fields.deployment_end, end);
            assert_project(&fields);
        }
        assert!(ignored("Deployment Hook", deployment_body("blocked")).contains("blocked"));
    }

    #[test]
    fn a_deployment_whose_commit_url_names_no_commit_has_no_commit_id() {
        let mut body = deployment_body("running");
        body["commit_url"] =
            json!("https://gitlab.example.com/acme/retail/web-shop/-/commit/feedbeef");
        let Command::Deploy { release_commit, .. } = only("Deployment Hook", body) else {
            panic!()
        };
        assert_eq!(release_commit, None);
    }

    #[test]
    fn a_created_release_records_its_tag_and_commit() {
        let body = |action: &str| json!({"object_kind": "release", "action": action, "tag": "v1.1", "commit": commit_object(), "project": project()});
        let (event_type, fields) = created("Release Hook", body("create"));
        assert_eq!(event_type, EventType::Release);
        assert_eq!(fields.release_version.as_deref(), Some("v1.1"));
        assert_eq!(fields.commit.commit_id.as_deref(), Some(SHA));
        assert_eq!(fields.commit.commit_msg.as_deref(), Some("fixed readme"));
        assert_project(&fields);
        for action in ["update", "delete"] {
            assert!(ignored("Release Hook", body(action)).contains(action));
        }
    }

    #[test]
    fn other_hooks_are_ignored() {
        for event in ["Job Hook", "Issue Hook", "Note Hook", "System Hook"] {
            assert!(ignored(event, json!({"project": project()})).contains(event));
        }
    }

    #[test]
    fn the_delivery_id_is_the_idempotency_key_else_the_event_uuid() {
        let body = json!({"project": project()});
        let both = [
            ("X-Gitlab-Event-UUID", "uuid-1"),
            ("Idempotency-Key", "key-1"),
            ("X-Gitlab-Event", "Issue Hook"),
        ];
        assert_eq!(map(&both, &body).unwrap().id, "key-1");
        let uuid = [
            ("X-Gitlab-Event-UUID", "uuid-1"),
            ("X-Gitlab-Event", "Issue Hook"),
        ];
        assert_eq!(map(&uuid, &body).unwrap().id, "uuid-1");
        let neither = [("X-Gitlab-Event", "Issue Hook")];
        assert!(
            map(&neither, &body)
                .unwrap_err()
                .0
                .contains("X-Gitlab-Event-UUID")
        );
        let no_event = [("Idempotency-Key", "key-1")];
        assert!(
            map(&no_event, &body)
                .unwrap_err()
                .0
                .contains("X-Gitlab-Event")
        );
    }

    #[test]
    fn a_project_path_sent_as_such_names_the_app() {
        let mut body = json!({"project": project()});
        body["project"]["path"] = json!("shop");
        assert_eq!(
            deliver("Issue Hook", &body).unwrap().repository.as_deref(),
            Some("shop")
        );
    }
}
