//! Crash safety: the real `shiplog` binary is killed with SIGKILL, again and
//! again, while concurrent clients create and update events; after every
//! restart each acknowledged write must be there, exactly once and exactly
//! as acknowledged, terminal builds must not have changed, no event may be
//! half-written, and the database must pass an integrity check.
//!
//! Unacknowledged requests (errors, connection resets) may or may not have
//! taken effect; nothing is asserted about them except that whatever the
//! store holds is one of the complete bodies that were sent.
//!
//! Beside them, other clients send signed GitHub push deliveries, each with
//! its own delivery id and commit: after every restart each acknowledged
//! delivery is recorded once and a redelivery answers its first answer;
//! one cut off by the kill is recorded wholly (its answer and its event)
//! or not at all, which its redelivery then shows.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use serde_json::{Map, Value, json};
use shiplog_store_postgres::testing::{TempDatabase, postgres_server_url};

use crate::instances::Instance;
use crate::support::{BUILD_FIELDS, PUSH_FIELDS, RELEASE_FIELDS, hub_signature};

const USER: &str = "crash";
const TOKEN: &str = "crash-test-token-0123456789abcdef0123";
const APP: &str = "crashy";
/// Kill-and-restart rounds per test (the issue asks for at least 20).
const ROUNDS: usize = 24;
/// Concurrent clients writing during each round.
const CLIENTS: usize = 6;
/// Concurrent clients delivering GitHub pushes during each round, to the
/// app of their repository, created by the first delivery.
const HOOK_CLIENTS: usize = 2;
const HOOK_APP: &str = "hooked";
/// Deliveries acknowledged in earlier rounds redelivered after each restart
/// (besides every one acknowledged in the round just killed).
const OLD_REDELIVERIES: usize = 8;

const UPDATE_FIELDS: &[&str] = &["build_end", "build_status", "release_version"];

// ---------------------------------------------------------------------------
// The process.

/// The server under test: the shared launcher, with this test's account.
struct Server {
    instance: Instance,
    base: String,
}

impl Server {
    async fn start(database: &str) -> Server {
        let instance = Instance::start(
            database,
            &["--bootstrap-user", USER, "--bootstrap-token", TOKEN],
            false,
        )
        .await;
        Server {
            base: instance.base.clone(),
            instance,
        }
    }

    /// SIGKILL, and wait until the process is gone.
    fn kill(self) {
        self.instance.kill();
    }

    fn url(&self, path: &str) -> String {
        let sep = if path.contains('?') { '&' } else { '?' };
        format!("{}/{USER}/apps/{APP}{path}{sep}apiToken={TOKEN}", self.base)
    }
}

// ---------------------------------------------------------------------------
// What the clients sent and what was acknowledged.

