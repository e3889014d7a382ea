//! Creating and updating events: answers, stored values and exact wire shapes.

use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::support::*;

async fn app_with(name: &str) -> TestApp {
    let app = TestApp::spawn().await;
    app.create_app(name).await;
    app
}

#[tokio::test]
async fn a_push_event_answers_its_id_as_a_json_string() {
    let app = app_with("example-node").await;
    let answer = app
        .put("/jdoe/apps/example-node/events/pushEvent", push_body())
        .await;
    let id = created_id(&answer);
    assert!(id > 0);
    assert!(
        answer.text.starts_with("{\"event_id\":\""),
        "{}",
        answer.text
    );
}

#[tokio::test]
async fn every_create_call_answers_only_the_event_id_as_a_string() {
    let app = app_with("web").await;
    for (kind, body) in [
        ("pushEvent", json!({})),
        ("pullRequestEvent", json!({})),
        ("buildEvent", json!({})),
        ("releaseEvent", json!({})),
        ("deployEvent", json!({"env_name": "dev"})),
    ] {
        let answer = app
            .put(&format!("/jdoe/apps/web/events/{kind}"), body)
            .await;
        let id = created_id(&answer);
        assert!(id > 0, "{kind}");
    }
}

#[tokio::test]
async fn a_push_event_is_listed_with_every_field_in_contract_order() {
    let app = app_with("example-node").await;
    let id = app
        .create_event("example-node", "pushEvent", push_body())
        .await;
    let answer = app.get("/jdoe/apps/example-node/events").await;
    assert_ok(&answer);
    assert_listing_key_order(&answer.text);
    let listing = Ordered::parse(&answer.text);
    assert_eq!(listing.keys(), ["app_name", "events", "marker"]);
    let event = &answer.json["events"][0];
    assert_eq!(event["event_id"], json!(id), "event_id is a JSON number");
    assert_eq!(event["app_name"], "example-node");
    assert_eq!(event["event_type"], "PUSH");
    assert!(is_response_timestamp(&event["event_time"]), "{event}");
    for (key, value) in push_body().as_object().unwrap() {
        assert_eq!(&event[key], value, "{key}");
    }
    assert_eq!(answer.json["app_name"], "example-node");
    assert_eq!(answer.json["marker"], Value::Null);
}

#[tokio::test]
async fn a_pull_request_event_has_the_push_fields_and_type_pullrequest() {
    let app = app_with("example-node").await;
    let id = app
        .create_event("example-node", "pullRequestEvent", push_body())
        .await;
    let answer = app.get("/jdoe/apps/example-node/events").await;
    assert_listing_key_order(&answer.text);
    let event = &answer.json["events"][0];
    assert_eq!(event["event_id"], json!(id));
    assert_eq!(event["event_type"], "PULLREQUEST");
    for (key, value) in push_body().as_object().unwrap() {
        assert_eq!(&event[key], value, "{key}");
    }
}

#[tokio::test]
async fn the_source_documents_build_example_is_stored_as_sent() {
    let app = app_with("example-node").await;
    let id = app
        .create_event("example-node", "buildEvent", build_body())
        .await;
    let answer = app.get("/jdoe/apps/example-node/events").await;
    assert_listing_key_order(&answer.text);
    let event = &answer.json["events"][0];
    assert_eq!(event["event_id"], json!(id));
    assert_eq!(event["event_type"], "BUILD");
    for (key, value) in build_body().as_object().unwrap() {
        assert_eq!(&event[key], value, "{key}");
    }
    assert_eq!(event["build_end"], Value::Null);
    assert_eq!(event["parent_event_id"], Value::Null);
    assert_eq!(event["release_version"], Value::Null);
}

