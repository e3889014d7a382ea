//! Retention: pruning keeps what runs, its lineage and the latest of each
//! kind, removes the rest with its history, and loses no new event.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};
use shiplog_domain::Timestamp;
use shiplog_server::pruning::prune_now;
use tokio::sync::Mutex;

use crate::helpers::TestApp;
use crate::support::*;

fn far_future() -> Option<Timestamp> {
    Timestamp::parse("2100-01-01T00:00:00Z")
}

async fn event_ids(app: &TestApp) -> BTreeSet<i64> {
    let mut ids = BTreeSet::new();
    let mut marker: Option<String> = None;
    loop {
        let path = match &marker {
            Some(m) => format!("/jdoe/apps/web/events?max_results=100&marker={m}"),
            None => "/jdoe/apps/web/events?max_results=100".to_owned(),
        };
        let page = app.get(&path).await;
        assert_ok(&page);
        for event in page.json["events"].as_array().unwrap() {
            ids.insert(event["event_id"].as_i64().unwrap());
        }
        match page.json["marker"].as_str() {
            Some(m) => marker = Some(m.to_owned()),
            None => return ids,
        }
    }
}

fn parent(id: i64) -> Value {
    json!(id.to_string())
}

#[tokio::test]
async fn pruning_keeps_exactly_what_runs_the_latest_and_their_chains() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    let deploy = |release: i64, env: &str, status: &str| json!({"parent_event_id": parent(release), "env_name": env, "deployment_status": status});
    let build0 = app
        .create_event(
            "web",
            "buildEvent",
            json!({"build_status": "Success", "build_end": "2020-01-01T00:10:00Z"}),
        )
        .await;
    let push1 = app
        .create_event("web", "pushEvent", json!({"commit_id": "a1"}))
        .await;
    let build1 = app
        .create_event(
            "web",
            "buildEvent",
            json!({"parent_event_id": parent(push1), "build_status": "Running"}),
        )
        .await;
    let updated = app
        .post(
            &format!("/jdoe/apps/web/events/{build1}"),
            json!({"build_status": "Success", "build_end": "2020-01-01T00:10:00Z"}),
        )
        .await;
    assert_ok(&updated);
    let release1 = app
        .create_event(
            "web",
            "releaseEvent",
            json!({"parent_event_id": parent(build1)}),
        )
        .await;
    let deploy1 = app
        .create_event("web", "deployEvent", deploy(release1, "production", "Ok"))
        .await;
    let push2 = app
        .create_event("web", "pushEvent", json!({"commit_id": "b2"}))
        .await;
    let build2 = app
        .create_event(
            "web",
            "buildEvent",
            json!({"parent_event_id": parent(push2), "build_status": "Success", "build_end": "2020-01-01T00:10:00Z"}),
        )
        .await;
    let release2 = app
        .create_event(
            "web",
            "releaseEvent",
            json!({"parent_event_id": parent(build2)}),
        )
        .await;
    let deploy2 = app
        .create_event("web", "deployEvent", deploy(release2, "staging", "Ok"))
        .await;
    let deploy3 = app
        .create_event(
            "web",
            "deployEvent",
            deploy(release2, "production", "Failed"),
        )
        .await;
    let incident = app
        .create_event(
            "web",
            "incidentEvent",
            json!({"env_name": "production", "caused_by_event_id": parent(deploy3)}),
        )
        .await;
    let stray = app
        .create_event("web", "pushEvent", json!({"commit_id": "c3"}))
        .await;
    let push3 = app
        .create_event("web", "pushEvent", json!({"commit_id": "d4"}))
        .await;
    let build3 = app
        .create_event(
            "web",
            "buildEvent",
            json!({"parent_event_id": parent(push3), "build_status": "Running"}),
        )
        .await;

    let kept: BTreeSet<i64> = [
        push1, build1, release1, deploy1, push2, build2, release2, deploy2, deploy3, push3, build3,
    ]
    .into();
    let removed: BTreeSet<i64> = [build0, incident, stray].into();
    let app_before = app.get("/jdoe/apps/web").await;
    let env_before = app.get("/jdoe/envs/production").await;

    // A dry run says what goes and removes nothing.
    let dry = prune_now(&*app.server.store, far_future(), None, true)
        .await
        .unwrap();
    assert_eq!(dry.removed, removed.len() as u64);
    assert_eq!(event_ids(&app).await, &kept | &removed);

    let done = prune_now(&*app.server.store, far_future(), None, false)
        .await
        .unwrap();
    assert_eq!(done.removed, removed.len() as u64);
    assert_eq!(event_ids(&app).await, kept);

    // What the API shows of the app and its envs did not change.
    assert_eq!(app.get("/jdoe/apps/web").await.json, app_before.json);
    assert_eq!(app.get("/jdoe/envs/production").await.json, env_before.json);
    assert_eq!(
        env_before.json["env"]["active_release_version"], "v1",
        "{}",
        env_before.text
    );
    // The lineage of what runs is whole, and no link points nowhere.
    let lineage = app
        .get(&format!("/jdoe/apps/web/events/{deploy1}/lineage"))
        .await;
    assert_ok(&lineage);
    let ancestors: Vec<i64> = lineage.json["ancestors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            e["event_id"]
                .as_str()
                .map_or_else(|| e["event_id"].as_i64().unwrap(), |s| s.parse().unwrap())
        })
        .collect();
    assert_eq!(ancestors, [release1, build1, push1], "{}", lineage.text);
    for id in &kept {
        let event = app.get(&format!("/jdoe/apps/web/events/{id}")).await;
        assert_ok(&event);
        for link in ["parent_event_id", "caused_by_event_id"] {
            if let Some(target) = event.json["event"][link].as_str() {
                assert!(
                    kept.contains(&target.parse().unwrap()),
                    "{id} {link} {target} dangles"
                );
            }
        }
    }
    // History goes with its event and stays with the kept.
    let history = app
        .get(&format!("/jdoe/apps/web/events/{build1}/history"))
        .await;
    assert_ok(&history);
    assert_eq!(
        history.json["changes"].as_array().unwrap().len(),
        2,
        "{}",
        history.text
    );
    for id in &removed {
        let gone = app.get(&format!("/jdoe/apps/web/events/{id}")).await;
        assert_error(&gone, 404, "NotFound");
        let gone = app
            .get(&format!("/jdoe/apps/web/events/{id}/history"))
            .await;
        assert_error(&gone, 404, "NotFound");
    }
    // DORA says a window that starts before the cut is truncated, and
    // says nothing of one after it; again, nothing more goes.
    let before_cut = app
        .get("/jdoe/dora?app=web&from=2019-01-01&to=2021-01-01")
        .await;
    assert_ok(&before_cut);
    assert_eq!(
        before_cut.json["dora"]["truncated"], true,
        "{}",
        before_cut.text
    );
    let after_cut = app
        .get("/jdoe/dora?app=web&from=2100-01-01&to=2100-02-01")
        .await;
    assert_ok(&after_cut);
    assert!(
        after_cut.json["dora"].get("truncated").is_none(),
        "{}",
        after_cut.text
    );
    let again = prune_now(&*app.server.store, far_future(), None, false)
        .await
        .unwrap();
    assert_eq!(again.removed, 0);
}

