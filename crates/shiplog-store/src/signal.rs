//! The wake-up of those who follow the change record (the stream, the
//! webhook workers): a counter bumped after each commit. It carries no
//! data: a follower that wakes reads the record after its own cursor, so a
//! wake-up missed or doubled delays or repeats a read, never a change.

use std::sync::Arc;

use tokio::sync::watch;

#[derive(Debug, Clone)]
pub struct ChangeSignal(Arc<watch::Sender<u64>>);

impl Default for ChangeSignal {
    fn default() -> Self {
        ChangeSignal(Arc::new(watch::Sender::new(0)))
    }
}

impl ChangeSignal {
    /// Wakes every follower: something may have been committed.
    pub fn bump(&self) {
        self.0.send_modify(|count| *count = count.wrapping_add(1));
    }

    /// A receiver that sees every bump after this call.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.0.subscribe()
    }
}
