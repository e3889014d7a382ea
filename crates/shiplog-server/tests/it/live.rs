//! The live stream (`GET /:username/stream`): every change in commit
//! order, resumable with `Last-Event-ID` or `?after=` with no gap and no
//! repeat, filtered, and scoped to one account.

use std::collections::BTreeSet;
use std::time::Duration;

use rand::Rng;
use reqwest::Method;
use serde_json::json;
use tokio::task::JoinSet;

use super::helpers::TestApp;
use super::sse::Stream;
use super::support::{assert_error, list_all};

/// Every change id of the account, from ListChanges.
async fn all_change_ids(app: &TestApp) -> Vec<i64> {
    list_all(app, "/jdoe/changes?max_results=100", "changes")
        .await
        .iter()
        .map(|change| change["change_id"].as_i64().unwrap())
        .collect()
}

/// Starts `writers` tasks that each create `per_writer` pushes in app
/// `web`; answers the ids created.
fn write_pushes(app: &TestApp, writers: usize, per_writer: usize) -> JoinSet<Vec<i64>> {
    let mut tasks = JoinSet::new();
    for writer in 0..writers {
        let (client, url) = (
            app.client.clone(),
            app.url("/jdoe/apps/web/events/pushEvent"),
        );
        tasks.spawn(async move {
            let mut ids = Vec::new();
            for n in 0..per_writer {
                let body = json!({"commit_id": format!("{writer:02}{n:04}"), "branch": "main"});
                let answer = client.put(&url).json(&body).send().await.unwrap();
                assert_eq!(answer.status(), 200);
                let answer: serde_json::Value = answer.json().await.unwrap();
                ids.push(answer["event_id"].as_str().unwrap().parse().unwrap());
            }
            ids
        });
    }
    tasks
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_carries_every_change_of_eight_writers_in_change_id_order() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    let mut stream = Stream::open(&app.url("/jdoe/stream"), &[]).await;
    let mut writers = write_pushes(&app, 8, 125);
    let mut created = BTreeSet::new();
    while let Some(ids) = writers.join_next().await {
        created.extend(ids.unwrap());
    }
    let messages = stream.take(1000).await;
    let change_ids: Vec<i64> = messages.iter().map(|m| m.change_id()).collect();
    assert!(
        change_ids.windows(2).all(|pair| pair[0] < pair[1]),
        "change ids are not increasing"
    );
    assert_eq!(change_ids, all_change_ids(&app).await);
    let streamed: BTreeSet<i64> = messages
        .iter()
        .map(|m| {
            assert_eq!(m.event.as_deref(), Some("change"));
            let change = m.json();
            assert_eq!(change["change_id"].as_i64(), Some(m.change_id()));
            assert_eq!(change["kind"], "created");
            assert_eq!(change["actor"]["user"], "jdoe");
            assert_eq!(change["event"]["event_type"], "PUSH");
            change["event_id"].as_i64().unwrap()
        })
        .collect();
    assert_eq!(streamed, created);
    // Nothing more than the writes.
    assert!(stream.next(Duration::from_millis(300)).await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_cut_at_random_points_and_resumed_misses_and_repeats_nothing() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    let mut writers = write_pushes(&app, 4, 100);
    let mut received: Vec<i64> = Vec::new();
    let mut rng = rand::rng();
    let mut cursor = 0i64;
    let mut reconnects = 0;
    while received.len() < 400 {
        // Alternate the two ways of resuming.
        let mut stream = if reconnects % 2 == 0 {
            let last = cursor.to_string();
            Stream::open(&app.url("/jdoe/stream"), &[("Last-Event-ID", &last)]).await
        } else {
            Stream::open(&app.url(&format!("/jdoe/stream?after={cursor}")), &[]).await
        };
        reconnects += 1;
        let read = rng.random_range(1..=60);
        for _ in 0..read {
            let Some(message) = stream.next(Duration::from_secs(20)).await else {
                break;
            };
            cursor = message.change_id();
            received.push(cursor);
            if received.len() == 400 {
                break;
            }
        }
        // Dropping the stream cuts the connection mid-flow.
    }
    while writers.join_next().await.is_some() {}
    assert!(reconnects > 3, "only {reconnects} connections");
    assert_eq!(received, all_change_ids(&app).await);
}

#[tokio::test]
async fn a_stream_without_a_cursor_starts_after_the_changes_before_it_opened() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    let before = app.create_event("web", "pushEvent", json!({})).await;
    let mut stream = Stream::open(&app.url("/jdoe/stream"), &[]).await;
    let after = app.create_event("web", "pushEvent", json!({})).await;
    let message = stream.next(Duration::from_secs(10)).await.unwrap();
    assert_eq!(message.json()["event_id"].as_i64(), Some(after));
    assert_ne!(before, after);
    // From the first change with after=0; Last-Event-ID wins over after.
    let mut from_start = Stream::open(&app.url("/jdoe/stream?after=0"), &[]).await;
    assert_eq!(
        from_start.take(2).await[0].json()["event_id"].as_i64(),
        Some(before)
    );
    let first = all_change_ids(&app).await[0].to_string();
    let mut resumed = Stream::open(
        &app.url("/jdoe/stream?after=0"),
        &[("Last-Event-ID", &first)],
    )
    .await;
    assert_eq!(
        resumed.take(1).await[0].json()["event_id"].as_i64(),
        Some(after)
    );
}

