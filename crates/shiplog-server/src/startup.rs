//! Building and running the server on a listener it is given, so tests run
//! the real thing on port 0.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::ServiceExt as _;
use shiplog_domain::token::{generate_token, hash_token};
use shiplog_domain::{MarkerCodec, ResourceName};
use shiplog_store::Store;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tower::Layer;

use crate::middleware::{
    discard_ignored_body, limit_in_flight, normalize_path, request_deadline, request_log,
};
use crate::routes::{metrics_router, router};
use crate::state::{AppState, SharedState};

/// The request time limit when none is configured.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// API requests served at once when no limit is configured.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 256;

/// How long a web UI session lasts without a request when not configured.
pub const DEFAULT_SESSION_IDLE: Duration = Duration::from_secs(12 * 60 * 60);

/// The database used when none is configured.
pub const DEFAULT_DATABASE: &str = "sqlite://shiplog-data/shiplog.db";

#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub listen: String,
    pub database: String,
    pub public_url: Option<String>,
    pub bootstrap_user: String,
    pub bootstrap_token: Option<String>,
    /// Whether an empty database gets a first user with a printed token.
    pub bootstrap_on_empty: bool,
    /// Serve `/-/metrics` on this address instead of the API's.
    pub metrics_listen: Option<String>,
    /// The longest a request may take before it is answered 503.
    pub request_timeout: Duration,
    /// API requests served at once; more are answered 503 at once.
    pub max_in_flight: usize,
    /// How long a web UI session lasts without a request.
    pub session_idle: Duration,
    /// Whether outbound webhooks may target the server's own networks.
    pub allow_private_webhook_targets: bool,
    /// Events older than this many days are pruned, unless their app says
    /// otherwise.
    pub retention_days: Option<u32>,
    /// How often to prune in the background; none never does.
    pub prune_every: Option<Duration>,
}

impl ServerSettings {
    /// A server on a free loopback port, without bootstrap output.
    pub fn for_tests(database: &str) -> Self {
        ServerSettings {
            listen: "127.0.0.1:0".into(),
            database: database.into(),
            public_url: None,
            bootstrap_user: "admin".into(),
            bootstrap_token: None,
            bootstrap_on_empty: false,
            metrics_listen: None,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            session_idle: DEFAULT_SESSION_IDLE,
            allow_private_webhook_targets: false,
            retention_days: None,
            prune_every: None,
        }
    }
}

type Request = axum::http::Request<axum::body::Body>;

/// The full service: the router inside the plumbing that must run before
/// routing.
pub type Service = tower::util::MapRequest<axum::Router, fn(Request) -> Request>;

pub fn app(state: SharedState, settings: &ServerSettings) -> Service {
    let routed = router(state, settings.metrics_listen.is_none())
        .layer(axum::middleware::from_fn(discard_ignored_body))
        .layer(axum::middleware::from_fn_with_state(
            settings.request_timeout,
            request_deadline,
        ))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(tokio::sync::Semaphore::new(settings.max_in_flight.max(1))),
            limit_in_flight,
        ))
        .layer(axum::middleware::from_fn(request_log));
    tower::util::MapRequestLayer::new(normalize_path as fn(Request) -> Request).layer(routed)
}

/// A server running in the background of this process.
pub struct RunningServer {
    pub addr: SocketAddr,
    /// Where `/-/metrics` is served when it has a listener of its own.
    pub metrics_addr: Option<SocketAddr>,
    pub store: Arc<dyn Store>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
    /// Ended with the server: what it had claimed falls due again.
    deliveries: JoinHandle<()>,
    pruner: Option<JoinHandle<()>>,
}

