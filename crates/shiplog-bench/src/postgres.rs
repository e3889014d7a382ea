//! What the PostgreSQL scenarios need beside shiplog: the reference rate of
//! `pgbench` inserting one row of shiplog's own events table per
//! transaction, on the benchmark's database, in the same run.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail};
use sqlx::Connection;

/// `pgbench`'s figures for single-row transactions.
#[derive(Clone, Debug)]
pub struct Pgbench {
    pub clients: usize,
    pub seconds: u64,
    /// Transactions per second, without the initial connection time.
    pub tps: f64,
    /// The script it ran, for the report.
    pub script: String,
}

/// The script: one BUILD of `app_id`, shaped like the benchmark's own
/// CreateBuildEvent bodies (a branch of 50, a fresh commit and build id),
/// in a transaction of its own.
fn script(app_id: i64) -> String {
    format!(
        "\\set n random(1, 1000000000)\n\
         INSERT INTO events (app_id, event_type, event_time_ms, author_name, author_username, \
         branch, commit_id, commit_msg, repo_name, repo_owner, repo_provider, build_id, \
         build_provider, build_start_ms, build_status, build_url) VALUES ({app_id}, 'BUILD', \
         1764000000000 + :n, 'Bench Author', 'bench-author', 'feature-' || (:n % 50), \
         md5(:n::text), 'Make the benchmark faster', 'storefront', 'bench', 'github', \
         'build-' || :n, 'jenkins', 1764000000000 + :n, 'Running', \
         'https://ci.example.com/job/' || :n);\n"
    )
}

/// Runs `pgbench -n -c CLIENTS -j 2 -T SECONDS -f SCRIPT` on the database at
/// `url` (a URL of a database shiplog has migrated), inserting into the
/// events of the app named `app`.
pub async fn run(
    url: &str,
    app: &str,
    clients: usize,
    seconds: u64,
    work: &Path,
) -> anyhow::Result<Pgbench> {
    let mut conn = sqlx::PgConnection::connect(url).await?;
    let app_id: i64 = sqlx::query_scalar("SELECT id FROM apps WHERE name = $1")
        .bind(app)
        .fetch_one(&mut conn)
        .await
        .with_context(|| format!("finding the app {app} for pgbench"))?;
    conn.close().await?;
    let script = script(app_id);
    let file = work.join("pgbench-insert.sql");
    std::fs::write(&file, &script)?;
    let output = tokio::task::spawn_blocking({
        let (file, url) = (file.clone(), url.to_owned());
        move || {
            Command::new("pgbench")
                .args(["-n", "-c", &clients.to_string(), "-j", "2"])
                .args(["-T", &seconds.to_string(), "-f"])
                .arg(&file)
                .arg(&url)
                .output()
        }
    })
    .await?
    .context("running pgbench (is it installed? Debian: postgresql-client)")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "pgbench failed: {}{}",
            stdout,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let tps = stdout
        .lines()
        .find(|line| line.starts_with("tps = "))
        .and_then(|line| line["tps = ".len()..].split_whitespace().next())
        .and_then(|n| n.parse::<f64>().ok())
        .with_context(|| format!("no tps in pgbench's output: {stdout}"))?;
    // Let PostgreSQL settle before shiplog is measured.
    tokio::time::sleep(Duration::from_millis(500)).await;
    Ok(Pgbench {
        clients,
        seconds,
        tps,
        script,
    })
}
