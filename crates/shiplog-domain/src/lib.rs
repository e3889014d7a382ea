//! shiplog's domain: the types, rules and wire shapes of the Events API, with no I/O.
//!
//! Everything here is pure: parsing request bodies into typed values, the
//! state machines of builds and deploys, pagination markers and tokens. The
//! store enforces the same rules atomically; the server maps them to HTTP.

pub mod access;
pub mod change;
pub mod dora;
pub mod error;
pub mod event;
pub mod filter;
pub mod idempotency;
pub mod input;
pub mod names;
pub mod outbound;
pub mod page;
pub mod resources;
pub mod rules;
pub mod timestamp;
pub mod token;

pub use access::Level;
pub use change::{Actor, Change, ChangeKind, NewChange};
pub use error::DomainError;
pub use event::{
    BuildStatus, DeploymentStatus, DeploymentType, Event, EventFields, EventType, RepoProvider,
};
pub use filter::EventFilter;
pub use names::ResourceName;
pub use page::{MarkerCodec, Order, PageRequest};
pub use timestamp::Timestamp;
