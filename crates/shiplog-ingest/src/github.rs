//! GitHub's webhooks (github.com and GitHub Enterprise Server): `push`,
//! `pull_request`, `workflow_run`, `deployment`, `deployment_status` and
//! `release` record events; `ping` and everything else are answered and
//! ignored.

use serde_json::Value;
use shiplog_domain::event::Field;
use shiplog_domain::{BuildStatus, DeploymentStatus, EventType, RepoProvider};

use crate::draft::Draft;
use crate::payload::{
    host, is_commit_id, is_null_commit, lookup, required_header, required_id, required_text, text,
    time,
};
use crate::{Delivery, Headers, MapError, Outcome};

const BUILD_PROVIDER: &str = "github-actions";

/// The `workflow_run` actions before completion, and the state they mean.
const RUN_ACTIONS: &[(&str, BuildStatus)] = &[
    ("requested", BuildStatus::Queued),
    ("in_progress", BuildStatus::Running),
];

/// A completed run's `conclusion`.
const CONCLUSIONS: &[(&str, BuildStatus)] = &[
    ("success", BuildStatus::Success),
    ("neutral", BuildStatus::Success),
    ("failure", BuildStatus::Failed),
    ("startup_failure", BuildStatus::Failed),
    ("action_required", BuildStatus::Failed),
    ("cancelled", BuildStatus::Cancelled),
    ("skipped", BuildStatus::Cancelled),
    ("stale", BuildStatus::Cancelled),
    ("timed_out", BuildStatus::TimedOut),
];

/// A `deployment_status`'s `state`. `inactive` (a deployment superseded by
/// a newer one to its environment) is absent on purpose: it changes nothing.
const DEPLOYMENT_STATES: &[(&str, DeploymentStatus)] = &[
    ("pending", DeploymentStatus::Pending),
    ("queued", DeploymentStatus::Pending),
    ("in_progress", DeploymentStatus::InProgress),
    ("success", DeploymentStatus::Ok),
    ("failure", DeploymentStatus::Failed),
    ("error", DeploymentStatus::Failed),
];

pub fn map(headers: &dyn Headers, body: &Value) -> Result<Delivery, MapError> {
    let id = required_header(headers, "X-GitHub-Delivery")?;
    let event = required_header(headers, "X-GitHub-Event")?;
    let action = text(body, "/action").unwrap_or_default();
    let outcome = match event.as_str() {
        "ping" => Outcome::Ignored("GitHub ping: the hook is set up".into()),
        "push" => push(body)?,
        "pull_request" => pull_request(body, action)?,
        "workflow_run" => workflow_run(body, action)?,
        "deployment" => deployment(body, action)?,
        "deployment_status" => deployment_status(body, action)?,
        "release" => release(body, action)?,
        other => Outcome::Ignored(format!("GitHub event {other} is not recorded")),
    };
    Ok(Delivery {
        id,
        repository: text(body, "/repository/name").map(str::to_owned),
        outcome,
    })
}

fn push(body: &Value) -> Result<Outcome, MapError> {
    let git_ref = required_text(body, "/ref")?;
    let Some(branch) = git_ref.strip_prefix("refs/heads/") else {
        return Ok(Outcome::Ignored(format!(
            "GitHub push to {git_ref}: only branch pushes are recorded"
        )));
    };
    let after = required_text(body, "/after")?;
    if body["deleted"] == true || is_null_commit(after) {
        return Ok(Outcome::Ignored(format!(
            "GitHub push deleting branch {branch}: deletions are not recorded"
        )));
    }
    let mut draft = Draft::new();
    draft
        .set(Field::CommitId, Some(after))
        .set(Field::Branch, Some(branch))
        .set(Field::CommitMsg, text(body, "/head_commit/message"))
        .set(Field::CommitUrl, text(body, "/head_commit/url"))
        .set(Field::AuthorName, text(body, "/head_commit/author/name"))
        .set(
            Field::AuthorUsername,
            text(body, "/head_commit/author/username"),
        )
        .time(Field::CommitTime, time(body, "/head_commit/timestamp")?);
    repository(&mut draft, body);
    Ok(Outcome::one(draft.create(EventType::Push)?))
}

