//! What the server stored is still there after a restart.

use reqwest::Method;
use serde_json::json;

use crate::helpers::TestApp;
use crate::support::*;

#[tokio::test]
async fn events_apps_and_envs_survive_a_restart() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    assert_ok(
        &app.put("/jdoe/apps/api", json!({"description": "API"}))
            .await,
    );
    assert_ok(
        &app.put(
            "/jdoe/apps/web/envs/prod",
            json!({"tags": ["eu"], "vars": [{"name": "A", "value": "1"}]}),
        )
        .await,
    );
    let push = app.create_event("web", "pushEvent", push_body()).await;
    app.create_event("web", "pullRequestEvent", push_body())
        .await;
    let build = app
        .create_event(
            "web",
            "buildEvent",
            with(build_body(), json!({"parent_event_id": push})),
        )
        .await;
    assert_ok(
        &app.post(
            &format!("/jdoe/apps/web/events/{build}"),
            json!({"build_status": "Success", "build_end": "2016-08-30T22:31:11Z", "release_version": "v5"}),
        )
        .await,
    );
    app.create_event(
        "web",
        "deployEvent",
        json!({"env_name": "dev", "release_version": "v5", "deployment_status": "Ok"}),
    )
    .await;
    for _ in 0..5 {
        app.create_event(
            "api",
            "pushEvent",
            json!({"commit_msg": "line 1\nline 2 \u{e9}\u{1F680}"}),
        )
        .await;
    }
    let before = snapshot(&app).await;
    assert_eq!(before["events"]["web"].as_array().unwrap().len(), 5);
    let max_id = before["events"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|v| ids(v.as_array().unwrap()))
        .max()
        .unwrap();

    let old_base = app.base.clone();
    let app = app.restart().await;
    // The restarted server listens on another port: compare without it.
    let without_base = |v: &serde_json::Value, base: &str| v.to_string().replace(base, "BASE");
    assert_eq!(
        without_base(&snapshot(&app).await, &app.base),
        without_base(&before, &old_base)
    );

    // The rules still hold against the stored state.
    let answer = app
        .post(
            &format!("/jdoe/apps/web/events/{build}"),
            json!({"build_status": "Failed"}),
        )
        .await;
    assert_error(&answer, 409, "ImmutableEvent");
    let answer = app.put("/jdoe/apps/web", json!({})).await;
    assert_error(&answer, 409, "AlreadyExists");
    let next = app.create_event("web", "pushEvent", json!({})).await;
    assert!(next > max_id, "ids keep increasing: {next} after {max_id}");
    let release = app.create_event("web", "releaseEvent", json!({})).await;
    let version = event(&app, "web", release).await["release_version"].clone();
    assert!(
        version
            .as_str()
            .is_some_and(|v| v.starts_with('v') && v != "v5"),
        "{version}"
    );
}

#[tokio::test]
async fn a_token_still_works_after_a_restart() {
    let app = TestApp::spawn().await;
    let old = app.token.clone();
    let bob = app.new_account("bob").await;
    app.create_app("web").await;
    let app = app.restart().await;
    let answer = call_as(&app, &old, Method::GET, "/jdoe/apps/web", None).await;
    assert_ok(&answer);
    let answer = call_as(&app, &bob, Method::GET, "/bob/apps", None).await;
    assert_ok(&answer);
    let answer = call_as(&app, &bob, Method::GET, "/jdoe/apps", None).await;
    assert_error(&answer, 403, "AccessDenied");
}

#[tokio::test]
async fn a_deleted_app_stays_deleted_after_a_restart() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    app.create_event("web", "deployEvent", json!({"env_name": "dev"}))
        .await;
    assert_ok(&app.delete("/jdoe/apps/web").await);
    let app = app.restart().await;
    assert_error(&app.get("/jdoe/apps/web").await, 404, "NotFound");
    assert_error(&app.get("/jdoe/envs/dev").await, 404, "NotFound");
}

#[tokio::test]
async fn a_marker_handed_out_before_a_restart_still_pages_after_it() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    let mut created = Vec::new();
    for _ in 0..5 {
        created.push(app.create_event("web", "pushEvent", json!({})).await);
    }
    let first = app
        .get("/jdoe/apps/web/events?max_results=2&order=asc")
        .await;
    let marker = first.json["marker"].as_str().unwrap().to_owned();
    let app = app.restart().await;
    let answer = app
        .get(&format!(
            "/jdoe/apps/web/events?max_results=2&order=asc&marker={marker}"
        ))
        .await;
    assert_ok(&answer);
    assert_eq!(
        ids(answer.json["events"].as_array().unwrap()),
        created[2..4]
    );
}
