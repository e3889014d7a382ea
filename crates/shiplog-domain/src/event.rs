//! Events: their types, the enumerated field values, and their wire shape.
//!
//! One flat [`EventFields`] holds every field any event type can carry; the
//! type decides which of them it carries ([`EventType::fields`]). The same
//! table drives parsing request bodies here and writing responses in
//! `shiplog-api`, so the two cannot drift apart.

use serde::ser::{Serialize, Serializer};

use crate::Timestamp;

/// Declares a closed set of values matched in any letter case and returned
/// in one canonical spelling.
macro_rules! value_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses any letter case of a canonical spelling.
            pub fn parse(text: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str().eq_ignore_ascii_case(text))
            }

            /// The accepted values, for error messages.
            pub fn accepted() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                Self::parse(&text).ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "{text:?} is not one of {}",
                        Self::accepted()
                    ))
                })
            }
        }
    };
}

value_enum!(
    /// The kind of an event, as stored and as returned in `event_type`.
    EventType {
        Push => "PUSH",
        PullRequest => "PULLREQUEST",
        Build => "BUILD",
        Release => "RELEASE",
        Deploy => "DEPLOY",
        DockerImage => "DOCKERIMAGE",
        Incident => "INCIDENT",
    }
);

value_enum!(BuildStatus {
    Waiting => "Waiting",
    Queued => "Queued",
    Running => "Running",
    Success => "Success",
    Failed => "Failed",
    TimedOut => "TimedOut",
    Cancelled => "Cancelled",
});

value_enum!(DeploymentStatus {
    Pending => "Pending",
    InProgress => "InProgress",
    Ok => "Ok",
    Failed => "Failed",
    Aborted => "Aborted",
});

value_enum!(
    /// An incident is `Open` until it is `Resolved`, which is final.
    IncidentStatus {
        Open => "Open",
        Resolved => "Resolved",
    }
);

value_enum!(DeploymentType {
    Deploy => "Deploy",
    Restart => "Restart",
    Terminate => "Terminate",
});

value_enum!(RepoProvider {
    Bitbucket => "bitbucket",
    BitbucketServer => "bitbucketserver",
    Github => "github",
    GithubEnterprise => "githubenterprise",
    Gitlab => "gitlab",
    AzureDevops => "azuredevops",
});

impl BuildStatus {
    pub const TERMINAL: &'static [BuildStatus] = &[
        BuildStatus::Success,
        BuildStatus::Failed,
        BuildStatus::TimedOut,
        BuildStatus::Cancelled,
    ];

    pub fn is_terminal(self) -> bool {
        Self::TERMINAL.contains(&self)
    }
}

impl DeploymentStatus {
    pub const TERMINAL: &'static [DeploymentStatus] = &[
        DeploymentStatus::Ok,
        DeploymentStatus::Failed,
        DeploymentStatus::Aborted,
    ];

    pub fn is_terminal(self) -> bool {
        Self::TERMINAL.contains(&self)
    }
}

impl IncidentStatus {
    pub fn is_terminal(self) -> bool {
        self == IncidentStatus::Resolved
    }
}

