//! CDEvents both ways, through the real server. Out: real writes over
//! HTTP covering every mapped type, then each change's CDEvent asked of the
//! store and validated against the official v0.5.1 JSON schemas. In: every
//! conformance example of a type shiplog records, sent through
//! `POST /:username/apps/:app/cdevents` and what it recorded read back;
//! the four modes; repeats; refusals. The schemas and examples live in the
//! shared fixtures (`shared/fixtures/cdevents/v0.5.1/` beside the checkout)
//! and are never copied here; without them those tests say so and pass.

use std::path::{Path, PathBuf};

use reqwest::Method;
use serde_json::{Value, json};
use shiplog_domain::{Order, PageRequest};

use crate::helpers::{Answer, TestApp};
use crate::support::{assert_error, assert_ok, list_all_as};

/// The fixtures' `cdevents/v0.5.1/` folder, or `None`, said on stderr.
fn fixtures_dir(test: &str) -> Option<PathBuf> {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/cdevents/v0.5.1");
    if dir.join("schemas").is_dir() {
        return Some(dir);
    }
    eprintln!(
        "cdevents::{test}: the shared fixtures were not found at {}; skipped",
        dir.display()
    );
    None
}

fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The `links/…` schemas every event schema refers to, from the folder.
struct LocalLinks(PathBuf);

impl jsonschema::Retrieve for LocalLinks {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let name = uri
            .as_str()
            .strip_prefix("https://cdevents.dev/0.5.1/schema/links/")
            .ok_or_else(|| format!("no local schema for {}", uri.as_str()))?;
        Ok(read_json(&self.0.join(format!("{name}.json"))))
    }
}

/// The errors of a CDEvent against the official schema of its type, with
/// formats (`uri`, `date-time`, …) checked too.
fn schema_errors(dir: &Path, cdevent: &Value) -> Vec<String> {
    let kind = cdevent["context"]["type"].as_str().expect("context.type");
    let mut parts = kind
        .strip_prefix("dev.cdevents.")
        .expect("a CDEvents type")
        .split('.');
    let file = format!("{}{}.json", parts.next().unwrap(), parts.next().unwrap());
    let schema = read_json(&dir.join("schemas").join(file));
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .with_retriever(LocalLinks(dir.join("schemas/links")))
        .build(&schema)
        .unwrap_or_else(|e| panic!("the schema of {kind}: {e}"));
    validator
        .iter_errors(cdevent)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// POSTs `body` to `/<user>/apps/<app>/cdevents` with `token` and `headers`.
async fn send(
    app: &TestApp,
    (user, token): (&str, &str),
    app_name: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    let url = app.url_with_token(&format!("/{user}/apps/{app_name}/cdevents"), token);
    app.send_with_headers(Method::POST, &url, Some(body), headers)
        .await
}

async fn post_json(app: &TestApp, app_name: &str, body: &Value) -> Answer {
    let bytes = serde_json::to_vec(body).unwrap();
    send(app, ("jdoe", &app.token), app_name, &[], &bytes).await
}

/// The event ids of a one-event answer, which must be exactly Deliver's
/// answer without `delivery`.
#[track_caller]
fn answered_ids(answer: &Answer, duplicate: bool) -> Vec<String> {
    assert_ok(answer);
    let keys: Vec<&str> = answer
        .json
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["event_ids", "duplicate", "ignored"],
        "{}",
        answer.text
    );
    assert_eq!(answer.json["duplicate"], duplicate, "{}", answer.text);
    assert_eq!(answer.json["ignored"], Value::Null, "{}", answer.text);
    answer.json["event_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().expect("ids are strings").to_owned())
        .collect()
}

async fn get_event(app: &TestApp, (user, token): (&str, &str), app_name: &str, id: &str) -> Value {
    let url = app.url_with_token(&format!("/{user}/apps/{app_name}/events/{id}"), token);
    let answer = app.send_raw(Method::GET, &url, None).await;
    assert_ok(&answer);
    answer.json["event"].clone()
}

async fn events_as(app: &TestApp, (user, token): (&str, &str), app_name: &str) -> Vec<Value> {
    let path = format!("/{user}/apps/{app_name}/events?max_results=100&order=asc");
    list_all_as(app, token, &path, "events").await
}

/// Every CDEvent the store makes of the account's changes, in change order.
async fn emitted(app: &TestApp) -> Vec<Value> {
    let store = &app.server.store;
    let account = store.find_account("jdoe").await.unwrap();
    let page = PageRequest {
        order: Order::Asc,
        limit: 1000,
        after: None,
    };
    let mut events = Vec::new();
    for change in store.list_changes(&account, &page).await.unwrap() {
        let first = store.cdevent(&account, &change, &app.base).await.unwrap();
        let again = store.cdevent(&account, &change, &app.base).await.unwrap();
        assert_eq!(
            first, again,
            "change {} gives one CDEvent",
            change.change_id
        );
        events.extend(first);
    }
    events
}

fn kinds(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            let kind = e["context"]["type"].as_str().unwrap();
            kind.trim_start_matches("dev.cdevents.").to_owned()
        })
        .collect()
}