#[derive(Default)]
struct Ledger {
    /// Every creation body sent, by its unique `commit_id`.
    sent: HashMap<String, (&'static str, Value)>,
    /// Acknowledged creations: event id → `commit_id`.
    acked: BTreeMap<i64, String>,
    /// Every update body sent, by event id (one per build).
    updates: HashMap<i64, Value>,
    /// Acknowledged terminal updates: event id → update body.
    terminal: BTreeMap<i64, Value>,
    /// Requests that got no 200 (errors, resets, refusals).
    unacknowledged: usize,
    hooks: HookLedger,
}

/// What the hook clients sent and what was acknowledged.
#[derive(Default)]
struct HookLedger {
    /// Every delivery sent: delivery id → the commit id of its push and
    /// the body sent, which a redelivery sends again.
    sent: BTreeMap<String, (String, Vec<u8>)>,
    /// Deliveries known recorded, with the event ids of their first answer:
    /// acknowledged 200, or found recorded (and so answered) after a kill.
    recorded: BTreeMap<String, Vec<String>>,
    /// Acknowledged in the round running, not yet redelivered.
    fresh: Vec<String>,
    /// Deliveries that got no 200: cut off by the kill, or sent after it.
    unanswered: usize,
    /// Of those, how many the restarted server had recorded.
    unanswered_recorded: usize,
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// Sends `body`; the parsed answer when it was 200, otherwise `None`.
async fn send(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    body: &Value,
) -> Option<Value> {
    let response = client
        .request(method, url)
        .body(body.to_string())
        .send()
        .await
        .ok()?;
    if response.status() != StatusCode::OK {
        return None;
    }
    // A 200 whose body did not arrive whole is not an acknowledgement.
    let text = response.text().await.ok()?;
    serde_json::from_str(&text).ok()
}

fn created_id(answer: &Value) -> i64 {
    answer["event_id"]
        .as_str()
        .expect("event_id is a string")
        .parse()
        .expect("event_id is a number")
}

fn commit_fields(tag: &str, rng: &mut StdRng) -> Map<String, Value> {
    // Distinctive, somewhat large and varied values, so a torn write or a
    // mix-up between two events cannot go unnoticed.
    let filler = "é—\"\\\n\t".repeat(rng.random_range(1..200));
    let body = json!({
        "author_name": format!("Zoë Crash {tag}"),
        "author_username": format!("zoe-{tag}"),
        "branch": format!("feature/{tag}"),
        "commit_id": tag,
        "commit_msg": format!("{tag}: fix the thing\n\n{filler}\nend {tag}"),
        "commit_url": format!("https://github.com/acme/web/commit/{tag}"),
        "repo_name": format!("web-{}", rng.random_range(0..1000)),
        "repo_owner": "acme",
        "repo_provider": "github",
        "repo_url": "https://github.com/acme/web",
    });
    match body {
        Value::Object(map) => map,
        _ => unreachable!(),
    }
}

/// One client: creates PUSH and BUILD events and sends some builds to a
/// terminal state, until `stop`.
async fn writer(
    server_base: String,
    round: usize,
    client_no: usize,
    stop: Arc<AtomicBool>,
    ledger: Arc<Mutex<Ledger>>,
) {
    let client = client();
    let url = |path: &str| format!("{server_base}/{USER}/apps/{APP}{path}?apiToken={TOKEN}");
    let mut rng = StdRng::seed_from_u64((round * 1000 + client_no) as u64 ^ rand::random::<u64>());
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let push_tag = format!("r{round}c{client_no}n{n}p");
        let push = Value::Object(commit_fields(&push_tag, &mut rng));
        ledger
            .lock()
            .unwrap()
            .sent
            .insert(push_tag.clone(), ("PUSH", push.clone()));
        let push_id = match send(
            &client,
            reqwest::Method::PUT,
            &url("/events/pushEvent"),
            &push,
        )
        .await
        {
            Some(answer) => {
                let id = created_id(&answer);
                ledger.lock().unwrap().acked.insert(id, push_tag);
                Some(id)
            }
            None => {
                ledger.lock().unwrap().unacknowledged += 1;
                None
            }
        };

        let build_tag = format!("r{round}c{client_no}n{n}b");
        let mut build = commit_fields(&build_tag, &mut rng);
        build.insert("auto_build".into(), json!(rng.random_bool(0.5)));
        build.insert("build_id".into(), json!(format!("jenkins-{build_tag}")));
        build.insert("build_provider".into(), json!("jenkins"));
        build.insert(
            "build_start".into(),
            json!(format!(
                "2016-08-30T22:{:02}:{:02}.{:03}Z",
                rng.random_range(0..30),
                rng.random_range(0..60),
                rng.random_range(0..1000)
            )),
        );
        let status = if rng.random_bool(0.5) {
            "Running"
        } else {
            "Queued"
        };
        build.insert("build_status".into(), json!(status));
        build.insert(
            "build_url".into(),
            json!(format!("https://ci.example.com/job/{build_tag}")),
        );
        if let Some(parent) = push_id {
            build.insert("parent_event_id".into(), json!(parent.to_string()));
        }
        let build = Value::Object(build);
        ledger
            .lock()
            .unwrap()
            .sent
            .insert(build_tag.clone(), ("BUILD", build.clone()));
        let build_id = match send(
            &client,
            reqwest::Method::PUT,
            &url("/events/buildEvent"),
            &build,
        )
        .await
        {
            Some(answer) => {
                let id = created_id(&answer);
                ledger.lock().unwrap().acked.insert(id, build_tag.clone());
                id
            }
            None => {
                ledger.lock().unwrap().unacknowledged += 1;
                continue;
            }
        };

        if rng.random_bool(0.6) {
            let mut update = json!({
                "build_status": if rng.random_bool(0.5) { "Success" } else { "Failed" },
                "build_end": format!(
                    "2016-08-30T23:{:02}:{:02}.{:03}Z",
                    rng.random_range(0..60),
                    rng.random_range(0..60),
                    rng.random_range(0..1000)
                ),
            });
            if rng.random_bool(0.4) {
                update["release_version"] = json!(format!("rel-{build_tag}"));
            }
            ledger
                .lock()
                .unwrap()
                .updates
                .insert(build_id, update.clone());
            match send(
                &client,
                reqwest::Method::POST,
                &url(&format!("/events/{build_id}")),
                &update,
            )
            .await
            {
                Some(answer) => {
                    // The answer is the updated event.
                    for field in UPDATE_FIELDS {
                        assert_eq!(
                            answer["event"][field],
                            update.get(*field).cloned().unwrap_or(Value::Null),
                            "the update answer of {build_id}: {answer}"
                        );
                    }
                    ledger.lock().unwrap().terminal.insert(build_id, update);
                }
                None => ledger.lock().unwrap().unacknowledged += 1,
            }
        }
    }
}

/// The push of delivery `tag`: its own commit id (40 hex digits) and a
/// distinctive message, so a torn or misplaced write cannot go unnoticed.
fn hook_push(tag: &str, sha: &str, rng: &mut StdRng) -> Value {
    let filler = "é—\"\\\n\t".repeat(rng.random_range(1..200));
    json!({
        "ref": "refs/heads/main",
        "after": sha,
        "deleted": false,
        "head_commit": {
            "id": sha,
            "message": format!("{tag}: delivered\n\n{filler}\nend {tag}"),
            "timestamp": "2026-03-02T09:00:00Z",
            "url": format!("https://github.com/acme/{HOOK_APP}/commit/{sha}"),
            "author": {"name": format!("Hook {tag}"), "username": "hook"}
        },
        "repository": {
            "name": HOOK_APP,
            "owner": {"login": "acme"},
            "html_url": format!("https://github.com/acme/{HOOK_APP}")
        }
    })
}

/// Delivers a push to the account's GitHub hook, signed with `secret`; the
/// parsed answer when it was 200, otherwise `None`.
async fn deliver(
    client: &reqwest::Client,
    base: &str,
    secret: &str,
    delivery: &str,
    body: &[u8],
) -> Option<Value> {
    let response = client
        .post(format!("{base}/{USER}/hooks/github"))
        .header("X-GitHub-Event", "push")
        .header("X-GitHub-Delivery", delivery)
        .header("X-Hub-Signature-256", hub_signature(secret, body))
        .body(body.to_vec())
        .send()
        .await
        .ok()?;
    if response.status() != StatusCode::OK {
        return None;
    }
    let text = response.text().await.ok()?;
    serde_json::from_str(&text).ok()
}

fn event_ids(answer: &Value) -> Vec<String> {
    answer["event_ids"]
        .as_array()
        .unwrap_or_else(|| panic!("event_ids in {answer}"))
        .iter()
        .map(|id| id.as_str().expect("event ids are strings").to_owned())
        .collect()
}

/// One hook client: delivers pushes with new delivery ids, until `stop`.
async fn hook_writer(
    server_base: String,
    secret: String,
    round: usize,
    client_no: usize,
    stop: Arc<AtomicBool>,
    ledger: Arc<Mutex<Ledger>>,
) {
    let client = client();
    let mut rng = StdRng::seed_from_u64((round * 1000 + client_no) as u64 ^ rand::random::<u64>());
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let delivery = format!("r{round}h{client_no}n{n}");
        let sha = format!("{round:08x}{client_no:08x}{n:024x}");
        let body = serde_json::to_vec(&hook_push(&delivery, &sha, &mut rng)).unwrap();
        ledger
            .lock()
            .unwrap()
            .hooks
            .sent
            .insert(delivery.clone(), (sha, body.clone()));
        match deliver(&client, &server_base, &secret, &delivery, &body).await {
            Some(answer) => {
                assert_eq!(answer["delivery"], delivery.as_str(), "{answer}");
                assert_eq!(answer["duplicate"], false, "a first delivery: {answer}");
                assert_eq!(answer["ignored"], Value::Null, "{answer}");
                let ids = event_ids(&answer);
                assert_eq!(ids.len(), 1, "one push: {answer}");
                let hooks = &mut ledger.lock().unwrap().hooks;
                hooks.recorded.insert(delivery.clone(), ids);
                hooks.fresh.push(delivery);
            }
            None => ledger.lock().unwrap().hooks.unanswered += 1,
        }
    }
}

