//! Outbound webhooks: configuration, signed deliveries to a real receiver,
//! retries until the receiver recovers (each change accepted once per
//! `webhook-id`), scopes, attempts listed, and targets refused (SSRF).

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use super::helpers::TestApp;
use super::receiver::Receiver;
use super::support::assert_error;

/// A server that may deliver to the receivers of the tests, on loopback.
async fn spawn() -> TestApp {
    TestApp::spawn_with(|settings| settings.allow_private_webhook_targets = true).await
}

/// Configures webhook `name` to `receiver` and tells the receiver its secret.
async fn subscribe(app: &TestApp, name: &str, receiver: &Receiver, extra: Value) -> Value {
    let mut body = json!({"url": receiver.url()});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let answer = app.put(&format!("/jdoe/webhooks/{name}"), body).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let secret = answer.json["webhook"]["secret"].as_str().unwrap();
    receiver.set_secret(secret);
    answer.json["webhook"].clone()
}

#[tokio::test]
async fn a_webhook_is_configured_its_secret_shown_once_and_rotated_on_request() {
    let app = spawn().await;
    let receiver = Receiver::start().await;
    let created = subscribe(
        &app,
        "chat",
        &receiver,
        json!({"event_types": ["deploy"], "apps": ["web"]}),
    )
    .await;
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert_eq!(created["event_types"], json!(["Deploy"]));
    assert_eq!(created["apps"], json!(["web"]));
    assert_eq!(created["format"], "shiplog");
    assert_eq!(created["enabled"], true);
    assert_eq!(created["failing_since"], Value::Null);
    // Listed and read without the secret.
    let listed = app.get("/jdoe/webhooks").await;
    assert_eq!(listed.status, 200);
    assert!(!listed.text.contains("secret"), "{}", listed.text);
    assert_eq!(listed.json["webhooks"][0]["name"], "chat");
    let read = app.get("/jdoe/webhooks/chat").await;
    assert!(
        read.json["webhook"].get("secret").is_none(),
        "{}",
        read.text
    );
    // A change of configuration keeps the secret; a rotation shows a new one.
    let changed = app
        .put(
            "/jdoe/webhooks/chat",
            json!({"url": receiver.url(), "format": "cdevents"}),
        )
        .await;
    assert!(
        changed.json["webhook"].get("secret").is_none(),
        "{}",
        changed.text
    );
    assert_eq!(changed.json["webhook"]["format"], "cdevents");
    assert_eq!(changed.json["webhook"]["event_types"], json!([]));
    let rotated = app
        .put(
            "/jdoe/webhooks/chat",
            json!({"url": receiver.url(), "rotate_secret": true}),
        )
        .await;
    let new_secret = rotated.json["webhook"]["secret"].as_str().unwrap();
    assert!(new_secret.starts_with("whsec_") && new_secret != secret);
    // Deleted once.
    assert_eq!(app.delete("/jdoe/webhooks/chat").await.status, 200);
    assert_error(&app.get("/jdoe/webhooks/chat").await, 404, "NotFound");
    assert_error(&app.delete("/jdoe/webhooks/chat").await, 404, "NotFound");
}

#[tokio::test]
async fn bad_webhook_configurations_are_refused_and_change_nothing() {
    let app = spawn().await;
    for (body, code) in [
        (json!({}), "MissingParam"),
        (json!({"url": "ftp://example.com/"}), "BadParam"),
        (json!({"url": "not a url"}), "BadParam"),
        (json!({"url": "http://user:pw@example.com/"}), "BadParam"),
        (
            json!({"url": "http://127.0.0.1:1/", "event_types": ["Nope"]}),
            "BadParam",
        ),
        (
            json!({"url": "http://127.0.0.1:1/", "event_types": "Build"}),
            "BadParam",
        ),
        (
            json!({"url": "http://127.0.0.1:1/", "apps": ["bad name"]}),
            "BadParam",
        ),
        (
            json!({"url": "http://127.0.0.1:1/", "format": "xml"}),
            "BadParam",
        ),
        (
            json!({"url": "http://127.0.0.1:1/", "enabled": "maybe"}),
            "BadParam",
        ),
    ] {
        let answer = app.put("/jdoe/webhooks/chat", body.clone()).await;
        assert_error(&answer, 400, code);
    }
    assert_error(
        &app.put(
            "/jdoe/webhooks/bad%20name",
            json!({"url": "http://127.0.0.1:1/"}),
        )
        .await,
        400,
        "BadParam",
    );
    assert_eq!(
        app.get("/jdoe/webhooks").await.json,
        json!({"webhooks": []})
    );
}

