//! Model-based properties: listings under any filter and page size, and the
//! BUILD state machine under any sequence of updates, checked against small
//! models written from the contract.

use std::collections::BTreeSet;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::support::*;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 200,
        ..Config::default()
    })
}

/// One event of the model: its id, type (as in `filter_event_type`),
/// branch and env.
#[derive(Debug, Clone)]
struct ModelEvent {
    id: i64,
    kind: &'static str,
    branch: Option<&'static str>,
    env: Option<&'static str>,
}

const BRANCHES: &[&str] = &["main", "dev", "feature/x"];
const KINDS: &[(&str, &str)] = &[
    ("Push", "pushEvent"),
    ("Pullrequest", "pullRequestEvent"),
    ("Build", "buildEvent"),
    ("Release", "releaseEvent"),
    ("Deploy", "deployEvent"),
];

/// App `web` with 60 events of every type, branch and env chosen by a fixed
/// pseudo-random sequence; noise in app `api`; an env `quiet` without deploys.
async fn listing_fixture() -> (TestApp, Vec<ModelEvent>) {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    app.create_app("api").await;
    assert_ok(&app.put("/jdoe/apps/web/envs/quiet", json!({})).await);
    let mut seed: u64 = 0x5eed;
    let mut next = |n: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 33) as usize) % n
    };
    let mut model = Vec::new();
    for i in 0..60 {
        let (kind, call) = KINDS[next(KINDS.len())];
        let branch = match next(4) {
            3 => None,
            b => Some(BRANCHES[b]),
        };
        let env = (kind == "Deploy").then(|| ["e1", "e2"][next(2)]);
        let mut body = json!({});
        if let Some(b) = branch {
            body["branch"] = json!(b);
        }
        if let Some(e) = env {
            body["env_name"] = json!(e);
        }
        let id = app.create_event("web", call, body.clone()).await;
        model.push(ModelEvent {
            id,
            kind,
            branch,
            env,
        });
        if i % 7 == 0 {
            let noise = if kind == "Deploy" {
                json!({"branch": "main", "env_name": "api-env"})
            } else {
                json!({"branch": "main"})
            };
            app.create_event("api", call, noise).await;
        }
    }
    (app, model)
}

#[derive(Debug, Clone)]
struct Query {
    filter_name: Option<&'static str>,
    branch: Option<&'static str>,
    env: Option<&'static str>,
    kind: Option<&'static str>,
    order: Option<&'static str>,
    max_results: usize,
    letter_case: u8,
}

fn query() -> impl Strategy<Value = Query> {
    (
        prop::option::of(prop::sample::select(vec![
            "Branch",
            "Env",
            "EventType",
            "BranchAndEventType",
            "EnvAndBranch",
        ])),
        prop::option::of(prop::sample::select(vec![
            "main",
            "dev",
            "feature/x",
            "nope",
        ])),
        prop::option::of(prop::sample::select(vec!["e1", "e2", "quiet"])),
        prop::option::of(prop::sample::select(vec![
            "Push",
            "Pullrequest",
            "Build",
            "Release",
            "Deploy",
            "Dockerimage",
        ])),
        prop::option::of(prop::sample::select(vec!["asc", "desc"])),
        1usize..9,
        0u8..3,
    )
        .prop_map(
            |(filter_name, branch, env, kind, order, max_results, letter_case)| Query {
                filter_name,
                branch,
                env,
                kind,
                order,
                max_results,
                letter_case,
            },
        )
}

fn spell(value: &str, letter_case: u8) -> String {
    match letter_case {
        0 => value.to_owned(),
        1 => value.to_lowercase(),
        _ => value.to_uppercase(),
    }
}

