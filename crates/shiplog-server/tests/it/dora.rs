//! GetDora over HTTP: DORA's five metrics of a six-week history of deploys
//! and incidents, every number computed by hand; the same answer whatever
//! order the history was recorded in; buckets and days in a time zone,
//! across the 2026 US daylight-saving change; windows; the benchmark sets;
//! the default and the empty scope; and the INCIDENT events and refused
//! requests the metrics rest on.

use std::collections::{HashMap, HashSet};

use reqwest::Method;
use serde_json::{Value, json};
use shiplog_domain::Timestamp;

use crate::helpers::{Answer, TestApp};
use crate::support::*;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// The app of the scripted history.
const SHOP: &str = "shop";

/// The keys of GetDora's `dora` object.
const DORA_KEYS: &[&str] = &[
    "app",
    "envs",
    "from",
    "to",
    "bucket",
    "tz",
    "benchmark",
    "deployment_frequency",
    "change_lead_time",
    "change_fail_rate",
    "recovery_time",
    "rework_rate",
];

/// GetDora's `dora` object for `query`, checking that the answer is exactly
/// `{"dora":{…}}` with the contract's keys.
async fn dora(app: &TestApp, query: &str) -> Value {
    let answer = app.get(&format!("/jdoe/dora?{query}")).await;
    assert_ok(&answer);
    assert_eq!(key_set(&answer.json), sorted(&["dora"]), "{}", answer.text);
    let dora = answer.json["dora"].clone();
    assert_eq!(key_set(&dora), sorted(DORA_KEYS), "{}", answer.text);
    dora
}

/// `at` moved by `minutes`, in the response form.
fn shifted(at: &str, minutes: i64) -> String {
    let t = Timestamp::parse(at).unwrap_or_else(|| panic!("a timestamp: {at}"));
    Timestamp::from_millis(t.millis() + minutes * 60_000).to_string()
}

/// A fractional number as a client reads it off the wire: serialised as the
/// server does and parsed back (this crate's `serde_json` parses without
/// `float_roundtrip`, which can land a last digit off the exact quotient).
fn real(x: f64) -> Value {
    serde_json::from_str(&serde_json::to_string(&x).unwrap()).unwrap()
}

/// Bucket objects: each of `items` with the `start` of its place.
fn buckets(starts: &[&str], items: Vec<Value>) -> Value {
    assert_eq!(starts.len(), items.len(), "one item per bucket");
    let items = starts
        .iter()
        .zip(items)
        .map(|(start, mut item)| {
            item["start"] = json!(start);
            item
        })
        .collect();
    Value::Array(items)
}

/// `{"count":n}` buckets.
fn counts(starts: &[&str], counts: &[u64]) -> Value {
    buckets(starts, counts.iter().map(|n| json!({"count": n})).collect())
}

/// Creates `env` of `app_name` with `tags`.
async fn create_env(app: &TestApp, app_name: &str, env: &str, tags: &[&str]) {
    let answer = app
        .put(
            &format!("/jdoe/apps/{app_name}/envs/{env}"),
            json!({"tags": tags}),
        )
        .await;
    assert_ok(&answer);
}

/// A DEPLOY of no release to `env` that ended with `status` at `end`
/// (started ten minutes before).
async fn deploy_at(app: &TestApp, app_name: &str, env: &str, status: &str, end: &str) -> i64 {
    let body = json!({
        "env_name": env,
        "deployment_status": status,
        "deployment_start": shifted(end, -10),
        "deployment_end": end,
    });
    created_id(
        &app.put(&format!("/jdoe/apps/{app_name}/events/deployEvent"), body)
            .await,
    )
}

/// An update (UpdateDeployEvent, UpdateIncidentEvent) of event `id`.
async fn update(app: &TestApp, app_name: &str, id: i64, body: Value) -> Answer {
    app.post(&format!("/jdoe/apps/{app_name}/events/{id}"), body)
        .await
}

/// CreateIncidentEvent on `app_name`.
async fn put_incident(app: &TestApp, app_name: &str, body: Value) -> Answer {
    app.put(&format!("/jdoe/apps/{app_name}/events/incidentEvent"), body)
        .await
}

// ---------------------------------------------------------------------------
// The scripted history, as data
// ---------------------------------------------------------------------------

/// Where a release's commit was first seen, which decides where its lead
/// time starts (beyond.md §8: the chain's `commit_time`, nearest first, else
/// the app's first PUSH's `event_time`, else the build's `build_start`).
#[derive(Debug, Clone, Copy)]
enum Origin {
    /// A PUSH with `commit_time`, a BUILD of it and a RELEASE of the build:
    /// lead time starts at that `commit_time`, inherited down the chain.
    Pushed { commit_time: &'static str },
    /// As [`Origin::Pushed`], and the RELEASE says a `commit_time` of its
    /// own: the nearest one, the release's, counts.
    Restated {
        pushed: &'static str,
        released: &'static str,
    },
    /// A PUSH without `commit_time`: lead time starts at the push's
    /// `event_time`, its recording (later than every deploy here), so the
    /// sample is negative and dropped; the build's `build_start` is not used.
    PushedUntimed,
    /// No PUSH and no `commit_time`: the BUILD's `build_start`.
    BuildOnly,
}

/// A release `rN` of commit N, with the BUILD it was made from.
#[derive(Debug, Clone, Copy)]
struct Release {
    n: u32,
    origin: Origin,
    build_start: &'static str,
    /// The build reports the version and the server records the RELEASE;
    /// deploys then name it by `release_version` instead of as parent.
    reported: bool,
}

/// A DEPLOY of release `rN`, started ten minutes before it ended.
#[derive(Debug, Clone, Copy)]
struct Deploy {
    label: &'static str,
    env: &'static str,
    release: u32,
    status: &'static str,
    end: &'static str,
    restart: bool,
    hotfix: bool,
    /// Created `InProgress`; a [`Step::Finish`] ends it `Ok` at `end`.
    live: bool,
}

impl Deploy {
    fn hotfix(self) -> Self {
        Deploy {
            hotfix: true,
            ..self
        }
    }

    fn restart(self) -> Self {
        Deploy {
            restart: true,
            ..self
        }
    }

    fn live(self) -> Self {
        Deploy { live: true, ..self }
    }

    fn step(self) -> Step {
        Step::Deploy(self)
    }
}

#[derive(Debug, Clone, Copy)]
enum Step {
    Env {
        name: &'static str,
        tags: &'static [&'static str],
    },
    Release(Release),
    Deploy(Deploy),
    /// The live deploy `deploy` ends `Ok` at `end`.
    Finish {
        deploy: &'static str,
        end: &'static str,
    },
    /// An INCIDENT, `Open`, caused by the deploy labelled `caused_by`.
    Incident {
        label: &'static str,
        env: &'static str,
        start: &'static str,
        caused_by: &'static str,
    },
    /// The incident `incident` is `Resolved` at `end`.
    Resolve {
        incident: &'static str,
        end: &'static str,
    },
}

impl Step {
    /// What names this step (a deploy or incident), for steps that refer to it.
    fn label(&self) -> Option<&'static str> {
        match self {
            Step::Deploy(d) => Some(d.label),
            Step::Incident { label, .. } => Some(label),
            _ => None,
        }
    }

    /// What this step refers to, which must be recorded before it.
    fn needs(&self) -> Option<&'static str> {
        match self {
            Step::Finish { deploy, .. } => Some(deploy),
            Step::Incident { caused_by, .. } => Some(caused_by),
            Step::Resolve { incident, .. } => Some(incident),
            _ => None,
        }
    }

    /// When it happened, for the deploy and incident steps.
    fn at(&self) -> Option<String> {
        match self {
            Step::Deploy(d) if d.live => Some(shifted(d.end, -10)),
            Step::Deploy(d) => Some(shifted(d.end, 0)),
            Step::Finish { end, .. } | Step::Resolve { end, .. } => Some(shifted(end, 0)),
            Step::Incident { start, .. } => Some(shifted(start, 0)),
            _ => None,
        }
    }
}

fn release(n: u32, origin: Origin, build_start: &'static str) -> Step {
    Step::Release(Release {
        n,
        origin,
        build_start,
        reported: false,
    })
}

fn reported(n: u32, origin: Origin, build_start: &'static str) -> Step {
    Step::Release(Release {
        n,
        origin,
        build_start,
        reported: true,
    })
}

fn pushed(commit_time: &'static str) -> Origin {
    Origin::Pushed { commit_time }
}

fn deploy(
    label: &'static str,
    env: &'static str,
    release: u32,
    status: &'static str,
    end: &'static str,
) -> Deploy {
    Deploy {
        label,
        env,
        release,
        status,
        end,
        restart: false,
        hotfix: false,
        live: false,
    }
}

fn ok(label: &'static str, env: &'static str, release: u32, end: &'static str) -> Step {
    deploy(label, env, release, "Ok", end).step()
}

fn failed(label: &'static str, env: &'static str, release: u32, end: &'static str) -> Step {
    deploy(label, env, release, "Failed", end).step()
}

const PROD: &str = "production";
const STAGING: &str = "staging";
const DEV: &str = "dev";

