//! The commands that read: `events` (a table or JSON lines, across pages),
//! `status` (what runs where) and `dora`, for events made known here.

use serde_json::{Value, json};

use super::{Job, events};
use crate::helpers::TestApp;

/// A table line as `events` prints it: fixed columns, two spaces apart.
fn event_line(event: &Value) -> String {
    let text = |key: &str| event[key].as_str().unwrap_or("-").to_owned();
    let status = ["build_status", "deployment_status", "incident_status"]
        .iter()
        .find_map(|key| event[*key].as_str())
        .unwrap_or("-");
    let commit: String = text("commit_id").chars().take(12).collect();
    let cells = [
        event["event_id"].to_string(),
        text("event_time"),
        text("event_type"),
        status.to_owned(),
        text("env_name"),
        text("release_version"),
        text("branch"),
    ];
    let widths = [8, 24, 11, 10, 12, 10, 24];
    let mut line: String = cells
        .iter()
        .zip(widths)
        .map(|(cell, width)| format!("{cell:<width$}  "))
        .collect();
    line.push_str(&commit);
    line
}

const HEADER: &str = "ID        TIME                      TYPE         STATUS      ENV           RELEASE     BRANCH                    COMMIT";

/// A known app: a push and a build on main, a release, a deploy to
/// production; a build on a branch.
async fn known(server: &TestApp) {
    server.create_app("web").await;
    let push = server
        .create_event(
            "web",
            "pushEvent",
            json!({"branch": "main", "commit_id": "05169ab2384e8cd991cfdf4e61f9642ccf600758"}),
        )
        .await;
    let build = server
        .create_event(
            "web",
            "buildEvent",
            json!({"parent_event_id": push, "build_status": "Success", "branch": "main",
                   "build_start": "2026-03-02T09:00:00Z", "build_end": "2026-03-02T09:10:00Z",
                   "release_version": "v1"}),
        )
        .await;
    let _ = build;
    server
        .create_event(
            "web",
            "deployEvent",
            json!({"env_name": "production", "release_version": "v1", "deployment_status": "Ok"}),
        )
        .await;
    server
        .create_event(
            "web",
            "buildEvent",
            json!({"branch": "feature/login", "build_status": "Running"}),
        )
        .await;
}

#[tokio::test]
async fn events_prints_a_table_newest_first_and_filters() {
    let server = TestApp::spawn().await;
    known(&server).await;
    let all = events(&server, "web").await;
    assert_eq!(all.len(), 5);
    let job = Job::new(&server, "web");

    let ran = job.run(&["events"]).await;
    assert_eq!(ran.code, Some(0), "{ran:?}");
    let mut expected = vec![HEADER.to_owned()];
    expected.extend(all.iter().rev().map(event_line));
    assert_eq!(ran.stdout, expected.join("\n") + "\n");

    let builds = job
        .run(&["events", "--type", "build", "--branch", "main"])
        .await;
    let lines: Vec<&str> = builds.stdout.lines().collect();
    assert_eq!(
        lines,
        [HEADER.to_owned(), event_line(&all[1])],
        "{builds:?}"
    );

    let deploys = job
        .run(&["events", "--env", "production", "--order", "asc"])
        .await;
    assert_eq!(
        deploys.stdout.lines().nth(1),
        Some(event_line(&all[3]).as_str())
    );
}

#[tokio::test]
async fn events_json_gives_each_event_as_the_api_does_across_pages() {
    let server = TestApp::spawn().await;
    server.create_app("web").await;
    // More than the 100 of one page.
    for n in 0..130 {
        server
            .create_event("web", "pushEvent", json!({"commit_id": format!("c{n}")}))
            .await;
    }
    let ran = Job::new(&server, "web")
        .run(&["events", "--json", "--order", "asc"])
        .await;
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    let lines: Vec<Value> = ran
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 130);
    assert_eq!(lines[129]["commit_id"], "c129");
    assert_eq!(lines[..100], events(&server, "web").await[..]);

    let limited = Job::new(&server, "web")
        .run(&["events", "--limit", "3"])
        .await;
    assert_eq!(limited.stdout.lines().count(), 4, "{limited:?}");
}