impl EventType {
    /// The spelling used by ListEvents' `filter_event_type` (`Build`, `Pullrequest`, …).
    pub fn filter_name(self) -> &'static str {
        match self {
            EventType::Push => "Push",
            EventType::PullRequest => "Pullrequest",
            EventType::Build => "Build",
            EventType::Release => "Release",
            EventType::Deploy => "Deploy",
            EventType::DockerImage => "Dockerimage",
            EventType::Incident => "Incident",
        }
    }

    /// The fields an event of this type carries after the four common ones,
    /// in wire order (alphabetical).
    pub fn fields(self) -> &'static [Field] {
        use Field::*;
        match self {
            EventType::Push | EventType::PullRequest | EventType::DockerImage => &[
                AuthorName,
                AuthorUsername,
                Branch,
                CommitId,
                CommitMsg,
                CommitTime,
                CommitUrl,
                RepoName,
                RepoOwner,
                RepoProvider,
                RepoUrl,
            ],
            EventType::Build => &[
                AuthorName,
                AuthorUsername,
                AutoBuild,
                Branch,
                BuildEnd,
                BuildId,
                BuildProvider,
                BuildStart,
                BuildStatus,
                BuildUrl,
                CommitId,
                CommitMsg,
                CommitTime,
                CommitUrl,
                ParentEventId,
                ReleaseVersion,
                RepoName,
                RepoOwner,
                RepoProvider,
                RepoUrl,
            ],
            EventType::Release => &[
                AuthorName,
                AuthorUsername,
                Branch,
                BuildId,
                CommitId,
                CommitMsg,
                CommitTime,
                CommitUrl,
                ParentEventId,
                ReleaseVersion,
                RepoName,
                RepoOwner,
                RepoProvider,
                RepoUrl,
            ],
            EventType::Deploy => &[
                AuthorName,
                AuthorUsername,
                AutoDeploy,
                Branch,
                CommitId,
                CommitMsg,
                CommitTime,
                CommitUrl,
                DeploymentEnd,
                DeploymentId,
                DeploymentNumber,
                DeploymentStart,
                DeploymentStatus,
                DeploymentType,
                EnvName,
                Hotfix,
                ParentEventId,
                ReleaseVersion,
                RepoName,
                RepoOwner,
                RepoProvider,
                RepoUrl,
            ],
            EventType::Incident => &[
                CausedByEventId,
                EnvName,
                IncidentEnd,
                IncidentStart,
                IncidentStatus,
                Severity,
                Title,
                Url,
            ],
        }
    }
}

/// Every type-specific field an event can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    AuthorName,
    AuthorUsername,
    AutoBuild,
    AutoDeploy,
    Branch,
    BuildEnd,
    BuildId,
    BuildProvider,
    BuildStart,
    BuildStatus,
    BuildUrl,
    CausedByEventId,
    CommitId,
    CommitMsg,
    CommitTime,
    CommitUrl,
    DeploymentEnd,
    DeploymentId,
    DeploymentNumber,
    DeploymentStart,
    DeploymentStatus,
    DeploymentType,
    EnvName,
    Hotfix,
    IncidentEnd,
    IncidentStart,
    IncidentStatus,
    ParentEventId,
    ReleaseVersion,
    RepoName,
    RepoOwner,
    RepoProvider,
    RepoUrl,
    Severity,
    Title,
    Url,
}

impl Field {
    pub fn key(self) -> &'static str {
        match self {
            Field::AuthorName => "author_name",
            Field::AuthorUsername => "author_username",
            Field::AutoBuild => "auto_build",
            Field::AutoDeploy => "auto_deploy",
            Field::Branch => "branch",
            Field::BuildEnd => "build_end",
            Field::BuildId => "build_id",
            Field::BuildProvider => "build_provider",
            Field::BuildStart => "build_start",
            Field::BuildStatus => "build_status",
            Field::BuildUrl => "build_url",
            Field::CausedByEventId => "caused_by_event_id",
            Field::CommitId => "commit_id",
            Field::CommitMsg => "commit_msg",
            Field::CommitTime => "commit_time",
            Field::CommitUrl => "commit_url",
            Field::DeploymentEnd => "deployment_end",
            Field::DeploymentStart => "deployment_start",
            Field::Hotfix => "hotfix",
            Field::DeploymentId => "deployment_id",
            Field::DeploymentNumber => "deployment_number",
            Field::DeploymentStatus => "deployment_status",
            Field::DeploymentType => "deployment_type",
            Field::EnvName => "env_name",
            Field::IncidentEnd => "incident_end",
            Field::IncidentStart => "incident_start",
            Field::IncidentStatus => "incident_status",
            Field::Severity => "severity",
            Field::Title => "title",
            Field::Url => "url",
            Field::ParentEventId => "parent_event_id",
            Field::ReleaseVersion => "release_version",
            Field::RepoName => "repo_name",
            Field::RepoOwner => "repo_owner",
            Field::RepoProvider => "repo_provider",
            Field::RepoUrl => "repo_url",
        }
    }
}

