//! The record of every change: GetEvent, an event's history and lineage,
//! where a commit went (GetCommit), the account's changes (ListChanges), and
//! the DEPLOY and commit fields they carry.

use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::helpers::{Answer, TestApp};
use crate::support::*;

const START: &str = "2016-08-30T22:30:52.000Z";
const END: &str = "2016-08-30T22:31:11.000Z";
/// The commit of [`push_body`] and [`build_body`].
const COMMIT: &str = "1234567890123456789012345678901234567890";
const OTHER_COMMIT: &str = "abcdefabcdefabcdefabcdefabcdefabcdefabcd";

async fn app_with(name: &str) -> TestApp {
    let app = TestApp::spawn().await;
    app.create_app(name).await;
    app
}

fn event_path(app_name: &str, id: impl std::fmt::Display) -> String {
    format!("/jdoe/apps/{app_name}/events/{id}")
}

async fn update(app: &TestApp, app_name: &str, id: i64, body: Value) -> Answer {
    app.post(&event_path(app_name, id), body).await
}

/// GetEvent's event, checking the answer is exactly `{"event":{…}}`.
async fn get_event(app: &TestApp, app_name: &str, id: i64) -> Value {
    let answer = app.get(&event_path(app_name, id)).await;
    assert_ok(&answer);
    let top = Ordered::parse(&answer.text);
    assert_eq!(top.keys(), ["event"], "{}", answer.text);
    assert_event_key_order(top.get("event"));
    answer.json["event"].clone()
}

/// Every change of an event, oldest first, following markers.
async fn history(app: &TestApp, app_name: &str, id: i64) -> Vec<Value> {
    list_all(
        app,
        &format!("{}/history?max_results=100", event_path(app_name, id)),
        "changes",
    )
    .await
}

/// Every change of `user`'s account, following markers.
async fn changes_as(app: &TestApp, user: &str, token: &str) -> Vec<Value> {
    list_all_as(
        app,
        token,
        &format!("/{user}/changes?max_results=100"),
        "changes",
    )
    .await
}

async fn all_changes(app: &TestApp) -> Vec<Value> {
    changes_as(app, "jdoe", &app.token).await
}

fn change_ids(changes: &[Value]) -> Vec<i64> {
    changes
        .iter()
        .map(|c| c["change_id"].as_i64().expect("change_id is a JSON number"))
        .collect()
}

#[track_caller]
fn assert_strictly_ascending(ids: &[i64]) {
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ascending: {ids:?}");
}

/// The `fields` of a `created` change of `event`: every non-null field, with
/// `null` as the old value.
fn created_fields(event: &Value) -> Value {
    let fields: Map<String, Value> = event
        .as_object()
        .expect("event object")
        .iter()
        .filter(|(_, value)| !value.is_null())
        .map(|(key, value)| (key.clone(), json!([null, value])))
        .collect();
    Value::Object(fields)
}

/// The only token `user` has.
async fn token_id_of(app: &TestApp, user: &str) -> i64 {
    let tokens = shiplog_server::admin::list_tokens(&*app.server.store, user)
        .await
        .expect("tokens");
    assert_eq!(tokens.len(), 1, "{user} has one token");
    tokens[0].id
}

/// The actor of a change made with the test account's token.
async fn jdoe_actor(app: &TestApp) -> Value {
    json!({"user": "jdoe", "token_id": token_id_of(app, "jdoe").await, "token_label": null})
}

/// Pages of `path` of `size` items each, following markers to the end.
async fn pages_of(app: &TestApp, path: &str, key: &str, size: usize) -> Vec<Vec<Value>> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut pages = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let p = match &marker {
            Some(m) => format!("{path}{sep}max_results={size}&marker={m}"),
            None => format!("{path}{sep}max_results={size}"),
        };
        let answer = app.get(&p).await;
        assert_ok(&answer);
        let page = answer.json[key]
            .as_array()
            .unwrap_or_else(|| panic!("`{key}` is an array: {}", answer.text))
            .clone();
        pages.push(page);
        match &answer.json["marker"] {
            Value::String(m) => marker = Some(m.clone()),
            Value::Null => {
                assert!(
                    answer.json.as_object().unwrap().contains_key("marker"),
                    "the last page says `marker`: {}",
                    answer.text
                );
                return pages;
            }
            other => panic!("marker is a string or null, got {other}"),
        }
        assert!(pages.len() <= 100, "too many pages at {path}");
    }
}

/// A PUSH, its BUILD, the RELEASE `v1` the build reported, and deploys of
/// `v1` to `dev` and `prod`.
struct Pipeline {
    push: i64,
    build: i64,
    release: i64,
    dev: i64,
    prod: i64,
}

async fn pipeline(app: &TestApp) -> Pipeline {
    let push = app.create_event("web", "pushEvent", push_body()).await;
    let build = app
        .create_event(
            "web",
            "buildEvent",
            with(build_body(), json!({"parent_event_id": push.to_string()})),
        )
        .await;
    assert_ok(&update(app, "web", build, json!({"release_version": "v1"})).await);
    let releases = events_of_type(app, "web", "RELEASE").await;
    assert_eq!(releases.len(), 1, "the build reported one release");
    let release = releases[0]["event_id"].as_i64().unwrap();
    let dev = app
        .create_event(
            "web",
            "deployEvent",
            json!({"env_name": "dev", "release_version": "v1"}),
        )
        .await;
    let prod = app
        .create_event(
            "web",
            "deployEvent",
            json!({"env_name": "prod", "release_version": "v1"}),
        )
        .await;
    Pipeline {
        push,
        build,
        release,
        dev,
        prod,
    }
}

/// GetEventLineage's answer, checking its three keys.
async fn lineage(app: &TestApp, id: i64) -> Value {
    let answer = app.get(&format!("{}/lineage", event_path("web", id))).await;
    assert_ok(&answer);
    assert_eq!(
        key_set(&answer.json),
        sorted(&["ancestors", "descendants", "event"]),
        "{}",
        answer.text
    );
    answer.json
}

/// GetCommit's answer for a commit the app has.
async fn commit(app: &TestApp, commit_id: &str) -> Value {
    let answer = app
        .get(&format!("/jdoe/apps/web/commits/{commit_id}"))
        .await;
    assert_ok(&answer);
    assert_eq!(
        key_set(&answer.json),
        sorted(&["commit_id", "deployed_to", "events"]),
        "{}",
        answer.text
    );
    assert_eq!(answer.json["commit_id"], commit_id);
    answer.json
}

