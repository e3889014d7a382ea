//! The contract's §5: what the known clients of the original service do.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Answer, TestApp};
use crate::support::*;

/// The Jenkins "before build" script: a PUSH, then a BUILD with the push as
/// parent, reading `.event_id` as jq would (a string).
async fn before_build(app: &TestApp) -> (String, String) {
    let push = app
        .send_raw(
            Method::PUT,
            &app.url("/jdoe/apps/example-node/events/pushEvent"),
            Some(
                br#"{"repo_url":"https://github.com/doct15/example-node", "commit_url":"https://github.com/doct15/example-node", "author_username":"doct15", "author_name":"doct15", "commit_msg":"NoChangeMessage", "commit_id":"05169ab2384e8cd991cfdf4e61f9642ccf600758", "branch":"origin/master"}"#,
            ),
        )
        .await;
    assert_eq!(push.status, 200, "{}", push.text);
    let push_id = push.json["event_id"]
        .as_str()
        .expect(".event_id is a string")
        .to_owned();
    let body = format!(
        r#"{{"build_status":"Running", "build_start":"2016-08-30T22:30:52.0Z", "build_id":"96", "build_provider":"jenkins", "build_url":"http://54.210.169.27:8080/job/example-node/96/", "repo_url":"https://github.com/doct15/example-node", "commit_url":"https://github.com/doct15/example-node", "author_username":"doct15", "author_name":"doct15", "commit_msg":"NoChangeMessage", "commit_id":"05169ab2384e8cd991cfdf4e61f9642ccf600758", "branch":"origin/master", "parent_event_id":"{push_id}"}}"#
    );
    let build = app
        .send_raw(
            Method::PUT,
            &app.url("/jdoe/apps/example-node/events/buildEvent"),
            Some(body.as_bytes()),
        )
        .await;
    assert_eq!(build.status, 200, "{}", build.text);
    let build_id = build.json["event_id"]
        .as_str()
        .expect(".event_id is a string")
        .to_owned();
    (push_id, build_id)
}

#[tokio::test]
async fn the_jenkins_before_and_after_build_scripts_work_unchanged() {
    let app = TestApp::spawn().await;
    app.create_app("example-node").await;
    let (push_id, build_id) = before_build(&app).await;
    let after = app
        .send_raw(
            Method::POST,
            &app.url(&format!("/jdoe/apps/example-node/events/{build_id}")),
            Some(br#"{"build_status":"Success","build_end":"2016-08-30T22:31:11.0Z","release_version":"v5"}"#),
        )
        .await;
    assert_eq!(after.status, 200, "{}", after.text);
    let top = Ordered::parse(&after.text);
    assert_event_key_order(top.get("event"));
    let e = &after.json["event"];
    assert_eq!(e["app_name"], "example-node");
    assert_eq!(e["event_id"], json!(build_id.parse::<i64>().unwrap()));
    assert_eq!(e["event_type"], "BUILD");
    assert_eq!(e["build_status"], "Success");
    assert_eq!(e["build_start"], "2016-08-30T22:30:52.000Z");
    assert_eq!(e["build_end"], "2016-08-30T22:31:11.000Z");
    assert_eq!(e["build_provider"], "jenkins");
    assert_eq!(e["build_id"], "96");
    assert_eq!(e["release_version"], "v5");
    assert_eq!(e["parent_event_id"], json!(push_id));
    assert_eq!(e["auto_build"], Value::Null);
    assert_eq!(e["repo_provider"], Value::Null);

    // The listing reads like the source document's example.
    let listing = app.get("/jdoe/apps/example-node/events").await;
    assert_listing_key_order(&listing.text);
    let events = listing.json["events"].as_array().unwrap();
    let types: Vec<_> = events
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["RELEASE", "BUILD", "PUSH"]);
    assert_eq!(events[0]["release_version"], "v5");
    assert_eq!(events[0]["parent_event_id"], json!(build_id));
    assert_eq!(
        events[0]["commit_id"],
        "05169ab2384e8cd991cfdf4e61f9642ccf600758"
    );
    assert_eq!(events[1], *e);
    assert_eq!(
        events[2]["event_id"],
        json!(push_id.parse::<i64>().unwrap())
    );
}