async fn create(app: &TestApp, kind: &str, body: Value) -> i64 {
    app.create_event("web", kind, body).await
}

async fn update(app: &TestApp, id: i64, body: Value) {
    let answer = app.post(&format!("/jdoe/apps/web/events/{id}"), body).await;
    assert_ok(&answer);
}

#[tokio::test]
async fn every_cdevent_shiplog_emits_follows_the_mapping_and_validates_against_the_schemas() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    let commit = "1234567890123456789012345678901234567890";
    let push = create(
        &app,
        "pushEvent",
        json!({"commit_id": commit, "branch": "main", "repo_owner": "jdoe", "repo_name": "web",
               "repo_url": "https://github.example.com/jdoe/web", "commit_msg": "Ship it"}),
    )
    .await;
    for message in ["Open the PR", "Push to the PR"] {
        create(
            &app,
            "pullRequestEvent",
            json!({"branch": "feature-x", "commit_msg": message, "repo_name": "web"}),
        )
        .await;
    }
    let build = create(
        &app,
        "buildEvent",
        json!({"build_status": "Queued", "parent_event_id": push.to_string(),
               "build_url": "https://ci.example.com/runs/1"}),
    )
    .await;
    update(&app, build, json!({"build_status": "Running"})).await;
    update(
        &app,
        build,
        json!({"build_status": "Success", "build_end": "2030-01-01T00:00:00Z"}),
    )
    .await;
    for status in ["Failed", "Cancelled", "TimedOut"] {
        create(
            &app,
            "buildEvent",
            json!({"build_status": status, "build_end": "2030-01-01T00:00:00Z"}),
        )
        .await;
    }
    create(&app, "buildEvent", json!({"build_status": "Waiting"})).await;
    let release = create(
        &app,
        "releaseEvent",
        json!({"release_version": "v1", "parent_event_id": build.to_string()}),
    )
    .await;
    create(&app, "releaseEvent", json!({"release_version": "v2"})).await;
    let deploy = |version: &str, status: &str| json!({"env_name": "production", "release_version": version, "deployment_status": status});
    create(&app, "deployEvent", deploy("v1", "Ok")).await;
    let upgrade = create(&app, "deployEvent", deploy("v2", "InProgress")).await;
    update(&app, upgrade, json!({"deployment_status": "Ok"})).await;
    create(&app, "deployEvent", deploy("v1", "Ok")).await;
    let incident = create(
        &app,
        "incidentEvent",
        json!({"env_name": "production", "title": "Checkout is down"}),
    )
    .await;
    update(
        &app,
        incident,
        json!({"incident_status": "Resolved", "incident_end": "2030-01-01T00:00:00Z"}),
    )
    .await;

    let events = emitted(&app).await;
    assert_eq!(
        kinds(&events),
        [
            "change.merged.0.3.0",
            "change.created.0.4.0",
            "change.updated.0.3.0",
            "pipelinerun.queued.0.3.0",
            "pipelinerun.started.0.3.0",
            "pipelinerun.finished.0.3.0",
            "pipelinerun.finished.0.3.0",
            "pipelinerun.finished.0.3.0",
            "pipelinerun.finished.0.3.0",
            "artifact.published.0.3.0",
            "artifact.published.0.3.0",
            "service.deployed.0.3.0",
            "service.upgraded.0.3.0",
            "service.rolledback.0.3.0",
            "incident.detected.0.3.0",
            "incident.resolved.0.3.0",
        ],
        "a BUILD Waiting and a DEPLOY in progress give none"
    );
    let outcomes: Vec<&Value> = events[5..9]
        .iter()
        .map(|e| &e["subject"]["content"]["outcome"])
        .collect();
    assert_eq!(outcomes, ["success", "failure", "cancel", "error"]);
    let ids: Vec<&Value> = events.iter().map(|e| &e["context"]["id"]).collect();
    let mut distinct = ids.clone();
    distinct.dedup();
    assert_eq!(distinct.len(), ids.len(), "every CDEvent has its own id");
    for event in &events {
        assert_eq!(event["context"]["source"], app.base.as_str());
        assert_eq!(event["context"]["specversion"], "0.5.1");
    }
    assert_eq!(events[0]["subject"]["id"], commit);
    assert_eq!(
        events[9]["subject"]["id"], "pkg:generic/web@v1",
        "a release is a generic package"
    );
    assert_eq!(
        events[12]["subject"]["content"]["artifactId"],
        "pkg:generic/web@v2"
    );

    // One chain from the PUSH down to the deploy of its release, each
    // event linked to the CDEvent of its parent's change before it.
    let (merged, started, finished, published, deployed) =
        (&events[0], &events[4], &events[5], &events[9], &events[11]);
    let chain = &merged["context"]["chainId"];
    for event in [started, finished, published, deployed] {
        assert_eq!(
            &event["context"]["chainId"], chain,
            "{}",
            event["context"]["type"]
        );
    }
    assert_ne!(events[6]["context"]["chainId"], *chain, "another root");
    let from = |e: &Value| e["context"]["links"][0]["from"]["contextId"].clone();
    assert_eq!(from(started), merged["context"]["id"]);
    assert_eq!(from(published), finished["context"]["id"]);
    assert_eq!(from(deployed), published["context"]["id"]);
    assert!(merged["context"].get("links").is_none());
    let first_deploy = &deployed["subject"]["content"]["artifactId"];
    assert_eq!(first_deploy, "pkg:generic/web@v1");
    let parent = get_event(&app, ("jdoe", &app.token), "web", &upgrade.to_string()).await;
    assert_ne!(
        parent["parent_event_id"], release,
        "v2's deploy is under v2"
    );

    let Some(dir) = fixtures_dir("emitted") else {
        return;
    };
    for event in &events {
        let errors = schema_errors(&dir, event);
        assert!(errors.is_empty(), "{errors:?}\n{event}");
    }
    // The check is real: a wrong outcome is caught.
    let mut wrong = events[5].clone();
    wrong["subject"]["content"]["outcome"] = json!("fine");
    assert!(!schema_errors(&dir, &wrong).is_empty());
}

