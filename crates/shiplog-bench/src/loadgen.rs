//! The load generator: raw HTTP/1.1 over keep-alive TCP connections, each
//! sending its requests back to back, on one thread so that it leaves the
//! other core to the server. Requests are prepared bytes; answers are parsed
//! just enough to read the status, `Retry-After` and the body length.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::histogram::Histogram;

/// One prepared request and the class it is reported under.
pub struct Request {
    pub bytes: Vec<u8>,
    pub class: usize,
}

impl Request {
    /// A request with a JSON body (or none) to `path_and_query`.
    pub fn new(method: &str, path_and_query: &str, body: Option<&[u8]>, class: usize) -> Request {
        Request::with_headers(method, path_and_query, &[], body, class)
    }

    /// As [`Request::new`], with more headers.
    pub fn with_headers(
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
        class: usize,
    ) -> Request {
        let mut bytes = format!("{method} {path_and_query} HTTP/1.1\r\nhost: 127.0.0.1\r\n");
        for (name, value) in headers {
            bytes.push_str(&format!("{name}: {value}\r\n"));
        }
        if let Some(body) = body {
            bytes.push_str(&format!(
                "content-type: application/json\r\ncontent-length: {}\r\n",
                body.len()
            ));
        }
        bytes.push_str("\r\n");
        let mut bytes = bytes.into_bytes();
        bytes.extend_from_slice(body.unwrap_or_default());
        Request { bytes, class }
    }
}

/// What to run: `connections` connections cycling through `requests` for
/// `warmup` (not recorded) and then `duration` (recorded).
#[derive(Clone)]
pub struct Load {
    /// The servers, taken in turn by the connections (connection `i` talks
    /// to `addrs[i % addrs.len()]`).
    pub addrs: Vec<SocketAddr>,
    pub connections: usize,
    pub warmup: Duration,
    pub duration: Duration,
    pub requests: Arc<Vec<Request>>,
    /// How many classes the requests use.
    pub classes: usize,
    /// Whether each connection walks its own equal slice of the requests
    /// (wrapping within it) instead of the whole list from its own place:
    /// no two connections send the same request, and each sends its
    /// slice in order.
    pub slices: bool,
}

/// The outcome of a run, counted over the recorded period.
#[derive(Clone, Default)]
pub struct Outcome {
    /// Latency of every answer, per class.
    pub latency: Vec<Histogram>,
    pub non_2xx: u64,
    /// 503 answers, and how many of them carried `Retry-After`.
    pub unavailable: u64,
    pub unavailable_with_retry_after: u64,
    /// Connections that failed to open or broke mid-request.
    pub io_errors: u64,
    pub first_error: Option<String>,
    pub elapsed: Duration,
    /// The most requests one connection sent, warm-up included: with
    /// [`Load::slices`], more than a slice means some were sent again.
    pub most_sent: u64,
}

impl Outcome {
    pub fn all(&self) -> Histogram {
        let mut all = Histogram::default();
        for h in &self.latency {
            all.merge(h);
        }
        all
    }

    pub fn requests_per_second(&self) -> f64 {
        self.all().count() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    fn merge(&mut self, other: Outcome) {
        if self.latency.len() < other.latency.len() {
            self.latency
                .resize_with(other.latency.len(), Histogram::default);
        }
        for (mine, theirs) in self.latency.iter_mut().zip(&other.latency) {
            mine.merge(theirs);
        }
        self.non_2xx += other.non_2xx;
        self.unavailable += other.unavailable;
        self.unavailable_with_retry_after += other.unavailable_with_retry_after;
        self.io_errors += other.io_errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
        self.most_sent = self.most_sent.max(other.most_sent);
    }
}

/// Runs `load` on a dedicated single-threaded runtime and waits for it.
pub async fn run(load: Load) -> anyhow::Result<Outcome> {
    tokio::task::spawn_blocking(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(runtime.block_on(drive(load)))
    })
    .await
    .context("the load generator thread failed")?
}

async fn drive(load: Load) -> Outcome {
    let start = Instant::now();
    let record_from = start + load.warmup;
    let end = record_from + load.duration;
    let mut tasks = tokio::task::JoinSet::new();
    let count = load.requests.len().max(1);
    for conn in 0..load.connections {
        let load = load.clone();
        let (first, len) = if load.slices {
            let len = (count / load.connections.max(1)).max(1);
            ((conn * len) % count, len)
        } else {
            // Each connection starts at its own place in the request list.
            (conn * 7919 % count, count)
        };
        let addr = load.addrs[conn % load.addrs.len()];
        tasks.spawn(connection(load, addr, first, len, record_from, end));
    }
    let mut total = Outcome {
        latency: vec![Histogram::default(); load.classes],
        ..Outcome::default()
    };
    while let Some(result) = tasks.join_next().await {
        if let Ok(outcome) = result {
            total.merge(outcome);
        }
    }
    total.elapsed = load.duration;
    total
}

