//! What a CI job is about: its commit, branch, author, repository and
//! build. The CI's own variables come first; git fills what they leave out
//! (the commit's author, time and message only when git has that same
//! commit checked out); flags override both; and what is still missing
//! follows from the repository's address where it can.

use std::collections::BTreeMap;

use clap::Args;
use shiplog_client::api::CommitFieldsIn;

use super::{ci, repo};

/// The fields a job gives its events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Field {
    CommitId,
    Branch,
    AuthorUsername,
    AuthorName,
    CommitMsg,
    CommitTime,
    CommitUrl,
    RepoUrl,
    RepoName,
    RepoOwner,
    RepoProvider,
    BuildId,
    BuildUrl,
    BuildProvider,
}

/// Fields that describe the commit itself: git may give them only for the
/// commit the CI names.
const COMMIT_DETAILS: &[Field] = &[
    Field::AuthorName,
    Field::AuthorUsername,
    Field::CommitMsg,
    Field::CommitTime,
];

/// The server refuses longer strings; a long commit message must not cost
/// the whole event.
const COMMIT_MSG_LIMIT: usize = 64 * 1024;
const FIELD_LIMIT: usize = 4 * 1024;

/// Flags that override what the CI and git say.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "What the job is about (default: the CI's variables, else git)")]
pub struct JobArgs {
    /// The commit's id.
    #[arg(long, value_name = "SHA")]
    pub commit: Option<String>,
    /// The branch built.
    #[arg(long, value_name = "BRANCH")]
    pub branch: Option<String>,
    /// The commit message.
    #[arg(long, value_name = "TEXT")]
    pub message: Option<String>,
    /// The author's user name.
    #[arg(long, value_name = "USERNAME")]
    pub author: Option<String>,
    /// The author's full name.
    #[arg(long, value_name = "NAME")]
    pub author_name: Option<String>,
    /// When the commit was made (RFC 3339); lead time starts there.
    #[arg(long, value_name = "TIME")]
    pub commit_time: Option<String>,
    /// The commit's page (default: from the repository's address).
    #[arg(long, value_name = "URL")]
    pub commit_url: Option<String>,
    /// The repository's address (credentials are dropped).
    #[arg(long, value_name = "URL")]
    pub repo_url: Option<String>,
    /// The repository's name (default: from its address).
    #[arg(long, value_name = "NAME")]
    pub repo_name: Option<String>,
    /// Its owner: a user, organisation or group (default: from its address).
    #[arg(long, value_name = "OWNER")]
    pub repo_owner: Option<String>,
    /// github, githubenterprise, gitlab, bitbucket, bitbucketserver or azuredevops.
    #[arg(long, value_name = "PROVIDER")]
    pub repo_provider: Option<String>,
    /// The CI's id of the build.
    #[arg(long, value_name = "ID")]
    pub build_id: Option<String>,
    /// The build's page in the CI.
    #[arg(long, value_name = "URL")]
    pub build_url: Option<String>,
    /// The CI system's name (default: the one detected).
    #[arg(long, value_name = "NAME")]
    pub build_provider: Option<String>,
}

impl JobArgs {
    fn overrides(&self) -> [(Field, &Option<String>); 14] {
        [
            (Field::CommitId, &self.commit),
            (Field::Branch, &self.branch),
            (Field::CommitMsg, &self.message),
            (Field::AuthorUsername, &self.author),
            (Field::AuthorName, &self.author_name),
            (Field::CommitTime, &self.commit_time),
            (Field::CommitUrl, &self.commit_url),
            (Field::RepoUrl, &self.repo_url),
            (Field::RepoName, &self.repo_name),
            (Field::RepoOwner, &self.repo_owner),
            (Field::RepoProvider, &self.repo_provider),
            (Field::BuildId, &self.build_id),
            (Field::BuildUrl, &self.build_url),
            (Field::BuildProvider, &self.build_provider),
        ]
    }
}

/// What the job is about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Job {
    fields: BTreeMap<Field, String>,
}

impl Job {
    /// The job of this process: its environment and working directory.
    pub fn here(flags: &JobArgs) -> Job {
        Job::resolve(&|name| std::env::var(name).ok(), super::git::facts, flags)
    }

