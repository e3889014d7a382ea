//! The webhook scenario's deliveries: simulated GitHub Actions runs, each
//! a `push` then its `workflow_run` `requested`, `in_progress` and
//! `completed`, signed as GitHub signs them (`X-Hub-Signature-256`, the
//! HMAC-SHA256 of the raw body with the hook's secret). Bodies and
//! signatures are made before the measurement, so the load generator only
//! sends bytes; both servers check the signature and parse the body.

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use shiplog_domain::Timestamp;

use crate::loadgen::Request;

/// Deliveries per simulated run: the push and three workflow_run events.
pub const PER_RUN: usize = 4;

const SIGNATURE_PREFIX: &str = "sha256=";

const AUTHORS: &[(&str, &str)] = &[
    ("jdoe", "John Doe"),
    ("asmith", "Alice Smith"),
    ("bwong", "Bo Wong"),
    ("dkumar", "Divya Kumar"),
    ("iokafor", "Ifeoma Okafor"),
];

const BRANCHES: &[&str] = &[
    "main",
    "feature/SHIP-1042",
    "feature/checkout-retries",
    "fix/cart-rounding",
    "release/2026.12",
];

/// `sha256=` and the hex HMAC-SHA256 of `body` with `secret`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(body);
    let mut out = String::with_capacity(SIGNATURE_PREFIX.len() + 64);
    out.push_str(SIGNATURE_PREFIX);
    for byte in mac.finalize().into_bytes() {
        out.push(char::from_digit(u32::from(byte >> 4), 16).unwrap_or('0'));
        out.push(char::from_digit(u32::from(byte & 0xf), 16).unwrap_or('0'));
    }
    out
}

/// Whether `header` is `sha256=` and the hex HMAC-SHA256 of `body` with
/// `secret`, compared in constant time.
pub fn verify(secret: &str, header: Option<&str>, body: &[u8]) -> bool {
    let Some(sent) = header
        .and_then(|value| value.strip_prefix(SIGNATURE_PREFIX))
        .and_then(decode_hex)
    else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&sent).is_ok()
}

fn decode_hex(text: &str) -> Option<[u8; 32]> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks(2).enumerate() {
        let high = char::from(pair[0]).to_digit(16)?;
        let low = char::from(pair[1]).to_digit(16)?;
        out[i] = (high * 16 + low) as u8;
    }
    Some(out)
}

fn repository(repo: &str) -> Value {
    json!({
        "id": 681_240_117,
        "name": repo,
        "full_name": format!("acme/{repo}"),
        "private": true,
        "owner": {"login": "acme", "id": 1_024_771, "type": "Organization"},
        "html_url": format!("https://github.com/acme/{repo}"),
        "default_branch": "main",
    })
}