/// `deployed_to` sorted by env name, so the check does not depend on order.
fn deployed_to(story: &Value) -> Vec<Value> {
    let mut envs = story["deployed_to"]
        .as_array()
        .expect("deployed_to is an array")
        .clone();
    envs.sort_by(|a, b| a["env_name"].as_str().cmp(&b["env_name"].as_str()));
    envs
}

/// What `deployed_to` says of an env whose active deploy is `deploy`.
fn deployed_entry(deploy: &Value) -> Value {
    assert!(
        is_response_timestamp(&deploy["deployment_end"]),
        "an Ok deploy has ended: {deploy}"
    );
    json!({
        "env_name": deploy["env_name"],
        "release_version": deploy["release_version"],
        "deployed_at": deploy["deployment_end"],
        "event_id": deploy["event_id"],
    })
}

#[tokio::test]
async fn get_event_answers_the_event_exactly_as_list_events_lists_it() {
    let app = app_with("web").await;
    let push = app.create_event("web", "pushEvent", push_body()).await;
    let build = app
        .create_event(
            "web",
            "buildEvent",
            with(build_body(), json!({"parent_event_id": push.to_string()})),
        )
        .await;
    let release = app
        .create_event(
            "web",
            "releaseEvent",
            json!({"parent_event_id": build.to_string(), "release_version": "v7"}),
        )
        .await;
    let deploy = app
        .create_event(
            "web",
            "deployEvent",
            json!({"env_name": "dev", "release_version": "v7", "hotfix": true}),
        )
        .await;
    let pull = app.create_event("web", "pullRequestEvent", json!({})).await;
    for id in [push, build, release, deploy, pull] {
        let got = get_event(&app, "web", id).await;
        assert_eq!(got, event(&app, "web", id).await, "event {id}");
        assert_eq!(got["event_id"], json!(id));
    }
}

#[tokio::test]
async fn get_event_of_an_unknown_malformed_or_other_apps_id_is_not_found() {
    let app = app_with("web").await;
    app.create_app("api").await;
    let own = app.create_event("web", "pushEvent", push_body()).await;
    let other_app = app.create_event("api", "pushEvent", push_body()).await;
    let unknown = own + other_app + 1000;
    let answer = app.get(&event_path("web", unknown)).await;
    assert_error(&answer, 404, "NotFound");
    assert!(
        answer.message().contains(&unknown.to_string()),
        "names the event: {}",
        answer.text
    );
    for id in ["abc", "12x", "-1"] {
        let answer = app.get(&event_path("web", id)).await;
        assert_error(&answer, 404, "NotFound");
    }
    let answer = app.get(&event_path("web", other_app)).await;
    assert_error(&answer, 404, "NotFound");
    assert_eq!(
        get_event(&app, "api", other_app).await["app_name"],
        "api",
        "found under its own app"
    );
    let answer = app.get(&event_path("nosuchapp", own)).await;
    assert_error(&answer, 404, "NotFound");
}

#[tokio::test]
async fn every_history_call_on_another_accounts_path_is_access_denied() {
    let app = app_with("web").await;
    let bob = app.new_account("bob").await;
    assert_ok(&call_as(&app, &bob, Method::PUT, "/bob/apps/web", Some(json!({}))).await);
    let id = created_id(
        &call_as(
            &app,
            &bob,
            Method::PUT,
            "/bob/apps/web/events/pushEvent",
            Some(push_body()),
        )
        .await,
    );
    for path in [
        format!("/bob/apps/web/events/{id}"),
        format!("/bob/apps/web/events/{id}/history"),
        format!("/bob/apps/web/events/{id}/lineage"),
        format!("/bob/apps/web/commits/{COMMIT}"),
        "/bob/changes".to_owned(),
    ] {
        let answer = app.get(&path).await;
        assert_error(&answer, 403, "AccessDenied");
        let own = call_as(&app, &bob, Method::GET, &path, None).await;
        assert_ok(&own);
    }
}

#[tokio::test]
async fn the_history_of_a_build_lists_its_creation_and_each_update_oldest_first() {
    let app = app_with("web").await;
    let id = app
        .create_event(
            "web",
            "buildEvent",
            with(build_body(), json!({"build_start": START})),
        )
        .await;
    let created = get_event(&app, "web", id).await;
    assert_ok(&update(&app, "web", id, json!({"build_status": "queued"})).await);
    let queued = get_event(&app, "web", id).await;
    assert_ok(
        &update(
            &app,
            "web",
            id,
            json!({"build_status": "Success", "build_end": END}),
        )
        .await,
    );
    let finished = get_event(&app, "web", id).await;

    let changes = history(&app, "web", id).await;
    assert_eq!(changes.len(), 3, "{changes:?}");
    assert_strictly_ascending(&change_ids(&changes));
    let actor = jdoe_actor(&app).await;
    for change in &changes {
        assert_eq!(
            key_set(change),
            sorted(&[
                "change_id",
                "at",
                "kind",
                "actor",
                "app_name",
                "event_id",
                "fields",
                "event"
            ]),
            "{change}"
        );
        assert_eq!(change["actor"], actor);
        assert_eq!(change["app_name"], "web");
        assert_eq!(change["event_id"], json!(id));
        assert!(is_response_timestamp(&change["at"]), "{change}");
    }
    let ats: Vec<&str> = changes.iter().map(|c| c["at"].as_str().unwrap()).collect();
    assert!(ats.windows(2).all(|w| w[0] <= w[1]), "{ats:?}");
    assert_eq!(changes[0]["at"], created["event_time"], "made when created");

    assert_eq!(changes[0]["kind"], "created");
    assert_eq!(changes[0]["event"], created);
    assert_eq!(changes[0]["fields"], created_fields(&created));
    assert_eq!(
        changes[0]["fields"]["build_status"],
        json!([null, "Running"])
    );
    assert_eq!(changes[0]["fields"]["event_type"], json!([null, "BUILD"]));
    assert!(
        changes[0]["fields"].get("build_end").is_none(),
        "null fields are left out: {}",
        changes[0]["fields"]
    );

    assert_eq!(changes[1]["kind"], "updated");
    assert_eq!(
        changes[1]["fields"],
        json!({"build_status": ["Running", "Queued"]})
    );
    assert_eq!(changes[1]["event"], queued);

    assert_eq!(changes[2]["kind"], "updated");
    assert_eq!(
        changes[2]["fields"],
        json!({"build_end": [null, END], "build_status": ["Queued", "Success"]})
    );
    assert_eq!(changes[2]["event"], finished);
    assert_eq!(changes[2]["event"], event(&app, "web", id).await);
}

