//! `shiplog migrate`: a SQLite store with every kind of data, copied by the
//! real binary into a fresh PostgreSQL database, answers the same there.

use std::process::Command;

use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::Sha256;
use shiplog_server::startup::{RunningServer, ServerSettings};
use shiplog_store_postgres::testing::{TempDatabase, postgres_server_url};

use super::instances::BINARY;

/// Both servers name themselves alike, so that `api_url` and `html_url`
/// agree.
const PUBLIC_URL: &str = "https://shiplog.example.com";
const SHA: &str = "6113728f27ae82c7b1a177c8d03f9e96e0adf246";

/// A server on `database` with the public URL above, and a token of jdoe.
struct Api {
    server: RunningServer,
    base: String,
    token: String,
    client: reqwest::Client,
}

impl Api {
    async fn start(database: &str, token: Option<&str>) -> Api {
        let settings = ServerSettings {
            public_url: Some(PUBLIC_URL.into()),
            ..ServerSettings::for_tests(database)
        };
        let server = RunningServer::start(settings).await.expect("server starts");
        let token = match token {
            Some(token) => token.to_owned(),
            None => server.add_user_or_token("jdoe").await.unwrap(),
        };
        Api {
            base: format!("http://{}", server.addr),
            server,
            token,
            client: reqwest::Client::new(),
        }
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        headers: &[(&str, &str)],
    ) -> (u16, String) {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut request = self.client.request(
            method,
            format!("{}{path}{sep}apiToken={}", self.base, self.token),
        );
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    async fn get(&self, path: &str) -> (u16, String) {
        self.send(Method::GET, path, None, &[]).await
    }

    /// Sends JSON and answers the body of a 200.
    async fn write(
        &self,
        method: Method,
        path: &str,
        body: Value,
        headers: &[(&str, &str)],
    ) -> Value {
        let (status, text) = self
            .send(
                method,
                path,
                Some(serde_json::to_vec(&body).unwrap()),
                headers,
            )
            .await;
        assert_eq!(status, 200, "{path}: {text}");
        serde_json::from_str(&text).unwrap()
    }

    async fn event(&self, kind: &str, body: Value) -> i64 {
        let path = format!("/jdoe/apps/web/events/{kind}");
        let answer = self.write(Method::PUT, &path, body, &[]).await;
        answer["event_id"].as_str().unwrap().parse().unwrap()
    }
}

fn github_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

/// Records every kind of data on jdoe's store; answers the ids of the
/// events and a marker of a first page.
async fn record_everything(api: &Api) -> (Vec<i64>, String) {
    api.write(
        Method::PUT,
        "/jdoe/apps/web",
        json!({"description": "the shop", "retention_days": 400}),
        &[],
    )
    .await;
    api.write(
        Method::PUT,
        "/jdoe/apps/web/envs/production",
        json!({"tags": ["production"], "vars": [{"name": "REGION", "value": "eu"}]}),
        &[],
    )
    .await;
    api.write(Method::PUT, "/jdoe/apps/web/envs/staging", json!({}), &[])
        .await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let commit = format!("{n:040}");
        let push = api.event("pushEvent", json!({"commit_id": commit, "branch": "main", "commit_time": "2026-03-02T09:00:00Z"})).await;
        let build = api.event("buildEvent", json!({"parent_event_id": push.to_string(), "build_status": "Running", "build_start": "2026-03-02T09:01:00Z", "build_id": format!("b{n}")})).await;
        let updated = format!("/jdoe/apps/web/events/{build}");
        api.write(
            Method::POST,
            &updated,
            json!({"build_status": "Success", "build_end": "2026-03-02T09:05:00Z"}),
            &[],
        )
        .await;
        let release = api
            .event(
                "releaseEvent",
                json!({"parent_event_id": build.to_string()}),
            )
            .await;
        for (env, day) in [("staging", 3), ("production", 4 + n)] {
            let deploy = api.event("deployEvent", json!({"parent_event_id": release.to_string(), "env_name": env, "deployment_status": "InProgress", "deployment_start": format!("2026-03-0{day}T10:00:00Z")})).await;
            let status = if n == 1 && env == "production" {
                "Failed"
            } else {
                "Ok"
            };
            api.write(Method::POST, &format!("/jdoe/apps/web/events/{deploy}"), json!({"deployment_status": status, "deployment_end": format!("2026-03-0{day}T10:10:00Z")}), &[]).await;
            ids.push(deploy);
            if status == "Failed" {
                let incident = api.event("incidentEvent", json!({"env_name": env, "caused_by_event_id": deploy.to_string(), "incident_start": format!("2026-03-0{day}T10:15:00Z"), "title": "cart down"})).await;
                api.write(Method::POST, &format!("/jdoe/apps/web/events/{incident}"), json!({"incident_status": "Resolved", "incident_end": format!("2026-03-0{day}T11:00:00Z")}), &[]).await;
                ids.push(incident);
            }
        }
        ids.extend([push, build, release]);
    }
    // A write with an idempotency key, and a pull request.
    let keyed = api
        .write(
            Method::PUT,
            "/jdoe/apps/web/events/pullRequestEvent",
            json!({"commit_id": SHA, "branch": "feature"}),
            &[("Idempotency-Key", "ci-7")],
        )
        .await;
    ids.push(keyed["event_id"].as_str().unwrap().parse().unwrap());
    // A hook and a delivery it recorded.
    let hook = api
        .write(
            Method::PUT,
            "/jdoe/hooks/github",
            json!({"app": "web"}),
            &[],
        )
        .await;
    let secret = hook["hook"]["secret"].as_str().unwrap().to_owned();
    let push = serde_json::to_vec(&json!({
        "ref": "refs/heads/main", "after": SHA, "deleted": false,
        "head_commit": {"id": SHA, "message": "Fix the cart", "timestamp": "2026-03-02T09:00:00Z",
            "url": "https://github.com/acme/shop/commit/x", "author": {"name": "Mona", "username": "mona"}},
        "repository": {"name": "shop", "owner": {"login": "acme"}, "html_url": "https://github.com/acme/shop"}
    })).unwrap();
    let signature = github_signature(&secret, &push);
    let (status, text) = api
        .send(
            Method::POST,
            "/jdoe/hooks/github",
            Some(push),
            &[
                ("X-GitHub-Event", "push"),
                ("X-GitHub-Delivery", "d-1"),
                ("X-Hub-Signature-256", &signature),
            ],
        )
        .await;
    assert_eq!(status, 200, "{text}");
    let (status, page) = api.get("/jdoe/apps/web/events?max_results=3").await;
    assert_eq!(status, 200);
    let page: Value = serde_json::from_str(&page).unwrap();
    (ids, page["marker"].as_str().expect("a marker").to_owned())
}

