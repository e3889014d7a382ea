//! The published OpenAPI description: served, complete, and committed.

use crate::helpers::TestApp;

const COMMITTED: &str = include_str!("../../../../openapi.json");

#[test]
fn the_committed_openapi_json_matches_the_code() {
    let committed: serde_json::Value = serde_json::from_str(COMMITTED).unwrap();
    assert!(
        committed == shiplog_server::openapi::document(),
        "openapi.json is stale: run `cargo run -- openapi > openapi.json` and commit it"
    );
}

#[tokio::test]
async fn the_server_publishes_an_openapi_3_1_description_of_every_call() {
    let app = TestApp::spawn().await;
    let answer = app
        .send_raw(
            reqwest::Method::GET,
            &format!("{}/-/openapi.json", app.base),
            None,
        )
        .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json, shiplog_server::openapi::document());
    assert_eq!(answer.json["openapi"], "3.1.0");
    let operations: Vec<&str> = answer.json["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|path| path.as_object().unwrap().values())
        .filter_map(|op| op["operationId"].as_str())
        .collect();
    for call in [
        "CreatePushEvent",
        "CreatePullRequestEvent",
        "CreateBuildEvent",
        "CreateReleaseEvent",
        "CreateDeployEvent",
        "UpdateEvent",
        "ListEvents",
        "ListApps",
        "GetApp",
        "CreateApp",
        "DeleteApp",
        "ListEnvs",
        "ListAppEnvs",
        "GetEnv",
        "CreateEnv",
        "DeleteEnv",
    ] {
        assert!(operations.contains(&call), "{call} is not described");
    }
}
