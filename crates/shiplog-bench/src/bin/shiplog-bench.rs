//! `shiplog-bench`: runs the benchmark against the release build of shiplog
//! and the floor server, and prints the Markdown report.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;
use shiplog_bench::runner::{self, Config};

/// Benchmarks shiplog against a floor server over loopback HTTP.
///
/// Expects `shiplog` and `shiplog-floor` release binaries beside this one
/// (`scripts/bench` builds them first).
#[derive(Parser)]
struct Args {
    /// A database URL for shiplog instead of fresh SQLite files, e.g.
    /// postgres://user:pass@127.0.0.1/shiplog_bench (a disposable database:
    /// each run adds two apps and their events to it).
    #[arg(long, env = "SHIPLOG_BENCH_DATABASE_URL")]
    database: Option<String>,
    /// Measured seconds per scenario and server.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Unmeasured seconds before each measurement.
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Events in the large store's big app (the DORA scenario's apps add
    /// about 11 thousand more beside it).
    #[arg(long, default_value_t = 2_000_000)]
    large_events: u64,
    /// Events in the small store.
    #[arg(long, default_value_t = 10_000)]
    small_events: u64,
    /// Connections of the overload runs: the 1,000, then a run with
    /// many more, far past shiplog's bounds on requests in flight (256) and
    /// waiting writes (1,024).
    #[arg(long, value_delimiter = ',', default_values_t = [1000, 6000])]
    overload_connections: Vec<usize>,
    /// Concurrent `create_event` calls while seeding.
    #[arg(long, default_value_t = 1024)]
    seed_tasks: usize,
    /// Run only these scenarios (list-10k, ingest-1, ingest-16, ingest-64,
    /// ingest-64-live, mix-64, overload-N, hooks-16, list-2m, ui-account-2m,
    /// ui-timeline-2m, dora-2m, dora-2m-1, migrate-2m, pg-list-10k,
    /// pg-ingest-1, pg-ingest-64, pg-ingest-64-two); a prefix before `-`
    /// selects a family (ingest, overload, hooks, list, ui, dora, migrate,
    /// pg). The pg scenarios and migrate-2m need SHIPLOG_TEST_POSTGRES_URL
    /// (a PostgreSQL server the benchmark may create a database on), and
    /// are skipped with a note without it.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Where the temporary stores and server logs go (default: the system's
    /// temporary folder; it should be on a real disk, since commits fsync).
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// The shiplog binary (default: `shiplog` beside this program).
    #[arg(long)]
    shiplog_bin: Option<PathBuf>,
    /// The floor binary (default: `shiplog-floor` beside this program).
    #[arg(long)]
    floor_bin: Option<PathBuf>,
    /// Also write the report to this file.
    #[arg(long)]
    output: Option<PathBuf>,
}

fn beside_me(name: &str) -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe().context("locating this program")?;
    Ok(me.with_file_name(name))
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let config = Config {
        shiplog_bin: match args.shiplog_bin {
            Some(path) => path,
            None => beside_me("shiplog")?,
        },
        floor_bin: match args.floor_bin {
            Some(path) => path,
            None => beside_me("shiplog-floor")?,
        },
        database: args.database,
        work_dir: args.work_dir,
        duration: Duration::from_secs_f64(args.duration),
        warmup: Duration::from_secs_f64(args.warmup),
        small_events: args.small_events,
        large_events: args.large_events,
        overload_connections: args.overload_connections,
        seed_tasks: args.seed_tasks,
        only: args.only,
    };
    for bin in [&config.shiplog_bin, &config.floor_bin] {
        if !bin.is_file() {
            bail!(
                "{} is missing: build it first with \
                 `cargo build --release -p shiplog-server -p shiplog-bench` (or run scripts/bench)",
                bin.display()
            );
        }
    }
    // Two threads: the load generator's own thread and the seeding tasks
    // share them; servers run in their own processes.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let report = runtime.block_on(async {
        tokio::select! {
            report = runner::run(config) => report,
            _ = tokio::signal::ctrl_c() => bail!("interrupted; the servers were stopped"),
        }
    })?;
    // Dropping the runtime does not wait for the load generator's thread.
    runtime.shutdown_timeout(Duration::from_secs(1));
    println!("{report}");
    if let Some(path) = args.output {
        std::fs::write(&path, &report).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