/// The history of [`SHOP`], in the order it happened: 46 DEPLOY events to
/// `production` and `staging` (both tagged `production`) around six
/// Monday-weeks from 2 March 2026, two to an untagged `dev`, fifteen
/// releases and two incidents.
///
/// What each line does to the metrics is said next to it; the expected
/// numbers of [`the_scripted_history_gives_the_hand_computed_metrics`] add
/// these up. Every deploy starts ten minutes before it ends.
fn history() -> Vec<Step> {
    vec![
        Step::Env {
            name: PROD,
            tags: &["production"],
        },
        Step::Env {
            name: STAGING,
            tags: &["production"],
        },
        // Before the window: both envs already have commit 0, so no lead
        // time sample comes of it later.
        release(0, pushed("2026-02-25T10:00:00Z"), "2026-02-25T11:00:00Z"),
        ok("B1", STAGING, 0, "2026-02-26T10:00:00Z"),
        // Fails and is recovered by B3, an hour later, all before the
        // window: no failure, no recovery sample.
        failed("B2", PROD, 0, "2026-02-27T09:00:00Z"),
        ok("B3", PROD, 0, "2026-02-27T10:00:00Z"),
        // Week 1, from Monday 2 March.
        release(1, pushed("2026-03-01T22:00:00Z"), "2026-03-01T23:00:00Z"),
        // Lead 03-01T22:00 → 03-02T10:00 = 12 h = 43200 s.
        ok("D01", STAGING, 1, "2026-03-02T10:00:00Z"),
        // No commit_time: lead time starts at build_start 03-03T08:00.
        release(2, Origin::BuildOnly, "2026-03-03T08:00:00Z"),
        // Lead 03-01T22:00 → 03-03T10:00 = 36 h = 129600 s.
        ok("D02", PROD, 1, "2026-03-03T10:00:00Z"),
        // Lead 03-03T08:00 → 14:00 = 6 h = 21600 s.
        ok("D03", STAGING, 2, "2026-03-03T14:00:00Z"),
        // Out of scope: dev is not tagged production.
        ok("Dx1", DEV, 2, "2026-03-04T09:00:00Z"),
        // Fails; recovered by D06 (a Restart does not recover): 2 h = 7200 s.
        failed("D04", PROD, 2, "2026-03-04T10:00:00Z"),
        deploy("D05", PROD, 2, "Ok", "2026-03-04T10:30:00Z")
            .restart()
            .step(),
        // Lead 03-03T08:00 → 03-04T12:00 = 28 h = 100800 s.
        ok("D06", PROD, 2, "2026-03-04T12:00:00Z"),
        // Week 2, from Monday 9 March. The release's own commit_time,
        // 03-09T06:00, is nearer than the push's 03-08T10:00.
        release(
            3,
            Origin::Restated {
                pushed: "2026-03-08T10:00:00Z",
                released: "2026-03-09T06:00:00Z",
            },
            "2026-03-08T12:00:00Z",
        ),
        // Lead 06:00 → 10:00 = 4 h = 14400 s.
        ok("D07", STAGING, 3, "2026-03-09T10:00:00Z"),
        // Lead 06:00 → 16:00 = 10 h = 36000 s.
        ok("D08", PROD, 3, "2026-03-09T16:00:00Z"),
        release(4, pushed("2026-03-10T06:00:00Z"), "2026-03-10T07:00:00Z"),
        // Two failures, both recovered by D11: 2 h = 7200 s and 1 h = 3600 s.
        failed("D09", STAGING, 4, "2026-03-10T09:00:00Z"),
        failed("D10", STAGING, 4, "2026-03-10T10:00:00Z"),
        // Back to r3, which the previous Ok deploy (D07) brought: not a
        // rollback, and commit 3 is no new sample.
        ok("D11", STAGING, 3, "2026-03-10T11:00:00Z"),
        // Lead 06:00 → 15:00 = 9 h = 32400 s.
        ok("D12", STAGING, 4, "2026-03-10T15:00:00Z"),
        release(5, Origin::PushedUntimed, "2026-03-11T06:00:00Z"),
        // Lead 03-10T06:00 → 03-11T10:00 = 28 h = 100800 s.
        ok("D13", PROD, 4, "2026-03-11T10:00:00Z"),
        // Commit 5's lead time starts at its push's recording: dropped.
        ok("D14", STAGING, 5, "2026-03-11T14:00:00Z"),
        // Recovered by D16: 1 h = 3600 s.
        failed("D15", PROD, 5, "2026-03-12T10:00:00Z"),
        ok("D16", PROD, 5, "2026-03-12T11:00:00Z"),
        // Week 3, from Monday 16 March.
        release(6, pushed("2026-03-15T10:00:00Z"), "2026-03-15T11:00:00Z"),
        // Lead 03-15T10:00 → 03-16T10:00 = 24 h = 86400 s.
        ok("D17", STAGING, 6, "2026-03-16T10:00:00Z"),
        release(7, Origin::BuildOnly, "2026-03-16T10:00:00Z"),
        // Lead 03-15T10:00 → 03-16T16:00 = 30 h = 108000 s.
        ok("D18", PROD, 6, "2026-03-16T16:00:00Z"),
        // Lead 03-16T10:00 → 03-17T08:00 = 22 h = 79200 s.
        ok("D19", STAGING, 7, "2026-03-17T08:00:00Z"),
        // Lead 24 h = 86400 s; then rolled back by D21, so it failed, and
        // recovered at D21: 24 h = 86400 s.
        ok("D20", PROD, 7, "2026-03-17T10:00:00Z"),
        // A rollback to the older r6: rework; commit 6 is no new sample.
        ok("D21", PROD, 6, "2026-03-18T10:00:00Z"),
        release(8, pushed("2026-03-19T04:00:00Z"), "2026-03-19T05:00:00Z"),
        // Lead 04:00 → 10:00 = 6 h = 21600 s.
        ok("D22", STAGING, 8, "2026-03-19T10:00:00Z"),
        // Lead 03-19T04:00 → 03-20T10:00 = 30 h = 108000 s.
        ok("D23", PROD, 8, "2026-03-20T10:00:00Z"),
        // Week 4, from Monday 23 March.
        release(9, pushed("2026-03-23T02:00:00Z"), "2026-03-23T03:00:00Z"),
        // Lead 02:00 → 10:00 = 8 h = 28800 s.
        ok("D24", STAGING, 9, "2026-03-23T10:00:00Z"),
        // Lead 03-23T02:00 → 03-24T10:00 = 32 h = 115200 s; fails by I1.
        ok("D25", PROD, 9, "2026-03-24T10:00:00Z"),
        // Recovery from 11:00 to its end at 15:00: 4 h = 14400 s.
        Step::Incident {
            label: "I1",
            env: PROD,
            start: "2026-03-24T11:00:00Z",
            caused_by: "D25",
        },
        release(10, Origin::BuildOnly, "2026-03-24T11:30:00Z"),
        // A hotfix while I1 is open: rework (once).
        // Lead 11:30 → 13:00 = 1.5 h = 5400 s.
        deploy("D26", PROD, 10, "Ok", "2026-03-24T13:00:00Z")
            .hotfix()
            .step(),
        Step::Resolve {
            incident: "I1",
            end: "2026-03-24T15:00:00Z",
        },
        // Ended exactly when I1 did: no longer during it, so no rework.
        ok("D27", PROD, 10, "2026-03-24T15:00:00Z"),
        // Lead 11:30 → 16:00 = 4.5 h = 16200 s.
        ok("D28", STAGING, 10, "2026-03-24T16:00:00Z"),
        ok("D29", STAGING, 10, "2026-03-26T10:00:00Z"),
        // Week 5, from Monday 30 March. The build reports r11; its deploys
        // name it by release_version.
        reported(11, pushed("2026-03-30T04:00:00Z"), "2026-03-30T05:00:00Z"),
        // Lead 04:00 → 10:00 = 6 h = 21600 s.
        ok("D30", STAGING, 11, "2026-03-30T10:00:00Z"),
        // Not a deployment at all.
        deploy("D31", PROD, 11, "Aborted", "2026-03-31T10:00:00Z").step(),
        // Created InProgress, ended Ok later.
        // Lead 03-30T04:00 → 03-31T12:00 = 32 h = 115200 s.
        deploy("D32", PROD, 11, "Ok", "2026-03-31T12:00:00Z")
            .live()
            .step(),
        Step::Finish {
            deploy: "D32",
            end: "2026-03-31T12:00:00Z",
        },
        release(12, pushed("2026-04-01T00:00:00Z"), "2026-04-01T01:00:00Z"),
        // Lead 10 h = 36000 s.
        ok("D33", STAGING, 12, "2026-04-01T10:00:00Z"),
        // Lead 04-01T00:00 → 04-02T10:00 = 34 h = 122400 s.
        ok("D34", PROD, 12, "2026-04-02T10:00:00Z"),
        ok("D35", STAGING, 12, "2026-04-03T10:00:00Z"),
        // Week 6, from Monday 6 April.
        release(13, pushed("2026-04-05T22:00:00Z"), "2026-04-05T23:00:00Z"),
        // Lead 04-05T22:00 → 04-06T10:00 = 12 h = 43200 s; fails by I2,
        // which is never resolved: no recovery sample.
        ok("D36", STAGING, 13, "2026-04-06T10:00:00Z"),
        failed("Dx2", DEV, 13, "2026-04-07T09:00:00Z"),
        // Lead 36 h = 129600 s.
        ok("D37", PROD, 13, "2026-04-07T10:00:00Z"),
        // Open from 04-07T12:00: staging deploys after it are rework.
        Step::Incident {
            label: "I2",
            env: STAGING,
            start: "2026-04-07T12:00:00Z",
            caused_by: "D36",
        },
        ok("D38", STAGING, 13, "2026-04-08T10:00:00Z"),
        release(14, pushed("2026-04-09T04:00:00Z"), "2026-04-09T05:00:00Z"),
        // Lead 6 h = 21600 s.
        ok("D39", STAGING, 14, "2026-04-09T10:00:00Z"),
        // Recovered by A2, after the window: 04-10T16:00 → 04-14T10:00 =
        // 90 h = 324000 s.
        failed("D40", PROD, 14, "2026-04-10T16:00:00Z"),
        ok("D41", STAGING, 14, "2026-04-11T10:00:00Z"),
        // After the window (it ends 13 April).
        ok("A1", STAGING, 14, "2026-04-13T10:00:00Z"),
        ok("A2", PROD, 14, "2026-04-14T10:00:00Z"),
    ]
}

