//! The request log: one structured line per request, and never a token.

use reqwest::header::AUTHORIZATION;
use serde_json::Value;

use crate::instances::Instance;

#[tokio::test]
async fn every_request_is_logged_once_with_its_id_and_no_token_ever_reaches_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let token = "loggedtokensecret0123456789abcdef";
    let wrong = "wrongtokensecret0123456789abcdef";
    let mut server = Instance::start_verbose(
        &database,
        &[
            "--bootstrap-user",
            "jdoe",
            "--bootstrap-token",
            token,
            "--log-json",
        ],
    )
    .await;
    let client = reqwest::Client::new();
    let base = server.base.clone();
    let mut ids = Vec::new();
    let requests = [
        client.put(format!("{base}/jdoe/apps/web?apiToken={token}")),
        client
            .put(format!("{base}/jdoe/apps/web/events/pushEvent"))
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .body(r#"{"branch":"main"}"#),
        client.get(format!(
            "{base}/jdoe/apps/web/events?apiToken={wrong}&max_results=2"
        )),
        client
            .get(format!("{base}/jdoe/apps"))
            .header(AUTHORIZATION, format!("Bearer {wrong}")),
        client.get(format!("{base}/other/apps?apiToken={token}")),
    ];
    for request in requests {
        let response = request.send().await.unwrap();
        let rid = response.headers()["x-dstli-rid"]
            .to_str()
            .unwrap()
            .to_owned();
        ids.push((rid, response.status().as_u16()));
    }
    let log = server
        .log_showing(|log| {
            ids.iter().all(|(rid, _)| {
                log.lines().any(|line| {
                    line.contains(rid.as_str()) && line.contains(r#""message":"request""#)
                })
            })
        })
        .await;
    for secret in [token, wrong] {
        assert!(!log.contains(secret), "a token reached the log:\n{log}");
    }
    let lines: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    for (rid, status) in ids {
        let logged: Vec<&Value> = lines
            .iter()
            .filter(|l| l["fields"]["message"] == "request" && l["span"]["rid"] == rid.as_str())
            .collect();
        assert_eq!(logged.len(), 1, "request {rid} is logged once:\n{log}");
        let fields = &logged[0]["fields"];
        assert_eq!(fields["status"], status);
        assert!(
            fields["route"]
                .as_str()
                .unwrap()
                .starts_with("/{username}/")
        );
        assert!(fields["method"].is_string() && fields["duration_us"].is_u64());
    }
}

/// Text logs written to a file (not a terminal) carry no colour codes, so a
/// file or a log collector gets plain lines.
#[tokio::test]
async fn text_logs_off_a_terminal_are_plain() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let mut server = Instance::start_verbose(&database, &[]).await;
    let health = reqwest::get(format!("{}/-/health", server.base))
        .await
        .unwrap();
    let rid = health.headers()["x-dstli-rid"].to_str().unwrap().to_owned();
    let log = server
        .log_showing(|log| {
            log.lines()
                .any(|line| line.contains(&rid) && line.contains("status="))
        })
        .await;
    let line = log
        .lines()
        .find(|line| line.contains(&rid))
        .unwrap_or_else(|| panic!("request {rid} is logged:\n{log}"));
    assert!(
        line.contains(" INFO ") && line.contains("status=200"),
        "a plain line: {line:?}"
    );
    assert!(!log.contains('\u{1b}'), "colour codes in the log:\n{log:?}");
}
