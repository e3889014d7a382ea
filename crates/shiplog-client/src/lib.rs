//! A typed, async client of shiplog's HTTP API.
//!
//! It sends and reads the wire types of `shiplog-api`, the same ones the
//! server answers with, so the two cannot drift apart. Every call of the
//! API has a method: apps, envs, events (create, update, get, list), an
//! event's history and lineage, commits, the change log, DORA metrics and
//! webhooks. Lists are [`Pages`] that follow the markers.
//!
//! Calls are retried on connection errors and 502/503/504 for a bounded
//! time ([`Retry`]); write calls carry one `Idempotency-Key` for all their
//! attempts, so a retry never records an event twice.
//!
//! ```no_run
//! # async fn demo() -> shiplog_client::Result<()> {
//! use shiplog_client::{Client, api::BuildEventIn};
//!
//! let client = Client::new("http://127.0.0.1:8080", "TOKEN", "jdoe")?;
//! let web = client.app("web");
//! let id = web
//!     .create_build(&BuildEventIn {
//!         build_status: Some("Running".into()),
//!         ..Default::default()
//!     })
//!     .await?;
//! let mut events = web.events(&Default::default());
//! while let Some(event) = events.next().await? {
//!     println!("{} {}", event.event_id, event.event_type.as_str());
//! }
//! # let _ = id;
//! # Ok(())
//! # }
//! ```

mod account;
mod app;
mod error;
mod pages;
mod retry;
mod transport;

use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;

pub use account::DoraQuery;
pub use app::{AppClient, EventQuery};
pub use error::{Error, Result};
pub use pages::{Listing, Pages};
pub use retry::Retry;
pub use shiplog_api as api;
pub use shiplog_domain::Order;

/// A connection to one shiplog server, acting on one account with one
/// token. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    token: String,
    account: String,
    retry: Retry,
}

/// How long connecting may take before the attempt counts as failed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

impl Client {
    /// A client of the server at `base_url` (`http://host:port`, with or
    /// without a path prefix) acting on `account` with `token`, retrying
    /// with [`Retry::default`].
    pub fn new(base_url: &str, token: &str, account: &str) -> Result<Client> {
        let base = Url::parse(base_url.trim())
            .map_err(|err| Error::Config(format!("invalid shiplog URL {base_url:?}: {err}")))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(Error::Config(format!(
                "invalid shiplog URL {base_url:?}: expected http:// or https://"
            )));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("shiplog-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| Error::Config(err.to_string()))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base,
                token: token.to_owned(),
                account: account.to_owned(),
                retry: Retry::default(),
            }),
        })
    }

    /// The same client with another retry policy.
    pub fn with_retry(self, retry: Retry) -> Client {
        let inner = &self.inner;
        Client {
            inner: Arc::new(Inner {
                http: inner.http.clone(),
                base: inner.base.clone(),
                token: inner.token.clone(),
                account: inner.account.clone(),
                retry,
            }),
        }
    }

    /// The account acted on (the `:username` of every path).
    pub fn account(&self) -> &str {
        &self.inner.account
    }

    /// The calls on one app's events and envs.
    pub fn app(&self, name: &str) -> AppClient {
        AppClient::new(self.clone(), name)
    }
}
