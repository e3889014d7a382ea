//! Applications and environments: their calls and their exact field sets.

use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::support::*;

#[tokio::test]
async fn create_app_answers_the_app_with_every_field() {
    let app = TestApp::spawn().await;
    let answer = app.put("/jdoe/apps/example-node", json!({})).await;
    assert_ok(&answer);
    assert_eq!(key_set(&answer.json), ["app"]);
    let a = &answer.json["app"];
    assert_eq!(key_set(a), sorted(APP_FIELDS));
    assert_eq!(a["name"], "example-node");
    assert_eq!(a["owner"], "jdoe");
    assert_eq!(a["description"], Value::Null);
    assert_eq!(a["latest_build"], Value::Null);
    assert_eq!(a["latest_release"], Value::Null);
    assert_eq!(a["api_url"], format!("{}/jdoe/apps/example-node", app.base));
    assert!(a["html_url"].as_str().is_some_and(|u| !u.is_empty()), "{a}");
    assert!(is_response_timestamp(&a["created"]), "{a}");
    assert!(
        answer.text.contains("\"description\":null"),
        "fields are never omitted"
    );
}

#[tokio::test]
async fn create_app_keeps_its_description() {
    let app = TestApp::spawn().await;
    let answer = app
        .put(
            "/jdoe/apps/web",
            json!({"description": "The web front end"}),
        )
        .await;
    assert_ok(&answer);
    assert_eq!(answer.json["app"]["description"], "The web front end");
    let got = app.get("/jdoe/apps/web").await;
    assert_eq!(got.json["app"]["description"], "The web front end");
}

#[tokio::test]
async fn get_app_answers_what_create_answered() {
    let app = TestApp::spawn().await;
    let created = app.put("/jdoe/apps/web", json!({"description": "d"})).await;
    let got = app.get("/jdoe/apps/web").await;
    assert_ok(&got);
    assert_eq!(got.json, created.json);
}

#[tokio::test]
async fn list_apps_lists_every_app_with_every_field() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    app.create_app("api").await;
    let answer = app.get("/jdoe/apps").await;
    assert_ok(&answer);
    assert_eq!(key_set(&answer.json), ["apps", "marker"]);
    let apps = answer.json["apps"].as_array().unwrap();
    assert_eq!(apps.len(), 2);
    assert_eq!(apps[0]["name"], "api");
    assert_eq!(apps[1]["name"], "web");
    for a in apps {
        assert_eq!(key_set(a), sorted(APP_FIELDS));
        let name = a["name"].as_str().unwrap();
        assert_eq!(*a, app.get(&format!("/jdoe/apps/{name}")).await.json["app"]);
    }
    assert_eq!(answer.json["marker"], Value::Null);
}

#[tokio::test]
async fn an_account_without_apps_lists_none() {
    let app = TestApp::spawn().await;
    let answer = app.get("/jdoe/apps").await;
    assert_ok(&answer);
    assert_eq!(answer.text, r#"{"apps":[],"marker":null}"#);
    let answer = app.get("/jdoe/envs").await;
    assert_ok(&answer);
    assert_eq!(answer.text, r#"{"envs":[],"marker":null}"#);
}

#[tokio::test]
async fn the_apps_latest_build_and_release_are_event_objects() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    let b1 = app.create_event("web", "buildEvent", build_body()).await;
    let b2 = app
        .create_event("web", "buildEvent", json!({"build_id": "2"}))
        .await;
    let r1 = app
        .create_event("web", "releaseEvent", json!({"parent_event_id": b1}))
        .await;
    let r2 = app.create_event("web", "releaseEvent", json!({})).await;
    app.create_event("web", "pushEvent", json!({})).await;
    let a = app.get("/jdoe/apps/web").await.json["app"].clone();
    assert_eq!(a["latest_build"], event(&app, "web", b2).await);
    assert_eq!(a["latest_release"], event(&app, "web", r2).await);
    assert_ne!(a["latest_release"]["event_id"], json!(r1));
    assert_eq!(a["latest_build"]["event_type"], "BUILD");
    assert_eq!(a["latest_release"]["event_type"], "RELEASE");
    let listed = app.get("/jdoe/apps").await;
    assert_eq!(listed.json["apps"][0], a);
}

#[tokio::test]
async fn delete_app_answers_200_with_an_empty_body_and_the_app_is_gone() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    app.create_app("keep").await;
    let answer = app.delete("/jdoe/apps/web").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.text, "");
    let answer = app.get("/jdoe/apps/web").await;
    assert_error(&answer, 404, "NotFound");
    assert_eq!(answer.message(), "App web not found");
    let names: Vec<_> = app.get("/jdoe/apps").await.json["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].clone())
        .collect();
    assert_eq!(names, [json!("keep")]);
}

