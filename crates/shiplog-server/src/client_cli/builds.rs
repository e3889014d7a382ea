//! The commands that record the life of a commit up to its release: `run`,
//! `build start` and `build finish`, `push`, `release`.

use std::ffi::OsString;

use clap::Args;
use shiplog_client::api::{BuildEventIn, EventUpdateIn, ReleaseEventIn};
use shiplog_domain::{BuildStatus, Timestamp};

use super::job::{Field, Job, JobArgs};
use super::say;
use super::session::{NewEvent, ServerArgs, Session};
use super::wrap::{self, Ending, Outcome};

#[derive(Debug, Args)]
pub struct RunArgs {
    /// On success, also record a RELEASE of this version (the BUILD's
    /// `release_version`).
    #[arg(long, value_name = "VERSION")]
    pub release: Option<String>,
    /// The PUSH or PULLREQUEST event this build is of.
    #[arg(long, value_name = "EVENT_ID")]
    pub parent: Option<String>,
    /// The command, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,
    #[command(flatten)]
    pub job: JobArgs,
    #[command(flatten)]
    pub server: ServerArgs,
}

#[derive(Debug, Args)]
pub struct BuildStartArgs {
    /// The PUSH or PULLREQUEST event this build is of.
    #[arg(long, value_name = "EVENT_ID")]
    pub parent: Option<String>,
    #[command(flatten)]
    pub job: JobArgs,
    #[command(flatten)]
    pub server: ServerArgs,
}

#[derive(Debug, Args)]
pub struct BuildFinishArgs {
    /// The BUILD's id, as `build start` printed it. Empty (the start was not
    /// recorded) is a warning, not an error, unless --strict.
    #[arg(value_name = "ID")]
    pub id: String,
    /// Success, Failed, TimedOut or Cancelled (any letter case).
    #[arg(long, value_name = "STATUS", value_parser = terminal_build_status)]
    pub status: BuildStatus,
    /// Also record a RELEASE of this version.
    #[arg(long, value_name = "VERSION")]
    pub release: Option<String>,
    #[command(flatten)]
    pub server: ServerArgs,
}

#[derive(Debug, Args)]
pub struct ReleaseArgs {
    /// The version (default: the app's next v1, v2, …).
    #[arg(value_name = "VERSION")]
    pub version: Option<String>,
    /// The BUILD event the release was made from.
    #[arg(long, value_name = "EVENT_ID")]
    pub build: Option<String>,
    #[command(flatten)]
    pub job: JobArgs,
    #[command(flatten)]
    pub server: ServerArgs,
}

#[derive(Debug, Args)]
pub struct PushArgs {
    /// Record a PULLREQUEST instead of a PUSH.
    #[arg(long)]
    pub pull_request: bool,
    #[command(flatten)]
    pub job: JobArgs,
    #[command(flatten)]
    pub server: ServerArgs,
}

fn terminal_build_status(text: &str) -> Result<BuildStatus, String> {
    BuildStatus::parse(text)
        .filter(|status| status.is_terminal())
        .ok_or_else(|| super::expected_one_of(BuildStatus::TERMINAL.iter().map(|s| s.as_str())))
}

/// A BUILD of `job`, running since `start`.
fn running_build(job: &Job, parent: Option<String>, start: Timestamp) -> BuildEventIn {
    BuildEventIn {
        commit: job.commit_fields(),
        build_id: job.value(Field::BuildId),
        build_provider: job.value(Field::BuildProvider),
        build_url: job.value(Field::BuildUrl),
        build_start: Some(start.to_string()),
        build_status: Some(BuildStatus::Running.as_str().to_owned()),
        parent_event_id: parent,
        ..BuildEventIn::default()
    }
}

/// How a wrapped build ends: its status, and its release on success.
struct BuildEnding {
    release: Option<String>,
}

impl BuildEnding {
    fn status(outcome: Outcome) -> BuildStatus {
        match outcome {
            Outcome::Succeeded => BuildStatus::Success,
            Outcome::Failed(_) => BuildStatus::Failed,
            Outcome::Cancelled(_) => BuildStatus::Cancelled,
        }
    }

    fn release(&self, outcome: Outcome) -> Option<String> {
        self.release
            .clone()
            .filter(|_| outcome == Outcome::Succeeded)
    }
}

impl Ending for BuildEnding {
    fn update(&self, outcome: Outcome, end: Timestamp) -> EventUpdateIn {
        EventUpdateIn {
            build_status: Some(Self::status(outcome).as_str().to_owned()),
            build_end: Some(end.to_string()),
            release_version: self.release(outcome),
            ..EventUpdateIn::default()
        }
    }

    fn late(&self, running: &NewEvent, outcome: Outcome, end: Timestamp) -> NewEvent {
        let NewEvent::Build(build) = running else {
            unreachable!("a build ending ends builds")
        };
        NewEvent::Build(BuildEventIn {
            build_status: Some(Self::status(outcome).as_str().to_owned()),
            build_end: Some(end.to_string()),
            release_version: self.release(outcome),
            ..build.clone()
        })
    }
}

pub async fn run(args: RunArgs) -> u8 {
    let session = Session::open(&args.server);
    let job = Job::here(&args.job);
    let build = running_build(&job, args.parent, Timestamp::now());
    let ending = BuildEnding {
        release: args.release,
    };
    wrap::wrapped(&session, NewEvent::Build(build), &ending, &args.command).await
}

pub async fn start(args: BuildStartArgs) -> u8 {
    let session = Session::open(&args.server);
    let job = Job::here(&args.job);
    let build = NewEvent::Build(running_build(&job, args.parent, Timestamp::now()));
    session.record(&build).await
}

pub async fn finish(args: BuildFinishArgs) -> u8 {
    let session = Session::open(&args.server);
    let id = match session.event_id("BUILD", &args.id) {
        Ok(id) => id,
        Err(code) => return code,
    };
    let update = EventUpdateIn {
        build_status: Some(args.status.as_str().to_owned()),
        build_end: Some(Timestamp::now().to_string()),
        release_version: args.release,
        ..EventUpdateIn::default()
    };
    let result = session.update(id, &update).await;
    if let Ok(event) = &result {
        say::note(&format!(
            "BUILD {id} ended {}",
            event.build_status.map_or("?", |s| s.as_str())
        ));
    }
    session.conclude("the end of the BUILD", result)
}

pub async fn release(args: ReleaseArgs) -> u8 {
    let session = Session::open(&args.server);
    let job = Job::here(&args.job);
    // A release of a recorded build takes that build's commit from the
    // server; only flags may say otherwise.
    let commit = if args.build.is_some() {
        Job::flagged_commit_fields(&args.job)
    } else {
        job.commit_fields()
    };
    let release = ReleaseEventIn {
        commit,
        build_id: job.value(Field::BuildId).filter(|_| args.build.is_none()),
        parent_event_id: args.build,
        release_version: args.version,
    };
    session.record(&NewEvent::Release(release)).await
}

pub async fn push(args: PushArgs) -> u8 {
    let session = Session::open(&args.server);
    let commit = Job::here(&args.job).commit_fields();
    let event = if args.pull_request {
        NewEvent::PullRequest(commit)
    } else {
        NewEvent::Push(commit)
    };
    session.record(&event).await
}