#[tokio::test]
async fn an_empty_body_creates_an_event_whose_fields_are_all_null() {
    let app = app_with("web").await;
    for (kind, event_type) in [
        ("pushEvent", "PUSH"),
        ("pullRequestEvent", "PULLREQUEST"),
        ("buildEvent", "BUILD"),
    ] {
        let id = app.create_event("web", kind, json!({})).await;
        let event = event(&app, "web", id).await;
        assert_eq!(event["event_type"], event_type);
        for key in &event_keys(event_type)[4..] {
            assert_eq!(event[*key], Value::Null, "{event_type} {key}");
        }
    }
}

#[tokio::test]
async fn event_ids_increase_in_creation_order_across_apps() {
    let app = TestApp::spawn().await;
    app.create_app("a").await;
    app.create_app("b").await;
    let mut last = 0;
    for i in 0..6 {
        let name = if i % 2 == 0 { "a" } else { "b" };
        let id = app.create_event(name, "pushEvent", json!({})).await;
        assert!(id > last, "{id} after {last}");
        last = id;
    }
}

#[tokio::test]
async fn a_build_with_a_push_parent_returns_the_parent_id_as_a_string() {
    let app = app_with("web").await;
    let push = app.create_event("web", "pushEvent", push_body()).await;
    let pr = app
        .create_event("web", "pullRequestEvent", push_body())
        .await;
    let by_number = app
        .create_event("web", "buildEvent", json!({"parent_event_id": push}))
        .await;
    let by_string = app
        .create_event(
            "web",
            "buildEvent",
            json!({"parent_event_id": pr.to_string()}),
        )
        .await;
    assert_eq!(
        event(&app, "web", by_number).await["parent_event_id"],
        json!(push.to_string())
    );
    assert_eq!(
        event(&app, "web", by_string).await["parent_event_id"],
        json!(pr.to_string())
    );
}