#[tokio::test]
async fn deleting_an_app_deletes_its_events_and_envs() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    app.create_app("keep").await;
    app.create_event("web", "pushEvent", json!({})).await;
    app.create_event("web", "deployEvent", json!({"env_name": "dev"}))
        .await;
    assert_ok(&app.put("/jdoe/apps/web/envs/prod", json!({})).await);
    assert_ok(&app.put("/jdoe/apps/keep/envs/keep-env", json!({})).await);
    let kept = app.create_event("keep", "pushEvent", json!({})).await;
    assert_ok(&app.delete("/jdoe/apps/web").await);

    assert_error(&app.get("/jdoe/apps/web/events").await, 404, "NotFound");
    for env in ["dev", "prod"] {
        let answer = app.get(&format!("/jdoe/envs/{env}")).await;
        assert_error(&answer, 404, "NotFound");
        assert_eq!(answer.message(), format!("Env {env} not found"));
    }
    let envs = app.get("/jdoe/envs").await;
    assert_eq!(envs.json["envs"].as_array().unwrap().len(), 1);
    assert_eq!(envs.json["envs"][0]["name"], "keep-env");
    assert_eq!(ids(&all_events(&app, "keep").await), [kept]);

    // The name is free again, with nothing left from before.
    app.create_app("web").await;
    assert!(all_events(&app, "web").await.is_empty());
    assert_eq!(app.get("/jdoe/apps/web/envs").await.json["envs"], json!([]));
    assert_ok(&app.put("/jdoe/apps/keep/envs/dev", json!({})).await);
}

#[tokio::test]
async fn deleting_an_unknown_app_is_not_found() {
    let app = TestApp::spawn().await;
    let answer = app.delete("/jdoe/apps/ghost").await;
    assert_error(&answer, 404, "NotFound");
    assert_eq!(answer.message(), "App ghost not found");
}

#[tokio::test]
async fn valid_app_names_are_accepted() {
    let app = TestApp::spawn().await;
    let long = "a".repeat(64);
    for name in [
        "a",
        "A9",
        "v1.2",
        "gbd_dev1",
        "example-node",
        "9lives",
        long.as_str(),
    ] {
        let answer = app.put(&format!("/jdoe/apps/{name}"), json!({})).await;
        assert_ok(&answer);
        assert_eq!(answer.json["app"]["name"], name);
    }
}

#[tokio::test]
async fn invalid_app_names_are_bad_param() {
    let app = TestApp::spawn().await;
    let long = "a".repeat(65);
    for name in [
        "-a",
        ".hidden",
        "_x",
        "a%20b",
        "%C3%A9",
        "a%2Fb",
        "a~b",
        "a+b",
        "a%00",
        long.as_str(),
    ] {
        let answer = app.put(&format!("/jdoe/apps/{name}"), json!({})).await;
        assert_error(&answer, 400, "BadParam");
    }
    assert_eq!(app.get("/jdoe/apps").await.json["apps"], json!([]));
}

#[tokio::test]
async fn create_env_answers_the_env_with_every_field() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    let answer = app.put("/jdoe/apps/web/envs/dev", json!({})).await;
    assert_ok(&answer);
    assert_eq!(key_set(&answer.json), ["env"]);
    let e = &answer.json["env"];
    assert_eq!(key_set(e), sorted(ENV_FIELDS));
    assert_eq!(e["name"], "dev");
    assert_eq!(e["app_name"], "web");
    assert_eq!(e["owner"], "jdoe");
    assert_eq!(e["description"], Value::Null);
    assert_eq!(e["tags"], json!([]));
    assert_eq!(e["vars"], json!([]));
    assert_eq!(e["active_release_version"], Value::Null);
    assert_eq!(e["last_deployment"], Value::Null);
    assert_eq!(e["api_url"], format!("{}/jdoe/envs/dev", app.base));
    assert!(e["html_url"].as_str().is_some_and(|u| !u.is_empty()), "{e}");
}

#[tokio::test]
async fn create_env_keeps_its_description_tags_and_vars() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    let body = json!({
        "description": "Developers",
        "tags": ["eu", "small"],
        "vars": [{"name": "PORT", "value": "8080"}, {"name": "MODE", "value": "dev"}]
    });
    let answer = app.put("/jdoe/apps/web/envs/dev", body.clone()).await;
    assert_ok(&answer);
    for key in ["description", "tags", "vars"] {
        assert_eq!(answer.json["env"][key], body[key], "{key}");
    }
    let got = app.get("/jdoe/envs/dev").await;
    assert_ok(&got);
    assert_eq!(got.json, answer.json);
}

