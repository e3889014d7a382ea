//! The commands that record deploys: `deploy run`, `deploy start`,
//! `deploy finish`.

use std::ffi::OsString;

use clap::{Args, Subcommand};
use shiplog_client::api::{DeployEventIn, EventUpdateIn};
use shiplog_domain::{DeploymentStatus, Timestamp};

use super::job::{Job, JobArgs};
use super::say;
use super::session::{NewEvent, ServerArgs, Session};
use super::wrap::{self, Ending, Outcome};

#[derive(Debug, Subcommand)]
pub enum DeployCommand {
    /// Record a DEPLOY around a command: InProgress, then Ok, Failed or
    /// Aborted (on SIGINT/SIGTERM); print its id; exit with the command's
    /// status.
    #[command(
        after_help = "Example:\n  shiplog deploy run --env production --release v1.4.2 -- ./deploy.sh production"
    )]
    Run(DeployRunArgs),
    /// Record a DEPLOY in progress and print its id.
    #[command(after_help = "Example:\n  ID=$(shiplog deploy start --env staging --release v1.4.2)")]
    Start(DeployStartArgs),
    /// End a DEPLOY that `deploy start` recorded.
    #[command(after_help = "Example:\n  shiplog deploy finish \"$ID\" --status Ok")]
    Finish(DeployFinishArgs),
}

/// What a deploy is of, and where to.
#[derive(Debug, Args)]
pub struct DeployTarget {
    /// The env deployed to (created on first use).
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// The release deployed. A release shiplog has gives the deploy its
    /// commit (then only flags override it).
    #[arg(long, value_name = "VERSION")]
    pub release: Option<String>,
    /// The RELEASE event deployed.
    #[arg(long, value_name = "EVENT_ID")]
    pub parent: Option<String>,
    /// An unplanned deploy made to repair production.
    #[arg(long)]
    pub hotfix: bool,
}

#[derive(Debug, Args)]
pub struct DeployRunArgs {
    #[command(flatten)]
    pub target: DeployTarget,
    /// The command, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,
    #[command(flatten)]
    pub job: JobArgs,
    #[command(flatten)]
    pub server: ServerArgs,
}

#[derive(Debug, Args)]
pub struct DeployStartArgs {
    #[command(flatten)]
    pub target: DeployTarget,
    #[command(flatten)]
    pub job: JobArgs,
    #[command(flatten)]
    pub server: ServerArgs,
}

#[derive(Debug, Args)]
pub struct DeployFinishArgs {
    /// The DEPLOY's id, as `deploy start` printed it.
    #[arg(value_name = "ID")]
    pub id: String,
    /// Ok, Failed or Aborted (any letter case).
    #[arg(long, value_name = "STATUS", value_parser = terminal_deployment_status)]
    pub status: DeploymentStatus,
    #[command(flatten)]
    pub server: ServerArgs,
}

fn terminal_deployment_status(text: &str) -> Result<DeploymentStatus, String> {
    DeploymentStatus::parse(text)
        .filter(|status| status.is_terminal())
        .ok_or_else(|| {
            super::expected_one_of(DeploymentStatus::TERMINAL.iter().map(|s| s.as_str()))
        })
}

fn in_progress(target: &DeployTarget, flags: &JobArgs, start: Timestamp) -> DeployEventIn {
    let names_release = target.release.is_some() || target.parent.is_some();
    DeployEventIn {
        commit: if names_release {
            Job::flagged_commit_fields(flags)
        } else {
            Job::here(flags).commit_fields()
        },
        env_name: Some(target.env.clone()),
        release_version: target.release.clone(),
        parent_event_id: target.parent.clone(),
        hotfix: target.hotfix.then_some(true),
        deployment_start: Some(start.to_string()),
        deployment_status: Some(DeploymentStatus::InProgress.as_str().to_owned()),
        ..DeployEventIn::default()
    }
}

struct DeployEnding;

impl DeployEnding {
    fn status(outcome: Outcome) -> &'static str {
        match outcome {
            Outcome::Succeeded => DeploymentStatus::Ok,
            Outcome::Failed(_) => DeploymentStatus::Failed,
            Outcome::Cancelled(_) => DeploymentStatus::Aborted,
        }
        .as_str()
    }
}

impl Ending for DeployEnding {
    fn update(&self, outcome: Outcome, end: Timestamp) -> EventUpdateIn {
        EventUpdateIn {
            deployment_status: Some(Self::status(outcome).to_owned()),
            deployment_end: Some(end.to_string()),
            ..EventUpdateIn::default()
        }
    }

    fn late(&self, running: &NewEvent, outcome: Outcome, end: Timestamp) -> NewEvent {
        let NewEvent::Deploy(deploy) = running else {
            unreachable!("a deploy ending ends deploys")
        };
        NewEvent::Deploy(DeployEventIn {
            deployment_status: Some(Self::status(outcome).to_owned()),
            deployment_end: Some(end.to_string()),
            ..deploy.clone()
        })
    }
}

pub async fn command(command: DeployCommand) -> u8 {
    match command {
        DeployCommand::Run(args) => {
            let session = Session::open(&args.server);
            let deploy = in_progress(&args.target, &args.job, Timestamp::now());
            wrap::wrapped(
                &session,
                NewEvent::Deploy(deploy),
                &DeployEnding,
                &args.command,
            )
            .await
        }
        DeployCommand::Start(args) => {
            let session = Session::open(&args.server);
            let deploy = in_progress(&args.target, &args.job, Timestamp::now());
            session.record(&NewEvent::Deploy(deploy)).await
        }
        DeployCommand::Finish(args) => {
            let session = Session::open(&args.server);
            let id = match session.event_id("DEPLOY", &args.id) {
                Ok(id) => id,
                Err(code) => return code,
            };
            let update = EventUpdateIn {
                deployment_status: Some(args.status.as_str().to_owned()),
                deployment_end: Some(Timestamp::now().to_string()),
                ..EventUpdateIn::default()
            };
            let result = session.update(id, &update).await;
            if result.is_ok() {
                say::note(&format!("DEPLOY {id} ended {}", args.status.as_str()));
            }
            session.conclude("the end of the DEPLOY", result)
        }
    }
}