// ---------------------------------------------------------------------------
// Checks.

async fn list_all(server: &Server) -> Vec<Value> {
    list_app(server, APP)
        .await
        .expect("the app exists after a restart")
}

/// Every event of `app`, oldest first; `None` when there is no such app.
async fn list_app(server: &Server, app: &str) -> Option<Vec<Value>> {
    let client = client();
    let mut events = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut path = "/events?max_results=100&order=asc".to_owned();
        if let Some(marker) = &marker {
            path.push_str(&format!("&marker={marker}"));
        }
        let url = format!("{}/{USER}/apps/{app}{path}&apiToken={TOKEN}", server.base);
        let response = client.get(url).send().await.unwrap();
        if response.status() == StatusCode::NOT_FOUND && marker.is_none() {
            let answer: Value = response.json().await.unwrap();
            assert_eq!(answer["error"]["code"], "NotFound", "{answer}");
            return None;
        }
        assert_eq!(response.status(), StatusCode::OK, "listing events of {app}");
        let page: Value = response.json().await.unwrap();
        let items = page["events"].as_array().unwrap();
        assert!(!items.is_empty() || events.is_empty(), "an empty page");
        events.extend(items.iter().cloned());
        match page["marker"].as_str() {
            Some(next) => marker = Some(next.to_owned()),
            None => return Some(events),
        }
    }
}