    /// The job from `var` (the environment), `git` (asked only when the
    /// CI leaves something out) and `flags`.
    pub fn resolve(
        var: &dyn Fn(&str) -> Option<String>,
        git: impl FnOnce() -> BTreeMap<Field, String>,
        flags: &JobArgs,
    ) -> Job {
        let mut fields = BTreeMap::new();
        if let Some((system, found)) = ci::detect(var) {
            fields = found;
            fields.insert(Field::BuildProvider, system.name.to_owned());
        }
        let from_git = git();
        let same_commit = match (fields.get(&Field::CommitId), from_git.get(&Field::CommitId)) {
            (Some(ci), Some(git)) => ci.eq_ignore_ascii_case(git),
            _ => true,
        };
        for (field, value) in from_git {
            if same_commit || !COMMIT_DETAILS.contains(&field) {
                fields.entry(field).or_insert(value);
            }
        }
        for (field, value) in flags.overrides() {
            if let Some(value) = value.as_ref().filter(|v| !v.is_empty()) {
                fields.insert(field, value.clone());
            }
        }
        let mut job = Job { fields };
        job.derive();
        job
    }

    /// What follows from the repository's address, where still missing.
    fn derive(&mut self) {
        let Some(url) = self.get(Field::RepoUrl).map(repo::web_url) else {
            return;
        };
        let Some(url) = url else {
            // A local path says nothing to anyone else.
            self.fields.remove(&Field::RepoUrl);
            return;
        };
        if let Some(provider) = repo::provider(&url) {
            self.fields
                .entry(Field::RepoProvider)
                .or_insert_with(|| provider.to_owned());
        }
        if let Some((owner, name)) = repo::owner_and_name(&url) {
            self.fields.entry(Field::RepoOwner).or_insert(owner);
            self.fields.entry(Field::RepoName).or_insert(name);
        }
        if let (Some(provider), Some(commit)) =
            (self.get(Field::RepoProvider), self.get(Field::CommitId))
            && let Some(commit_url) = repo::commit_url(provider, &url, commit)
        {
            self.fields.entry(Field::CommitUrl).or_insert(commit_url);
        }
        self.fields.insert(Field::RepoUrl, url);
    }

    pub fn get(&self, field: Field) -> Option<&str> {
        self.fields.get(&field).map(String::as_str)
    }

    /// A field as sent: within the server's limits.
    pub fn value(&self, field: Field) -> Option<String> {
        let limit = if field == Field::CommitMsg {
            COMMIT_MSG_LIMIT
        } else {
            FIELD_LIMIT
        };
        self.get(field)
            .map(|value| truncate(value, limit).to_owned())
    }

    /// The commit fields every event of the job carries.
    pub fn commit_fields(&self) -> CommitFieldsIn {
        CommitFieldsIn {
            author_name: self.value(Field::AuthorName),
            author_username: self.value(Field::AuthorUsername),
            branch: self.value(Field::Branch),
            commit_id: self.value(Field::CommitId),
            commit_msg: self.value(Field::CommitMsg),
            commit_time: self.value(Field::CommitTime),
            commit_url: self.value(Field::CommitUrl),
            repo_name: self.value(Field::RepoName),
            repo_owner: self.value(Field::RepoOwner),
            repo_provider: self.value(Field::RepoProvider),
            repo_url: self.value(Field::RepoUrl),
        }
    }

    /// Only the commit fields the flags give (and what follows from a
    /// flagged repository address): for an event whose commit the server
    /// takes from the event it names.
    pub fn flagged_commit_fields(flags: &JobArgs) -> CommitFieldsIn {
        Job::resolve(&|_| None, BTreeMap::new, flags).commit_fields()
    }
}