#[tokio::test]
async fn a_change_of_an_app_since_deleted_has_no_cdevent() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    create(&app, "pushEvent", json!({"commit_id": "abc"})).await;
    let store = &app.server.store;
    let account = store.find_account("jdoe").await.unwrap();
    let page = PageRequest {
        order: Order::Asc,
        limit: 10,
        after: None,
    };
    let change = store.list_changes(&account, &page).await.unwrap().remove(0);
    let before = store.cdevent(&account, &change, &app.base).await.unwrap();
    assert!(before.is_some());
    assert_ok(&app.delete("/jdoe/apps/web").await);
    let after = store.cdevent(&account, &change, &app.base).await.unwrap();
    assert_eq!(after, None);
}

/// The conformance examples of the types shiplog records, and what each
/// records, read from the example itself.
#[tokio::test]
async fn every_conformance_example_shiplog_records_is_recorded_once() {
    let Some(dir) = fixtures_dir("conformance") else {
        return;
    };
    let app = TestApp::spawn().await;
    let recorded = [
        "change_merged",
        "change_created",
        "change_updated",
        "pipelinerun_queued",
        "pipelinerun_started",
        "pipelinerun_finished",
        "artifact_published",
        "service_deployed",
        "service_upgraded",
        "service_rolledback",
        "incident_detected",
        "incident_resolved",
    ];
    for (n, name) in recorded.iter().enumerate() {
        let bytes = std::fs::read(dir.join(format!("{name}.json"))).unwrap();
        let example: Value = serde_json::from_slice(&bytes).unwrap();
        // Every example has the same source and id: one account each.
        let user = format!("conf{n}");
        let token = app.new_account(&user).await;
        let who = (user.as_str(), token.as_str());
        let created = app
            .send_raw(
                Method::PUT,
                &app.url_with_token(&format!("/{user}/apps/web"), &token),
                Some(b"{}"),
            )
            .await;
        assert_ok(&created);
        let answer = send(&app, who, "web", &[], &bytes).await;
        let ids = answered_ids(&answer, false);
        assert_eq!(ids.len(), 1, "{name}: {}", answer.text);
        let event = get_event(&app, who, "web", &ids[0]).await;
        expect_recorded(name, &example, &event);
        let history_path = format!("/{user}/apps/web/events/{}/history", ids[0]);
        let history = list_all_as(&app, &token, &history_path, "changes").await;
        let context = &example["context"];
        let delivery = format!(
            "{} {}",
            context["source"].as_str().unwrap(),
            context["id"].as_str().unwrap()
        );
        assert_eq!(
            history[0]["actor"],
            json!({"hook": "cdevents", "delivery": delivery}),
            "{name}"
        );

        let before = events_as(&app, who, "web").await;
        let again = send(&app, who, "web", &[], &bytes).await;
        assert_eq!(answered_ids(&again, true), ids, "{name}: the first answer");
        assert_eq!(
            events_as(&app, who, "web").await,
            before,
            "{name}: nothing recorded"
        );
        let after = list_all_as(&app, &token, &history_path, "changes").await;
        assert_eq!(after.len(), history.len(), "{name}: no change recorded");
    }

    // The types shiplog does not record are answered 200 with why.
    let token = app.new_account("others").await;
    let created = app
        .send_raw(
            Method::PUT,
            &app.url_with_token("/others/apps/web", &token),
            Some(b"{}"),
        )
        .await;
    assert_ok(&created);
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        if path.extension().is_none_or(|e| e != "json") || recorded.contains(&name.as_str()) {
            continue;
        }
        let mut example = read_json(&path);
        example["context"]["id"] = json!(format!("other-{name}"));
        let bytes = serde_json::to_vec(&example).unwrap();
        let answer = send(&app, ("others", &token), "web", &[], &bytes).await;
        assert_ok(&answer);
        assert_eq!(answer.json["event_ids"], json!([]), "{name}");
        assert!(
            answer.json["ignored"].is_string(),
            "{name}: {}",
            answer.text
        );
    }
    assert_eq!(
        events_as(&app, ("others", &token), "web").await,
        Vec::<Value>::new()
    );
}