fn expected(body: &Value, field: &str) -> Value {
    body.get(field).cloned().unwrap_or(Value::Null)
}

fn same_fields(event: &Value, body: &Value, fields: &[&str]) -> bool {
    fields.iter().all(|f| event[*f] == expected(body, f))
}

/// Everything the server lists against what was sent and acknowledged.
/// Returns the events listed.
async fn check(server: &Server, ledger: &Ledger, round: usize) -> Vec<Value> {
    let events = list_all(server).await;
    let ctx = |msg: &str| format!("round {round}: {msg}");

    let mut by_id: HashMap<i64, &Value> = HashMap::new();
    let mut last = 0;
    for event in &events {
        let id = event["event_id"].as_i64().expect("a numeric event_id");
        assert!(id > last, "{}", ctx(&format!("ids not increasing at {id}")));
        last = id;
        assert!(
            by_id.insert(id, event).is_none(),
            "{}",
            ctx(&format!("event {id} listed twice"))
        );
        assert_eq!(event["app_name"], APP);
    }

    // Every acknowledged creation, exactly as acknowledged.
    for (id, tag) in &ledger.acked {
        let event = by_id.get(id).unwrap_or_else(|| {
            panic!(
                "{}",
                ctx(&format!("acknowledged event {id} ({tag}) is missing"))
            )
        });
        let (kind, _) = &ledger.sent[tag];
        assert_eq!(
            event["event_type"],
            *kind,
            "{}",
            ctx(&format!("event {id}"))
        );
        assert_eq!(
            event["commit_id"],
            tag.as_str(),
            "{}",
            ctx(&format!("event {id}"))
        );
    }
    let acked_tags: HashSet<&String> = ledger.acked.values().collect();

    // Every event listed: complete, one of the bodies sent, once.
    let mut seen_tags = HashSet::new();
    let mut releases_by_version: HashMap<String, i64> = HashMap::new();
    for (id, event) in &by_id {
        let kind = event["event_type"].as_str().unwrap();
        if kind == "RELEASE" {
            let version = event["release_version"].as_str().unwrap().to_owned();
            assert!(
                releases_by_version.insert(version.clone(), *id).is_none(),
                "{}",
                ctx(&format!("two releases {version}"))
            );
            continue;
        }
        let tag = event["commit_id"]
            .as_str()
            .unwrap_or_else(|| panic!("{}", ctx(&format!("event {id} has no commit_id: {event}"))));
        assert!(
            seen_tags.insert(tag.to_owned()),
            "{}",
            ctx(&format!("the body {tag} was stored twice (event {id})"))
        );
        let (sent_kind, body) = ledger
            .sent
            .get(tag)
            .unwrap_or_else(|| panic!("{}", ctx(&format!("event {id} was never sent: {event}"))));
        assert_eq!(kind, *sent_kind, "{}", ctx(&format!("event {id}")));
        if kind == "PUSH" {
            assert!(
                same_fields(event, body, PUSH_FIELDS),
                "{}",
                ctx(&format!(
                    "event {id} is not the body sent\n stored: {event}\n sent: {body}"
                ))
            );
            continue;
        }
        let unchanged: Vec<&str> = BUILD_FIELDS
            .iter()
            .copied()
            .filter(|f| !UPDATE_FIELDS.contains(f))
            .collect();
        assert!(
            same_fields(event, body, &unchanged),
            "{}",
            ctx(&format!(
                "build {id} is not the body sent\n stored: {event}\n sent: {body}"
            ))
        );
        if let Some(update) = ledger.terminal.get(id) {
            assert!(
                same_fields(event, update, UPDATE_FIELDS),
                "{}",
                ctx(&format!(
                    "terminal build {id} lost its acknowledged update {update}: {event}"
                ))
            );
        } else {
            // Untouched, or updated completely by an unacknowledged update.
            let untouched = same_fields(event, body, UPDATE_FIELDS);
            let updated = ledger
                .updates
                .get(id)
                .is_some_and(|update| same_fields(event, update, UPDATE_FIELDS));
            assert!(
                untouched || updated,
                "{}",
                ctx(&format!(
                    "build {id} is half-updated: {event}\n sent update: {:?}",
                    ledger.updates.get(id)
                ))
            );
        }
    }
    // Acknowledged creations are a subset of the tags seen (checked by id
    // above); say so by tag too, which catches an id pointing elsewhere.
    for tag in &acked_tags {
        assert!(
            seen_tags.contains(*tag),
            "{}",
            ctx(&format!("{tag} missing"))
        );
    }

    // Releases made by updates: exactly one per build that has its version,
    // none without such a build, each a copy of its build's commit fields.
    let mut builds_with_version = 0;
    for (id, event) in &by_id {
        if event["event_type"] != "BUILD" {
            continue;
        }
        let Some(version) = event["release_version"].as_str() else {
            continue;
        };
        builds_with_version += 1;
        let release_id = releases_by_version.get(version).unwrap_or_else(|| {
            panic!(
                "{}",
                ctx(&format!("build {id} has {version} but no release"))
            )
        });
        let release = by_id[release_id];
        let mut copy = Map::new();
        for f in RELEASE_FIELDS {
            copy.insert((*f).into(), event[*f].clone());
        }
        copy.insert("parent_event_id".into(), json!(id.to_string()));
        assert!(
            same_fields(release, &Value::Object(copy), RELEASE_FIELDS),
            "{}",
            ctx(&format!(
                "release {release_id} is not a copy of build {id}: {release}"
            ))
        );
    }
    assert_eq!(
        releases_by_version.len(),
        builds_with_version,
        "{}",
        ctx("a release without its build's update")
    );
    events
}

