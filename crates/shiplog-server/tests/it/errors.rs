//! Every row of the contract's error table, and in each refused case a check
//! that nothing changed.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::support::*;

const AUTH_FAILED: &str = "Request Authentication failed. Check your credentials.";

/// A server with app `web` holding one running build, an env `dev`, and its
/// id.
async fn fixture() -> (TestApp, i64) {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    let build = app
        .create_event("web", "buildEvent", json!({"build_status": "Running"}))
        .await;
    assert_ok(&app.put("/jdoe/apps/web/envs/dev", json!({})).await);
    (app, build)
}

/// Every route of the API for account `user`, with a body that would succeed.
fn routes(user: &str, build: i64) -> Vec<(Method, String, Option<Value>)> {
    let app = format!("/{user}/apps/web");
    vec![
        (Method::GET, format!("/{user}/apps"), None),
        (Method::GET, app.clone(), None),
        (
            Method::PUT,
            format!("/{user}/apps/new-app"),
            Some(json!({})),
        ),
        (Method::DELETE, app.clone(), None),
        (Method::GET, format!("{app}/events"), None),
        (
            Method::PUT,
            format!("{app}/events/pushEvent"),
            Some(json!({})),
        ),
        (
            Method::PUT,
            format!("{app}/events/pullRequestEvent"),
            Some(json!({})),
        ),
        (
            Method::PUT,
            format!("{app}/events/buildEvent"),
            Some(json!({})),
        ),
        (
            Method::PUT,
            format!("{app}/events/releaseEvent"),
            Some(json!({})),
        ),
        (
            Method::PUT,
            format!("{app}/events/deployEvent"),
            Some(json!({"env_name": "dev"})),
        ),
        (
            Method::POST,
            format!("{app}/events/{build}"),
            Some(json!({"build_status": "Queued"})),
        ),
        (Method::GET, format!("/{user}/envs"), None),
        (Method::GET, format!("{app}/envs"), None),
        (Method::GET, format!("/{user}/envs/dev"), None),
        (Method::PUT, format!("{app}/envs/new-env"), Some(json!({}))),
        (Method::DELETE, format!("/{user}/envs/dev"), None),
    ]
}

