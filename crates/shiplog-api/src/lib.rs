//! shiplog's wire types: the bodies every call takes (`…In`) and answers
//! (`…Out`), owned, serialisable both ways, with their OpenAPI schemas.
//!
//! The server answers with these types and generates its OpenAPI
//! description from them; a client sends and reads the same types. Domain
//! values convert into them; storage rows never reach the wire.

pub mod changes;
pub mod dora;
pub mod error;
pub mod event;
pub mod hooks;
pub mod inputs;
pub mod members;
pub mod resources;
pub mod webhooks;

pub use changes::{ActorOut, ChangeListOut, ChangeOut, CommitOut, DeployedOut, LineageOut};
pub use dora::{DoraEnvelope, DoraOut};
pub use error::{ErrorBody, ErrorDetail};
pub use event::{CreatedOut, EventEnvelope, EventListOut, EventOut};
pub use inputs::{
    AppIn, BuildEventIn, CommitFieldsIn, DeployEventIn, EnvIn, EventUpdateIn, IncidentEventIn,
    ReleaseEventIn,
};
pub use resources::{AppEnvelope, AppListOut, AppOut, EnvEnvelope, EnvListOut, EnvOut, EnvVarOut};