/// A pull request's commit fields describe the pull request: its title, its
/// page and its author, for the head commit and branch. The payload carries
/// no time of that commit.
fn pull_request(body: &Value, action: &str) -> Result<Outcome, MapError> {
    if !matches!(action, "opened" | "reopened" | "synchronize") {
        return Ok(not_recorded("pull_request", action));
    }
    let mut draft = Draft::new();
    draft
        .set(
            Field::CommitId,
            Some(required_text(body, "/pull_request/head/sha")?),
        )
        .set(Field::Branch, text(body, "/pull_request/head/ref"))
        .set(Field::CommitMsg, text(body, "/pull_request/title"))
        .set(Field::CommitUrl, text(body, "/pull_request/html_url"))
        .set(
            Field::AuthorUsername,
            text(body, "/pull_request/user/login"),
        );
    repository(&mut draft, body);
    Ok(Outcome::one(draft.create(EventType::PullRequest)?))
}

fn workflow_run(body: &Value, action: &str) -> Result<Outcome, MapError> {
    let status = if action == "completed" {
        let conclusion = text(body, "/workflow_run/conclusion").unwrap_or("none");
        match lookup(CONCLUSIONS, conclusion) {
            Some(status) => status,
            None => {
                return Ok(Outcome::Ignored(format!(
                    "GitHub workflow_run conclusion {conclusion} is not recorded"
                )));
            }
        }
    } else {
        match lookup(RUN_ACTIONS, action) {
            Some(status) => status,
            None => return Ok(not_recorded("workflow_run", action)),
        }
    };
    let run_id = required_id(body, "/workflow_run/id")?;
    // Each attempt is its own BUILD, since a re-run ends on its own; the
    // first keeps the plain run id, the one in the run's URL.
    let build_id = match body["workflow_run"]["run_attempt"].as_u64() {
        Some(attempt) if attempt > 1 => format!("{run_id}.{attempt}"),
        _ => run_id,
    };
    let run = |pointer: &str| format!("/workflow_run{pointer}");
    let mut draft = Draft::new();
    draft
        .set(Field::BuildProvider, Some(BUILD_PROVIDER))
        .set(Field::BuildId, Some(&build_id))
        .set(Field::BuildUrl, text(body, &run("/html_url")))
        .set(
            Field::CommitId,
            Some(required_text(body, &run("/head_sha"))?),
        )
        .set(Field::Branch, text(body, &run("/head_branch")))
        .set(Field::CommitMsg, text(body, &run("/head_commit/message")))
        .set(
            Field::AuthorName,
            text(body, &run("/head_commit/author/name")),
        )
        .time(
            Field::CommitTime,
            time(body, &run("/head_commit/timestamp"))?,
        );
    repository(&mut draft, body);
    let start = time(body, &run("/run_started_at"))?;
    let updated = time(body, &run("/updated_at"))?;
    Ok(Outcome::one(draft.build(status, start, updated)?))
}

/// A new deployment has no status yet: it waits for its first one.
fn deployment(body: &Value, action: &str) -> Result<Outcome, MapError> {
    if action != "created" {
        return Ok(not_recorded("deployment", action));
    }
    deploy(body, DeploymentStatus::Pending)
}

fn deployment_status(body: &Value, action: &str) -> Result<Outcome, MapError> {
    if action != "created" {
        return Ok(not_recorded("deployment_status", action));
    }
    let state = required_text(body, "/deployment_status/state")?;
    match lookup(DEPLOYMENT_STATES, state) {
        Some(status) => deploy(body, status),
        None => Ok(Outcome::Ignored(format!(
            "GitHub deployment state {state} is not recorded"
        ))),
    }
}

/// The DEPLOY of the payload's `deployment`, keyed by its id, at `status`.
fn deploy(body: &Value, status: DeploymentStatus) -> Result<Outcome, MapError> {
    let env = required_text(body, "/deployment/environment")?;
    let mut draft = Draft::new();
    draft
        .set(
            Field::DeploymentId,
            Some(&required_id(body, "/deployment/id")?),
        )
        .set(Field::CommitId, text(body, "/deployment/sha"))
        .set(
            Field::AuthorUsername,
            text(body, "/deployment/creator/login"),
        );
    // A deployment may be made of a sha rather than a branch.
    if let Some(git_ref) = text(body, "/deployment/ref").filter(|r| !is_commit_id(r)) {
        draft.set(Field::Branch, Some(git_ref));
    }
    repository(&mut draft, body);
    let start = time(body, "/deployment/created_at")?;
    let changed = time(body, "/deployment_status/created_at")?;
    Ok(Outcome::one(draft.deploy(env, status, start, changed)?))
}

