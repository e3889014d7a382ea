//! What every handler shares: the store, the marker codec and the public URL.

use std::sync::Arc;

use shiplog_domain::MarkerCodec;
use shiplog_store::Store;

pub struct AppState {
    pub store: Arc<dyn Store>,
    pub markers: MarkerCodec,
    /// Base of `api_url`/`html_url`, without a trailing slash.
    pub public_url: String,
    /// How long a web UI session lasts without a request.
    pub session_idle: std::time::Duration,
    /// Where outbound webhooks may be sent.
    pub targets: crate::outbound::Targets,
    /// The permits of open live streams.
    pub streams: Arc<tokio::sync::Semaphore>,
}

pub type SharedState = Arc<AppState>;
