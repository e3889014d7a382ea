//! The `shiplog` binary: parses the command line and hands over.

use std::io::IsTerminal;
use std::process::ExitCode;

use shiplog_server::cli::{Cli, Command, HookCommand, MemberCommand, TokenCommand, UserCommand};
use shiplog_server::{admin, startup::RunningServer};
use shiplog_store::members::MemberSet;
use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;

/// Allocation is on every request's path (headers, rows, JSON): mimalloc's
/// per-thread free lists cost a fraction of glibc malloc's locking and
/// consolidation under the runtime's worker threads.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse_grouped();
    match cli.command {
        Command::Serve(args) => {
            let _log_writer = init_logging(args.log_json);
            // Installed before anything starts: a signal that comes while the
            // server starts is then a request to stop, not a kill.
            let stop = shutdown_signal();
            let server = RunningServer::start(args.into()).await?;
            tracing::info!(addr = %server.addr, "shiplog is listening");
            server.wait(stop).await?;
            tracing::info!("shiplog stopped");
        }
        Command::Openapi => {
            let document = shiplog_server::openapi::document();
            println!("{}", serde_json::to_string_pretty(&document)?);
        }
        Command::User(UserCommand::Add { name, database }) => {
            let store = shiplog_server::database::open(&database.url).await?;
            let token = admin::add_user(&*store, &name).await?;
            println!("Created user {name}. API token (shown only now):\n{token}");
        }
        Command::Token(TokenCommand::Add {
            user,
            label,
            scope,
            database,
        }) => {
            let store = shiplog_server::database::open(&database.url).await?;
            let token = admin::add_token(&*store, &user, label.as_deref(), scope).await?;
            println!("New {scope} API token for {user} (shown only now):\n{token}");
        }
        Command::Token(TokenCommand::List { user, database }) => {
            let store = shiplog_server::database::open(&database.url).await?;
            println!(
                "{:<8} {:<26} {:<26} {:<6} LABEL",
                "ID", "CREATED", "REVOKED", "SCOPE"
            );
            for token in admin::list_tokens(&*store, &user).await? {
                let revoked = token.revoked.map_or("-".to_owned(), |t| t.to_string());
                let label = token.label.unwrap_or_default();
                println!(
                    "{:<8} {:<26} {:<26} {:<6} {label}",
                    token.id,
                    token.created.to_string(),
                    revoked,
                    token.scope.as_str()
                );
            }
        }
        Command::Token(TokenCommand::Revoke {
            user,
            token_id,
            database,
        }) => {
            let store = shiplog_server::database::open(&database.url).await?;
            admin::revoke_token(&*store, &user, token_id).await?;
            println!("Revoked token {token_id} of {user}.");
        }
        Command::Member(command) => member_command(command).await?,
        Command::Backup { file, database } => {
            shiplog_server::database::backup(&database.url, file.clone()).await?;
            println!("Wrote a copy of the store to {}.", file.display());
        }
        Command::Migrate { from, to } => {
            let copied = shiplog_server::moving::migrate(&from, &to).await?;
            for (table, rows) in &copied.tables {
                println!("{table:<20} {rows:>10} rows");
            }
            println!("Copied and verified {} tables.", copied.tables.len());
        }
        Command::Prune {
            dry_run,
            before,
            retention,
            database,
        } => {
            let before = match before.as_deref() {
                Some(text) => Some(shiplog_domain::Timestamp::parse(text).ok_or_else(|| {
                    anyhow::anyhow!("--before {text:?} is not an RFC 3339 timestamp")
                })?),
                None => None,
            };
            if before.is_none() && retention.retention_days.is_none() {
                eprintln!(
                    "No --before or --retention-days: only apps with their own retention_days are pruned."
                );
            }
            let store = shiplog_server::database::open(&database.url).await?;
            let summary = shiplog_server::pruning::prune_now(
                &*store,
                before,
                retention.retention_days,
                dry_run,
            )
            .await?;
            if summary.busy {
                anyhow::bail!("another instance is pruning this database; try again later");
            }
            let verb = if dry_run { "Would remove" } else { "Removed" };
            println!("{verb} {} events.", summary.removed);
        }
        Command::Hook(command) => hook_command(command).await?,
        Command::Client(command) => {
            return Ok(ExitCode::from(
                shiplog_server::client_cli::run(command).await,
            ));
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn member_command(command: MemberCommand) -> anyhow::Result<()> {
    match command {
        MemberCommand::Add {
            account,
            user,
            role,
            database,
        } => {
            let store = shiplog_server::database::open(&database.url).await?;
            match admin::set_member(&*store, &account, &user, role).await? {
                MemberSet::Added => println!("Added {user} to {account} as {role}."),
                MemberSet::Changed(before) => {
                    println!("Changed the role of {user} on {account} from {before} to {role}.")
                }
                MemberSet::Unchanged => println!("{user} is already {role} on {account}."),
            }
        }
        MemberCommand::List { account, database } => {
            let store = shiplog_server::database::open(&database.url).await?;
            println!("{:<24} ROLE", "USER");
            for member in admin::list_members(&*store, &account).await? {
                println!("{:<24} {}", member.user, member.role);
            }
        }
        MemberCommand::Remove {
            account,
            user,
            database,
        } => {
            let store = shiplog_server::database::open(&database.url).await?;
            admin::remove_member(&*store, &account, &user).await?;
            println!("Removed {user} from {account}.");
        }
    }
    Ok(())
}

async fn hook_command(command: HookCommand) -> anyhow::Result<()> {
    match command {
        HookCommand::Add {
            account,
            provider,
            app,
            no_create_apps,
            public_url,
            database,
        } => {
            let provider = admin::provider(&provider)?;
            let settings = admin::hook_settings(app.as_deref(), !no_create_apps)?;
            let store = shiplog_server::database::open(&database.url).await?;
            let owner = store.find_account(&account).await?;
            let (secret, _) = admin::configure_hook(&*store, &owner, provider, settings).await?;
            println!(
                "Hook {} of {account}:\nURL:    {}\nSecret: {secret} (shown only now)",
                provider.as_str(),
                admin::hook_url(&public_url.url, &account, provider)
            );
        }
        HookCommand::List {
            account,
            public_url,
            database,
        } => {
            let store = shiplog_server::database::open(&database.url).await?;
            let owner = store.find_account(&account).await?;
            println!(
                "{:<10} {:<16} {:<11} {:<26} {:<10} URL",
                "PROVIDER", "APP", "CREATE APPS", "LAST DELIVERY", "DELIVERIES"
            );
            for hook in store.list_hooks(&owner).await? {
                let provider = hook.config.provider;
                let last = hook.last_delivery.map_or("-".to_owned(), |t| t.to_string());
                println!(
                    "{:<10} {:<16} {:<11} {:<26} {:<10} {}",
                    provider.as_str(),
                    hook.config.app.as_deref().unwrap_or("(repository)"),
                    hook.config.create_apps,
                    last,
                    hook.deliveries,
                    admin::hook_url(&public_url.url, &account, provider)
                );
            }
        }
        HookCommand::Remove {
            account,
            provider,
            database,
        } => {
            let provider = admin::provider(&provider)?;
            let store = shiplog_server::database::open(&database.url).await?;
            let owner = store.find_account(&account).await?;
            store.delete_hook(&owner, provider).await?;
            println!("Removed the {} hook of {account}.", provider.as_str());
        }
    }
    Ok(())
}

/// Lines the logging thread's queue holds. Its slots are allocated up front
/// (the crate's default of 128,000 cost about 3 MiB); this many rides out
/// a stall of standard error of most of a second at the highest request
/// rate measured (about 21,000 a second) before requests wait.
const QUEUED_LOG_LINES: usize = 16_384;

/// Logs go to stderr from a thread of their own: a request's line is handed
/// over, not written with a system call of its own on the request's path,
/// and lines queued while the thread writes go out together. None is
/// dropped (a full queue makes the logging wait for the thread), and the
/// returned guard writes what is still queued when the server stops.
fn init_logging(json: bool) -> WorkerGuard {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let (writer, guard) = NonBlockingBuilder::default()
        .buffered_lines_limit(QUEUED_LOG_LINES)
        .lossy(false)
        .thread_name("log-writer")
        .finish(std::io::BufWriter::new(std::io::stderr()));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(writer);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
    guard
}

/// Installs the signal handlers now and resolves on SIGINT or SIGTERM.
/// SIGHUP (which a terminal closing or a service manager's reload sends) is
/// logged and otherwise ignored: the server has no configuration file to
/// reread, and must not die of it.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt()).expect("install the SIGINT handler");
        let mut terminate = signal(SignalKind::terminate()).expect("install the SIGTERM handler");
        let mut hangup = signal(SignalKind::hangup()).expect("install the SIGHUP handler");
        async move {
            loop {
                tokio::select! {
                    _ = interrupt.recv() => break,
                    _ = terminate.recv() => break,
                    _ = hangup.recv() => tracing::info!("SIGHUP ignored: shiplog has nothing to reload"),
                }
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
