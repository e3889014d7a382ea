//! What `git` says of the working directory: the checked-out commit, its
//! author, time and message, the branch, and the `origin` remote. Used for
//! what the CI's variables do not give, and outside CI.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};

use super::job::Field;

/// The fields git gives; empty outside a repository or without git.
pub fn facts() -> BTreeMap<Field, String> {
    let mut facts = BTreeMap::new();
    // One record, fields separated by a unit separator, message last (it
    // may hold anything else).
    if let Some(head) = git(&["log", "-1", "--format=%H%x1f%an%x1f%cI%x1f%B"]) {
        let mut parts = head.splitn(4, '\u{1f}');
        for field in [
            Field::CommitId,
            Field::AuthorName,
            Field::CommitTime,
            Field::CommitMsg,
        ] {
            if let Some(value) = parts.next().map(str::trim).filter(|v| !v.is_empty()) {
                facts.insert(field, value.to_owned());
            }
        }
    }
    // Detached (as most CI checkouts are): no branch.
    if let Some(branch) = git(&["symbolic-ref", "--quiet", "--short", "HEAD"]) {
        facts.insert(Field::Branch, branch);
    }
    if let Some(remote) = git(&["remote", "get-url", "origin"]) {
        facts.insert(Field::RepoUrl, remote);
    }
    facts
}

/// Trimmed standard output of a git command that succeeded with some.
fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    (output.status.success() && !text.is_empty()).then_some(text)
}