/// The window the expectations are computed for: six Monday-weeks, 42 days.
const WINDOW: &str = "from=2026-03-02&to=2026-04-13";

const WEEKS: [&str; 6] = [
    "2026-03-02T00:00:00.000Z",
    "2026-03-09T00:00:00.000Z",
    "2026-03-16T00:00:00.000Z",
    "2026-03-23T00:00:00.000Z",
    "2026-03-30T00:00:00.000Z",
    "2026-04-06T00:00:00.000Z",
];

fn commit_of(n: u32) -> String {
    format!("{:040x}", 0xc0de_0000_u64 + u64::from(n))
}

fn version_of(n: u32) -> String {
    format!("r{n}")
}

/// Records steps on a server, remembering the ids of what they created.
struct Recorder<'a> {
    app: &'a TestApp,
    /// `R3`, `D25`, `I1`, … to event ids.
    ids: HashMap<String, i64>,
    /// Releases that deploys name by version.
    by_version: HashSet<u32>,
}

impl Recorder<'_> {
    fn id(&self, label: &str) -> i64 {
        *self
            .ids
            .get(label)
            .unwrap_or_else(|| panic!("{label} is recorded first"))
    }

    async fn create(&self, kind: &str, body: Value) -> i64 {
        created_id(
            &self
                .app
                .put(&format!("/jdoe/apps/{SHOP}/events/{kind}"), body)
                .await,
        )
    }

    async fn release(&mut self, r: &Release) {
        let commit = commit_of(r.n);
        let version = version_of(r.n);
        let mut build = json!({
            "commit_id": commit,
            "branch": "main",
            "build_status": "Success",
            "build_start": r.build_start,
            "build_end": shifted(r.build_start, 5),
        });
        let (push_time, release_time) = match r.origin {
            Origin::Pushed { commit_time } => (Some(Some(commit_time)), None),
            Origin::Restated { pushed, released } => (Some(Some(pushed)), Some(released)),
            Origin::PushedUntimed => (Some(None), None),
            Origin::BuildOnly => (None, None),
        };
        if let Some(commit_time) = push_time {
            let mut push = json!({"commit_id": commit, "branch": "main"});
            if let Some(time) = commit_time {
                push["commit_time"] = json!(time);
            }
            let push = self.create("pushEvent", push).await;
            build["parent_event_id"] = json!(push.to_string());
        }
        let id = if r.reported {
            assert!(release_time.is_none(), "a reported release says nothing");
            build["release_version"] = json!(version);
            self.create("buildEvent", build).await;
            self.by_version.insert(r.n);
            let releases = list_all(
                self.app,
                &format!(
                    "/jdoe/apps/{SHOP}/events?filter_name=EventType&filter_event_type=Release&max_results=100"
                ),
                "events",
            )
            .await;
            releases
                .iter()
                .find(|e| e["release_version"] == version)
                .and_then(|e| e["event_id"].as_i64())
                .unwrap_or_else(|| panic!("the build's release {version} is recorded"))
        } else {
            let build = self.create("buildEvent", build).await;
            let mut body =
                json!({"parent_event_id": build.to_string(), "release_version": version});
            if let Some(time) = release_time {
                body["commit_time"] = json!(time);
            }
            self.create("releaseEvent", body).await
        };
        self.ids.insert(format!("R{}", r.n), id);
    }

    async fn step(&mut self, step: &Step) {
        match *step {
            Step::Env { name, tags } => create_env(self.app, SHOP, name, tags).await,
            Step::Release(r) => self.release(&r).await,
            Step::Deploy(d) => {
                let mut body = json!({
                    "env_name": d.env,
                    "deployment_type": if d.restart { "Restart" } else { "Deploy" },
                    "hotfix": d.hotfix,
                    "deployment_start": shifted(d.end, -10),
                });
                if d.live {
                    body["deployment_status"] = json!("InProgress");
                } else {
                    body["deployment_status"] = json!(d.status);
                    body["deployment_end"] = json!(d.end);
                }
                if self.by_version.contains(&d.release) {
                    body["release_version"] = json!(version_of(d.release));
                } else {
                    let release = self.id(&format!("R{}", d.release));
                    body["parent_event_id"] = json!(release.to_string());
                }
                let id = self.create("deployEvent", body).await;
                self.ids.insert(d.label.to_owned(), id);
            }
            Step::Finish { deploy, end } => {
                let id = self.id(deploy);
                let body = json!({"deployment_status": "Ok", "deployment_end": end});
                let answer = update(self.app, SHOP, id, body).await;
                assert_ok(&answer);
                assert_eq!(answer.json["event"]["deployment_status"], "Ok");
            }
            Step::Incident {
                label,
                env,
                start,
                caused_by,
            } => {
                let body = json!({
                    "env_name": env,
                    "incident_start": start,
                    "caused_by_event_id": self.id(caused_by).to_string(),
                    "title": format!("{label}: checkout errors"),
                    "severity": "SEV2",
                    "url": format!("https://pager.example.com/{label}"),
                });
                let id = self.create("incidentEvent", body).await;
                self.ids.insert(label.to_owned(), id);
            }
            Step::Resolve { incident, end } => {
                let id = self.id(incident);
                let body = json!({"incident_status": "Resolved", "incident_end": end});
                let answer = update(self.app, SHOP, id, body).await;
                assert_ok(&answer);
                assert_eq!(answer.json["event"]["incident_status"], "Resolved");
            }
        }
    }
}

/// Creates [`SHOP`] and records `steps` in their order.
async fn replay(app: &TestApp, steps: &[Step]) {
    app.create_app(SHOP).await;
    let mut recorder = Recorder {
        app,
        ids: HashMap::new(),
        by_version: HashSet::new(),
    };
    for step in steps {
        recorder.step(step).await;
    }
}

/// The steps in another order, as a backfill might send them: the envs,
/// then the releases in their order (a lower release id is an older
/// release), then the deploys, incidents and updates shuffled with a fixed
/// seed, each held back only until what it names was recorded.
fn shuffled(steps: &[Step]) -> Vec<Step> {
    let (mut order, mut rest): (Vec<Step>, Vec<Step>) = steps
        .iter()
        .copied()
        .partition(|s| matches!(s, Step::Env { .. } | Step::Release(_)));
    // Fisher–Yates over xorshift64.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in (1..rest.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let j = (state % (i as u64 + 1)) as usize;
        rest.swap(i, j);
    }
    let mut done: HashSet<&str> = HashSet::new();
    let mut waiting: Vec<Step> = Vec::new();
    for step in rest {
        waiting.push(step);
        while let Some(i) = waiting
            .iter()
            .position(|s| s.needs().is_none_or(|n| done.contains(n)))
        {
            let ready = waiting.remove(i);
            done.extend(ready.label());
            order.push(ready);
        }
    }
    assert!(waiting.is_empty(), "every step is recorded: {waiting:?}");
    order
}

// ---------------------------------------------------------------------------
// The scripted history
// ---------------------------------------------------------------------------

/// The scripted history is written in time order (a check on the data the
/// other tests rely on), has at least 40 deploys to the two envs, and names
/// only what it recorded before.
#[test]
fn the_scripted_history_is_in_time_order() {
    let steps = history();
    let times: Vec<String> = steps.iter().filter_map(Step::at).collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "in time order: {times:?}"
    );
    let deploys = steps
        .iter()
        .filter(|s| matches!(s, Step::Deploy(d) if d.env != DEV))
        .count();
    assert_eq!(deploys, 46);
    let mut seen = HashSet::new();
    for step in &steps {
        if let Some(needed) = step.needs() {
            assert!(seen.contains(needed), "{step:?} after {needed}");
        }
        seen.extend(step.label());
    }
}

