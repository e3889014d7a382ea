//! The commands a CI job runs against a shiplog server over HTTP: record
//! builds, deploys, pushes, releases and incidents, and read events,
//! status and DORA metrics. Each is thin over `shiplog-client`; what a job
//! is about comes from its CI's variables ([`ci`]) or git ([`git`]).

mod builds;
mod ci;
mod deploys;
mod dora;
mod git;
mod incidents;
mod job;
mod listing;
mod repo;
mod say;
mod session;
mod table;
mod wrap;

use clap::Subcommand;

/// The commands that talk to a server.
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Record a BUILD around a command: Running, then Success, Failed or
    /// Cancelled; print its id; exit with the command's status.
    #[command(
        after_help = "Examples:\n  shiplog run -- make test\n  shiplog run --release \"$VERSION\" -- ./build.sh"
    )]
    Run(builds::RunArgs),
    /// Record deploys: around a command, or started and finished apart.
    #[command(subcommand)]
    Deploy(deploys::DeployCommand),
    /// Record a PUSH (or a PULLREQUEST) of the commit and print its id.
    #[command(after_help = "Example:\n  shiplog push --branch main")]
    Push(builds::PushArgs),
    /// Record a BUILD started here and finished in a later step.
    #[command(subcommand)]
    Build(BuildCommand),
    /// Record a RELEASE and print its id.
    #[command(after_help = "Example:\n  shiplog release v1.4.2 --build \"$BUILD_ID\"")]
    Release(builds::ReleaseArgs),
    /// Record incidents: open when production breaks, resolve when repaired.
    #[command(subcommand)]
    Incident(incidents::IncidentCommand),
    /// List the app's events, newest first, every page: a table or JSON lines.
    #[command(
        after_help = "Examples:\n  shiplog events --type deploy --env production\n  shiplog events --branch main --json | jq -r .commit_id"
    )]
    Events(listing::EventsArgs),
    /// Show what runs in each env of the app, and its last deploy.
    #[command(after_help = "Example:\n  shiplog status")]
    Status(listing::StatusArgs),
    /// Show DORA's five metrics of the app (or, without one, the account).
    #[command(
        after_help = "Example:\n  shiplog dora --from 2026-01-01 --to 2026-04-01 --bucket month"
    )]
    Dora(dora::DoraArgs),
}

// Parsed once per process: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum BuildCommand {
    /// Record a BUILD running now and print its id.
    #[command(after_help = "Example:\n  ID=$(shiplog build start)")]
    Start(builds::BuildStartArgs),
    /// End a BUILD that `build start` recorded.
    #[command(
        after_help = "Example:\n  shiplog build finish \"$ID\" --status Success --release v1.4.2"
    )]
    Finish(builds::BuildFinishArgs),
}

/// Runs `command`; returns the process's exit status.
pub async fn run(command: ClientCommand) -> u8 {
    match command {
        ClientCommand::Run(args) => builds::run(args).await,
        ClientCommand::Deploy(command) => deploys::command(command).await,
        ClientCommand::Push(args) => builds::push(args).await,
        ClientCommand::Build(BuildCommand::Start(args)) => builds::start(args).await,
        ClientCommand::Build(BuildCommand::Finish(args)) => builds::finish(args).await,
        ClientCommand::Release(args) => builds::release(args).await,
        ClientCommand::Incident(command) => incidents::command(command).await,
        ClientCommand::Events(args) => listing::events(args).await,
        ClientCommand::Status(args) => listing::status(args).await,
        ClientCommand::Dora(args) => dora::command(args).await,
    }
}

/// The message of a flag that takes one of `accepted`: "expected A, B or C".
fn expected_one_of<'a>(accepted: impl Iterator<Item = &'a str>) -> String {
    let accepted: Vec<&str> = accepted.collect();
    match accepted.split_last() {
        Some((last, [])) => format!("expected {last}"),
        Some((last, rest)) => format!("expected {} or {last}", rest.join(", ")),
        None => "expected nothing".to_owned(),
    }
}