/// What an example must have recorded: the reverse of the output mapping,
/// with each value taken from the example.
fn expect_recorded(name: &str, example: &Value, event: &Value) {
    let content = &example["subject"]["content"];
    let subject_id = &example["subject"]["id"];
    let at = example["context"]["timestamp"].as_str().unwrap();
    // The event's times are kept to the millisecond.
    let at = format!("{}Z", &at[..at.find('.').unwrap() + 4]);
    let (kind, expected) = match name {
        "change_merged" => (
            "PUSH",
            json!({"commit_id": subject_id, "repo_owner": "TestRepo", "repo_name": "TestOrg",
                   "repo_url": content["repository"]["source"]}),
        ),
        "change_created" => (
            "PULLREQUEST",
            json!({"branch": subject_id, "commit_msg": content["description"],
                   "repo_url": content["repository"]["source"]}),
        ),
        "change_updated" => ("PULLREQUEST", json!({"branch": subject_id})),
        "pipelinerun_queued" => (
            "BUILD",
            json!({"build_status": "Queued", "build_id": subject_id, "build_provider": "cdevents",
                   "build_url": content["uri"]}),
        ),
        "pipelinerun_started" => (
            "BUILD",
            json!({"build_status": "Running", "build_id": subject_id, "build_start": at}),
        ),
        "pipelinerun_finished" => {
            assert_eq!(content["outcome"], "failure");
            (
                "BUILD",
                json!({"build_status": "Failed", "build_id": subject_id, "build_end": at}),
            )
        }
        "artifact_published" => {
            let purl = subject_id.as_str().unwrap();
            let version = &purl[purl.rfind('@').unwrap() + 1..];
            (
                "RELEASE",
                json!({"release_version": version, "author_username": content["user"]}),
            )
        }
        "service_deployed" | "service_upgraded" | "service_rolledback" => {
            let purl = content["artifactId"].as_str().unwrap();
            let version = purl[purl.rfind('@').unwrap() + 1..].replace("%3A", ":");
            (
                "DEPLOY",
                json!({"deployment_status": "Ok", "env_name": content["environment"]["id"],
                       "release_version": version, "deployment_end": at}),
            )
        }
        "incident_detected" => (
            "INCIDENT",
            json!({"incident_status": "Open", "env_name": content["environment"]["id"],
                   "title": content["description"], "incident_start": at}),
        ),
        "incident_resolved" => (
            "INCIDENT",
            json!({"incident_status": "Resolved", "env_name": content["environment"]["id"],
                   "incident_end": at}),
        ),
        other => panic!("no expectation for {other}"),
    };
    assert_eq!(event["event_type"], kind, "{name}: {event}");
    for (key, value) in expected.as_object().unwrap() {
        assert_eq!(&event[key], value, "{name}.{key}: {event}");
    }
}

