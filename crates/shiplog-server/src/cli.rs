//! The command line: `serve` and the management of users, tokens and
//! webhooks, which work on the database; and the commands of CI jobs, which
//! talk to a server over HTTP (`crate::client_cli`).

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use shiplog_domain::Level;

use crate::client_cli::ClientCommand;
use crate::startup::{DEFAULT_DATABASE, ServerSettings};

#[derive(Debug, Parser)]
#[command(name = "shiplog", version, about = "A self-hosted CI/CD event service")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Parses the process's arguments, exiting with clap's message on an
    /// error, `--help` or `--version`.
    pub fn parse_grouped() -> Cli {
        let matches = grouped_help(Cli::command()).get_matches();
        Cli::from_arg_matches(&matches).unwrap_or_else(|err| err.exit())
    }
}

/// The top-level help lists the commands in two groups: those that work on
/// the database, where it is, and those that talk to a server, from
/// anywhere. The groups follow the enums, so a new command lands in its
/// group by itself.
fn grouped_help(command: clap::Command) -> clap::Command {
    let listed: Vec<(String, String, bool)> = command
        .get_subcommands()
        .filter(|sub| !sub.is_hide_set())
        .map(|sub| {
            let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
            let name = sub.get_name().to_owned();
            let remote = ClientCommand::has_subcommand(&name);
            (name, about, remote)
        })
        .collect();
    let width = listed
        .iter()
        .map(|(name, ..)| name.len())
        .max()
        .unwrap_or(0);
    let group = |remote: bool| -> String {
        listed
            .iter()
            .filter(|(.., r)| *r == remote)
            .map(|(name, about, _)| format!("  {name:<width$}  {about}\n"))
            .collect()
    };
    let template = format!(
        "{{about-with-newline}}\n{{usage-heading}} {{usage}}\n\n\
         Server and database (run where the database is; SHIPLOG_DATABASE_URL):\n{}\n\
         CI client (talk to a server over HTTP; SHIPLOG_URL, SHIPLOG_TOKEN, SHIPLOG_ACCOUNT, SHIPLOG_APP):\n{}\n\
         Options:\n{{options}}\n\n\
         Run `shiplog COMMAND --help` for a command's options and an example.\n",
        group(false),
        group(true)
    );
    command.help_template(template)
}

// Parsed once per process: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server.
    #[command(
        after_help = "Example: shiplog serve --listen 0.0.0.0:8080 --public-url https://shiplog.example.com"
    )]
    Serve(ServeArgs),
    /// Manage users (each user owns the account of the same name).
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage the members of an account: other users' access to it.
    #[command(subcommand)]
    Member(MemberCommand),
    /// Manage the webhooks GitHub, GitLab and Bitbucket deliver to.
    #[command(subcommand)]
    Hook(HookCommand),
    /// Copy a SQLite store to a new file, consistently, while it serves
    /// (for PostgreSQL, use pg_dump).
    #[command(
        after_help = "Example: shiplog backup --database sqlite:///var/lib/shiplog/shiplog.db /var/backups/shiplog.db"
    )]
    Backup {
        /// The file to write; it must not exist.
        file: std::path::PathBuf,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Copy a SQLite store into an empty PostgreSQL database: every table,
    /// with its ids, tokens, markers' secret and history; counts and
    /// checksums are verified. Stop the server on the SQLite store first.
    #[command(
        after_help = "Example: shiplog migrate --from sqlite:///var/lib/shiplog/shiplog.db --to postgres://shiplog@db.example.com/shiplog"
    )]
    Migrate {
        /// The SQLite store to copy: sqlite://PATH.
        #[arg(
            long,
            visible_alias = "database",
            env = "SHIPLOG_DATABASE_URL",
            value_name = "URL"
        )]
        from: String,
        /// The PostgreSQL database to copy into: postgres://USER@HOST:PORT/DB.
        #[arg(long, value_name = "URL")]
        to: String,
    },
    /// Remove old events at once, as the server's retention does, and
    /// list what goes.
    #[command(after_help = "Example: shiplog prune --dry-run --before 2026-01-01T00:00:00Z")]
    Prune {
        /// List what would go; remove nothing.
        #[arg(long)]
        dry_run: bool,
        /// Remove events before this time (RFC 3339) whatever the policy.
        #[arg(long, value_name = "TIMESTAMP")]
        before: Option<String>,
        #[command(flatten)]
        retention: RetentionArg,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Print the OpenAPI description of the API (as served at /-/openapi.json).
    #[command(after_help = "Example: shiplog openapi > openapi.json")]
    Openapi,
    #[command(flatten)]
    Client(ClientCommand),
}