#[tokio::test]
async fn the_event_of_a_change_has_its_fields_in_contract_order() {
    let app = app_with("web").await;
    let push = app.create_event("web", "pushEvent", push_body()).await;
    let build = app.create_event("web", "buildEvent", build_body()).await;
    assert_ok(&update(&app, "web", build, json!({"build_status": "Queued"})).await);
    let deploy = app
        .create_event("web", "deployEvent", json!({"env_name": "dev"}))
        .await;
    for id in [push, build, deploy] {
        let answer = app.get(&format!("{}/history", event_path("web", id))).await;
        assert_ok(&answer);
        let listed = Ordered::parse(&answer.text);
        assert_eq!(listed.keys(), ["changes", "marker"], "{}", answer.text);
        for i in 0..listed.get("changes").len() {
            assert_event_key_order(listed.get("changes").at(i).get("event"));
        }
    }
    let answer = app.get("/jdoe/changes").await;
    let listed = Ordered::parse(&answer.text);
    assert_eq!(listed.get("changes").len(), 4);
    for i in 0..4 {
        assert_event_key_order(listed.get("changes").at(i).get("event"));
    }
}

#[tokio::test]
async fn a_change_names_the_labelled_token_it_was_made_with() {
    let app = app_with("web").await;
    let token = shiplog_server::admin::add_token(
        &*app.server.store,
        "jdoe",
        Some("ci-runner"),
        shiplog_domain::Level::Write,
    )
    .await
    .expect("a labelled token");
    let tokens = shiplog_server::admin::list_tokens(&*app.server.store, "jdoe")
        .await
        .unwrap();
    let labelled = tokens
        .iter()
        .find(|t| t.label.as_deref() == Some("ci-runner"))
        .expect("the labelled token is listed");
    let plain = tokens
        .iter()
        .find(|t| t.label.is_none())
        .expect("the harness token has no label");
    let by_label = created_id(
        &call_as(
            &app,
            &token,
            Method::PUT,
            "/jdoe/apps/web/events/pushEvent",
            Some(json!({})),
        )
        .await,
    );
    let by_plain = app.create_event("web", "pushEvent", json!({})).await;
    assert_eq!(
        history(&app, "web", by_label).await[0]["actor"],
        json!({"user": "jdoe", "token_id": labelled.id, "token_label": "ci-runner"})
    );
    assert_eq!(
        history(&app, "web", by_plain).await[0]["actor"],
        json!({"user": "jdoe", "token_id": plain.id, "token_label": null})
    );
}

#[tokio::test]
async fn an_update_that_changes_nothing_records_no_change() {
    let app = app_with("web").await;
    let running = app
        .create_event(
            "web",
            "buildEvent",
            with(build_body(), json!({"build_start": START})),
        )
        .await;
    for body in [json!({}), json!({"build_status": "running"})] {
        let answer = update(&app, "web", running, body.clone()).await;
        assert_ok(&answer);
        assert_eq!(answer.json["event"]["build_status"], "Running", "{body}");
    }
    assert_eq!(history(&app, "web", running).await.len(), 1, "only created");

    let finished = app
        .create_event(
            "web",
            "buildEvent",
            with(build_body(), json!({"build_start": START})),
        )
        .await;
    let finish = json!({"build_status": "Success", "build_end": END});
    assert_ok(&update(&app, "web", finished, finish.clone()).await);
    let before = history(&app, "web", finished).await;
    assert_eq!(before.len(), 2);
    let account_before = all_changes(&app).await;
    for body in [
        finish.clone(),
        finish,
        json!({"build_status": "success"}),
        json!({"build_end": "2016-08-31T00:31:11+02:00"}),
        json!({}),
    ] {
        let answer = update(&app, "web", finished, body.clone()).await;
        assert_ok(&answer);
        assert_eq!(answer.json["event"]["build_status"], "Success", "{body}");
    }
    assert_eq!(history(&app, "web", finished).await, before);
    assert_eq!(all_changes(&app).await, account_before);
}

#[tokio::test]
async fn a_refused_write_records_no_change() {
    let app = app_with("web").await;
    let running = app
        .create_event(
            "web",
            "buildEvent",
            with(build_body(), json!({"build_start": START})),
        )
        .await;
    let finished = app
        .create_event(
            "web",
            "buildEvent",
            with(build_body(), json!({"build_start": START})),
        )
        .await;
    assert_ok(
        &update(
            &app,
            "web",
            finished,
            json!({"build_status": "Failed", "build_end": END}),
        )
        .await,
    );
    let deploy = app
        .create_event(
            "web",
            "deployEvent",
            json!({"env_name": "dev", "deployment_status": "Aborted"}),
        )
        .await;
    let before = all_changes(&app).await;
    let snapshot_before = snapshot(&app).await;

    let answer = update(
        &app,
        "web",
        finished,
        json!({"build_status": "Success", "build_end": END}),
    )
    .await;
    assert_error(&answer, 409, "ImmutableEvent");
    let answer = update(&app, "web", finished, json!({"release_version": "v9"})).await;
    assert_error(&answer, 409, "ImmutableEvent");
    let answer = update(&app, "web", deploy, json!({"deployment_status": "Ok"})).await;
    assert_error(&answer, 409, "ImmutableEvent");
    let answer = update(&app, "web", running, json!({"build_status": "Done"})).await;
    assert_error(&answer, 400, "BadParam");
    let answer = update(&app, "web", running, json!({"build_status": "Success"})).await;
    assert_error(&answer, 400, "MissingParam");
    let answer = update(
        &app,
        "web",
        running,
        json!({"build_status": "Success", "build_end": "2016-08-30T22:00:00Z"}),
    )
    .await;
    assert_error(&answer, 400, "BadParam");
    let answer = app
        .put(
            "/jdoe/apps/web/events/buildEvent",
            json!({"build_status": "Done"}),
        )
        .await;
    assert_error(&answer, 400, "BadParam");
    let answer = app
        .put(
            "/jdoe/apps/web/events/buildEvent",
            json!({"parent_event_id": deploy.to_string()}),
        )
        .await;
    assert_error(&answer, 400, "BadParam");

    assert_eq!(all_changes(&app).await, before);
    assert_eq!(history(&app, "web", finished).await.len(), 2);
    assert_eq!(history(&app, "web", running).await.len(), 1);
    assert_eq!(history(&app, "web", deploy).await.len(), 1);
    assert_eq!(snapshot(&app).await, snapshot_before);
}

