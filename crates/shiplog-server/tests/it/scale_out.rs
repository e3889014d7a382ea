//! Scale-out on PostgreSQL: several real `shiplog` processes on one
//! database, and one that loses its database and gets it back.
//!
//! Each test needs `SHIPLOG_TEST_POSTGRES_URL` (CI sets it) and passes
//! without doing anything when it is unset. Each makes its own database;
//! every process and proxy it starts is stopped when the test ends, even on
//! a panic.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shiplog_store_postgres::testing::{TempDatabase, postgres_server_url};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{AbortHandle, JoinSet};

use super::instances::Instance;

const USER: &str = "ci";
const TOKEN: &str = "scale-out-token-0123456789abcdef";
const TERMINAL: [&str; 4] = ["Success", "Failed", "TimedOut", "Cancelled"];

/// One answer: status, `Retry-After`, and the body as JSON.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    retry_after: Option<String>,
    json: Value,
}

impl Answer {
    fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("")
    }

    /// The `event_id` of a create call.
    fn event_id(&self) -> i64 {
        assert_eq!(self.status, StatusCode::OK, "{self:?}");
        self.json["event_id"]
            .as_str()
            .and_then(|id| id.parse().ok())
            .unwrap_or_else(|| panic!("an event id in {self:?}"))
    }
}

/// An HTTP client for the bootstrap user, on any instance.
#[derive(Clone)]
struct Api {
    http: reqwest::Client,
}

impl Api {
    fn new() -> Api {
        Api {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
        }
    }

    /// Sends `method base/ci/path` with the token; `body` as JSON.
    async fn call(&self, method: Method, base: &str, path: &str, body: Option<Value>) -> Answer {
        let mut request = self
            .http
            .request(method.clone(), format!("{base}/{USER}/{path}"))
            .bearer_auth(TOKEN);
        if let Some(body) = body {
            request = request.body(body.to_string());
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|err| panic!("{method} {base}/{USER}/{path}: {err}"));
        Answer {
            status: response.status(),
            retry_after: response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned()),
            json: {
                let text = response.text().await.unwrap();
                if text.is_empty() {
                    Value::Null
                } else {
                    serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON: {text}"))
                }
            },
        }
    }

    async fn create_app(&self, base: &str, app: &str) {
        let answer = self
            .call(Method::PUT, base, &format!("apps/{app}"), None)
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    }

    /// Creates an event (`kind` is e.g. `pushEvent`) and answers as is.
    async fn create(&self, base: &str, app: &str, kind: &str, body: Value) -> Answer {
        self.call(
            Method::PUT,
            base,
            &format!("apps/{app}/events/{kind}"),
            Some(body),
        )
        .await
    }

    async fn update(&self, base: &str, app: &str, id: i64, body: Value) -> Answer {
        self.call(
            Method::POST,
            base,
            &format!("apps/{app}/events/{id}"),
            Some(body),
        )
        .await
    }

    /// One page of ListEvents.
    async fn page(&self, base: &str, app: &str, query: &str) -> Answer {
        self.call(
            Method::GET,
            base,
            &format!("apps/{app}/events?{query}"),
            None,
        )
        .await
    }

    /// Every event of `app`, following markers; page `n` is fetched from
    /// `bases[n % bases.len()]`, so a marker from one instance is used on
    /// the next.
    async fn list_all(&self, bases: &[&str], app: &str, order: &str, size: u32) -> Vec<Value> {
        let mut events = Vec::new();
        let mut marker: Option<String> = None;
        for n in 0.. {
            let mut query = format!("order={order}&max_results={size}");
            if let Some(marker) = &marker {
                query.push_str(&format!("&marker={marker}"));
            }
            let answer = self.page(bases[n % bases.len()], app, &query).await;
            assert_eq!(answer.status, StatusCode::OK, "{query}: {answer:?}");
            let page = answer.json["events"].as_array().unwrap();
            assert!(page.len() <= size as usize);
            assert!(
                marker.is_none() || !page.is_empty(),
                "a marker led to an empty page"
            );
            events.extend(page.iter().cloned());
            match answer.json["marker"].as_str() {
                Some(next) => marker = Some(next.to_owned()),
                None => break,
            }
        }
        events
    }
}

fn id_of(event: &Value) -> i64 {
    event["event_id"].as_i64().expect("a numeric event_id")
}

fn ids(events: &[Value]) -> Vec<i64> {
    events.iter().map(id_of).collect()
}