/// The scripted history gives, per Monday-week and in all, the five metrics
/// computed by hand in [`history`]: failed deploys, an Aborted one that
/// counts nowhere, a Restart that recovers nothing, a rollback, a hotfix,
/// an incident resolved and one still open, commits with and without
/// `commit_time`, history before the window and a recovery after it.
#[tokio::test]
async fn the_scripted_history_gives_the_hand_computed_metrics() {
    let app = TestApp::spawn().await;
    replay(&app, &history()).await;
    let d = dora(&app, &format!("app={SHOP}&{WINDOW}")).await;

    assert_eq!(d["app"], SHOP);
    // dev is neither tagged nor named production.
    assert_eq!(d["envs"], json!(["production", "staging"]));
    assert_eq!(d["from"], "2026-03-02T00:00:00.000Z");
    assert_eq!(d["to"], "2026-04-13T00:00:00.000Z");
    assert_eq!(d["bucket"], "week");
    assert_eq!(d["tz"], "UTC");
    assert_eq!(d["benchmark"], "2023");

    // Deployments that ended Ok, per week (B1–B3, A1, A2 are outside
    // the window; D05 is a Restart, D31 Aborted, Dx1 and Dx2 are dev):
    //   week 1: D01 D02 D03 D06                 = 4
    //   week 2: D07 D08 D11 D12 D13 D14 D16     = 7
    //   week 3: D17 D18 D19 D20 D21 D22 D23     = 7
    //   week 4: D24 D25 D26 D27 D28 D29         = 6
    //   week 5: D30 D32 D33 D34 D35             = 5
    //   week 6: D36 D37 D38 D39 D41             = 5   → 34 over 42 days.
    // Days with one: 03-02 03-03 03-04 | 03-09 03-10 03-11 03-12 |
    // 03-16 03-17 03-18 03-19 03-20 | 03-23 03-24 03-26 |
    // 03-30 03-31 04-01 04-02 04-03 | 04-06 04-07 04-08 04-09 04-11 = 25.
    // 34 / 42 = 0.81 a day: at least one a week (1/7), under one a day: high.
    assert_eq!(
        d["deployment_frequency"],
        json!({
            "count": 34,
            "per_day": real(34.0 / 42.0),
            "days_with_deployment": 25,
            "level": "high",
            "buckets": counts(&WEEKS, &[4, 7, 7, 6, 5, 5]),
        })
    );

    // Lead time samples (seconds; s = staging, p = production), one per
    // env and commit, at its first Ok deployment there; commit 5 is
    // dropped, redeploys and rollbacks bring no new commit:
    //   week 1: s1 43200, p1 129600, s2 21600, p2 100800
    //           → 21600 43200 100800 129600, median (43200+100800)/2 = 72000
    //   week 2: s3 14400, p3 36000, s4 32400, p4 100800
    //           → median (32400+36000)/2 = 34200
    //   week 3: s6 86400, p6 108000, s7 79200, p7 86400, s8 21600, p8 108000
    //           → 21600 79200 86400 86400 108000 108000, median 86400
    //   week 4: s9 28800, p9 115200, p10 5400, s10 16200
    //           → 5400 16200 28800 115200, median (16200+28800)/2 = 22500
    //   week 5: s11 21600, p11 115200, s12 36000, p12 122400
    //           → median (36000+115200)/2 = 75600
    //   week 6: s13 43200, p13 129600, s14 21600 → median 43200
    // All 25, sorted: 5400 14400 16200 21600×4 28800 32400 36000×2
    // 43200×2 79200 86400×2 100800×2 108000×2 115200×2 122400 129600×2;
    // the median is the 13th, 43200; p90 the ⌈0.9·25⌉ = 23rd, 122400.
    // 12 h is under a day: elite.
    assert_eq!(
        d["change_lead_time"],
        json!({
            "median_seconds": 43200.0,
            "p90_seconds": 122400.0,
            "count": 25,
            "level": "elite",
            "buckets": buckets(&WEEKS, vec![
                json!({"median_seconds": 72000.0, "count": 4}),
                json!({"median_seconds": 34200.0, "count": 4}),
                json!({"median_seconds": 86400.0, "count": 6}),
                json!({"median_seconds": 22500.0, "count": 4}),
                json!({"median_seconds": 75600.0, "count": 4}),
                json!({"median_seconds": 43200.0, "count": 3}),
            ]),
        })
    );

    // Deployments (Ok or Failed) and the failed ones, per week:
    //   week 1: D01 D02 D03 D04 D06, D04 failed                    = 1/5
    //   week 2: D07–D16 (ten), D09 D10 D15 failed                  = 3/10
    //   week 3: D17–D23 (seven), D20 rolled back by D21            = 1/7
    //   week 4: D24–D29 (six), D25 caused I1                       = 1/6
    //   week 5: D30 D32 D33 D34 D35                                = 0/5
    //   week 6: D36–D41 (six), D36 caused I2, D40 failed           = 2/6
    // In all 8/39 = 0.205, above 15%: low.
    assert_eq!(
        d["change_fail_rate"],
        json!({
            "failed": 8,
            "total": 39,
            "rate": real(8.0 / 39.0),
            "level": "low",
            "buckets": buckets(&WEEKS, vec![
                json!({"failed": 1, "total": 5, "rate": real(0.2)}),
                json!({"failed": 3, "total": 10, "rate": real(0.3)}),
                json!({"failed": 1, "total": 7, "rate": real(1.0 / 7.0)}),
                json!({"failed": 1, "total": 6, "rate": real(1.0 / 6.0)}),
                json!({"failed": 0, "total": 5, "rate": 0.0}),
                json!({"failed": 2, "total": 6, "rate": real(2.0 / 6.0)}),
            ]),
        })
    );

    // Recovery samples, in the week of the failure's start:
    //   week 1: D04 → D06 7200
    //   week 2: D09 → D11 7200, D10 → D11 3600, D15 → D16 3600 → median 3600
    //   week 3: D20 → D21 86400
    //   week 4: I1 11:00 → 15:00 14400
    //   week 5: none
    //   week 6: D40 → A2 324000 (D36's incident is still open: no sample)
    // All 7: 3600 3600 7200 7200 14400 86400 324000, median 7200: under a
    // day, not under an hour: high.
    assert_eq!(
        d["recovery_time"],
        json!({
            "median_seconds": 7200.0,
            "count": 7,
            "level": "high",
            "buckets": buckets(&WEEKS, vec![
                json!({"median_seconds": 7200.0, "count": 1}),
                json!({"median_seconds": 3600.0, "count": 3}),
                json!({"median_seconds": 86400.0, "count": 1}),
                json!({"median_seconds": 14400.0, "count": 1}),
                json!({"median_seconds": null, "count": 0}),
                json!({"median_seconds": 324000.0, "count": 1}),
            ]),
        })
    );

    // Rework of the Ok deployments: D21 (rollback) in week 3; D26 (hotfix,
    // and during I1) in week 4, D27 having ended as I1 did; D38 D39 D41
    // (during I2) in week 6. In all 5/34.
    assert_eq!(
        d["rework_rate"],
        json!({
            "rework": 5,
            "total": 34,
            "rate": real(5.0 / 34.0),
            "buckets": buckets(&WEEKS, vec![
                json!({"rework": 0, "total": 4, "rate": 0.0}),
                json!({"rework": 0, "total": 7, "rate": 0.0}),
                json!({"rework": 1, "total": 7, "rate": real(1.0 / 7.0)}),
                json!({"rework": 1, "total": 6, "rate": real(1.0 / 6.0)}),
                json!({"rework": 0, "total": 5, "rate": 0.0}),
                json!({"rework": 3, "total": 5, "rate": real(0.6)}),
            ]),
        })
    );

    // Without `app`, every app of the account: the same, with `app` null.
    let every_app = dora(&app, WINDOW).await;
    let mut expected = d.clone();
    expected["app"] = Value::Null;
    assert_eq!(every_app, expected);
}

/// Each env of the scripted history on its own (`env=`): the two split the
/// totals of both, and one env's rollbacks, incidents and recoveries stay
/// its own.
#[tokio::test]
async fn each_env_of_the_scripted_history_has_its_own_share() {
    let app = TestApp::spawn().await;
    replay(&app, &history()).await;

    let prod = dora(&app, &format!("app={SHOP}&env={PROD}&{WINDOW}")).await;
    assert_eq!(prod["envs"], json!(["production"]));
    // Ok: D02 D06 | D08 D13 D16 | D18 D20 D21 D23 | D25 D26 D27 | D32 D34 |
    // D37 = 15, on 13 days (03-03 03-04 03-09 03-11 03-12 03-16 03-17 03-18
    // 03-20 03-24 03-31 04-02 04-07).
    assert_eq!(prod["deployment_frequency"]["count"], 15);
    assert_eq!(prod["deployment_frequency"]["per_day"], real(15.0 / 42.0));
    assert_eq!(prod["deployment_frequency"]["days_with_deployment"], 13);
    assert_eq!(
        prod["deployment_frequency"]["buckets"],
        counts(&WEEKS, &[2, 3, 4, 3, 2, 1])
    );
    // 12 samples: 5400 36000 86400 100800 100800 108000 108000 115200
    // 115200 122400 129600 129600; median (108000+108000)/2, p90 the 11th.
    // 30 h is over a day: high.
    let lead = &prod["change_lead_time"];
    assert_eq!(
        (
            &lead["count"],
            &lead["median_seconds"],
            &lead["p90_seconds"],
            &lead["level"]
        ),
        (
            &json!(12),
            &json!(108000.0),
            &json!(129600.0),
            &json!("high")
        )
    );
    // Failed: D04 D15 D20 D25 D40 of 18.
    let fail = &prod["change_fail_rate"];
    assert_eq!(
        (
            &fail["failed"],
            &fail["total"],
            &fail["rate"],
            &fail["level"]
        ),
        (&json!(5), &json!(18), &real(5.0 / 18.0), &json!("low"))
    );
    // 3600 7200 14400 86400 324000.
    let recovery = &prod["recovery_time"];
    assert_eq!(
        (&recovery["count"], &recovery["median_seconds"]),
        (&json!(5), &json!(14400.0))
    );
    // D21 and D26: I2 is staging's.
    let rework = &prod["rework_rate"];
    assert_eq!(
        (&rework["rework"], &rework["total"], &rework["rate"]),
        (&json!(2), &json!(15), &real(2.0 / 15.0))
    );

    let staging = dora(&app, &format!("app={SHOP}&env={STAGING}&{WINDOW}")).await;
    assert_eq!(staging["envs"], json!(["staging"]));
    // 34 − 15 = 19 Ok, on 18 days.
    assert_eq!(staging["deployment_frequency"]["count"], 19);
    assert_eq!(staging["deployment_frequency"]["days_with_deployment"], 18);
    assert_eq!(
        staging["deployment_frequency"]["buckets"],
        counts(&WEEKS, &[2, 4, 3, 3, 3, 4])
    );
    // 13 samples: 14400 16200 21600×4 28800 32400 36000 43200×2 79200
    // 86400; median the 7th, p90 the ⌈11.7⌉ = 12th. Under a day: elite.
    let lead = &staging["change_lead_time"];
    assert_eq!(
        (
            &lead["count"],
            &lead["median_seconds"],
            &lead["p90_seconds"],
            &lead["level"]
        ),
        (
            &json!(13),
            &json!(28800.0),
            &json!(79200.0),
            &json!("elite")
        )
    );
    // Failed: D09 D10 D36 of 21; 1/7 is within 15%: medium.
    let fail = &staging["change_fail_rate"];
    assert_eq!(
        (
            &fail["failed"],
            &fail["total"],
            &fail["rate"],
            &fail["level"]
        ),
        (&json!(3), &json!(21), &real(3.0 / 21.0), &json!("medium"))
    );
    // 7200 and 3600.
    let recovery = &staging["recovery_time"];
    assert_eq!(
        (&recovery["count"], &recovery["median_seconds"]),
        (&json!(2), &json!(5400.0))
    );
    let rework = &staging["rework_rate"];
    assert_eq!(
        (&rework["rework"], &rework["total"], &rework["rate"]),
        (&json!(3), &json!(19), &real(3.0 / 19.0))
    );
}

