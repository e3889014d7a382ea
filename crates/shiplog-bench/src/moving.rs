//! The migration scenario: `shiplog migrate` of the benchmark's large
//! SQLite store into a fresh PostgreSQL database, timed, with the peak
//! memory of the migrating process, which must stay bounded however large
//! the store.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use shiplog_store_postgres::testing::TempDatabase;

/// What one migration took.
pub struct Moved {
    pub seconds: f64,
    /// The migrating process's peak resident memory, in bytes.
    pub peak_rss: u64,
    /// The last lines it printed (its per-table summary).
    pub summary: String,
}

/// Runs `shiplog migrate --from SOURCE --to` a new database on `server`,
/// which is dropped afterwards.
pub async fn migrate(shiplog: &Path, source: &str, server: &str) -> anyhow::Result<Moved> {
    let target = TempDatabase::create(server)
        .await
        .context("creating the migration's target database")?;
    let started = Instant::now();
    let (output, peak_rss) = tokio::task::spawn_blocking({
        let (shiplog, source, to) = (shiplog.to_owned(), source.to_owned(), target.url.clone());
        move || run_watched(&shiplog, &source, &to)
    })
    .await??;
    let seconds = started.elapsed().as_secs_f64();
    if !output.status.success() {
        bail!(
            "shiplog migrate failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(Moved {
        seconds,
        peak_rss,
        summary: String::from_utf8_lossy(&output.stdout).trim().to_owned(),
    })
}

/// Runs the migration, reading its peak resident memory (`VmHWM`) from
/// `/proc` while it runs.
fn run_watched(shiplog: &Path, source: &str, to: &str) -> anyhow::Result<(Output, u64)> {
    let child = Command::new(shiplog)
        .args(["migrate", "--from", source, "--to", to])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let status = format!("/proc/{}/status", child.id());
    let done = Arc::new(AtomicBool::new(false));
    let watcher = std::thread::spawn({
        let done = done.clone();
        move || {
            let mut peak = 0;
            while !done.load(Ordering::Relaxed) {
                peak = peak.max(high_water_mark(&status).unwrap_or(0));
                std::thread::sleep(Duration::from_millis(50));
            }
            peak
        }
    });
    let output = child.wait_with_output()?;
    done.store(true, Ordering::Relaxed);
    let peak = watcher.join().unwrap_or(0);
    Ok((output, peak))
}

/// `VmHWM` of a `/proc/PID/status` file, in bytes.
fn high_water_mark(path: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
