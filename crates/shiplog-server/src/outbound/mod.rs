//! What shiplog sends out: the targets outbound webhooks may be aimed at,
//! and the workers that deliver to them.

pub mod message;
mod targets;
pub mod worker;

pub use targets::Targets;