#[tokio::test]
async fn a_stream_carries_only_the_apps_and_event_types_asked_for() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    app.create_app("api").await;
    let mut stream = Stream::open(
        &app.url("/jdoe/stream?app=web&event_type=build,Deploy&after=0"),
        &[],
    )
    .await;
    app.create_event("api", "buildEvent", json!({"build_status": "Running"}))
        .await;
    app.create_event("web", "pushEvent", json!({})).await;
    let build = app
        .create_event("web", "buildEvent", json!({"build_status": "Running"}))
        .await;
    let update = app
        .post(
            &format!("/jdoe/apps/web/events/{build}"),
            json!({"build_status": "Success", "build_end": "2026-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(update.status, 200, "{}", update.text);
    let messages = stream.take(2).await;
    let kinds: Vec<_> = messages
        .iter()
        .map(|m| {
            let change = m.json();
            assert_eq!(change["app_name"], "web");
            assert_eq!(change["event_id"].as_i64(), Some(build));
            change["kind"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(kinds, ["created", "updated"]);
    assert_eq!(
        messages[1].json()["fields"]["build_status"],
        json!(["Running", "Success"])
    );
    assert!(stream.next(Duration::from_millis(300)).await.is_none());
}

#[tokio::test]
async fn a_stream_refuses_bad_parameters_with_the_contracts_errors() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    for (query, code) in [
        ("after=-1", "BadParam"),
        ("after=soon", "BadParam"),
        ("event_type=Nope", "BadParam"),
        ("format=xml", "BadParam"),
        ("app=missing", "NotFound"),
    ] {
        let answer = app.get(&format!("/jdoe/stream?{query}")).await;
        let status = if code == "NotFound" { 404 } else { 400 };
        assert_error(&answer, status, code);
    }
    let answer = app
        .send_with_headers(
            Method::GET,
            &app.url("/jdoe/stream"),
            None,
            &[("Last-Event-ID", "x")],
        )
        .await;
    assert_error(&answer, 400, "BadParam");
    assert!(
        answer.message().contains("Last-Event-ID"),
        "{}",
        answer.text
    );
}

#[tokio::test]
async fn a_stream_carries_only_its_own_accounts_changes() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    let other = app.new_account("other").await;
    let answer = app
        .send_raw(
            Method::PUT,
            &app.url_with_token("/other/apps/web", &other),
            Some(b"{}"),
        )
        .await;
    assert_eq!(answer.status, 200);
    // Another account's stream is refused, and no token is 401.
    let refused = app
        .send_raw(
            Method::GET,
            &app.url_with_token("/jdoe/stream", &other),
            None,
        )
        .await;
    assert_error(&refused, 403, "AccessDenied");
    let anonymous = app
        .send_raw(Method::GET, &format!("{}/jdoe/stream", app.base), None)
        .await;
    assert_error(&anonymous, 401, "AuthenticationFailed");
    let mut mine = Stream::open(&app.url("/jdoe/stream?after=0"), &[]).await;
    let mut theirs = Stream::open(&app.url_with_token("/other/stream?after=0", &other), &[]).await;
    let their_event = app
        .send_raw(
            Method::PUT,
            &app.url_with_token("/other/apps/web/events/pushEvent", &other),
            Some(b"{}"),
        )
        .await;
    assert_eq!(their_event.status, 200);
    let my_event = app.create_event("web", "pushEvent", json!({})).await;
    let message = mine.next(Duration::from_secs(10)).await.unwrap();
    assert_eq!(message.json()["event_id"].as_i64(), Some(my_event));
    assert_eq!(message.json()["actor"]["user"], "jdoe");
    let message = theirs.next(Duration::from_secs(10)).await.unwrap();
    assert_eq!(message.json()["actor"]["user"], "other");
    assert!(mine.next(Duration::from_millis(300)).await.is_none());
    assert!(theirs.next(Duration::from_millis(300)).await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_on_one_instance_carries_what_two_others_write_in_order() {
    use super::instances::Instance;
    use shiplog_store_postgres::testing::{TempDatabase, postgres_server_url};
    const TOKEN: &str = "stream-tests-token-0123456789";
    let Some(server) = postgres_server_url() else {
        return;
    };
    let database = TempDatabase::create(&server).await.unwrap();
    let args = ["--bootstrap-user", "ci", "--bootstrap-token", TOKEN];
    let mut instances: Vec<Instance> = (0..3)
        .map(|_| Instance::spawn(&database.url, &args))
        .collect();
    for instance in &mut instances {
        instance.until_healthy().await;
    }
    let client = reqwest::Client::new();
    let url = |base: &str, path: &str| format!("{base}/ci{path}?apiToken={TOKEN}");
    let answer = client
        .put(url(&instances[0].base, "/apps/web"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let mut stream = Stream::open(&url(&instances[2].base, "/stream"), &[]).await;
    let mut writers = JoinSet::new();
    for writer in 0..4 {
        let (client, target) = (
            client.clone(),
            url(&instances[writer % 2].base, "/apps/web/events/pushEvent"),
        );
        writers.spawn(async move {
            for n in 0..50 {
                let body = json!({"commit_id": format!("{writer}-{n}")});
                let answer = client.put(&target).json(&body).send().await.unwrap();
                assert_eq!(answer.status(), 200);
            }
        });
    }
    while let Some(done) = writers.join_next().await {
        done.unwrap();
    }
    let messages = stream.take(200).await;
    let ids: Vec<i64> = messages.iter().map(|m| m.change_id()).collect();
    let listed: Vec<i64> = client
        .get(format!(
            "{}&max_results=100",
            url(&instances[1].base, "/changes")
        ))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["change_id"].as_i64().unwrap())
        .collect();
    assert!(
        ids.windows(2).all(|pair| pair[0] < pair[1]),
        "out of order: {ids:?}"
    );
    assert_eq!(ids[..100], listed[..]);
    assert_eq!(ids.len(), 200);
    assert!(stream.next(Duration::from_millis(300)).await.is_none());
}