/// Recorded live (in time order, a deploy finished by an update, incidents
/// as they happen) or as a backfill (the releases first, then deploys,
/// incidents and their updates shuffled), the history gives the same
/// answers on every scope, bucket and time zone.
#[tokio::test]
async fn a_backfill_in_another_order_gives_the_same_answers_as_live_recording() {
    let steps = history();
    let backfill = shuffled(&steps);
    assert_eq!(backfill.len(), steps.len());
    // The shuffle is no mere copy: count deploys recorded after one that
    // ended later.
    let ends: Vec<&str> = backfill
        .iter()
        .filter_map(|s| match s {
            Step::Deploy(d) => Some(d.end),
            _ => None,
        })
        .collect();
    let late = ends
        .windows(2)
        .filter(|w| shifted(w[0], 0) > shifted(w[1], 0))
        .count();
    assert!(late >= 15, "only {late} deploys out of order");

    let live = TestApp::spawn().await;
    replay(&live, &steps).await;
    let backfilled = TestApp::spawn().await;
    replay(&backfilled, &backfill).await;
    for query in [
        format!("app={SHOP}&{WINDOW}"),
        format!("app={SHOP}&env={STAGING}&{WINDOW}&bucket=day"),
        format!(
            "app={SHOP}&env={PROD}&from=2026-02-01&to=2026-05-01&bucket=month&tz=America/Los_Angeles"
        ),
        format!("{WINDOW}&benchmark=2021"),
    ] {
        let a = dora(&live, &query).await;
        assert_eq!(
            a["deployment_frequency"]["count"].as_u64().map(|c| c > 0),
            Some(true),
            "{query}"
        );
        assert_eq!(a, dora(&backfilled, &query).await, "{query}");
    }
    assert_eq!(
        dora(&live, &format!("app={SHOP}&{WINDOW}")).await["change_fail_rate"]["failed"],
        8
    );
}

// ---------------------------------------------------------------------------
// Time zones
// ---------------------------------------------------------------------------

const LA: &str = "America/Los_Angeles";

/// Deploys to `production` of app `clock` near midnights and Mondays, on
/// both sides of the US change to daylight time on Sunday 8 March 2026 at
/// 02:00 (10:00Z): Los Angeles is UTC−8 before it and UTC−7 after.
async fn clock(app: &TestApp) {
    app.create_app("clock").await;
    for (status, end) in [
        // Sat 28 Feb 21:00 in LA; Sun 1 Mar in UTC.
        ("Ok", "2026-03-01T05:00:00Z"),
        // Sun 1 Mar 23:30 in LA; Mon 2 Mar in UTC.
        ("Ok", "2026-03-02T07:30:00Z"),
        // Mon 2 Mar 00:00 in LA: the first instant of a window from that date.
        ("Ok", "2026-03-02T08:00:00Z"),
        // Mon 2 Mar 00:30 in LA.
        ("Ok", "2026-03-02T08:30:00Z"),
        // Sun 8 Mar 16:30 PDT; Sun 8 Mar in UTC.
        ("Ok", "2026-03-08T23:30:00Z"),
        // Sun 8 Mar 23:00 PDT; Mon 9 Mar in UTC. Recovered 30 min later.
        ("Failed", "2026-03-09T06:00:00Z"),
        // Sun 8 Mar 23:30 PDT; Mon 9 Mar in UTC.
        ("Ok", "2026-03-09T06:30:00Z"),
        // Mon 9 Mar 00:30 PDT.
        ("Ok", "2026-03-09T07:30:00Z"),
        // Sun 15 Mar 23:59 PDT; Mon 16 Mar in UTC.
        ("Ok", "2026-03-16T06:59:00Z"),
        // Mon 16 Mar 00:00 PDT: past the end of a window to that date.
        ("Ok", "2026-03-16T07:00:00Z"),
    ] {
        deploy_at(app, "clock", "production", status, end).await;
    }
}

/// Weeks are Monday-weeks of the zone: a Sunday-evening deploy in Los
/// Angeles is a Monday in UTC, dates mean midnight in the zone (an hour
/// apart before and after the DST change), and a recovery belongs to the
/// week its failure started in.
#[tokio::test]
async fn weeks_and_days_follow_the_time_zone_across_the_dst_change() {
    let app = TestApp::spawn().await;
    clock(&app).await;

    // UTC: [03-02T00Z, 03-16T00Z) holds 07:30Z, 08:00Z, 08:30Z and
    // 03-08T23:30Z in week 1; the failure at 03-09T06:00Z, 06:30Z and 07:30Z
    // in week 2.
    let utc = dora(&app, "app=clock&from=2026-03-02&to=2026-03-16&tz=UTC").await;
    assert_eq!(utc["envs"], json!(["production"]), "named production");
    assert_eq!(utc["from"], "2026-03-02T00:00:00.000Z");
    assert_eq!(utc["to"], "2026-03-16T00:00:00.000Z");
    assert_eq!(utc["tz"], "UTC");
    let utc_weeks = ["2026-03-02T00:00:00.000Z", "2026-03-09T00:00:00.000Z"];
    let f = &utc["deployment_frequency"];
    assert_eq!(f["buckets"], counts(&utc_weeks, &[4, 2]));
    // Days: 03-02, 03-08, 03-09.
    assert_eq!(f["days_with_deployment"], 3);
    assert_eq!(f["per_day"], real(6.0 / 14.0));
    assert_eq!(
        utc["change_fail_rate"]["buckets"],
        buckets(
            &utc_weeks,
            vec![
                json!({"failed": 0, "total": 4, "rate": 0.0}),
                json!({"failed": 1, "total": 3, "rate": real(1.0 / 3.0)}),
            ]
        )
    );
    assert_eq!(
        utc["recovery_time"]["buckets"],
        buckets(
            &utc_weeks,
            vec![
                json!({"median_seconds": null, "count": 0}),
                json!({"median_seconds": 1800.0, "count": 1}),
            ]
        )
    );

    // Los Angeles: [03-02T08:00Z, 03-16T07:00Z), 335 hours. 07:30Z is
    // before it (Sunday evening) and 03-16T07:00Z at its end, outside;
    // 08:00Z, 08:30Z, 03-08T23:30Z, the failure and 06:30Z are in the week
    // of Monday 2 March; 07:30Z and 03-16T06:59Z in the week of Monday 9
    // March, which starts at 07:00Z.
    let la = dora(
        &app,
        &format!("app=clock&from=2026-03-02&to=2026-03-16&tz={LA}"),
    )
    .await;
    assert_eq!(la["from"], "2026-03-02T08:00:00.000Z");
    assert_eq!(la["to"], "2026-03-16T07:00:00.000Z");
    assert_eq!(la["tz"], LA);
    let la_weeks = ["2026-03-02T08:00:00.000Z", "2026-03-09T07:00:00.000Z"];
    let f = &la["deployment_frequency"];
    assert_eq!(f["buckets"], counts(&la_weeks, &[4, 2]));
    // Days in LA: 03-02 (two), 03-08 (two), 03-09, 03-15.
    assert_eq!(f["days_with_deployment"], 4);
    assert_eq!(f["count"], 6);
    assert_eq!(f["per_day"], real(6.0 / (335.0 / 24.0)));
    assert_eq!(
        la["change_fail_rate"]["buckets"],
        buckets(
            &la_weeks,
            vec![
                json!({"failed": 1, "total": 5, "rate": real(0.2)}),
                json!({"failed": 0, "total": 2, "rate": 0.0}),
            ]
        )
    );
    assert_eq!(
        la["recovery_time"]["buckets"],
        buckets(
            &la_weeks,
            vec![
                json!({"median_seconds": 1800.0, "count": 1}),
                json!({"median_seconds": null, "count": 0}),
            ]
        )
    );

    // The same instants written with their offsets give the same answer.
    let offsets = dora(
        &app,
        &format!("app=clock&from=2026-03-02T00:00:00-08:00&to=2026-03-16T00:00:00-07:00&tz={LA}"),
    )
    .await;
    assert_eq!(offsets, la);

    // A window from Wednesday: the first week starts before `from`.
    let partial = dora(
        &app,
        &format!("app=clock&from=2026-03-04&to=2026-03-11&tz={LA}"),
    )
    .await;
    assert_eq!(partial["from"], "2026-03-04T08:00:00.000Z");
    assert_eq!(
        partial["deployment_frequency"]["buckets"],
        counts(&la_weeks, &[2, 1])
    );
}

