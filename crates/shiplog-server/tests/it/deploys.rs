//! DEPLOY events: envs made on demand, assigned ids, releases they take
//! their commit from, and the deploy state machine.

use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::support::*;

async fn app_with(name: &str) -> TestApp {
    let app = TestApp::spawn().await;
    app.create_app(name).await;
    app
}

#[tokio::test]
async fn a_deploy_creates_its_env_when_the_app_lacks_it() {
    let app = app_with("web").await;
    let answer = app.get("/jdoe/envs/dev").await;
    assert_error(&answer, 404, "NotFound");
    let id = app
        .create_event("web", "deployEvent", json!({"env_name": "dev"}))
        .await;
    let answer = app.get("/jdoe/envs/dev").await;
    assert_ok(&answer);
    let env = &answer.json["env"];
    assert_eq!(env["name"], "dev");
    assert_eq!(env["app_name"], "web");
    assert_eq!(env["last_deployment"], event(&app, "web", id).await);
    let listed = app.get("/jdoe/apps/web/envs").await;
    assert_eq!(listed.json["envs"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_deploy_is_listed_with_every_field_in_contract_order() {
    let app = app_with("web").await;
    let id = app
        .create_event(
            "web",
            "deployEvent",
            json!({"env_name": "dev", "auto_deploy": true}),
        )
        .await;
    let answer = app.get("/jdoe/apps/web/events").await;
    assert_listing_key_order(&answer.text);
    let e = &answer.json["events"][0];
    assert_eq!(e["event_id"], json!(id));
    assert_eq!(e["event_type"], "DEPLOY");
    assert_eq!(e["env_name"], "dev");
    assert_eq!(e["auto_deploy"], true);
    assert_eq!(e["deployment_type"], "Deploy", "the default type");
}

#[tokio::test]
async fn a_deploy_is_assigned_a_deployment_id_and_number() {
    let app = app_with("web").await;
    let a = app
        .create_event("web", "deployEvent", json!({"env_name": "dev"}))
        .await;
    let b = app
        .create_event("web", "deployEvent", json!({"env_name": "dev"}))
        .await;
    let a = event(&app, "web", a).await;
    let b = event(&app, "web", b).await;
    for e in [&a, &b] {
        let id = e["deployment_id"]
            .as_str()
            .expect("deployment_id is a string");
        assert!(id.starts_with("d-") && id.len() > 2, "{id}");
        let number = e["deployment_number"]
            .as_str()
            .expect("deployment_number is a string");
        assert!(!number.is_empty(), "{e}");
    }
    assert_ne!(a["deployment_id"], b["deployment_id"]);
    assert_ne!(a["deployment_number"], b["deployment_number"]);
}

#[tokio::test]
async fn a_deploy_keeps_the_deployment_id_and_number_it_was_sent() {
    let app = app_with("web").await;
    let id = app
        .create_event(
            "web",
            "deployEvent",
            json!({"env_name": "dev", "deployment_id": "d-h6kpu8hfh45ede99308a", "deployment_number": "107557"}),
        )
        .await;
    let e = event(&app, "web", id).await;
    assert_eq!(e["deployment_id"], "d-h6kpu8hfh45ede99308a");
    assert_eq!(e["deployment_number"], "107557");
}

#[tokio::test]
async fn a_deploy_naming_an_existing_release_takes_its_commit_fields_and_parent() {
    let app = app_with("web").await;
    let release = app
        .create_event(
            "web",
            "releaseEvent",
            with(push_body(), json!({"release_version": "v5"})),
        )
        .await;
    let deploy = app
        .create_event(
            "web",
            "deployEvent",
            json!({"env_name": "dev", "release_version": "v5"}),
        )
        .await;
    let r = event(&app, "web", release).await;
    let d = event(&app, "web", deploy).await;
    for key in COMMIT_FIELDS {
        assert_eq!(d[*key], r[*key], "{key}");
    }
    assert_eq!(d["parent_event_id"], json!(release.to_string()));
    assert_eq!(d["release_version"], "v5");
}

#[tokio::test]
async fn a_deploy_without_env_name_is_missing_param() {
    let app = app_with("web").await;
    let answer = app
        .put(
            "/jdoe/apps/web/events/deployEvent",
            json!({"release_version": "v1"}),
        )
        .await;
    assert_error(&answer, 400, "MissingParam");
    assert!(answer.message().contains("env_name"), "{}", answer.text);
    assert!(all_events(&app, "web").await.is_empty());
}

#[tokio::test]
async fn a_deploy_to_an_invalid_env_name_is_bad_param() {
    let app = app_with("web").await;
    for bad in ["../etc", "-dev", "a b", ""] {
        let answer = app
            .put(
                "/jdoe/apps/web/events/deployEvent",
                json!({"env_name": bad}),
            )
            .await;
        assert_eq!(answer.status, 400, "{bad}: {}", answer.text);
        assert!(
            answer.code() == "BadParam" || (bad.is_empty() && answer.code() == "MissingParam"),
            "{bad}: {}",
            answer.text
        );
    }
    assert!(all_events(&app, "web").await.is_empty());
    assert_eq!(app.get("/jdoe/envs").await.json["envs"], json!([]));
}

#[tokio::test]
async fn a_deploy_to_an_env_of_another_app_is_bad_param() {
    let app = app_with("web").await;
    app.create_app("api").await;
    assert_ok(&app.put("/jdoe/apps/api/envs/prod", json!({})).await);
    let before = snapshot(&app).await;
    let answer = app
        .put(
            "/jdoe/apps/web/events/deployEvent",
            json!({"env_name": "prod"}),
        )
        .await;
    assert_error(&answer, 400, "BadParam");
    assert!(
        answer.message().contains("prod") || answer.message().contains("env_name"),
        "{}",
        answer.text
    );
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn deployment_type_is_accepted_in_any_case() {
    let app = app_with("web").await;
    for (sent, stored) in [
        ("restart", "Restart"),
        ("TERMINATE", "Terminate"),
        ("Deploy", "Deploy"),
    ] {
        let id = app
            .create_event(
                "web",
                "deployEvent",
                json!({"env_name": "dev", "deployment_type": sent}),
            )
            .await;
        assert_eq!(event(&app, "web", id).await["deployment_type"], stored);
    }
    let answer = app
        .put(
            "/jdoe/apps/web/events/deployEvent",
            json!({"env_name": "dev", "deployment_type": "reboot"}),
        )
        .await;
    assert_error(&answer, 400, "BadParam");
    assert!(
        answer.message().contains("deployment_type"),
        "{}",
        answer.text
    );
}

#[tokio::test]
async fn update_deploy_sets_the_status_in_canonical_form() {
    let app = app_with("web").await;
    let id = app
        .create_event(
            "web",
            "deployEvent",
            json!({"env_name": "dev", "deployment_status": "pending"}),
        )
        .await;
    assert_eq!(event(&app, "web", id).await["deployment_status"], "Pending");
    let answer = app
        .post(
            &format!("/jdoe/apps/web/events/{id}"),
            json!({"deployment_status": "inprogress"}),
        )
        .await;
    assert_ok(&answer);
    let top = Ordered::parse(&answer.text);
    assert_eq!(top.keys(), ["event"]);
    assert_event_key_order(top.get("event"));
    assert_eq!(answer.json["event"]["deployment_status"], "InProgress");
    assert_eq!(answer.json["event"]["event_id"], json!(id));
    let answer = app
        .post(
            &format!("/jdoe/apps/web/events/{id}"),
            json!({"deployment_status": "OK"}),
        )
        .await;
    assert_ok(&answer);
    assert_eq!(answer.json["event"]["deployment_status"], "Ok");
}

#[tokio::test]
async fn an_unknown_deployment_status_is_bad_param() {
    let app = app_with("web").await;
    let id = app
        .create_event("web", "deployEvent", json!({"env_name": "dev"}))
        .await;
    let answer = app
        .post(
            &format!("/jdoe/apps/web/events/{id}"),
            json!({"deployment_status": "Done"}),
        )
        .await;
    assert_error(&answer, 400, "BadParam");
    assert!(
        answer.message().contains("deployment_status"),
        "{}",
        answer.text
    );
    assert_eq!(
        event(&app, "web", id).await["deployment_status"],
        Value::Null
    );
}

#[tokio::test]
async fn a_terminal_deploy_refuses_a_change_but_accepts_a_repeat() {
    for status in ["Ok", "Failed", "Aborted"] {
        let app = app_with("web").await;
        let id = app
            .create_event(
                "web",
                "deployEvent",
                json!({"env_name": "dev", "deployment_status": "InProgress"}),
            )
            .await;
        let path = format!("/jdoe/apps/web/events/{id}");
        assert_ok(&app.post(&path, json!({"deployment_status": status})).await);
        let before = snapshot(&app).await;
        let answer = app
            .post(&path, json!({"deployment_status": "InProgress"}))
            .await;
        assert_error(&answer, 409, "ImmutableEvent");
        assert!(
            answer.message().contains(&id.to_string()),
            "{}",
            answer.text
        );
        let repeat = app
            .post(&path, json!({"deployment_status": status.to_uppercase()}))
            .await;
        assert_ok(&repeat);
        assert_eq!(repeat.json["event"]["deployment_status"], status);
        assert_eq!(snapshot(&app).await, before, "{status}");
    }
}

#[tokio::test]
async fn the_env_shows_its_last_deployment_and_its_active_release() {
    let app = app_with("web").await;
    let ok = app
        .create_event(
            "web",
            "deployEvent",
            json!({"env_name": "dev", "release_version": "v1", "deployment_status": "Ok"}),
        )
        .await;
    let env = app.get("/jdoe/envs/dev").await;
    assert_eq!(env.json["env"]["active_release_version"], "v1");
    assert_eq!(
        env.json["env"]["last_deployment"],
        event(&app, "web", ok).await
    );
    let failed = app
        .create_event(
            "web",
            "deployEvent",
            json!({"env_name": "dev", "release_version": "v2", "deployment_status": "Failed"}),
        )
        .await;
    let env = app.get("/jdoe/envs/dev").await;
    assert_eq!(env.json["env"]["active_release_version"], "v1", "v2 failed");
    assert_eq!(
        env.json["env"]["last_deployment"],
        event(&app, "web", failed).await
    );
    let pending = app
        .create_event(
            "web",
            "deployEvent",
            json!({"env_name": "dev", "release_version": "v3"}),
        )
        .await;
    assert_ok(
        &app.post(
            &format!("/jdoe/apps/web/events/{pending}"),
            json!({"deployment_status": "ok"}),
        )
        .await,
    );
    let env = app.get("/jdoe/envs/dev").await;
    assert_eq!(env.json["env"]["active_release_version"], "v3");
    assert_eq!(
        env.json["env"]["last_deployment"]["deployment_status"],
        "Ok"
    );
}

#[tokio::test]
async fn a_deploy_to_an_existing_env_of_the_app_creates_no_second_env() {
    let app = app_with("web").await;
    assert_ok(
        &app.put(
            "/jdoe/apps/web/envs/dev",
            json!({"description": "developers", "tags": ["a"]}),
        )
        .await,
    );
    app.create_event("web", "deployEvent", json!({"env_name": "dev"}))
        .await;
    let envs = app.get("/jdoe/envs").await;
    assert_eq!(envs.json["envs"].as_array().unwrap().len(), 1);
    assert_eq!(envs.json["envs"][0]["description"], "developers");
    assert_eq!(envs.json["envs"][0]["tags"], json!(["a"]));
}