#[tokio::test]
async fn targets_on_the_servers_own_networks_are_refused() {
    // The default: private targets refused.
    let app = TestApp::spawn().await;
    for url in [
        "http://127.0.0.1:8080/",
        "http://localhost/hook",
        "http://10.0.0.5/",
        "http://172.20.1.1/",
        "http://192.168.0.10/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[fd00::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
    ] {
        let answer = app.put("/jdoe/webhooks/chat", json!({"url": url})).await;
        assert_error(&answer, 400, "BadParam");
        assert!(answer.message().contains("url"), "{url}: {}", answer.text);
        assert!(
            answer.message().contains("--allow-private-webhook-targets"),
            "{url}: {}",
            answer.text
        );
    }
    assert_eq!(
        app.get("/jdoe/webhooks").await.json,
        json!({"webhooks": []})
    );
}

#[tokio::test]
async fn deliveries_are_signed_and_carry_each_change_in_scope() {
    let app = spawn().await;
    app.create_app("web").await;
    app.create_app("api").await;
    let all = Receiver::start().await;
    let deploys = Receiver::start().await;
    subscribe(&app, "all", &all, json!({})).await;
    subscribe(
        &app,
        "deploys",
        &deploys,
        json!({"event_types": ["Deploy"], "apps": ["web"]}),
    )
    .await;
    let push = app
        .create_event("web", "pushEvent", json!({"commit_id": "c1"}))
        .await;
    app.create_event("api", "deployEvent", json!({"env_name": "api-prod"}))
        .await;
    let deploy = app
        .create_event("web", "deployEvent", json!({"env_name": "prod"}))
        .await;
    let received = all.until_accepted(3, Duration::from_secs(20)).await;
    let only = deploys.until_accepted(1, Duration::from_secs(20)).await;
    assert_eq!(all.bad_signatures() + deploys.bad_signatures(), 0);
    // The changes, each as the Change object of ListChanges.
    let changes = app.get("/jdoe/changes").await.json["changes"].clone();
    let mut bodies: Vec<Value> = received.iter().map(|r| r.body.clone()).collect();
    bodies.sort_by_key(|b| b["change_id"].as_i64());
    assert_eq!(Value::Array(bodies), changes);
    assert_eq!(
        received
            .iter()
            .filter(|r| r.body["event_id"] == push)
            .count(),
        1
    );
    assert_eq!(only.len(), 1);
    assert_eq!(only[0].body["event_id"], deploy);
    for delivery in &received {
        assert_eq!(delivery.headers["content-type"], "application/json");
        let change_id = delivery.body["change_id"].as_i64().unwrap();
        assert!(
            delivery.webhook_id.ends_with(&format!("_{change_id}")),
            "{}",
            delivery.webhook_id
        );
    }
    // Nothing more arrives.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(all.accepted().len(), 3);
    assert_eq!(deploys.accepted().len(), 1);
    // Each attempt is listed, newest first.
    let listed = app.get("/jdoe/webhooks/deploys/deliveries").await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    let attempts = listed.json["deliveries"].as_array().unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0]["status_code"], 204);
    assert_eq!(attempts[0]["attempt"], 1);
    assert_eq!(attempts[0]["error"], Value::Null);
    assert_eq!(
        attempts[0]["webhook_id"].as_str(),
        Some(only[0].webhook_id.as_str())
    );
}