/// Day buckets of the zone: Sunday 8 March is 23 hours long in Los Angeles,
/// and the deploys of Sunday evening there are Monday's in UTC.
#[tokio::test]
async fn day_buckets_are_calendar_days_of_the_time_zone() {
    let app = TestApp::spawn().await;
    clock(&app).await;
    let la = dora(
        &app,
        &format!("app=clock&from=2026-03-07&to=2026-03-10&bucket=day&tz={LA}"),
    )
    .await;
    assert_eq!(la["bucket"], "day");
    assert_eq!(la["to"], "2026-03-10T07:00:00.000Z");
    let f = &la["deployment_frequency"];
    // 03-08T23:30Z and 03-09T06:30Z on Sunday; 07:30Z on Monday.
    assert_eq!(
        f["buckets"],
        counts(
            &[
                "2026-03-07T08:00:00.000Z",
                "2026-03-08T08:00:00.000Z",
                "2026-03-09T07:00:00.000Z",
            ],
            &[0, 2, 1]
        )
    );
    assert_eq!(f["days_with_deployment"], 2);
    // 24 + 23 + 24 = 71 hours.
    assert_eq!(f["per_day"], real(3.0 / (71.0 / 24.0)));

    let utc = dora(&app, "app=clock&from=2026-03-07&to=2026-03-10&bucket=day").await;
    assert_eq!(
        utc["deployment_frequency"]["buckets"],
        counts(
            &[
                "2026-03-07T00:00:00.000Z",
                "2026-03-08T00:00:00.000Z",
                "2026-03-09T00:00:00.000Z",
            ],
            &[0, 1, 2]
        )
    );
    assert_eq!(utc["deployment_frequency"]["per_day"], json!(1.0));
}

/// Month buckets of the zone: Saturday 28 February 21:00 in Los Angeles is
/// 1 March in UTC.
#[tokio::test]
async fn month_buckets_start_on_the_first_of_the_month_in_the_time_zone() {
    let app = TestApp::spawn().await;
    clock(&app).await;
    let la = dora(
        &app,
        &format!("app=clock&from=2026-02-01&to=2026-04-01&bucket=month&tz={LA}"),
    )
    .await;
    let f = &la["deployment_frequency"];
    assert_eq!(
        f["buckets"],
        counts(
            &["2026-02-01T08:00:00.000Z", "2026-03-01T08:00:00.000Z"],
            &[1, 8]
        )
    );
    // 02-28, 03-01, 03-02 (two), 03-08 (two), 03-09, 03-15, 03-16.
    assert_eq!(f["days_with_deployment"], 7);

    let utc = dora(&app, "app=clock&from=2026-02-01&to=2026-04-01&bucket=month").await;
    let f = &utc["deployment_frequency"];
    assert_eq!(
        f["buckets"],
        counts(
            &["2026-02-01T00:00:00.000Z", "2026-03-01T00:00:00.000Z"],
            &[0, 9]
        )
    );
    // 03-01, 03-02 (three), 03-08, 03-09 (two), 03-16 (two).
    assert_eq!(f["days_with_deployment"], 5);
}

// ---------------------------------------------------------------------------
// Windows
// ---------------------------------------------------------------------------

/// Without `from` the window is the 90 days before `to`; without either it
/// is 90 days long and ends now, in Monday-weeks that cover it.
#[tokio::test]
async fn the_window_defaults_to_90_days() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    let d = dora(&app, "app=web&to=2026-04-13").await;
    // 13 Jan → 13 Feb (31 days) → 13 Mar (28) → 13 Apr (31) = 90 days.
    assert_eq!(d["from"], "2026-01-13T00:00:00.000Z");
    assert_eq!(d["to"], "2026-04-13T00:00:00.000Z");
    // Tuesday 13 January is in the week of Monday 12 January; 13 April is
    // a Monday, so the last week starts on 6 April: 13 weeks.
    let starts = d["deployment_frequency"]["buckets"].as_array().unwrap();
    assert_eq!(starts.len(), 13);
    assert_eq!(starts[0]["start"], "2026-01-12T00:00:00.000Z");
    assert_eq!(starts[12]["start"], "2026-04-06T00:00:00.000Z");

    let d = dora(&app, "app=web").await;
    let millis = |v: &Value| {
        Timestamp::parse(v.as_str().expect("a timestamp"))
            .expect("a timestamp")
            .millis()
    };
    let (from, to) = (millis(&d["from"]), millis(&d["to"]));
    const DAY: i64 = 86_400_000;
    assert_eq!(to - from, 90 * DAY);
    let starts: Vec<i64> = d["deployment_frequency"]["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| millis(&b["start"]))
        .collect();
    // 1970-01-01 was a Thursday: Mondays are 4 days after a multiple of 7.
    assert_eq!(
        starts[0].rem_euclid(7 * DAY),
        4 * DAY,
        "a Monday, midnight UTC"
    );
    assert!(starts[0] <= from && from < starts[0] + 7 * DAY);
    assert!(
        starts.windows(2).all(|w| w[1] - w[0] == 7 * DAY),
        "{starts:?}"
    );
    let last = *starts.last().unwrap();
    assert!(last < to && to <= last + 7 * DAY);
}

/// The calendar covers every instant up to 9999-12-30 (the last day that
/// exists in every zone): a window up to it is answered with its buckets,
/// and a later date is `BadParam` naming it, never another instant.
#[tokio::test]
async fn the_calendar_ends_on_the_last_day_every_zone_has() {
    let app = TestApp::spawn().await;
    let answer = app
        .get("/jdoe/dora?from=9999-12-01&to=9999-12-30&bucket=day")
        .await;
    assert_ok(&answer);
    let d = &answer.json["dora"];
    assert_eq!(d["from"], "9999-12-01T00:00:00.000Z");
    assert_eq!(d["to"], "9999-12-30T00:00:00.000Z");
    assert_eq!(
        d["deployment_frequency"]["buckets"]
            .as_array()
            .map(Vec::len),
        Some(29)
    );
    // 9999-12-31 does not exist in every zone: refused, never read as 1970.
    for query in ["to=9999-12-31", "from=9999-12-30&to=9999-12-31T23:59:59Z"] {
        let answer = app.get(&format!("/jdoe/dora?{query}")).await;
        assert_error(&answer, 400, "BadParam");
        assert!(answer.message().contains("parameter to"), "{}", answer.text);
    }
}

/// `from` alone ends the window now (beyond.md §8: the default is "the 90
/// days up to now"), so a `from` after now makes a window that ends before
/// it starts: `BadParam` naming `to`, as when `to` is sent.
#[tokio::test]
async fn a_from_after_now_without_to_is_bad_param_naming_to() {
    let app = TestApp::spawn().await;
    let answer = app.get("/jdoe/dora?from=2100-01-01").await;
    assert_error(&answer, 400, "BadParam");
    assert!(answer.message().contains("parameter to"), "{}", answer.text);
}

// ---------------------------------------------------------------------------
// Benchmarks, scope and empty answers
// ---------------------------------------------------------------------------

/// The levels of a history whose values sit between the bounds of the
/// three benchmark sets (benchmarks.json): the set named in the answer
/// decides them.
#[tokio::test]
async fn the_benchmark_set_decides_the_levels() {
    let app = TestApp::spawn().await;
    app.create_app("bench").await;
    let release = async |n: u32, commit_time: &str| {
        let body = json!({
            "commit_id": commit_of(100 + n),
            "commit_time": commit_time,
            "release_version": format!("b{n}"),
        });
        app.create_event("bench", "releaseEvent", body).await;
    };
    let deploy = async |n: u32, status: &str, end: &str| {
        let body = json!({
            "env_name": "production",
            "release_version": format!("b{n}"),
            "deployment_status": status,
            "deployment_start": shifted(end, -10),
            "deployment_end": end,
        });
        app.create_event("bench", "deployEvent", body).await;
    };
    // Lead 08:00 → 10:00 = 7200 s.
    release(1, "2026-02-02T08:00:00Z").await;
    deploy(1, "Ok", "2026-02-02T10:00:00Z").await;
    // Fails; recovered 30 min later (1800 s) by the same release, whose
    // lead is 08:00 → 10:30 = 9000 s.
    release(2, "2026-02-09T08:00:00Z").await;
    deploy(2, "Failed", "2026-02-09T10:00:00Z").await;
    deploy(2, "Ok", "2026-02-09T10:30:00Z").await;
    // Lead 08:00 → 09:30 = 5400 s.
    release(3, "2026-02-16T08:00:00Z").await;
    deploy(3, "Ok", "2026-02-16T09:30:00Z").await;

    // 100 days from 1 January: 3 Ok deploys, 0.03 a day; lead median
    // 7200 s; 1 failed of 4, 0.25; recovery median 1800 s.
    let window = "app=bench&from=2026-01-01&to=2026-04-11";
    let levels = |d: &Value| {
        json!([
            d["benchmark"],
            d["deployment_frequency"]["level"],
            d["change_lead_time"]["level"],
            d["change_fail_rate"]["level"],
            d["recovery_time"]["level"],
        ])
    };
    let default = dora(&app, window).await;
    assert_eq!(default["deployment_frequency"]["per_day"], real(0.03));
    assert_eq!(default["change_lead_time"]["median_seconds"], json!(7200.0));
    assert_eq!(default["change_fail_rate"]["rate"], real(0.25));
    assert_eq!(default["recovery_time"]["median_seconds"], json!(1800.0));
    // 2023: a deploy a month is medium (0.0333), so 0.03 is low; a day of
    // lead time is elite; 25% is past medium's 15%; under an hour is elite.
    assert_eq!(
        levels(&default),
        json!(["2023", "low", "elite", "low", "elite"])
    );
    assert_eq!(
        dora(&app, &format!("{window}&benchmark=2023")).await,
        default
    );
    // 2021: medium from one deploy in six months (0.0055); elite lead time
    // is under an hour; high and medium fail rates end at 30%.
    let d2021 = dora(&app, &format!("{window}&benchmark=2021")).await;
    assert_eq!(
        levels(&d2021),
        json!(["2021", "medium", "high", "high", "elite"])
    );
    // 2024: frequency and lead time as 2023; high ends at 20%, medium at 30%.
    let d2024 = dora(&app, &format!("{window}&benchmark=2024")).await;
    assert_eq!(
        levels(&d2024),
        json!(["2024", "low", "elite", "medium", "elite"])
    );
    // Only the levels and the name differ.
    let strip = |mut d: Value| {
        d["benchmark"] = Value::Null;
        for metric in [
            "deployment_frequency",
            "change_lead_time",
            "change_fail_rate",
            "recovery_time",
        ] {
            d[metric]["level"] = Value::Null;
        }
        d
    };
    assert_eq!(strip(d2021), strip(default.clone()));
    assert_eq!(strip(d2024), strip(default));
}