#[tokio::test]
async fn status_shows_what_runs_in_each_env() {
    let server = TestApp::spawn().await;
    known(&server).await;
    // A deploy of v2 to staging, still in progress; production runs v1.
    server
        .create_event("web", "releaseEvent", json!({"release_version": "v2"}))
        .await;
    let staging = server
        .create_event(
            "web",
            "deployEvent",
            json!({"env_name": "staging", "release_version": "v2", "deployment_status": "InProgress"}),
        )
        .await;
    let ran = Job::new(&server, "web").run(&["status"]).await;
    assert_eq!(ran.code, Some(0), "{ran:?}");
    let envs = server.get("/jdoe/apps/web/envs").await.json["envs"].clone();
    let production = &envs[0]["last_deployment"];
    let at = |deploy: &Value| {
        deploy["deployment_end"]
            .as_str()
            .or(deploy["event_time"].as_str())
            .unwrap()
            .to_owned()
    };
    let staging_deploy = &envs[1]["last_deployment"];
    assert_eq!(staging_deploy["event_id"], staging);
    let expected = format!(
        "ENV         RUNNING  LAST DEPLOY  STATUS      RELEASE  AT\n\
         production  v1       {:<11}  Ok          v1       {}\n\
         staging     -        {:<11}  InProgress  v2       {}\n",
        production["event_id"].to_string(),
        at(production),
        staging,
        at(staging_deploy)
    );
    assert_eq!(ran.stdout, expected);
}

#[tokio::test]
async fn dora_shows_the_metrics_the_api_computes() {
    let server = TestApp::spawn().await;
    server.create_app("web").await;
    for (day, status) in [("02", "Ok"), ("03", "Failed"), ("04", "Ok")] {
        let push = server
            .create_event(
                "web",
                "pushEvent",
                json!({"commit_id": format!("c{day}"), "commit_time": format!("2026-03-{day}T09:00:00Z")}),
            )
            .await;
        let build = server
            .create_event("web", "buildEvent", json!({"parent_event_id": push}))
            .await;
        let release = server
            .create_event("web", "releaseEvent", json!({"parent_event_id": build}))
            .await;
        server
            .create_event(
                "web",
                "deployEvent",
                json!({"parent_event_id": release, "env_name": "prod", "deployment_status": status,
                       "deployment_start": format!("2026-03-{day}T10:00:00Z"),
                       "deployment_end": format!("2026-03-{day}T11:00:00Z")}),
            )
            .await;
    }
    let job = Job::new(&server, "web");
    let window = ["--from", "2026-03-02", "--to", "2026-03-09"];
    let ran = job.run(&[&["dora"][..], &window].concat()).await;
    assert_eq!(ran.code, Some(0), "{ran:?}");
    let lines: Vec<&str> = ran.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "web (prod), 2026-03-02T00:00:00.000Z to 2026-03-09T00:00:00.000Z, by week in UTC, 2023 benchmarks"
    );
    let row = |metric: &str| {
        lines
            .iter()
            .find(|line| line.starts_with(metric))
            .unwrap_or_else(|| panic!("{metric} in {lines:?}"))
            .split("  ")
            .filter(|cell| !cell.is_empty())
            .map(str::trim)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        row("deployment frequency"),
        [
            "deployment frequency",
            "2 deployments, 0.29 a day, on 2 days",
            "high"
        ]
    );
    assert_eq!(
        row("change lead time")[1],
        "median 2h 0m, p90 2h 0m (2 changes)"
    );
    assert_eq!(row("change fail rate")[1], "33% (1 of 3)");
    assert_eq!(
        row("2026-03-02"),
        [
            "2026-03-02T00:00:00.000Z",
            "2",
            "2h 0m",
            "1 of 3",
            "1d 0h",
            "0 of 2"
        ]
    );

    let json = job.run(&[&["dora", "--json"][..], &window].concat()).await;
    let answer = server
        .get("/jdoe/dora?app=web&from=2026-03-02&to=2026-03-09")
        .await;
    let printed: Value = serde_json::from_str(json.stdout.trim()).unwrap();
    assert_eq!(printed, answer.json["dora"]);
}
