//! The `shiplog` binary as a CI job runs it, against a real server: each
//! run in an environment cleared of the test machine's own CI variables,
//! in a folder of its own.

mod ci_systems;
mod library;
mod outage;
mod reading;
mod recording;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

use crate::helpers::TestApp;
use crate::instances::BINARY;

/// A CI job's environment: the server to talk to, its own variables and a
/// working folder (no git repository unless a test makes one).
pub struct Job {
    base: String,
    token: String,
    app: String,
    vars: Vec<(String, String)>,
    dir: tempfile::TempDir,
    cwd: Option<PathBuf>,
}

/// How a run of `shiplog` ended.
#[derive(Debug)]
pub struct Ran {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    /// The id the run printed, alone on its first line.
    pub fn id(&self) -> i64 {
        let first = self.stdout.lines().next().unwrap_or_default();
        first
            .parse()
            .unwrap_or_else(|_| panic!("an event id first on stdout: {self:?}"))
    }
}

impl From<Output> for Ran {
    fn from(output: Output) -> Ran {
        Ran {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Job {
    /// A job recording to `app_name` of the test account.
    pub fn new(server: &TestApp, app_name: &str) -> Job {
        Job {
            base: server.base.clone(),
            token: server.token.clone(),
            app: app_name.to_owned(),
            vars: Vec::new(),
            dir: tempfile::tempdir().unwrap(),
            cwd: None,
        }
    }

    /// The same job talking to another address.
    pub fn at(mut self, base: &str) -> Job {
        self.base = base.to_owned();
        self
    }

    pub fn var(mut self, name: &str, value: &str) -> Job {
        self.vars.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn vars(mut self, vars: &[(&str, &str)]) -> Job {
        for (name, value) in vars {
            self = self.var(name, value);
        }
        self
    }

    pub fn in_dir(mut self, dir: &Path) -> Job {
        self.cwd = Some(dir.to_owned());
        self
    }

    /// The job's scratch folder.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BINARY);
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("SHIPLOG_URL", &self.base)
            .env("SHIPLOG_TOKEN", &self.token)
            .env("SHIPLOG_ACCOUNT", "jdoe")
            .env("SHIPLOG_APP", &self.app)
            .envs(self.vars.iter().map(|(k, v)| (k, v)))
            .current_dir(self.cwd.as_deref().unwrap_or(self.dir.path()))
            .stdin(Stdio::null());
        command
    }

    /// Runs `shiplog ARGS` to its end, without holding up the server.
    pub async fn run(&self, args: &[&str]) -> Ran {
        let mut command = self.command(args);
        tokio::task::spawn_blocking(move || command.output().expect("run shiplog"))
            .await
            .unwrap()
            .into()
    }

    /// Starts `shiplog ARGS` with its output captured.
    pub fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start shiplog")
    }
}

/// Waits for a spawned run to end, without holding up the server.
pub async fn finished(child: Child) -> Ran {
    tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap()
        .into()
}

/// Every event of `app_name`, oldest first.
pub async fn events(server: &TestApp, app_name: &str) -> Vec<Value> {
    let answer = server
        .get(&format!(
            "/jdoe/apps/{app_name}/events?order=asc&max_results=100"
        ))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    answer.json["events"].as_array().unwrap().clone()
}

/// One event, as the API answers it.
pub async fn event(server: &TestApp, app_name: &str, id: i64) -> Value {
    let answer = server
        .get(&format!("/jdoe/apps/{app_name}/events/{id}"))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    answer.json["event"].clone()
}

/// Polls until `path` exists (a wrapped command says it is ready).
pub async fn appears(path: &Path) {
    for _ in 0..400 {
        if path.exists() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("{} never appeared", path.display());
}