#[derive(Debug, Args)]
pub struct DatabaseArg {
    /// Database URL: sqlite://PATH or postgres://USER@HOST:PORT/DB.
    #[arg(long = "database", env = "SHIPLOG_DATABASE_URL", default_value = DEFAULT_DATABASE)]
    pub url: String,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "SHIPLOG_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    #[command(flatten)]
    pub database: DatabaseArg,
    /// Public base URL, used in `api_url` and `html_url` (default: http://LISTEN).
    #[arg(long, env = "SHIPLOG_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// User created on the first start of an empty database (or with --bootstrap-token).
    #[arg(long, env = "SHIPLOG_BOOTSTRAP_USER", default_value = "admin")]
    pub bootstrap_user: String,
    /// Create the bootstrap user with exactly this token if absent (idempotent).
    #[arg(long, env = "SHIPLOG_BOOTSTRAP_TOKEN", hide_env_values = true)]
    pub bootstrap_token: Option<String>,
    /// Serve /-/metrics on this address instead of the API's.
    #[arg(long, env = "SHIPLOG_METRICS_LISTEN")]
    pub metrics_listen: Option<String>,
    /// The longest a request may take before it is answered 503, in seconds.
    #[arg(long, env = "SHIPLOG_REQUEST_TIMEOUT", default_value_t = 30)]
    pub request_timeout: u64,
    /// API requests served at once; more are answered 503 with Retry-After.
    #[arg(long, env = "SHIPLOG_MAX_IN_FLIGHT", default_value_t = crate::startup::DEFAULT_MAX_IN_FLIGHT)]
    pub max_in_flight: usize,
    /// Minutes a web UI session lasts without a request (default 12 hours).
    #[arg(long, env = "SHIPLOG_SESSION_IDLE", default_value_t = 720)]
    pub session_idle: u64,
    /// Log as JSON lines instead of text.
    #[arg(long, env = "SHIPLOG_LOG_JSON")]
    pub log_json: bool,
    /// Let outbound webhooks target loopback, private and link-local
    /// addresses (refused by default, against SSRF).
    #[arg(long, env = "SHIPLOG_ALLOW_PRIVATE_WEBHOOK_TARGETS")]
    pub allow_private_webhook_targets: bool,
    #[command(flatten)]
    pub retention: RetentionArg,
}

#[derive(Debug, Args)]
pub struct RetentionArg {
    /// Remove events older than this many days (an app's own
    /// retention_days wins), keeping what runs and its lineage.
    #[arg(long, env = "SHIPLOG_RETENTION_DAYS", value_name = "DAYS")]
    pub retention_days: Option<u32>,
}