fn cdevent(kind: &str, id: &str, subject: Value) -> Value {
    json!({
        "context": {"specversion": "0.4.1", "id": id, "source": "/ci/one",
                    "type": format!("dev.cdevents.{kind}"), "timestamp": "2030-01-01T00:00:00Z"},
        "subject": subject,
    })
}

fn cloudevent(event: &Value) -> Value {
    let context = &event["context"];
    json!({"specversion": "1.0", "id": context["id"], "source": context["source"],
           "type": context["type"], "time": context["timestamp"], "data": event})
}

#[tokio::test]
async fn plain_structured_binary_and_batched_cdevents_update_one_build_and_one_incident() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    let run = json!({"id": "run-1", "content": {}});
    let me = ("jdoe", app.token.as_str());

    let queued = cdevent("pipelinerun.queued.0.2.0", "q1", run.clone());
    let build = answered_ids(&post_json(&app, "web", &queued).await, false);

    let started = cloudevent(&cdevent("pipelinerun.started.0.2.0", "q2", run.clone()));
    let structured = [(
        "content-type",
        "application/cloudevents+json; charset=UTF-8",
    )];
    let bytes = serde_json::to_vec(&started).unwrap();
    let answer = send(&app, me, "web", &structured, &bytes).await;
    assert_eq!(answered_ids(&answer, false), build, "the same BUILD");

    // Binary mode: the attributes in headers, percent-encoded, and only the
    // CDEvent's subject in the body.
    let binary = [
        ("ce-specversion", "1.0"),
        ("ce-id", "q3"),
        ("ce-source", "%2Fci%2Fone"),
        ("ce-type", "dev.cdevents.pipelinerun.finished.0.3.0"),
        ("ce-time", "2030-01-01T00:05:00Z"),
        ("content-type", "application/json"),
    ];
    let body = json!({"subject": {"id": "run-1", "content": {"outcome": "success"}}});
    let answer = send(&app, me, "web", &binary, body.to_string().as_bytes()).await;
    assert_eq!(answered_ids(&answer, false), build);
    let event = get_event(&app, me, "web", &build[0]).await;
    assert_eq!(event["build_status"], "Success");
    assert_eq!(event["build_end"], "2030-01-01T00:05:00.000Z");
    assert_eq!(event["build_provider"], "cdevents");
    let history = list_all_as(
        &app,
        &app.token,
        &format!("/jdoe/apps/web/events/{}/history", build[0]),
        "changes",
    )
    .await;
    let actors: Vec<&Value> = history.iter().map(|c| &c["actor"]["delivery"]).collect();
    assert_eq!(actors, ["/ci/one q1", "/ci/one q2", "/ci/one q3"]);

    // Binary mode with the whole CDEvent as body.
    let merged = cdevent(
        "change.merged.0.2.0",
        "m1",
        json!({"id": "abc", "content": {}}),
    );
    let binary_whole = [
        ("ce-specversion", "1.0"),
        ("ce-id", "m1"),
        ("ce-source", "/ci/one"),
        ("ce-type", "dev.cdevents.change.merged.0.2.0"),
    ];
    let answer = send(
        &app,
        me,
        "web",
        &binary_whole,
        merged.to_string().as_bytes(),
    )
    .await;
    let push = answered_ids(&answer, false);
    assert_eq!(
        get_event(&app, me, "web", &push[0]).await["commit_id"],
        "abc"
    );

    // A batch: one result per event, in order, in one transaction.
    let incident = |predicate: &str, id: &str| {
        cloudevent(&cdevent(
            &format!("incident.{predicate}.0.3.0"),
            id,
            json!({"id": "inc-1", "content": {"environment": {"id": "production"},
                   "description": "Checkout is down"}}),
        ))
    };
    let batch = json!([
        incident("detected", "i1"),
        incident("resolved", "i2"),
        cloudevent(&cdevent("taskrun.started.0.3.0", "t1", run.clone())),
    ]);
    let batched = [("content-type", "application/cloudevents-batch+json")];
    let bytes = serde_json::to_vec(&batch).unwrap();
    let answer = send(&app, me, "web", &batched, &bytes).await;
    assert_ok(&answer);
    let results = answer.json["results"].as_array().expect("results");
    assert_eq!(results.len(), 3, "{}", answer.text);
    let opened = results[0]["event_ids"].clone();
    assert_eq!(opened.as_array().unwrap().len(), 1);
    assert_eq!(results[1]["event_ids"], opened, "the same INCIDENT");
    assert_eq!(results[2]["event_ids"], json!([]));
    assert!(results[2]["ignored"].is_string());
    let id = opened[0].as_str().unwrap();
    let event = get_event(&app, me, "web", id).await;
    assert_eq!(event["incident_status"], "Resolved");
    assert_eq!(event["env_name"], "production");
    assert_eq!(event["title"], "Checkout is down");

    // A repeat of the batch answers the first results and records nothing.
    let before = events_as(&app, me, "web").await;
    let again = send(&app, me, "web", &batched, &bytes).await;
    assert_ok(&again);
    for (first, repeat) in results
        .iter()
        .zip(again.json["results"].as_array().unwrap())
    {
        assert_eq!(repeat["event_ids"], first["event_ids"]);
        assert_eq!(repeat["duplicate"], true);
    }
    assert_eq!(events_as(&app, me, "web").await, before);
    assert_eq!(before.len(), 3, "one BUILD, one PUSH, one INCIDENT");
}