/// A release names its commit only as `target_commitish`, which is a branch
/// unless the release was made from a commit id.
fn release(body: &Value, action: &str) -> Result<Outcome, MapError> {
    if action != "published" {
        return Ok(not_recorded("release", action));
    }
    let mut draft = Draft::new();
    draft
        .set(
            Field::ReleaseVersion,
            Some(required_text(body, "/release/tag_name")?),
        )
        .set(Field::AuthorUsername, text(body, "/release/author/login"));
    if let Some(target) = text(body, "/release/target_commitish") {
        let field = if is_commit_id(target) {
            Field::CommitId
        } else {
            Field::Branch
        };
        draft.set(field, Some(target));
    }
    repository(&mut draft, body);
    Ok(Outcome::one(draft.create(EventType::Release)?))
}

/// The repo fields of every event. A host other than github.com is a
/// GitHub Enterprise Server.
fn repository(draft: &mut Draft, body: &Value) {
    let url = text(body, "/repository/html_url");
    let provider = match url.and_then(host) {
        Some(host) if !host.eq_ignore_ascii_case("github.com") => RepoProvider::GithubEnterprise,
        _ => RepoProvider::Github,
    };
    draft
        .set(Field::RepoName, text(body, "/repository/name"))
        .set(Field::RepoOwner, text(body, "/repository/owner/login"))
        .set(Field::RepoUrl, url)
        .set(Field::RepoProvider, Some(provider.as_str()));
}