#[tokio::test]
async fn a_receiver_that_fails_for_a_while_gets_every_change_once_per_webhook_id() {
    let app = spawn().await;
    app.create_app("web").await;
    let receiver = Receiver::start().await;
    // The first two attempts of every message fail: retried after 1 s and 5 s.
    receiver.fail_first(2);
    subscribe(&app, "flaky", &receiver, json!({})).await;
    for n in 0..5 {
        app.create_event("web", "pushEvent", json!({"commit_id": format!("c{n}")}))
            .await;
    }
    // While it fails, the webhook says since when.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let failing = app.get("/jdoe/webhooks/flaky").await;
    assert!(
        failing.json["webhook"]["failing_since"].is_string(),
        "{}",
        failing.text
    );
    let accepted = receiver.until_accepted(5, Duration::from_secs(30)).await;
    let mut ids: Vec<&str> = accepted.iter().map(|r| r.webhook_id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5, "a change was accepted twice: {accepted:?}");
    for id in &ids {
        assert_eq!(receiver.attempts(id), 3, "{id}");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.accepted().len(), 5);
    let healthy = app.get("/jdoe/webhooks/flaky").await;
    assert_eq!(
        healthy.json["webhook"]["failing_since"],
        Value::Null,
        "{}",
        healthy.text
    );
    let listed = app
        .get("/jdoe/webhooks/flaky/deliveries?max_results=100")
        .await;
    let attempts = listed.json["deliveries"].as_array().unwrap();
    assert_eq!(attempts.len(), 15);
    let failed = attempts.iter().filter(|a| a["status_code"] == 500).count();
    assert_eq!(failed, 10);
    assert!(
        attempts
            .iter()
            .filter(|a| a["status_code"] == 500)
            .all(|a| a["error"].as_str().unwrap().contains("500"))
    );
    assert!(attempts.iter().any(|a| a["attempt"] == 3));
}