#[tokio::test]
async fn the_jenkins_after_build_script_can_report_a_failure() {
    let app = TestApp::spawn().await;
    app.create_app("example-node").await;
    let (_, build_id) = before_build(&app).await;
    let after = app
        .send_raw(
            Method::POST,
            &app.url(&format!("/jdoe/apps/example-node/events/{build_id}")),
            Some(br#"{"build_status":"Failed","build_end":"2016-08-30T22:31:11.0Z"}"#),
        )
        .await;
    assert_eq!(after.status, 200, "{}", after.text);
    assert_eq!(after.json["event"]["build_status"], "Failed");
    // A CI retry of the same call still answers exactly 200.
    let retry = app
        .send_raw(
            Method::POST,
            &app.url(&format!("/jdoe/apps/example-node/events/{build_id}")),
            Some(br#"{"build_status":"Failed","build_end":"2016-08-30T22:31:11.0Z"}"#),
        )
        .await;
    assert_eq!(retry.status, 200, "{}", retry.text);
}

#[tokio::test]
async fn the_groovy_library_sends_lower_case_statuses_and_gets_exactly_200() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    let created = app
        .put(
            "/jdoe/apps/web/events/buildEvent",
            json!({"build_status": "running", "build_start": "2016-08-30T22:30:52Z"}),
        )
        .await;
    assert_eq!(created.status.as_u16(), 200);
    let id = created.json["event_id"].as_str().unwrap().to_owned();
    for body in [
        json!({"build_status": "queued"}),
        json!({"build_status": "success", "build_end": "2016-08-30T22:31:11Z"}),
    ] {
        let answer = app.post(&format!("/jdoe/apps/web/events/{id}"), body).await;
        assert_eq!(answer.status.as_u16(), 200, "{}", answer.text);
    }
    assert_eq!(
        event(&app, "web", id.parse().unwrap()).await["build_status"],
        "Success"
    );
}

#[tokio::test]
async fn bodies_are_json_whatever_the_content_type_says() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    for content_type in [
        None,
        Some("application/json"),
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("application/octet-stream"),
    ] {
        let headers: Vec<(&str, &str)> = content_type
            .map(|c| ("Content-Type", c))
            .into_iter()
            .collect();
        let answer = send_with_headers(
            &app,
            Method::PUT,
            &app.url("/jdoe/apps/web/events/pushEvent"),
            &headers,
            Some(br#"{"branch":"master"}"#),
        )
        .await;
        let id = created_id(&answer);
        assert_eq!(
            event(&app, "web", id).await["branch"],
            "master",
            "{content_type:?}"
        );
    }
}

#[tokio::test]
async fn an_empty_body_means_an_empty_object() {
    let app = TestApp::spawn().await;
    let answer = app
        .send_raw(Method::PUT, &app.url("/jdoe/apps/web"), None)
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let answer = app
        .send_raw(Method::PUT, &app.url("/jdoe/apps/web2"), Some(b""))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let answer = app
        .send_raw(
            Method::PUT,
            &app.url("/jdoe/apps/web/events/pushEvent"),
            None,
        )
        .await;
    created_id(&answer);
    let answer = app
        .send_raw(
            Method::PUT,
            &app.url("/jdoe/apps/web/events/buildEvent"),
            Some(b"  \n"),
        )
        .await;
    let build = created_id(&answer);
    let answer = app
        .send_raw(
            Method::POST,
            &app.url(&format!("/jdoe/apps/web/events/{build}")),
            None,
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json["event"]["event_id"], json!(build));
    let answer = app
        .send_raw(Method::PUT, &app.url("/jdoe/apps/web/envs/dev"), None)
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
}

#[tokio::test]
async fn a_literal_null_body_is_an_empty_object() {
    let app = TestApp::spawn().await;
    let answer = app
        .send_raw(Method::PUT, &app.url("/jdoe/apps/web"), Some(b"null"))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let answer = app
        .send_raw(
            Method::PUT,
            &app.url("/jdoe/apps/web/events/pushEvent"),
            Some(b"null"),
        )
        .await;
    created_id(&answer);
}

#[tokio::test]
async fn a_body_on_get_or_delete_is_ignored() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    app.create_app("gone").await;
    assert_ok(&app.put("/jdoe/apps/web/envs/dev", json!({})).await);
    assert_ok(&app.put("/jdoe/apps/web/envs/old", json!({})).await);
    for body in [
        &b"null"[..],
        b"{not json",
        b"[1,2]",
        b"{\"max_results\":\"x\"}",
    ] {
        for path in [
            "/jdoe/apps",
            "/jdoe/apps/web",
            "/jdoe/apps/web/events",
            "/jdoe/envs",
            "/jdoe/envs/dev",
            "/jdoe/apps/web/envs",
        ] {
            let answer = app.send_raw(Method::GET, &app.url(path), Some(body)).await;
            assert_eq!(
                answer.status,
                200,
                "GET {path} {:?}: {}",
                String::from_utf8_lossy(body),
                answer.text
            );
        }
    }
    let answer = app
        .send_raw(Method::DELETE, &app.url("/jdoe/envs/old"), Some(b"null"))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.text, "");
    let answer = app
        .send_raw(Method::DELETE, &app.url("/jdoe/apps/gone"), Some(b"{oops"))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.text, "");
    assert_error(&app.get("/jdoe/apps/gone").await, 404, "NotFound");
}