#[tokio::test]
async fn pruning_while_writers_run_loses_no_new_event() {
    let app = Arc::new(TestApp::spawn().await);
    app.create_app("web").await;
    for n in 0..300 {
        app.create_event("web", "pushEvent", json!({"commit_id": format!("old{n}")}))
            .await;
    }
    // The 300 were recorded before the cutoff's millisecond, every later
    // event at or after it.
    let cutoff = Timestamp::from_millis(Timestamp::now().millis() + 1);
    while Timestamp::now().millis() < cutoff.millis() {
        tokio::task::yield_now().await;
    }
    let acknowledged = Arc::new(Mutex::new(Vec::<i64>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (app, acknowledged, stop) = (app.clone(), acknowledged.clone(), stop.clone());
            tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let id = app
                        .create_event("web", "pushEvent", json!({"branch": format!("w{w}-{n}")}))
                        .await;
                    acknowledged.lock().await.push(id);
                    n += 1;
                }
            })
        })
        .collect();
    let done = prune_now(&*app.server.store, Some(cutoff), None, false)
        .await
        .unwrap();
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.await.unwrap();
    }
    assert_eq!(done.removed, 300);
    let remaining = event_ids(&app).await;
    let new: BTreeSet<i64> = acknowledged.lock().await.iter().copied().collect();
    assert_eq!(remaining, new, "exactly the new events remain");
}

