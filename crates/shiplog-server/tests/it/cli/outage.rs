//! When shiplog is down: retries with one `Idempotency-Key` per call, a
//! warning, and the wrapped command's status all the same (unless
//! `--strict`); and a server that answers 503 or loses answers still gets
//! each event once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::{Job, appears, event, events, finished};
use crate::helpers::TestApp;
use crate::instances::free_port;

#[tokio::test]
async fn with_the_server_down_run_retries_warns_and_exits_with_the_commands_status() {
    let server = TestApp::spawn().await;
    let nobody = format!("http://127.0.0.1:{}", free_port());
    let job = Job::new(&server, "web").at(&nobody);
    let started = Instant::now();
    let ran = job
        .run(&[
            "run",
            "--retry-for",
            "1",
            "--",
            "sh",
            "-c",
            "echo ran; exit 4",
        ])
        .await;
    assert_eq!(ran.code, Some(4), "{ran:?}");
    assert_eq!(ran.stdout, "ran\n");
    assert!(ran.stderr.contains("warning"), "{}", ran.stderr);
    assert!(
        ran.stderr.contains("could not be reached"),
        "{}",
        ran.stderr
    );
    // Each of the two calls (the start, then the whole build at the end)
    // kept trying for its second, and no longer than it must.
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(2), "{took:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[tokio::test]
async fn with_the_server_down_and_strict_nothing_runs_and_shiplog_fails() {
    let server = TestApp::spawn().await;
    let nobody = format!("http://127.0.0.1:{}", free_port());
    let job = Job::new(&server, "web").at(&nobody);
    let ran = job
        .run(&[
            "run",
            "--strict",
            "--retry-for",
            "0.5",
            "--",
            "sh",
            "-c",
            "echo ran",
        ])
        .await;
    assert_eq!(ran.code, Some(75), "{ran:?}");
    assert_eq!(ran.stdout, "");
    let alone = job
        .var("SHIPLOG_RETRY_FOR", "0")
        .run(&["build", "start", "--strict"])
        .await;
    assert_eq!(alone.code, Some(75), "{alone:?}");
    let lenient = Job::new(&server, "web")
        .at(&nobody)
        .run(&["build", "start", "--retry-for", "0"])
        .await;
    assert_eq!(
        (lenient.code, lenient.stdout.as_str()),
        (Some(0), ""),
        "{lenient:?}"
    );
}

#[tokio::test]
async fn a_server_that_answers_503_then_loses_an_answer_still_records_one_build() {
    let server = TestApp::spawn().await;
    server.create_app("web").await;
    let flaky = Flaky::start(&server.base, 1, 1).await;
    let ran = Job::new(&server, "web")
        .at(&flaky.base)
        .run(&["run", "--", "true"])
        .await;
    assert_eq!(ran.code, Some(0), "{ran:?}");
    let all = events(&server, "web").await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0]["event_id"], ran.id());
    assert_eq!(all[0]["build_status"], "Success");

    // The create was tried three times (503, answer lost, answered), each
    // with the same key; the update had a key of its own.
    let seen = flaky.seen();
    let creates: Vec<&Seen> = seen.iter().filter(|s| s.method == "PUT").collect();
    assert_eq!(creates.len(), 3, "{seen:?}");
    let key = creates[0].key.clone().expect("an Idempotency-Key");
    assert!(
        creates.iter().all(|s| s.key.as_ref() == Some(&key)),
        "{seen:?}"
    );
    let update = seen
        .iter()
        .find(|s| s.method == "POST")
        .expect("the update");
    assert!(update.key.is_some() && update.key != Some(key), "{seen:?}");
}