#[tokio::test]
async fn the_python_client_with_double_slashes_and_null_bodies_works() {
    let app = TestApp::spawn().await;
    let answer = app
        .send_raw(Method::PUT, &app.url("//jdoe//apps//web"), Some(b"null"))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json["app"]["name"], "web");
    let answer = app
        .send_raw(Method::GET, &app.url("//jdoe//apps"), Some(b"null"))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json["apps"][0]["name"], "web");
    let answer = app
        .send_raw(Method::GET, &app.url("//jdoe//apps//web"), Some(b"null"))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let answer = app
        .send_raw(Method::PUT, &app.url("//jdoe//apps//web//envs//dev"), None)
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let answer = app
        .send_raw(Method::GET, &app.url("//jdoe//envs//dev"), Some(b"null"))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json["env"]["name"], "dev");
    let answer = app
        .send_raw(
            Method::GET,
            &app.url("/jdoe///apps/web//envs"),
            Some(b"null"),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let answer = app
        .send_raw(Method::DELETE, &app.url("//jdoe//envs//dev"), Some(b"null"))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.text, "");
    let answer = app
        .send_raw(Method::DELETE, &app.url("//jdoe//apps//web"), Some(b"null"))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.text, "");
    let answer = app
        .send_raw(Method::GET, &app.url("//jdoe//apps//web"), Some(b"null"))
        .await;
    assert_error(&answer, 404, "NotFound");
    assert_eq!(answer.message(), "App web not found");
    let answer = app
        .send_raw(Method::GET, &app.url("//jdoe//envs//dev"), None)
        .await;
    assert_eq!(answer.message(), "Env dev not found");
    let answer = app
        .send_raw(
            Method::GET,
            &format!("{}//jdoe//apps", app.base),
            Some(b"null"),
        )
        .await;
    assert_eq!(
        answer.message(),
        "Request Authentication failed. Check your credentials."
    );
}