/// Without `env`, the scope is each app's envs tagged `production`, else
/// those named `production` or `prod`; without `app`, every app's.
#[tokio::test]
async fn the_default_scope_is_each_apps_production_envs() {
    let app = TestApp::spawn().await;
    for name in ["tagged", "named", "neither"] {
        app.create_app(name).await;
    }
    // A tagged env wins over one named production.
    create_env(&app, "tagged", "live", &["eu", "production"]).await;
    create_env(&app, "tagged", "production", &[]).await;
    create_env(&app, "named", "prod", &[]).await;
    create_env(&app, "named", "qa", &["eu"]).await;
    create_env(&app, "neither", "preprod", &[]).await;
    for (app_name, env) in [
        ("tagged", "live"),
        ("tagged", "production"),
        ("named", "prod"),
        ("named", "qa"),
        ("neither", "preprod"),
    ] {
        deploy_at(&app, app_name, env, "Ok", "2026-03-03T10:00:00Z").await;
    }
    let window = "from=2026-03-02&to=2026-03-09";
    for (query, envs, count) in [
        ("app=tagged&", json!(["live"]), 1),
        ("app=named&", json!(["prod"]), 1),
        ("app=neither&", json!([]), 0),
        ("", json!(["live", "prod"]), 2),
        ("app=tagged&env=production&", json!(["production"]), 1),
    ] {
        let d = dora(&app, &format!("{query}{window}")).await;
        assert_eq!(d["envs"], envs, "{query}");
        assert_eq!(d["deployment_frequency"]["count"], count, "{query}");
    }
}

/// An env deleted and its name then taken by another app: the new env's
/// metrics owe nothing to the old env's deploys, nor to its incidents (an
/// INCIDENT counts for the deploys "of that env", beyond.md §8).
#[tokio::test]
async fn a_reused_env_name_owes_nothing_to_the_old_envs_incidents() {
    let app = TestApp::spawn().await;
    app.create_app("old").await;
    deploy_at(&app, "old", "production", "Ok", "2026-03-02T10:00:00Z").await;
    created_id(
        &put_incident(
            &app,
            "old",
            json!({"env_name": "production", "incident_start": "2026-03-02T11:00:00Z"}),
        )
        .await,
    );
    deploy_at(&app, "old", "production", "Ok", "2026-03-03T10:00:00Z").await;
    let window = "from=2026-03-02&to=2026-03-09";
    let old = dora(&app, &format!("app=old&{window}")).await;
    assert_eq!(
        old["rework_rate"],
        json!({
            "rework": 1,
            "total": 2,
            "rate": real(0.5),
            "buckets": buckets(&WEEKS[..1], vec![json!({"rework": 1, "total": 2, "rate": real(0.5)})]),
        }),
        "the second deploy ended during the open incident"
    );

    assert_ok(&app.delete("/jdoe/envs/production").await);
    app.create_app("new").await;
    deploy_at(&app, "new", "production", "Ok", "2026-03-04T10:00:00Z").await;
    let new = dora(&app, &format!("app=new&{window}")).await;
    assert_eq!(new["envs"], json!(["production"]));
    assert_eq!(
        new["deployment_frequency"]["count"], 1,
        "only its own deploy"
    );
    assert_eq!(
        new["rework_rate"],
        json!({
            "rework": 0,
            "total": 1,
            "rate": 0.0,
            "buckets": buckets(&WEEKS[..1], vec![json!({"rework": 0, "total": 1, "rate": 0.0})]),
        })
    );
}

/// An app with no production env answers 200 with no envs, zero counts,
/// null medians, rates and levels, and every bucket of the window.
#[tokio::test]
async fn an_empty_scope_answers_zeros_and_nulls_in_every_bucket() {
    let app = TestApp::spawn().await;
    app.create_app("quiet").await;
    deploy_at(&app, "quiet", "dev", "Ok", "2026-03-03T10:00:00Z").await;
    deploy_at(&app, "quiet", "qa", "Failed", "2026-03-10T10:00:00Z").await;
    let d = dora(&app, "app=quiet&from=2026-03-02&to=2026-03-16").await;
    let weeks = ["2026-03-02T00:00:00.000Z", "2026-03-09T00:00:00.000Z"];
    let no_median = || json!({"median_seconds": null, "count": 0});
    assert_eq!(
        d,
        json!({
            "app": "quiet",
            "envs": [],
            "from": "2026-03-02T00:00:00.000Z",
            "to": "2026-03-16T00:00:00.000Z",
            "bucket": "week",
            "tz": "UTC",
            "benchmark": "2023",
            "deployment_frequency": {
                "count": 0,
                "per_day": 0.0,
                "days_with_deployment": 0,
                "level": null,
                "buckets": counts(&weeks, &[0, 0]),
            },
            "change_lead_time": {
                "median_seconds": null,
                "p90_seconds": null,
                "count": 0,
                "level": null,
                "buckets": buckets(&weeks, vec![no_median(), no_median()]),
            },
            "change_fail_rate": {
                "failed": 0,
                "total": 0,
                "rate": null,
                "level": null,
                "buckets": buckets(&weeks, vec![
                    json!({"failed": 0, "total": 0, "rate": null}),
                    json!({"failed": 0, "total": 0, "rate": null}),
                ]),
            },
            "recovery_time": {
                "median_seconds": null,
                "count": 0,
                "level": null,
                "buckets": buckets(&weeks, vec![no_median(), no_median()]),
            },
            "rework_rate": {
                "rework": 0,
                "total": 0,
                "rate": null,
                "buckets": buckets(&weeks, vec![
                    json!({"rework": 0, "total": 0, "rate": null}),
                    json!({"rework": 0, "total": 0, "rate": null}),
                ]),
            },
        })
    );
}

// ---------------------------------------------------------------------------
// INCIDENT events
// ---------------------------------------------------------------------------

/// An INCIDENT is created `Open` in an env it creates on first use, names
/// its cause as a string, is listed by the `EventType` and `Env` filters,
/// and is resolved by an update answering `{"event":{…}}`.
#[tokio::test]
async fn an_incident_is_recorded_listed_and_resolved() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    let cause = deploy_at(&app, "web", "production", "Ok", "2026-03-03T10:00:00Z").await;
    assert_error(&app.get("/jdoe/envs/edge").await, 404, "NotFound");
    let id = created_id(
        &put_incident(
            &app,
            "web",
            json!({
                "env_name": "edge",
                "incident_start": "2026-03-03T11:00:00+01:00",
                "caused_by_event_id": cause.to_string(),
                "title": "Checkout errors",
                "url": "https://pager.example.com/1",
                "severity": "SEV1",
            }),
        )
        .await,
    );
    let env = app.get("/jdoe/envs/edge").await;
    assert_ok(&env);
    assert_eq!(env.json["env"]["app_name"], "web", "made on first use");

    let got = app.get(&format!("/jdoe/apps/web/events/{id}")).await;
    assert_ok(&got);
    let incident = got.json["event"].clone();
    assert_eq!(
        key_set(&incident),
        sorted(&[
            "app_name",
            "event_id",
            "event_time",
            "event_type",
            "caused_by_event_id",
            "env_name",
            "incident_end",
            "incident_start",
            "incident_status",
            "severity",
            "title",
            "url",
        ]),
        "{incident}"
    );
    assert_eq!(incident["event_type"], "INCIDENT");
    assert_eq!(incident["event_id"], json!(id));
    assert_eq!(incident["caused_by_event_id"], json!(cause.to_string()));
    assert_eq!(incident["incident_status"], "Open", "the default");
    assert_eq!(incident["incident_start"], "2026-03-03T10:00:00.000Z");
    assert_eq!(incident["incident_end"], Value::Null);
    assert_eq!(incident["severity"], "SEV1");
    assert_eq!(incident["title"], "Checkout errors");
    assert_eq!(incident["url"], "https://pager.example.com/1");

    let listed = list_all(
        &app,
        "/jdoe/apps/web/events?filter_name=EventType&filter_event_type=Incident",
        "events",
    )
    .await;
    assert_eq!(listed, std::slice::from_ref(&incident));
    let of_env = list_all(
        &app,
        "/jdoe/apps/web/events?filter_name=Env&filter_env=edge",
        "events",
    )
    .await;
    assert_eq!(of_env, std::slice::from_ref(&incident));

    // Without a start, it starts when recorded; statuses in any case.
    let now = created_id(
        &put_incident(
            &app,
            "web",
            json!({"env_name": "edge", "incident_status": "oPEN"}),
        )
        .await,
    );
    let now = app.get(&format!("/jdoe/apps/web/events/{now}")).await.json["event"].clone();
    assert_eq!(now["incident_status"], "Open");
    assert_eq!(now["incident_start"], now["event_time"]);

    let answer = update(
        &app,
        "web",
        id,
        json!({"incident_status": "resolved", "incident_end": "2026-03-03T12:00:00Z"}),
    )
    .await;
    assert_ok(&answer);
    assert_eq!(key_set(&answer.json), sorted(&["event"]), "{}", answer.text);
    let resolved = answer.json["event"].clone();
    assert_eq!(resolved["incident_status"], "Resolved");
    assert_eq!(resolved["incident_end"], "2026-03-03T12:00:00.000Z");
    assert_eq!(resolved["incident_start"], incident["incident_start"]);
    assert_eq!(
        app.get(&format!("/jdoe/apps/web/events/{id}")).await.json["event"],
        resolved
    );
}

