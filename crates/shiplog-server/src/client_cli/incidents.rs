//! INCIDENT events: `incident open` when production breaks, `incident
//! resolve` when it is repaired.

use clap::{Args, Subcommand};
use shiplog_client::api::{EventUpdateIn, IncidentEventIn};
use shiplog_domain::Timestamp;
use shiplog_domain::event::IncidentStatus;

use super::say;
use super::session::{NewEvent, ServerArgs, Session};

#[derive(Debug, Subcommand)]
pub enum IncidentCommand {
    /// Record an INCIDENT (open) in an env and print its id.
    #[command(
        after_help = "Example:\n  shiplog incident open --env production --title \"Checkout errors\" --severity SEV2 --caused-by 1234"
    )]
    Open(OpenArgs),
    /// Resolve an INCIDENT: it ends now, or at --end.
    #[command(after_help = "Example:\n  shiplog incident resolve 1240")]
    Resolve(ResolveArgs),
}

#[derive(Debug, Args)]
pub struct OpenArgs {
    /// The env that broke (created on first use).
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// What broke, for people.
    #[arg(long, value_name = "TEXT")]
    pub title: Option<String>,
    /// Free text, such as SEV1.
    #[arg(long, value_name = "SEVERITY")]
    pub severity: Option<String>,
    /// Where the incident is tracked (its `url`).
    #[arg(long, value_name = "URL")]
    pub link: Option<String>,
    /// The DEPLOY event that caused it.
    #[arg(long, value_name = "EVENT_ID")]
    pub caused_by: Option<String>,
    /// When it began (RFC 3339; default: now).
    #[arg(long, value_name = "TIME")]
    pub start: Option<String>,
    #[command(flatten)]
    pub server: ServerArgs,
}

#[derive(Debug, Args)]
pub struct ResolveArgs {
    /// The INCIDENT's id, as `incident open` printed it.
    #[arg(value_name = "ID")]
    pub id: String,
    /// When it was resolved (RFC 3339; default: now).
    #[arg(long, value_name = "TIME")]
    pub end: Option<String>,
    #[command(flatten)]
    pub server: ServerArgs,
}

pub async fn command(command: IncidentCommand) -> u8 {
    match command {
        IncidentCommand::Open(args) => {
            let session = Session::open(&args.server);
            let incident = IncidentEventIn {
                env_name: Some(args.env),
                title: args.title,
                severity: args.severity,
                url: args.link,
                caused_by_event_id: args.caused_by,
                incident_start: args.start,
                ..IncidentEventIn::default()
            };
            session.record(&NewEvent::Incident(incident)).await
        }
        IncidentCommand::Resolve(args) => {
            let session = Session::open(&args.server);
            let id = match session.event_id("INCIDENT", &args.id) {
                Ok(id) => id,
                Err(code) => return code,
            };
            let update = EventUpdateIn {
                incident_status: Some(IncidentStatus::Resolved.as_str().to_owned()),
                incident_end: Some(args.end.unwrap_or_else(|| Timestamp::now().to_string())),
                ..EventUpdateIn::default()
            };
            let result = session.update(id, &update).await;
            if result.is_ok() {
                say::note(&format!("INCIDENT {id} resolved"));
            }
            session.conclude("the resolution of the INCIDENT", result)
        }
    }
}