#[tokio::test]
async fn the_history_pages_one_change_at_a_time_without_repeat_or_gap() {
    let app = app_with("web").await;
    let id = app
        .create_event(
            "web",
            "buildEvent",
            with(build_body(), json!({"build_start": START})),
        )
        .await;
    for status in ["Waiting", "Queued", "Running", "Queued"] {
        assert_ok(&update(&app, "web", id, json!({"build_status": status})).await);
    }
    assert_ok(
        &update(
            &app,
            "web",
            id,
            json!({"build_status": "Success", "build_end": END}),
        )
        .await,
    );
    let other = app.create_event("web", "buildEvent", json!({})).await;
    assert_ok(&update(&app, "web", other, json!({"build_status": "Queued"})).await);

    let whole = history(&app, "web", id).await;
    assert_eq!(whole.len(), 6);
    let path = format!("{}/history", event_path("web", id));
    let pages = pages_of(&app, &path, "changes", 1).await;
    assert_eq!(pages.len(), 6, "one change a page");
    assert!(pages.iter().all(|p| p.len() == 1), "{pages:?}");
    let paged: Vec<Value> = pages.into_iter().flatten().collect();
    assert_eq!(paged, whole, "no repeat, no gap, same order");
    let kinds: Vec<&str> = paged.iter().map(|c| c["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "created", "updated", "updated", "updated", "updated", "updated"
        ]
    );
    assert!(paged.iter().all(|c| c["event_id"] == json!(id)));

    let asc = list_all(&app, &format!("{path}?order=asc&max_results=4"), "changes").await;
    assert_eq!(asc, whole);

    let answer = app.get(&format!("{path}?order=desc")).await;
    assert_error(&answer, 400, "BadParam");
    assert!(answer.message().contains("order"), "{}", answer.text);

    let first = app.get(&format!("{path}?max_results=1")).await;
    let marker = first.json["marker"].as_str().expect("a marker").to_owned();
    let answer = app
        .get(&format!(
            "{}/history?marker={marker}",
            event_path("web", other)
        ))
        .await;
    assert_error(&answer, 400, "BadParam");
    let answer = app.get(&format!("/jdoe/changes?marker={marker}")).await;
    assert_error(&answer, 400, "BadParam");
}

/// `…/events/:id/<call>` of web answers 404 for an unknown id, one that is
/// no id, and an event of another app (whose id it returns).
async fn assert_unknown_events_are_not_found(app: &TestApp, call: &str) -> i64 {
    app.create_app("api").await;
    let other_app = app.create_event("api", "pushEvent", json!({})).await;
    for id in [
        (other_app + 1000).to_string(),
        "abc".to_owned(),
        other_app.to_string(),
    ] {
        let answer = app.get(&format!("{}/{call}", event_path("web", &id))).await;
        assert_error(&answer, 404, "NotFound");
    }
    other_app
}

#[tokio::test]
async fn the_history_of_an_unknown_event_is_not_found() {
    let app = app_with("web").await;
    let other_app = assert_unknown_events_are_not_found(&app, "history").await;
    assert_eq!(history(&app, "api", other_app).await.len(), 1);
}

#[tokio::test]
async fn the_lineage_of_a_deploy_climbs_to_its_push_nearest_first() {
    let app = app_with("web").await;
    let p = pipeline(&app).await;
    let answer = lineage(&app, p.dev).await;
    assert_eq!(
        ids(answer["ancestors"].as_array().unwrap()),
        [p.release, p.build, p.push]
    );
    for ancestor in answer["ancestors"].as_array().unwrap() {
        let id = ancestor["event_id"].as_i64().unwrap();
        assert_eq!(*ancestor, event(&app, "web", id).await);
    }
    assert_eq!(answer["event"], get_event(&app, "web", p.dev).await);
    assert_eq!(answer["descendants"], json!([]));

    let answer = lineage(&app, p.release).await;
    assert_eq!(
        ids(answer["ancestors"].as_array().unwrap()),
        [p.build, p.push]
    );
    assert_eq!(
        ids(answer["descendants"].as_array().unwrap()),
        [p.dev, p.prod]
    );
}

#[tokio::test]
async fn the_lineage_of_a_push_lists_every_descendant_in_id_order() {
    let app = app_with("web").await;
    let unrelated = app.create_event("web", "pushEvent", json!({})).await;
    let p = pipeline(&app).await;
    app.create_event("web", "deployEvent", json!({"env_name": "qa"}))
        .await;
    app.create_event("web", "buildEvent", json!({"parent_event_id": unrelated}))
        .await;
    let answer = lineage(&app, p.push).await;
    assert_eq!(answer["ancestors"], json!([]));
    assert_eq!(answer["event"], get_event(&app, "web", p.push).await);
    let descendants = answer["descendants"].as_array().unwrap();
    assert_eq!(ids(descendants), [p.build, p.release, p.dev, p.prod]);
    for descendant in descendants {
        let id = descendant["event_id"].as_i64().unwrap();
        assert_eq!(*descendant, event(&app, "web", id).await);
    }
    let envs: Vec<&Value> = descendants
        .iter()
        .filter(|e| e["event_type"] == "DEPLOY")
        .map(|e| &e["env_name"])
        .collect();
    assert_eq!(envs, [&json!("dev"), &json!("prod")]);
}

#[tokio::test]
async fn the_lineage_of_an_unknown_event_is_not_found() {
    let app = app_with("web").await;
    assert_unknown_events_are_not_found(&app, "lineage").await;
}

