//! Retention in the server: a background task that prunes on a schedule,
//! and `shiplog prune`, which prunes at once (see
//! [`shiplog_store::retention`] for what goes and what stays).

use std::sync::Arc;
use std::time::Duration;

use shiplog_domain::Timestamp;
use shiplog_store::retention::{self, Policy};
use shiplog_store::{Result, Store};

/// How often the server prunes when it runs a pruner.
pub const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// The first pass waits a little after the start, so that starting stays quick.
const FIRST_PASS_AFTER: Duration = Duration::from_secs(60);

/// Prunes every `every`, by the apps' own `retention_days` and else
/// `default_days`. A failed pass is logged and retried at the next.
pub fn spawn(
    store: Arc<dyn Store>,
    default_days: Option<u32>,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        tokio::time::sleep(FIRST_PASS_AFTER.min(every)).await;
        loop {
            let policy = Policy {
                before: None,
                default_days,
                now: Timestamp::now(),
            };
            match retention::run(&*store, policy, false, |_| {}).await {
                Ok(summary) if summary.busy => {
                    tracing::info!("another instance is pruning; this one waits for its next pass")
                }
                Ok(summary) => tracing::info!(removed = summary.removed, "pruned old events"),
                Err(err) => tracing::warn!(error = %err, "pruning failed"),
            }
            tokio::time::sleep(every).await;
        }
    })
}

/// `shiplog prune`: prints each event that goes (or would go), then a total.
pub async fn prune_now(
    store: &dyn Store,
    before: Option<Timestamp>,
    default_days: Option<u32>,
    dry_run: bool,
) -> Result<retention::Summary> {
    let policy = Policy {
        before,
        default_days,
        now: Timestamp::now(),
    };
    retention::run(store, policy, dry_run, |removed| {
        println!(
            "{}/{} {:>10} {:<12} {}",
            removed.account, removed.app, removed.event_id, removed.event_type, removed.event_time
        );
    })
    .await
}
