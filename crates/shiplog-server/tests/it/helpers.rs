//! The test harness: a real shiplog server on a fresh store, and a client.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use shiplog_server::startup::{RunningServer, ServerSettings};
use shiplog_store_postgres::testing::{TempDatabase, postgres_server_url};
use tempfile::TempDir;

/// Set to `postgres` to run this suite on PostgreSQL (on the server named by
/// `SHIPLOG_TEST_POSTGRES_URL`) instead of SQLite.
pub const BACKEND_VAR: &str = "SHIPLOG_TEST_BACKEND";

/// A running server on its own fresh store, with one account (`jdoe`) and
/// its token.
pub struct TestApp {
    pub server: RunningServer,
    pub base: String,
    pub token: String,
    pub client: reqwest::Client,
    pub store: TestStore,
}

/// Where a test server keeps its data; dropped with the test.
pub enum TestStore {
    Sqlite(TempDir),
    Postgres(TempDatabase),
}

impl TestStore {
    async fn fresh() -> TestStore {
        if std::env::var(BACKEND_VAR).as_deref() == Ok("postgres") {
            let server = postgres_server_url()
                .expect("SHIPLOG_TEST_POSTGRES_URL names the PostgreSQL server");
            let database = TempDatabase::create(&server)
                .await
                .expect("a fresh PostgreSQL database");
            TestStore::Postgres(database)
        } else {
            TestStore::Sqlite(tempfile::tempdir().expect("temp dir"))
        }
    }

    fn url(&self) -> String {
        match self {
            TestStore::Sqlite(dir) => {
                format!("sqlite://{}", dir.path().join("shiplog.db").display())
            }
            TestStore::Postgres(database) => database.url.clone(),
        }
    }
}

/// A response: status, headers and the body parsed as JSON (`Value::Null`
/// when empty).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Answer {
    /// The `error.code` of an error body.
    pub fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("")
    }

    pub fn message(&self) -> &str {
        self.json["error"]["message"].as_str().unwrap_or("")
    }
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_in(TestStore::fresh().await).await
    }

    /// A server whose settings `adjust` changes first.
    pub async fn spawn_with(adjust: impl FnOnce(&mut ServerSettings)) -> TestApp {
        let store = TestStore::fresh().await;
        let mut settings = ServerSettings::for_tests(&store.url());
        adjust(&mut settings);
        Self::start(store, settings).await
    }

    async fn spawn_in(store: TestStore) -> TestApp {
        let settings = ServerSettings::for_tests(&store.url());
        Self::start(store, settings).await
    }

    async fn start(store: TestStore, settings: ServerSettings) -> TestApp {
        let server = RunningServer::start(settings).await.expect("server starts");
        let token = server.add_user_or_token("jdoe").await.expect("user");
        TestApp {
            base: format!("http://{}", server.addr),
            server,
            token,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            store,
        }
    }

    /// Stops the server gracefully and starts a new one on the same store.
    pub async fn restart(self) -> TestApp {
        let TestApp { server, store, .. } = self;
        server.stop().await;
        Self::spawn_in(store).await
    }

    /// Creates another account and returns its token.
    pub async fn new_account(&self, name: &str) -> String {
        self.server.add_user_or_token(name).await.expect("user")
    }

    /// `path` with the test account's token appended as `apiToken`.
    pub fn url(&self, path: &str) -> String {
        self.url_with_token(path, &self.token)
    }

    pub fn url_with_token(&self, path: &str, token: &str) -> String {
        let sep = if path.contains('?') { '&' } else { '?' };
        format!("{}{path}{sep}apiToken={token}", self.base)
    }

    /// Sends `body` (raw bytes, no content type) to `url`.
    pub async fn send_raw(&self, method: Method, url: &str, body: Option<&[u8]>) -> Answer {
        self.send_with_headers(method, url, body, &[]).await
    }

    /// Sends `body` (raw bytes, no content type) to `url` with `headers`.
    pub async fn send_with_headers(
        &self,
        method: Method,
        url: &str,
        body: Option<&[u8]>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut request = self.client.request(method, url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.body(body.to_vec());
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::Null)
        };
        Answer {
            status,
            headers,
            text,
            json,
        }
    }

    /// Sends JSON to `path` with the test account's token.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let bytes = body.map(|b| serde_json::to_vec(&b).unwrap());
        self.send_raw(method, &self.url(path), bytes.as_deref())
            .await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Answer {
        self.call(Method::PUT, path, Some(body)).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.call(Method::DELETE, path, None).await
    }

    /// Creates an app of the test account; panics unless it answers 200.
    pub async fn create_app(&self, app: &str) {
        let answer = self
            .put(&format!("/jdoe/apps/{app}"), serde_json::json!({}))
            .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
    }

    /// Creates an event with `kind` (`pushEvent`, `buildEvent`, …) and
    /// returns its id.
    pub async fn create_event(&self, app: &str, kind: &str, body: Value) -> i64 {
        let answer = self
            .put(&format!("/jdoe/apps/{app}/events/{kind}"), body)
            .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        answer.json["event_id"]
            .as_str()
            .expect("event_id is a string")
            .parse()
            .expect("event_id is numeric")
    }
}