#[tokio::test]
async fn get_commit_lists_its_events_and_the_envs_running_it() {
    let app = app_with("web").await;
    let push = app.create_event("web", "pushEvent", push_body()).await;
    let build = app
        .create_event(
            "web",
            "buildEvent",
            with(build_body(), json!({"parent_event_id": push.to_string()})),
        )
        .await;
    assert_ok(&update(&app, "web", build, json!({"release_version": "v1"})).await);
    let release = events_of_type(&app, "web", "RELEASE").await[0]["event_id"]
        .as_i64()
        .unwrap();
    let dev = app
        .create_event(
            "web",
            "deployEvent",
            json!({"env_name": "dev", "release_version": "v1", "deployment_status": "InProgress"}),
        )
        .await;
    assert_ok(&update(&app, "web", dev, json!({"deployment_status": "ok"})).await);
    let prod = app
        .create_event(
            "web",
            "deployEvent",
            json!({"env_name": "prod", "release_version": "v1", "deployment_status": "Ok"}),
        )
        .await;
    let staging = app
        .create_event(
            "web",
            "deployEvent",
            json!({"env_name": "staging", "release_version": "v1", "deployment_status": "Failed"}),
        )
        .await;
    let waiting = app
        .create_event(
            "web",
            "deployEvent",
            json!({"env_name": "qa", "release_version": "v1", "deployment_status": "InProgress"}),
        )
        .await;
    app.create_event(
        "web",
        "pushEvent",
        with(push_body(), json!({"commit_id": OTHER_COMMIT})),
    )
    .await;

    let story = commit(&app, COMMIT).await;
    let events = story["events"].as_array().unwrap();
    assert_eq!(
        ids(events),
        [push, build, release, dev, prod, staging, waiting]
    );
    for e in events {
        let id = e["event_id"].as_i64().unwrap();
        assert_eq!(*e, event(&app, "web", id).await);
        assert_eq!(e["commit_id"], COMMIT);
    }
    let dev_event = event(&app, "web", dev).await;
    let prod_event = event(&app, "web", prod).await;
    assert_eq!(
        deployed_to(&story),
        [deployed_entry(&dev_event), deployed_entry(&prod_event)]
    );
    assert_eq!(deployed_to(&story)[0]["release_version"], "v1");
    assert_eq!(deployed_to(&story)[0]["event_id"], json!(dev));
    for entry in deployed_to(&story) {
        assert_eq!(
            key_set(&entry),
            sorted(&["deployed_at", "env_name", "event_id", "release_version"])
        );
    }
}

#[tokio::test]
async fn a_later_ok_deploy_of_another_commit_takes_the_env_from_the_first() {
    let app = app_with("web").await;
    let p = pipeline(&app).await;
    for id in [p.dev, p.prod] {
        assert_ok(&update(&app, "web", id, json!({"deployment_status": "Ok"})).await);
    }
    assert_eq!(
        deployed_to(&commit(&app, COMMIT).await)
            .iter()
            .map(|d| d["env_name"].clone())
            .collect::<Vec<_>>(),
        [json!("dev"), json!("prod")]
    );
    let v2 = app
        .create_event(
            "web",
            "releaseEvent",
            with(
                push_body(),
                json!({"commit_id": OTHER_COMMIT, "release_version": "v2"}),
            ),
        )
        .await;
    let dev2 = app
        .create_event(
            "web",
            "deployEvent",
            json!({"env_name": "dev", "release_version": "v2", "deployment_status": "Ok"}),
        )
        .await;
    let prod_failed = app
        .create_event(
            "web",
            "deployEvent",
            json!({"env_name": "prod", "release_version": "v2", "deployment_status": "Failed"}),
        )
        .await;
    let prod2 = app
        .create_event(
            "web",
            "deployEvent",
            json!({"env_name": "prod", "release_version": "v2", "deployment_status": "InProgress"}),
        )
        .await;

    let first = commit(&app, COMMIT).await;
    assert_eq!(
        deployed_to(&first),
        [deployed_entry(&event(&app, "web", p.prod).await)],
        "dev runs v2 now; prod's v2 deploys have not ended Ok"
    );
    let second = commit(&app, OTHER_COMMIT).await;
    assert_eq!(
        ids(second["events"].as_array().unwrap()),
        [v2, dev2, prod_failed, prod2]
    );
    assert_eq!(
        deployed_to(&second),
        [deployed_entry(&event(&app, "web", dev2).await)]
    );
    assert_eq!(deployed_to(&second)[0]["release_version"], "v2");

    assert_ok(&update(&app, "web", prod2, json!({"deployment_status": "Ok"})).await);
    let first = commit(&app, COMMIT).await;
    assert_eq!(first["deployed_to"], json!([]));
    assert_eq!(
        ids(first["events"].as_array().unwrap()).len(),
        5,
        "its events stay"
    );
    assert_eq!(
        deployed_to(&commit(&app, OTHER_COMMIT).await),
        [
            deployed_entry(&event(&app, "web", dev2).await),
            deployed_entry(&event(&app, "web", prod2).await)
        ]
    );
}

#[tokio::test]
async fn get_commit_of_a_commit_no_event_of_the_app_carries_is_not_found() {
    let app = app_with("web").await;
    app.create_app("api").await;
    app.create_event("web", "pushEvent", push_body()).await;
    app.create_event(
        "api",
        "pushEvent",
        with(push_body(), json!({"commit_id": OTHER_COMMIT})),
    )
    .await;
    for unknown in [OTHER_COMMIT, "0000000"] {
        let answer = app.get(&format!("/jdoe/apps/web/commits/{unknown}")).await;
        assert_error(&answer, 404, "NotFound");
        assert_eq!(answer.message(), format!("Commit {unknown} not found"));
    }
    let answer = app
        .get(&format!("/jdoe/apps/nosuchapp/commits/{COMMIT}"))
        .await;
    assert_error(&answer, 404, "NotFound");
    assert_eq!(commit(&app, COMMIT).await["deployed_to"], json!([]));
}

