//! `dora`: GetDora as tables, the five metrics and then each bucket.

use clap::Args;
use shiplog_client::DoraQuery;
use shiplog_client::api::DoraOut;
use shiplog_domain::dora::benchmark::Level;

use super::listing::failed;
use super::say;
use super::session::{ServerArgs, Session};
use super::table::{Table, or_dash};

#[derive(Debug, Args)]
pub struct DoraArgs {
    /// One env of the app (default: its production envs).
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,
    /// RFC 3339 or YYYY-MM-DD (default: 90 days before --to).
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// RFC 3339 or YYYY-MM-DD, excluded (default: now).
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    /// day, week (the default) or month.
    #[arg(long, value_name = "BUCKET")]
    pub bucket: Option<String>,
    /// The IANA time zone of the buckets and days (default: UTC).
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// The benchmark set of the levels: 2021, 2023 (the default) or 2024.
    #[arg(long, value_name = "YEAR")]
    pub benchmark: Option<String>,
    /// The answer as the API gives it, on one line.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub server: ServerArgs,
}

pub async fn command(args: DoraArgs) -> u8 {
    let session = Session::open(&args.server);
    let client = match session.client() {
        Ok(client) => client,
        Err(failure) => return failed(failure),
    };
    let query = DoraQuery {
        // Without an app, the account's every app.
        app: session.app_name().map(str::to_owned),
        env: args.env,
        from: args.from,
        to: args.to,
        bucket: args.bucket,
        tz: args.tz,
        benchmark: args.benchmark,
    };
    let dora = match client.dora(&query).await {
        Ok(dora) => dora,
        Err(err) => return failed(err.into()),
    };
    if args.json {
        say::out(&serde_json::to_string(&dora).expect("DORA answers serialise"));
    } else {
        print(&dora);
    }
    0
}

fn print(dora: &DoraOut) {
    let envs = if dora.envs.is_empty() {
        "no production envs".to_owned()
    } else {
        dora.envs.join(", ")
    };
    say::out(&format!(
        "{} ({envs}), {} to {}, by {} in {}, {} benchmarks",
        dora.app.as_deref().unwrap_or("every app"),
        dora.from,
        dora.to,
        dora.bucket,
        dora.tz,
        dora.benchmark
    ));
    say::out("");
    let frequency = &dora.deployment_frequency;
    let lead = &dora.change_lead_time;
    let fail = &dora.change_fail_rate;
    let recovery = &dora.recovery_time;
    let rework = &dora.rework_rate;
    let mut metrics = Table::new(&["METRIC", "VALUE", "LEVEL"]);
    metrics.row(vec![
        "deployment frequency".into(),
        format!(
            "{}, {:.2} a day, on {}",
            counted(frequency.count, "deployment", "deployments"),
            frequency.per_day,
            counted(frequency.days_with_deployment, "day", "days")
        ),
        level(frequency.level),
    ]);
    metrics.row(vec![
        "change lead time".into(),
        format!(
            "median {}, p90 {} ({})",
            duration(lead.median_seconds),
            duration(lead.p90_seconds),
            counted(lead.count, "change", "changes")
        ),
        level(lead.level),
    ]);
    metrics.row(vec![
        "change fail rate".into(),
        format!("{} ({} of {})", percent(fail.rate), fail.failed, fail.total),
        level(fail.level),
    ]);
    metrics.row(vec![
        "recovery time".into(),
        format!(
            "median {} ({})",
            duration(recovery.median_seconds),
            counted(recovery.count, "recovery", "recoveries")
        ),
        level(recovery.level),
    ]);
    metrics.row(vec![
        "rework rate".into(),
        format!(
            "{} ({} of {})",
            percent(rework.rate),
            rework.rework,
            rework.total
        ),
        "-".into(),
    ]);
    metrics.print();
    say::out("");
    let mut buckets = Table::new(&[
        "BUCKET",
        "DEPLOYMENTS",
        "LEAD TIME",
        "FAILED",
        "RECOVERY",
        "REWORK",
    ]);
    for (i, bucket) in frequency.buckets.iter().enumerate() {
        let lead = lead.buckets.get(i);
        let fail = fail.buckets.get(i);
        let recovery = recovery.buckets.get(i);
        let rework = rework.buckets.get(i);
        buckets.row(vec![
            bucket.start.to_string(),
            bucket.count.to_string(),
            duration(lead.and_then(|b| b.median_seconds)),
            or_dash(fail.map(|b| format!("{} of {}", b.failed, b.total))),
            duration(recovery.and_then(|b| b.median_seconds)),
            or_dash(rework.map(|b| format!("{} of {}", b.rework, b.total))),
        ]);
    }
    buckets.print();
}

fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A level as the API names it.
fn level(level: Option<Level>) -> String {
    let name = level
        .and_then(|level| serde_json::to_value(level).ok())
        .and_then(|value| value.as_str().map(str::to_owned));
    or_dash(name)
}

fn percent(rate: Option<f64>) -> String {
    or_dash(rate.map(|rate| format!("{:.0}%", rate * 100.0)))
}

/// Seconds as people read them: `2h 0m`, `3d 4h`, `45s`.
fn duration(seconds: Option<f64>) -> String {
    let Some(seconds) = seconds else {
        return "-".to_owned();
    };
    let total = seconds.round() as u64;
    let (days, hours, minutes, secs) = (
        total / 86_400,
        total % 86_400 / 3_600,
        total % 3_600 / 60,
        total % 60,
    );
    if days > 0 {
        format!("{days}d {hours}h")
    } else if hours > 0 {
        format!("{hours}h {minutes}m")
    } else if minutes > 0 {
        format!("{minutes}m {secs}s")
    } else {
        format!("{secs}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_at_their_scale() {
        assert_eq!(duration(Some(7200.0)), "2h 0m");
        assert_eq!(duration(Some(46800.0)), "13h 0m");
        assert_eq!(duration(Some(90_000.0)), "1d 1h");
        assert_eq!(duration(Some(125.4)), "2m 5s");
        assert_eq!(duration(Some(3.0)), "3s");
        assert_eq!(duration(None), "-");
    }
}
