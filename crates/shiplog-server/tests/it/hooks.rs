//! Webhooks over HTTP: configuring hooks, authenticating deliveries on
//! their raw bytes, recording each delivery once, and moving builds and
//! deploys only forward, with payloads of our own making in the shapes
//! GitHub and GitLab send.

use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::{Answer, TestApp};
use crate::support::*;

const SHA: &str = "6113728f27ae82c7b1a177c8d03f9e96e0adf246";

/// GitHub's signature header value for `body`.
fn github_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

/// Configures the test account's hook of `provider`; answers its secret.
async fn configure(app: &TestApp, provider: &str, body: Value) -> String {
    let answer = app.put(&format!("/jdoe/hooks/{provider}"), body).await;
    assert_ok(&answer);
    answer.json["hook"]["secret"].as_str().unwrap().to_owned()
}

/// Delivers `body` to jdoe's GitHub hook as GitHub would.
async fn github(app: &TestApp, secret: &str, event: &str, delivery: &str, body: &Value) -> Answer {
    let bytes = serde_json::to_vec(body).unwrap();
    let signature = github_signature(secret, &bytes);
    let headers = [
        ("X-GitHub-Event", event),
        ("X-GitHub-Delivery", delivery),
        ("X-Hub-Signature-256", signature.as_str()),
    ];
    deliver_raw(app, "jdoe", "github", &bytes, &headers).await
}

async fn deliver_raw(
    app: &TestApp,
    account: &str,
    provider: &str,
    body: &[u8],
    headers: &[(&str, &str)],
) -> Answer {
    let url = format!("{}/{account}/hooks/{provider}", app.base);
    app.send_with_headers(Method::POST, &url, Some(body), headers)
        .await
}

fn repository() -> Value {
    json!({"name": "shop", "owner": {"login": "acme"}, "html_url": "https://github.com/acme/shop"})
}

fn push() -> Value {
    json!({
        "ref": "refs/heads/main",
        "after": SHA,
        "deleted": false,
        "head_commit": {
            "id": SHA,
            "message": "Fix the cart",
            "timestamp": "2026-03-02T09:00:00Z",
            "url": format!("https://github.com/acme/shop/commit/{SHA}"),
            "author": {"name": "Mona Lisa", "username": "mona"}
        },
        "repository": repository()
    })
}

fn run(action: &str, conclusion: Option<&str>, attempt: u64) -> Value {
    json!({
        "action": action,
        "workflow_run": {
            "id": 4242,
            "run_attempt": attempt,
            "conclusion": conclusion,
            "head_sha": SHA,
            "head_branch": "main",
            "html_url": "https://github.com/acme/shop/actions/runs/4242",
            "run_started_at": "2026-03-02T09:01:00Z",
            "updated_at": "2026-03-02T09:05:00Z"
        },
        "repository": repository()
    })
}

fn deployment_status(state: &str) -> Value {
    json!({
        "action": "created",
        "deployment": {
            "id": 777, "sha": SHA, "ref": "main", "environment": "production",
            "created_at": "2026-03-02T10:00:00Z", "creator": {"login": "mona"}
        },
        "deployment_status": {"state": state, "created_at": "2026-03-02T10:05:00Z"},
        "repository": repository()
    })
}

