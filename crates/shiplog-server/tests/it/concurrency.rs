//! Racing writers: the rules hold when several clients call at once.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::helpers::TestApp;
use crate::support::*;

/// Sends `bodies` to `path` at once; returns (status, body) of each.
async fn race(app: &TestApp, method: Method, path: &str, bodies: Vec<Value>) -> Vec<(u16, Value)> {
    let mut set = JoinSet::new();
    for body in bodies {
        let client = app.client.clone();
        let url = app.url(path);
        let method = method.clone();
        set.spawn(async move {
            let response = client
                .request(method, url)
                .body(serde_json::to_vec(&body).unwrap())
                .send()
                .await
                .expect("request");
            let status = response.status().as_u16();
            let text = response.text().await.expect("body");
            (status, serde_json::from_str(&text).unwrap_or(Value::Null))
        });
    }
    let mut answers = Vec::new();
    while let Some(answer) = set.join_next().await {
        answers.push(answer.expect("task"));
    }
    answers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_get_distinct_ids_and_all_are_listed() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    let answers = race(
        &app,
        Method::PUT,
        "/jdoe/apps/web/events/pushEvent",
        (0..24)
            .map(|i| json!({"branch": format!("b{i}")}))
            .collect(),
    )
    .await;
    let mut created = HashSet::new();
    for (status, body) in &answers {
        assert_eq!(*status, 200, "{body}");
        let id: i64 = body["event_id"].as_str().unwrap().parse().unwrap();
        assert!(created.insert(id), "id {id} given twice");
    }
    let listed: HashSet<i64> = ids(&all_events(&app, "web").await).into_iter().collect();
    assert_eq!(listed, created);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_terminal_updates_leave_one_winner() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    let id = app
        .create_event("web", "buildEvent", json!({"build_status": "Running"}))
        .await;
    let statuses = ["Success", "Failed", "TimedOut", "Cancelled"];
    let answers = race(
        &app,
        Method::POST,
        &format!("/jdoe/apps/web/events/{id}"),
        (0..12)
            .map(|i| json!({"build_status": statuses[i % 4], "build_end": "2030-01-01T00:00:00Z"}))
            .collect(),
    )
    .await;
    let stored = event(&app, "web", id).await;
    let winner = stored["build_status"].as_str().unwrap().to_owned();
    assert!(statuses.contains(&winner.as_str()), "{stored}");
    for (status, body) in &answers {
        match status {
            200 => assert_eq!(
                body["event"]["build_status"], winner,
                "only the winner or its repeats succeed"
            ),
            409 => assert_eq!(body["error"]["code"], "ImmutableEvent"),
            other => panic!("{other}: {body}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_updates_with_one_release_version_record_one_release() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    let id = app.create_event("web", "buildEvent", build_body()).await;
    let answers = race(
        &app,
        Method::POST,
        &format!("/jdoe/apps/web/events/{id}"),
        (0..10)
            .map(|_| json!({"build_status": "Success", "build_end": "2030-01-01T00:00:00Z", "release_version": "v7"}))
            .collect(),
    )
    .await;
    for (status, body) in &answers {
        assert_eq!(*status, 200, "an exact repeat is not a change: {body}");
    }
    let releases = events_of_type(&app, "web", "RELEASE").await;
    assert_eq!(releases.len(), 1, "{releases:?}");
    assert_eq!(releases[0]["parent_event_id"], json!(id.to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_creates_of_one_release_version_leave_one_release() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    let answers = race(
        &app,
        Method::PUT,
        "/jdoe/apps/web/events/releaseEvent",
        (0..10)
            .map(|_| json!({"release_version": "v1.0"}))
            .collect(),
    )
    .await;
    let ok = answers.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!(ok, 1, "{answers:?}");
    for (status, body) in &answers {
        if *status != 200 {
            assert_eq!(*status, 409, "{body}");
            assert_eq!(body["error"]["code"], "AlreadyExists");
        }
    }
    assert_eq!(events_of_type(&app, "web", "RELEASE").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_releases_without_a_version_get_distinct_versions() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    let answers = race(
        &app,
        Method::PUT,
        "/jdoe/apps/web/events/releaseEvent",
        (0..10).map(|_| json!({})).collect(),
    )
    .await;
    for (status, body) in &answers {
        assert_eq!(*status, 200, "{body}");
    }
    let versions: HashSet<String> = events_of_type(&app, "web", "RELEASE")
        .await
        .iter()
        .map(|r| r["release_version"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(versions.len(), 10, "{versions:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_deploys_to_a_new_env_create_it_once_with_distinct_deployments() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    let answers = race(
        &app,
        Method::PUT,
        "/jdoe/apps/web/events/deployEvent",
        (0..10).map(|_| json!({"env_name": "fresh"})).collect(),
    )
    .await;
    for (status, body) in &answers {
        assert_eq!(*status, 200, "{body}");
    }
    let envs = app.get("/jdoe/envs").await;
    assert_eq!(
        envs.json["envs"].as_array().unwrap().len(),
        1,
        "{}",
        envs.text
    );
    let deploys = events_of_type(&app, "web", "DEPLOY").await;
    let ids: HashSet<_> = deploys.iter().map(|d| d["deployment_id"].clone()).collect();
    let numbers: HashSet<_> = deploys
        .iter()
        .map(|d| d["deployment_number"].clone())
        .collect();
    assert_eq!(ids.len(), 10);
    assert_eq!(numbers.len(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_creates_of_one_app_leave_one_app() {
    let app = TestApp::spawn().await;
    let answers = race(
        &app,
        Method::PUT,
        "/jdoe/apps/contested",
        (0..10)
            .map(|i| json!({"description": format!("d{i}")}))
            .collect(),
    )
    .await;
    let winners: Vec<_> = answers.iter().filter(|(s, _)| *s == 200).collect();
    assert_eq!(winners.len(), 1, "{answers:?}");
    for (status, body) in &answers {
        if *status != 200 {
            assert_eq!(*status, 409, "{body}");
            assert_eq!(body["error"]["message"], "App contested already exists");
        }
    }
    let stored = app.get("/jdoe/apps/contested").await;
    assert_eq!(
        stored.json["app"]["description"],
        winners[0].1["app"]["description"]
    );
}
