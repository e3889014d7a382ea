//! The operator's endpoints: health, readiness and Prometheus metrics.

use serde_json::json;
use shiplog_server::startup::{RunningServer, ServerSettings};

use crate::helpers::TestApp;

#[tokio::test]
async fn health_and_readiness_answer_without_a_token() {
    let app = TestApp::spawn().await;
    for path in ["/-/health", "/-/ready"] {
        let answer = app
            .send_raw(reqwest::Method::GET, &format!("{}{path}", app.base), None)
            .await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.text);
    }
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_events_and_batches() {
    let app = TestApp::spawn().await;
    app.create_app("metered").await;
    for _ in 0..3 {
        app.create_event("metered", "pushEvent", json!({"branch": "main"}))
            .await;
    }
    let answer = app
        .send_raw(
            reqwest::Method::GET,
            &format!("{}/-/metrics", app.base),
            None,
        )
        .await;
    assert_eq!(answer.status, 200);
    let text = answer.text;
    let push_route = "route=\"/{username}/apps/{app_name}/events/pushEvent\"";
    let request_line = text
        .lines()
        .find(|l| {
            l.starts_with("shiplog_http_requests_total")
                && l.contains(push_route)
                && l.contains("status=\"200\"")
        })
        .unwrap_or_else(|| panic!("no request counter for the push route:\n{text}"));
    let count: f64 = request_line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(count >= 3.0, "{request_line}");
    // Labels are route templates: no account or app name leaks into them.
    assert!(!text.contains("metered"), "{text}");
    for metric in [
        "shiplog_http_request_duration_seconds_bucket",
        "shiplog_events_written_total{type=\"PUSH\"}",
        "shiplog_writer_batch_size_bucket",
        "shiplog_db_pool_connections{state=\"idle\"}",
    ] {
        assert!(text.contains(metric), "{metric} missing:\n{text}");
    }
}

#[tokio::test]
async fn metrics_can_have_a_listener_of_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let mut settings = ServerSettings::for_tests(&database);
    settings.metrics_listen = Some("127.0.0.1:0".into());
    let server = RunningServer::start(settings).await.unwrap();
    let client = reqwest::Client::new();
    let metrics_addr = server.metrics_addr.expect("a metrics listener");
    let on_own = client
        .get(format!("http://{metrics_addr}/-/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(on_own.status(), 200);
    assert!(
        on_own
            .text()
            .await
            .unwrap()
            .contains("shiplog_db_pool_connections")
    );
    let on_api = client
        .get(format!("http://{}/-/metrics", server.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(on_api.status(), 404);
    server.stop().await;
}

#[tokio::test]
async fn requests_past_the_in_flight_limit_are_answered_503_with_retry_after() {
    use tokio::io::AsyncWriteExt;

    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let mut settings = ServerSettings::for_tests(&database);
    settings.max_in_flight = 1;
    let server = RunningServer::start(settings).await.unwrap();
    let token = server.add_user_or_token("jdoe").await.unwrap();
    // A request whose body never finishes holds the only slot.
    let mut slow = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "PUT /jdoe/apps/slow?apiToken={token} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{{"
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let client = reqwest::Client::new();
    let refused = client
        .get(format!("http://{}/jdoe/apps?apiToken={token}", server.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.headers()["retry-after"], "1");
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "ServiceUnavailable");
    // The service's own paths stay reachable.
    let health = client
        .get(format!("http://{}/-/health", server.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    drop(slow);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let served = client
        .get(format!("http://{}/jdoe/apps?apiToken={token}", server.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), 200);
    server.stop().await;
}