#[tokio::test]
async fn double_slashes_work_for_events_too() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    let answer = app
        .send_raw(
            Method::PUT,
            &app.url("//jdoe//apps//web//events//buildEvent"),
            Some(b"{}"),
        )
        .await;
    let id = created_id(&answer);
    let answer = app
        .send_raw(
            Method::POST,
            &app.url(&format!("//jdoe//apps//web//events//{id}")),
            Some(br#"{"build_status":"Queued"}"#),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let answer = app
        .send_raw(Method::GET, &app.url("//jdoe//apps//web//events"), None)
        .await;
    assert_eq!(ids(answer.json["events"].as_array().unwrap()), [id]);
}

#[tokio::test]
async fn unknown_keys_are_ignored() {
    let app = TestApp::spawn().await;
    let answer = app
        .put(
            "/jdoe/apps/web",
            json!({"description": "d", "colour": "blue", "nested": {"deep": [1, 2, {"x": null}]}}),
        )
        .await;
    assert_ok(&answer);
    assert_eq!(key_set(&answer.json["app"]), sorted(APP_FIELDS));
    let answer = app
        .put(
            "/jdoe/apps/web/envs/dev",
            json!({"tags": [], "servers": ["s1"], "x": 1}),
        )
        .await;
    assert_ok(&answer);
    assert_eq!(key_set(&answer.json["env"]), sorted(ENV_FIELDS));
    let id = app
        .create_event("web", "buildEvent", json!({"build_status": "Running", "apiToken": "x", "event_id": 5, "event_type": "PUSH", "app_name": "other"}))
        .await;
    let e = event(&app, "web", id).await;
    assert_eq!(e["event_type"], "BUILD");
    assert_eq!(e["app_name"], "web");
    assert_eq!(e["event_id"], json!(id));
    let answer = app
        .post(
            &format!("/jdoe/apps/web/events/{id}"),
            json!({"build_status": "Queued", "action": "add", "capabilities": ["node"]}),
        )
        .await;
    assert_ok(&answer);
}

#[tokio::test]
async fn every_success_is_exactly_200() {
    let app = TestApp::spawn().await;
    let mut answers: Vec<Answer> = Vec::new();
    answers.push(app.put("/jdoe/apps/web", json!({})).await);
    answers.push(app.put("/jdoe/apps/web/envs/dev", json!({})).await);
    for kind in [
        "pushEvent",
        "pullRequestEvent",
        "buildEvent",
        "releaseEvent",
    ] {
        answers.push(
            app.put(&format!("/jdoe/apps/web/events/{kind}"), json!({}))
                .await,
        );
    }
    let deploy = app
        .put(
            "/jdoe/apps/web/events/deployEvent",
            json!({"env_name": "dev"}),
        )
        .await;
    let deploy_id = deploy.json["event_id"].as_str().unwrap_or("0").to_owned();
    answers.push(deploy);
    answers.push(
        app.post(
            &format!("/jdoe/apps/web/events/{deploy_id}"),
            json!({"deployment_status": "Ok"}),
        )
        .await,
    );
    for path in [
        "/jdoe/apps",
        "/jdoe/apps/web",
        "/jdoe/apps/web/events",
        "/jdoe/envs",
        "/jdoe/envs/dev",
        "/jdoe/apps/web/envs",
    ] {
        answers.push(app.get(path).await);
    }
    answers.push(app.delete("/jdoe/envs/dev").await);
    answers.push(app.delete("/jdoe/apps/web").await);
    for answer in &answers {
        assert_eq!(answer.status.as_u16(), 200, "{}", answer.text);
    }
}

#[tokio::test]
async fn every_response_carries_a_distinct_request_id() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    let mut answers: Vec<Answer> = Vec::new();
    for _ in 0..5 {
        answers.push(app.get("/jdoe/apps").await);
    }
    answers.push(app.put("/jdoe/apps/web/events/pushEvent", json!({})).await);
    answers.push(app.get("/jdoe/apps/ghost").await);
    answers.push(
        app.send_raw(Method::GET, &format!("{}/jdoe/apps", app.base), None)
            .await,
    );
    answers.push(app.get("/someone-else/apps").await);
    answers.push(app.call(Method::PATCH, "/jdoe/apps/web", None).await);
    answers.push(app.get("/jdoe/nothing-here").await);
    answers.push(
        app.send_raw(
            Method::PUT,
            &app.url("/jdoe/apps/web/events/pushEvent"),
            Some(b"{"),
        )
        .await,
    );
    answers.push(app.put("/jdoe/apps/web", json!({})).await);
    answers.push(app.delete("/jdoe/apps/web").await);
    let mut seen = HashSet::new();
    for answer in &answers {
        let rid = answer
            .headers
            .get("x-dstli-rid")
            .unwrap_or_else(|| panic!("x-dstli-rid on {} {}", answer.status, answer.text))
            .to_str()
            .unwrap()
            .to_owned();
        assert!(!rid.trim().is_empty());
        assert!(seen.insert(rid.clone()), "request id {rid} repeated");
    }
}

#[tokio::test]
async fn responses_are_compact_json() {
    let app = TestApp::spawn().await;
    assert_ok(
        &app.put("/jdoe/apps/web", json!({"description": "a: b, c"}))
            .await,
    );
    assert_ok(
        &app.put(
            "/jdoe/apps/web/envs/dev",
            json!({"tags": ["x y", "z, w"], "vars": [{"name": "A", "value": "1 : 2"}]}),
        )
        .await,
    );
    let id = app
        .create_event(
            "web",
            "buildEvent",
            json!({"commit_msg": "fix: a, b\n\tc", "build_status": "Running"}),
        )
        .await;
    app.create_event("web", "deployEvent", json!({"env_name": "dev"}))
        .await;
    let answers = [
        app.get("/jdoe/apps").await,
        app.get("/jdoe/apps/web").await,
        app.get("/jdoe/apps/web/events").await,
        app.get("/jdoe/envs").await,
        app.get("/jdoe/envs/dev").await,
        app.get("/jdoe/apps/web/envs").await,
        app.post(
            &format!("/jdoe/apps/web/events/{id}"),
            json!({"build_status": "Queued"}),
        )
        .await,
        app.put("/jdoe/apps/web/events/pushEvent", json!({})).await,
    ];
    for answer in &answers {
        assert_ok(answer);
        assert!(is_compact(&answer.text), "not compact: {}", answer.text);
    }
    assert!(
        answers[2]
            .text
            .contains("\"commit_msg\":\"fix: a, b\\n\\tc\""),
        "{}",
        answers[2].text
    );
}

