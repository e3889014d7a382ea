//! `Idempotency-Key` on the Events API's create and update calls: a retry
//! answers the first answer and records nothing; the key with another
//! request is refused; keys belong to their account.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Answer, TestApp};
use crate::support::*;

const BUILD: &str = "/jdoe/apps/web/events/buildEvent";

async fn app() -> TestApp {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    app
}

async fn keyed(app: &TestApp, method: Method, path: &str, body: Value, key: &str) -> Answer {
    let bytes = serde_json::to_vec(&body).unwrap();
    app.send_with_headers(
        method,
        &app.url(path),
        Some(&bytes),
        &[("Idempotency-Key", key)],
    )
    .await
}

/// Every change of the test account, oldest first.
async fn changes(app: &TestApp) -> Vec<Value> {
    list_all(app, "/jdoe/changes?max_results=100", "changes").await
}

#[tokio::test]
async fn a_repeated_create_answers_the_first_id_and_records_nothing() {
    let app = app().await;
    let body = json!({"build_status": "Running", "build_id": "42"});
    let first = keyed(&app, Method::PUT, BUILD, body.clone(), "ci-42-start").await;
    assert_ok(&first);
    let again = keyed(&app, Method::PUT, BUILD, body.clone(), "ci-42-start").await;
    assert_ok(&again);
    assert_eq!(again.json, first.json);
    assert_eq!(again.text, first.text, "the first answer, byte for byte");
    assert_eq!(all_events(&app, "web").await.len(), 1);
    assert_eq!(changes(&app).await.len(), 1);
    // The same body with other spacing is the same request.
    let spaced = r#"{ "build_status" : "Running",  "build_id":"42" }"#;
    let answer = app
        .send_with_headers(
            Method::PUT,
            &app.url(BUILD),
            Some(spaced.as_bytes()),
            &[("Idempotency-Key", "ci-42-start")],
        )
        .await;
    assert_eq!(answer.json, first.json);
    // Without a key, the same body records another event.
    assert_ok(&app.put(BUILD, body).await);
    assert_eq!(all_events(&app, "web").await.len(), 2);
}

#[tokio::test]
async fn a_key_reused_with_another_request_is_409_and_changes_nothing() {
    let app = app().await;
    let first = keyed(&app, Method::PUT, BUILD, json!({"build_id": "1"}), "k1").await;
    assert_ok(&first);
    let other_body = keyed(&app, Method::PUT, BUILD, json!({"build_id": "2"}), "k1").await;
    assert_error(&other_body, 409, "IdempotencyKeyReused");
    assert!(other_body.message().contains("k1"), "{}", other_body.text);
    let other_path = keyed(
        &app,
        Method::PUT,
        "/jdoe/apps/web/events/pushEvent",
        json!({"build_id": "1"}),
        "k1",
    )
    .await;
    assert_error(&other_path, 409, "IdempotencyKeyReused");
    assert_eq!(all_events(&app, "web").await.len(), 1);
    assert_eq!(changes(&app).await.len(), 1);
}

#[tokio::test]
async fn a_repeated_update_answers_the_first_event_even_after_later_changes() {
    let app = app().await;
    let id = app
        .create_event("web", "buildEvent", json!({"build_status": "Queued"}))
        .await;
    let path = format!("/jdoe/apps/web/events/{id}");
    let running = json!({"build_status": "Running"});
    let first = keyed(&app, Method::POST, &path, running.clone(), "run-1").await;
    assert_ok(&first);
    assert_eq!(first.json["event"]["build_status"], "Running");
    let done = json!({"build_status": "Success", "build_end": "2026-03-02T10:00:00Z"});
    assert_ok(&app.post(&path, done).await);
    let again = keyed(&app, Method::POST, &path, running, "run-1").await;
    assert_ok(&again);
    assert_eq!(again.text, first.text, "the answer of the first call");
    let event = app.get(&path).await;
    assert_eq!(
        event.json["event"]["build_status"], "Success",
        "nothing re-applied"
    );
    // create, Running, Success: the repeat recorded nothing.
    assert_eq!(changes(&app).await.len(), 3);
}

#[tokio::test]
async fn a_refused_write_is_not_remembered() {
    let app = app().await;
    let bad = keyed(
        &app,
        Method::PUT,
        BUILD,
        json!({"build_status": "done"}),
        "k",
    )
    .await;
    assert_error(&bad, 400, "BadParam");
    let good = keyed(
        &app,
        Method::PUT,
        BUILD,
        json!({"build_status": "Running"}),
        "k",
    )
    .await;
    assert_ok(&good);
    assert_eq!(all_events(&app, "web").await.len(), 1);
}

#[tokio::test]
async fn keys_belong_to_their_account() {
    let app = app().await;
    let token = app.new_account("other").await;
    let answer = app
        .send_raw(
            Method::PUT,
            &app.url_with_token("/other/apps/web", &token),
            None,
        )
        .await;
    assert_ok(&answer);
    let mine = keyed(&app, Method::PUT, BUILD, json!({}), "shared-key").await;
    assert_ok(&mine);
    let body = serde_json::to_vec(&json!({})).unwrap();
    let theirs = app
        .send_with_headers(
            Method::PUT,
            &app.url_with_token("/other/apps/web/events/buildEvent", &token),
            Some(&body),
            &[("Idempotency-Key", "shared-key")],
        )
        .await;
    assert_ok(&theirs);
    assert_ne!(theirs.json["event_id"], mine.json["event_id"]);
}

#[tokio::test]
async fn malformed_keys_are_bad_params_and_record_nothing() {
    let app = app().await;
    let long = "k".repeat(256);
    for key in ["has space", long.as_str()] {
        let answer = keyed(&app, Method::PUT, BUILD, json!({}), key).await;
        assert_error(&answer, 400, "BadParam");
        assert!(
            answer.message().contains("Idempotency-Key"),
            "{}",
            answer.text
        );
    }
    assert!(all_events(&app, "web").await.is_empty());
}

#[tokio::test]
async fn concurrent_repeats_record_one_event() {
    let app = app().await;
    let body = serde_json::to_vec(&json!({"build_status": "Running", "build_id": "7"})).unwrap();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let request = app
            .client
            .put(app.url(BUILD))
            .header("Idempotency-Key", "burst")
            .body(body.clone());
        set.spawn(async move {
            let response = request.send().await.expect("request");
            let status = response.status().as_u16();
            (status, response.text().await.expect("body"))
        });
    }
    let answers = set.join_all().await;
    for (status, text) in &answers {
        assert_eq!(*status, 200, "{text}");
        assert_eq!(text, &answers[0].1, "every repeat answers the first answer");
    }
    assert_eq!(all_events(&app, "web").await.len(), 1);
    assert_eq!(changes(&app).await.len(), 1);
}