fn ids(answer: &Answer) -> Vec<String> {
    answer.json["event_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_hook_is_configured_listed_rotated_and_removed() {
    let app = TestApp::spawn().await;
    let answer = app.put("/jdoe/hooks/github", json!({})).await;
    assert_ok(&answer);
    let hook = &answer.json["hook"];
    assert_eq!(hook["provider"], "github");
    assert_eq!(hook["url"], format!("{}/jdoe/hooks/github", app.base));
    assert_eq!(hook["app"], Value::Null);
    assert_eq!(hook["create_apps"], true);
    let first = hook["secret"].as_str().unwrap().to_owned();
    assert!(first.len() >= 32, "{first}");

    let listed = app.get("/jdoe/hooks").await;
    assert_ok(&listed);
    assert!(
        !listed.text.contains(&first),
        "a listing never shows a secret"
    );
    let entry = &listed.json["hooks"][0];
    assert_eq!(entry["deliveries"], 0);
    assert_eq!(entry["last_delivery_at"], Value::Null);

    // A repeat rotates the secret and replaces the settings.
    let second = configure(&app, "github", json!({"app": "web", "create_apps": false})).await;
    assert_ne!(second, first);
    let old = github(&app, &first, "ping", "p-1", &json!({"zen": "hi"})).await;
    assert_error(&old, 401, "AuthenticationFailed");
    let ping = github(&app, &second, "ping", "p-2", &json!({"zen": "hi"})).await;
    assert_ok(&ping);
    assert_eq!(
        ping.json["ignored"].as_str().map(|s| !s.is_empty()),
        Some(true)
    );
    assert_eq!(ping.json["duplicate"], false);
    assert_eq!(ids(&ping), Vec::<String>::new());
    let entry = app.get("/jdoe/hooks").await.json["hooks"][0].clone();
    assert_eq!(entry["app"], "web");
    assert_eq!(entry["create_apps"], false);
    assert_eq!(entry["deliveries"], 1);
    assert!(entry["last_delivery_at"].is_string());

    assert_ok(&app.delete("/jdoe/hooks/github").await);
    let gone = github(&app, &second, "ping", "p-3", &json!({})).await;
    assert_error(&gone, 401, "AuthenticationFailed");
    assert_error(&app.delete("/jdoe/hooks/github").await, 404, "NotFound");
    assert_error(
        &app.put("/jdoe/hooks/svn", json!({})).await,
        404,
        "NotFound",
    );
    let bad_app = app.put("/jdoe/hooks/github", json!({"app": "../x"})).await;
    assert_error(&bad_app, 400, "BadParam");
}

#[tokio::test]
async fn hooks_belong_to_their_account() {
    let app = TestApp::spawn().await;
    let token = app.new_account("other").await;
    let url = app.url_with_token("/jdoe/hooks", &token);
    let answer = app.send_raw(Method::GET, &url, None).await;
    assert_error(&answer, 403, "AccessDenied");
    let url = app.url_with_token("/jdoe/hooks/github", &token);
    let answer = app.send_raw(Method::PUT, &url, None).await;
    assert_error(&answer, 403, "AccessDenied");
}

#[tokio::test]
async fn a_delivery_without_the_right_signature_is_401_and_records_nothing() {
    let app = TestApp::spawn().await;
    let secret = configure(&app, "github", json!({})).await;
    let body = serde_json::to_vec(&push()).unwrap();
    let good = github_signature(&secret, &body);
    let mut changed = body.clone();
    let last = changed.len() - 2;
    changed[last] = b' ';
    let wrong = github_signature("not-the-secret", &body);
    type Case<'a> = (&'a str, &'a [u8], Vec<(&'a str, &'a str)>);
    let cases: Vec<Case> = vec![
        ("no signature", &body, vec![]),
        (
            "a wrong secret",
            &body,
            vec![("X-Hub-Signature-256", wrong.as_str())],
        ),
        (
            "a changed byte",
            &changed,
            vec![("X-Hub-Signature-256", good.as_str())],
        ),
        ("not hex", &body, vec![("X-Hub-Signature-256", "sha256=zz")]),
    ];
    for (case, bytes, mut headers) in cases {
        headers.extend([("X-GitHub-Event", "push"), ("X-GitHub-Delivery", "d-1")]);
        let answer = deliver_raw(&app, "jdoe", "github", bytes, &headers).await;
        assert_error(&answer, 401, "AuthenticationFailed");
        assert!(answer.text.contains("AuthenticationFailed"), "{case}");
    }
    // An account without a hook, and one that does not exist, look alike.
    let headers = [
        ("X-GitHub-Event", "push"),
        ("X-GitHub-Delivery", "d-1"),
        ("X-Hub-Signature-256", good.as_str()),
    ];
    let no_hook = deliver_raw(&app, "jdoe", "gitlab", &body, &headers).await;
    let no_account = deliver_raw(&app, "nobody", "github", &body, &headers).await;
    assert_error(&no_hook, 401, "AuthenticationFailed");
    assert_eq!(no_hook.text, no_account.text);
    assert_error(&app.get("/jdoe/apps/shop").await, 404, "NotFound");
    assert_eq!(
        app.get("/jdoe/hooks").await.json["hooks"][0]["deliveries"],
        0
    );
}

#[tokio::test]
async fn a_gitlab_delivery_is_authenticated_by_its_token() {
    let app = TestApp::spawn().await;
    let secret = configure(&app, "gitlab", json!({})).await;
    let body = serde_json::to_vec(&json!({"object_kind": "note"})).unwrap();
    let short = &secret[..secret.len() - 1];
    for token in [short, "x"] {
        let headers = [
            ("X-Gitlab-Event", "Note Hook"),
            ("X-Gitlab-Event-UUID", "u-1"),
            ("X-Gitlab-Token", token),
        ];
        let answer = deliver_raw(&app, "jdoe", "gitlab", &body, &headers).await;
        assert_error(&answer, 401, "AuthenticationFailed");
    }
    let headers = [
        ("X-Gitlab-Event", "Note Hook"),
        ("X-Gitlab-Event-UUID", "u-1"),
        ("X-Gitlab-Token", secret.as_str()),
    ];
    let answer = deliver_raw(&app, "jdoe", "gitlab", &body, &headers).await;
    assert_ok(&answer);
    assert_eq!(answer.json["delivery"], "u-1");
    assert!(answer.json["ignored"].is_string(), "{}", answer.text);
}

#[tokio::test]
async fn a_push_is_recorded_once_however_often_it_is_redelivered() {
    let app = TestApp::spawn().await;
    let secret = configure(&app, "github", json!({})).await;
    let first = github(&app, &secret, "push", "d-push", &push()).await;
    assert_ok(&first);
    assert_eq!(first.json["delivery"], "d-push");
    assert_eq!(first.json["duplicate"], false);
    assert_eq!(first.json["ignored"], Value::Null);
    let id = ids(&first);
    assert_eq!(id.len(), 1);
    for _ in 0..2 {
        let again = github(&app, &secret, "push", "d-push", &push()).await;
        assert_ok(&again);
        assert_eq!(again.json["duplicate"], true);
        assert_eq!(ids(&again), id);
    }
    let events = all_events(&app, "shop").await;
    assert_eq!(events.len(), 1, "the app is created on first use");
    let event = &events[0];
    assert_eq!(event["event_type"], "PUSH");
    assert_eq!(event["commit_id"], SHA);
    assert_eq!(event["branch"], "main");
    assert_eq!(event["commit_time"], "2026-03-02T09:00:00.000Z");
    assert_eq!(event["repo_provider"], "github");
    let history = list_all(
        &app,
        &format!("/jdoe/apps/shop/events/{}/history", id[0]),
        "changes",
    )
    .await;
    assert_eq!(history.len(), 1);
    assert_eq!(
        history[0]["actor"],
        json!({"hook": "github", "delivery": "d-push"})
    );
    assert_eq!(
        app.get("/jdoe/hooks").await.json["hooks"][0]["deliveries"],
        1
    );
}

#[tokio::test]
async fn workflow_runs_move_forward_only_and_each_attempt_is_a_build() {
    let app = TestApp::spawn().await;
    let secret = configure(&app, "github", json!({})).await;
    let push_id = ids(&github(&app, &secret, "push", "d-0", &push()).await)[0].clone();
    // Completed arrives first: the build is created terminal.
    let done = github(
        &app,
        &secret,
        "workflow_run",
        "d-1",
        &run("completed", Some("failure"), 1),
    )
    .await;
    assert_ok(&done);
    let build = ids(&done)[0].clone();
    // The late ones change nothing and are answered 200.
    for (delivery, action) in [("d-2", "requested"), ("d-3", "in_progress")] {
        let late = github(
            &app,
            &secret,
            "workflow_run",
            delivery,
            &run(action, None, 1),
        )
        .await;
        assert_ok(&late);
        assert_eq!(ids(&late), Vec::<String>::new(), "{}", late.text);
    }
    let event = app
        .get(&format!("/jdoe/apps/shop/events/{build}"))
        .await
        .json["event"]
        .clone();
    assert_eq!(event["build_status"], "Failed");
    assert_eq!(event["build_provider"], "github-actions");
    assert_eq!(event["build_id"], "4242");
    assert_eq!(
        event["parent_event_id"], push_id,
        "linked to the push of its commit"
    );
    assert_eq!(event["build_end"], "2026-03-02T09:05:00.000Z");

    // A second attempt is another build, moved forward in order.
    let queued = github(
        &app,
        &secret,
        "workflow_run",
        "d-4",
        &run("requested", None, 2),
    )
    .await;
    let retry = ids(&queued)[0].clone();
    assert_ne!(retry, build);
    let running = github(
        &app,
        &secret,
        "workflow_run",
        "d-5",
        &run("in_progress", None, 2),
    )
    .await;
    assert_eq!(ids(&running), std::slice::from_ref(&retry));
    let passed = github(
        &app,
        &secret,
        "workflow_run",
        "d-6",
        &run("completed", Some("success"), 2),
    )
    .await;
    assert_eq!(ids(&passed), std::slice::from_ref(&retry));
    let event = app
        .get(&format!("/jdoe/apps/shop/events/{retry}"))
        .await
        .json["event"]
        .clone();
    assert_eq!(event["build_status"], "Success");
    assert_eq!(event["build_id"], "4242.2");
    let history = list_all(
        &app,
        &format!("/jdoe/apps/shop/events/{retry}/history"),
        "changes",
    )
    .await;
    assert_eq!(
        history.len(),
        3,
        "created Queued, then Running, then Success"
    );
}

#[tokio::test]
async fn deployment_statuses_make_one_deploy_that_never_goes_back() {
    let app = TestApp::spawn().await;
    let secret = configure(&app, "github", json!({})).await;
    let ok = github(
        &app,
        &secret,
        "deployment_status",
        "s-1",
        &deployment_status("success"),
    )
    .await;
    assert_ok(&ok);
    let deploy = ids(&ok)[0].clone();
    let late = github(
        &app,
        &secret,
        "deployment_status",
        "s-2",
        &deployment_status("in_progress"),
    )
    .await;
    assert_ok(&late);
    assert_eq!(ids(&late), Vec::<String>::new());
    let inactive = github(
        &app,
        &secret,
        "deployment_status",
        "s-3",
        &deployment_status("inactive"),
    )
    .await;
    assert_ok(&inactive);
    let event = app
        .get(&format!("/jdoe/apps/shop/events/{deploy}"))
        .await
        .json["event"]
        .clone();
    assert_eq!(event["deployment_status"], "Ok");
    assert_eq!(event["env_name"], "production");
    assert_eq!(event["deployment_id"], "777");
    let deploys = list_all(
        &app,
        "/jdoe/apps/shop/events?filter_name=EventType&filter_event_type=Deploy",
        "events",
    )
    .await;
    assert_eq!(deploys.len(), 1);
}

#[tokio::test]
async fn the_hook_app_and_create_apps_decide_where_deliveries_go() {
    let app = TestApp::spawn().await;
    let secret = configure(&app, "github", json!({"create_apps": false})).await;
    let refused = github(&app, &secret, "push", "d-1", &push()).await;
    assert_error(&refused, 404, "NotFound");
    assert!(refused.message().contains("shop"), "{}", refused.text);
    app.create_app("shop").await;
    let accepted = github(&app, &secret, "push", "d-1", &push()).await;
    assert_ok(&accepted);
    assert_eq!(
        accepted.json["duplicate"], false,
        "a refused delivery is not remembered"
    );

    app.create_app("web").await;
    let secret = configure(&app, "github", json!({"app": "web", "create_apps": false})).await;
    assert_ok(&github(&app, &secret, "push", "d-2", &push()).await);
    assert_eq!(all_events(&app, "web").await.len(), 1);
    assert_eq!(all_events(&app, "shop").await.len(), 1);
}

#[tokio::test]
async fn a_signed_body_that_is_not_json_or_not_mappable_is_400_and_records_nothing() {
    let app = TestApp::spawn().await;
    let secret = configure(&app, "github", json!({})).await;
    for body in [&b"{not json"[..], b"[1, 2]", b""] {
        let signature = github_signature(&secret, body);
        let headers = [
            ("X-GitHub-Event", "push"),
            ("X-GitHub-Delivery", "d-1"),
            ("X-Hub-Signature-256", signature.as_str()),
        ];
        let answer = deliver_raw(&app, "jdoe", "github", body, &headers).await;
        assert_eq!(answer.status.as_u16(), 400, "{}", answer.text);
    }
    // Without a delivery id there is nothing to deduplicate by.
    let bytes = serde_json::to_vec(&push()).unwrap();
    let signature = github_signature(&secret, &bytes);
    let headers = [
        ("X-GitHub-Event", "push"),
        ("X-Hub-Signature-256", signature.as_str()),
    ];
    let answer = deliver_raw(&app, "jdoe", "github", &bytes, &headers).await;
    assert_eq!(answer.status.as_u16(), 400, "{}", answer.text);
    assert_error(&app.get("/jdoe/apps/shop").await, 404, "NotFound");
    assert_eq!(
        app.get("/jdoe/hooks").await.json["hooks"][0]["deliveries"],
        0
    );
}

#[tokio::test]
async fn a_delivery_may_be_five_mebibytes_and_no_more() {
    let app = TestApp::spawn().await;
    let secret = configure(&app, "github", json!({})).await;
    // A push with many commits listed, as hosts send for big merges.
    let with_commits = |count: usize| {
        let mut body = push();
        let commit = json!({"id": SHA, "message": "m".repeat(1000), "added": [], "removed": []});
        body["commits"] = Value::Array(vec![commit; count]);
        body
    };
    let big = with_commits(3000);
    assert!(serde_json::to_vec(&big).unwrap().len() > 2 * 1024 * 1024);
    let answer = github(&app, &secret, "push", "d-big", &big).await;
    assert_ok(&answer);
    assert_eq!(ids(&answer).len(), 1);
    let too_big = with_commits(5500);
    let answer = github(&app, &secret, "push", "d-huge", &too_big).await;
    assert_error(&answer, 413, "PayloadTooLarge");
    assert_eq!(all_events(&app, "shop").await.len(), 1);
}

#[tokio::test]
async fn a_release_the_app_already_has_is_no_change() {
    let app = TestApp::spawn().await;
    let secret = configure(&app, "github", json!({})).await;
    let release = json!({
        "action": "published",
        "release": {"tag_name": "v1.2.0", "target_commitish": SHA, "author": {"login": "mona"}},
        "repository": repository()
    });
    let first = github(&app, &secret, "release", "r-1", &release).await;
    assert_ok(&first);
    assert_eq!(ids(&first).len(), 1);
    // Another delivery of the same tag (say, the release edited and
    // published again) is answered 200 and records nothing.
    let again = github(&app, &secret, "release", "r-2", &release).await;
    assert_ok(&again);
    assert_eq!(again.json["duplicate"], false);
    assert_eq!(ids(&again), Vec::<String>::new());
    let releases = list_all(
        &app,
        "/jdoe/apps/shop/events?filter_name=EventType&filter_event_type=Release",
        "events",
    )
    .await;
    assert_eq!(releases.len(), 1);
    assert_eq!(releases[0]["release_version"], "v1.2.0");
    assert_eq!(releases[0]["commit_id"], SHA);
}
