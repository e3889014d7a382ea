//! Talking to the server for a command: where it is (flags or `SHIPLOG_*`
//! variables), the events a command records, and what a failure to record
//! means.
//!
//! The rule, in one place: without `--strict`, a server that cannot be
//! reached (or that is not configured, as in a pull request from a fork,
//! which gets no secrets) is a warning, so a CI job never fails because its
//! record keeper is down; a refusal is an error for a command of its own,
//! and a warning for a wrapped command, whose exit status wins. With
//! `--strict`, every failure to record fails the command.

use std::fmt;
use std::time::Duration;

use clap::Args;
use clap::builder::FalseyValueParser;
use shiplog_client::api::{
    AppIn, BuildEventIn, CommitFieldsIn, DeployEventIn, EventOut, EventUpdateIn, IncidentEventIn,
    ReleaseEventIn,
};
use shiplog_client::{AppClient, Client, Error, Retry};

use super::say;

/// Exit status when the server refused a call, or another error.
pub const EXIT_FAILED: u8 = 1;
/// Exit status when the server could not be reached (sysexits' EX_TEMPFAIL:
/// trying again later may work).
pub const EXIT_UNREACHABLE: u8 = 75;

/// Where the server is and how to talk to it.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Server")]
pub struct ServerArgs {
    /// shiplog's base URL, e.g. https://shiplog.example.com.
    #[arg(long, env = "SHIPLOG_URL", value_name = "URL")]
    pub url: Option<String>,
    /// An API token (rather set the variable: flags show in process lists).
    #[arg(
        long,
        env = "SHIPLOG_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
    /// The account whose apps are recorded to (a user name).
    #[arg(long, env = "SHIPLOG_ACCOUNT", value_name = "ACCOUNT")]
    pub account: Option<String>,
    /// The app (created on first use by the commands that record).
    #[arg(long, env = "SHIPLOG_APP", value_name = "APP")]
    pub app: Option<String>,
    /// Fail when the event cannot be recorded, instead of warning.
    // As a variable, empty, `0`, `false`, `no` and `off` are off.
    #[arg(long, env = "SHIPLOG_STRICT", value_parser = FalseyValueParser::new())]
    pub strict: bool,
    /// How long each call keeps retrying while shiplog is unreachable or
    /// answers 503.
    #[arg(
        long,
        env = "SHIPLOG_RETRY_FOR",
        value_name = "SECONDS",
        default_value_t = DEFAULT_RETRY_FOR,
        value_parser = seconds
    )]
    pub retry_for: f64,
}

const DEFAULT_RETRY_FOR: f64 = 10.0;

/// A number of seconds, 0 or more; an empty variable is the default.
fn seconds(text: &str) -> Result<f64, String> {
    if text.trim().is_empty() {
        return Ok(DEFAULT_RETRY_FOR);
    }
    match text.trim().parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && seconds >= 0.0 => Ok(seconds),
        _ => Err("expected a number of seconds, 0 or more".to_owned()),
    }
}

/// Why an event was not recorded.
pub enum Failure {
    /// Nothing was sent: shiplog is not configured, or there is no event
    /// to end because its start was not recorded.
    Skipped(String),
    Unreachable(Error),
    Refused(Error),
}

impl From<Error> for Failure {
    fn from(err: Error) -> Failure {
        if err.is_unavailable() {
            Failure::Unreachable(err)
        } else {
            Failure::Refused(err)
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Skipped(what) => write!(f, "{what}"),
            Failure::Unreachable(err) | Failure::Refused(err) => write!(f, "{err}"),
        }
    }
}

impl Failure {
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Unreachable(_) => EXIT_UNREACHABLE,
            Failure::Skipped(_) | Failure::Refused(_) => EXIT_FAILED,
        }
    }

    /// Whether the failure is only worth a warning (see the module's rule).
    pub fn tolerated(&self, strict: bool, wrapping: bool) -> bool {
        !strict
            && match self {
                Failure::Skipped(_) | Failure::Unreachable(_) => true,
                Failure::Refused(_) => wrapping,
            }
    }
}

/// An event a command records.
#[derive(Debug, Clone)]
pub enum NewEvent {
    Push(CommitFieldsIn),
    PullRequest(CommitFieldsIn),
    Build(BuildEventIn),
    Release(ReleaseEventIn),
    Deploy(DeployEventIn),
    Incident(IncidentEventIn),
}

