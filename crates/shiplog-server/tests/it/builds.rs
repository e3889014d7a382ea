//! The life of a BUILD: its state machine, immutability once terminal, and
//! the RELEASE an update with `release_version` records.

use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::support::*;

const START: &str = "2016-08-30T22:30:52.000Z";
const END: &str = "2016-08-30T22:31:11.000Z";

async fn running_build() -> (TestApp, i64) {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    let id = app
        .create_event(
            "web",
            "buildEvent",
            with(build_body(), json!({"build_start": START})),
        )
        .await;
    (app, id)
}

async fn finished_build(status: &str) -> (TestApp, i64) {
    let (app, id) = running_build().await;
    let answer = app
        .post(
            &format!("/jdoe/apps/web/events/{id}"),
            json!({"build_status": status, "build_end": END}),
        )
        .await;
    assert_ok(&answer);
    (app, id)
}

#[tokio::test]
async fn a_terminal_build_refuses_a_change() {
    let (app, id) = finished_build("Success").await;
    let before = snapshot(&app).await;
    let answer = app
        .post(
            &format!("/jdoe/apps/web/events/{id}"),
            json!({"build_status": "Failed", "build_end": END}),
        )
        .await;
    assert_error(&answer, 409, "ImmutableEvent");
    assert!(
        answer.message().contains(&id.to_string()),
        "names the event: {}",
        answer.text
    );
    assert!(
        answer.message().contains("Success"),
        "names its state: {}",
        answer.text
    );
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn every_terminal_build_status_makes_the_event_immutable() {
    for status in ["Success", "Failed", "TimedOut", "Cancelled"] {
        let (app, id) = finished_build(status).await;
        let before = snapshot(&app).await;
        for change in [
            json!({"build_status": "Running"}),
            json!({"build_end": "2016-08-30T23:00:00Z"}),
            json!({"release_version": "v9"}),
        ] {
            let answer = app
                .post(&format!("/jdoe/apps/web/events/{id}"), change.clone())
                .await;
            assert_error(&answer, 409, "ImmutableEvent");
            assert!(
                answer.message().contains(status),
                "{status}: {}",
                answer.text
            );
        }
        assert_eq!(snapshot(&app).await, before, "{status}");
    }
}

#[tokio::test]
async fn repeating_the_exact_values_of_a_terminal_build_answers_200_with_the_event() {
    let (app, id) = running_build().await;
    let update = json!({"build_status": "Failed", "build_end": END, "release_version": "v3"});
    let first = app
        .post(&format!("/jdoe/apps/web/events/{id}"), update.clone())
        .await;
    assert_ok(&first);
    let before = snapshot(&app).await;
    for _ in 0..2 {
        let again = app
            .post(&format!("/jdoe/apps/web/events/{id}"), update.clone())
            .await;
        assert_ok(&again);
        assert_eq!(again.json, first.json, "the same event");
    }
    let partial = app
        .post(
            &format!("/jdoe/apps/web/events/{id}"),
            json!({"build_status": "failed"}),
        )
        .await;
    assert_ok(&partial);
    assert_eq!(partial.json["event"]["build_status"], "Failed");
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn a_repeat_with_the_same_instant_written_differently_is_not_a_change() {
    let (app, id) = finished_build("Success").await;
    let answer = app
        .post(
            &format!("/jdoe/apps/web/events/{id}"),
            json!({"build_status": "Success", "build_end": "2016-08-31T00:31:11+02:00"}),
        )
        .await;
    assert_ok(&answer);
    assert_eq!(answer.json["event"]["build_end"], END);
}

#[tokio::test]
async fn an_empty_update_of_a_terminal_build_answers_the_event() {
    let (app, id) = finished_build("Cancelled").await;
    let answer = app
        .post(&format!("/jdoe/apps/web/events/{id}"), json!({}))
        .await;
    assert_ok(&answer);
    assert_eq!(answer.json["event"]["event_id"], json!(id));
    assert_eq!(answer.json["event"]["build_status"], "Cancelled");
}

#[tokio::test]
async fn a_build_created_in_a_terminal_state_is_immutable_at_once() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    let id = app
        .create_event(
            "web",
            "buildEvent",
            json!({"build_status": "Success", "build_start": START, "build_end": END}),
        )
        .await;
    let answer = app
        .post(
            &format!("/jdoe/apps/web/events/{id}"),
            json!({"build_status": "Running"}),
        )
        .await;
    assert_error(&answer, 409, "ImmutableEvent");
    assert_eq!(event(&app, "web", id).await["build_status"], "Success");
}

#[tokio::test]
async fn non_terminal_statuses_can_change_freely() {
    let (app, id) = running_build().await;
    for status in ["Waiting", "Queued", "Running", "Queued", "Running"] {
        let answer = app
            .post(
                &format!("/jdoe/apps/web/events/{id}"),
                json!({"build_status": status}),
            )
            .await;
        assert_ok(&answer);
        assert_eq!(answer.json["event"]["build_status"], status);
    }
}

#[tokio::test]
async fn a_terminal_status_without_build_end_is_missing_param_naming_build_end() {
    let (app, id) = running_build().await;
    let before = snapshot(&app).await;
    let answer = app
        .post(
            &format!("/jdoe/apps/web/events/{id}"),
            json!({"build_status": "Success"}),
        )
        .await;
    assert_error(&answer, 400, "MissingParam");
    assert!(answer.message().contains("build_end"), "{}", answer.text);
    let answer = app
        .put(
            "/jdoe/apps/web/events/buildEvent",
            json!({"build_status": "failed"}),
        )
        .await;
    assert_error(&answer, 400, "MissingParam");
    assert!(answer.message().contains("build_end"), "{}", answer.text);
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn a_terminal_status_is_accepted_when_build_end_was_set_before() {
    let (app, id) = running_build().await;
    let answer = app
        .post(
            &format!("/jdoe/apps/web/events/{id}"),
            json!({"build_end": END}),
        )
        .await;
    assert_ok(&answer);
    assert_eq!(answer.json["event"]["build_status"], "Running");
    let answer = app
        .post(
            &format!("/jdoe/apps/web/events/{id}"),
            json!({"build_status": "Success"}),
        )
        .await;
    assert_ok(&answer);
    assert_eq!(answer.json["event"]["build_status"], "Success");
    assert_eq!(answer.json["event"]["build_end"], END);
}

#[tokio::test]
async fn build_end_before_build_start_is_bad_param() {
    let (app, id) = running_build().await;
    let before = snapshot(&app).await;
    let answer = app
        .post(
            &format!("/jdoe/apps/web/events/{id}"),
            json!({"build_status": "Success", "build_end": "2016-08-30T22:00:00Z"}),
        )
        .await;
    assert_error(&answer, 400, "BadParam");
    assert!(answer.message().contains("build_end"), "{}", answer.text);
    let answer = app
        .put(
            "/jdoe/apps/web/events/buildEvent",
            json!({"build_start": START, "build_end": "2016-08-30T22:00:00Z"}),
        )
        .await;
    assert_error(&answer, 400, "BadParam");
    assert!(answer.message().contains("build_end"), "{}", answer.text);
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn build_end_equal_to_build_start_is_accepted() {
    let (app, id) = running_build().await;
    let answer = app
        .post(
            &format!("/jdoe/apps/web/events/{id}"),
            json!({"build_status": "Success", "build_end": START}),
        )
        .await;
    assert_ok(&answer);
}

#[tokio::test]
async fn updating_a_build_with_a_release_version_records_one_release_from_it() {
    let (app, id) = running_build().await;
    let answer = app
        .post(
            &format!("/jdoe/apps/web/events/{id}"),
            json!({"build_status": "Success", "build_end": END, "release_version": "v5"}),
        )
        .await;
    assert_ok(&answer);
    assert_eq!(answer.json["event"]["release_version"], "v5");
    let build = event(&app, "web", id).await;
    let releases = events_of_type(&app, "web", "RELEASE").await;
    assert_eq!(releases.len(), 1, "{releases:?}");
    let release = &releases[0];
    assert_eq!(release["release_version"], "v5");
    assert_eq!(release["parent_event_id"], json!(id.to_string()));
    assert!(release["event_id"].as_i64().unwrap() > id);
    for key in COMMIT_FIELDS {
        assert_eq!(release[*key], build[*key], "{key} copied from the build");
    }
    assert_eq!(
        release["commit_id"],
        "1234567890123456789012345678901234567890"
    );
}

#[tokio::test]
async fn the_release_made_from_a_build_carries_its_build_id() {
    let (app, id) = running_build().await;
    app.post(
        &format!("/jdoe/apps/web/events/{id}"),
        json!({"release_version": "v5"}),
    )
    .await;
    let releases = events_of_type(&app, "web", "RELEASE").await;
    assert_eq!(releases.len(), 1);
    assert_eq!(releases[0]["build_id"], "J23465");
}

#[tokio::test]
async fn a_release_version_on_a_running_build_also_records_the_release() {
    let (app, id) = running_build().await;
    let answer = app
        .post(
            &format!("/jdoe/apps/web/events/{id}"),
            json!({"release_version": "v1.0.0"}),
        )
        .await;
    assert_ok(&answer);
    let releases = events_of_type(&app, "web", "RELEASE").await;
    assert_eq!(releases.len(), 1);
    assert_eq!(releases[0]["release_version"], "v1.0.0");
    assert_eq!(releases[0]["parent_event_id"], json!(id.to_string()));
}

#[tokio::test]
async fn a_repeated_update_does_not_record_a_second_release() {
    let (app, id) = running_build().await;
    let update = json!({"build_status": "Success", "build_end": END, "release_version": "v5"});
    for _ in 0..3 {
        let answer = app
            .post(&format!("/jdoe/apps/web/events/{id}"), update.clone())
            .await;
        assert_ok(&answer);
    }
    assert_eq!(events_of_type(&app, "web", "RELEASE").await.len(), 1);
}

#[tokio::test]
async fn a_second_update_with_the_same_version_on_a_running_build_records_no_second_release() {
    let (app, id) = running_build().await;
    let path = format!("/jdoe/apps/web/events/{id}");
    assert_ok(&app.post(&path, json!({"release_version": "v5"})).await);
    assert_ok(
        &app.post(
            &path,
            json!({"build_status": "Queued", "release_version": "v5"}),
        )
        .await,
    );
    assert_ok(
        &app.post(
            &path,
            json!({"build_status": "Success", "build_end": END, "release_version": "v5"}),
        )
        .await,
    );
    assert_eq!(events_of_type(&app, "web", "RELEASE").await.len(), 1);
}

#[tokio::test]
async fn an_update_naming_an_existing_release_version_records_no_new_release() {
    let (app, id) = running_build().await;
    let existing = app
        .create_event("web", "releaseEvent", json!({"release_version": "v9"}))
        .await;
    let answer = app
        .post(
            &format!("/jdoe/apps/web/events/{id}"),
            json!({"build_status": "Success", "build_end": END, "release_version": "v9"}),
        )
        .await;
    assert_ok(&answer);
    assert_eq!(answer.json["event"]["release_version"], "v9");
    let releases = events_of_type(&app, "web", "RELEASE").await;
    assert_eq!(releases.len(), 1);
    assert_eq!(releases[0]["event_id"], json!(existing));
    assert_eq!(
        releases[0]["parent_event_id"],
        Value::Null,
        "left as it was"
    );
}

#[tokio::test]
async fn a_refused_update_records_no_release() {
    let (app, id) = running_build().await;
    let answer = app
        .post(
            &format!("/jdoe/apps/web/events/{id}"),
            json!({"build_status": "Success", "release_version": "v5"}),
        )
        .await;
    assert_error(&answer, 400, "MissingParam");
    assert!(events_of_type(&app, "web", "RELEASE").await.is_empty());
    assert_eq!(event(&app, "web", id).await["release_version"], Value::Null);
}

#[tokio::test]
async fn the_app_shows_its_newest_build_and_release() {
    let (app, first) = running_build().await;
    let answer = app.get("/jdoe/apps/web").await;
    assert_eq!(
        answer.json["app"]["latest_build"],
        event(&app, "web", first).await
    );
    assert_eq!(answer.json["app"]["latest_release"], Value::Null);
    let second = app.create_event("web", "buildEvent", json!({})).await;
    app.post(
        &format!("/jdoe/apps/web/events/{first}"),
        json!({"release_version": "v5"}),
    )
    .await;
    let answer = app.get("/jdoe/apps/web").await;
    assert_eq!(
        answer.json["app"]["latest_build"],
        event(&app, "web", second).await
    );
    let release = events_of_type(&app, "web", "RELEASE").await.remove(0);
    assert_eq!(answer.json["app"]["latest_release"], release);
}

#[tokio::test]
async fn a_new_release_version_on_a_running_build_records_another_release() {
    let (app, id) = running_build().await;
    let path = format!("/jdoe/apps/web/events/{id}");
    assert_ok(&app.post(&path, json!({"release_version": "v1"})).await);
    assert_ok(&app.post(&path, json!({"release_version": "v2"})).await);
    let versions: Vec<_> = events_of_type(&app, "web", "RELEASE")
        .await
        .iter()
        .map(|r| r["release_version"].clone())
        .collect();
    assert_eq!(versions, [json!("v1"), json!("v2")]);
    assert_eq!(event(&app, "web", id).await["release_version"], "v2");
}