fn not_recorded(event: &str, action: &str) -> Outcome {
    Outcome::Ignored(format!("GitHub {event} action {action:?} is not recorded"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use shiplog_domain::{EventFields, Timestamp};

    use super::*;
    use crate::Command;

    const SHA: &str = "6113728f27ae82c7b1a177c8d03f9e96e0adf246";

    fn deliver(event: &str, body: &Value) -> Result<Delivery, MapError> {
        map(
            &[("X-GitHub-Delivery", "d-1"), ("X-GitHub-Event", event)],
            body,
        )
    }

    fn outcome(event: &str, body: Value) -> Outcome {
        deliver(event, &body).unwrap().outcome
    }

    fn only(outcome: Outcome) -> Command {
        match outcome {
            Outcome::Record(mut commands) if commands.len() == 1 => commands.remove(0),
            other => panic!("expected one command, got {other:?}"),
        }
    }

    fn created(outcome: Outcome) -> (EventType, EventFields) {
        match only(outcome) {
            Command::Create(event) => (event.event_type, event.fields),
            other => panic!("expected a create, got {other:?}"),
        }
    }

    fn build(outcome: Outcome) -> EventFields {
        match only(outcome) {
            Command::Build {
                fields,
                parent_commit,
            } => {
                assert_eq!(parent_commit, fields.commit.commit_id);
                fields
            }
            other => panic!("expected a build, got {other:?}"),
        }
    }

    fn deploy(outcome: Outcome) -> EventFields {
        match only(outcome) {
            Command::Deploy {
                fields,
                release_commit,
            } => {
                assert_eq!(release_commit, fields.commit.commit_id);
                fields
            }
            other => panic!("expected a deploy, got {other:?}"),
        }
    }

    fn ignored(outcome: Outcome) -> String {
        match outcome {
            Outcome::Ignored(why) => why,
            other => panic!("expected it ignored, got {other:?}"),
        }
    }

    fn at(text: &str) -> Option<Timestamp> {
        Timestamp::parse(text)
    }

    fn repo() -> Value {
        json!({"name": "shop", "owner": {"login": "acme"}, "html_url": "https://github.com/acme/shop"})
    }

    fn push_body() -> Value {
        json!({
            "ref": "refs/heads/feature/login",
            "after": SHA,
            "deleted": false,
            "head_commit": {
                "id": SHA,
                "message": "Log in with a passkey",
                "timestamp": "2019-05-15T15:19:25-07:00",
                "url": format!("https://github.com/acme/shop/commit/{SHA}"),
                "author": {"name": "Mona Lisa", "username": "mona"}
            },
            "repository": repo()
        })
    }

    fn run_body(action: &str, conclusion: Option<&str>, attempt: u64) -> Value {
        json!({
            "action": action,
            "workflow_run": {
                "id": 289782451,
                "run_attempt": attempt,
                "conclusion": conclusion,
                "head_sha": SHA,
                "head_branch": "main",
                "html_url": "https://github.com/acme/shop/actions/runs/289782451",
                "run_started_at": "2020-10-05T16:33:49Z",
                "updated_at": "2020-10-05T16:40:00Z",
                "head_commit": {
                    "message": "Fix the cart",
                    "timestamp": "2020-10-05T16:32:07Z",
                    "author": {"name": "Mona Lisa"}
                }
            },
            "repository": repo()
        })
    }

    fn deployment_body(state: Option<&str>) -> Value {
        let mut body = json!({
            "action": "created",
            "deployment": {
                "id": 145988746,
                "sha": SHA,
                "ref": "main",
                "environment": "production",
                "created_at": "2019-05-15T15:20:53Z",
                "creator": {"login": "mona"}
            },
            "repository": repo()
        });
        if let Some(state) = state {
            body["deployment_status"] =
                json!({"state": state, "created_at": "2019-05-15T15:25:00Z"});
        }
        body
    }

    #[test]
    fn a_push_to_a_branch_records_a_push_of_its_head_commit() {
        let delivery = deliver("push", &push_body()).unwrap();
        assert_eq!(delivery.id, "d-1");
        assert_eq!(delivery.repository.as_deref(), Some("shop"));
        let (event_type, fields) = created(delivery.outcome);
        assert_eq!(event_type, EventType::Push);
        let c = &fields.commit;
        assert_eq!(c.commit_id.as_deref(), Some(SHA));
        assert_eq!(c.branch.as_deref(), Some("feature/login"));
        assert_eq!(c.commit_msg.as_deref(), Some("Log in with a passkey"));
        assert_eq!(c.commit_time, at("2019-05-15T22:19:25Z"));
        assert_eq!(
            c.commit_url.as_deref(),
            Some(format!("https://github.com/acme/shop/commit/{SHA}").as_str())
        );
        assert_eq!(c.author_name.as_deref(), Some("Mona Lisa"));
        assert_eq!(c.author_username.as_deref(), Some("mona"));
        assert_eq!(c.repo_name.as_deref(), Some("shop"));
        assert_eq!(c.repo_owner.as_deref(), Some("acme"));
        assert_eq!(c.repo_url.as_deref(), Some("https://github.com/acme/shop"));
        assert_eq!(c.repo_provider, Some(RepoProvider::Github));
    }

    #[test]
    fn tag_pushes_and_branch_deletions_are_ignored() {
        let mut tag = push_body();
        tag["ref"] = json!("refs/tags/v1.0.0");
        assert!(ignored(outcome("push", tag)).contains("refs/tags/v1.0.0"));
        let mut deleted = push_body();
        deleted["deleted"] = json!(true);
        deleted["after"] = json!("0000000000000000000000000000000000000000");
        deleted["head_commit"] = Value::Null;
        assert!(ignored(outcome("push", deleted)).contains("deleting branch feature/login"));
    }

    #[test]
    fn a_repository_on_another_host_is_github_enterprise() {
        let mut body = push_body();
        body["repository"]["html_url"] = json!("https://git.acme.example/acme/shop");
        let (_, fields) = created(outcome("push", body));
        assert_eq!(
            fields.commit.repo_provider,
            Some(RepoProvider::GithubEnterprise)
        );
    }

    #[test]
    fn an_over_long_commit_message_is_cut_not_refused() {
        let mut body = push_body();
        body["head_commit"]["message"] = json!("x".repeat(100_000));
        let (_, fields) = created(outcome("push", body));
        assert_eq!(fields.commit.commit_msg.unwrap().len(), 64 * 1024);
    }

    #[test]
    fn opened_reopened_and_synchronized_pull_requests_record_their_head() {
        for action in ["opened", "reopened", "synchronize"] {
            let body = json!({
                "action": action,
                "pull_request": {
                    "title": "Passkeys",
                    "html_url": "https://github.com/acme/shop/pull/2",
                    "user": {"login": "mona"},
                    "head": {"ref": "feature/login", "sha": SHA},
                    "base": {"ref": "main", "sha": "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"}
                },
                "repository": repo()
            });
            let (event_type, fields) = created(outcome("pull_request", body));
            assert_eq!(event_type, EventType::PullRequest);
            let c = &fields.commit;
            assert_eq!(c.commit_id.as_deref(), Some(SHA), "{action}");
            assert_eq!(c.branch.as_deref(), Some("feature/login"));
            assert_eq!(c.commit_msg.as_deref(), Some("Passkeys"));
            assert_eq!(
                c.commit_url.as_deref(),
                Some("https://github.com/acme/shop/pull/2")
            );
            assert_eq!(c.author_username.as_deref(), Some("mona"));
            assert_eq!(c.repo_name.as_deref(), Some("shop"));
        }
        for action in ["closed", "edited", "labeled"] {
            let body = json!({"action": action, "repository": repo()});
            assert!(ignored(outcome("pull_request", body)).contains(action));
        }
    }

    #[test]
    fn a_workflow_run_is_queued_then_running_then_concluded() {
        let queued = build(outcome("workflow_run", run_body("requested", None, 1)));
        assert_eq!(queued.build_status, Some(BuildStatus::Queued));
        assert_eq!(queued.build_provider.as_deref(), Some("github-actions"));
        assert_eq!(queued.build_id.as_deref(), Some("289782451"));
        assert_eq!(
            queued.build_url.as_deref(),
            Some("https://github.com/acme/shop/actions/runs/289782451")
        );
        assert_eq!(queued.build_start, at("2020-10-05T16:33:49Z"));
        assert_eq!(queued.build_end, None);
        let c = &queued.commit;
        assert_eq!(c.commit_id.as_deref(), Some(SHA));
        assert_eq!(c.branch.as_deref(), Some("main"));
        assert_eq!(c.commit_msg.as_deref(), Some("Fix the cart"));
        assert_eq!(c.commit_time, at("2020-10-05T16:32:07Z"));
        assert_eq!(c.author_name.as_deref(), Some("Mona Lisa"));
        assert_eq!(c.repo_provider, Some(RepoProvider::Github));

        let running = build(outcome("workflow_run", run_body("in_progress", None, 1)));
        assert_eq!(running.build_status, Some(BuildStatus::Running));
        assert_eq!(running.build_end, None);

        for (conclusion, status) in CONCLUSIONS {
            let done = build(outcome(
                "workflow_run",
                run_body("completed", Some(conclusion), 1),
            ));
            assert_eq!(done.build_status, Some(*status), "{conclusion}");
            assert_eq!(done.build_end, at("2020-10-05T16:40:00Z"), "{conclusion}");
        }
    }

    #[test]
    fn the_spec_table_of_conclusions_holds() {
        use BuildStatus::*;
        for (conclusion, status) in [
            ("success", Success),
            ("failure", Failed),
            ("startup_failure", Failed),
            ("action_required", Failed),
            ("cancelled", Cancelled),
            ("skipped", Cancelled),
            ("stale", Cancelled),
            ("timed_out", TimedOut),
            ("neutral", Success),
        ] {
            assert_eq!(
                lookup(CONCLUSIONS, conclusion),
                Some(status),
                "{conclusion}"
            );
        }
    }

    #[test]
    fn a_later_attempt_is_its_own_build() {
        let second = build(outcome("workflow_run", run_body("requested", None, 2)));
        assert_eq!(second.build_id.as_deref(), Some("289782451.2"));
    }

    #[test]
    fn a_completed_run_without_an_update_time_ends_at_its_start() {
        let mut body = run_body("completed", Some("failure"), 1);
        body["workflow_run"]["updated_at"] = Value::Null;
        let done = build(outcome("workflow_run", body));
        assert_eq!(done.build_end, at("2020-10-05T16:33:49Z"));
    }

    #[test]
    fn unknown_run_actions_and_conclusions_are_ignored() {
        let why = ignored(outcome("workflow_run", run_body("completed", None, 1)));
        assert!(why.contains("conclusion none"), "{why}");
        let why = ignored(outcome(
            "workflow_run",
            run_body("completed", Some("exploded"), 1),
        ));
        assert!(why.contains("exploded"), "{why}");
        assert!(ignored(outcome("workflow_run", run_body("waiting", None, 1))).contains("waiting"));
    }

    #[test]
    fn a_new_deployment_is_a_pending_deploy() {
        let fields = deploy(outcome("deployment", deployment_body(None)));
        assert_eq!(fields.deployment_id.as_deref(), Some("145988746"));
        assert_eq!(fields.env_name.as_deref(), Some("production"));
        assert_eq!(fields.deployment_status, Some(DeploymentStatus::Pending));
        assert_eq!(fields.deployment_start, at("2019-05-15T15:20:53Z"));
        assert_eq!(fields.deployment_end, None);
        let c = &fields.commit;
        assert_eq!(c.commit_id.as_deref(), Some(SHA));
        assert_eq!(c.branch.as_deref(), Some("main"));
        assert_eq!(c.author_username.as_deref(), Some("mona"));
        assert_eq!(c.repo_name.as_deref(), Some("shop"));
    }

    #[test]
    fn deployment_states_move_the_deploy_and_inactive_is_ignored() {
        use DeploymentStatus::*;
        for (state, status) in [
            ("pending", Pending),
            ("queued", Pending),
            ("in_progress", InProgress),
            ("success", Ok),
            ("failure", Failed),
            ("error", Failed),
        ] {
            let fields = deploy(outcome("deployment_status", deployment_body(Some(state))));
            assert_eq!(fields.deployment_status, Some(status), "{state}");
            assert_eq!(fields.deployment_id.as_deref(), Some("145988746"));
            let end = status
                .is_terminal()
                .then(|| at("2019-05-15T15:25:00Z").unwrap());
            assert_eq!(fields.deployment_end, end, "{state}");
        }
        let why = ignored(outcome(
            "deployment_status",
            deployment_body(Some("inactive")),
        ));
        assert!(why.contains("inactive"), "{why}");
    }

    #[test]
    fn deployment_environments_become_env_names() {
        let mut body = deployment_body(None);
        body["deployment"]["environment"] = json!("Production / EU");
        body["deployment"]["ref"] = json!(SHA);
        let fields = deploy(outcome("deployment", body));
        assert_eq!(fields.env_name.as_deref(), Some("Production-EU"));
        assert_eq!(fields.commit.branch, None, "a sha is not a branch");
    }

    #[test]
    fn a_published_release_records_its_tag() {
        let body = |target: &str| {
            json!({
                "action": "published",
                "release": {"tag_name": "v1.2.0", "target_commitish": target, "author": {"login": "mona"}},
                "repository": repo()
            })
        };
        let (event_type, fields) = created(outcome("release", body("main")));
        assert_eq!(event_type, EventType::Release);
        assert_eq!(fields.release_version.as_deref(), Some("v1.2.0"));
        assert_eq!(fields.commit.branch.as_deref(), Some("main"));
        assert_eq!(fields.commit.commit_id, None);
        assert_eq!(fields.commit.author_username.as_deref(), Some("mona"));
        let (_, fields) = created(outcome("release", body(SHA)));
        assert_eq!(fields.commit.commit_id.as_deref(), Some(SHA));
        assert_eq!(fields.commit.branch, None);
        let mut drafted = body("main");
        drafted["action"] = json!("created");
        assert!(ignored(outcome("release", drafted)).contains("created"));
    }

    #[test]
    fn pings_and_unused_events_are_ignored() {
        let delivery = deliver(
            "ping",
            &json!({"zen": "Keep it logically awesome.", "repository": repo()}),
        )
        .unwrap();
        assert_eq!(delivery.repository.as_deref(), Some("shop"));
        assert!(ignored(delivery.outcome).contains("ping"));
        for event in ["check_run", "workflow_job", "issues", "star"] {
            assert!(ignored(outcome(event, json!({"action": "created"}))).contains(event));
        }
    }

    #[test]
    fn a_delivery_without_its_id_or_event_is_refused() {
        let body = push_body();
        let err = map(&[("X-GitHub-Event", "push")], &body).unwrap_err();
        assert!(err.0.contains("X-GitHub-Delivery"), "{err:?}");
        let err = map(&[("X-GitHub-Delivery", "d-1")], &body).unwrap_err();
        assert!(err.0.contains("X-GitHub-Event"), "{err:?}");
    }

    #[test]
    fn payloads_missing_what_they_are_about_are_refused() {
        let mut body = push_body();
        body.as_object_mut().unwrap().remove("after");
        assert!(deliver("push", &body).unwrap_err().0.contains("/after"));
        let mut body = run_body("requested", None, 1);
        body["workflow_run"]["id"] = Value::Null;
        assert!(deliver("workflow_run", &body).is_err());
        let mut body = deployment_body(None);
        body["deployment"]["environment"] = json!("///");
        assert!(deliver("deployment", &body).unwrap_err().0.contains("///"));
        let mut body = push_body();
        body["head_commit"]["timestamp"] = json!("last tuesday");
        assert!(deliver("push", &body).unwrap_err().0.contains("timestamp"));
    }
}
