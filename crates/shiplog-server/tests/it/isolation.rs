//! Accounts are walled off from each other.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::support::*;

/// `bob` with an app `shared` (events of every type, an env) next to jdoe's
/// own app `shared`.
async fn two_accounts() -> (TestApp, String, i64) {
    let app = TestApp::spawn().await;
    let bob = app.new_account("bob").await;
    let put = |path: &'static str, body: Value| {
        let app = &app;
        let bob = bob.clone();
        async move { call_as(app, &bob, Method::PUT, path, Some(body)).await }
    };
    assert_ok(&put("/bob/apps/shared", json!({"description": "bob's"})).await);
    assert_ok(
        &put(
            "/bob/apps/shared/events/pushEvent",
            json!({"branch": "bob-secret"}),
        )
        .await,
    );
    let build = created_id(
        &put(
            "/bob/apps/shared/events/buildEvent",
            json!({"build_status": "Running"}),
        )
        .await,
    );
    assert_ok(
        &put(
            "/bob/apps/shared/events/deployEvent",
            json!({"env_name": "dev"}),
        )
        .await,
    );
    assert_ok(&put("/bob/apps/shared/envs/bob-env", json!({})).await);
    app.create_app("shared").await;
    (app, bob, build)
}

fn bobs_routes(build: i64) -> Vec<(Method, String, Option<Value>)> {
    vec![
        (Method::GET, "/bob/apps".into(), None),
        (Method::GET, "/bob/apps/shared".into(), None),
        (Method::PUT, "/bob/apps/shared".into(), Some(json!({}))),
        (Method::PUT, "/bob/apps/jdoe-made".into(), Some(json!({}))),
        (Method::DELETE, "/bob/apps/shared".into(), None),
        (Method::GET, "/bob/apps/shared/events".into(), None),
        (
            Method::GET,
            "/bob/apps/shared/events?filter_name=Env&filter_env=dev".into(),
            None,
        ),
        (
            Method::PUT,
            "/bob/apps/shared/events/pushEvent".into(),
            Some(json!({})),
        ),
        (
            Method::PUT,
            "/bob/apps/shared/events/pullRequestEvent".into(),
            Some(json!({})),
        ),
        (
            Method::PUT,
            "/bob/apps/shared/events/buildEvent".into(),
            Some(json!({})),
        ),
        (
            Method::PUT,
            "/bob/apps/shared/events/releaseEvent".into(),
            Some(json!({})),
        ),
        (
            Method::PUT,
            "/bob/apps/shared/events/deployEvent".into(),
            Some(json!({"env_name": "dev"})),
        ),
        (
            Method::POST,
            format!("/bob/apps/shared/events/{build}"),
            Some(json!({"build_status": "Queued"})),
        ),
        (Method::GET, "/bob/envs".into(), None),
        (Method::GET, "/bob/envs/dev".into(), None),
        (Method::DELETE, "/bob/envs/dev".into(), None),
        (Method::GET, "/bob/apps/shared/envs".into(), None),
        (
            Method::PUT,
            "/bob/apps/shared/envs/jdoe-env".into(),
            Some(json!({})),
        ),
    ]
}

#[tokio::test]
async fn a_token_of_one_account_is_denied_everything_of_another() {
    let (app, bob, build) = two_accounts().await;
    let before = snapshot_as(&app, "bob", &bob).await;
    for (method, path, body) in bobs_routes(build) {
        let answer = app.call(method.clone(), &path, body).await;
        assert_error(&answer, 403, "AccessDenied");
        assert!(!answer.text.contains("bob-secret"), "{method} {path}");
    }
    assert_eq!(snapshot_as(&app, "bob", &bob).await, before);
}

#[tokio::test]
async fn a_bearer_token_of_one_account_is_denied_another() {
    let (app, bob, _) = two_accounts().await;
    let answer = send_with_headers(
        &app,
        Method::GET,
        &format!("{}/bob/apps", app.base),
        &[("Authorization", &format!("Bearer {}", app.token))],
        None,
    )
    .await;
    assert_error(&answer, 403, "AccessDenied");
    let answer = send_with_headers(
        &app,
        Method::GET,
        &format!("{}/bob/apps", app.base),
        &[("Authorization", &format!("Bearer {bob}"))],
        None,
    )
    .await;
    assert_ok(&answer);
}