#[tokio::test]
async fn env_bodies_of_the_wrong_shape_are_bad_param() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    for (body, param) in [
        (json!({"tags": "eu"}), "tags"),
        (json!({"tags": [1]}), "tags"),
        (json!({"tags": {"a": "b"}}), "tags"),
        (json!({"vars": {"PORT": "80"}}), "vars"),
        (json!({"vars": [{"name": "PORT"}]}), "vars"),
        (json!({"vars": [{"name": 1, "value": "x"}]}), "vars"),
        (json!({"vars": ["PORT=80"]}), "vars"),
        (json!({"description": ["x"]}), "description"),
    ] {
        let answer = app.put("/jdoe/apps/web/envs/dev", body.clone()).await;
        assert_error(&answer, 400, "BadParam");
        assert!(answer.message().contains(param), "{body}: {}", answer.text);
    }
    assert_eq!(app.get("/jdoe/envs").await.json["envs"], json!([]));
}

#[tokio::test]
async fn env_names_are_unique_within_an_account() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    app.create_app("api").await;
    assert_ok(
        &app.put("/jdoe/apps/web/envs/dev", json!({"description": "first"}))
            .await,
    );
    let before = snapshot(&app).await;
    for path in ["/jdoe/apps/web/envs/dev", "/jdoe/apps/api/envs/dev"] {
        let answer = app.put(path, json!({"description": "second"})).await;
        assert_error(&answer, 409, "AlreadyExists");
        assert!(answer.message().contains("dev"), "{}", answer.text);
    }
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn create_env_in_an_unknown_app_is_not_found() {
    let app = TestApp::spawn().await;
    let answer = app.put("/jdoe/apps/ghost/envs/dev", json!({})).await;
    assert_error(&answer, 404, "NotFound");
    assert_eq!(answer.message(), "App ghost not found");
    assert_eq!(app.get("/jdoe/envs").await.json["envs"], json!([]));
}

#[tokio::test]
async fn invalid_env_names_are_bad_param() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    let long = "e".repeat(65);
    for name in ["-dev", ".dev", "d%20ev", "%C3%A9t%C3%A9", long.as_str()] {
        let answer = app
            .put(&format!("/jdoe/apps/web/envs/{name}"), json!({}))
            .await;
        assert_error(&answer, 400, "BadParam");
    }
    assert_eq!(app.get("/jdoe/envs").await.json["envs"], json!([]));
}

#[tokio::test]
async fn list_envs_lists_the_envs_of_every_app_and_list_app_envs_only_one() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    app.create_app("api").await;
    for (owner, env) in [("web", "dev"), ("api", "api-prod"), ("web", "prod")] {
        assert_ok(
            &app.put(&format!("/jdoe/apps/{owner}/envs/{env}"), json!({}))
                .await,
        );
    }
    let all = app.get("/jdoe/envs").await;
    assert_ok(&all);
    assert_eq!(key_set(&all.json), ["envs", "marker"]);
    let names: Vec<_> = all.json["envs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].clone())
        .collect();
    assert_eq!(names, [json!("api-prod"), json!("dev"), json!("prod")]);
    for e in all.json["envs"].as_array().unwrap() {
        assert_eq!(key_set(e), sorted(ENV_FIELDS));
        let name = e["name"].as_str().unwrap();
        assert_eq!(*e, app.get(&format!("/jdoe/envs/{name}")).await.json["env"]);
    }
    let web = app.get("/jdoe/apps/web/envs").await;
    assert_ok(&web);
    assert_eq!(key_set(&web.json), ["envs", "marker"]);
    let names: Vec<_> = web.json["envs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].clone())
        .collect();
    assert_eq!(names, [json!("dev"), json!("prod")]);
}

#[tokio::test]
async fn delete_env_answers_200_with_an_empty_body_and_the_env_is_gone() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    assert_ok(&app.put("/jdoe/apps/web/envs/dev", json!({})).await);
    assert_ok(&app.put("/jdoe/apps/web/envs/prod", json!({})).await);
    let answer = app.delete("/jdoe/envs/dev").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.text, "");
    let answer = app.get("/jdoe/envs/dev").await;
    assert_error(&answer, 404, "NotFound");
    assert_eq!(answer.message(), "Env dev not found");
    let names: Vec<_> = app.get("/jdoe/apps/web/envs").await.json["envs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].clone())
        .collect();
    assert_eq!(names, [json!("prod")]);
    assert_ok(&app.get("/jdoe/apps/web").await);
    // The name is free again.
    assert_ok(&app.put("/jdoe/apps/web/envs/dev", json!({})).await);
}

#[tokio::test]
async fn get_env_shows_its_deploys() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    assert_ok(&app.put("/jdoe/apps/web/envs/dev", json!({})).await);
    let id = app
        .create_event(
            "web",
            "deployEvent",
            json!({"env_name": "dev", "release_version": "v4", "deployment_status": "Ok"}),
        )
        .await;
    let e = app.get("/jdoe/envs/dev").await.json["env"].clone();
    assert_eq!(e["last_deployment"], event(&app, "web", id).await);
    assert_eq!(e["last_deployment"]["event_type"], "DEPLOY");
    assert_eq!(e["active_release_version"], "v4");
}