/// One connection, sending `requests[first..first + len]` (wrapping) in
/// turn.
async fn connection(
    load: Load,
    addr: SocketAddr,
    first: usize,
    len: usize,
    record_from: Instant,
    end: Instant,
) -> Outcome {
    let mut outcome = Outcome {
        latency: vec![Histogram::default(); load.classes],
        ..Outcome::default()
    };
    let requests = &load.requests;
    let mut buf = Vec::with_capacity(16 * 1024);
    let mut stream: Option<TcpStream> = None;
    let mut sent: usize = 0;
    // Answers still on their way when the period ends get this long.
    let grace = end + Duration::from_secs(5);
    while Instant::now() < end {
        let conn = match &mut stream {
            Some(conn) => conn,
            None => match TcpStream::connect(addr).await {
                Ok(conn) => {
                    let _ = conn.set_nodelay(true);
                    stream.insert(conn)
                }
                Err(err) => {
                    note_error(&mut outcome, record_from, format!("connect: {err}"));
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
        };
        let request = &requests[(first + sent % len) % requests.len()];
        sent += 1;
        outcome.most_sent = sent as u64;
        let sent = Instant::now();
        let answer =
            tokio::time::timeout_at(grace.into(), exchange(conn, &request.bytes, &mut buf));
        match answer.await {
            Ok(Ok(answer)) => {
                let done = Instant::now();
                if done >= record_from && done <= end {
                    let nanos = (done - sent).as_nanos() as u64;
                    outcome.latency[request.class].record(nanos);
                    if !(200..300).contains(&answer.status) {
                        outcome.non_2xx += 1;
                    }
                    if answer.status == 503 {
                        outcome.unavailable += 1;
                        if answer.retry_after {
                            outcome.unavailable_with_retry_after += 1;
                        }
                    }
                }
                if answer.close {
                    stream = None;
                }
            }
            Ok(Err(err)) => {
                note_error(&mut outcome, record_from, format!("{err:#}"));
                stream = None;
            }
            Err(_) => break,
        }
    }
    outcome
}

fn note_error(outcome: &mut Outcome, record_from: Instant, error: String) {
    if Instant::now() >= record_from {
        outcome.io_errors += 1;
    }
    outcome.first_error.get_or_insert(error);
}

struct Answer {
    status: u16,
    retry_after: bool,
    close: bool,
    /// Where the body starts in the buffer read.
    body_start: usize,
}

/// Sends one request and reads its whole answer.
async fn exchange(
    stream: &mut TcpStream,
    request: &[u8],
    buf: &mut Vec<u8>,
) -> anyhow::Result<Answer> {
    stream.write_all(request).await?;
    buf.clear();
    let mut searched: usize = 0;
    let head_end = loop {
        if stream.read_buf(buf).await? == 0 {
            bail!("the server closed the connection");
        }
        if let Some(at) = find(&buf[searched.saturating_sub(3)..], b"\r\n\r\n") {
            break searched.saturating_sub(3) + at + 4;
        }
        searched = buf.len();
    };
    let head = std::str::from_utf8(&buf[..head_end]).context("a non-UTF-8 answer head")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("a bad status line {status_line:?}"))?;
    let mut length = None;
    let mut chunked = false;
    let mut retry_after = false;
    let mut close = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = value.parse::<usize>().ok();
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.eq_ignore_ascii_case("chunked");
        } else if name.eq_ignore_ascii_case("retry-after") {
            retry_after = true;
        } else if name.eq_ignore_ascii_case("connection") {
            close = value.eq_ignore_ascii_case("close");
        }
    }
    if chunked {
        // Not sent by the servers measured here; read to the last chunk.
        while !buf.ends_with(b"0\r\n\r\n") {
            if stream.read_buf(buf).await? == 0 {
                bail!("the server closed the connection mid-body");
            }
        }
    } else {
        let total = head_end + length.context("an answer without content-length")?;
        while buf.len() < total {
            if stream.read_buf(buf).await? == 0 {
                bail!("the server closed the connection mid-body");
            }
        }
    }
    Ok(Answer {
        status,
        retry_after,
        close,
        body_start: head_end,
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// One GET on a fresh connection: its status and body (of an answer with
/// `content-length`).
pub async fn get(addr: SocketAddr, path: &str) -> anyhow::Result<(u16, Vec<u8>)> {
    send(addr, &Request::new("GET", path, None, 0)).await
}

/// One prepared request on a fresh connection: its status and body (of an
/// answer with `content-length`).
pub async fn send(addr: SocketAddr, request: &Request) -> anyhow::Result<(u16, Vec<u8>)> {
    let mut stream = TcpStream::connect(addr).await?;
    let mut buf = Vec::new();
    let answer = exchange(&mut stream, &request.bytes, &mut buf).await?;
    Ok((answer.status, buf.split_off(answer.body_start)))
}

/// One GET on a fresh connection; its status, or an error.
pub async fn get_status(addr: SocketAddr, path: &str) -> anyhow::Result<u16> {
    let mut stream = TcpStream::connect(addr).await?;
    let mut buf = Vec::new();
    let request = Request::new("GET", path, None, 0);
    Ok(exchange(&mut stream, &request.bytes, &mut buf)
        .await?
        .status)
}
