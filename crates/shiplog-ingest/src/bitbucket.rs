//! Bitbucket Cloud's webhooks: `repo:push`, `pullrequest:created` and
//! `updated`, and `repo:commit_status_created` and `updated` record events;
//! every other event key is answered and ignored.

use serde_json::Value;
use shiplog_domain::event::Field;
use shiplog_domain::{BuildStatus, EventType, RepoProvider};

use crate::draft::Draft;
use crate::payload::{
    before_last_segment, is_commit_id, last_segment, lookup, required_header, required_text, text,
    time,
};
use crate::{Delivery, Headers, MapError, Outcome};

const BUILD_PROVIDER: &str = "bitbucket";

/// A commit status's `state`.
const COMMIT_STATES: &[(&str, BuildStatus)] = &[
    ("INPROGRESS", BuildStatus::Running),
    ("SUCCESSFUL", BuildStatus::Success),
    ("FAILED", BuildStatus::Failed),
    ("STOPPED", BuildStatus::Cancelled),
];

pub fn map(headers: &dyn Headers, body: &Value) -> Result<Delivery, MapError> {
    let id = required_header(headers, "X-Request-UUID")?;
    let event = required_header(headers, "X-Event-Key")?;
    let outcome = match event.as_str() {
        "repo:push" => push(body)?,
        "pullrequest:created" | "pullrequest:updated" => pull_request(body)?,
        "repo:commit_status_created" | "repo:commit_status_updated" => commit_status(body)?,
        other => Outcome::Ignored(format!("Bitbucket event {other} is not recorded")),
    };
    Ok(Delivery {
        id,
        repository: text(body, "/repository/name").map(str::to_owned),
        outcome,
    })
}

/// One PUSH per branch the push moved or created. A change whose `new` is
/// null deleted its branch; tags (and Mercurial bookmarks of old) are not
/// branches.
fn push(body: &Value) -> Result<Outcome, MapError> {
    let changes = body["push"]["changes"].as_array().map(Vec::as_slice);
    let mut commands = Vec::new();
    for change in changes.unwrap_or_default() {
        let new = &change["new"];
        if new["type"] != "branch" {
            continue;
        }
        let mut draft = Draft::new();
        commit(&mut draft, &new["target"])?;
        draft
            .set(Field::CommitId, Some(required_text(new, "/target/hash")?))
            .set(Field::Branch, Some(required_text(new, "/name")?));
        repository(&mut draft, body);
        commands.push(draft.create(EventType::Push)?);
    }
    Ok(if commands.is_empty() {
        Outcome::Ignored(
            "Bitbucket push without a branch updated: deletions and tags are not recorded".into(),
        )
    } else {
        Outcome::Record(commands)
    })
}

/// The commit fields describe the pull request, as for GitHub: its title,
/// page and author. Bitbucket names the source commit by an abbreviated
/// hash (12 digits), which is recorded as sent.
fn pull_request(body: &Value) -> Result<Outcome, MapError> {
    let pr = &body["pullrequest"];
    let mut draft = Draft::new();
    draft
        .set(
            Field::CommitId,
            Some(required_text(body, "/pullrequest/source/commit/hash")?),
        )
        .set(Field::Branch, text(pr, "/source/branch/name"))
        .set(Field::CommitMsg, text(pr, "/title"))
        .set(Field::CommitUrl, text(pr, "/links/html/href"))
        .set(Field::AuthorName, text(pr, "/author/display_name"))
        .set(Field::AuthorUsername, text(pr, "/author/nickname"));
    repository(&mut draft, body);
    Ok(Outcome::one(draft.create(EventType::PullRequest)?))
}

/// One BUILD per commit-status key and commit, `key@hash`: Bitbucket keys a
/// status by both, and a key is reused for every commit a tool builds.
fn commit_status(body: &Value) -> Result<Outcome, MapError> {
    let status = &body["commit_status"];
    let state = required_text(body, "/commit_status/state")?;
    let Some(build_status) = lookup(COMMIT_STATES, state) else {
        return Ok(Outcome::Ignored(format!(
            "Bitbucket commit status state {state} is not recorded"
        )));
    };
    let key = required_text(body, "/commit_status/key")?;
    let hash = status_commit(status)
        .ok_or_else(|| MapError("The payload names no commit of the commit status".into()))?;
    let mut draft = Draft::new();
    commit(&mut draft, &status["commit"])?;
    draft
        .set(Field::CommitId, Some(hash))
        .set(Field::BuildProvider, Some(BUILD_PROVIDER))
        .set(Field::BuildId, Some(&format!("{key}@{hash}")))
        .set(Field::BuildUrl, text(status, "/url"))
        .set(Field::Branch, text(status, "/refname"));
    repository(&mut draft, body);
    let start = time(status, "/created_on")?;
    let updated = time(status, "/updated_on")?;
    Ok(Outcome::one(draft.build(build_status, start, updated)?))
}

