//! Reading what was recorded: `events` (a table or JSON lines, every page)
//! and `status` (what runs in each env of the app).

use clap::{Args, ValueEnum};
use shiplog_client::api::{EnvOut, EventOut};
use shiplog_client::{EventQuery, Order};

use super::say;
use super::session::{Failure, ServerArgs, Session};
use super::table::{Columns, Table, or_dash};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OrderArg {
    Asc,
    Desc,
}

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Only events of this type: push, pullrequest, build, release,
    /// deploy, incident.
    #[arg(long = "type", value_name = "TYPE")]
    pub event_type: Option<String>,
    #[arg(long, value_name = "BRANCH")]
    pub branch: Option<String>,
    /// Only the deploys and incidents of this env.
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,
    /// desc (newest first, the default) or asc.
    #[arg(long, value_enum, default_value = "desc")]
    pub order: OrderArg,
    /// At most this many events (default: every one).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// One JSON object per line, each as the API answers it.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub server: ServerArgs,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// One JSON object per env, as the API answers it.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub server: ServerArgs,
}

/// The exit status of a read that failed: always an error, since nothing
/// can stand in for what was asked.
pub fn failed(failure: Failure) -> u8 {
    say::error(&failure.to_string());
    failure.exit_code()
}

const EVENT_COLUMNS: [usize; 7] = [8, 24, 11, 10, 12, 10, 24];

fn event_line(columns: &Columns, event: &EventOut) -> String {
    let status = event
        .build_status
        .map(|s| s.as_str())
        .or(event.deployment_status.map(|s| s.as_str()))
        .or(event.incident_status.map(|s| s.as_str()));
    let commit = event
        .commit_id
        .as_deref()
        .map(|id| id.chars().take(12).collect::<String>());
    columns.line(&[
        event.event_id.to_string(),
        event.event_time.to_string(),
        event.event_type.as_str().to_owned(),
        or_dash(status),
        or_dash(event.env_name.as_ref()),
        or_dash(event.release_version.as_ref()),
        or_dash(event.branch.as_ref()),
        or_dash(commit),
    ])
}

pub async fn events(args: EventsArgs) -> u8 {
    let session = Session::open(&args.server);
    let app = match session.app() {
        Ok(app) => app,
        Err(failure) => return failed(failure),
    };
    let query = EventQuery {
        event_type: args.event_type,
        branch: args.branch,
        env: args.env,
        order: Some(match args.order {
            OrderArg::Asc => Order::Asc,
            OrderArg::Desc => Order::Desc,
        }),
        page_size: Some(100),
    };
    let columns = Columns::new(&EVENT_COLUMNS);
    let mut pages = app.events(&query);
    let mut left = args.limit.unwrap_or(usize::MAX);
    let mut header = !args.json;
    while left > 0 {
        let event = match pages.next().await {
            Ok(Some(event)) => event,
            Ok(None) => break,
            Err(err) => return failed(err.into()),
        };
        if header {
            say::out(&columns.line(&[
                "ID", "TIME", "TYPE", "STATUS", "ENV", "RELEASE", "BRANCH", "COMMIT",
            ]));
            header = false;
        }
        if args.json {
            say::out(&serde_json::to_string(&event).expect("events serialise"));
        } else {
            say::out(&event_line(&columns, &event));
        }
        left -= 1;
    }
    if header {
        say::note(&format!("no events of {} match", app.name()));
    }
    0
}

fn env_row(env: &EnvOut) -> Vec<String> {
    let last = env.last_deployment.as_ref();
    vec![
        env.name.clone(),
        or_dash(env.active_release_version.as_ref()),
        or_dash(last.map(|d| d.event_id)),
        or_dash(last.and_then(|d| d.deployment_status.map(|s| s.as_str()))),
        or_dash(last.and_then(|d| d.release_version.as_ref())),
        or_dash(last.map(|d| d.deployment_end.unwrap_or(d.event_time))),
    ]
}

pub async fn status(args: StatusArgs) -> u8 {
    let session = Session::open(&args.server);
    let app = match session.app() {
        Ok(app) => app,
        Err(failure) => return failed(failure),
    };
    let envs = match app.envs().all().await {
        Ok(envs) => envs,
        Err(err) => return failed(err.into()),
    };
    if args.json {
        for env in &envs {
            say::out(&serde_json::to_string(env).expect("envs serialise"));
        }
        return 0;
    }
    if envs.is_empty() {
        say::note(&format!("{} has no envs yet", app.name()));
        return 0;
    }
    let mut table = Table::new(&["ENV", "RUNNING", "LAST DEPLOY", "STATUS", "RELEASE", "AT"]);
    for env in &envs {
        table.row(env_row(env));
    }
    table.print();
    0
}
