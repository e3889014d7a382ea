//! The real `shiplog` binary as separate processes: started, waited for,
//! and always killed when dropped, even when a test panics.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;

pub const BINARY: &str = env!("CARGO_BIN_EXE_shiplog");

/// How long an instance may take to answer `/-/health` after it starts.
const START_TIMEOUT: Duration = Duration::from_secs(30);

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One `shiplog serve` process; killed on drop.
pub struct Instance {
    child: Child,
    pub base: String,
    /// The first-start banner, when it was asked for.
    pub stdout: Vec<String>,
    stderr: File,
}

impl Instance {
    /// Starts `shiplog serve` and waits until `/-/health` answers; with
    /// `banner`, also reads the first-start banner from its output.
    pub async fn start(database: &str, extra: &[&str], banner: bool) -> Instance {
        let mut instance = Instance::launch(database, extra, Stdio::piped(), "warn");
        instance.until_healthy().await;
        // The first-start banner is printed before the server listens.
        let stdout = instance.child.stdout.take().unwrap();
        let lines = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .take_while(|line| !line.starts_with("    curl"))
                .collect::<Vec<_>>()
        });
        if banner {
            instance.stdout = lines.join().unwrap();
        }
        instance
    }

    /// Starts `shiplog serve` without waiting for it (see
    /// [`Instance::until_healthy`]); its output is discarded.
    pub fn spawn(database: &str, extra: &[&str]) -> Instance {
        Instance::launch(database, extra, Stdio::null(), "warn")
    }

    /// Starts `shiplog serve` logging everything, down to `trace`.
    pub async fn start_verbose(database: &str, extra: &[&str]) -> Instance {
        let mut instance = Instance::launch(database, extra, Stdio::null(), "trace");
        instance.until_healthy().await;
        instance
    }

    fn launch(database: &str, extra: &[&str], stdout: Stdio, log_filter: &str) -> Instance {
        let port = free_port();
        let stderr = tempfile::tempfile().expect("a log file");
        let child = Command::new(BINARY)
            .args(["serve", "--database", database, "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .args(extra)
            .env_remove("SHIPLOG_BOOTSTRAP_TOKEN")
            .env_remove("SHIPLOG_DATABASE_URL")
            .env("RUST_LOG", log_filter)
            .stdout(stdout)
            .stderr(stderr.try_clone().expect("a log file"))
            .spawn()
            .expect("start shiplog");
        Instance {
            child,
            base: format!("http://127.0.0.1:{port}"),
            stdout: Vec::new(),
            stderr,
        }
    }

    /// Waits until `/-/health` answers 200; panics, with the process's log,
    /// if it exits or takes too long.
    pub async fn until_healthy(&mut self) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(response) = client.get(format!("{}/-/health", self.base)).send().await
                && response.status() == StatusCode::OK
            {
                return;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("shiplog exited with {status} on start:\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "shiplog did not become healthy:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The process id, to signal it.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// What the process wrote to its standard error so far.
    pub fn log(&mut self) -> String {
        let mut log = String::new();
        let _ = self.stderr.seek(SeekFrom::Start(0));
        let _ = self.stderr.read_to_string(&mut log);
        log
    }

    /// The whole lines the process wrote to its standard error, once
    /// `shows` holds of them: a logging thread of the server's own writes
    /// each line, a moment after the request it logs was answered. Panics
    /// with the log if that does not happen within the start timeout.
    pub async fn log_showing(&mut self, shows: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let mut log = self.log();
            log.truncate(log.rfind('\n').map_or(0, |end| end + 1));
            if shows(&log) {
                return log;
            }
            assert!(
                Instant::now() < deadline,
                "the log never showed what was awaited:\n{log}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGKILL, and wait until the process is gone.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL shiplog");
        self.child.wait().expect("reap shiplog");
    }

    /// The token printed on first start.
    pub fn printed_token(&self) -> String {
        let at = self
            .stdout
            .iter()
            .position(|l| l.contains("shown only now"))
            .expect("a first-start banner");
        self.stdout[at + 2].trim().to_owned()
    }

    pub async fn status(&self, method: reqwest::Method, path: &str, token: &str) -> StatusCode {
        reqwest::Client::new()
            .request(method, format!("{}{path}?apiToken={token}", self.base))
            .send()
            .await
            .unwrap()
            .status()
    }

    /// Sends SIGTERM and returns the exit code.
    pub fn terminate(mut self) -> Option<i32> {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(Instant::now() < deadline, "shiplog did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        // Killing a process that already exited (and was waited for) is a
        // no-op.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