impl NewEvent {
    pub fn kind(&self) -> &'static str {
        match self {
            NewEvent::Push(_) => "PUSH",
            NewEvent::PullRequest(_) => "PULLREQUEST",
            NewEvent::Build(_) => "BUILD",
            NewEvent::Release(_) => "RELEASE",
            NewEvent::Deploy(_) => "DEPLOY",
            NewEvent::Incident(_) => "INCIDENT",
        }
    }

    async fn send(&self, app: &AppClient) -> shiplog_client::Result<i64> {
        match self {
            NewEvent::Push(body) => app.create_push(body).await,
            NewEvent::PullRequest(body) => app.create_pull_request(body).await,
            NewEvent::Build(body) => app.create_build(body).await,
            NewEvent::Release(body) => app.create_release(body).await,
            NewEvent::Deploy(body) => app.create_deploy(body).await,
            NewEvent::Incident(body) => app.create_incident(body).await,
        }
    }
}

/// A command's connection to the server, or why it has none.
pub struct Session {
    client: Result<Client, String>,
    app: Option<String>,
    pub strict: bool,
}

impl Session {
    pub fn open(args: &ServerArgs) -> Session {
        let given = |value: &Option<String>| value.clone().filter(|v| !v.trim().is_empty());
        let missing = |what: &str| format!("shiplog is not configured: {what} is not set");
        let client = match (given(&args.url), given(&args.token), given(&args.account)) {
            (None, _, _) => Err(missing("SHIPLOG_URL (or --url)")),
            (_, None, _) => Err(missing("SHIPLOG_TOKEN (or --token)")),
            (_, _, None) => Err(missing("SHIPLOG_ACCOUNT (or --account)")),
            (Some(url), Some(token), Some(account)) => Client::new(&url, &token, &account)
                .map(|client| {
                    client.with_retry(Retry::within(Duration::from_secs_f64(args.retry_for)))
                })
                .map_err(|err| err.to_string()),
        };
        Session {
            client,
            app: given(&args.app),
            strict: args.strict,
        }
    }

    pub fn client(&self) -> Result<&Client, Failure> {
        self.client
            .as_ref()
            .map_err(|why| Failure::Skipped(why.clone()))
    }

    /// The app's name, if one is configured.
    pub fn app_name(&self) -> Option<&str> {
        self.app.as_deref()
    }

    pub fn app(&self) -> Result<AppClient, Failure> {
        let client = self.client()?;
        let name = self.app.as_deref().ok_or_else(|| {
            Failure::Skipped("shiplog is not configured: SHIPLOG_APP (or --app) is not set".into())
        })?;
        Ok(client.app(name))
    }

    /// Records `event`, creating the app first if the account has none of
    /// that name, so a CI job needs no set-up call.
    pub async fn create(&self, event: &NewEvent) -> Result<i64, Failure> {
        let app = self.app()?;
        match event.send(&app).await {
            Err(err) if app_missing(&err, app.name()) => {
                match app.create(&AppIn::default()).await {
                    Ok(_) => say::note(&format!("created the app {}", app.name())),
                    // Another job created it meanwhile.
                    Err(err) if err.code() == Some("AlreadyExists") => {}
                    Err(err) => return Err(err.into()),
                }
                Ok(event.send(&app).await?)
            }
            result => Ok(result?),
        }
    }

    pub async fn update(&self, event_id: i64, update: &EventUpdateIn) -> Result<EventOut, Failure> {
        Ok(self.app()?.update_event(event_id, update).await?)
    }

    /// Records one event and prints its id; the exit status of a command
    /// of its own that does only that.
    pub async fn record(&self, event: &NewEvent) -> u8 {
        let result = self.create(event).await;
        if let Ok(id) = result {
            say::created(event.kind(), id);
        }
        self.conclude(&format!("the {}", event.kind()), result)
    }

    /// The id of the `kind` event to end, as a script passes it on; an
    /// empty one means its start was not recorded. `Err` is the exit status.
    pub fn event_id(&self, kind: &str, id: &str) -> Result<i64, u8> {
        let id = id.trim();
        if id.is_empty() {
            let failure = Failure::Skipped(format!(
                "no {kind} id was given (its start was not recorded)"
            ));
            return Err(self.conclude(&format!("the end of the {kind}"), Err::<(), _>(failure)));
        }
        id.parse().map_err(|_| {
            say::error(&format!("{id:?} is not an event id"));
            EXIT_FAILED
        })
    }

    /// The exit status of a command of its own (not wrapping another) whose
    /// `what` ended with `result`: a tolerated failure is a warning.
    pub fn conclude<T>(&self, what: &str, result: Result<T, Failure>) -> u8 {
        match result {
            Ok(_) => 0,
            Err(failure) if failure.tolerated(self.strict, false) => {
                say::warn(&format!("{what} was not recorded: {failure}"));
                0
            }
            Err(failure) => {
                say::error(&format!("{what} was not recorded: {failure}"));
                failure.exit_code()
            }
        }
    }
}

/// The server's answer when the app does not exist.
fn app_missing(err: &Error, app: &str) -> bool {
    err.code() == Some("NotFound") && err.message() == Some(&format!("App {app} not found"))
}