/// A fresh database and `count` instances on it, started at the same time
/// (so they migrate the empty database concurrently). Instances are dropped
/// (killed) before the database.
struct Cluster {
    instances: Vec<Instance>,
    api: Api,
    _database: TempDatabase,
}

impl Cluster {
    async fn start(count: usize) -> Option<Cluster> {
        let server = postgres_server_url()?;
        let database = TempDatabase::create(&server)
            .await
            .expect("a fresh PostgreSQL database");
        Some(Cluster::on(database, count).await)
    }

    async fn on(database: TempDatabase, count: usize) -> Cluster {
        let args = ["--bootstrap-user", USER, "--bootstrap-token", TOKEN];
        let mut instances: Vec<Instance> = (0..count)
            .map(|_| Instance::spawn(&database.url, &args))
            .collect();
        for instance in &mut instances {
            instance.until_healthy().await;
        }
        Cluster {
            instances,
            api: Api::new(),
            _database: database,
        }
    }

    fn bases(&self) -> Vec<String> {
        self.instances.iter().map(|i| i.base.clone()).collect()
    }
}

fn push_body(task: usize, n: usize) -> Value {
    json!({
        "author_name": format!("writer {task}"),
        "branch": "main",
        "commit_id": format!("{task:02}{n:04}"),
        "commit_msg": format!("commit {n} of writer {task}"),
        "repo_provider": "github",
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_started_together_share_one_consistent_event_log() {
    let Some(cluster) = Cluster::start(3).await else {
        return;
    };
    let bases = cluster.bases();
    let api = cluster.api.clone();
    // All three came up on the database they migrated together, and share
    // the bootstrap user: an app made on one is seen on the others.
    let apps = ["alpha", "beta"];
    api.create_app(&bases[0], apps[0]).await;
    api.create_app(&bases[1], apps[1]).await;
    for base in &bases {
        for app in apps {
            let answer = api
                .call(Method::GET, base, &format!("apps/{app}"), None)
                .await;
            assert_eq!(answer.status, StatusCode::OK, "{base}: {answer:?}");
        }
    }

    // 8 writers × 40 events, alternating instances, a mix of PUSH and
    // BUILD events on both apps.
    let (writers, per_writer) = (8, 40);
    let mut tasks = JoinSet::new();
    for task in 0..writers {
        let (api, bases) = (api.clone(), bases.clone());
        tasks.spawn(async move {
            let mut acknowledged = Vec::new();
            for n in 0..per_writer {
                let base = &bases[(task + n) % 2];
                let app = apps[(task / 2 + n) % 2];
                let answer = if n % 3 == 2 {
                    let mut body = push_body(task, n);
                    body["build_status"] = json!("Running");
                    body["build_provider"] = json!("jenkins");
                    api.create(base, app, "buildEvent", body).await
                } else {
                    api.create(base, app, "pushEvent", push_body(task, n)).await
                };
                acknowledged.push((app, answer.event_id()));
            }
            acknowledged
        });
    }
    let mut acknowledged: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for done in tasks.join_all().await {
        for (app, id) in done {
            acknowledged.entry(app).or_default().push(id);
        }
    }
    let all: Vec<i64> = acknowledged.values().flatten().copied().collect();
    assert_eq!(all.len(), writers * per_writer);
    assert_eq!(
        all.iter().collect::<HashSet<_>>().len(),
        all.len(),
        "an id was given twice"
    );

    let b: Vec<&str> = bases.iter().map(String::as_str).collect();
    for app in apps {
        let mut expected = acknowledged[app].clone();
        expected.sort_unstable();

        let asc = api.list_all(&b[..1], app, "asc", 7).await;
        assert_eq!(ids(&asc), expected, "{app}: every acknowledged event once");
        let desc = api.list_all(&b[..1], app, "desc", 7).await;
        assert_eq!(
            desc.iter().rev().cloned().collect::<Vec<_>>(),
            asc,
            "{app}: desc is asc reversed"
        );
        // Identical from every instance, and when the pages alternate
        // between instances (markers carried from one to the other).
        for order in ["asc", "desc"] {
            let reference = if order == "asc" { &asc } else { &desc };
            for base in &b[1..] {
                let listing = api.list_all(&[base], app, order, 7).await;
                assert_eq!(&listing, reference, "{app} {order} from {base}");
            }
            let mixed = api.list_all(&[b[0], b[1], b[2]], app, order, 7).await;
            assert_eq!(&mixed, reference, "{app} {order}, pages across instances");
        }

        // Explicitly: the second page, from a marker that instance A gave,
        // is the same on instance B as on A.
        let first = api.page(b[0], app, "order=asc&max_results=7").await;
        let marker = first.json["marker"].as_str().expect("a second page");
        let query = format!("order=asc&max_results=7&marker={marker}");
        let on_a = api.page(b[0], app, &query).await;
        let on_b = api.page(b[1], app, &query).await;
        assert_eq!(on_b.status, StatusCode::OK, "{on_b:?}");
        assert_eq!(on_a.json, on_b.json);
        assert_eq!(
            ids(on_b.json["events"].as_array().unwrap()),
            expected[7..14]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_become_visible_in_id_order_while_two_instances_write() {
    let Some(cluster) = Cluster::start(2).await else {
        return;
    };
    let bases = cluster.bases();
    let api = cluster.api.clone();
    let app = "ordered";
    api.create_app(&bases[0], app).await;

    let writing = Arc::new(AtomicBool::new(true));
    let mut writers = JoinSet::new();
    for task in 0..6 {
        let (api, bases) = (api.clone(), bases.clone());
        writers.spawn(async move {
            let mut acknowledged = Vec::new();
            for n in 0..40 {
                let base = &bases[(task + n) % 2];
                let answer = api.create(base, app, "pushEvent", push_body(task, n)).await;
                acknowledged.push(answer.event_id());
            }
            acknowledged
        });
    }

    // Readers list everything in ascending order, again and again, while
    // the writers commit: an id below the highest one a reader has already
    // seen must have been in that earlier listing. Pages alternate between
    // the instances, each reader starting on a different one.
    let mut readers = JoinSet::new();
    for reader in 0..2 {
        let (api, writing) = (api.clone(), writing.clone());
        let bases = if reader == 0 {
            bases.clone()
        } else {
            bases.iter().rev().cloned().collect()
        };
        readers.spawn(async move {
            let b: Vec<&str> = bases.iter().map(String::as_str).collect();
            let mut seen: BTreeSet<i64> = BTreeSet::new();
            let mut listings = 0;
            loop {
                // Read the flag first: a listing that starts after the
                // writers are done sees everything.
                let last = !writing.load(Ordering::SeqCst);
                let listing = ids(&api.list_all(&b, app, "asc", 50).await);
                listings += 1;
                assert!(
                    listing.windows(2).all(|w| w[0] < w[1]),
                    "ascending and unique: {listing:?}"
                );
                let now: BTreeSet<i64> = listing.iter().copied().collect();
                if let Some(&highest) = seen.last() {
                    let appeared: Vec<i64> = now
                        .iter()
                        .filter(|id| **id < highest && !seen.contains(id))
                        .copied()
                        .collect();
                    assert!(
                        appeared.is_empty(),
                        "after a listing up to id {highest}, ids {appeared:?} appeared below it \
                         (listing {listings})"
                    );
                    let vanished: Vec<i64> = seen.difference(&now).copied().collect();
                    assert!(vanished.is_empty(), "ids {vanished:?} vanished");
                }
                seen = now;
                if last {
                    return (seen, listings);
                }
            }
        });
    }

    let mut acknowledged: Vec<i64> = writers.join_all().await.into_iter().flatten().collect();
    writing.store(false, Ordering::SeqCst);
    acknowledged.sort_unstable();
    for (seen, listings) in readers.join_all().await {
        eprintln!("a reader listed {listings} times while the writers wrote");
        assert!(listings >= 3, "the reader listed only {listings} times");
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), acknowledged);
    }
}

/// Every change after `after`, following `after` page by page from
/// alternating instances, as a consumer tailing the change log would.
async fn changes_after(api: &Api, bases: &[String], after: i64) -> Vec<i64> {
    let mut cursor = after;
    let mut ids = Vec::new();
    for n in 0.. {
        let base = &bases[n % bases.len()];
        let answer = api
            .call(
                Method::GET,
                base,
                &format!("changes?after={cursor}&max_results=25"),
                None,
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
        let page: Vec<i64> = answer.json["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|change| change["change_id"].as_i64().unwrap())
            .collect();
        let Some(&last) = page.last() else {
            return ids;
        };
        cursor = last;
        ids.extend(page);
    }
    unreachable!()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_written_by_two_instances_are_listed_in_commit_order_with_no_gap_that_fills() {
    let Some(cluster) = Cluster::start(2).await else {
        return;
    };
    let bases = cluster.bases();
    let api = cluster.api.clone();
    let app = "changing";
    api.create_app(&bases[0], app).await;

    let writing = Arc::new(AtomicBool::new(true));
    let mut writers = JoinSet::new();
    for task in 0..6 {
        let (api, bases) = (api.clone(), bases.clone());
        writers.spawn(async move {
            let mut acknowledged = 0;
            for n in 0..20 {
                let base = &bases[(task + n) % 2];
                let body = json!({"build_status": "Running", "branch": format!("t{task}")});
                let id = api.create(base, app, "buildEvent", body).await.event_id();
                let done = json!({"build_status": "Success", "build_end": "2026-11-30T10:00:00Z"});
                let other = &bases[(task + n + 1) % 2];
                let answer = api.update(other, app, id, done).await;
                assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
                acknowledged += 2;
            }
            acknowledged
        });
    }

    // A consumer resumes from the last change id it has seen, again and
    // again: a change id below it must never appear later.
    let consumer = {
        let (api, bases, writing) = (api.clone(), bases.clone(), writing.clone());
        tokio::spawn(async move {
            let mut seen: Vec<i64> = Vec::new();
            let mut polls = 0;
            loop {
                let last = !writing.load(Ordering::SeqCst);
                let after = seen.last().copied().unwrap_or(0);
                seen.extend(changes_after(&api, &bases, after).await);
                polls += 1;
                if last {
                    return (seen, polls);
                }
            }
        })
    };

    let acknowledged: usize = writers.join_all().await.into_iter().sum();
    writing.store(false, Ordering::SeqCst);
    let (seen, polls) = consumer.await.unwrap();
    eprintln!("the consumer resumed {polls} times while the writers wrote");
    assert!(polls >= 3, "the consumer resumed only {polls} times");
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "ascending and unique: {seen:?}"
    );
    let everything = changes_after(&api, &bases, 0).await;
    assert_eq!(
        everything.len(),
        acknowledged,
        "one change per acknowledged write"
    );
    assert_eq!(
        seen, everything,
        "resuming from the last id seen missed none"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_terminal_updates_across_instances_have_one_winner_and_make_one_release() {
    let Some(cluster) = Cluster::start(2).await else {
        return;
    };
    let bases = cluster.bases();
    let api = cluster.api.clone();
    let app = "racing";
    api.create_app(&bases[0], app).await;

    let build = |api: Api, base: String| async move {
        let push = api
            .create(&base, app, "pushEvent", push_body(0, 0))
            .await
            .event_id();
        let body = json!({
            "parent_event_id": push.to_string(),
            "commit_id": "00000",
            "build_status": "Running",
            "build_start": "2024-05-01T10:00:00Z",
        });
        api.create(&base, app, "buildEvent", body).await.event_id()
    };

    // Terminal statuses race: one wins; a request for the winner gets 200
    // (the first changes it, the rest repeat it), every other 409.
    for round in 0..4 {
        let id = build(api.clone(), bases[round % 2].clone()).await;
        let mut racers = JoinSet::new();
        for n in 0..12 {
            let (api, base) = (api.clone(), bases[n % 2].clone());
            let status = TERMINAL[(n / 2 + round) % TERMINAL.len()];
            racers.spawn(async move {
                let body = json!({
                    "build_status": status,
                    "build_end": "2024-05-01T10:05:00.250Z",
                });
                (status, api.update(&base, app, id, body).await)
            });
        }
        let answers = racers.join_all().await;
        let winners: BTreeSet<&str> = answers
            .iter()
            .filter(|(_, a)| a.status == StatusCode::OK)
            .map(|(_, a)| a.json["event"]["build_status"].as_str().unwrap())
            .collect();
        assert_eq!(winners.len(), 1, "round {round}: {answers:#?}");
        let winner = *winners.first().unwrap();
        for (status, answer) in &answers {
            if *status == winner {
                assert_eq!(answer.status, StatusCode::OK, "{status}: {answer:?}");
                assert_eq!(answer.json["event"]["event_id"], json!(id));
            } else {
                assert_eq!(answer.status, StatusCode::CONFLICT, "{status}: {answer:?}");
                assert_eq!(answer.code(), "ImmutableEvent", "{answer:?}");
            }
        }
        // Both instances agree on the stored result.
        for base in &bases {
            let listing = api
                .page(
                    base,
                    app,
                    "filter_name=EventType&filter_event_type=Build&max_results=1",
                )
                .await;
            let stored = &listing.json["events"][0];
            assert_eq!(stored["event_id"], json!(id));
            assert_eq!(stored["build_status"], json!(winner), "{base}");
        }
    }

    // Several builds finish with the same release version at once, on both
    // instances: the app gets exactly one RELEASE of it.
    for version in ["1.0.0", "1.0.1"] {
        let mut builds = Vec::new();
        for n in 0..8 {
            builds.push(build(api.clone(), bases[n % 2].clone()).await);
        }
        let mut racers = JoinSet::new();
        for (n, id) in builds.iter().copied().enumerate() {
            let (api, base) = (api.clone(), bases[n % 2].clone());
            racers.spawn(async move {
                let body = json!({
                    "build_status": "Success",
                    "build_end": "2024-05-01T10:05:00Z",
                    "release_version": version,
                });
                api.update(&base, app, id, body).await
            });
        }
        for answer in racers.join_all().await {
            assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
            assert_eq!(answer.json["event"]["release_version"], json!(version));
        }
        for base in &bases {
            let b = [base.as_str()];
            let releases: Vec<Value> = api
                .list_all(&b, app, "asc", 100)
                .await
                .into_iter()
                .filter(|e| e["event_type"] == "RELEASE" && e["release_version"] == version)
                .collect();
            assert_eq!(releases.len(), 1, "{version} on {base}: {releases:#?}");
            let parent: i64 = releases[0]["parent_event_id"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!(builds.contains(&parent), "{releases:?}");
        }
    }
}

/// What the proxy does with connections.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Link {
    /// Forwards both ways.
    Open,
    /// Keeps every connection open (and accepts new ones) but forwards
    /// nothing: a database that stopped answering.
    Stalled,
    /// Has closed every connection and closes new ones at once.
    Cut,
}

/// A TCP proxy to the PostgreSQL server that can be cut, stalled and
/// restored. Stops, closing everything, when dropped.
struct Proxy {
    port: u16,
    link: watch::Sender<Link>,
    connections: Arc<Mutex<Vec<AbortHandle>>>,
    accept: AbortHandle,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (link, _) = watch::channel(Link::Open);
        let connections: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let accept = {
            let (link, connections) = (link.clone(), connections.clone());
            tokio::spawn(async move {
                loop {
                    let Ok((client, _)) = listener.accept().await else {
                        continue;
                    };
                    if *link.borrow() == Link::Cut {
                        drop(client);
                        continue;
                    }
                    let (upstream, link) = (upstream.clone(), link.subscribe());
                    let forward = tokio::spawn(async move {
                        let Ok(server) = TcpStream::connect(&upstream).await else {
                            return;
                        };
                        let (client_in, client_out) = client.into_split();
                        let (server_in, server_out) = server.into_split();
                        // Either direction ending closes both.
                        tokio::select! {
                            () = pump(client_in, server_out, link.clone()) => {}
                            () = pump(server_in, client_out, link) => {}
                        }
                    });
                    let mut connections = connections.lock().unwrap();
                    connections.retain(|c| !c.is_finished());
                    connections.push(forward.abort_handle());
                }
            })
            .abort_handle()
        };
        Proxy {
            port,
            link,
            connections,
            accept,
        }
    }

    /// Closes every connection and refuses new ones.
    fn cut(&self) {
        self.link.send_replace(Link::Cut);
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }

    /// Stops forwarding, keeping every connection open.
    fn stall(&self) {
        self.link.send_replace(Link::Stalled);
    }

    fn restore(&self) {
        self.link.send_replace(Link::Open);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

/// Copies `from` to `to` while the link is open; holds still (without
/// losing bytes) while it is stalled.
async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, mut link: watch::Receiver<Link>) {
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        if link.wait_for(|l| *l == Link::Open).await.is_err() {
            return;
        }
        let read = tokio::select! {
            read = from.read(&mut buffer) => read,
            _ = link.wait_for(|l| *l != Link::Open) => continue,
        };
        match read {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if to.write_all(&buffer[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// `host:port` of a `postgres://user@host:port/db` URL, and the URL with
/// that part replaced by `127.0.0.1:port`.
fn split_host(url: &str, port: u16) -> (String, String) {
    let start = url.find("://").unwrap() + 3;
    let start = start + url[start..].find('@').map_or(0, |at| at + 1);
    let end = start + url[start..].find(['/', '?']).unwrap_or(url.len() - start);
    let mut host = url[start..end].to_owned();
    if !host.contains(':') {
        host.push_str(":5432");
    }
    let proxied = format!("{}127.0.0.1:{port}{}", &url[..start], &url[end..]);
    (host, proxied)
}

/// Calls `call` until it answers 200 or `limit` passes; the last answer.
async fn until_ok<F, Fut>(limit: Duration, mut call: F) -> Answer
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Answer>,
{
    let deadline = Instant::now() + limit;
    loop {
        let answer = call().await;
        if answer.status == StatusCode::OK || Instant::now() > deadline {
            return answer;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// One instance whose database connections go through a [`Proxy`], with an
/// app and the ids of the events it acknowledged. Dropped in order:
/// instance, proxy, database.
struct Outage {
    instance: Instance,
    proxy: Proxy,
    _database: TempDatabase,
    api: Api,
    base: String,
    acknowledged: Vec<i64>,
}

const APP: &str = "outage";
/// The longest any call may take while the database is away.
const PROMPT: Duration = Duration::from_secs(15);
/// The longest the instance may take to serve again once it is back.
const RECOVERY: Duration = Duration::from_secs(30);

impl Outage {
    async fn start() -> Option<Outage> {
        let server = postgres_server_url()?;
        let database = TempDatabase::create(&server)
            .await
            .expect("a fresh PostgreSQL database");
        let (upstream, _) = split_host(&database.url, 0);
        let proxy = Proxy::start(upstream).await;
        let (_, proxied) = split_host(&database.url, proxy.port);
        let args = ["--bootstrap-user", USER, "--bootstrap-token", TOKEN];
        let mut instance = Instance::spawn(&proxied, &args);
        instance.until_healthy().await;
        let base = instance.base.clone();
        let api = Api::new();
        api.create_app(&base, APP).await;
        let mut acknowledged = Vec::new();
        for n in 0..20 {
            let answer = api.create(&base, APP, "pushEvent", push_body(0, n)).await;
            acknowledged.push(answer.event_id());
        }
        Some(Outage {
            instance,
            proxy,
            _database: database,
            api,
            base,
            acknowledged,
        })
    }

    /// A read, a write and the readiness probe each answer 503
    /// ServiceUnavailable with a retry hint, within [`PROMPT`]; the process
    /// stays up.
    async fn assert_unavailable(&mut self, round: usize) {
        let (api, base) = (&self.api, self.base.as_str());
        let started = Instant::now();
        let read = api.page(base, APP, "max_results=5").await;
        let took = started.elapsed();
        assert!(took < PROMPT, "a read took {took:?}");
        assert_eq!(read.status, StatusCode::SERVICE_UNAVAILABLE, "{read:?}");
        assert_eq!(read.code(), "ServiceUnavailable");
        assert!(read.retry_after.is_some(), "{read:?}");

        let started = Instant::now();
        let write = api
            .create(base, APP, "pushEvent", push_body(1, round))
            .await;
        let took = started.elapsed();
        assert!(took < PROMPT, "a write took {took:?}");
        assert_eq!(write.status, StatusCode::SERVICE_UNAVAILABLE, "{write:?}");
        assert_eq!(write.code(), "ServiceUnavailable");
        assert!(write.retry_after.is_some(), "{write:?}");

        let started = Instant::now();
        let ready = api.http.get(format!("{base}/-/ready")).send().await;
        let took = started.elapsed();
        assert!(took < PROMPT, "/-/ready took {took:?}");
        assert_eq!(ready.unwrap().status(), StatusCode::SERVICE_UNAVAILABLE);

        let health = api.http.get(format!("{base}/-/health")).send().await;
        assert_eq!(health.unwrap().status(), StatusCode::OK);
        assert!(self.instance.running(), "{}", self.instance.log());
    }

    /// Restores the link; the same process then serves reads and writes
    /// again within [`RECOVERY`], and every event acknowledged before the
    /// outage is there. Those refused with 503 may or may not be.
    async fn assert_recovers(&mut self, refused: usize) {
        self.proxy.restore();
        let (api, base) = (&self.api, self.base.as_str());
        let started = Instant::now();
        let read = until_ok(RECOVERY, || api.page(base, APP, "max_results=5")).await;
        assert_eq!(read.status, StatusCode::OK, "{read:?}");
        let write = until_ok(RECOVERY, || {
            api.create(base, APP, "pushEvent", push_body(2, 0))
        })
        .await;
        self.acknowledged.push(write.event_id());
        let ready = api.http.get(format!("{base}/-/ready")).send().await;
        assert_eq!(ready.unwrap().status(), StatusCode::OK);
        eprintln!("served again after {:?}", started.elapsed());

        let listed: BTreeSet<i64> = ids(&api.list_all(&[base], APP, "asc", 100).await)
            .into_iter()
            .collect();
        let missing: Vec<i64> = self
            .acknowledged
            .iter()
            .filter(|id| !listed.contains(id))
            .copied()
            .collect();
        assert!(missing.is_empty(), "acknowledged but missing: {missing:?}");
        assert!(listed.len() <= self.acknowledged.len() + refused);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_answers_503_while_its_database_connections_are_cut_and_recovers() {
    let Some(mut outage) = Outage::start().await else {
        return;
    };
    outage.proxy.cut();
    for round in 0..2 {
        outage.assert_unavailable(round).await;
    }
    outage.assert_recovers(2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_answers_503_promptly_while_its_database_hangs_and_recovers() {
    let Some(mut outage) = Outage::start().await else {
        return;
    };
    outage.proxy.stall();
    outage.assert_unavailable(0).await;
    outage.assert_recovers(1).await;
}

/// The payload of GitHub delivery `n` of kind `n % 4`: a push, a completed
/// workflow run, a successful deployment status (each recording one event
/// of its own) or a ping (recording none).
fn hook_payload(n: usize) -> (&'static str, Value) {
    let sha = format!("{:040x}", 0xabc0_0000 + n);
    let repository = json!({
        "name": "shop", "owner": {"login": "acme"}, "html_url": "https://github.com/acme/shop"
    });
    match n % 4 {
        0 => (
            "push",
            json!({
                "ref": "refs/heads/main",
                "after": sha,
                "deleted": false,
                "head_commit": {
                    "id": sha, "message": format!("push {n}"),
                    "timestamp": "2026-03-02T09:00:00Z", "author": {"name": "Mona"}
                },
                "repository": repository,
            }),
        ),
        1 => (
            "workflow_run",
            json!({
                "action": "completed",
                "workflow_run": {
                    "id": 70_000 + n, "run_attempt": 1, "conclusion": "success",
                    "head_sha": sha, "head_branch": "main",
                    "run_started_at": "2026-03-02T09:01:00Z", "updated_at": "2026-03-02T09:05:00Z"
                },
                "repository": repository,
            }),
        ),
        2 => (
            "deployment_status",
            json!({
                "action": "created",
                "deployment": {
                    "id": 80_000 + n, "sha": sha, "ref": "main", "environment": "production",
                    "created_at": "2026-03-02T10:00:00Z"
                },
                "deployment_status": {"state": "success", "created_at": "2026-03-02T10:05:00Z"},
                "repository": repository,
            }),
        ),
        _ => (
            "ping",
            json!({"zen": "Keep it logically awesome.", "repository": repository}),
        ),
    }
}

impl Api {
    /// A GitHub delivery of `body` to the bootstrap user's hook on `base`,
    /// signed with `secret`.
    async fn deliver(
        &self,
        base: &str,
        secret: &str,
        event: &str,
        delivery: &str,
        body: &[u8],
    ) -> Answer {
        let response = self
            .http
            .post(format!("{base}/{USER}/hooks/github"))
            .header("X-GitHub-Event", event)
            .header("X-GitHub-Delivery", delivery)
            .header(
                "X-Hub-Signature-256",
                crate::support::hub_signature(secret, body),
            )
            .body(body.to_vec())
            .send()
            .await
            .unwrap_or_else(|err| panic!("delivering {delivery} to {base}: {err}"));
        let status = response.status();
        let text = response.text().await.unwrap();
        Answer {
            status,
            retry_after: None,
            json: serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON: {text}")),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redeliveries_racing_across_two_instances_record_each_delivery_once() {
    let Some(cluster) = Cluster::start(2).await else {
        return;
    };
    let bases = cluster.bases();
    let api = cluster.api.clone();
    let configured = api
        .call(Method::PUT, &bases[0], "hooks/github", Some(json!({})))
        .await;
    assert_eq!(configured.status, StatusCode::OK, "{configured:?}");
    let secret = configured.json["hook"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();

    // Each round sends four deliveries at once, each 8 times to each
    // instance: 64 requests racing, 16 per delivery id. The app they go to
    // does not exist before the first round (it is created on first use).
    let (rounds, per_round, copies) = (4, 4, 8);
    let mut answered: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut recorded: BTreeSet<String> = BTreeSet::new();
    for round in 0..rounds {
        let mut racers = JoinSet::new();
        for k in 0..per_round {
            let n = round * per_round + k;
            let delivery = format!("race-{round}-{k}-{:08x}", rand::random::<u32>());
            let (event, payload) = hook_payload(n);
            let body = serde_json::to_vec(&payload).unwrap();
            for copy in 0..2 * copies {
                let (api, base) = (api.clone(), bases[copy % 2].clone());
                let (secret, delivery, body) = (secret.clone(), delivery.clone(), body.clone());
                racers.spawn(async move {
                    let answer = api.deliver(&base, &secret, event, &delivery, &body).await;
                    (n, delivery, base, answer)
                });
            }
        }
        let mut by_delivery: BTreeMap<String, Vec<(usize, String, Answer)>> = BTreeMap::new();
        for (n, delivery, base, answer) in racers.join_all().await {
            by_delivery
                .entry(delivery)
                .or_default()
                .push((n, base, answer));
        }
        assert_eq!(by_delivery.len(), per_round);
        for (delivery, answers) in by_delivery {
            assert_eq!(answers.len(), 2 * copies);
            for (_, base, answer) in &answers {
                assert_eq!(
                    answer.status,
                    StatusCode::OK,
                    "{delivery} on {base}: {answer:?}"
                );
                assert_eq!(answer.json["delivery"], json!(delivery), "{answer:?}");
            }
            let firsts: Vec<&Answer> = answers
                .iter()
                .map(|(_, _, a)| a)
                .filter(|a| a.json["duplicate"] == json!(false))
                .collect();
            assert_eq!(
                firsts.len(),
                1,
                "{delivery}: {} answers say it was new: {answers:#?}",
                firsts.len()
            );
            let first = firsts[0];
            let n = answers[0].0;
            let event_ids: Vec<String> = first.json["event_ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|id| id.as_str().unwrap().to_owned())
                .collect();
            if n % 4 == 3 {
                assert!(event_ids.is_empty(), "a ping records nothing: {first:?}");
                assert!(first.json["ignored"].is_string(), "{first:?}");
            } else {
                assert_eq!(event_ids.len(), 1, "{delivery}: {first:?}");
                assert_eq!(first.json["ignored"], Value::Null, "{first:?}");
            }
            for (_, base, answer) in &answers {
                assert_eq!(
                    answer.json["event_ids"], first.json["event_ids"],
                    "{delivery} on {base}: another answer than the first"
                );
                assert_eq!(answer.json["ignored"], first.json["ignored"]);
            }
            recorded.extend(event_ids.iter().cloned());
            answered.insert(delivery, event_ids);
        }
    }

    // Exactly one set of events: one per recording delivery, each the one
    // its answers named, seen alike from both instances.
    let mut expected: Vec<i64> = recorded.iter().map(|id| id.parse().unwrap()).collect();
    expected.sort_unstable();
    assert_eq!(expected.len(), rounds * 3, "{answered:#?}");
    for base in &bases {
        let events = api.list_all(&[base], "shop", "asc", 50).await;
        assert_eq!(
            ids(&events),
            expected,
            "{base}: the events of the deliveries, once each"
        );
        let types: BTreeMap<&str, usize> = events.iter().fold(BTreeMap::new(), |mut n, e| {
            *n.entry(e["event_type"].as_str().unwrap()).or_default() += 1;
            n
        });
        assert_eq!(
            types,
            BTreeMap::from([("BUILD", rounds), ("DEPLOY", rounds), ("PUSH", rounds)]),
            "{base}"
        );
        let hooks = api.call(Method::GET, base, "hooks", None).await;
        assert_eq!(hooks.status, StatusCode::OK, "{hooks:?}");
        assert_eq!(
            hooks.json["hooks"][0]["deliveries"],
            json!(answered.len()),
            "{base}: one delivery counted per delivery id: {hooks:?}"
        );
    }
    // A later redelivery of each still answers the first answer.
    for (n, (delivery, event_ids)) in answered.iter().enumerate() {
        let round: usize = delivery.split('-').nth(1).unwrap().parse().unwrap();
        let k: usize = delivery.split('-').nth(2).unwrap().parse().unwrap();
        let (event, payload) = hook_payload(round * per_round + k);
        let body = serde_json::to_vec(&payload).unwrap();
        let again = api
            .deliver(&bases[n % 2], &secret, event, delivery, &body)
            .await;
        assert_eq!(again.status, StatusCode::OK, "{again:?}");
        assert_eq!(again.json["duplicate"], json!(true), "{again:?}");
        assert_eq!(again.json["event_ids"], json!(event_ids), "{again:?}");
    }
}