/// The deliveries' `deliveries` count in ListHooks.
async fn hook_deliveries(server: &Server) -> u64 {
    let url = format!("{}/{USER}/hooks?apiToken={TOKEN}", server.base);
    let answer: Value = client()
        .get(url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["hooks"][0]["deliveries"]
        .as_u64()
        .unwrap_or_else(|| panic!("a count of deliveries: {answer}"))
}

/// Redelivers each of `deliveries` (16 at a time); the answers, in order.
async fn redeliver(
    server: &Server,
    secret: &str,
    ledger: &HookLedger,
    deliveries: &[String],
) -> Vec<Value> {
    let mut answers = Vec::new();
    for chunk in deliveries.chunks(16) {
        let mut tasks = tokio::task::JoinSet::new();
        for (at, delivery) in chunk.iter().enumerate() {
            let body = ledger.sent[delivery].1.clone();
            let (base, secret, delivery) =
                (server.base.clone(), secret.to_owned(), delivery.clone());
            tasks.spawn(async move {
                let answer = deliver(&client(), &base, &secret, &delivery, &body).await;
                (
                    at,
                    answer.unwrap_or_else(|| panic!("redelivering {delivery} failed")),
                )
            });
        }
        let mut done = tasks.join_all().await;
        done.sort_by_key(|(at, _)| *at);
        answers.extend(done.into_iter().map(|(_, answer)| answer));
    }
    answers
}

/// The hook's deliveries after a restart, against what was sent; returns
/// the events of the hook's app (listed before any redelivery).
///
/// Every event there is the push of one delivery sent, and no delivery has
/// two. Every acknowledged delivery has its event, the one its answer
/// named, and its redelivery answers that answer as a duplicate. A delivery
/// the kill cut off is recorded wholly or not at all: when its event is
/// there, its redelivery is a duplicate naming it; when not, its
/// redelivery is new and records the event now. ListHooks counts each
/// recorded delivery once.
async fn check_hooks(
    server: &Server,
    secret: &str,
    ledger: &mut HookLedger,
    round: usize,
    rng: &mut StdRng,
) -> Vec<Value> {
    let ctx = |msg: String| format!("round {round}: {msg}");
    let events = list_app(server, HOOK_APP).await;
    assert!(
        events.is_some() || ledger.recorded.is_empty(),
        "{}",
        ctx("the hook's app is missing though deliveries were acknowledged".into())
    );
    let events = events.unwrap_or_default();
    let delivery_of: HashMap<&str, &str> = ledger
        .sent
        .iter()
        .map(|(delivery, (sha, _))| (sha.as_str(), delivery.as_str()))
        .collect();
    let mut by_delivery: HashMap<&str, &Value> = HashMap::new();
    for event in &events {
        let sha = event["commit_id"].as_str().unwrap_or_default();
        let delivery = delivery_of
            .get(sha)
            .unwrap_or_else(|| panic!("{}", ctx(format!("event of no delivery sent: {event}"))));
        assert_eq!(event["event_type"], "PUSH", "{}", ctx(format!("{event}")));
        assert_eq!(event["app_name"], HOOK_APP);
        let message = event["commit_msg"].as_str().unwrap_or_default();
        assert!(
            message.starts_with(&format!("{delivery}: delivered"))
                && message.ends_with(&format!("end {delivery}")),
            "{}",
            ctx(format!("delivery {delivery} stored torn: {event}"))
        );
        assert!(
            by_delivery.insert(delivery, event).is_none(),
            "{}",
            ctx(format!("delivery {delivery} was recorded twice"))
        );
    }
    let id_of = |event: &Value| event["event_id"].as_i64().unwrap().to_string();
    for (delivery, ids) in &ledger.recorded {
        let event = by_delivery.get(delivery.as_str()).unwrap_or_else(|| {
            panic!(
                "{}",
                ctx(format!("acknowledged delivery {delivery} has no event"))
            )
        });
        assert_eq!(
            ids,
            &[id_of(event)],
            "{}",
            ctx(format!("delivery {delivery}'s answer names another event"))
        );
    }

    // Those cut off by the kill: recorded wholly or not at all.
    let cut_off: Vec<String> = ledger
        .sent
        .keys()
        .filter(|delivery| !ledger.recorded.contains_key(*delivery))
        .cloned()
        .collect();
    let found = cut_off
        .iter()
        .filter(|delivery| by_delivery.contains_key(delivery.as_str()))
        .count();
    ledger.unanswered_recorded += found;
    assert_eq!(
        hook_deliveries(server).await,
        (ledger.recorded.len() + found) as u64,
        "{}",
        ctx("ListHooks counts another number of deliveries than those recorded".into())
    );
    let answers = redeliver(server, secret, ledger, &cut_off).await;
    for (delivery, answer) in cut_off.iter().zip(&answers) {
        assert_eq!(answer["delivery"], delivery.as_str(), "{answer}");
        let ids = event_ids(answer);
        match by_delivery.get(delivery.as_str()) {
            Some(event) => {
                assert_eq!(
                    answer["duplicate"],
                    true,
                    "{}",
                    ctx(format!(
                        "delivery {delivery}'s event was kept without its answer: {answer}"
                    ))
                );
                assert_eq!(ids, [id_of(event)], "{}", ctx(delivery.clone()));
            }
            None => {
                assert_eq!(
                    answer["duplicate"],
                    false,
                    "{}",
                    ctx(format!(
                        "delivery {delivery}'s answer was kept without its event: {answer}"
                    ))
                );
                assert_eq!(ids.len(), 1, "{answer}");
                let url = format!(
                    "{}/{USER}/apps/{HOOK_APP}/events/{}?apiToken={TOKEN}",
                    server.base, ids[0]
                );
                let got = client().get(url).send().await.unwrap();
                assert_eq!(got.status(), StatusCode::OK, "{}", ctx(delivery.clone()));
            }
        }
        ledger.recorded.insert(delivery.clone(), ids);
    }

    // Acknowledged ones, this round's and a few older ones, answer their
    // first answer again.
    let mut again = std::mem::take(&mut ledger.fresh);
    let older: Vec<&String> = ledger
        .recorded
        .keys()
        .filter(|d| !again.contains(d) && !cut_off.contains(d))
        .collect();
    for _ in 0..OLD_REDELIVERIES.min(older.len()) {
        again.push(older[rng.random_range(0..older.len())].clone());
    }
    let answers = redeliver(server, secret, ledger, &again).await;
    for (delivery, answer) in again.iter().zip(&answers) {
        assert_eq!(
            answer["duplicate"],
            true,
            "{}",
            ctx(format!("acknowledged {delivery} redelivered: {answer}"))
        );
        assert_eq!(
            event_ids(answer),
            ledger.recorded[delivery],
            "{}",
            ctx(format!("acknowledged {delivery} redelivered: {answer}"))
        );
    }
    assert_eq!(
        hook_deliveries(server).await,
        ledger.sent.len() as u64,
        "{}",
        ctx("every delivery sent is now recorded, and counted once".into())
    );
    events
}

/// Acknowledged terminal builds refuse a change with 409 (and stay as they
/// were: the next round's check sees them again).
async fn terminal_builds_refuse_changes(server: &Server, ledger: &Ledger, ids: &[i64]) {
    let client = client();
    for id in ids {
        let update = &ledger.terminal[id];
        let other = if update["build_status"] == "Success" {
            "Failed"
        } else {
            "Success"
        };
        let response = client
            .post(server.url(&format!("/events/{id}")))
            .body(
                json!({"build_status": other, "build_end": "2016-08-31T00:00:00.000Z"}).to_string(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::CONFLICT,
            "changing terminal build {id}"
        );
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"]["code"], "ImmutableEvent");
    }
}

/// Runs the store-specific integrity check on the stopped (killed) store;
/// returns the number of events the store holds.
type StoreCheck<'a> = Box<dyn Fn() -> std::pin::Pin<Box<dyn Future<Output = usize> + 'a>> + 'a>;

async fn crash_rounds(database: &str, store_check: StoreCheck<'_>) {
    let started = Instant::now();
    let mut ledger = Arc::new(Mutex::new(Ledger::default()));

    let mut server = Server::start(database).await;
    let response = client()
        .put(server.url(""))
        .body(json!({"description": "killed often"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "creating the app");
    let response = client()
        .put(format!(
            "{}/{USER}/hooks/github?apiToken={TOKEN}",
            server.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "configuring the hook");
    let answer: Value = response.json().await.unwrap();
    let secret = answer["hook"]["secret"].as_str().unwrap().to_owned();

    let mut rng = StdRng::seed_from_u64(rand::random());
    let mut refused = HashSet::new();
    let mut observed: HashMap<i64, Value> = HashMap::new();
    for round in 1..=ROUNDS {
        let stop = Arc::new(AtomicBool::new(false));
        let mut tasks: Vec<_> = (0..CLIENTS)
            .map(|c| {
                tokio::spawn(writer(
                    server.base.clone(),
                    round,
                    c,
                    stop.clone(),
                    ledger.clone(),
                ))
            })
            .collect();
        tasks.extend((0..HOOK_CLIENTS).map(|c| {
            tokio::spawn(hook_writer(
                server.base.clone(),
                secret.clone(),
                round,
                c,
                stop.clone(),
                ledger.clone(),
            ))
        }));
        tokio::time::sleep(Duration::from_millis(rng.random_range(50..=400))).await;
        // SIGKILL with requests in flight.
        server.kill();
        stop.store(true, Ordering::Relaxed);
        for task in tasks {
            task.await.expect("a client task panicked");
        }

        let stored = store_check().await;

        server = Server::start(database).await;
        // The clients are done: nobody else holds the ledger now.
        let ledger = Arc::get_mut(&mut ledger)
            .expect("the clients are done")
            .get_mut()
            .unwrap();
        let mut events = check(&server, ledger, round).await;
        let hooked = check_hooks(&server, &secret, &mut ledger.hooks, round, &mut rng).await;
        assert_eq!(
            stored,
            events.len() + hooked.len(),
            "round {round}: the store holds {stored} events, the API lists {} and {}",
            events.len(),
            hooked.len()
        );
        events.extend(hooked);
        // What a restart once showed was committed, acknowledged or not,
        // stays exactly so: nothing writes to an event after its round.
        let now: HashMap<i64, &Value> = events
            .iter()
            .map(|e| (e["event_id"].as_i64().unwrap(), e))
            .collect();
        for (id, before) in &observed {
            assert_eq!(
                now.get(id).copied(),
                Some(before),
                "round {round}: event {id} changed or vanished after a restart"
            );
        }
        observed = now.into_iter().map(|(id, e)| (id, e.clone())).collect();
        // Every terminal build acknowledged since the last round refuses a
        // change.
        let fresh: Vec<i64> = ledger
            .terminal
            .keys()
            .copied()
            .filter(|id| !refused.contains(id))
            .collect();
        terminal_builds_refuse_changes(&server, ledger, &fresh).await;
        refused.extend(fresh);
    }
    let ledger = ledger.lock().unwrap();
    eprintln!(
        "{ROUNDS} SIGKILLs in {:?}: {} creations and {} terminal updates acknowledged, {} requests unanswered",
        started.elapsed(),
        ledger.acked.len(),
        ledger.terminal.len(),
        ledger.unacknowledged
    );
    let hooks = &ledger.hooks;
    eprintln!(
        "{} hook deliveries sent: {} unanswered (cut off by a kill or sent after it), {} of those found recorded",
        hooks.sent.len(),
        hooks.unanswered,
        hooks.unanswered_recorded
    );
    assert!(
        hooks.sent.len() - hooks.unanswered >= ROUNDS,
        "too few deliveries were acknowledged to test anything"
    );
    assert!(
        hooks.unanswered > 0,
        "no delivery was ever cut off by a kill"
    );
    assert!(
        ledger.acked.len() >= ROUNDS,
        "too little was written to test anything"
    );
    assert!(
        ledger.unacknowledged > 0,
        "no request was ever cut off by a kill"
    );
    drop(server);
}

fn sqlite_integrity(path: &Path, scratch: &Path) -> usize {
    // Check a copy, so that the server itself recovers the WAL on restart.
    for suffix in ["", "-wal"] {
        let from = format!("{}{suffix}", path.display());
        let to = format!("{}{suffix}", scratch.display());
        let _ = std::fs::remove_file(&to);
        if Path::new(&from).exists() {
            std::fs::copy(&from, &to).expect("copy the database");
        }
    }
    let _ = std::fs::remove_file(format!("{}-shm", scratch.display()));
    let conn = rusqlite::Connection::open(scratch).expect("open the copy");
    let result: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(result, "ok", "PRAGMA integrity_check");
    let (count, distinct): (i64, i64) = conn
        .query_row(
            "SELECT count(*), count(DISTINCT id) FROM events",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    assert_eq!(count, distinct, "duplicate event ids");
    drop(conn);
    count as usize
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_survives_repeated_sigkill_under_write_load() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shiplog.db");
    let scratch = dir.path().join("copy.db");
    let database = format!("sqlite://{}", path.display());
    let check = || sqlite_integrity(&path, &scratch);
    crash_rounds(
        &database,
        Box::new(move || Box::pin(async move { check() })),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_survives_repeated_sigkill_under_write_load() {
    let Some(server) = postgres_server_url() else {
        eprintln!("SHIPLOG_TEST_POSTGRES_URL is unset: skipped");
        return;
    };
    let database = TempDatabase::create(&server)
        .await
        .expect("a fresh PostgreSQL database");
    let url = database.url.clone();
    let url = &url;
    crash_rounds(
        &database.url,
        Box::new(move || {
            Box::pin(async move {
                use sqlx::Connection;
                let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
                // The killed server's sessions may still be finishing a
                // COMMIT it sent (PostgreSQL goes on without its client):
                // wait until they are gone, so that what is counted now is
                // what the next instance will find.
                let deadline = Instant::now() + Duration::from_secs(20);
                loop {
                    let (others,): (i64,) = sqlx::query_as(
                        "SELECT count(*) FROM pg_stat_activity \
                         WHERE datname = current_database() AND pid <> pg_backend_pid()",
                    )
                    .fetch_one(&mut conn)
                    .await
                    .unwrap();
                    if others == 0 {
                        break;
                    }
                    assert!(
                        Instant::now() < deadline,
                        "the killed server's sessions did not end"
                    );
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                let (count, distinct): (i64, i64) =
                    sqlx::query_as("SELECT count(*), count(DISTINCT id) FROM events")
                        .fetch_one(&mut conn)
                        .await
                        .unwrap();
                assert_eq!(count, distinct, "duplicate event ids");
                conn.close().await.unwrap();
                count as usize
            })
        }),
    )
    .await;
}