/// Every answer compared: lists, each event, its history and lineage, DORA.
fn paths(ids: &[i64], marker: &str) -> Vec<String> {
    let mut paths = vec![
        "/jdoe/apps".to_owned(),
        "/jdoe/apps/web".to_owned(),
        "/jdoe/envs".to_owned(),
        "/jdoe/envs/production".to_owned(),
        "/jdoe/apps/web/events?max_results=100".to_owned(),
        format!("/jdoe/apps/web/events?max_results=3&marker={marker}"),
        "/jdoe/changes?max_results=100".to_owned(),
        format!("/jdoe/apps/web/commits/{SHA}"),
        "/jdoe/hooks".to_owned(),
        "/jdoe/dora?app=web&from=2026-03-01&to=2026-03-15&bucket=day".to_owned(),
        "/jdoe/dora?from=2026-02-01&to=2026-04-01".to_owned(),
    ];
    for id in ids {
        paths.push(format!("/jdoe/apps/web/events/{id}"));
        paths.push(format!("/jdoe/apps/web/events/{id}/history"));
        paths.push(format!("/jdoe/apps/web/events/{id}/lineage"));
    }
    paths
}

fn migrate(from: &str, to: &str) -> std::process::Output {
    Command::new(BINARY)
        .args(["migrate", "--from", from, "--to", to])
        .env_remove("SHIPLOG_DATABASE_URL")
        .output()
        .expect("run shiplog migrate")
}

#[tokio::test]
async fn a_migrated_store_answers_as_the_sqlite_one_did_and_keeps_tokens_markers_and_ids() {
    let Some(server) = postgres_server_url() else {
        eprintln!("skipped: SHIPLOG_TEST_POSTGRES_URL is not set");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}", dir.path().join("shiplog.db").display());
    let source = Api::start(&sqlite, None).await;
    let (ids, marker) = record_everything(&source).await;
    let token = source.token.clone();
    source.server.stop().await;

    let target = TempDatabase::create(&server).await.unwrap();
    let output = migrate(&sqlite, &target.url);
    assert!(
        output.status.success(),
        "migrate failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(report.contains("events"), "{report}");

    let sqlite_api = Api::start(&sqlite, Some(&token)).await;
    let pg_api = Api::start(&target.url, Some(&token)).await;
    for path in paths(&ids, &marker) {
        let (before, after) = (sqlite_api.get(&path).await, pg_api.get(&path).await);
        assert_eq!(before.0, 200, "{path}: {}", before.1);
        assert_eq!(before, after, "{path} answers differently after the move");
    }
    let dora: Value = serde_json::from_str(
        &pg_api
            .get("/jdoe/dora?app=web&from=2026-03-01&to=2026-03-15")
            .await
            .1,
    )
    .unwrap();
    assert_eq!(dora["dora"]["deployment_frequency"]["count"], 2, "{dora}");
    assert_eq!(dora["dora"]["change_fail_rate"]["failed"], 1, "{dora}");

    // A new event gets an id above every old one.
    let newest = *ids.iter().max().unwrap();
    let new = pg_api.event("pushEvent", json!({"branch": "main"})).await;
    assert!(new > newest, "new id {new} after {newest}");
    sqlite_api.server.stop().await;
    pg_api.server.stop().await;

    // Into a target that holds rows, nothing is written.
    let again = migrate(&sqlite, &target.url);
    assert!(!again.status.success());
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("not empty"), "{stderr}");
    let pg_api = Api::start(&target.url, Some(&token)).await;
    let (_, list) = pg_api.get("/jdoe/apps/web/events?max_results=100").await;
    let list: Value = serde_json::from_str(&list).unwrap();
    assert_eq!(
        list["events"].as_array().unwrap().len(),
        ids.len() + 2,
        "one more than before, the hook's push included"
    );
    pg_api.server.stop().await;
}

#[test]
fn a_source_that_is_not_a_shiplog_store_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE notes (body TEXT)")
        .unwrap();
    drop(conn);
    let output = migrate(
        &format!("sqlite://{}", path.display()),
        "postgres://nobody@127.0.0.1:1/none",
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not a shiplog database"), "{stderr}");
    let conn = rusqlite::Connection::open(&path).unwrap();
    let tables: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tables, 1, "no shiplog table was made in it");

    let wrong = migrate(
        &format!("sqlite://{}", path.display()),
        "sqlite://elsewhere.db",
    );
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("--to names a PostgreSQL database"));
}
