//! `shiplog backup`: a consistent copy of a SQLite store taken by the real
//! binary while the server takes writes.

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::json;
use tokio::sync::Mutex;

use super::helpers::{TestApp, TestStore};
use super::instances::{BINARY, Instance};

const WRITERS: usize = 4;

#[tokio::test]
async fn a_backup_under_concurrent_writes_holds_every_event_acknowledged_before_it() {
    let app = Arc::new(TestApp::spawn().await);
    let TestStore::Sqlite(dir) = &app.store else {
        eprintln!("skipped: `shiplog backup` copies SQLite stores");
        return;
    };
    let source = format!("sqlite://{}", dir.path().join("shiplog.db").display());
    app.create_app("web").await;

    let acknowledged = Arc::new(Mutex::new(Vec::<i64>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let (app, acknowledged, stop) = (app.clone(), acknowledged.clone(), stop.clone());
            tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let body =
                        json!({"branch": format!("w{writer}"), "commit_id": format!("c{n}")});
                    let id = app.create_event("web", "pushEvent", body).await;
                    acknowledged.lock().await.push(id);
                    n += 1;
                }
            })
        })
        .collect();
    while acknowledged.lock().await.len() < 200 {
        tokio::task::yield_now().await;
    }

    // Every event answered 200 by now must be in the copy.
    let before: BTreeSet<i64> = acknowledged.lock().await.iter().copied().collect();
    let copy = dir.path().join("copy.db");
    let output = {
        let (source, copy) = (source.clone(), copy.clone());
        tokio::task::spawn_blocking(move || {
            Command::new(BINARY)
                .args(["backup", "--database", &source])
                .arg(&copy)
                .output()
                .expect("run shiplog backup")
        })
        .await
        .unwrap()
    };
    let during = acknowledged.lock().await.len();
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.await.unwrap();
    }
    assert!(
        output.status.success(),
        "backup failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("copy.db"));

    let conn = rusqlite::Connection::open(&copy).unwrap();
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    drop(conn);

    // A server on the copy answers with the old token and lists them all.
    let copy_url = format!("sqlite://{}", copy.display());
    let server = Instance::start(&copy_url, &[], false).await;
    let listed = list_event_ids(&server.base, &app.token).await;
    let missing: Vec<_> = before.difference(&listed).collect();
    assert!(
        missing.is_empty(),
        "acknowledged but not in the copy: {missing:?}"
    );
    // Nothing the copy holds was invented: each of its events was answered.
    let all: BTreeSet<i64> = acknowledged.lock().await.iter().copied().collect();
    assert!(
        listed.is_subset(&all),
        "the copy holds events never answered"
    );
    assert!(during >= before.len());

    // A second backup to the same file is refused, and the copy untouched.
    let again = Command::new(BINARY)
        .args(["backup", "--database", &source])
        .arg(&copy)
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
}

#[test]
fn a_postgresql_url_is_refused_with_the_tool_to_use() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(BINARY)
        .args(["backup", "--database", "postgres://nobody@127.0.0.1:1/none"])
        .arg(dir.path().join("copy.db"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("pg_dump"), "{stderr}");
    assert!(!dir.path().join("copy.db").exists());
}

/// The ids of every event of `jdoe`'s app `web`, following the markers.
pub async fn list_event_ids(base: &str, token: &str) -> BTreeSet<i64> {
    let client = reqwest::Client::new();
    let mut ids = BTreeSet::new();
    let mut marker: Option<String> = None;
    loop {
        let mut url = format!("{base}/jdoe/apps/web/events?max_results=100&apiToken={token}");
        if let Some(marker) = &marker {
            url.push_str(&format!("&marker={marker}"));
        }
        let page: serde_json::Value = client.get(url).send().await.unwrap().json().await.unwrap();
        for event in page["events"].as_array().expect("events") {
            ids.insert(event["event_id"].as_i64().expect("a numeric event_id"));
        }
        match page["marker"].as_str() {
            Some(next) => marker = Some(next.to_owned()),
            None => return ids,
        }
    }
}