impl From<ServeArgs> for ServerSettings {
    fn from(args: ServeArgs) -> Self {
        ServerSettings {
            listen: args.listen,
            database: args.database.url,
            public_url: args.public_url,
            bootstrap_user: args.bootstrap_user,
            bootstrap_token: args.bootstrap_token,
            bootstrap_on_empty: true,
            metrics_listen: args.metrics_listen,
            request_timeout: std::time::Duration::from_secs(args.request_timeout.max(1)),
            max_in_flight: args.max_in_flight,
            session_idle: std::time::Duration::from_secs(args.session_idle.max(1) * 60),
            allow_private_webhook_targets: args.allow_private_webhook_targets,
            retention_days: args.retention.retention_days,
            prune_every: Some(crate::pruning::PRUNE_EVERY),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user and print its first API token.
    #[command(after_help = "Example: shiplog user add jdoe")]
    Add {
        name: String,
        #[command(flatten)]
        database: DatabaseArg,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a new token for a user and print it (shown only once).
    #[command(after_help = "Example: shiplog token add jdoe --label ci --scope write")]
    Add {
        user: String,
        /// A note to recognise the token by.
        #[arg(long)]
        label: Option<String>,
        /// The most the token may do, on every account its user may act on:
        /// read, write (also record events, create apps and envs) or admin
        /// (also delete apps and manage hooks).
        #[arg(long, default_value = "write", value_parser = level_parser())]
        scope: Level,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// List a user's tokens (ids, dates, scopes and labels; never the secrets).
    #[command(after_help = "Example: shiplog token list jdoe")]
    List {
        user: String,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Revoke a token; it stops working at once.
    #[command(after_help = "Example: shiplog token revoke jdoe 3")]
    Revoke {
        user: String,
        token_id: i64,
        #[command(flatten)]
        database: DatabaseArg,
    },
}

#[derive(Debug, Subcommand)]
pub enum MemberCommand {
    /// Let a user act on an account with a role (read, write or admin);
    /// on a member, change its role. It holds from the next request on.
    #[command(after_help = "Example: shiplog member add team-web ci --role write")]
    Add {
        account: String,
        user: String,
        /// What the member may do on the account: read, write (also record
        /// events, create apps and envs) or admin (also delete apps and
        /// manage hooks).
        #[arg(long, default_value = "write", value_parser = level_parser())]
        role: Level,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// List an account's members and their roles.
    #[command(after_help = "Example: shiplog member list team-web")]
    List {
        account: String,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// End a user's membership of an account; its tokens are refused there
    /// from the next request on.
    #[command(after_help = "Example: shiplog member remove team-web ci")]
    Remove {
        account: String,
        user: String,
        #[command(flatten)]
        database: DatabaseArg,
    },
}

/// A level named on the command line: `read`, `write` or `admin`.
fn level_parser() -> impl TypedValueParser<Value = Level> {
    PossibleValuesParser::new(Level::ALL.map(Level::as_str))
        .try_map(|name| Level::parse("Level", &name))
}

#[derive(Debug, Args)]
pub struct PublicUrlArg {
    /// The server's public base URL, which providers deliver to.
    // An id of its own: `url` is the database's, flattened beside it.
    #[arg(
        id = "public_url",
        long = "public-url",
        value_name = "URL",
        env = "SHIPLOG_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub url: String,
}

#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Configure an account's hook of a provider (github, gitlab or
    /// bitbucket); print the URL to paste into the provider and a new
    /// secret (shown only now). Again, it rotates the secret.
    #[command(after_help = "Example: shiplog hook add jdoe github --app web")]
    Add {
        account: String,
        provider: String,
        /// The app every delivery records to (default: the repository's name).
        #[arg(long)]
        app: Option<String>,
        /// Refuse deliveries for repositories without an app of their name,
        /// instead of creating one.
        #[arg(long)]
        no_create_apps: bool,
        #[command(flatten)]
        public_url: PublicUrlArg,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// List an account's hooks (never their secrets).
    #[command(after_help = "Example: shiplog hook list jdoe")]
    List {
        account: String,
        #[command(flatten)]
        public_url: PublicUrlArg,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Remove an account's hook of a provider; its deliveries are refused.
    #[command(after_help = "Example: shiplog hook remove jdoe github")]
    Remove {
        account: String,
        provider: String,
        #[command(flatten)]
        database: DatabaseArg,
    },
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    #[test]
    fn every_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_command_has_an_example() {
        fn leaves<'a>(command: &'a clap::Command, out: &mut Vec<&'a clap::Command>) {
            if command.has_subcommands() {
                command.get_subcommands().for_each(|sub| leaves(sub, out));
            } else {
                out.push(command);
            }
        }
        let cli = Cli::command();
        let mut all = Vec::new();
        leaves(&cli, &mut all);
        let missing: Vec<&str> = all
            .iter()
            .filter(|leaf| {
                let help = leaf.get_after_help().map(|h| h.to_string());
                !help.is_some_and(|help| help.contains("shiplog "))
            })
            .map(|leaf| leaf.get_name())
            .collect();
        assert!(missing.is_empty(), "no example: {missing:?}");
    }
}
