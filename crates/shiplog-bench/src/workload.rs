//! What the benchmark sends: realistic push, pull-request and build bodies
//! with varying branches, commits and authors, and the ListEvents queries
//! that look them up. The same generator feeds the HTTP scenarios and the
//! seeding of the large store, so both hold the same kind of data.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use shiplog_domain::EventType;

/// Feature branches in play; with `main`, `develop` and release branches
/// they make a few hundred distinct branches.
const FEATURE_BRANCHES: u32 = 200;

const AUTHORS: &[(&str, &str)] = &[
    ("jdoe", "John Doe"),
    ("asmith", "Alice Smith"),
    ("bwong", "Bo Wong"),
    ("cmartin", "Chloé Martin"),
    ("dkumar", "Divya Kumar"),
    ("eolsen", "Erik Olsen"),
    ("fgarcia", "Fernanda García"),
    ("gnakamura", "Go Nakamura"),
    ("hmueller", "Hanna Müller"),
    ("iokafor", "Ifeoma Okafor"),
];

const MESSAGES: &[&str] = &[
    "Fix the login page",
    "Bump serde from 1.0.210 to 1.0.219",
    "Add retries to the payment client when the gateway answers 502",
    "Refactor the order service: split pricing out of checkout",
    "Revert \"Enable the new search index\"",
    "docs: explain the release process",
    "Merge pull request #4211 from jdoe/feature/SHIP-1042",
    "WIP",
    "Speed up the nightly export by batching inserts (closes #977)",
    "ci: cache the cargo registry between jobs",
    "Handle empty carts in the checkout summary",
    "Tighten the CSP header and drop the inline scripts it allowed",
];

const BUILD_PROVIDERS: &[&str] = &["jenkins", "github-actions", "circleci", "gitlab-ci"];

/// The kinds of event the ingest scenarios create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngestKind {
    Push,
    PullRequest,
    Build,
}

impl IngestKind {
    /// The last path segment of the create call.
    pub fn path(self) -> &'static str {
        match self {
            IngestKind::Push => "pushEvent",
            IngestKind::PullRequest => "pullRequestEvent",
            IngestKind::Build => "buildEvent",
        }
    }

    pub fn event_type(self) -> EventType {
        match self {
            IngestKind::Push => EventType::Push,
            IngestKind::PullRequest => EventType::PullRequest,
            IngestKind::Build => EventType::Build,
        }
    }

    /// The value of `filter_event_type` that selects this kind.
    pub fn filter_value(self) -> &'static str {
        match self {
            IngestKind::Push => "push",
            IngestKind::PullRequest => "pullrequest",
            IngestKind::Build => "build",
        }
    }
}

/// A deterministic source of events and queries.
pub struct Workload {
    rng: StdRng,
}

impl Workload {
    pub fn new(seed: u64) -> Workload {
        Workload {
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// 45 % main, 15 % develop, 5 % release branches, 35 % feature branches.
    pub fn branch(&mut self) -> String {
        match self.rng.random_range(0..100) {
            0..45 => "main".to_owned(),
            45..60 => "develop".to_owned(),
            60..65 => format!("release/2026.{:02}", self.rng.random_range(1..7)),
            _ => format!(
                "feature/SHIP-{}",
                1000 + self.rng.random_range(0..FEATURE_BRANCHES)
            ),
        }
    }

    /// 40 % pushes, 20 % pull requests, 40 % builds.
    pub fn kind(&mut self) -> IngestKind {
        match self.rng.random_range(0..10) {
            0..4 => IngestKind::Push,
            4..6 => IngestKind::PullRequest,
            _ => IngestKind::Build,
        }
    }

    /// An event of a random kind and its body.
    pub fn event(&mut self) -> (IngestKind, Value) {
        let kind = self.kind();
        let body = self.body(kind);
        (kind, body)
    }

    pub fn body(&mut self, kind: IngestKind) -> Value {
        let commit_id: String = (0..40)
            .map(|_| char::from_digit(self.rng.random_range(0..16), 16).unwrap_or('0'))
            .collect();
        let (username, name) = AUTHORS[self.rng.random_range(0..AUTHORS.len())];
        let message = MESSAGES[self.rng.random_range(0..MESSAGES.len())];
        let branch = self.branch();
        let mut body = json!({
            "repo_provider": "github",
            "repo_url": "https://github.com/acme/storefront",
            "repo_owner": "acme",
            "repo_name": "storefront",
            "branch": branch,
            "commit_id": commit_id,
            "commit_msg": message,
            "commit_url": format!("https://github.com/acme/storefront/commit/{commit_id}"),
            "author_username": username,
            "author_name": name,
        });
        if kind == IngestKind::Build {
            let number = self.rng.random_range(1..100_000u32);
            let provider = BUILD_PROVIDERS[self.rng.random_range(0..BUILD_PROVIDERS.len())];
            let start_min = self.rng.random_range(0..60);
            let fields = body.as_object_mut().expect("an object");
            fields.insert("build_provider".into(), json!(provider));
            // CI tools send build numbers as numbers about half of the time.
            let build_id = if number % 2 == 0 {
                json!(number)
            } else {
                json!(number.to_string())
            };
            fields.insert("build_id".into(), build_id);
            fields.insert(
                "build_url".into(),
                json!(format!("https://ci.acme.example/job/storefront/{number}/")),
            );
            fields.insert(
                "build_start".into(),
                json!(format!("2026-03-02T10:{start_min:02}:07.120Z")),
            );
            let status = ["Running", "Queued", "Success", "Failed"][self.rng.random_range(0..4)];
            fields.insert("build_status".into(), json!(status));
            if matches!(status, "Success" | "Failed") {
                fields.insert(
                    "build_end".into(),
                    json!(format!("2026-03-02T11:{start_min:02}:45.9+01:00")),
                );
            }
            fields.insert("auto_build".into(), json!(number % 3 != 0));
        }
        body
    }

    /// The query string of a ListEvents call with the BranchAndEventType
    /// filter, newest first, ten per page (without the token).
    pub fn list_query(&mut self) -> String {
        let branch = self.branch();
        let kind = self.kind();
        let branch: String = form_urlencoded::byte_serialize(branch.as_bytes()).collect();
        format!(
            "filter_name=BranchAndEventType&filter_branch={branch}&filter_event_type={}\
             &order=desc&max_results=10",
            kind.filter_value()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shiplog_domain::input::NewEvent;

    #[test]
    fn every_generated_body_is_a_valid_event() {
        let mut workload = Workload::new(7);
        for _ in 0..500 {
            let (kind, body) = workload.event();
            let object = body.as_object().expect("an object");
            NewEvent::parse(kind.event_type(), object).expect("a valid event");
        }
    }
}