#[tokio::test]
async fn a_build_parent_must_be_a_push_or_pull_request_of_the_same_app() {
    let app = app_with("web").await;
    app.create_app("other").await;
    let build = app.create_event("web", "buildEvent", json!({})).await;
    let foreign_push = app.create_event("other", "pushEvent", json!({})).await;
    let before = snapshot(&app).await;
    for parent in [
        json!(build),
        json!(foreign_push),
        json!(999_999),
        json!("x"),
    ] {
        let answer = app
            .put(
                "/jdoe/apps/web/events/buildEvent",
                json!({"parent_event_id": parent}),
            )
            .await;
        assert_error(&answer, 400, "BadParam");
        assert!(
            answer.message().contains("parent_event_id") || answer.message().contains("parent"),
            "{}",
            answer.text
        );
    }
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn a_release_parent_must_be_a_build_and_a_deploy_parent_a_release() {
    let app = app_with("web").await;
    let push = app.create_event("web", "pushEvent", json!({})).await;
    let build = app.create_event("web", "buildEvent", json!({})).await;
    let before = snapshot(&app).await;
    let answer = app
        .put(
            "/jdoe/apps/web/events/releaseEvent",
            json!({"parent_event_id": push}),
        )
        .await;
    assert_error(&answer, 400, "BadParam");
    let answer = app
        .put(
            "/jdoe/apps/web/events/deployEvent",
            json!({"env_name": "dev", "parent_event_id": build}),
        )
        .await;
    assert_error(&answer, 400, "BadParam");
    assert_eq!(snapshot(&app).await, before);

    let release = app
        .create_event("web", "releaseEvent", json!({"parent_event_id": build}))
        .await;
    let deploy = app
        .create_event(
            "web",
            "deployEvent",
            json!({"env_name": "dev", "parent_event_id": release.to_string()}),
        )
        .await;
    assert_eq!(
        event(&app, "web", release).await["parent_event_id"],
        json!(build.to_string())
    );
    assert_eq!(
        event(&app, "web", deploy).await["parent_event_id"],
        json!(release.to_string())
    );
}

#[tokio::test]
async fn timestamps_in_any_rfc3339_form_are_normalised_to_utc_milliseconds() {
    let app = app_with("web").await;
    for (sent, stored) in [
        ("2016-08-15T22:22:22Z", "2016-08-15T22:22:22.000Z"),
        ("2016-08-15T22:22:22.1Z", "2016-08-15T22:22:22.100Z"),
        ("2016-08-15T22:22:22.111Z", "2016-08-15T22:22:22.111Z"),
        ("2016-08-15T22:22:22.111+02:00", "2016-08-15T20:22:22.111Z"),
        ("2016-08-30T22:30:52.0Z", "2016-08-30T22:30:52.000Z"),
        ("2016-08-15T22:22:22.123456789Z", "2016-08-15T22:22:22.123Z"),
    ] {
        let id = app
            .create_event("web", "buildEvent", json!({"build_start": sent}))
            .await;
        assert_eq!(
            event(&app, "web", id).await["build_start"],
            stored,
            "{sent}"
        );
    }
}

#[tokio::test]
async fn a_timestamp_that_is_not_rfc3339_is_bad_param() {
    let app = app_with("web").await;
    for bad in [json!("2016-08-15"), json!("yesterday"), json!(1471299742)] {
        let answer = app
            .put(
                "/jdoe/apps/web/events/buildEvent",
                json!({"build_start": bad}),
            )
            .await;
        assert_error(&answer, 400, "BadParam");
        assert!(answer.message().contains("build_start"), "{}", answer.text);
    }
    assert!(all_events(&app, "web").await.is_empty());
}

#[tokio::test]
async fn statuses_and_providers_are_accepted_in_any_case_and_returned_canonically() {
    let app = app_with("web").await;
    let id = app
        .create_event(
            "web",
            "buildEvent",
            json!({"build_status": "running", "repo_provider": "GitHub"}),
        )
        .await;
    let e = event(&app, "web", id).await;
    assert_eq!(e["build_status"], "Running");
    assert_eq!(e["repo_provider"], "github");
    let id = app
        .create_event(
            "web",
            "buildEvent",
            json!({"build_status": "TIMEDOUT", "build_end": "2016-08-15T22:22:22Z", "repo_provider": "AzureDevOps"}),
        )
        .await;
    let e = event(&app, "web", id).await;
    assert_eq!(e["build_status"], "TimedOut");
    assert_eq!(e["repo_provider"], "azuredevops");
    for provider in ["bitbucket", "BitbucketServer", "githubenterprise", "GITLAB"] {
        let id = app
            .create_event("web", "pushEvent", json!({"repo_provider": provider}))
            .await;
        assert_eq!(
            event(&app, "web", id).await["repo_provider"],
            provider.to_lowercase()
        );
    }
}

#[tokio::test]
async fn an_unknown_build_status_is_bad_param_listing_the_accepted_values() {
    let app = app_with("web").await;
    let answer = app
        .put(
            "/jdoe/apps/web/events/buildEvent",
            json!({"build_status": "done"}),
        )
        .await;
    assert_error(&answer, 400, "BadParam");
    let message = answer.message();
    assert!(message.contains("build_status"), "{message}");
    for status in [
        "Waiting",
        "Queued",
        "Running",
        "Success",
        "Failed",
        "TimedOut",
        "Cancelled",
    ] {
        assert!(message.contains(status), "{message} lists {status}");
    }
    assert!(all_events(&app, "web").await.is_empty());
}

#[tokio::test]
async fn an_unknown_repo_provider_is_bad_param() {
    let app = app_with("web").await;
    for kind in ["pushEvent", "pullRequestEvent", "buildEvent"] {
        let answer = app
            .put(
                &format!("/jdoe/apps/web/events/{kind}"),
                json!({"repo_provider": "svn"}),
            )
            .await;
        assert_error(&answer, 400, "BadParam");
        assert!(
            answer.message().contains("repo_provider"),
            "{}",
            answer.text
        );
    }
    assert!(all_events(&app, "web").await.is_empty());
}

#[tokio::test]
async fn build_provider_is_free_text_stored_as_sent() {
    let app = app_with("web").await;
    for provider in ["jenkins", "node", "Jenkins", "CircleCI", "my own CI"] {
        let id = app
            .create_event("web", "buildEvent", json!({"build_provider": provider}))
            .await;
        assert_eq!(event(&app, "web", id).await["build_provider"], provider);
    }
}

#[tokio::test]
async fn booleans_accept_the_strings_true_and_false() {
    let app = app_with("web").await;
    for (sent, stored) in [
        (json!(true), true),
        (json!(false), false),
        (json!("true"), true),
        (json!("false"), false),
    ] {
        let id = app
            .create_event("web", "buildEvent", json!({"auto_build": sent}))
            .await;
        assert_eq!(event(&app, "web", id).await["auto_build"], json!(stored));
        let id = app
            .create_event(
                "web",
                "deployEvent",
                json!({"env_name": "dev", "auto_deploy": sent}),
            )
            .await;
        assert_eq!(event(&app, "web", id).await["auto_deploy"], json!(stored));
    }
}

#[tokio::test]
async fn a_boolean_field_of_another_type_is_bad_param() {
    let app = app_with("web").await;
    for bad in [json!("yes"), json!(1), json!([true])] {
        let answer = app
            .put(
                "/jdoe/apps/web/events/buildEvent",
                json!({"auto_build": bad}),
            )
            .await;
        assert_error(&answer, 400, "BadParam");
        assert!(answer.message().contains("auto_build"), "{}", answer.text);
    }
    assert!(all_events(&app, "web").await.is_empty());
}

#[tokio::test]
async fn numbers_are_accepted_for_string_fields() {
    let app = app_with("web").await;
    let id = app
        .create_event(
            "web",
            "buildEvent",
            json!({"build_id": 96, "commit_id": 1234}),
        )
        .await;
    let e = event(&app, "web", id).await;
    assert_eq!(e["build_id"], "96");
    assert_eq!(e["commit_id"], "1234");
    let id = app
        .create_event(
            "web",
            "deployEvent",
            json!({"env_name": "dev", "deployment_number": 107557}),
        )
        .await;
    assert_eq!(event(&app, "web", id).await["deployment_number"], "107557");
}

#[tokio::test]
async fn a_string_field_sent_as_an_array_or_object_is_bad_param_naming_it() {
    let app = app_with("web").await;
    for bad in [json!(["master"]), json!({"name": "master"}), json!(true)] {
        let answer = app
            .put("/jdoe/apps/web/events/pushEvent", json!({"branch": bad}))
            .await;
        assert_error(&answer, 400, "BadParam");
        assert!(answer.message().contains("branch"), "{}", answer.text);
    }
    assert!(all_events(&app, "web").await.is_empty());
}

#[tokio::test]
async fn keys_a_type_does_not_carry_are_ignored() {
    let app = app_with("web").await;
    let id = app
        .create_event(
            "web",
            "pushEvent",
            with(
                push_body(),
                json!({"build_status": "nonsense", "env_name": "../x", "colour": [1, {"a": null}]}),
            ),
        )
        .await;
    let answer = app.get("/jdoe/apps/web/events").await;
    assert_listing_key_order(&answer.text);
    let e = &answer.json["events"][0];
    assert_eq!(e["event_id"], json!(id));
    assert!(e.get("build_status").is_none() && e.get("colour").is_none());
}

#[tokio::test]
async fn a_null_value_counts_as_absent() {
    let app = app_with("web").await;
    let id = app
        .create_event(
            "web",
            "buildEvent",
            json!({"branch": null, "build_status": null, "auto_build": null, "parent_event_id": null}),
        )
        .await;
    let e = event(&app, "web", id).await;
    for key in ["branch", "build_status", "auto_build", "parent_event_id"] {
        assert_eq!(e[key], Value::Null, "{key}");
    }
}

#[tokio::test]
async fn creating_an_event_in_an_unknown_app_is_not_found() {
    let app = TestApp::spawn().await;
    for kind in [
        "pushEvent",
        "pullRequestEvent",
        "buildEvent",
        "releaseEvent",
        "deployEvent",
    ] {
        let answer = app
            .put(
                &format!("/jdoe/apps/nope/events/{kind}"),
                json!({"env_name": "dev"}),
            )
            .await;
        assert_error(&answer, 404, "NotFound");
        assert_eq!(answer.message(), "App nope not found");
    }
    let envs = app.get("/jdoe/envs").await;
    assert_eq!(envs.json["envs"], json!([]), "no env was created");
}

#[tokio::test]
async fn update_build_changes_its_status_and_answers_the_whole_event() {
    let app = app_with("web").await;
    let id = app.create_event("web", "buildEvent", build_body()).await;
    let answer = app
        .post(
            &format!("/jdoe/apps/web/events/{id}"),
            json!({"build_status": "queued"}),
        )
        .await;
    assert_ok(&answer);
    let top = Ordered::parse(&answer.text);
    assert_eq!(top.keys(), ["event"]);
    assert_event_key_order(top.get("event"));
    let e = &answer.json["event"];
    assert_eq!(e["event_id"], json!(id), "event_id is a JSON number");
    assert_eq!(e["build_status"], "Queued");
    assert_eq!(e["build_id"], "J23465");
    assert_eq!(
        *e,
        event(&app, "web", id).await,
        "the answer is the stored event"
    );
}

#[tokio::test]
async fn update_build_sets_build_end_and_release_version() {
    let app = app_with("web").await;
    let id = app.create_event("web", "buildEvent", build_body()).await;
    let answer = app
        .post(
            &format!("/jdoe/apps/web/events/{id}"),
            json!({"build_status": "Success", "build_end": "2016-08-17T22:22:22.111Z", "release_version": "v123"}),
        )
        .await;
    assert_ok(&answer);
    let e = &answer.json["event"];
    assert_eq!(e["build_status"], "Success");
    assert_eq!(e["build_end"], "2016-08-17T22:22:22.111Z");
    assert_eq!(e["release_version"], "v123");
    assert_eq!(e["build_start"], "2016-08-15T22:22:22.111Z", "untouched");
}

#[tokio::test]
async fn update_build_ignores_fields_it_does_not_update() {
    let app = app_with("web").await;
    let id = app.create_event("web", "buildEvent", build_body()).await;
    let answer = app
        .post(
            &format!("/jdoe/apps/web/events/{id}"),
            json!({"build_status": "Queued", "branch": "other", "build_id": "changed"}),
        )
        .await;
    assert_ok(&answer);
    let e = event(&app, "web", id).await;
    assert_eq!(e["branch"], "master");
    assert_eq!(e["build_id"], "J23465");
}

#[tokio::test]
async fn update_on_an_unknown_event_id_is_not_found_with_its_id() {
    let app = app_with("web").await;
    let answer = app
        .post(
            "/jdoe/apps/web/events/999999",
            json!({"build_status": "Running"}),
        )
        .await;
    assert_error(&answer, 404, "NotFound");
    assert_eq!(answer.message(), "Event 999999 not found");
}

#[tokio::test]
async fn update_on_an_event_of_another_app_is_not_found() {
    let app = app_with("web").await;
    app.create_app("other").await;
    let id = app.create_event("other", "buildEvent", json!({})).await;
    let answer = app
        .post(
            &format!("/jdoe/apps/web/events/{id}"),
            json!({"build_status": "Queued"}),
        )
        .await;
    assert_error(&answer, 404, "NotFound");
    assert_eq!(answer.message(), format!("Event {id} not found"));
    assert_eq!(event(&app, "other", id).await["build_status"], Value::Null);
}

#[tokio::test]
async fn updating_a_push_pull_request_or_release_is_bad_param() {
    let app = app_with("web").await;
    let push = app.create_event("web", "pushEvent", json!({})).await;
    let pr = app.create_event("web", "pullRequestEvent", json!({})).await;
    let release = app.create_event("web", "releaseEvent", json!({})).await;
    let before = snapshot(&app).await;
    for id in [push, pr, release] {
        let answer = app
            .post(
                &format!("/jdoe/apps/web/events/{id}"),
                json!({"build_status": "Running"}),
            )
            .await;
        assert_error(&answer, 400, "BadParam");
    }
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn releases_without_a_version_get_v1_then_v2() {
    let app = app_with("web").await;
    let first = app.create_event("web", "releaseEvent", json!({})).await;
    let second = app.create_event("web", "releaseEvent", json!({})).await;
    assert_eq!(event(&app, "web", first).await["release_version"], "v1");
    assert_eq!(event(&app, "web", second).await["release_version"], "v2");
    app.create_app("other").await;
    let elsewhere = app.create_event("other", "releaseEvent", json!({})).await;
    assert_eq!(
        event(&app, "other", elsewhere).await["release_version"],
        "v1",
        "numbering is per app"
    );
}

#[tokio::test]
async fn a_release_is_listed_with_every_field_in_contract_order() {
    let app = app_with("web").await;
    let id = app
        .create_event(
            "web",
            "releaseEvent",
            with(
                push_body(),
                json!({"release_version": "v5", "build_id": "96"}),
            ),
        )
        .await;
    let answer = app.get("/jdoe/apps/web/events").await;
    assert_listing_key_order(&answer.text);
    let e = &answer.json["events"][0];
    assert_eq!(e["event_id"], json!(id));
    assert_eq!(e["event_type"], "RELEASE");
    assert_eq!(e["release_version"], "v5");
    assert_eq!(e["build_id"], "96");
    assert_eq!(e["commit_id"], "1234567890123456789012345678901234567890");
}

#[tokio::test]
async fn a_release_with_an_existing_version_already_exists() {
    let app = app_with("web").await;
    app.create_event("web", "releaseEvent", json!({"release_version": "v7"}))
        .await;
    let before = snapshot(&app).await;
    let answer = app
        .put(
            "/jdoe/apps/web/events/releaseEvent",
            json!({"release_version": "v7"}),
        )
        .await;
    assert_error(&answer, 409, "AlreadyExists");
    assert_eq!(answer.message(), "Release v7 already exists");
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn a_release_with_a_build_parent_takes_the_builds_commit_fields_and_build_id() {
    let app = app_with("web").await;
    let build = app.create_event("web", "buildEvent", build_body()).await;
    let release = app
        .create_event(
            "web",
            "releaseEvent",
            json!({"parent_event_id": build, "branch": "hotfix"}),
        )
        .await;
    let b = event(&app, "web", build).await;
    let r = event(&app, "web", release).await;
    for key in COMMIT_FIELDS {
        if *key == "branch" {
            assert_eq!(r["branch"], "hotfix", "a sent field wins");
        } else {
            assert_eq!(r[*key], b[*key], "{key}");
        }
    }
    assert_eq!(r["build_id"], "J23465");
    assert_eq!(r["parent_event_id"], json!(build.to_string()));
}

#[tokio::test]
async fn every_event_type_round_trips_through_the_listing_in_contract_order() {
    let app = app_with("web").await;
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
    app.create_event("web", "releaseEvent", json!({"parent_event_id": build}))
        .await;
    app.create_event(
        "web",
        "deployEvent",
        json!({"env_name": "dev", "release_version": "v1"}),
    )
    .await;
    let answer = app.get("/jdoe/apps/web/events").await;
    assert_ok(&answer);
    assert_listing_key_order(&answer.text);
    let types: Vec<_> = answer.json["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(types, ["DEPLOY", "RELEASE", "BUILD", "PULLREQUEST", "PUSH"]);
}

#[tokio::test]
async fn event_time_is_when_the_server_recorded_the_event() {
    use shiplog_domain::Timestamp;
    let app = app_with("web").await;
    let before = Timestamp::now().millis();
    let a = app.create_event("web", "pushEvent", json!({})).await;
    let b = app
        .create_event(
            "web",
            "buildEvent",
            json!({"build_start": "2001-01-01T00:00:00Z"}),
        )
        .await;
    let after = Timestamp::now().millis();
    let mut last = 0;
    for id in [a, b] {
        let e = event(&app, "web", id).await;
        let t = Timestamp::parse(e["event_time"].as_str().unwrap())
            .unwrap()
            .millis();
        assert!(t >= before - 1000 && t <= after + 1000, "{e}");
        assert!(t >= last, "event_time does not go back");
        last = t;
    }
}

#[tokio::test]
async fn text_is_stored_exactly_including_unicode_and_control_characters() {
    let app = app_with("web").await;
    let branch = "feature/ü🚀\u{1}x\ty \"q\" \\";
    let msg = "fix: line 1\r\nline 2\u{2028}é";
    let id = app
        .create_event(
            "web",
            "pushEvent",
            json!({"branch": branch, "commit_msg": msg}),
        )
        .await;
    let e = event(&app, "web", id).await;
    assert_eq!(e["branch"], branch);
    assert_eq!(e["commit_msg"], msg);
    let encoded: String = form_urlencoded::byte_serialize(branch.as_bytes()).collect();
    let answer = app
        .get(&format!(
            "/jdoe/apps/web/events?filter_name=Branch&filter_branch={encoded}"
        ))
        .await;
    assert_ok(&answer);
    assert_eq!(ids(answer.json["events"].as_array().unwrap()), [id]);
}

#[tokio::test]
async fn text_with_a_nul_character_is_refused_by_every_store() {
    let app = app_with("web").await;
    let answer = app
        .put(
            "/jdoe/apps/web/events/pushEvent",
            json!({"branch": "a\u{0}b"}),
        )
        .await;
    assert_error(&answer, 400, "BadParam");
    assert!(answer.message().contains("branch"), "{}", answer.text);
    let answer = app
        .get("/jdoe/apps/web/events?filter_name=Branch&filter_branch=a%00b")
        .await;
    assert_error(&answer, 400, "BadParam");
    let answer = app.get("/jdoe/apps/we%00b/events").await;
    assert_error(&answer, 404, "NotFound");
    assert!(all_events(&app, "web").await.is_empty());
}

#[tokio::test]
async fn field_limits_count_bytes_not_characters() {
    let app = app_with("web").await;
    let fits = "é".repeat(2048);
    let id = app
        .create_event("web", "pushEvent", json!({"branch": fits}))
        .await;
    assert_eq!(event(&app, "web", id).await["branch"], fits);
    let answer = app
        .put(
            "/jdoe/apps/web/events/pushEvent",
            json!({"branch": "é".repeat(2049)}),
        )
        .await;
    assert_error(&answer, 413, "PayloadTooLarge");
    assert_eq!(all_events(&app, "web").await.len(), 1);
}

#[tokio::test]
async fn timestamps_accept_lower_case_separators_and_any_offset() {
    let app = app_with("web").await;
    for (sent, stored) in [
        ("2016-08-15t22:22:22z", "2016-08-15T22:22:22.000Z"),
        ("2016-08-15T22:22:22-07:00", "2016-08-16T05:22:22.000Z"),
        ("2016-08-15T22:22:22.5+14:00", "2016-08-15T08:22:22.500Z"),
        ("2016-08-15T22:22:22-00:00", "2016-08-15T22:22:22.000Z"),
    ] {
        let answer = app
            .put(
                "/jdoe/apps/web/events/buildEvent",
                json!({"build_start": sent}),
            )
            .await;
        let id = created_id(&answer);
        assert_eq!(
            event(&app, "web", id).await["build_start"],
            stored,
            "{sent}"
        );
    }
}