#[tokio::test]
async fn webhooks_of_another_account_are_out_of_reach() {
    let app = spawn().await;
    let other = app.new_account("other").await;
    let receiver = Receiver::start().await;
    subscribe(&app, "chat", &receiver, json!({})).await;
    for (method, path) in [
        (Method::GET, "/jdoe/webhooks"),
        (Method::GET, "/jdoe/webhooks/chat"),
        (Method::GET, "/jdoe/webhooks/chat/deliveries"),
        (Method::DELETE, "/jdoe/webhooks/chat"),
        (Method::PUT, "/jdoe/webhooks/chat"),
    ] {
        let body = (method == Method::PUT).then(|| br#"{"url":"http://127.0.0.1:1/"}"#.as_slice());
        let answer = app
            .send_raw(method, &app.url_with_token(path, &other), body)
            .await;
        assert_error(&answer, 403, "AccessDenied");
    }
    // The other account's own changes never reach this account's webhook.
    let answer = app
        .send_raw(
            Method::PUT,
            &app.url_with_token("/other/apps/web", &other),
            Some(b"{}"),
        )
        .await;
    assert_eq!(answer.status, 200);
    let answer = app
        .send_raw(
            Method::PUT,
            &app.url_with_token("/other/apps/web/events/pushEvent", &other),
            Some(b"{}"),
        )
        .await;
    assert_eq!(answer.status, 200);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(receiver.accepted().is_empty());
    assert_eq!(
        app.get("/jdoe/webhooks/chat").await.json["webhook"]["name"],
        "chat"
    );
}

#[tokio::test]
async fn a_paused_webhook_keeps_what_it_owes_and_delivers_it_when_enabled() {
    let app = spawn().await;
    app.create_app("web").await;
    let receiver = Receiver::start().await;
    subscribe(&app, "chat", &receiver, json!({"enabled": false})).await;
    let first = app.create_event("web", "pushEvent", json!({})).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(receiver.accepted().is_empty());
    let enabled = app
        .put(
            "/jdoe/webhooks/chat",
            json!({"url": receiver.url(), "enabled": true}),
        )
        .await;
    assert_eq!(enabled.json["webhook"]["enabled"], true);
    let second = app.create_event("web", "pushEvent", json!({})).await;
    let accepted = receiver.until_accepted(2, Duration::from_secs(20)).await;
    let mut events: Vec<i64> = accepted
        .iter()
        .map(|r| r.body["event_id"].as_i64().unwrap())
        .collect();
    events.sort();
    assert_eq!(events, [first, second]);
}

/// The bootstrap user of the process tests, and its token.
const USER: &str = "ci";
const TOKEN: &str = "webhook-tests-token-0123456789";

/// Calls an instance as the bootstrap user.
async fn call(base: &str, method: Method, path: &str, body: Value) -> Value {
    let answer = reqwest::Client::new()
        .request(method, format!("{base}/{USER}{path}?apiToken={TOKEN}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "{path}");
    answer.json().await.unwrap_or(Value::Null)
}

fn process_args() -> [&'static str; 5] {
    [
        "--bootstrap-user",
        USER,
        "--bootstrap-token",
        TOKEN,
        "--allow-private-webhook-targets",
    ]
}

/// Accepted deliveries by change id; panics if one came twice.
fn once_each(accepted: &[super::receiver::Received]) -> std::collections::BTreeSet<i64> {
    let mut seen = std::collections::BTreeSet::new();
    for delivery in accepted {
        let change_id = delivery.body["change_id"].as_i64().unwrap();
        assert!(
            seen.insert(change_id),
            "change {change_id} was delivered twice"
        );
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_pending_when_the_server_is_killed_are_all_made_after_it_restarts() {
    use super::instances::{Instance, free_port};
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("shiplog.db").display());
    // The receiver is down while the changes are written.
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/hook");
    let instance = Instance::start(&database, &process_args(), false).await;
    call(&instance.base, Method::PUT, "/apps/web", json!({})).await;
    let webhook = call(
        &instance.base,
        Method::PUT,
        "/webhooks/chat",
        json!({"url": url}),
    )
    .await;
    let secret = webhook["webhook"]["secret"].as_str().unwrap().to_owned();
    let mut acknowledged = Vec::new();
    for n in 0..20 {
        let body = json!({"commit_id": format!("c{n}")});
        let answer = call(
            &instance.base,
            Method::PUT,
            "/apps/web/events/pushEvent",
            body,
        )
        .await;
        acknowledged.push(answer["event_id"].as_str().unwrap().parse::<i64>().unwrap());
    }
    instance.kill();
    let receiver = Receiver::on(
        tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap(),
    )
    .await;
    receiver.set_secret(&secret);
    let _restarted = Instance::start(&database, &process_args(), false).await;
    let accepted = receiver.until_accepted(20, Duration::from_secs(60)).await;
    let events: std::collections::BTreeSet<i64> = accepted
        .iter()
        .map(|r| r.body["event_id"].as_i64().unwrap())
        .collect();
    assert_eq!(events, acknowledged.into_iter().collect());
    once_each(&accepted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_database_deliver_each_change_once() {
    use super::instances::Instance;
    use shiplog_store_postgres::testing::{TempDatabase, postgres_server_url};
    let Some(server) = postgres_server_url() else {
        return;
    };
    let database = TempDatabase::create(&server).await.unwrap();
    let receiver = Receiver::start().await;
    let mut first = Instance::spawn(&database.url, &process_args());
    let mut second = Instance::spawn(&database.url, &process_args());
    first.until_healthy().await;
    second.until_healthy().await;
    let bases = [first.base.clone(), second.base.clone()];
    call(&bases[0], Method::PUT, "/apps/web", json!({})).await;
    let webhook = call(
        &bases[1],
        Method::PUT,
        "/webhooks/chat",
        json!({"url": receiver.url()}),
    )
    .await;
    receiver.set_secret(webhook["webhook"]["secret"].as_str().unwrap());
    let mut writers = tokio::task::JoinSet::new();
    for writer in 0..4 {
        let base = bases[writer % 2].clone();
        writers.spawn(async move {
            for n in 0..50 {
                let body = json!({"commit_id": format!("{writer}-{n}")});
                call(&base, Method::PUT, "/apps/web/events/pushEvent", body).await;
            }
        });
    }
    while let Some(done) = writers.join_next().await {
        done.unwrap();
    }
    receiver.until_accepted(200, Duration::from_secs(60)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let accepted = receiver.accepted();
    assert_eq!(once_each(&accepted).len(), 200);
    assert_eq!(receiver.bad_signatures(), 0);
    drop((first, second));
}