#[tokio::test]
async fn a_build_whose_start_met_an_outage_is_recorded_whole_when_the_server_is_back() {
    let server = TestApp::spawn().await;
    let flaky = Flaky::start(&server.base, usize::MAX, 0).await;
    let job = Job::new(&server, "web").at(&flaky.base);
    let ready = job.dir().join("ready");
    let go = job.dir().join("go");
    let script = format!(
        "touch {ready}; while [ ! -e {go} ]; do sleep 0.05; done; echo done",
        ready = ready.display(),
        go = go.display()
    );
    let child = job.spawn(&["run", "--retry-for", "0.5", "--", "sh", "-c", &script]);
    appears(&ready).await;
    flaky.recover();
    std::fs::write(&go, "").unwrap();
    let ran = finished(child).await;
    assert_eq!(ran.code, Some(0), "{ran:?}");
    assert!(ran.stderr.contains("warning"), "{}", ran.stderr);
    // The command's output, then the id of the build recorded at its end.
    let id: i64 = ran
        .stdout
        .strip_prefix("done\n")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let build = event(&server, "web", id).await;
    assert_eq!(build["build_status"], "Success");
    assert!(
        build["build_start"].as_str() < build["build_end"].as_str(),
        "{build}"
    );
    assert_eq!(events(&server, "web").await.len(), 1);
}

/// A request as the flaky proxy saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    key: Option<String>,
}

/// A proxy in front of the server: the first `unavailable` requests are
/// answered 503 without reaching it; the next `lost` reach it, but their
/// answers are lost (the connection closes); the rest are passed through.
struct Flaky {
    base: String,
    unavailable: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Flaky {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Flaky {
    async fn start(target: &str, unavailable: usize, lost: usize) -> Flaky {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let unavailable = Arc::new(AtomicUsize::new(unavailable));
        let lost = Arc::new(AtomicUsize::new(lost));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let client = reqwest::Client::new();
        let target = target.to_owned();
        let task = {
            let (unavailable, seen) = (unavailable.clone(), seen.clone());
            tokio::spawn(async move {
                loop {
                    let Ok((socket, _)) = listener.accept().await else {
                        return;
                    };
                    let (unavailable, lost, seen) =
                        (unavailable.clone(), lost.clone(), seen.clone());
                    let (client, target) = (client.clone(), target.clone());
                    tokio::spawn(async move {
                        serve(socket, &client, &target, &unavailable, &lost, &seen).await;
                    });
                }
            })
        };
        Flaky {
            base,
            unavailable,
            seen,
            task,
        }
    }

    /// From now on, every request is passed through.
    fn recover(&self) {
        self.unavailable.store(0, Ordering::SeqCst);
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// Takes one from `counter` if it is not spent.
fn take(counter: &AtomicUsize) -> bool {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

async fn serve(
    mut socket: TcpStream,
    client: &reqwest::Client,
    target: &str,
    unavailable: &AtomicUsize,
    lost: &AtomicUsize,
    seen: &Mutex<Vec<Seen>>,
) {
    let Some(request) = read_request(&mut socket).await else {
        return;
    };
    seen.lock().unwrap().push(Seen {
        method: request.method.clone(),
        key: request.header("idempotency-key"),
    });
    if take(unavailable) {
        let body = r#"{"error":{"code":"ServiceUnavailable","message":"Try again"}}"#;
        respond(&mut socket, 503, body.as_bytes()).await;
        return;
    }
    let method = reqwest::Method::from_bytes(request.method.as_bytes()).unwrap();
    let mut forward = client
        .request(method, format!("{target}{}", request.path))
        .body(request.body.clone());
    for (name, value) in &request.headers {
        if !["host", "content-length", "connection"].contains(&name.as_str()) {
            forward = forward.header(name, value);
        }
    }
    let answer = forward.send().await.unwrap();
    let status = answer.status().as_u16();
    let body = answer.bytes().await.unwrap();
    if take(lost) {
        // The server recorded it; the client never hears.
        let _ = socket.shutdown().await;
        return;
    }
    respond(&mut socket, status, &body).await;
}

struct Request {
    method: String,
    path: String,
    /// Names in lower case.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    }
}

async fn read_request(socket: &mut TcpStream) -> Option<Request> {
    let mut buffer = Vec::new();
    let head_end = loop {
        let mut chunk = [0u8; 4096];
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, path) = (first.next()?.to_owned(), first.next()?.to_owned());
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buffer[head_end..].to_vec();
    while body.len() < length {
        let mut chunk = vec![0u8; length - body.len()];
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Request {
        method,
        path,
        headers,
        body,
    })
}

async fn respond(socket: &mut TcpStream, status: u16, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        reqwest::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Status"),
        body.len()
    );
    let _ = socket.write_all(head.as_bytes()).await;
    let _ = socket.write_all(body).await;
    let _ = socket.shutdown().await;
}