/// The full hash of a status's commit: its `commit` object in deliveries,
/// else the end of its `links.commit` API URL, the only reference in
/// Atlassian's documented shape.
fn status_commit(status: &Value) -> Option<&str> {
    text(status, "/commit/hash").or_else(|| {
        text(status, "/links/commit/href")
            .map(last_segment)
            .filter(|hash| is_commit_id(hash))
    })
}

/// The fields of a commit object (`hash`, `message`, `date`, `author` with
/// its `raw` "Name <e-mail>" and, when Bitbucket knows the account, `user`).
fn commit(draft: &mut Draft, commit: &Value) -> Result<(), MapError> {
    let raw_name = text(commit, "/author/raw")
        .map(|raw| raw.split('<').next().unwrap_or(raw).trim())
        .filter(|name| !name.is_empty());
    draft
        .set(Field::CommitId, text(commit, "/hash"))
        .set(Field::CommitMsg, text(commit, "/message"))
        .set(Field::CommitUrl, text(commit, "/links/html/href"))
        .set(
            Field::AuthorName,
            text(commit, "/author/user/display_name").or(raw_name),
        )
        .set(Field::AuthorUsername, text(commit, "/author/user/nickname"))
        .time(Field::CommitTime, time(commit, "/date")?);
    Ok(())
}

