//! The Markdown report: a table per scenario with shiplog, the floor and
//! their ratio, then the targets marked met or missed.

use std::fmt::Write as _;
use std::time::Duration;

use crate::loadgen::Outcome;

/// One server's figures in one scenario.
#[derive(Clone, Debug, Default)]
pub struct Figures {
    pub requests_per_second: f64,
    pub p50: Duration,
    pub p99: Duration,
    pub p999: Duration,
    /// The slowest request measured.
    pub max: Duration,
    pub non_2xx: u64,
    pub unavailable: u64,
    pub unavailable_with_retry_after: u64,
    pub io_errors: u64,
    pub first_error: Option<String>,
    pub peak_rss: Option<u64>,
    pub requests: u64,
    /// Cores kept busy by processes other than the server and the
    /// benchmark during the run (warm-up included): other work on the
    /// machine that the figures shared it with.
    pub others_cpu: Option<f64>,
    /// The most requests one connection sent, warm-up included.
    pub most_sent: u64,
}

impl Figures {
    pub fn from_outcome(outcome: &Outcome, peak_rss: Option<u64>) -> Figures {
        let all = outcome.all();
        Figures {
            requests_per_second: outcome.requests_per_second(),
            p50: Duration::from_nanos(all.quantile(0.50)),
            p99: Duration::from_nanos(all.quantile(0.99)),
            p999: Duration::from_nanos(all.quantile(0.999)),
            max: Duration::from_nanos(all.max()),
            non_2xx: outcome.non_2xx,
            unavailable: outcome.unavailable,
            unavailable_with_retry_after: outcome.unavailable_with_retry_after,
            io_errors: outcome.io_errors,
            first_error: outcome.first_error.clone(),
            peak_rss,
            requests: all.count(),
            others_cpu: None,
            most_sent: outcome.most_sent,
        }
    }
}

pub struct ScenarioReport {
    pub name: String,
    pub judged: bool,
    pub description: String,
    pub connections: usize,
    /// The measured time of each server.
    pub seconds: Duration,
    pub shiplog: Figures,
    pub floor: Figures,
}

pub fn mib(bytes: Option<u64>) -> String {
    bytes.map_or("n/a".into(), |b| format!("{:.1} MiB", b as f64 / 1048576.0))
}

pub fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.3} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 {
        format!("{:.2}×", a / b)
    } else {
        "n/a".into()
    }
}

impl ScenarioReport {
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "### {} ({} connection{})\n\n{}\n",
            self.name,
            self.connections,
            if self.connections == 1 { "" } else { "s" },
            self.description
        );
        let _ = writeln!(
            out,
            "| server | requests/s | p50 | p99 | p99.9 | slowest | non-2xx | peak RSS |\n|---|---:|---:|---:|---:|---:|---:|---:|"
        );
        for (name, f) in [("shiplog", &self.shiplog), ("floor", &self.floor)] {
            let mut non_2xx = f.non_2xx.to_string();
            if f.unavailable > 0 {
                let _ = write!(
                    non_2xx,
                    " ({} × 503, {} with Retry-After)",
                    f.unavailable, f.unavailable_with_retry_after
                );
            }
            if f.io_errors > 0 {
                let _ = write!(non_2xx, " + {} I/O errors", f.io_errors);
            }
            let _ = writeln!(
                out,
                "| {name} | {:.0} | {} | {} | {} | {} | {non_2xx} | {} |",
                f.requests_per_second,
                ms(f.p50),
                ms(f.p99),
                ms(f.p999),
                ms(f.max),
                mib(f.peak_rss)
            );
        }
        let (s, f) = (&self.shiplog, &self.floor);
        let _ = writeln!(
            out,
            "| shiplog/floor | {} | {} | {} | {} | {} | | {} |",
            ratio(s.requests_per_second, f.requests_per_second),
            ratio(s.p50.as_secs_f64(), f.p50.as_secs_f64()),
            ratio(s.p99.as_secs_f64(), f.p99.as_secs_f64()),
            ratio(s.p999.as_secs_f64(), f.p999.as_secs_f64()),
            ratio(s.max.as_secs_f64(), f.max.as_secs_f64()),
            ratio(
                s.peak_rss.unwrap_or(0) as f64,
                f.peak_rss.unwrap_or(0) as f64
            ),
        );
        if let (Some(a), Some(b)) = (s.others_cpu, f.others_cpu) {
            let _ = writeln!(
                out,
                "\nOther processes on the machine meanwhile: {a:.2} cores during shiplog's run, \
                 {b:.2} during the floor's."
            );
        }
        for (name, f) in [("shiplog", s), ("floor", f)] {
            if let Some(err) = &f.first_error {
                let _ = writeln!(out, "\n{name}'s first connection error: `{err}`");
            }
        }
        out
    }
}

/// A target of the issue and whether this run met it.
pub struct Target {
    pub what: String,
    pub measured: String,
    pub met: bool,
}

pub fn targets_markdown(targets: &[Target]) -> String {
    let mut out = String::from("| target | measured | |\n|---|---|---|\n");
    for t in targets {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            t.what,
            t.measured,
            if t.met { "met" } else { "**missed**" }
        );
    }
    out
}
