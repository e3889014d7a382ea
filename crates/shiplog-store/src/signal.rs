//! The wake-up of those who follow the change record (the stream) and of
//! the webhook workers: counters bumped after commits. They carry no data:
//! a follower that wakes reads the record after its own cursor, and a
//! worker reads when the next delivery is due, so a wake-up doubled
//! repeats a read, never a change. The workers' counter is bumped only by
//! commits that may have changed the outbox: a batch of event writes that
//! queued no delivery (no webhook wants its changes) leaves them asleep.

use std::sync::Arc;

use tokio::sync::watch;

/// The payload of PostgreSQL's commit notification for a commit that may
/// have changed the outbox (the others carry an empty one).
pub const OUTBOX_TOUCHED: &str = "outbox";

#[derive(Debug, Clone)]
pub struct ChangeSignal {
    changes: Arc<watch::Sender<u64>>,
    outbox: Arc<watch::Sender<u64>>,
}

impl Default for ChangeSignal {
    fn default() -> Self {
        ChangeSignal {
            changes: Arc::new(watch::Sender::new(0)),
            outbox: Arc::new(watch::Sender::new(0)),
        }
    }
}

impl ChangeSignal {
    /// Wakes everyone: anything may have been committed.
    pub fn bump(&self) {
        self.committed(true);
    }

    /// Wakes the followers of the change record after a commit, and the
    /// webhook workers too if it may have changed the outbox.
    pub fn committed(&self, outbox_touched: bool) {
        bump(&self.changes);
        if outbox_touched {
            bump(&self.outbox);
        }
    }

    /// A receiver that sees every commit after this call.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// A receiver that sees every commit that may have changed the outbox
    /// after this call.
    pub fn subscribe_outbox(&self) -> watch::Receiver<u64> {
        self.outbox.subscribe()
    }
}

fn bump(sender: &watch::Sender<u64>) {
    sender.send_modify(|count| *count = count.wrapping_add(1));
}
