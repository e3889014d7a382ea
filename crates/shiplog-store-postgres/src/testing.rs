//! Fresh PostgreSQL databases for test suites: each one is created on the
//! server named by `SHIPLOG_TEST_POSTGRES_URL` and dropped when done.

use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};

/// The variable naming the PostgreSQL server the PostgreSQL suites use,
/// e.g. `postgres://postgres@127.0.0.1:5432`.
pub const POSTGRES_URL_VAR: &str = "SHIPLOG_TEST_POSTGRES_URL";

/// The server URL, if the PostgreSQL suites are to run.
pub fn postgres_server_url() -> Option<String> {
    std::env::var(POSTGRES_URL_VAR)
        .ok()
        .filter(|v| !v.is_empty())
}

/// A fresh database on the server of [`POSTGRES_URL_VAR`]; `None`, with a
/// notice on stderr, when the variable is not set (the test then skips).
pub async fn fresh_database() -> Option<TempDatabase> {
    let Some(server) = postgres_server_url() else {
        eprintln!("skipped: {POSTGRES_URL_VAR} is not set");
        return None;
    };
    Some(TempDatabase::create(&server).await.unwrap())
}

/// A database that exists for the life of this value.
pub struct TempDatabase {
    /// The URL of the new database.
    pub url: String,
    server: String,
    name: String,
}

impl TempDatabase {
    pub async fn create(server: &str) -> Result<TempDatabase, sqlx::Error> {
        let name = format!("shiplog_test_{}", shiplog_domain::token::random_alnum(12));
        let mut admin = PgConnectOptions::from_str(server)?.connect().await?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await?;
        admin.close().await?;
        Ok(TempDatabase {
            url: format!("{}/{name}", server_base(server)),
            server: server.to_owned(),
            name,
        })
    }
}

/// `postgres://user@host:port` without any database or options.
fn server_base(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find(['/', '?']) {
        Some(end) => &url[..after_scheme + end],
        None => url,
    }
}

impl Drop for TempDatabase {
    fn drop(&mut self) {
        let (server, name) = (self.server.clone(), self.name.clone());
        // Drop may run inside a runtime or after a panic: use a thread of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async move {
                let mut admin = PgConnectOptions::from_str(&server)?.connect().await?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await?;
                admin.close().await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop the test database {}", self.name);
        }
    }
}