#[tokio::test]
async fn a_body_that_is_not_json_is_malformed_request() {
    let (app, build) = fixture().await;
    let before = snapshot(&app).await;
    for body in [
        &b"{"[..],
        b"{\"branch\":}",
        b"not json",
        b"{\"a\":1}}",
        b"\xff\xfe",
    ] {
        for path in [
            "/jdoe/apps/web/events/pushEvent".to_owned(),
            "/jdoe/apps/web/events/buildEvent".to_owned(),
            format!("/jdoe/apps/web/events/{build}"),
            "/jdoe/apps/other".to_owned(),
            "/jdoe/apps/web/envs/other".to_owned(),
        ] {
            let method = if path.ends_with(&build.to_string()) {
                Method::POST
            } else {
                Method::PUT
            };
            let answer = app.send_raw(method, &app.url(&path), Some(body)).await;
            assert_error(&answer, 400, "MalformedRequest");
        }
    }
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn a_json_body_that_is_not_an_object_is_malformed_request() {
    let (app, build) = fixture().await;
    let before = snapshot(&app).await;
    for body in [
        "[1]",
        "[]",
        "\"x\"",
        "42",
        "true",
        "[{\"branch\":\"master\"}]",
    ] {
        let answer = app
            .send_raw(
                Method::PUT,
                &app.url("/jdoe/apps/web/events/pushEvent"),
                Some(body.as_bytes()),
            )
            .await;
        assert_error(&answer, 400, "MalformedRequest");
        let answer = app
            .send_raw(
                Method::POST,
                &app.url(&format!("/jdoe/apps/web/events/{build}")),
                Some(body.as_bytes()),
            )
            .await;
        assert_error(&answer, 400, "MalformedRequest");
        let answer = app
            .send_raw(
                Method::PUT,
                &app.url("/jdoe/apps/other"),
                Some(body.as_bytes()),
            )
            .await;
        assert_error(&answer, 400, "MalformedRequest");
    }
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn a_parameter_of_a_wrong_value_is_bad_param_naming_it() {
    let (app, build) = fixture().await;
    let before = snapshot(&app).await;
    for (path, method, body, param) in [
        (
            "/jdoe/apps/web/events/pushEvent".to_owned(),
            Method::PUT,
            json!({"commit_id": {"sha": "1"}}),
            "commit_id",
        ),
        (
            "/jdoe/apps/web/events/buildEvent".to_owned(),
            Method::PUT,
            json!({"build_status": 3}),
            "build_status",
        ),
        (
            "/jdoe/apps/web/events/buildEvent".to_owned(),
            Method::PUT,
            json!({"parent_event_id": -4}),
            "parent_event_id",
        ),
        (
            "/jdoe/apps/web/events/deployEvent".to_owned(),
            Method::PUT,
            json!({"env_name": "dev", "deployment_status": "Great"}),
            "deployment_status",
        ),
        (
            format!("/jdoe/apps/web/events/{build}"),
            Method::POST,
            json!({"build_end": "soon"}),
            "build_end",
        ),
        (
            format!("/jdoe/apps/web/events/{build}"),
            Method::POST,
            json!({"release_version": ["v1"]}),
            "release_version",
        ),
        (
            "/jdoe/apps/other".to_owned(),
            Method::PUT,
            json!({"description": 5}),
            "description",
        ),
        (
            "/jdoe/apps/web/envs/other".to_owned(),
            Method::PUT,
            json!({"tags": "a"}),
            "tags",
        ),
    ] {
        let answer = app.call(method, &path, Some(body.clone())).await;
        assert_error(&answer, 400, "BadParam");
        assert!(answer.message().contains(param), "{body}: {}", answer.text);
    }
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn a_required_parameter_absent_is_missing_param_naming_it() {
    let (app, _) = fixture().await;
    let before = snapshot(&app).await;
    let answer = app
        .put("/jdoe/apps/web/events/deployEvent", json!({}))
        .await;
    assert_error(&answer, 400, "MissingParam");
    assert!(answer.message().contains("env_name"), "{}", answer.text);
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn no_token_is_authentication_failed_with_the_exact_message() {
    let (app, build) = fixture().await;
    let before = snapshot(&app).await;
    for (method, path, body) in routes("jdoe", build) {
        let url = format!("{}{path}", app.base);
        let bytes = body.map(|b| serde_json::to_vec(&b).unwrap());
        let answer = app.send_raw(method.clone(), &url, bytes.as_deref()).await;
        assert_error(&answer, 401, "AuthenticationFailed");
        assert_eq!(answer.message(), AUTH_FAILED, "{method} {path}");
    }
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn an_unknown_or_empty_token_is_authentication_failed() {
    let (app, build) = fixture().await;
    let before = snapshot(&app).await;
    let forged = "a".repeat(40);
    let mut wrong_case = app.token.to_uppercase();
    if wrong_case == app.token {
        wrong_case.push('x');
    }
    for token in [
        forged.as_str(),
        "",
        "abcdefghijklmnopqrstuvwxyz0123456789z",
        &wrong_case,
        &app.token[..app.token.len() - 1],
    ] {
        for (method, path, body) in routes("jdoe", build) {
            let answer = call_as(&app, token, method.clone(), &path, body).await;
            assert_error(&answer, 401, "AuthenticationFailed");
            assert_eq!(answer.message(), AUTH_FAILED, "{method} {path}");
        }
    }
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn authentication_comes_before_not_found() {
    let app = TestApp::spawn().await;
    let answer = app
        .send_raw(Method::GET, &format!("{}/jdoe/apps/nope", app.base), None)
        .await;
    assert_error(&answer, 401, "AuthenticationFailed");
    let answer = app
        .send_raw(
            Method::GET,
            &app.url_with_token("/nobody/apps/nope", "bad"),
            None,
        )
        .await;
    assert_error(&answer, 401, "AuthenticationFailed");
}

#[tokio::test]
async fn a_token_in_an_authorization_bearer_header_is_accepted() {
    let (app, _) = fixture().await;
    let bearer = format!("Bearer {}", app.token);
    let answer = send_with_headers(
        &app,
        Method::GET,
        &format!("{}/jdoe/apps/web", app.base),
        &[("Authorization", &bearer)],
        None,
    )
    .await;
    assert_ok(&answer);
    assert_eq!(answer.json["app"]["name"], "web");
    let answer = send_with_headers(
        &app,
        Method::PUT,
        &format!("{}/jdoe/apps/web/events/pushEvent", app.base),
        &[("Authorization", &bearer)],
        Some(b"{\"branch\":\"master\"}"),
    )
    .await;
    let id = created_id(&answer);
    assert_eq!(event(&app, "web", id).await["branch"], "master");
}

#[tokio::test]
async fn an_unknown_bearer_token_is_authentication_failed() {
    let (app, _) = fixture().await;
    let before = snapshot(&app).await;
    for header in [
        "Bearer nope",
        "Bearer ",
        "Basic amRvZTpwYXNz",
        &format!("Token {}", app.token),
    ] {
        let answer = send_with_headers(
            &app,
            Method::PUT,
            &format!("{}/jdoe/apps/web/events/pushEvent", app.base),
            &[("Authorization", header)],
            Some(b"{}"),
        )
        .await;
        assert_error(&answer, 401, "AuthenticationFailed");
        assert_eq!(answer.message(), AUTH_FAILED, "{header}");
    }
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn another_account_is_access_denied_with_the_same_answer_whether_or_not_it_exists() {
    let (app, build) = fixture().await;
    let bob = app.new_account("bob").await;
    assert_ok(&call_as(&app, &bob, Method::PUT, "/bob/apps/web", Some(json!({}))).await);
    assert_ok(
        &call_as(
            &app,
            &bob,
            Method::PUT,
            "/bob/apps/web/envs/dev",
            Some(json!({})),
        )
        .await,
    );
    let bob_before = snapshot_as(&app, "bob", &bob).await;
    for ((method, existing, _), (_, missing, _)) in routes("bob", build)
        .into_iter()
        .zip(routes("nobody", build))
    {
        let body = match method {
            Method::GET | Method::DELETE => None,
            _ => Some(json!({"env_name": "dev"})),
        };
        let a = app.call(method.clone(), &existing, body.clone()).await;
        let b = app.call(method.clone(), &missing, body).await;
        assert_error(&a, 403, "AccessDenied");
        assert_error(&b, 403, "AccessDenied");
        assert_eq!(a.message(), b.message(), "{method} {existing} vs {missing}");
        assert!(
            !a.message().contains("bob"),
            "does not confirm the account: {}",
            a.text
        );
    }
    assert_eq!(snapshot_as(&app, "bob", &bob).await, bob_before);
}

#[tokio::test]
async fn an_unknown_app_is_not_found_with_the_exact_message() {
    let app = TestApp::spawn().await;
    for (method, path, body) in [
        (Method::GET, "/jdoe/apps/ghost", None),
        (Method::DELETE, "/jdoe/apps/ghost", None),
        (Method::GET, "/jdoe/apps/ghost/events", None),
        (Method::GET, "/jdoe/apps/ghost/envs", None),
        (
            Method::PUT,
            "/jdoe/apps/ghost/events/pushEvent",
            Some(json!({})),
        ),
        (Method::POST, "/jdoe/apps/ghost/events/1", Some(json!({}))),
        (Method::PUT, "/jdoe/apps/ghost/envs/dev", Some(json!({}))),
    ] {
        let answer = app.call(method.clone(), path, body).await;
        assert_error(&answer, 404, "NotFound");
        assert_eq!(answer.message(), "App ghost not found", "{method} {path}");
    }
    assert_eq!(app.get("/jdoe/envs").await.json["envs"], json!([]));
    assert_eq!(app.get("/jdoe/apps").await.json["apps"], json!([]));
}

#[tokio::test]
async fn an_unknown_env_is_not_found_with_the_exact_message() {
    let (app, _) = fixture().await;
    let before = snapshot(&app).await;
    for method in [Method::GET, Method::DELETE] {
        let answer = app.call(method.clone(), "/jdoe/envs/ghost", None).await;
        assert_error(&answer, 404, "NotFound");
        assert_eq!(answer.message(), "Env ghost not found", "{method}");
    }
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn an_unknown_event_is_not_found_with_the_exact_message() {
    let (app, _) = fixture().await;
    let before = snapshot(&app).await;
    let answer = app
        .post(
            "/jdoe/apps/web/events/424242",
            json!({"build_status": "Queued"}),
        )
        .await;
    assert_error(&answer, 404, "NotFound");
    assert_eq!(answer.message(), "Event 424242 not found");
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn an_unknown_route_is_not_found() {
    let (app, _) = fixture().await;
    for (method, path) in [
        (Method::GET, "/jdoe/widgets"),
        (Method::GET, "/jdoe/apps/web/events/1/extra"),
        (Method::GET, "/jdoe/apps/web/nothing"),
        (Method::PUT, "/jdoe/apps/web/events/pushEvent/again"),
        (Method::GET, "/jdoe/envs/dev/extra"),
    ] {
        let answer = app.call(method.clone(), path, None).await;
        assert_error(&answer, 404, "NotFound");
        assert!(answer.headers.contains_key("x-dstli-rid"));
    }
}

#[tokio::test]
async fn a_known_path_with_a_wrong_method_is_unsupported_http_method() {
    let (app, build) = fixture().await;
    let before = snapshot(&app).await;
    let event_path = format!("/jdoe/apps/web/events/{build}");
    for (method, path) in [
        (Method::GET, "/jdoe/apps/web/events/pushEvent"),
        (Method::DELETE, "/jdoe/apps/web/events/pushEvent"),
        (Method::GET, "/jdoe/apps/web/events/buildEvent"),
        // GET on an event is GetEvent; DELETE and PUT stay unsupported.
        (Method::DELETE, event_path.as_str()),
        (Method::PUT, event_path.as_str()),
        // POST on an app is UpdateApp, as POST on an event updates it.
        (Method::PATCH, "/jdoe/apps/web"),
        (Method::POST, "/jdoe/apps"),
        (Method::DELETE, "/jdoe/apps"),
        (Method::PUT, "/jdoe/apps/web/events"),
        (Method::DELETE, "/jdoe/apps/web/events"),
        (Method::PUT, "/jdoe/envs/dev"),
        (Method::POST, "/jdoe/envs"),
        (Method::PATCH, "/jdoe/envs/dev"),
    ] {
        let answer = app.call(method.clone(), path, Some(json!({}))).await;
        assert_error(&answer, 405, "UnsupportedHttpMethod");
        assert!(
            answer.headers.contains_key("x-dstli-rid"),
            "{method} {path}"
        );
    }
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn creating_an_existing_app_is_already_exists_and_keeps_the_first() {
    let app = TestApp::spawn().await;
    assert_ok(
        &app.put("/jdoe/apps/web", json!({"description": "first"}))
            .await,
    );
    let before = snapshot(&app).await;
    let answer = app
        .put("/jdoe/apps/web", json!({"description": "second"}))
        .await;
    assert_error(&answer, 409, "AlreadyExists");
    assert_eq!(answer.message(), "App web already exists");
    assert_eq!(snapshot(&app).await, before);
    assert_eq!(
        app.get("/jdoe/apps/web").await.json["app"]["description"],
        "first"
    );
}

#[tokio::test]
async fn changing_a_terminal_build_is_immutable_event() {
    let (app, build) = fixture().await;
    let path = format!("/jdoe/apps/web/events/{build}");
    assert_ok(
        &app.post(
            &path,
            json!({"build_status": "Failed", "build_end": "2030-01-01T00:00:00Z"}),
        )
        .await,
    );
    let before = snapshot(&app).await;
    let answer = app.post(&path, json!({"build_status": "Success"})).await;
    assert_error(&answer, 409, "ImmutableEvent");
    assert!(
        answer.message().contains(&build.to_string()) && answer.message().contains("Failed"),
        "{}",
        answer.text
    );
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn a_body_over_one_mebibyte_is_payload_too_large() {
    let (app, build) = fixture().await;
    let before = snapshot(&app).await;
    let big = format!("{{\"unknown\":\"{}\"}}", "x".repeat(1024 * 1024 + 10));
    for (method, path) in [
        (Method::PUT, "/jdoe/apps/web/events/pushEvent".to_owned()),
        (Method::POST, format!("/jdoe/apps/web/events/{build}")),
        (Method::PUT, "/jdoe/apps/big".to_owned()),
    ] {
        let answer = app
            .send_raw(method.clone(), &app.url(&path), Some(big.as_bytes()))
            .await;
        assert_error(&answer, 413, "PayloadTooLarge");
        assert!(
            answer.message().chars().any(|c| c.is_ascii_digit())
                || answer.message().contains("MiB"),
            "names the limit: {}",
            answer.text
        );
    }
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn a_body_just_under_one_mebibyte_is_accepted() {
    let (app, _) = fixture().await;
    let body = format!("{{\"unknown\":\"{}\"}}", "x".repeat(1024 * 1024 - 30));
    assert!(body.len() <= 1024 * 1024);
    let answer = app
        .send_raw(
            Method::PUT,
            &app.url("/jdoe/apps/web/events/pushEvent"),
            Some(body.as_bytes()),
        )
        .await;
    created_id(&answer);
}

#[tokio::test]
async fn a_commit_msg_over_64_kib_is_payload_too_large() {
    let (app, _) = fixture().await;
    let before = snapshot(&app).await;
    let answer = app
        .put(
            "/jdoe/apps/web/events/pushEvent",
            json!({"commit_msg": "m".repeat(64 * 1024 + 1)}),
        )
        .await;
    assert_error(&answer, 413, "PayloadTooLarge");
    assert!(answer.message().contains("commit_msg"), "{}", answer.text);
    assert!(
        answer.message().contains("65536") || answer.message().contains("64"),
        "names the limit: {}",
        answer.text
    );
    assert_eq!(snapshot(&app).await, before);
    let id = app
        .create_event(
            "web",
            "pushEvent",
            json!({"commit_msg": "m".repeat(64 * 1024)}),
        )
        .await;
    assert_eq!(
        event(&app, "web", id).await["commit_msg"]
            .as_str()
            .unwrap()
            .len(),
        64 * 1024
    );
}

#[tokio::test]
async fn any_other_field_over_4_kib_is_payload_too_large() {
    let (app, build) = fixture().await;
    let before = snapshot(&app).await;
    let long = "b".repeat(4 * 1024 + 1);
    for (method, path, body) in [
        (
            Method::PUT,
            "/jdoe/apps/web/events/pushEvent".to_owned(),
            json!({"branch": long}),
        ),
        (
            Method::PUT,
            "/jdoe/apps/web/events/buildEvent".to_owned(),
            json!({"build_url": long}),
        ),
        (
            Method::PUT,
            "/jdoe/apps/web/events/releaseEvent".to_owned(),
            json!({"release_version": long}),
        ),
        (
            Method::PUT,
            "/jdoe/apps/web/events/deployEvent".to_owned(),
            json!({"env_name": "dev", "deployment_id": long}),
        ),
        (
            Method::POST,
            format!("/jdoe/apps/web/events/{build}"),
            json!({"release_version": long}),
        ),
        (
            Method::PUT,
            "/jdoe/apps/other".to_owned(),
            json!({"description": long}),
        ),
        (
            Method::PUT,
            "/jdoe/apps/web/envs/other".to_owned(),
            json!({"description": long}),
        ),
        (
            Method::PUT,
            "/jdoe/apps/web/envs/other".to_owned(),
            json!({"tags": [long]}),
        ),
    ] {
        let answer = app.call(method.clone(), &path, Some(body)).await;
        assert_error(&answer, 413, "PayloadTooLarge");
        assert!(
            answer.message().contains("4096")
                || answer.message().contains("4 KiB")
                || answer.message().contains("4KiB"),
            "names the limit: {}",
            answer.text
        );
    }
    assert_eq!(snapshot(&app).await, before);
    let id = app
        .create_event("web", "pushEvent", json!({"branch": "b".repeat(4 * 1024)}))
        .await;
    assert_eq!(
        event(&app, "web", id).await["branch"]
            .as_str()
            .unwrap()
            .len(),
        4096
    );
}

#[tokio::test]
async fn error_answers_are_compact_json_with_a_request_id() {
    let (app, _) = fixture().await;
    let answers = [
        app.send_raw(
            Method::PUT,
            &app.url("/jdoe/apps/web/events/pushEvent"),
            Some(b"{"),
        )
        .await,
        app.get("/jdoe/apps/ghost").await,
        app.send_raw(Method::GET, &format!("{}/jdoe/apps", app.base), None)
            .await,
        app.call(Method::PATCH, "/jdoe/apps/web", None).await,
        app.put("/jdoe/apps/web", json!({})).await,
    ];
    for answer in &answers {
        assert!(answer.status.is_client_error(), "{}", answer.text);
        assert!(is_compact(&answer.text), "{}", answer.text);
        let rid = answer.headers.get("x-dstli-rid").expect("x-dstli-rid");
        assert!(!rid.is_empty());
    }
}

#[tokio::test]
async fn the_bearer_scheme_is_matched_in_any_letter_case() {
    let (app, _) = fixture().await;
    for scheme in ["bearer", "BEARER"] {
        let answer = send_with_headers(
            &app,
            Method::GET,
            &format!("{}/jdoe/apps/web", app.base),
            &[("Authorization", &format!("{scheme} {}", app.token))],
            None,
        )
        .await;
        assert_ok(&answer);
    }
}

#[tokio::test]
async fn service_paths_live_under_the_reserved_prefix_without_a_token() {
    let app = TestApp::spawn().await;
    let answer = app
        .send_raw(Method::GET, &format!("{}/-/health", app.base), None)
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let answer = app.get("/-/apps").await;
    assert!(
        answer.status.is_client_error(),
        "`-` is no account: {}",
        answer.text
    );
}
