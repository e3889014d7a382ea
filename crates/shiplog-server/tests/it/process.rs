//! The real `shiplog` binary: first start, the command line, restarts and
//! signals, as an operator would use them.

use std::process::Command;

use super::instances::{BINARY, Instance as Server};

fn cli(database: &str, args: &[&str]) -> String {
    let output = Command::new(BINARY)
        .args(args)
        .args(["--database", database])
        .output()
        .expect("run shiplog");
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The token a `user add` or `token add` printed: its last line.
fn token_in(output: &str) -> String {
    output.lines().last().unwrap().trim().to_owned()
}

#[tokio::test]
async fn the_first_start_prints_a_working_token_and_sigterm_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let server = Server::start(&database, &[], true).await;
    let token = server.printed_token();
    assert_eq!(token.len(), 40);
    assert!(server.stdout.iter().any(|l| l.contains("admin")));
    let put = reqwest::Method::PUT;
    assert_eq!(
        server.status(put.clone(), "/admin/apps/demo", &token).await,
        200
    );
    assert_eq!(server.terminate(), Some(0));

    // Events survive the restart; the banner is not printed again.
    let server = Server::start(&database, &[], false).await;
    assert_eq!(
        server
            .status(reqwest::Method::GET, "/admin/apps/demo", &token)
            .await,
        200
    );
    assert_eq!(server.terminate(), Some(0));
}

#[tokio::test]
async fn tokens_are_managed_from_the_command_line_and_revocation_is_immediate() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let first = token_in(&cli(&database, &["user", "add", "jdoe"]));
    let second = token_in(&cli(&database, &["token", "add", "jdoe", "--label", "ci"]));
    assert_ne!(first, second);

    let server = Server::start(&database, &[], false).await;
    let get = reqwest::Method::GET;
    assert_eq!(server.status(get.clone(), "/jdoe/apps", &first).await, 200);
    assert_eq!(server.status(get.clone(), "/jdoe/apps", &second).await, 200);

    let listing = cli(&database, &["token", "list", "jdoe"]);
    assert!(
        !listing.contains(&first) && !listing.contains(&second),
        "{listing}"
    );
    let ci_line = listing
        .lines()
        .find(|l| l.ends_with("ci"))
        .expect("the ci token");
    let id = ci_line.split_whitespace().next().unwrap();

    cli(&database, &["token", "revoke", "jdoe", id]);
    assert_eq!(server.status(get.clone(), "/jdoe/apps", &second).await, 401);
    assert_eq!(server.status(get, "/jdoe/apps", &first).await, 200);
    assert_eq!(server.terminate(), Some(0));
}

#[tokio::test]
async fn a_bootstrap_token_is_created_once_and_survives_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let token = "ci-known-token-0123456789abcdef";
    let args = ["--bootstrap-user", "ci", "--bootstrap-token", token];
    for _ in 0..2 {
        let server = Server::start(&database, &args, false).await;
        assert_eq!(
            server.status(reqwest::Method::GET, "/ci/apps", token).await,
            200
        );
        assert_eq!(server.terminate(), Some(0));
    }
    let listing = cli(&database, &["token", "list", "ci"]);
    assert_eq!(
        listing.lines().count(),
        2,
        "one header and one token: {listing}"
    );
}