/// The four bodies of run `run` (numbered from 0) of `repo`, in the order
/// GitHub sends them: push, workflow_run requested, in_progress, completed.
pub fn run_bodies(repo: &str, run: u64, now: Timestamp) -> [(&'static str, Value); PER_RUN] {
    let (username, name) = AUTHORS[run as usize % AUTHORS.len()];
    let branch = BRANCHES[(run as usize / 3) % BRANCHES.len()];
    let sha = format!(
        "{:040x}",
        0x6113_728f_27ae_82c7_b1a1_77c8_d03f_9e96u128.wrapping_mul(u128::from(run) + 1)
    );
    let base = now.millis() - 86_400_000 + (run as i64 % 86_400) * 1_000;
    let at = |offset: i64| Timestamp::from_millis(base + offset).to_string();
    let html = format!("https://github.com/acme/{repo}");
    let sender = json!({"login": username, "id": 5_000 + run % 97, "type": "User"});
    let commit = json!({
        "id": sha,
        "tree_id": sha,
        "message": format!("Retry the payment client when the gateway answers 502 (#{})", 4000 + run),
        "timestamp": at(0),
        "url": format!("{html}/commit/{sha}"),
        "author": {"name": name, "email": format!("{username}@acme.example"), "username": username},
        "committer": {"name": name, "email": format!("{username}@acme.example"), "username": username},
        "added": [],
        "removed": [],
        "modified": ["src/payments/client.rs"],
    });
    let push = json!({
        "ref": format!("refs/heads/{branch}"),
        "before": format!("{:040x}", run),
        "after": sha,
        "created": false,
        "deleted": false,
        "forced": false,
        "compare": format!("{html}/compare/{:012x}...{}", run, &sha[..12]),
        "commits": [commit.clone()],
        "head_commit": commit,
        "pusher": {"name": username, "email": format!("{username}@acme.example")},
        "repository": repository(repo),
        "sender": sender,
    });
    let run_id = 9_000_000_000 + run;
    let workflow_run = |action: &str, status: &str, conclusion: Option<&str>, updated: i64| {
        json!({
            "action": action,
            "workflow_run": {
                "id": run_id,
                "name": "CI",
                "run_number": 10_000 + run,
                "run_attempt": 1,
                "event": "push",
                "status": status,
                "conclusion": conclusion,
                "workflow_id": 51_234_567,
                "head_sha": sha,
                "head_branch": branch,
                "head_commit": {
                    "id": sha,
                    "message": format!("Retry the payment client when the gateway answers 502 (#{})", 4000 + run),
                    "timestamp": at(0),
                    "author": {"name": name, "email": format!("{username}@acme.example")},
                },
                "html_url": format!("{html}/actions/runs/{run_id}"),
                "created_at": at(20_000),
                "run_started_at": at(20_000),
                "updated_at": at(updated),
            },
            "workflow": {"id": 51_234_567, "name": "CI", "path": ".github/workflows/ci.yml"},
            "repository": repository(repo),
            "sender": sender,
        })
    };
    // One run in ten fails.
    let conclusion = if run % 10 == 7 { "failure" } else { "success" };
    [
        ("push", push),
        (
            "workflow_run",
            workflow_run("requested", "queued", None, 20_000),
        ),
        (
            "workflow_run",
            workflow_run("in_progress", "in_progress", None, 35_000),
        ),
        (
            "workflow_run",
            workflow_run("completed", "completed", Some(conclusion), 400_000),
        ),
    ]
}

/// `runs` runs of deliveries to `username`'s GitHub hook, each signed with
/// `secret`, with delivery ids unique to `run_prefix` (a run of the
/// benchmark) and the run.
pub fn deliveries(
    username: &str,
    repo: &str,
    secret: &str,
    run_prefix: &str,
    runs: u64,
    now: Timestamp,
) -> Vec<Request> {
    let path = format!("/{username}/hooks/github");
    let mut requests = Vec::with_capacity(runs as usize * PER_RUN);
    for run in 0..runs {
        for (i, (event, body)) in run_bodies(repo, run, now).into_iter().enumerate() {
            let bytes = serde_json::to_vec(&body).expect("a JSON value serialises");
            let signature = sign(secret, &bytes);
            let delivery = format!("{run_prefix}-{run:08x}-{i}");
            let headers = [
                ("x-github-event", event),
                ("x-github-delivery", delivery.as_str()),
                ("x-hub-signature-256", signature.as_str()),
                ("user-agent", "GitHub-Hookshot/bench"),
            ];
            requests.push(Request::with_headers(
                "POST",
                &path,
                &headers,
                Some(&bytes),
                0,
            ));
        }
    }
    requests
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_and_a_changed_body_does_not() {
        let signature = sign("s3cret", b"{\"a\":1}");
        assert!(signature.starts_with("sha256=") && signature.len() == 71);
        assert!(verify("s3cret", Some(&signature), b"{\"a\":1}"));
        assert!(!verify("s3cret", Some(&signature), b"{\"a\":2}"));
        assert!(!verify("other", Some(&signature), b"{\"a\":1}"));
        assert!(!verify("s3cret", None, b"{\"a\":1}"));
        assert!(!verify("s3cret", Some("sha256=zz"), b"{\"a\":1}"));
    }

    #[test]
    fn runs_are_a_push_then_three_workflow_run_events_with_distinct_ids() {
        let now = Timestamp::parse("2026-12-01T09:00:00Z").unwrap();
        let a = run_bodies("storefront", 0, now);
        let b = run_bodies("storefront", 1, now);
        let actions: Vec<&str> = a[1..]
            .iter()
            .map(|(_, body)| body["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["requested", "in_progress", "completed"]);
        assert_eq!(a[0].0, "push");
        assert_ne!(a[1].1["workflow_run"]["id"], b[1].1["workflow_run"]["id"]);
        assert_eq!(a[0].1["after"], a[3].1["workflow_run"]["head_sha"]);
        let requests = deliveries("bench", "storefront", "s", "x", 3, now);
        assert_eq!(requests.len(), 3 * PER_RUN);
    }
}
