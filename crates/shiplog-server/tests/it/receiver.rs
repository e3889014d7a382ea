//! A real HTTP receiver of outbound webhooks for the tests: it checks
//! every delivery's Standard Webhooks signature itself (with its own HMAC,
//! not shiplog's), records what it accepted, and fails on request.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// One delivery the receiver accepted.
#[derive(Debug, Clone)]
pub struct Received {
    pub webhook_id: String,
    pub headers: HeaderMap,
    pub body: serde_json::Value,
}

#[derive(Default)]
struct Inner {
    secret: Option<String>,
    /// Requests (accepted or not) per `webhook-id`.
    attempts: HashMap<String, u32>,
    /// Each `webhook-id`'s first this many attempts are answered 500.
    fail_first: u32,
    accepted: Vec<Received>,
    bad_signatures: u32,
}

#[derive(Clone)]
pub struct Receiver {
    inner: Arc<Mutex<Inner>>,
    pub addr: SocketAddr,
}

impl Receiver {
    /// Listens on a free loopback port.
    pub async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Receiver::on(listener).await
    }

    /// Listens on `listener`.
    pub async fn on(listener: tokio::net::TcpListener) -> Receiver {
        let addr = listener.local_addr().unwrap();
        let inner = Arc::new(Mutex::new(Inner::default()));
        let router = axum::Router::new()
            .fallback(receive)
            .with_state(inner.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Receiver { inner, addr }
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// The secret signatures are checked with.
    pub fn set_secret(&self, secret: &str) {
        self.inner.lock().unwrap().secret = Some(secret.to_owned());
    }

    /// Answers 500 to the first `count` attempts of each message.
    pub fn fail_first(&self, count: u32) {
        self.inner.lock().unwrap().fail_first = count;
    }

    pub fn accepted(&self) -> Vec<Received> {
        self.inner.lock().unwrap().accepted.clone()
    }

    pub fn attempts(&self, webhook_id: &str) -> u32 {
        self.inner
            .lock()
            .unwrap()
            .attempts
            .get(webhook_id)
            .copied()
            .unwrap_or(0)
    }

    pub fn bad_signatures(&self) -> u32 {
        self.inner.lock().unwrap().bad_signatures
    }

    /// Waits until `count` deliveries were accepted; panics after `limit`.
    pub async fn until_accepted(&self, count: usize, limit: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let accepted = self.accepted();
            if accepted.len() >= count {
                return accepted;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "only {} of {count} deliveries arrived",
                accepted.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn receive(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let mut inner = inner.lock().unwrap();
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let id = header("webhook-id");
    let genuine = inner.secret.as_deref().is_some_and(|secret| {
        verify(
            secret,
            &id,
            &header("webhook-timestamp"),
            &body,
            &header("webhook-signature"),
        )
    });
    if !genuine {
        inner.bad_signatures += 1;
        return StatusCode::UNAUTHORIZED;
    }
    let attempts = inner.attempts.entry(id.clone()).or_default();
    *attempts += 1;
    if *attempts <= inner.fail_first {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    inner.accepted.push(Received {
        webhook_id: id,
        headers,
        body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
    });
    StatusCode::NO_CONTENT
}

/// The Standard Webhooks check: `v1,` base64 HMAC-SHA256 of
/// `id.timestamp.body` keyed by the base64 part of the `whsec_` secret,
/// among the space-separated signatures; and a timestamp within 5 minutes.
fn verify(secret: &str, id: &str, timestamp: &str, body: &[u8], signatures: &str) -> bool {
    let Ok(key) = STANDARD.decode(secret.trim_start_matches("whsec_")) else {
        return false;
    };
    let Ok(sent) = timestamp.parse::<i64>() else {
        return false;
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    if (now - sent).abs() > 300 {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    signatures.split(' ').any(|s| s == expected)
}