/// What the contract says the query answers: Err(code) or the ids in order.
fn expected(model: &[ModelEvent], q: &Query) -> Result<Vec<i64>, &'static str> {
    let needs: &[&str] = match q.filter_name {
        None => &[],
        Some("Branch") => &["branch"],
        Some("Env") => &["env"],
        Some("EventType") => &["kind"],
        Some("BranchAndEventType") => &["branch", "kind"],
        Some(_) => &["env", "branch"],
    };
    for need in needs {
        let present = match *need {
            "branch" => q.branch.is_some(),
            "env" => q.env.is_some(),
            _ => q.kind.is_some(),
        };
        if !present {
            return Err("MissingParam");
        }
    }
    let uses = |part: &str| q.filter_name.is_none() || needs.contains(&part);
    let branch = q.branch.filter(|_| uses("branch"));
    let env = q.env.filter(|_| uses("env"));
    let kind = q.kind.filter(|_| uses("kind"));
    let mut ids: Vec<i64> = model
        .iter()
        .filter(|e| branch.is_none_or(|b| e.branch == Some(b)))
        .filter(|e| env.is_none_or(|v| e.env == Some(v)))
        .filter(|e| kind.is_none_or(|k| e.kind == k))
        .map(|e| e.id)
        .collect();
    if q.order != Some("asc") {
        ids.reverse();
    }
    Ok(ids)
}

fn query_string(q: &Query) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    s.append_pair("max_results", &q.max_results.to_string());
    if let Some(n) = q.filter_name {
        s.append_pair("filter_name", &spell(n, q.letter_case));
    }
    if let Some(b) = q.branch {
        s.append_pair("filter_branch", b);
    }
    if let Some(e) = q.env {
        s.append_pair("filter_env", e);
    }
    if let Some(k) = q.kind {
        s.append_pair("filter_event_type", &spell(k, q.letter_case));
    }
    if let Some(o) = q.order {
        s.append_pair("order", &spell(o, q.letter_case));
    }
    s.finish()
}

async fn check_listing(
    app: &TestApp,
    model: &[ModelEvent],
    q: &Query,
) -> Result<(), TestCaseError> {
    let base = format!("/jdoe/apps/web/events?{}", query_string(q));
    let want = expected(model, q);
    let mut got = Vec::new();
    let mut marker: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &marker {
            Some(m) => format!("{base}&marker={m}"),
            None => base.clone(),
        };
        let answer = app.get(&path).await;
        match &want {
            Err(code) => {
                prop_assert_eq!(answer.status.as_u16(), 400, "{}: {}", path, answer.text);
                prop_assert_eq!(answer.code(), *code, "{}", path);
                return Ok(());
            }
            Ok(_) => prop_assert_eq!(answer.status.as_u16(), 200, "{}: {}", path, answer.text),
        }
        let events = answer.json["events"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        prop_assert!(
            events.len() <= q.max_results,
            "{}: page of {}",
            path,
            events.len()
        );
        if pages > 0 {
            prop_assert!(
                !events.is_empty(),
                "{}: a marker led to an empty page",
                path
            );
        }
        got.extend(ids(&events));
        pages += 1;
        match &answer.json["marker"] {
            Value::String(m) => {
                prop_assert!(is_url_safe(m), "marker {:?}", m);
                prop_assert_eq!(
                    events.len(),
                    q.max_results,
                    "{}: a short page with a marker",
                    path
                );
                marker = Some(m.clone());
            }
            Value::Null => break,
            other => return Err(TestCaseError::fail(format!("marker {other}"))),
        }
        prop_assert!(pages < 100, "endless paging");
    }
    prop_assert_eq!(Ok(got), want, "{}", base);
    Ok(())
}

#[test]
fn listings_match_the_model_under_any_filter_order_and_page_size() {
    let rt = runtime();
    let (app, model) = rt.block_on(listing_fixture());
    runner(128)
        .run(&query(), |q| rt.block_on(check_listing(&app, &model, &q)))
        .unwrap_or_else(|e| panic!("{e}"));
}

// ----- The BUILD state machine -----

const START: &str = "2016-08-30T22:30:52Z";
/// Candidate `build_end` values, by index: before the start, then later ones.
const ENDS: &[&str] = &[
    "2016-08-30T22:00:00Z",
    "2016-08-30T22:31:11Z",
    "2016-08-30T23:00:00Z",
];
const STATUSES: &[&str] = &[
    "Waiting",
    "Queued",
    "Running",
    "Success",
    "Failed",
    "TimedOut",
    "Cancelled",
];