#[tokio::test]
async fn bad_bodies_and_other_apps_envs_are_refused_and_record_nothing() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    app.create_app("other").await;
    let env = app.put("/jdoe/apps/other/envs/prod-other", json!({})).await;
    assert_ok(&env);
    let me = ("jdoe", app.token.as_str());
    let good = cdevent(
        "change.merged.0.3.0",
        "g1",
        json!({"id": "abc", "content": {}}),
    );

    let not_json = send(&app, me, "web", &[], b"{not json").await;
    assert_error(&not_json, 400, "MalformedRequest");
    for field in ["id", "source", "type"] {
        let mut body = good.clone();
        body["context"].as_object_mut().unwrap().remove(field);
        let answer = post_json(&app, "web", &body).await;
        assert_error(&answer, 400, "BadParam");
        assert!(
            answer.message().contains(&format!("context.{field}")),
            "{}",
            answer.text
        );
    }
    let deploy = cdevent(
        "service.deployed.0.3.0",
        "d1",
        json!({"id": "svc", "content": {"environment": {"id": "prod-other"},
               "artifactId": "pkg:generic/web@v1"}}),
    );
    let answer = post_json(&app, "web", &deploy).await;
    assert_error(&answer, 400, "BadParam");
    // A batch with one bad event records none of them.
    let batch = json!([cloudevent(&good), cloudevent(&deploy)]);
    let batched = [("content-type", "application/cloudevents-batch+json")];
    let answer = send(&app, me, "web", &batched, batch.to_string().as_bytes()).await;
    assert_error(&answer, 400, "BadParam");
    let not_a_batch = send(&app, me, "web", &batched, good.to_string().as_bytes()).await;
    assert_error(&not_a_batch, 400, "BadParam");
    assert_eq!(events_as(&app, me, "web").await, Vec::<Value>::new());

    let missing = post_json(&app, "nope", &good).await;
    assert_error(&missing, 404, "NotFound");
    let url = format!("{}/jdoe/apps/web/cdevents", app.base);
    let anonymous = app
        .send_raw(Method::POST, &url, Some(good.to_string().as_bytes()))
        .await;
    assert_error(&anonymous, 401, "AuthenticationFailed");
    // The refused first try did not take the key: the event records now.
    let answer = post_json(&app, "web", &good).await;
    assert_eq!(answered_ids(&answer, false).len(), 1);
}