#[tokio::test]
async fn responses_are_json_with_a_json_content_type() {
    let app = TestApp::spawn().await;
    let answer = app.put("/jdoe/apps/web", json!({})).await;
    let content_type = answer
        .headers
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let answer = app.get("/jdoe/apps/ghost").await;
    let content_type = answer
        .headers
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
}

#[tokio::test]
async fn a_script_paging_by_marker_until_null_reads_every_event_once() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    let mut created = Vec::new();
    for _ in 0..23 {
        created.push(app.create_event("web", "pushEvent", json!({})).await);
    }
    let mut seen = Vec::new();
    let mut url = app.url("/jdoe/apps/web/events?max_results=5");
    loop {
        let answer = app.send_raw(Method::GET, &url, None).await;
        assert_eq!(answer.status, 200);
        seen.extend(ids(answer.json["events"].as_array().unwrap()));
        match answer.json["marker"].as_str() {
            // Pasted into the URL unencoded, as shell scripts do.
            Some(m) => url = app.url(&format!("/jdoe/apps/web/events?max_results=5&marker={m}")),
            None => break,
        }
    }
    created.reverse();
    assert_eq!(seen, created);
}

#[tokio::test]
async fn the_token_may_come_anywhere_in_the_query() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    let url = format!(
        "{}/jdoe/apps/web/events?apiToken={}&max_results=2&order=asc",
        app.base, app.token
    );
    let answer = app.send_raw(Method::GET, &url, None).await;
    assert_ok(&answer);
    let url = format!(
        "{}/jdoe/apps/web/events?max_results=2&apiToken={}&order=asc",
        app.base, app.token
    );
    let answer = app.send_raw(Method::GET, &url, None).await;
    assert_ok(&answer);
}

#[tokio::test]
async fn query_values_are_percent_decoded() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    let id = app
        .create_event("web", "pushEvent", json!({"branch": "feature/a b+c"}))
        .await;
    let answer = app
        .get("/jdoe/apps/web/events?filter_name=Branch&filter_branch=feature%2Fa%20b%2Bc")
        .await;
    assert_ok(&answer);
    assert_eq!(ids(answer.json["events"].as_array().unwrap()), [id]);
    let answer = app
        .get("/jdoe/apps/web/events?filter_name=%42ranch&filter_branch=feature%2Fa+b%2Bc")
        .await;
    assert_ok(&answer);
    assert_eq!(
        ids(answer.json["events"].as_array().unwrap()),
        [id],
        "+ is a space in a query"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_body_on_get_or_delete_is_ignored_and_the_connection_stays_usable() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    for round in 0..80 {
        let size = [10_000, 100_000, 400_000, 900_000][round % 4];
        let body = format!(
            "{{\"description\":\"{}\",\"tags\":[1,2]}}",
            "g".repeat(size)
        );
        let path = if round % 3 == 0 {
            "/jdoe/envs/ghost"
        } else {
            "/jdoe/apps/web/envs"
        };
        let method = if round % 3 == 0 {
            Method::DELETE
        } else {
            Method::GET
        };
        let response = app
            .client
            .request(method.clone(), app.url(path))
            .body(body.into_bytes())
            .send()
            .await;
        let status = response.map(|r| r.status().as_u16());
        assert!(
            matches!(status, Ok(200) | Ok(404)),
            "{method} {path} with {size} bytes: {status:?}"
        );
        let next = app.client.get(app.url("/jdoe/apps")).send().await;
        assert!(
            next.as_ref().is_ok_and(|r| r.status() == 200),
            "the next request after a {size}-byte {method} body failed: {next:?}"
        );
    }
}

#[tokio::test]
async fn percent_encoded_path_values_are_decoded() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    let answer = app.get("/jdoe/apps/w%65b").await;
    assert_ok(&answer);
    assert_eq!(answer.json["app"]["name"], "web");
    let answer = app
        .put("/jdoe/apps/w%65b/events/pushEvent", json!({}))
        .await;
    let id = created_id(&answer);
    assert_eq!(ids(&all_events(&app, "web").await), [id]);
}

#[tokio::test]
async fn a_percent_encoded_account_name_is_decoded_too() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    let answer = app.get("/%6Adoe/apps/web").await;
    assert_ok(&answer);
    assert_eq!(answer.json["app"]["owner"], "jdoe");
}