/// A refused incident or incident update: missing `env_name`, `Resolved`
/// without an end, a cause that is not a DEPLOY of the app, an end before
/// the start, an unknown status, another app's env, a change to a
/// `Resolved` incident. None
/// records anything or makes an env; an identical repeat answers 200.
#[tokio::test]
async fn refused_incidents_and_updates_change_nothing() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    app.create_app("api").await;
    let deploy = deploy_at(&app, "web", "production", "Ok", "2026-03-03T10:00:00Z").await;
    let push = app.create_event("web", "pushEvent", push_body()).await;
    let other_app = deploy_at(&app, "api", "api-prod", "Ok", "2026-03-03T10:00:00Z").await;
    let open = created_id(
        &put_incident(
            &app,
            "web",
            json!({"env_name": "production", "incident_start": "2026-03-03T11:00:00Z"}),
        )
        .await,
    );
    let done = created_id(
        &put_incident(
            &app,
            "web",
            json!({
                "env_name": "production",
                "incident_status": "Resolved",
                "incident_start": "2026-03-03T11:00:00Z",
                "incident_end": "2026-03-03T12:00:00Z",
            }),
        )
        .await,
    );
    let before = snapshot(&app).await;
    let window = "app=web&from=2026-03-02&to=2026-03-09";
    let dora_before = dora(&app, window).await;
    assert_eq!(dora_before["recovery_time"]["count"], 0);

    let answer = put_incident(&app, "web", json!({"title": "no env"})).await;
    assert_error(&answer, 400, "MissingParam");
    assert!(answer.message().contains("env_name"), "{}", answer.text);
    let answer = put_incident(
        &app,
        "web",
        json!({"env_name": "new-a", "incident_status": "Resolved"}),
    )
    .await;
    assert_error(&answer, 400, "MissingParam");
    assert!(answer.message().contains("incident_end"), "{}", answer.text);
    for cause in [push, other_app, deploy + push + other_app + 100] {
        let answer = put_incident(
            &app,
            "web",
            json!({"env_name": "new-b", "caused_by_event_id": cause.to_string()}),
        )
        .await;
        assert_error(&answer, 400, "BadParam");
        assert!(
            answer.message().contains("caused_by_event_id"),
            "{cause}: {}",
            answer.text
        );
    }
    let answer = put_incident(
        &app,
        "web",
        json!({
            "env_name": "new-c",
            "incident_start": "2026-03-03T11:00:00Z",
            "incident_end": "2026-03-03T10:59:59Z",
        }),
    )
    .await;
    assert_error(&answer, 400, "BadParam");
    assert!(answer.message().contains("incident_end"), "{}", answer.text);
    let answer = put_incident(
        &app,
        "web",
        json!({"env_name": "new-d", "incident_status": "Closed"}),
    )
    .await;
    assert_error(&answer, 400, "BadParam");
    assert!(
        answer.message().contains("incident_status"),
        "{}",
        answer.text
    );
    let answer = put_incident(&app, "web", json!({"env_name": "api-prod"})).await;
    assert_error(&answer, 400, "BadParam");
    assert!(answer.message().contains("env_name"), "{}", answer.text);
    for env in ["new-a", "new-b", "new-c", "new-d"] {
        assert_error(
            &app.get(&format!("/jdoe/envs/{env}")).await,
            404,
            "NotFound",
        );
    }

    // Updates: an end before the start; any change to a Resolved incident.
    let answer = update(
        &app,
        "web",
        open,
        json!({"incident_status": "Resolved", "incident_end": "2026-03-03T10:00:00Z"}),
    )
    .await;
    assert_error(&answer, 400, "BadParam");
    let answer = update(&app, "web", open, json!({"incident_status": "Resolved"})).await;
    assert_error(&answer, 400, "MissingParam");
    for body in [
        json!({"incident_status": "Open"}),
        json!({"incident_end": "2026-03-03T13:00:00Z"}),
        json!({"incident_status": "Resolved", "incident_end": "2026-03-03T13:00:00Z"}),
    ] {
        let answer = update(&app, "web", done, body.clone()).await;
        assert_error(&answer, 409, "ImmutableEvent");
        assert!(
            answer.message().contains(&done.to_string()),
            "{body}: {}",
            answer.text
        );
    }
    assert_eq!(snapshot(&app).await, before);
    assert_eq!(dora(&app, window).await, dora_before);

    // An identical repeat, in another spelling, changes nothing and is 200.
    let stored = event(&app, "web", done).await;
    for body in [
        json!({"incident_status": "Resolved", "incident_end": "2026-03-03T12:00:00Z"}),
        json!({"incident_status": "RESOLVED", "incident_end": "2026-03-03T13:00:00+01:00"}),
        json!({}),
    ] {
        let answer = update(&app, "web", done, body.clone()).await;
        assert_ok(&answer);
        assert_eq!(answer.json["event"], stored, "{body}");
    }
    assert_eq!(snapshot(&app).await, before);
}

// ---------------------------------------------------------------------------
// Refused requests
// ---------------------------------------------------------------------------

/// GetDora refuses an unknown app (404), an env that is not the app's
/// (404 `Env <name> not found`), a window that ends before it starts, and
/// an unknown bucket, benchmark, time zone or date (400 naming the
/// parameter), and another account's metrics (403). A refused request
/// changes nothing.
#[tokio::test]
async fn get_dora_refuses_what_it_cannot_answer() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    app.create_app("api").await;
    deploy_at(&app, "web", "production", "Ok", "2026-03-03T10:00:00Z").await;
    deploy_at(&app, "api", "api-prod", "Ok", "2026-03-03T10:00:00Z").await;
    let bob = app.new_account("bob").await;
    let before = snapshot(&app).await;
    let window = "from=2026-03-02&to=2026-03-09";
    let dora_before = dora(&app, &format!("app=web&{window}")).await;
    assert_eq!(dora_before["deployment_frequency"]["count"], 1);

    let answer = app.get(&format!("/jdoe/dora?app=nosuch&{window}")).await;
    assert_error(&answer, 404, "NotFound");
    assert!(answer.message().contains("nosuch"), "{}", answer.text);
    for env in ["api-prod", "nosuch"] {
        let answer = app
            .get(&format!("/jdoe/dora?app=web&env={env}&{window}"))
            .await;
        assert_error(&answer, 404, "NotFound");
        assert_eq!(answer.message(), format!("Env {env} not found"));
    }

    for (query, param) in [
        ("from=2026-03-09&to=2026-03-02", "to"),
        ("from=2026-03-02&to=2026-03-02", "to"),
        ("from=2026-03-02T00:00:00Z&to=2026-03-02", "to"),
        ("from=2026-03-02T00:00:01Z&to=2026-03-02", "to"),
        ("to=2000-01-01&from=2000-01-02", "to"),
        ("bucket=year", "bucket"),
        ("bucket=", ""),
        ("benchmark=2022", "benchmark"),
        ("tz=Mars/Olympus", "tz"),
        ("tz=Los_Angeles", "tz"),
        ("from=March&to=2026-03-09", "from"),
        ("from=2026-03-02&to=2026-02-30", "to"),
        ("from=1990-01-01&to=2026-01-01&bucket=day", "bucket"),
    ] {
        let answer = app.get(&format!("/jdoe/dora?app=web&{query}")).await;
        if param.is_empty() {
            // An empty value is no value: the default bucket.
            assert_ok(&answer);
            continue;
        }
        assert_error(&answer, 400, "BadParam");
        assert!(
            answer.message().contains(&format!("parameter {param}")),
            "{query}: {}",
            answer.text
        );
    }

    let answer = app.get(&format!("/bob/dora?{window}")).await;
    assert_error(&answer, 403, "AccessDenied");
    let own = call_as(
        &app,
        &bob,
        Method::GET,
        &format!("/bob/dora?{window}"),
        None,
    )
    .await;
    assert_ok(&own);
    assert_eq!(own.json["dora"]["envs"], json!([]), "bob has no env");
    let answer = call_as(
        &app,
        &bob,
        Method::GET,
        &format!("/jdoe/dora?{window}"),
        None,
    )
    .await;
    assert_error(&answer, 403, "AccessDenied");

    assert_eq!(snapshot(&app).await, before);
    assert_eq!(dora(&app, &format!("app=web&{window}")).await, dora_before);
}