/// The repo fields: `name` as sent (it may differ from the slug in
/// `full_name` by case or spaces), the workspace from `full_name` as owner.
fn repository(draft: &mut Draft, body: &Value) {
    draft
        .set(Field::RepoName, text(body, "/repository/name"))
        .set(
            Field::RepoOwner,
            text(body, "/repository/full_name").and_then(before_last_segment),
        )
        .set(Field::RepoUrl, text(body, "/repository/links/html/href"))
        .set(Field::RepoProvider, Some(RepoProvider::Bitbucket.as_str()));
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use shiplog_domain::{EventFields, Timestamp};

    use super::*;
    use crate::Command;

    const SHA: &str = "0b6c06edfcb49802d7c63ba1b01eabd573c1bade";

    fn deliver(event: &str, body: &Value) -> Result<Delivery, MapError> {
        map(&[("X-Request-UUID", "req-1"), ("X-Event-Key", event)], body)
    }

    fn commands(event: &str, body: Value) -> Vec<Command> {
        match deliver(event, &body).unwrap().outcome {
            Outcome::Record(commands) => commands,
            other => panic!("expected commands, got {other:?}"),
        }
    }

    fn created(command: Command) -> (EventType, EventFields) {
        match command {
            Command::Create(event) => (event.event_type, event.fields),
            other => panic!("expected a create, got {other:?}"),
        }
    }

    fn build(event: &str, body: Value) -> (EventFields, Option<String>) {
        match commands(event, body).pop() {
            Some(Command::Build {
                fields,
                parent_commit,
            }) => (fields, parent_commit),
            other => panic!("expected a build, got {other:?}"),
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

    fn repository_object() -> Value {
        json!({
            "name": "XO",
            "full_name": "acme/xo",
            "links": {"html": {"href": "https://bitbucket.org/acme/xo"}}
        })
    }

    fn commit_object(hash: &str) -> Value {
        json!({
            "type": "commit",
            "hash": hash,
            "date": "2024-07-10T09:05:08+00:00",
            "message": "XO-466: Removed 319 from excluded types\n",
            "author": {"raw": "Marc Smith <marc@example.com>", "user": {"display_name": "Marc", "nickname": "marc"}},
            "links": {"html": {"href": format!("https://bitbucket.org/acme/xo/commits/{hash}")}}
        })
    }

    fn assert_repository(fields: &EventFields) {
        let c = &fields.commit;
        assert_eq!(c.repo_name.as_deref(), Some("XO"));
        assert_eq!(c.repo_owner.as_deref(), Some("acme"));
        assert_eq!(c.repo_url.as_deref(), Some("https://bitbucket.org/acme/xo"));
        assert_eq!(c.repo_provider, Some(RepoProvider::Bitbucket));
    }

    fn status_body(state: &str) -> Value {
        json!({
            "commit_status": {
                "key": "606642714",
                "type": "build",
                "state": state,
                "refname": "feature/XO-466",
                "url": "https://bitbucket.org/acme/xo/pipelines/results/3506",
                "created_on": "2024-07-10T09:06:38.811942+00:00",
                "updated_on": "2024-07-10T09:09:41.283466+00:00",
                "commit": commit_object(SHA)
            },
            "repository": repository_object()
        })
    }

    #[test]
    fn a_push_records_one_push_per_branch_moved_or_created() {
        let other = "5ecffa3874e96920f24a2b3c0d0038e47d5cd1a4";
        let body = json!({
            "push": {"changes": [
                {"new": {"type": "branch", "name": "feature/XO-466", "target": commit_object(SHA)}, "old": null},
                {"new": null, "old": {"type": "branch", "name": "gone"}},
                {"new": {"type": "tag", "name": "v1", "target": commit_object(other)}},
                {"new": {"type": "branch", "name": "main", "target": commit_object(other)}}
            ]},
            "repository": repository_object()
        });
        let delivery = deliver("repo:push", &body).unwrap();
        assert_eq!(delivery.id, "req-1");
        assert_eq!(delivery.repository.as_deref(), Some("XO"));
        let pushes: Vec<_> = commands("repo:push", body)
            .into_iter()
            .map(created)
            .collect();
        assert_eq!(pushes.len(), 2);
        let (event_type, fields) = &pushes[0];
        assert_eq!(*event_type, EventType::Push);
        let c = &fields.commit;
        assert_eq!(c.commit_id.as_deref(), Some(SHA));
        assert_eq!(c.branch.as_deref(), Some("feature/XO-466"));
        assert_eq!(
            c.commit_msg.as_deref(),
            Some("XO-466: Removed 319 from excluded types\n")
        );
        assert_eq!(c.commit_time, at("2024-07-10T09:05:08Z"));
        assert_eq!(
            c.commit_url.as_deref(),
            Some(format!("https://bitbucket.org/acme/xo/commits/{SHA}").as_str())
        );
        assert_eq!(c.author_name.as_deref(), Some("Marc"));
        assert_eq!(c.author_username.as_deref(), Some("marc"));
        assert_repository(fields);
        let (_, second) = &pushes[1];
        assert_eq!(second.commit.branch.as_deref(), Some("main"));
        assert_eq!(second.commit.commit_id.as_deref(), Some(other));
    }

    #[test]
    fn an_author_without_an_account_is_named_from_the_raw_signature() {
        let mut target = commit_object(SHA);
        target["author"] = json!({"raw": "Marc Smith <marc@example.com>"});
        let body = json!({
            "push": {"changes": [{"new": {"type": "branch", "name": "main", "target": target}}]},
            "repository": repository_object()
        });
        let (_, fields) = created(commands("repo:push", body).remove(0));
        assert_eq!(fields.commit.author_name.as_deref(), Some("Marc Smith"));
        assert_eq!(fields.commit.author_username, None);
    }

    #[test]
    fn a_branch_change_without_its_commit_is_refused() {
        let body = json!({
            "push": {"changes": [{"new": {"type": "branch", "name": "main", "target": {}}}]},
            "repository": repository_object()
        });
        let err = deliver("repo:push", &body).unwrap_err();
        assert!(err.0.contains("/target/hash"), "{err:?}");
    }

    #[test]
    fn a_push_of_only_deletions_and_tags_is_ignored() {
        let body = json!({
            "push": {"changes": [
                {"new": null, "old": {"type": "branch", "name": "gone"}},
                {"new": {"type": "tag", "name": "v1", "target": commit_object(SHA)}}
            ]},
            "repository": repository_object()
        });
        assert!(ignored("repo:push", body).contains("deletions and tags"));
    }

    #[test]
    fn created_and_updated_pull_requests_record_their_source() {
        for event in ["pullrequest:created", "pullrequest:updated"] {
            let body = json!({
                "pullrequest": {
                    "id": 437,
                    "title": "XO-466 Create overview",
                    "state": "OPEN",
                    "author": {"display_name": "Marc", "nickname": "marc"},
                    "source": {"branch": {"name": "feature/XO-466"}, "commit": {"hash": "0b6c06edfcb4"}},
                    "destination": {"branch": {"name": "main"}, "commit": {"hash": "1986c2284946"}},
                    "links": {"html": {"href": "https://bitbucket.org/acme/xo/pull-requests/437"}}
                },
                "repository": repository_object()
            });
            let (event_type, fields) = created(commands(event, body).remove(0));
            assert_eq!(event_type, EventType::PullRequest);
            let c = &fields.commit;
            assert_eq!(c.commit_id.as_deref(), Some("0b6c06edfcb4"), "{event}");
            assert_eq!(c.branch.as_deref(), Some("feature/XO-466"));
            assert_eq!(c.commit_msg.as_deref(), Some("XO-466 Create overview"));
            assert_eq!(
                c.commit_url.as_deref(),
                Some("https://bitbucket.org/acme/xo/pull-requests/437")
            );
            assert_eq!(c.author_name.as_deref(), Some("Marc"));
            assert_eq!(c.author_username.as_deref(), Some("marc"));
            assert_repository(&fields);
        }
    }

    #[test]
    fn a_commit_status_is_one_build_per_key_and_commit() {
        use BuildStatus::*;
        for (state, expected) in [
            ("INPROGRESS", Running),
            ("SUCCESSFUL", Success),
            ("FAILED", Failed),
            ("STOPPED", Cancelled),
        ] {
            let (fields, parent_commit) = build("repo:commit_status_updated", status_body(state));
            assert_eq!(fields.build_status, Some(expected), "{state}");
            assert_eq!(parent_commit.as_deref(), Some(SHA));
            assert_eq!(fields.build_provider.as_deref(), Some("bitbucket"));
            assert_eq!(
                fields.build_id.as_deref(),
                Some(format!("606642714@{SHA}").as_str())
            );
            assert_eq!(
                fields.build_url.as_deref(),
                Some("https://bitbucket.org/acme/xo/pipelines/results/3506")
            );
            assert_eq!(fields.build_start, at("2024-07-10T09:06:38.811Z"));
            let end = expected
                .is_terminal()
                .then(|| at("2024-07-10T09:09:41.283Z").unwrap());
            assert_eq!(fields.build_end, end, "{state}");
            let c = &fields.commit;
            assert_eq!(c.branch.as_deref(), Some("feature/XO-466"));
            assert_eq!(c.commit_id.as_deref(), Some(SHA));
            assert_eq!(c.author_name.as_deref(), Some("Marc"));
            assert_eq!(c.commit_time, at("2024-07-10T09:05:08Z"));
            assert_repository(&fields);
        }
        let why = ignored("repo:commit_status_created", status_body("PENDING"));
        assert!(why.contains("PENDING"), "{why}");
    }

    #[test]
    fn a_commit_status_without_a_commit_object_takes_its_hash_from_the_commit_link() {
        let mut body = status_body("INPROGRESS");
        let status = body["commit_status"].as_object_mut().unwrap();
        status.remove("commit");
        status.insert(
            "links".into(),
            json!({"commit": {"href": format!("https://api.bitbucket.org/2.0/repositories/acme/xo/commit/{SHA}")}}),
        );
        let (fields, parent_commit) = build("repo:commit_status_created", body);
        assert_eq!(parent_commit.as_deref(), Some(SHA));
        assert_eq!(fields.commit.commit_msg, None);
        let mut body = status_body("INPROGRESS");
        body["commit_status"]["commit"] = Value::Null;
        let err = deliver("repo:commit_status_created", &body).unwrap_err();
        assert!(err.0.contains("commit"), "{err:?}");
    }

    #[test]
    fn other_event_keys_are_ignored() {
        for event in [
            "pullrequest:fulfilled",
            "pullrequest:rejected",
            "repo:fork",
            "issue:created",
        ] {
            assert!(ignored(event, json!({"repository": repository_object()})).contains(event));
        }
    }

    #[test]
    fn a_delivery_without_its_request_uuid_or_event_key_is_refused() {
        let body = json!({"repository": repository_object()});
        let err = map(&[("X-Event-Key", "repo:push")], &body).unwrap_err();
        assert!(err.0.contains("X-Request-UUID"), "{err:?}");
        let err = map(&[("X-Request-UUID", "req-1")], &body).unwrap_err();
        assert!(err.0.contains("X-Event-Key"), "{err:?}");
    }
}
