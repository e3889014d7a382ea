//! The company of the live scenario: two outbound webhooks delivering to
//! receivers in this process, and a client reading the live stream, all
//! attached to the shiplog server under measurement, so that ingest is
//! measured while every change is also queued, delivered and streamed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::bail;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::loadgen::{self, Request};

/// The webhooks attached, and what they and the stream received.
pub struct Followers {
    names: Vec<String>,
    deliveries: Arc<AtomicU64>,
    streamed: Arc<AtomicU64>,
    tasks: Vec<JoinHandle<()>>,
}

/// Configures two webhooks of `user` to receivers of this process and opens
/// a stream, on the server at `addr`.
pub async fn attach(
    addr: SocketAddr,
    user: &str,
    token: &str,
    suffix: &str,
) -> anyhow::Result<Followers> {
    let deliveries = Arc::new(AtomicU64::new(0));
    let streamed = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    let mut names = Vec::new();
    for i in 0..2 {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/hook", listener.local_addr()?);
        let counter = deliveries.clone();
        let router = axum::Router::new().fallback(move || {
            counter.fetch_add(1, Ordering::Relaxed);
            async { axum::http::StatusCode::NO_CONTENT }
        });
        tasks.push(tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        }));
        let name = format!("bench-{suffix}-{i}");
        let body = serde_json::to_vec(&serde_json::json!({"url": url}))?;
        let path = format!("/{user}/webhooks/{name}?apiToken={token}");
        let (status, answer) =
            loadgen::send(addr, &Request::new("PUT", &path, Some(&body), 0)).await?;
        if status != 200 {
            bail!(
                "PutWebhook answered {status}: {}",
                String::from_utf8_lossy(&answer)
            );
        }
        names.push(name);
    }
    let mut stream = TcpStream::connect(addr).await?;
    let request =
        format!("GET /{user}/stream?apiToken={token} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let counter = streamed.clone();
    tasks.push(tokio::spawn(async move {
        let mut buf = vec![0u8; 64 * 1024];
        let needle = b"event: change";
        // A message's marker may straddle two reads: keep its tail.
        let mut carry: Vec<u8> = Vec::new();
        while let Ok(read) = stream.read(&mut buf).await {
            if read == 0 {
                break;
            }
            carry.extend_from_slice(&buf[..read]);
            let found = carry.windows(needle.len()).filter(|w| w == needle).count();
            counter.fetch_add(found as u64, Ordering::Relaxed);
            let keep = carry.len().min(needle.len() - 1);
            carry.drain(..carry.len() - keep);
        }
    }));
    Ok(Followers {
        names,
        deliveries,
        streamed,
        tasks,
    })
}

impl Followers {
    /// Waits until deliveries stop arriving (at most `limit`), removes the
    /// webhooks, and says what was received.
    pub async fn settle(
        self,
        addr: SocketAddr,
        user: &str,
        token: &str,
        limit: Duration,
    ) -> String {
        let started = Instant::now();
        let mut last = (u64::MAX, u64::MAX);
        while started.elapsed() < limit {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let now = (
                self.deliveries.load(Ordering::Relaxed),
                self.streamed.load(Ordering::Relaxed),
            );
            if now == last {
                break;
            }
            last = now;
        }
        let settled = started.elapsed();
        for name in &self.names {
            let path = format!("/{user}/webhooks/{name}?apiToken={token}");
            let _ = loadgen::send(addr, &Request::new("DELETE", &path, None, 0)).await;
        }
        for task in &self.tasks {
            task.abort();
        }
        format!(
            "the two webhooks received {} deliveries and the stream {} changes ({:.1} s after \
             the load stopped, when they stopped growing)",
            self.deliveries.load(Ordering::Relaxed),
            self.streamed.load(Ordering::Relaxed),
            settled.as_secs_f64()
        )
    }
}
