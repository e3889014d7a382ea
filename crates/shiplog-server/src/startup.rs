//! Building and running the server on a listener it is given, so tests run
//! the real thing on port 0.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::ServiceExt as _;
use shiplog_domain::token::{generate_token, hash_token};
use shiplog_domain::{MarkerCodec, ResourceName};
use shiplog_store::Store;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tower::Layer;

use crate::middleware::{discard_ignored_body, normalize_path, request_log};
use crate::routes::router;
use crate::state::{AppState, SharedState};

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
        }
    }
}

type Request = axum::http::Request<axum::body::Body>;

/// The full service: the router inside the plumbing that must run before
/// routing.
pub type Service = tower::util::MapRequest<axum::Router, fn(Request) -> Request>;

pub fn app(state: SharedState) -> Service {
    let routed = router(state)
        .layer(axum::middleware::from_fn(discard_ignored_body))
        .layer(axum::middleware::from_fn(request_log));
    tower::util::MapRequestLayer::new(normalize_path as fn(Request) -> Request).layer(routed)
}

/// A server running in the background of this process.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub store: Arc<dyn Store>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    /// Opens the store, binds, bootstraps and starts serving.
    pub async fn start(settings: ServerSettings) -> anyhow::Result<RunningServer> {
        let store = shiplog_store::open(&settings.database)
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
        let state = Arc::new(AppState {
            markers: MarkerCodec::new(&store.marker_secret().await?),
            store: store.clone(),
            public_url,
        });
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, state, async {
            let _ = stopped.await;
        }));
        Ok(RunningServer {
            addr,
            store,
            stop: Some(stop),
            task,
        })
    }

    /// Stops accepting, lets in-flight requests finish, and waits.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }

    /// Waits until the server ends (after a signal passed to `stop`).
    pub async fn wait(self, signal: impl Future<Output = ()>) -> std::io::Result<()> {
        signal.await;
        let RunningServer { stop, task, .. } = self;
        if let Some(stop) = stop {
            let _ = stop.send(());
        }
        task.await.map_err(std::io::Error::other)?
    }

    /// A new token for `name`, creating the user if needed (tests and tools).
    pub async fn add_user_or_token(&self, name: &str) -> anyhow::Result<String> {
        let user = ResourceName::parse("User", name)?;
        match self.store.create_user(&user).await {
            Ok(())
            | Err(shiplog_store::StoreError::Domain(shiplog_domain::DomainError::AlreadyExists(
                _,
            ))) => {}
            Err(err) => return Err(err.into()),
        }
        Ok(crate::admin::add_token(&*self.store, name, None).await?)
    }
}

async fn serve(
    listener: TcpListener,
    state: SharedState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(state).into_make_service())
        .with_graceful_shutdown(shutdown)
        .await
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
