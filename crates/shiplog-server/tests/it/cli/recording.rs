//! The commands that record: `run` and `deploy run` around a command,
//! signals, and every creating command printing the new id alone.

use serde_json::json;

use super::{Job, appears, event, events, finished};
use crate::helpers::TestApp;

#[tokio::test]
async fn run_records_a_running_build_that_ends_in_success_and_passes_output_through() {
    let server = TestApp::spawn().await;
    let job = Job::new(&server, "web");
    let ran = job
        .run(&[
            "run",
            "--",
            "sh",
            "-c",
            "echo to-stdout; echo to-stderr >&2",
        ])
        .await;
    assert_eq!(ran.code, Some(0), "{ran:?}");
    let id = ran.id();
    assert_eq!(ran.stdout, format!("{id}\nto-stdout\n"));
    assert!(ran.stderr.contains("to-stderr\n"), "{}", ran.stderr);
    let build = event(&server, "web", id).await;
    assert_eq!(build["event_type"], "BUILD");
    assert_eq!(build["build_status"], "Success");
    assert!(build["build_start"].is_string() && build["build_end"].is_string());
    // Running first, then the end: the build's history has both.
    let history = server
        .get(&format!("/jdoe/apps/web/events/{id}/history"))
        .await;
    let changes = history.json["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2, "{}", history.text);
    assert_eq!(changes[0]["event"]["build_status"], "Running");
    assert_eq!(
        changes[1]["fields"]["build_status"],
        json!(["Running", "Success"])
    );
}

#[tokio::test]
async fn a_command_that_fails_with_3_fails_the_build_and_shiplog_exits_3() {
    let server = TestApp::spawn().await;
    let ran = Job::new(&server, "web")
        .run(&["run", "--", "sh", "-c", "exit 3"])
        .await;
    assert_eq!(ran.code, Some(3), "{ran:?}");
    let build = event(&server, "web", ran.id()).await;
    assert_eq!(build["build_status"], "Failed");
}

#[tokio::test]
async fn a_command_that_cannot_be_started_fails_the_build_with_127() {
    let server = TestApp::spawn().await;
    let ran = Job::new(&server, "web")
        .run(&["run", "--", "no-such-command-anywhere"])
        .await;
    assert_eq!(ran.code, Some(127), "{ran:?}");
    assert_eq!(
        event(&server, "web", ran.id()).await["build_status"],
        "Failed"
    );
}

#[tokio::test]
async fn sigterm_reaches_the_command_cancels_the_build_and_exits_143() {
    let server = TestApp::spawn().await;
    let job = Job::new(&server, "web");
    let ready = job.dir().join("ready");
    let got = job.dir().join("got-term");
    let script = format!(
        "trap 'echo TERM > {got}; exit 0' TERM; touch {ready}; while :; do sleep 0.05; done",
        got = got.display(),
        ready = ready.display()
    );
    let child = job.spawn(&["run", "--", "sh", "-c", &script]);
    appears(&ready).await;
    // SAFETY: kill(2) on the process this test started.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let ran = finished(child).await;
    assert_eq!(ran.code, Some(128 + 15), "{ran:?}");
    assert_eq!(std::fs::read_to_string(&got).unwrap(), "TERM\n");
    assert_eq!(
        event(&server, "web", ran.id()).await["build_status"],
        "Cancelled"
    );
}

#[tokio::test]
async fn run_with_release_records_the_release_of_a_successful_build() {
    let server = TestApp::spawn().await;
    let job = Job::new(&server, "web");
    let ran = job.run(&["run", "--release", "v1.4.2", "--", "true"]).await;
    assert_eq!(ran.code, Some(0), "{ran:?}");
    let build = event(&server, "web", ran.id()).await;
    assert_eq!(build["release_version"], "v1.4.2");
    let all = events(&server, "web").await;
    let release = all
        .iter()
        .find(|e| e["event_type"] == "RELEASE")
        .expect("a RELEASE");
    assert_eq!(release["release_version"], "v1.4.2");
    assert_eq!(release["parent_event_id"], ran.id().to_string());

    // A failed build releases nothing.
    let failed = job
        .run(&["run", "--release", "v1.4.3", "--", "false"])
        .await;
    assert_eq!(failed.code, Some(1));
    let releases = events(&server, "web")
        .await
        .into_iter()
        .filter(|e| e["event_type"] == "RELEASE")
        .count();
    assert_eq!(releases, 1);
}

#[tokio::test]
async fn deploy_run_records_a_deploy_ok_or_failed_with_the_commands_status() {
    let server = TestApp::spawn().await;
    let job = Job::new(&server, "web");
    assert_eq!(
        job.run(&["run", "--release", "v7", "--", "true"])
            .await
            .code,
        Some(0)
    );
    let ok = job
        .run(&[
            "deploy",
            "run",
            "--env",
            "production",
            "--release",
            "v7",
            "--",
            "true",
        ])
        .await;
    assert_eq!(ok.code, Some(0), "{ok:?}");
    assert_eq!(ok.stdout, format!("{}\n", ok.id()));
    let deploy = event(&server, "web", ok.id()).await;
    assert_eq!(deploy["event_type"], "DEPLOY");
    assert_eq!(deploy["deployment_status"], "Ok");
    assert_eq!(deploy["env_name"], "production");
    assert_eq!(deploy["release_version"], "v7");
    assert!(deploy["deployment_end"].is_string());
    // The release it deploys is its parent.
    let release = events(&server, "web")
        .await
        .into_iter()
        .find(|e| e["event_type"] == "RELEASE")
        .unwrap();
    assert_eq!(deploy["parent_event_id"], release["event_id"].to_string());

    let failed = job
        .run(&[
            "deploy", "run", "--env", "staging", "--", "sh", "-c", "exit 5",
        ])
        .await;
    assert_eq!(failed.code, Some(5), "{failed:?}");
    assert_eq!(
        event(&server, "web", failed.id()).await["deployment_status"],
        "Failed"
    );
}

#[tokio::test]
async fn sigint_aborts_a_deploy_and_exits_130() {
    let server = TestApp::spawn().await;
    let job = Job::new(&server, "web");
    let ready = job.dir().join("ready");
    let got = job.dir().join("got-int");
    let script = format!(
        "trap 'echo INT > {got}; exit 0' INT; touch {ready}; while :; do sleep 0.05; done",
        got = got.display(),
        ready = ready.display()
    );
    let child = job.spawn(&[
        "deploy",
        "run",
        "--env",
        "production",
        "--",
        "sh",
        "-c",
        &script,
    ]);
    appears(&ready).await;
    // SAFETY: kill(2) on the process this test started.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let ran = finished(child).await;
    assert_eq!(ran.code, Some(128 + 2), "{ran:?}");
    assert_eq!(std::fs::read_to_string(&got).unwrap(), "INT\n");
    assert_eq!(
        event(&server, "web", ran.id()).await["deployment_status"],
        "Aborted"
    );
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// Runs a creating command and checks that it printed the new event's id,
/// alone, and that the event has the type.
async fn created(server: &TestApp, job: &Job, args: &[&str], event_type: &str) -> i64 {
    let ran = job.run(args).await;
    assert_eq!(ran.code, Some(0), "{args:?}: {ran:?}");
    let id = ran.id();
    assert_eq!(ran.stdout, format!("{id}\n"), "{args:?}");
    assert_eq!(event(server, "web", id).await["event_type"], event_type);
    id
}

#[tokio::test]
async fn each_creating_command_prints_the_new_event_id_alone() {
    let server = TestApp::spawn().await;
    let job = Job::new(&server, "web").var("GITHUB_ACTIONS", "true");
    let with = |args: &[&str]| -> Vec<String> {
        let flags = ["--commit", "c0ffee", "--branch", "main"];
        args.iter().chain(&flags).map(|a| a.to_string()).collect()
    };

    let push = created(&server, &job, &strs(&with(&["push"])), "PUSH").await;
    created(
        &server,
        &job,
        &strs(&with(&["push", "--pull-request"])),
        "PULLREQUEST",
    )
    .await;
    let parent = push.to_string();
    let build_start = with(&["build", "start", "--parent", &parent]);
    let build = created(&server, &job, &strs(&build_start), "BUILD").await;
    let finish = job
        .run(&["build", "finish", &build.to_string(), "--status", "success"])
        .await;
    assert_eq!(
        (finish.code, finish.stdout.as_str()),
        (Some(0), ""),
        "{finish:?}"
    );
    let finished_build = event(&server, "web", build).await;
    assert_eq!(finished_build["build_status"], "Success");
    assert_eq!(finished_build["parent_event_id"], parent);
    assert_eq!(finished_build["build_provider"], "github-actions");

    let release = created(
        &server,
        &job,
        &["release", "v2", "--build", &build.to_string()],
        "RELEASE",
    )
    .await;
    let release_event = event(&server, "web", release).await;
    assert_eq!(release_event["release_version"], "v2");
    assert_eq!(release_event["commit_id"], "c0ffee");

    let deploy = created(
        &server,
        &job,
        &["deploy", "start", "--env", "production", "--release", "v2"],
        "DEPLOY",
    )
    .await;
    assert_eq!(
        event(&server, "web", deploy).await["deployment_status"],
        "InProgress"
    );
    let finish = job
        .run(&["deploy", "finish", &deploy.to_string(), "--status", "ok"])
        .await;
    assert_eq!(
        (finish.code, finish.stdout.as_str()),
        (Some(0), ""),
        "{finish:?}"
    );
    assert_eq!(
        event(&server, "web", deploy).await["deployment_status"],
        "Ok"
    );

    let incident = created(
        &server,
        &job,
        &[
            "incident",
            "open",
            "--env",
            "production",
            "--title",
            "Checkout errors",
            "--severity",
            "SEV2",
            "--link",
            "https://status.example.com/1",
            "--caused-by",
            &deploy.to_string(),
        ],
        "INCIDENT",
    )
    .await;
    let open = event(&server, "web", incident).await;
    assert_eq!(open["incident_status"], "Open");
    assert_eq!(open["title"], "Checkout errors");
    assert_eq!(open["severity"], "SEV2");
    assert_eq!(open["url"], "https://status.example.com/1");
    assert_eq!(open["caused_by_event_id"], deploy.to_string());
    let resolve = job
        .run(&["incident", "resolve", &incident.to_string()])
        .await;
    assert_eq!(
        (resolve.code, resolve.stdout.as_str()),
        (Some(0), ""),
        "{resolve:?}"
    );
    let resolved = event(&server, "web", incident).await;
    assert_eq!(resolved["incident_status"], "Resolved");
    assert!(resolved["incident_end"].is_string());
}

#[tokio::test]
async fn a_start_that_was_not_recorded_leaves_nothing_to_finish_and_fails_only_when_strict() {
    let server = TestApp::spawn().await;
    let job = Job::new(&server, "web");
    let lenient = job
        .run(&["build", "finish", "", "--status", "Success"])
        .await;
    assert_eq!(lenient.code, Some(0), "{lenient:?}");
    assert!(lenient.stderr.contains("warning"), "{}", lenient.stderr);
    let strict = job
        .run(&["build", "finish", "", "--status", "Success", "--strict"])
        .await;
    assert_eq!(strict.code, Some(1), "{strict:?}");
    // The variable: empty or a false word is off, anything else on.
    for (value, code) in [("", 0), ("false", 0), ("0", 0), ("true", 1), ("1", 1)] {
        let ran = Job::new(&server, "web")
            .var("SHIPLOG_STRICT", value)
            .var("SHIPLOG_RETRY_FOR", "")
            .run(&["build", "finish", "", "--status", "Success"])
            .await;
        assert_eq!(ran.code, Some(code), "SHIPLOG_STRICT={value:?}: {ran:?}");
    }
}

#[tokio::test]
async fn without_configuration_a_wrapped_command_still_runs_and_its_status_wins() {
    let server = TestApp::spawn().await;
    let job = Job::new(&server, "web").var("SHIPLOG_TOKEN", "");
    let ran = job
        .run(&["run", "--", "sh", "-c", "echo ran; exit 6"])
        .await;
    assert_eq!(ran.code, Some(6), "{ran:?}");
    assert_eq!(ran.stdout, "ran\n");
    assert!(ran.stderr.contains("SHIPLOG_TOKEN"), "{}", ran.stderr);
    let strict = job
        .run(&["run", "--strict", "--", "sh", "-c", "echo ran"])
        .await;
    assert_eq!(
        (strict.code, strict.stdout.as_str()),
        (Some(1), ""),
        "{strict:?}"
    );
}

#[tokio::test]
async fn a_refused_call_is_an_error_of_a_command_of_its_own() {
    let server = TestApp::spawn().await;
    let job = Job::new(&server, "web").var("SHIPLOG_TOKEN", "not-a-token");
    let ran = job.run(&["build", "start"]).await;
    assert_eq!((ran.code, ran.stdout.as_str()), (Some(1), ""), "{ran:?}");
    assert!(
        ran.stderr.contains("AuthenticationFailed"),
        "{}",
        ran.stderr
    );
    // Wrapping a command, the command's status wins.
    let wrapped = job.run(&["run", "--", "true"]).await;
    assert_eq!(wrapped.code, Some(0), "{wrapped:?}");
}