/// The commit a PUSH, PULLREQUEST, BUILD, RELEASE or DEPLOY is about; copied
/// from parent to child when a release is made from a build or deployed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommitFields {
    pub author_name: Option<String>,
    pub author_username: Option<String>,
    pub branch: Option<String>,
    pub commit_id: Option<String>,
    pub commit_msg: Option<String>,
    /// When the commit was made, as its author's tools report it.
    pub commit_time: Option<Timestamp>,
    pub commit_url: Option<String>,
    pub repo_name: Option<String>,
    pub repo_owner: Option<String>,
    pub repo_provider: Option<RepoProvider>,
    pub repo_url: Option<String>,
}

impl CommitFields {
    /// Fills every field still unknown here from `other`.
    pub fn fill_from(&mut self, other: &CommitFields) {
        fn fill<T: Clone>(mine: &mut Option<T>, theirs: &Option<T>) {
            if mine.is_none() {
                mine.clone_from(theirs);
            }
        }
        fill(&mut self.author_name, &other.author_name);
        fill(&mut self.author_username, &other.author_username);
        fill(&mut self.branch, &other.branch);
        fill(&mut self.commit_id, &other.commit_id);
        fill(&mut self.commit_msg, &other.commit_msg);
        fill(&mut self.commit_time, &other.commit_time);
        fill(&mut self.commit_url, &other.commit_url);
        fill(&mut self.repo_name, &other.repo_name);
        fill(&mut self.repo_owner, &other.repo_owner);
        fill(&mut self.repo_provider, &other.repo_provider);
        fill(&mut self.repo_url, &other.repo_url);
    }
}

/// Every type-specific field of an event; which ones exist on the wire is
/// decided by the event type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFields {
    pub commit: CommitFields,
    pub auto_build: Option<bool>,
    pub build_end: Option<Timestamp>,
    pub build_id: Option<String>,
    pub build_provider: Option<String>,
    pub build_start: Option<Timestamp>,
    pub build_status: Option<BuildStatus>,
    pub build_url: Option<String>,
    pub parent_event_id: Option<i64>,
    pub release_version: Option<String>,
    pub auto_deploy: Option<bool>,
    pub deployment_id: Option<String>,
    pub deployment_number: Option<String>,
    pub deployment_status: Option<DeploymentStatus>,
    pub deployment_type: Option<DeploymentType>,
    /// When the deploy began: its creation unless the client says otherwise.
    pub deployment_start: Option<Timestamp>,
    /// When the deploy reached a terminal status.
    pub deployment_end: Option<Timestamp>,
    /// An unplanned deploy made to repair production.
    pub hotfix: Option<bool>,
    pub env_name: Option<String>,
    /// INCIDENT: `Open` until `Resolved`.
    pub incident_status: Option<IncidentStatus>,
    /// INCIDENT: when production broke (its creation unless sent).
    pub incident_start: Option<Timestamp>,
    /// INCIDENT: when it was resolved.
    pub incident_end: Option<Timestamp>,
    /// INCIDENT: the DEPLOY that caused it.
    pub caused_by_event_id: Option<i64>,
    /// INCIDENT: free text, as the incident tool grades it.
    pub severity: Option<String>,
    pub title: Option<String>,
    pub url: Option<String>,
}

/// A stored event, as returned by the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub app_name: String,
    pub event_id: i64,
    pub event_time: Timestamp,
    pub event_type: EventType,
    pub fields: EventFields,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_lists_its_fields_alphabetically() {
        for ty in EventType::ALL {
            let keys: Vec<_> = ty.fields().iter().map(|f| f.key()).collect();
            let mut sorted = keys.clone();
            sorted.sort();
            assert_eq!(keys, sorted, "{ty:?}");
        }
    }

    #[test]
    fn statuses_parse_in_any_case_to_the_canonical_form() {
        assert_eq!(BuildStatus::parse("running"), Some(BuildStatus::Running));
        assert_eq!(BuildStatus::parse("TIMEDOUT"), Some(BuildStatus::TimedOut));
        assert_eq!(BuildStatus::parse("done"), None);
        assert_eq!(RepoProvider::parse("GitHub"), Some(RepoProvider::Github));
        assert!(BuildStatus::Cancelled.is_terminal());
        assert!(!BuildStatus::Queued.is_terminal());
        assert!(DeploymentStatus::Aborted.is_terminal());
    }
}