impl RunningServer {
    /// Opens the store, binds, bootstraps and starts serving.
    pub async fn start(settings: ServerSettings) -> anyhow::Result<RunningServer> {
        let store = crate::database::open(&settings.database)
            .await
            .with_context(|| format!("opening the database {}", settings.database))?;
        let listener = TcpListener::bind(&settings.listen)
            .await
            .with_context(|| format!("binding {}", settings.listen))?;
        let addr = listener.local_addr()?;
        let public_url = settings
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"))
            .trim_end_matches('/')
            .to_owned();
        bootstrap(&*store, &settings, &public_url).await?;
        let targets = crate::outbound::Targets::new(settings.allow_private_webhook_targets);
        let state = Arc::new(AppState {
            markers: MarkerCodec::new(&store.marker_secret().await?),
            store: store.clone(),
            public_url,
            session_idle: settings.session_idle,
            targets,
            streams: crate::routes::stream::stream_permits(),
        });
        let deliveries = crate::outbound::worker::start(state.clone());
        crate::metrics::handle();
        let (stop, stopped) = oneshot::channel::<()>();
        let (stop_metrics, metrics_stopped) = tokio::sync::watch::channel(false);
        let metrics_addr = match &settings.metrics_listen {
            Some(listen) => {
                let metrics_listener = TcpListener::bind(listen)
                    .await
                    .with_context(|| format!("binding {listen}"))?;
                let metrics_addr = metrics_listener.local_addr()?;
                let service = metrics_router(state.clone());
                let mut stopped = metrics_stopped;
                tokio::spawn(async move {
                    axum::serve(metrics_listener, service)
                        .with_graceful_shutdown(async move {
                            let _ = stopped.changed().await;
                        })
                        .await
                });
                Some(metrics_addr)
            }
            None => None,
        };
        let pruner = settings
            .prune_every
            .map(|every| crate::pruning::spawn(store.clone(), settings.retention_days, every));
        let service = app(state, &settings);
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, service.into_make_service())
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
            let _ = stop_metrics.send(true);
            served
        });
        Ok(RunningServer {
            addr,
            metrics_addr,
            store,
            stop: Some(stop),
            task,
            deliveries,
            pruner,
        })
    }

    /// Stops accepting, lets in-flight requests finish, and waits.
    pub async fn stop(mut self) {
        if let Some(pruner) = self.pruner.take() {
            pruner.abort();
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
        self.deliveries.abort();
    }

    /// Waits until the server ends (after a signal passed to `stop`).
    pub async fn wait(self, signal: impl Future<Output = ()>) -> std::io::Result<()> {
        signal.await;
        let RunningServer {
            stop,
            task,
            deliveries,
            pruner,
            ..
        } = self;
        if let Some(pruner) = pruner {
            pruner.abort();
        }
        if let Some(stop) = stop {
            let _ = stop.send(());
        }
        let served = task.await.map_err(std::io::Error::other)?;
        deliveries.abort();
        served
    }

    /// A new token of scope `admin` for `name`, creating the user if needed
    /// (tests and tools).
    pub async fn add_user_or_token(&self, name: &str) -> anyhow::Result<String> {
        self.add_user_or_scoped_token(name, shiplog_domain::Level::Admin)
            .await
    }

    /// A new token of `scope` for `name`, creating the user if needed.
    pub async fn add_user_or_scoped_token(
        &self,
        name: &str,
        scope: shiplog_domain::Level,
    ) -> anyhow::Result<String> {
        let user = ResourceName::parse("User", name)?;
        match self.store.create_user(&user).await {
            Ok(())
            | Err(shiplog_store::StoreError::Domain(shiplog_domain::DomainError::AlreadyExists(
                _,
            ))) => {}
            Err(err) => return Err(err.into()),
        }
        Ok(crate::admin::add_token(&*self.store, name, None, scope).await?)
    }
}

/// Makes sure someone can log in: the configured bootstrap token, or on an
/// empty database a first user whose new token is printed once.
async fn bootstrap(
    store: &dyn Store,
    settings: &ServerSettings,
    public_url: &str,
) -> anyhow::Result<()> {
    let user = ResourceName::parse("User", &settings.bootstrap_user)?;
    if let Some(token) = &settings.bootstrap_token {
        anyhow::ensure!(
            token.len() >= 20,
            "the bootstrap token must be at least 20 characters long"
        );
        store.ensure_user_token(&user, hash_token(token)).await?;
        tracing::info!(user = %user, "bootstrap user and token are present");
        return Ok(());
    }
    if !settings.bootstrap_on_empty || store.user_count().await? > 0 {
        return Ok(());
    }
    let token = generate_token();
    store.ensure_user_token(&user, hash_token(&token)).await?;
    // Printed, not logged: the token is shown this once and never stored.
    println!(
        "\nCreated the first user '{user}' with this API token (shown only now):\n\n    {token}\n\n\
         Try it:\n\n    curl -s -X PUT '{public_url}/{user}/apps/my-app?apiToken={token}'\n"
    );
    Ok(())
}