#[tokio::test]
async fn sighup_leaves_the_server_serving() {
    use crate::instances::Instance;
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let server = Instance::start(&database, &[], true).await;
    let token = server.printed_token();
    let pid = server.pid().to_string();
    let hup = std::process::Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .unwrap();
    assert!(hup.success());
    let put = reqwest::Method::PUT;
    assert_eq!(server.status(put, "/admin/apps/demo", &token).await, 200);
    assert_eq!(server.terminate(), Some(0));
}

#[tokio::test]
async fn an_app_keeps_its_own_retention_set_on_create_and_by_update() {
    let app = TestApp::spawn().await;
    let created = app
        .put("/jdoe/apps/web", json!({"retention_days": 30}))
        .await;
    assert_ok(&created);
    assert_eq!(created.json["app"]["retention_days"], 30);
    app.create_app("api").await;
    let plain = app.get("/jdoe/apps/api").await;
    assert!(
        plain.json["app"].get("retention_days").is_none(),
        "{}",
        plain.text
    );
    for bad in [json!(0), json!(-3), json!(2.5), json!("30"), json!(36_501)] {
        let refused = app
            .post("/jdoe/apps/api", json!({"retention_days": bad}))
            .await;
        assert_error(&refused, 400, "BadParam");
    }
    assert!(
        app.get("/jdoe/apps/api").await.json["app"]
            .get("retention_days")
            .is_none()
    );
    let missing = app
        .post("/jdoe/apps/nope", json!({"retention_days": 5}))
        .await;
    assert_error(&missing, 404, "NotFound");

    // Only an app with a retention of its own is pruned without a default.
    let mut web = Vec::new();
    for n in 0..3 {
        web.push(
            app.create_event("web", "pushEvent", json!({"commit_id": format!("w{n}")}))
                .await,
        );
    }
    let api: BTreeSet<i64> = [
        app.create_event("api", "pushEvent", json!({})).await,
        app.create_event("api", "pushEvent", json!({})).await,
    ]
    .into();
    let later = Timestamp::from_millis(Timestamp::now().millis() + 31 * 86_400_000);
    let policy = shiplog_store::retention::Policy {
        before: None,
        default_days: None,
        now: later,
    };
    let summary = shiplog_store::retention::run(&*app.server.store, policy, false, |_| {})
        .await
        .unwrap();
    assert_eq!(summary.removed, 3);
    assert!(event_ids(&app).await.is_empty());
    let api_left = {
        let page = app.get("/jdoe/apps/api/events").await;
        page.json["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event_id"].as_i64().unwrap())
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(api_left, api);

    // An update sets and clears the retention, and leaves the rest.
    let described = app
        .post(
            "/jdoe/apps/api",
            json!({"description": "the API", "retention_days": 7}),
        )
        .await;
    assert_ok(&described);
    assert_eq!(described.json["app"]["retention_days"], 7);
    let cleared = app
        .post("/jdoe/apps/api", json!({"retention_days": null}))
        .await;
    assert_ok(&cleared);
    assert!(
        cleared.json["app"].get("retention_days").is_none(),
        "{}",
        cleared.text
    );
    assert_eq!(cleared.json["app"]["description"], "the API");
    let listed = app.get("/jdoe/apps").await;
    assert_eq!(
        listed.json["apps"][1]["retention_days"], 30,
        "{}",
        listed.text
    );
}

#[tokio::test]
async fn on_postgresql_a_second_instance_does_not_prune_while_one_does() {
    let app = TestApp::spawn().await;
    let crate::helpers::TestStore::Postgres(database) = &app.store else {
        eprintln!("skipped: the lease between instances is PostgreSQL's");
        return;
    };
    app.create_app("web").await;
    app.create_event("web", "pushEvent", json!({})).await;
    app.create_event("web", "pushEvent", json!({})).await;
    let other = shiplog_store_postgres::PostgresStore::open(&database.url)
        .await
        .unwrap();
    let lease = app.server.store.prune_lease().await.unwrap();
    assert!(lease.is_some());
    let refused = prune_now(&other, far_future(), None, false).await.unwrap();
    assert!(refused.busy);
    assert_eq!(refused.removed, 0);
    assert_eq!(event_ids(&app).await.len(), 2);
}
