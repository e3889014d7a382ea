//! Members and token scopes managed with the real `shiplog` binary, on the
//! database of a running server: each change holds from the next request.

use std::process::{Command, Output};

use reqwest::Method;

use super::instances::{BINARY, Instance as Server};

fn run(database: &str, args: &[&str]) -> Output {
    Command::new(BINARY)
        .args(args)
        .args(["--database", database])
        .env_remove("SHIPLOG_DATABASE_URL")
        .output()
        .expect("run shiplog")
}

/// Runs a command that must succeed; answers its standard output.
fn cli(database: &str, args: &[&str]) -> String {
    let output = run(database, args);
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Runs a command that must fail; answers its standard error.
fn refused(database: &str, args: &[&str]) -> String {
    let output = run(database, args);
    assert!(!output.status.success(), "{args:?} succeeded");
    String::from_utf8(output.stderr).unwrap()
}

/// The token a `user add` or `token add` printed: its last line.
fn token_in(output: &str) -> String {
    output.lines().last().unwrap().trim().to_owned()
}

fn sqlite(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}", dir.path().join("db.sqlite").display())
}

#[tokio::test]
async fn members_are_added_changed_listed_and_removed_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let database = sqlite(&dir);
    cli(&database, &["user", "add", "team-web"]);
    cli(&database, &["user", "add", "ci"]);
    let token = token_in(&cli(
        &database,
        &["token", "add", "ci", "--label", "deploys"],
    ));

    let server = Server::start(&database, &[], false).await;
    let status = |method: Method, path: &'static str| server.status(method, path, &token);
    assert_eq!(status(Method::GET, "/team-web/apps").await, 403);

    let added = cli(
        &database,
        &["member", "add", "team-web", "ci", "--role", "read"],
    );
    assert_eq!(added.trim(), "Added ci to team-web as read.");
    assert_eq!(status(Method::GET, "/team-web/apps").await, 200);
    assert_eq!(status(Method::PUT, "/team-web/apps/web").await, 403);

    // Without --role a member is a writer; on a member it changes the role.
    let changed = cli(&database, &["member", "add", "team-web", "ci"]);
    assert_eq!(
        changed.trim(),
        "Changed the role of ci on team-web from read to write."
    );
    assert_eq!(status(Method::PUT, "/team-web/apps/web").await, 200);
    assert_eq!(status(Method::GET, "/team-web/hooks").await, 403);
    let again = cli(
        &database,
        &["member", "add", "team-web", "ci", "--role", "write"],
    );
    assert_eq!(again.trim(), "ci is already write on team-web.");

    let listing = cli(&database, &["member", "list", "team-web"]);
    let lines: Vec<Vec<&str>> = listing
        .lines()
        .map(|line| line.split_whitespace().collect())
        .collect();
    assert_eq!(
        lines,
        [vec!["USER", "ROLE"], vec!["ci", "write"]],
        "{listing}"
    );

    let removed = cli(&database, &["member", "remove", "team-web", "ci"]);
    assert_eq!(removed.trim(), "Removed ci from team-web.");
    assert_eq!(status(Method::GET, "/team-web/apps").await, 403);
    let listing = cli(&database, &["member", "list", "team-web"]);
    assert_eq!(listing.lines().count(), 1, "only the header: {listing}");

    // Mistakes are refused with a message and change nothing.
    let again = refused(&database, &["member", "remove", "team-web", "ci"]);
    assert!(again.contains("Member ci of team-web not found"), "{again}");
    let unknown = refused(&database, &["member", "add", "team-web", "nobody"]);
    assert!(unknown.contains("User nobody not found"), "{unknown}");
    let owner = refused(&database, &["member", "add", "team-web", "team-web"]);
    assert!(owner.contains("owns the account"), "{owner}");
    let role = refused(
        &database,
        &["member", "add", "team-web", "ci", "--role", "owner"],
    );
    assert!(role.contains("read, write, admin"), "{role}");
    let listing = cli(&database, &["member", "list", "team-web"]);
    assert_eq!(listing.lines().count(), 1, "{listing}");
    assert_eq!(server.terminate(), Some(0));
}

#[tokio::test]
async fn tokens_get_a_scope_and_their_listing_shows_it() {
    let dir = tempfile::tempdir().unwrap();
    let database = sqlite(&dir);
    let first = token_in(&cli(&database, &["user", "add", "jdoe"]));
    let default = cli(&database, &["token", "add", "jdoe", "--label", "ci"]);
    assert!(
        default.starts_with("New write API token for jdoe"),
        "{default}"
    );
    let read = token_in(&cli(
        &database,
        &[
            "token",
            "add",
            "jdoe",
            "--scope",
            "read",
            "--label",
            "dashboard",
        ],
    ));
    let scope = refused(&database, &["token", "add", "jdoe", "--scope", "root"]);
    assert!(scope.contains("read, write, admin"), "{scope}");

    let listing = cli(&database, &["token", "list", "jdoe"]);
    let rows: Vec<Vec<&str>> = listing
        .lines()
        .map(|line| line.split_whitespace().collect())
        .collect();
    assert_eq!(rows[0], ["ID", "CREATED", "REVOKED", "SCOPE", "LABEL"]);
    let scopes: Vec<(&str, &str)> = rows[1..]
        .iter()
        .map(|row| (row[3], row.get(4).copied().unwrap_or("")))
        .collect();
    // A user's first token is its owner's key to everything.
    assert_eq!(
        scopes,
        [("admin", ""), ("write", "ci"), ("read", "dashboard")],
        "{listing}"
    );

    let server = Server::start(&database, &[], false).await;
    assert_eq!(server.status(Method::GET, "/jdoe/apps", &read).await, 200);
    assert_eq!(
        server.status(Method::PUT, "/jdoe/apps/web", &read).await,
        403
    );
    assert_eq!(
        server.status(Method::PUT, "/jdoe/apps/web", &first).await,
        200
    );
    assert_eq!(server.status(Method::GET, "/jdoe/hooks", &first).await, 200);
    assert_eq!(server.terminate(), Some(0));
}