#[tokio::test]
async fn the_other_way_round_is_denied_too() {
    let (app, bob, _) = two_accounts().await;
    app.create_event("shared", "pushEvent", json!({})).await;
    let before = snapshot(&app).await;
    for (method, path, body) in [
        (Method::GET, "/jdoe/apps", None),
        (Method::GET, "/jdoe/apps/shared/events", None),
        (
            Method::PUT,
            "/jdoe/apps/shared/events/pushEvent",
            Some(json!({})),
        ),
        (Method::DELETE, "/jdoe/apps/shared", None),
    ] {
        let answer = call_as(&app, &bob, method, path, body).await;
        assert_error(&answer, 403, "AccessDenied");
    }
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn another_accounts_events_never_show_in_an_app_of_the_same_name() {
    let (app, bob, _) = two_accounts().await;
    let mine = app
        .create_event("shared", "pushEvent", json!({"branch": "mine"}))
        .await;
    let events = all_events(&app, "shared").await;
    assert_eq!(ids(&events), [mine]);
    for query in [
        "filter_name=Branch&filter_branch=bob-secret",
        "filter_event_type=build",
        "filter_branch=bob-secret",
    ] {
        let answer = app.get(&format!("/jdoe/apps/shared/events?{query}")).await;
        assert_ok(&answer);
        assert_eq!(answer.json["events"], json!([]), "{query}");
    }
    let answer = app
        .get("/jdoe/apps/shared/events?filter_name=Env&filter_env=dev")
        .await;
    assert_error(&answer, 404, "NotFound");
    assert_eq!(answer.message(), "Env dev not found");
    let bobs = list_all_as(&app, &bob, "/bob/apps/shared/events", "events").await;
    assert!(!ids(&bobs).contains(&mine));
    assert_eq!(bobs.len(), 3);
}

#[tokio::test]
async fn an_event_of_another_account_cannot_be_updated_through_ones_own_app() {
    let (app, bob, build) = two_accounts().await;
    let answer = app
        .post(
            &format!("/jdoe/apps/shared/events/{build}"),
            json!({"build_status": "Queued"}),
        )
        .await;
    assert_error(&answer, 404, "NotFound");
    assert_eq!(answer.message(), format!("Event {build} not found"));
    let bobs = list_all_as(&app, &bob, "/bob/apps/shared/events", "events").await;
    let b = bobs.iter().find(|e| e["event_id"] == json!(build)).unwrap();
    assert_eq!(b["build_status"], "Running");
}

#[tokio::test]
async fn a_parent_in_another_account_is_refused() {
    let (app, _, build) = two_accounts().await;
    let answer = app
        .put(
            "/jdoe/apps/shared/events/releaseEvent",
            json!({"parent_event_id": build}),
        )
        .await;
    assert_error(&answer, 400, "BadParam");
    assert!(all_events(&app, "shared").await.is_empty());
}

#[tokio::test]
async fn env_names_are_per_account() {
    let (app, bob, _) = two_accounts().await;
    assert_ok(&app.put("/jdoe/apps/shared/envs/dev", json!({})).await);
    assert_ok(&app.put("/jdoe/apps/shared/envs/bob-env", json!({})).await);
    let mine = app.get("/jdoe/envs").await;
    let names: Vec<_> = mine.json["envs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].clone())
        .collect();
    assert_eq!(names, [json!("bob-env"), json!("dev")]);
    for e in mine.json["envs"].as_array().unwrap() {
        assert_eq!(e["owner"], "jdoe");
        assert_eq!(e["last_deployment"], Value::Null);
    }
    let bobs = call_as(&app, &bob, Method::GET, "/bob/envs/dev", None).await;
    assert_ok(&bobs);
    assert_eq!(bobs.json["env"]["owner"], "bob");
    assert_eq!(bobs.json["env"]["last_deployment"]["event_type"], "DEPLOY");
}

#[tokio::test]
async fn app_names_are_per_account() {
    let (app, bob, _) = two_accounts().await;
    let mine = app.get("/jdoe/apps/shared").await;
    assert_eq!(mine.json["app"]["owner"], "jdoe");
    assert_eq!(mine.json["app"]["description"], Value::Null);
    assert_eq!(mine.json["app"]["latest_build"], Value::Null);
    let bobs = call_as(&app, &bob, Method::GET, "/bob/apps/shared", None).await;
    assert_eq!(bobs.json["app"]["owner"], "bob");
    assert_eq!(bobs.json["app"]["description"], "bob's");
    assert_ok(&app.delete("/jdoe/apps/shared").await);
    assert_ok(&call_as(&app, &bob, Method::GET, "/bob/apps/shared", None).await);
    assert_eq!(
        list_all_as(&app, &bob, "/bob/apps/shared/events", "events")
            .await
            .len(),
        3
    );
}