fn terminal(status: Option<usize>) -> bool {
    status.is_some_and(|s| s >= 3)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct BuildState {
    status: Option<usize>,
    end: Option<usize>,
    release: Option<usize>,
}

#[derive(Debug, Clone)]
struct Update {
    status: Option<usize>,
    end: Option<usize>,
    release: Option<usize>,
    lower: bool,
}

fn update() -> impl Strategy<Value = Update> {
    (
        prop::option::of(0..STATUSES.len()),
        prop::option::of(0..ENDS.len()),
        prop::option::of(0usize..3),
        any::<bool>(),
    )
        .prop_map(|(status, end, release, lower)| Update {
            status,
            end,
            release,
            lower,
        })
}

/// The contract's answer to `u` on a build in `state`: the acceptable
/// (status, code) pairs and the next state.
fn apply(state: BuildState, u: &Update) -> (Vec<(u16, &'static str)>, BuildState) {
    let next = BuildState {
        status: u.status.or(state.status),
        end: u.end.or(state.end),
        release: u.release.or(state.release),
    };
    if next == state {
        return (vec![(200, "")], state);
    }
    let mut refusals = Vec::new();
    if terminal(state.status) {
        refusals.push((409, "ImmutableEvent"));
    }
    if terminal(next.status) && next.end.is_none() {
        refusals.push((400, "MissingParam"));
    }
    if next.end == Some(0) {
        refusals.push((400, "BadParam"));
    }
    if refusals.is_empty() {
        (vec![(200, "")], next)
    } else {
        (refusals, state)
    }
}

async fn check_build_sequence(
    app: &TestApp,
    case: usize,
    updates: &[Update],
) -> Result<(), TestCaseError> {
    let name = format!("m{case}");
    app.create_app(&name).await;
    let id = app
        .create_event(
            &name,
            "buildEvent",
            json!({"build_start": START, "build_id": "b"}),
        )
        .await;
    let mut state = BuildState::default();
    let mut releases: BTreeSet<usize> = BTreeSet::new();
    for u in updates {
        let mut body = json!({});
        if let Some(s) = u.status {
            let text = if u.lower {
                STATUSES[s].to_lowercase()
            } else {
                STATUSES[s].to_owned()
            };
            body["build_status"] = json!(text);
        }
        if let Some(e) = u.end {
            body["build_end"] = json!(ENDS[e]);
        }
        if let Some(r) = u.release {
            body["release_version"] = json!(format!("v{r}"));
        }
        let (acceptable, next) = apply(state, u);
        let answer = app
            .post(&format!("/jdoe/apps/{name}/events/{id}"), body.clone())
            .await;
        let got = (
            answer.status.as_u16(),
            if answer.status == 200 {
                ""
            } else {
                answer.code()
            },
        );
        prop_assert!(
            acceptable.iter().any(|(s, c)| (*s, *c) == got),
            "{} on {:?}: expected one of {:?}, got {}",
            body,
            state,
            acceptable,
            answer.text
        );
        if got.0 == 200 {
            state = next;
            if let Some(r) = state.release {
                releases.insert(r);
            }
        }
        let stored = event(app, &name, id).await;
        prop_assert_eq!(
            &stored["build_status"],
            &json!(state.status.map(|s| STATUSES[s]))
        );
        prop_assert_eq!(
            &stored["build_end"],
            &json!(state.end.map(|e| ENDS[e].replace('Z', ".000Z")))
        );
        prop_assert_eq!(
            &stored["release_version"],
            &json!(state.release.map(|r| format!("v{r}")))
        );
        if got.0 == 200 {
            prop_assert_eq!(&answer.json["event"], &stored);
        }
        let recorded: BTreeSet<String> = events_of_type(app, &name, "RELEASE")
            .await
            .iter()
            .map(|r| r["release_version"].as_str().unwrap().to_owned())
            .collect();
        let want: BTreeSet<String> = releases.iter().map(|r| format!("v{r}")).collect();
        prop_assert_eq!(
            recorded,
            want,
            "one RELEASE per version the build was given"
        );
    }
    Ok(())
}

#[test]
fn builds_follow_the_contracts_state_machine_under_any_sequence_of_updates() {
    let rt = runtime();
    let app = rt.block_on(TestApp::spawn());
    let case = std::sync::atomic::AtomicUsize::new(0);
    runner(64)
        .run(&prop::collection::vec(update(), 1..8), |updates| {
            let n = case.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            rt.block_on(check_build_sequence(&app, n, &updates))
        })
        .unwrap_or_else(|e| panic!("{e}"));
}