#[tokio::test]
async fn the_stream_and_a_webhook_in_cdevents_format_carry_each_cdevent_once_and_valid() {
    use crate::receiver::Receiver;
    use crate::sse::Stream;
    use std::time::Duration;
    let app = TestApp::spawn_with(|s| s.allow_private_webhook_targets = true).await;
    app.create_app("web").await;
    let receiver = Receiver::start().await;
    let answer = app
        .put(
            "/jdoe/webhooks/cd",
            json!({"url": receiver.url(), "format": "cdevents"}),
        )
        .await;
    assert_ok(&answer);
    receiver.set_secret(answer.json["webhook"]["secret"].as_str().unwrap());
    let mut stream = Stream::open(&app.url("/jdoe/stream?format=cdevents&after=0"), &[]).await;
    let push = create(
        &app,
        "pushEvent",
        json!({"commit_id": "abc123", "branch": "main"}),
    )
    .await;
    let build = create(
        &app,
        "buildEvent",
        json!({"build_status": "Queued", "parent_event_id": push.to_string()}),
    )
    .await;
    update(&app, build, json!({"build_status": "Running"})).await;
    update(
        &app,
        build,
        json!({"build_status": "Success", "build_end": "2026-01-01T00:00:00Z", "release_version": "1.0.0"}),
    )
    .await;
    let deploy = create(
        &app,
        "deployEvent",
        json!({"env_name": "production", "release_version": "1.0.0"}),
    )
    .await;
    // A deploy going InProgress has no CDEvent; its end has one.
    update(&app, deploy, json!({"deployment_status": "InProgress"})).await;
    update(&app, deploy, json!({"deployment_status": "Ok"})).await;
    let expected = emitted(&app).await;
    assert!(
        kinds(&expected)
            .iter()
            .any(|k| k.starts_with("service.deployed")),
        "{:?}",
        kinds(&expected)
    );
    let messages = stream.take(expected.len()).await;
    let streamed: Vec<Value> = messages
        .iter()
        .map(|m| {
            assert_eq!(m.event.as_deref(), Some("cdevent"));
            m.json()
        })
        .collect();
    assert_eq!(streamed, expected);
    assert!(stream.next(Duration::from_millis(300)).await.is_none());
    let delivered = receiver
        .until_accepted(expected.len(), Duration::from_secs(20))
        .await;
    for delivery in &delivered {
        let body = &delivery.body;
        assert!(expected.contains(body), "{body}");
        let header = |name: &str| delivery.headers[name].to_str().unwrap().to_owned();
        assert_eq!(header("ce-type"), body["context"]["type"].as_str().unwrap());
        assert_eq!(header("ce-id"), body["context"]["id"].as_str().unwrap());
        assert_eq!(header("ce-specversion"), "1.0");
        assert_eq!(header("content-type"), "application/json");
    }
    if let Some(dir) = fixtures_dir("the_stream_and_a_webhook_in_cdevents_format") {
        for cdevent in &streamed {
            let errors = schema_errors(&dir, cdevent);
            assert!(errors.is_empty(), "{cdevent}: {errors:?}");
        }
    }
}