/// The longest prefix of `text` of at most `limit` bytes that ends on a
/// character boundary.
fn truncate(text: &str, limit: usize) -> &str {
    if text.len() <= limit {
        return text;
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "6113728f27ae82c7b1a177c8d03f9e96e0adf246";

    fn git_of(commit: &str) -> BTreeMap<Field, String> {
        BTreeMap::from([
            (Field::CommitId, commit.to_owned()),
            (Field::AuthorName, "John Doe".to_owned()),
            (Field::CommitMsg, "Fix the login page".to_owned()),
            (Field::CommitTime, "2026-03-02T09:00:00+01:00".to_owned()),
            (Field::Branch, "main".to_owned()),
            (
                Field::RepoUrl,
                "https://x-access-token:ghs_secret@github.com/jdoe/web.git".to_owned(),
            ),
        ])
    }

    fn github(name: &str) -> Option<String> {
        let vars = [
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_SHA", SHA),
            ("GITHUB_REF_NAME", "release"),
            ("GITHUB_RUN_ID", "9"),
        ];
        vars.iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| (*value).to_owned())
    }

    #[test]
    fn git_fills_what_the_ci_leaves_out_and_the_ci_wins() {
        let job = Job::resolve(&github, || git_of(SHA), &JobArgs::default());
        assert_eq!(job.get(Field::BuildProvider), Some("github-actions"));
        assert_eq!(job.get(Field::Branch), Some("release"));
        assert_eq!(job.get(Field::CommitMsg), Some("Fix the login page"));
        assert_eq!(job.get(Field::AuthorName), Some("John Doe"));
        // Never the token of the clone URL.
        assert_eq!(job.get(Field::RepoUrl), Some("https://github.com/jdoe/web"));
        assert_eq!(job.get(Field::RepoProvider), Some("github"));
        assert_eq!(job.get(Field::RepoOwner), Some("jdoe"));
        assert_eq!(
            job.get(Field::CommitUrl),
            Some(format!("https://github.com/jdoe/web/commit/{SHA}").as_str())
        );
    }

    #[test]
    fn git_describes_no_other_commit_than_the_cis() {
        let job = Job::resolve(&github, || git_of("0000aaaa"), &JobArgs::default());
        assert_eq!(job.get(Field::CommitId), Some(SHA));
        assert_eq!(job.get(Field::CommitMsg), None);
        assert_eq!(job.get(Field::AuthorName), None);
        assert_eq!(job.get(Field::RepoName), Some("web"));
    }

    #[test]
    fn flags_override_the_ci_and_git() {
        let flags = JobArgs {
            branch: Some("hotfix".into()),
            message: Some("Roll back".into()),
            build_provider: Some("buildkite".into()),
            repo_url: Some("git@gitlab.com:shop/web.git".into()),
            ..JobArgs::default()
        };
        let job = Job::resolve(&github, || git_of(SHA), &flags);
        assert_eq!(job.get(Field::Branch), Some("hotfix"));
        assert_eq!(job.get(Field::CommitMsg), Some("Roll back"));
        assert_eq!(job.get(Field::BuildProvider), Some("buildkite"));
        assert_eq!(job.get(Field::RepoUrl), Some("https://gitlab.com/shop/web"));
        assert_eq!(job.get(Field::RepoProvider), Some("gitlab"));
    }

    #[test]
    fn outside_ci_and_git_a_job_is_about_nothing_but_its_flags() {
        let flags = JobArgs {
            commit: Some(SHA.into()),
            ..JobArgs::default()
        };
        let job = Job::resolve(&|_| None, BTreeMap::new, &flags);
        assert_eq!(
            job.commit_fields(),
            CommitFieldsIn {
                commit_id: Some(SHA.into()),
                ..CommitFieldsIn::default()
            }
        );
        assert_eq!(job.get(Field::BuildProvider), None);
    }

    #[test]
    fn long_values_are_cut_to_the_servers_limits_on_a_character_boundary() {
        let flags = JobArgs {
            message: Some("é".repeat(40_000)),
            branch: Some("b".repeat(5_000)),
            ..JobArgs::default()
        };
        let job = Job::resolve(&|_| None, BTreeMap::new, &flags);
        let fields = job.commit_fields();
        assert_eq!(fields.commit_msg.unwrap().len(), COMMIT_MSG_LIMIT);
        assert_eq!(fields.branch.unwrap().len(), FIELD_LIMIT);
    }
}