#[tokio::test]
async fn list_changes_lists_every_change_of_the_account_from_the_first() {
    let app = app_with("web").await;
    app.create_app("api").await;
    let push = app.create_event("web", "pushEvent", push_body()).await;
    let build = app.create_event("web", "buildEvent", build_body()).await;
    assert_ok(&update(&app, "web", build, json!({"release_version": "v1"})).await);
    let release = events_of_type(&app, "web", "RELEASE").await[0]["event_id"]
        .as_i64()
        .unwrap();
    let deploy = app
        .create_event("web", "deployEvent", json!({"env_name": "dev"}))
        .await;
    let api_push = app.create_event("api", "pushEvent", json!({})).await;

    let changes = all_changes(&app).await;
    assert_eq!(changes.len(), 6, "{changes:?}");
    assert_strictly_ascending(&change_ids(&changes));
    let pairs: Vec<(i64, &str)> = changes
        .iter()
        .map(|c| (c["event_id"].as_i64().unwrap(), c["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(pairs[..2], [(push, "created"), (build, "created")]);
    let mut middle = pairs[2..4].to_vec();
    middle.sort();
    assert_eq!(middle, [(build, "updated"), (release, "created")]);
    assert_eq!(pairs[4..], [(deploy, "created"), (api_push, "created")]);
    assert_eq!(changes[5]["app_name"], "api");

    let release_created = changes
        .iter()
        .find(|c| c["event_id"] == json!(release))
        .unwrap();
    let release_event = get_event(&app, "web", release).await;
    assert_eq!(release_created["event"], release_event);
    assert_eq!(release_created["fields"], created_fields(&release_event));
    assert_eq!(release_created["actor"], jdoe_actor(&app).await);
    let build_updated = changes
        .iter()
        .find(|c| c["event_id"] == json!(build) && c["kind"] == "updated")
        .unwrap();
    assert_eq!(
        build_updated["fields"],
        json!({"release_version": [null, "v1"]})
    );

    for (app_name, id) in [
        ("web", push),
        ("web", build),
        ("web", release),
        ("web", deploy),
        ("api", api_push),
    ] {
        let own: Vec<Value> = changes
            .iter()
            .filter(|c| c["event_id"] == json!(id))
            .cloned()
            .collect();
        assert_eq!(history(&app, app_name, id).await, own, "event {id}");
    }
}

#[tokio::test]
async fn creating_or_deleting_apps_and_envs_is_not_a_change() {
    let app = app_with("web").await;
    app.create_event("web", "pushEvent", json!({})).await;
    let before = all_changes(&app).await;
    app.create_app("api").await;
    assert_ok(&app.put("/jdoe/apps/web/envs/qa", json!({})).await);
    assert_ok(&app.delete("/jdoe/envs/qa").await);
    assert_ok(&app.delete("/jdoe/apps/api").await);
    assert_eq!(all_changes(&app).await, before);
    assert_eq!(before.len(), 1);
}

#[tokio::test]
async fn after_resumes_the_listing_exactly_after_the_change_it_names() {
    let app = app_with("web").await;
    for _ in 0..5 {
        app.create_event("web", "pushEvent", json!({})).await;
    }
    let all = all_changes(&app).await;
    assert_eq!(all.len(), 5);
    let ids = change_ids(&all);
    for (i, after) in ids.iter().enumerate() {
        let got = list_all(
            &app,
            &format!("/jdoe/changes?after={after}&max_results=100"),
            "changes",
        )
        .await;
        assert_eq!(got, all[i + 1..], "after={after}");
    }
    let from_zero = list_all(&app, "/jdoe/changes?after=0", "changes").await;
    assert_eq!(from_zero, all);
    let last = *ids.last().unwrap();
    let answer = app
        .get(&format!("/jdoe/changes?after={}", last + 1000))
        .await;
    assert_ok(&answer);
    assert_eq!(answer.json, json!({"changes": [], "marker": null}));

    let paged = list_all(
        &app,
        &format!("/jdoe/changes?after={}&max_results=2", ids[0]),
        "changes",
    )
    .await;
    assert_eq!(paged, all[1..], "a marker continues an `after` listing");
}

#[tokio::test]
async fn list_changes_pages_by_marker_to_the_end_without_repeat() {
    let app = app_with("web").await;
    for _ in 0..4 {
        app.create_event("web", "pushEvent", json!({})).await;
    }
    let build = app.create_event("web", "buildEvent", json!({})).await;
    assert_ok(&update(&app, "web", build, json!({"build_status": "Queued"})).await);
    let whole = all_changes(&app).await;
    assert_eq!(whole.len(), 6);
    for size in [1, 2, 4, 5] {
        let pages = pages_of(&app, "/jdoe/changes", "changes", size).await;
        assert_eq!(pages.len(), 6usize.div_ceil(size), "size {size}");
        assert!(pages.iter().all(|p| !p.is_empty() && p.len() <= size));
        let paged: Vec<Value> = pages.into_iter().flatten().collect();
        assert_eq!(paged, whole, "size {size}");
    }
    let answer = app.get("/jdoe/changes?order=desc").await;
    assert_error(&answer, 400, "BadParam");
}

#[tokio::test]
async fn an_after_that_is_not_a_change_id_is_bad_param() {
    let app = app_with("web").await;
    app.create_event("web", "pushEvent", json!({})).await;
    for bad in ["abc", "-1", "1.5", "1e3"] {
        let answer = app.get(&format!("/jdoe/changes?after={bad}")).await;
        assert_error(&answer, 400, "BadParam");
        assert!(answer.message().contains("after"), "{bad}: {}", answer.text);
    }
}

#[tokio::test]
async fn list_changes_shows_only_the_accounts_own_changes() {
    let app = app_with("web").await;
    let bob = app.new_account("bob").await;
    let bob_put = |path: &'static str, body: Value| {
        let app = &app;
        let bob = bob.clone();
        async move { call_as(app, &bob, Method::PUT, path, Some(body)).await }
    };
    assert_ok(&bob_put("/bob/apps/web", json!({})).await);
    let mine_first = app.create_event("web", "pushEvent", push_body()).await;
    let bobs_push = created_id(&bob_put("/bob/apps/web/events/pushEvent", push_body()).await);
    let bobs_deploy = created_id(
        &bob_put(
            "/bob/apps/web/events/deployEvent",
            json!({"env_name": "bob-dev"}),
        )
        .await,
    );
    let mine_second = app
        .create_event("web", "deployEvent", json!({"env_name": "dev"}))
        .await;

    let mine = all_changes(&app).await;
    assert_eq!(ids(&mine), [mine_first, mine_second]);
    let jdoe = jdoe_actor(&app).await;
    assert!(mine.iter().all(|c| c["actor"] == jdoe), "{mine:?}");

    let bobs = changes_as(&app, "bob", &bob).await;
    assert_eq!(ids(&bobs), [bobs_push, bobs_deploy]);
    let bob_actor =
        json!({"user": "bob", "token_id": token_id_of(&app, "bob").await, "token_label": null});
    assert!(bobs.iter().all(|c| c["actor"] == bob_actor), "{bobs:?}");
    assert_ne!(bob_actor["token_id"], jdoe["token_id"]);

    let bob_ids = change_ids(&bobs);
    let my_ids = change_ids(&mine);
    assert!(bob_ids.iter().all(|id| !my_ids.contains(id)));
    assert!(
        my_ids[0] < bob_ids[0] && bob_ids[1] < my_ids[1],
        "change ids are server-wide: {my_ids:?} {bob_ids:?}"
    );
    let after_bob = list_all(
        &app,
        &format!("/jdoe/changes?after={}", bob_ids[0]),
        "changes",
    )
    .await;
    assert_eq!(ids(&after_bob), [mine_second]);

    let answer = call_as(&app, &bob, Method::GET, "/jdoe/changes", None).await;
    assert_error(&answer, 403, "AccessDenied");
    let answer = app.get("/bob/changes").await;
    assert_error(&answer, 403, "AccessDenied");
}

#[tokio::test]
async fn a_deploy_starts_when_created_and_is_no_hotfix_unless_told() {
    let app = app_with("web").await;
    let plain = app
        .create_event("web", "deployEvent", json!({"env_name": "dev"}))
        .await;
    let e = get_event(&app, "web", plain).await;
    assert!(is_response_timestamp(&e["deployment_start"]), "{e}");
    assert_eq!(
        e["deployment_start"], e["event_time"],
        "started when created"
    );
    assert_eq!(e["hotfix"], false);
    assert_eq!(e["deployment_end"], Value::Null);
    assert_eq!(e["commit_time"], Value::Null);

    let hotfix = app
        .create_event(
            "web",
            "deployEvent",
            json!({"env_name": "dev", "hotfix": true}),
        )
        .await;
    assert_eq!(get_event(&app, "web", hotfix).await["hotfix"], true);
    let not = app
        .create_event(
            "web",
            "deployEvent",
            json!({"env_name": "dev", "hotfix": false}),
        )
        .await;
    assert_eq!(get_event(&app, "web", not).await["hotfix"], false);
    let created = &history(&app, "web", plain).await[0];
    assert_eq!(created["fields"]["hotfix"], json!([null, false]));
    assert_eq!(
        created["fields"]["deployment_start"],
        json!([null, e["deployment_start"]])
    );
}

#[tokio::test]
async fn a_deploy_ends_when_it_reaches_a_terminal_status() {
    let app = app_with("web").await;
    for status in ["Ok", "Failed", "Aborted"] {
        let id = app
            .create_event(
                "web",
                "deployEvent",
                json!({"env_name": "dev", "deployment_status": "Pending"}),
            )
            .await;
        assert_ok(&update(&app, "web", id, json!({"deployment_status": "InProgress"})).await);
        let running = get_event(&app, "web", id).await;
        assert_eq!(running["deployment_end"], Value::Null, "{status}");
        let answer = update(
            &app,
            "web",
            id,
            json!({"deployment_status": status.to_lowercase()}),
        )
        .await;
        assert_ok(&answer);
        let ended = get_event(&app, "web", id).await;
        assert_eq!(answer.json["event"], ended);
        assert!(
            is_response_timestamp(&ended["deployment_end"]),
            "{status}: {ended}"
        );
        assert!(
            ended["deployment_end"].as_str() >= ended["deployment_start"].as_str(),
            "{status}: {ended}"
        );
        let changes = history(&app, "web", id).await;
        assert_eq!(changes.len(), 3, "{status}");
        assert_eq!(
            changes[1]["fields"],
            json!({"deployment_status": ["Pending", "InProgress"]})
        );
        assert_eq!(
            changes[2]["fields"],
            json!({
                "deployment_end": [null, ended["deployment_end"]],
                "deployment_status": ["InProgress", status]
            })
        );
    }
    let created_ok = app
        .create_event(
            "web",
            "deployEvent",
            json!({"env_name": "dev", "deployment_status": "OK"}),
        )
        .await;
    let e = get_event(&app, "web", created_ok).await;
    assert!(is_response_timestamp(&e["deployment_end"]), "{e}");
    assert!(e["deployment_end"].as_str() >= e["deployment_start"].as_str());
}

#[tokio::test]
async fn a_deployment_start_and_end_that_were_sent_are_kept() {
    let app = app_with("web").await;
    let on_create = app
        .create_event(
            "web",
            "deployEvent",
            json!({
                "env_name": "dev",
                "deployment_status": "Ok",
                "deployment_start": "2016-08-30T22:30:00Z",
                "deployment_end": "2016-08-31T00:35:00.500+02:00"
            }),
        )
        .await;
    let e = get_event(&app, "web", on_create).await;
    assert_eq!(e["deployment_start"], "2016-08-30T22:30:00.000Z");
    assert_eq!(e["deployment_end"], "2016-08-30T22:35:00.500Z");

    let on_update = app
        .create_event(
            "web",
            "deployEvent",
            json!({
                "env_name": "dev",
                "deployment_status": "InProgress",
                "deployment_start": START,
                "commit_id": COMMIT
            }),
        )
        .await;
    let answer = update(
        &app,
        "web",
        on_update,
        json!({"deployment_status": "Ok", "deployment_end": END}),
    )
    .await;
    assert_ok(&answer);
    let e = get_event(&app, "web", on_update).await;
    assert_eq!(e["deployment_start"], START);
    assert_eq!(e["deployment_end"], END);
    assert_eq!(
        deployed_to(&commit(&app, COMMIT).await),
        [
            json!({"env_name": "dev", "release_version": null, "deployed_at": END, "event_id": on_update})
        ],
        "deployed when it ended"
    );

    // An end goes with a terminal status, on create and on
    // update, and a refused one changes nothing.
    let before = snapshot(&app).await;
    let answer = app
        .put(
            "/jdoe/apps/web/events/deployEvent",
            json!({"env_name": "dev", "deployment_status": "InProgress", "deployment_end": END}),
        )
        .await;
    assert_error(&answer, 400, "BadParam");
    assert!(
        answer.message().contains("deployment_end"),
        "{}",
        answer.text
    );
    let running = app
        .create_event(
            "web",
            "deployEvent",
            json!({
                "env_name": "dev",
                "deployment_status": "InProgress",
                "deployment_start": START
            }),
        )
        .await;
    let answer = update(&app, "web", running, json!({"deployment_end": END})).await;
    assert_error(&answer, 400, "BadParam");
    assert!(
        answer.message().contains("deployment_end"),
        "{}",
        answer.text
    );
    assert_eq!(
        get_event(&app, "web", running).await["deployment_end"],
        Value::Null
    );
    assert_eq!(
        history(&app, "web", running).await.len(),
        1,
        "only its creation"
    );
    let _ = before;
}

#[tokio::test]
async fn a_deployment_end_before_the_start_sent_is_bad_param_and_changes_nothing() {
    let app = app_with("web").await;
    let id = app
        .create_event(
            "web",
            "deployEvent",
            json!({"env_name": "dev", "deployment_status": "InProgress"}),
        )
        .await;
    let snapshot_before = snapshot(&app).await;
    let changes_before = all_changes(&app).await;
    for env in ["dev", "prod"] {
        let body = json!({
            "env_name": env,
            "deployment_status": "Ok",
            "deployment_start": END,
            "deployment_end": START
        });
        let answer = app
            .put("/jdoe/apps/web/events/deployEvent", body.clone())
            .await;
        assert_error(&answer, 400, "BadParam");
        assert!(
            answer.message().contains("deployment_end"),
            "{body}: {}",
            answer.text
        );
    }
    for body in [
        json!({"deployment_status": "Ok", "deployment_end": "2000-01-01T00:00:00Z"}),
        json!({"deployment_end": "2000-01-01T00:00:00Z"}),
    ] {
        let answer = update(&app, "web", id, body.clone()).await;
        assert_error(&answer, 400, "BadParam");
        assert!(
            answer.message().contains("deployment_end"),
            "{body}: {}",
            answer.text
        );
    }
    assert_eq!(snapshot(&app).await, snapshot_before);
    assert_eq!(all_changes(&app).await, changes_before);
    let e = get_event(&app, "web", id).await;
    assert_eq!(e["deployment_status"], "InProgress");
    assert_eq!(e["deployment_end"], Value::Null);
}

#[tokio::test]
async fn a_deployment_end_before_the_deploys_creation_is_bad_param() {
    let app = app_with("web").await;
    for body in [
        json!({"env_name": "dev", "deployment_end": "2000-01-01T00:00:00Z"}),
        json!({"env_name": "prod", "deployment_status": "Ok", "deployment_end": "2000-01-01T00:00:00Z"}),
    ] {
        let answer = app
            .put("/jdoe/apps/web/events/deployEvent", body.clone())
            .await;
        assert_error(&answer, 400, "BadParam");
        assert!(
            answer.message().contains("deployment_end"),
            "{body}: {}",
            answer.text
        );
    }
    assert!(all_events(&app, "web").await.is_empty());
    assert!(all_changes(&app).await.is_empty());
    assert_eq!(app.get("/jdoe/envs").await.json["envs"], json!([]));
}

#[tokio::test]
async fn commit_time_round_trips_on_a_push_and_is_null_unless_sent() {
    let app = app_with("web").await;
    let sent = app
        .create_event(
            "web",
            "pushEvent",
            with(
                push_body(),
                json!({"commit_time": "2016-08-30T22:00:00.250+02:00"}),
            ),
        )
        .await;
    let e = get_event(&app, "web", sent).await;
    assert_eq!(e["commit_time"], "2016-08-30T20:00:00.250Z");
    assert_eq!(
        history(&app, "web", sent).await[0]["fields"]["commit_time"],
        json!([null, "2016-08-30T20:00:00.250Z"])
    );
    let unsent = app.create_event("web", "pushEvent", push_body()).await;
    assert_eq!(
        get_event(&app, "web", unsent).await["commit_time"],
        Value::Null
    );
    for (kind, body) in [
        ("pullRequestEvent", json!({})),
        ("buildEvent", json!({})),
        ("releaseEvent", json!({})),
        ("deployEvent", json!({"env_name": "dev"})),
    ] {
        let id = app.create_event("web", kind, body).await;
        let e = get_event(&app, "web", id).await;
        assert!(
            e.as_object().unwrap().contains_key("commit_time"),
            "{kind}: {e}"
        );
        assert_eq!(e["commit_time"], Value::Null, "{kind}");
    }
}

#[tokio::test]
async fn commit_time_flows_from_the_push_to_its_build_release_and_deploy() {
    let app = app_with("web").await;
    const SENT: &str = "2016-08-30T21:59:00Z";
    const STORED: &str = "2016-08-30T21:59:00.000Z";
    let push = app
        .create_event(
            "web",
            "pushEvent",
            with(push_body(), json!({"commit_time": SENT})),
        )
        .await;
    let build = app
        .create_event(
            "web",
            "buildEvent",
            json!({"parent_event_id": push.to_string(), "build_status": "Running"}),
        )
        .await;
    assert_eq!(get_event(&app, "web", build).await["commit_time"], STORED);
    assert_ok(&update(&app, "web", build, json!({"release_version": "v1"})).await);
    let release = events_of_type(&app, "web", "RELEASE").await[0].clone();
    assert_eq!(release["parent_event_id"], json!(build.to_string()));
    assert_eq!(release["commit_time"], STORED);
    let deploy = app
        .create_event(
            "web",
            "deployEvent",
            json!({"env_name": "dev", "release_version": "v1"}),
        )
        .await;
    let d = get_event(&app, "web", deploy).await;
    assert_eq!(d["commit_time"], STORED);
    assert_eq!(d["parent_event_id"], release["event_id"].to_string());

    let made = app
        .create_event(
            "web",
            "releaseEvent",
            json!({"parent_event_id": build.to_string(), "release_version": "v2"}),
        )
        .await;
    assert_eq!(get_event(&app, "web", made).await["commit_time"], STORED);

    let orphan = app
        .create_event("web", "buildEvent", json!({"build_status": "Running"}))
        .await;
    assert_eq!(
        get_event(&app, "web", orphan).await["commit_time"],
        Value::Null
    );
}

#[tokio::test]
async fn an_invalid_commit_time_or_deployment_time_is_bad_param() {
    let app = app_with("web").await;
    for (kind, body, field) in [
        (
            "pushEvent",
            json!({"commit_time": "yesterday"}),
            "commit_time",
        ),
        (
            "buildEvent",
            json!({"commit_time": "2016-13-45T00:00:00Z"}),
            "commit_time",
        ),
        (
            "deployEvent",
            json!({"env_name": "dev", "commit_time": 1472595600}),
            "commit_time",
        ),
        (
            "deployEvent",
            json!({"env_name": "dev", "deployment_start": "soon"}),
            "deployment_start",
        ),
        (
            "deployEvent",
            json!({"env_name": "dev", "deployment_end": "later"}),
            "deployment_end",
        ),
    ] {
        let answer = app
            .put(&format!("/jdoe/apps/web/events/{kind}"), body.clone())
            .await;
        assert_error(&answer, 400, "BadParam");
        assert!(
            answer.message().contains(field),
            "{kind} {body}: {}",
            answer.text
        );
    }
    assert!(all_events(&app, "web").await.is_empty());
    assert!(all_changes(&app).await.is_empty());
    assert_eq!(app.get("/jdoe/envs").await.json["envs"], json!([]));
}

#[tokio::test]
async fn a_commit_id_no_event_can_carry_is_not_found_and_an_undecodable_one_bad_param() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    app.create_event("web", "pushEvent", json!({"commit_id": "c1"}))
        .await;
    let long = "c".repeat(10_000);
    for commit_id in ["%00", "c1%00", long.as_str(), "%E2%80%AE", "..%2F..%2Fetc"] {
        let answer = app
            .get(&format!("/jdoe/apps/web/commits/{commit_id}"))
            .await;
        assert_error(&answer, 404, "NotFound");
        assert!(
            answer.message().starts_with("Commit "),
            "{commit_id}: {}",
            answer.text
        );
    }
    let answer = app.get("/jdoe/apps/web/commits/%FF").await;
    assert_error(&answer, 400, "BadParam");
    let answer = app.get("/jdoe/apps/web/commits/c1").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
}
