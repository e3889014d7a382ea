//! CI systems as data: for each one, the variable that says a job runs
//! there, and which of its variables gives which field. The variables are
//! those each system documents for every job; the README's table is this
//! one in prose.

use std::collections::BTreeMap;

use super::job::Field;

/// Where a field's value comes from, read from the job's environment. A
/// variable that is unset or empty gives nothing.
#[derive(Debug)]
pub enum Source {
    Var(&'static str),
    /// The first of these that gives a value.
    First(&'static [Source]),
    /// A template whose `{NAME}`s are variables; nothing unless all are set.
    Format(&'static str),
    /// The variable without this prefix, where it has it.
    Trim(&'static str, &'static str),
    /// Only when the variable starts with this prefix: the rest.
    After(&'static str, &'static str),
    /// The part after the last `/` of an `owner/name` variable.
    LastSegment(&'static str),
    /// The part before the last `/` of an `owner/name` variable.
    BeforeLastSegment(&'static str),
    /// The variable translated by a table (any letter case), or `other`.
    Map(
        &'static str,
        &'static [(&'static str, &'static str)],
        Option<&'static str>,
    ),
    /// A run id, with `.attempt` past the first attempt (each attempt of a
    /// re-run is a build of its own, as the GitHub hook records them).
    Attempt(&'static str, &'static str),
    Const(&'static str),
}

/// One CI system.
#[derive(Debug)]
pub struct CiSystem {
    /// Its `build_provider`.
    pub name: &'static str,
    /// Any of these set means a job of this system.
    pub markers: &'static [&'static str],
    pub fields: &'static [(Field, Source)],
}

use Field::*;
use Source::*;

pub const SYSTEMS: &[CiSystem] = &[
    CiSystem {
        name: "github-actions",
        markers: &["GITHUB_ACTIONS"],
        fields: &[
            (CommitId, Var("GITHUB_SHA")),
            // On pull requests GITHUB_REF_NAME is `<number>/merge`.
            (
                Branch,
                First(&[Var("GITHUB_HEAD_REF"), Var("GITHUB_REF_NAME")]),
            ),
            (AuthorUsername, Var("GITHUB_ACTOR")),
            (RepoUrl, Format("{GITHUB_SERVER_URL}/{GITHUB_REPOSITORY}")),
            (RepoOwner, Var("GITHUB_REPOSITORY_OWNER")),
            (RepoName, LastSegment("GITHUB_REPOSITORY")),
            (
                RepoProvider,
                Map(
                    "GITHUB_SERVER_URL",
                    &[("https://github.com", "github")],
                    Some("githubenterprise"),
                ),
            ),
            (BuildId, Attempt("GITHUB_RUN_ID", "GITHUB_RUN_ATTEMPT")),
            (
                BuildUrl,
                Format("{GITHUB_SERVER_URL}/{GITHUB_REPOSITORY}/actions/runs/{GITHUB_RUN_ID}"),
            ),
        ],
    },
    CiSystem {
        name: "gitlab-ci",
        markers: &["GITLAB_CI"],
        fields: &[
            (CommitId, Var("CI_COMMIT_SHA")),
            (Branch, Var("CI_COMMIT_REF_NAME")),
            (CommitMsg, Var("CI_COMMIT_MESSAGE")),
            (CommitTime, Var("CI_COMMIT_TIMESTAMP")),
            (AuthorUsername, Var("GITLAB_USER_LOGIN")),
            (AuthorName, Var("GITLAB_USER_NAME")),
            (RepoUrl, Var("CI_PROJECT_URL")),
            (RepoName, Var("CI_PROJECT_NAME")),
            (RepoOwner, Var("CI_PROJECT_NAMESPACE")),
            (RepoProvider, Const("gitlab")),
            (BuildId, Var("CI_PIPELINE_ID")),
            (BuildUrl, Var("CI_PIPELINE_URL")),
        ],
    },
    CiSystem {
        name: "jenkins",
        markers: &["JENKINS_URL", "JENKINS_HOME"],
        fields: &[
            (CommitId, Var("GIT_COMMIT")),
            // A multibranch pipeline's pull request builds a branch called
            // `PR-<n>`; CHANGE_BRANCH names the branch it is of.
            (
                Branch,
                First(&[
                    Var("CHANGE_BRANCH"),
                    Trim("GIT_BRANCH", "origin/"),
                    Var("BRANCH_NAME"),
                ]),
            ),
            (AuthorName, Var("GIT_AUTHOR_NAME")),
            (RepoUrl, Var("GIT_URL")),
            (BuildId, Var("BUILD_NUMBER")),
            (BuildUrl, Var("BUILD_URL")),
        ],
    },
    CiSystem {
        name: "circleci",
        markers: &["CIRCLECI"],
        fields: &[
            (CommitId, Var("CIRCLE_SHA1")),
            (Branch, Var("CIRCLE_BRANCH")),
            (AuthorUsername, Var("CIRCLE_USERNAME")),
            (RepoName, Var("CIRCLE_PROJECT_REPONAME")),
            (RepoOwner, Var("CIRCLE_PROJECT_USERNAME")),
            (RepoUrl, Var("CIRCLE_REPOSITORY_URL")),
            (BuildId, Var("CIRCLE_BUILD_NUM")),
            (BuildUrl, Var("CIRCLE_BUILD_URL")),
        ],
    },
    CiSystem {
        name: "bitbucket-pipelines",
        markers: &["BITBUCKET_BUILD_NUMBER"],
        fields: &[
            (CommitId, Var("BITBUCKET_COMMIT")),
            (Branch, Var("BITBUCKET_BRANCH")),
            (RepoName, Var("BITBUCKET_REPO_SLUG")),
            (RepoOwner, Var("BITBUCKET_WORKSPACE")),
            (RepoUrl, Var("BITBUCKET_GIT_HTTP_ORIGIN")),
            (RepoProvider, Const("bitbucket")),
            (BuildId, Var("BITBUCKET_BUILD_NUMBER")),
            (
                BuildUrl,
                Format(
                    "https://bitbucket.org/{BITBUCKET_WORKSPACE}/{BITBUCKET_REPO_SLUG}/pipelines/results/{BITBUCKET_BUILD_NUMBER}",
                ),
            ),
        ],
    },
    CiSystem {
        name: "azure-pipelines",
        markers: &["TF_BUILD"],
        fields: &[
            (CommitId, Var("BUILD_SOURCEVERSION")),
            // A pull request build's source branch is `refs/pull/<n>/merge`.
            (
                Branch,
                First(&[
                    After("SYSTEM_PULLREQUEST_SOURCEBRANCH", "refs/heads/"),
                    After("BUILD_SOURCEBRANCH", "refs/heads/"),
                    Var("BUILD_SOURCEBRANCHNAME"),
                ]),
            ),
            (AuthorName, Var("BUILD_REQUESTEDFOR")),
            (CommitMsg, Var("BUILD_SOURCEVERSIONMESSAGE")),
            (RepoUrl, Var("BUILD_REPOSITORY_URI")),
            // A GitHub repository is named `owner/name`.
            (RepoName, LastSegment("BUILD_REPOSITORY_NAME")),
            (
                RepoOwner,
                First(&[
                    BeforeLastSegment("BUILD_REPOSITORY_NAME"),
                    Var("SYSTEM_TEAMPROJECT"),
                ]),
            ),
            (
                RepoProvider,
                Map(
                    "BUILD_REPOSITORY_PROVIDER",
                    &[
                        ("TfsGit", "azuredevops"),
                        ("GitHub", "github"),
                        ("GitHubEnterprise", "githubenterprise"),
                        ("Bitbucket", "bitbucket"),
                    ],
                    None,
                ),
            ),
            (BuildId, Var("BUILD_BUILDID")),
            (
                BuildUrl,
                Format(
                    "{SYSTEM_COLLECTIONURI}{SYSTEM_TEAMPROJECT}/_build/results?buildId={BUILD_BUILDID}",
                ),
            ),
        ],
    },
    CiSystem {
        name: "travis-ci",
        markers: &["TRAVIS"],
        fields: &[
            (CommitId, Var("TRAVIS_COMMIT")),
            // Empty on push builds.
            (
                Branch,
                First(&[Var("TRAVIS_PULL_REQUEST_BRANCH"), Var("TRAVIS_BRANCH")]),
            ),
            (CommitMsg, Var("TRAVIS_COMMIT_MESSAGE")),
            (RepoName, LastSegment("TRAVIS_REPO_SLUG")),
            (RepoOwner, BeforeLastSegment("TRAVIS_REPO_SLUG")),
            (BuildId, Var("TRAVIS_BUILD_ID")),
            (BuildUrl, Var("TRAVIS_BUILD_WEB_URL")),
        ],
    },
];

/// The CI system the job runs in, and the fields its variables give.
pub fn detect(
    var: &dyn Fn(&str) -> Option<String>,
) -> Option<(&'static CiSystem, BTreeMap<Field, String>)> {
    let value = |name: &str| var(name).filter(|v| !v.trim().is_empty());
    let system = SYSTEMS
        .iter()
        .find(|system| system.markers.iter().any(|name| value(name).is_some()))?;
    let fields = system
        .fields
        .iter()
        .filter_map(|(field, source)| Some((*field, source.eval(&value)?)))
        .collect();
    Some((system, fields))
}

impl Source {
    fn eval(&self, var: &dyn Fn(&str) -> Option<String>) -> Option<String> {
        match self {
            Var(name) => var(name),
            First(sources) => sources.iter().find_map(|source| source.eval(var)),
            Format(template) => format(template, var),
            Trim(name, prefix) => {
                var(name).map(|v| v.strip_prefix(prefix).unwrap_or(&v).to_owned())
            }
            After(name, prefix) => var(name)?.strip_prefix(prefix).map(str::to_owned),
            LastSegment(name) => var(name).map(|v| v.rsplit('/').next().unwrap_or(&v).to_owned()),
            BeforeLastSegment(name) => var(name)?.rsplit_once('/').map(|(a, _)| a.to_owned()),
            Map(name, table, other) => {
                let v = var(name)?;
                table
                    .iter()
                    .find(|(from, _)| from.eq_ignore_ascii_case(v.trim_end_matches('/')))
                    .map(|(_, to)| *to)
                    .or(*other)
                    .map(str::to_owned)
            }
            Attempt(run, attempt) => {
                let run = var(run)?;
                match var(attempt).and_then(|a| a.parse::<u32>().ok()) {
                    Some(n) if n > 1 => Some(format!("{run}.{n}")),
                    _ => Some(run),
                }
            }
            Const(value) => Some((*value).to_owned()),
        }
    }
}

/// `{NAME}`s replaced by their variables, spaces escaped for URLs.
fn format(template: &str, var: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let close = open + rest[open..].find('}')?;
        out.push_str(&rest[..open]);
        out.push_str(&var(&rest[open + 1..close])?.replace(' ', "%20"));
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fields `vars` give, by key, and the system's name.
    fn detected(vars: &[(&str, &str)]) -> (&'static str, BTreeMap<Field, String>) {
        let var = |name: &str| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        };
        let (system, fields) = detect(&var).expect("a CI system");
        (system.name, fields)
    }

    fn expect(fields: &BTreeMap<Field, String>, expected: &[(Field, &str)]) {
        for (field, value) in expected {
            assert_eq!(
                fields.get(field).map(String::as_str),
                Some(*value),
                "{field:?} in {fields:?}"
            );
        }
        assert_eq!(fields.len(), expected.len(), "{fields:?}");
    }

    const SHA: &str = "6113728f27ae82c7b1a177c8d03f9e96e0adf246";

    #[test]
    fn github_actions_on_a_push() {
        let (name, fields) = detected(&[
            ("CI", "true"),
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_SHA", SHA),
            ("GITHUB_REF", "refs/heads/main"),
            ("GITHUB_REF_NAME", "main"),
            ("GITHUB_HEAD_REF", ""),
            ("GITHUB_ACTOR", "jdoe"),
            ("GITHUB_REPOSITORY", "jdoe/web"),
            ("GITHUB_REPOSITORY_OWNER", "jdoe"),
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_RUN_ID", "1658821493"),
            ("GITHUB_RUN_ATTEMPT", "1"),
        ]);
        assert_eq!(name, "github-actions");
        expect(
            &fields,
            &[
                (Field::CommitId, SHA),
                (Field::Branch, "main"),
                (Field::AuthorUsername, "jdoe"),
                (Field::RepoUrl, "https://github.com/jdoe/web"),
                (Field::RepoOwner, "jdoe"),
                (Field::RepoName, "web"),
                (Field::RepoProvider, "github"),
                (Field::BuildId, "1658821493"),
                (
                    Field::BuildUrl,
                    "https://github.com/jdoe/web/actions/runs/1658821493",
                ),
            ],
        );
    }

    #[test]
    fn github_actions_on_a_pull_request_rerun_on_enterprise_server() {
        let (_, fields) = detected(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_SHA", SHA),
            ("GITHUB_REF_NAME", "42/merge"),
            ("GITHUB_HEAD_REF", "feature/login"),
            ("GITHUB_REPOSITORY", "shop/web"),
            ("GITHUB_SERVER_URL", "https://git.example.com"),
            ("GITHUB_RUN_ID", "77"),
            ("GITHUB_RUN_ATTEMPT", "3"),
        ]);
        assert_eq!(fields[&Field::Branch], "feature/login");
        assert_eq!(fields[&Field::BuildId], "77.3");
        assert_eq!(fields[&Field::RepoProvider], "githubenterprise");
        assert_eq!(
            fields[&Field::BuildUrl],
            "https://git.example.com/shop/web/actions/runs/77"
        );
    }

    #[test]
    fn gitlab_ci() {
        let (name, fields) = detected(&[
            ("CI", "true"),
            ("GITLAB_CI", "true"),
            ("CI_COMMIT_SHA", SHA),
            ("CI_COMMIT_REF_NAME", "main"),
            ("CI_COMMIT_MESSAGE", "Fix the login page\n"),
            ("CI_COMMIT_TIMESTAMP", "2026-03-02T09:00:00+01:00"),
            ("GITLAB_USER_LOGIN", "jdoe"),
            ("GITLAB_USER_NAME", "John Doe"),
            ("CI_PROJECT_URL", "https://gitlab.com/shop/web"),
            ("CI_PROJECT_NAME", "web"),
            ("CI_PROJECT_NAMESPACE", "shop"),
            ("CI_PIPELINE_ID", "1000"),
            (
                "CI_PIPELINE_URL",
                "https://gitlab.com/shop/web/-/pipelines/1000",
            ),
            ("CI_JOB_ID", "5000"),
        ]);
        assert_eq!(name, "gitlab-ci");
        expect(
            &fields,
            &[
                (Field::CommitId, SHA),
                (Field::Branch, "main"),
                (Field::CommitMsg, "Fix the login page\n"),
                (Field::CommitTime, "2026-03-02T09:00:00+01:00"),
                (Field::AuthorUsername, "jdoe"),
                (Field::AuthorName, "John Doe"),
                (Field::RepoUrl, "https://gitlab.com/shop/web"),
                (Field::RepoName, "web"),
                (Field::RepoOwner, "shop"),
                (Field::RepoProvider, "gitlab"),
                (Field::BuildId, "1000"),
                (
                    Field::BuildUrl,
                    "https://gitlab.com/shop/web/-/pipelines/1000",
                ),
            ],
        );
    }

    #[test]
    fn jenkins() {
        let (name, fields) = detected(&[
            ("JENKINS_URL", "https://ci.example.com/"),
            ("BUILD_NUMBER", "96"),
            ("BUILD_URL", "https://ci.example.com/job/web/96/"),
            ("GIT_COMMIT", SHA),
            ("GIT_BRANCH", "origin/main"),
            ("GIT_URL", "https://github.com/jdoe/web.git"),
        ]);
        assert_eq!(name, "jenkins");
        expect(
            &fields,
            &[
                (Field::CommitId, SHA),
                (Field::Branch, "main"),
                (Field::RepoUrl, "https://github.com/jdoe/web.git"),
                (Field::BuildId, "96"),
                (Field::BuildUrl, "https://ci.example.com/job/web/96/"),
            ],
        );
    }

    #[test]
    fn a_jenkins_multibranch_pull_request_names_its_branch() {
        let (_, fields) = detected(&[
            ("JENKINS_HOME", "/var/jenkins_home"),
            ("BRANCH_NAME", "PR-12"),
            ("GIT_BRANCH", "PR-12"),
            ("CHANGE_BRANCH", "feature/login"),
        ]);
        assert_eq!(fields[&Field::Branch], "feature/login");
    }

    #[test]
    fn circleci() {
        let (name, fields) = detected(&[
            ("CI", "true"),
            ("CIRCLECI", "true"),
            ("CIRCLE_SHA1", SHA),
            ("CIRCLE_BRANCH", "main"),
            ("CIRCLE_USERNAME", "jdoe"),
            ("CIRCLE_PROJECT_REPONAME", "web"),
            ("CIRCLE_PROJECT_USERNAME", "shop"),
            ("CIRCLE_REPOSITORY_URL", "git@github.com:shop/web.git"),
            ("CIRCLE_BUILD_NUM", "123"),
            ("CIRCLE_BUILD_URL", "https://circleci.com/gh/shop/web/123"),
        ]);
        assert_eq!(name, "circleci");
        expect(
            &fields,
            &[
                (Field::CommitId, SHA),
                (Field::Branch, "main"),
                (Field::AuthorUsername, "jdoe"),
                (Field::RepoName, "web"),
                (Field::RepoOwner, "shop"),
                (Field::RepoUrl, "git@github.com:shop/web.git"),
                (Field::BuildId, "123"),
                (Field::BuildUrl, "https://circleci.com/gh/shop/web/123"),
            ],
        );
    }

    #[test]
    fn bitbucket_pipelines() {
        let (name, fields) = detected(&[
            ("CI", "true"),
            ("BITBUCKET_BUILD_NUMBER", "42"),
            ("BITBUCKET_COMMIT", SHA),
            ("BITBUCKET_BRANCH", "main"),
            ("BITBUCKET_REPO_SLUG", "web"),
            ("BITBUCKET_WORKSPACE", "shop"),
            ("BITBUCKET_GIT_HTTP_ORIGIN", "http://bitbucket.org/shop/web"),
        ]);
        assert_eq!(name, "bitbucket-pipelines");
        expect(
            &fields,
            &[
                (Field::CommitId, SHA),
                (Field::Branch, "main"),
                (Field::RepoName, "web"),
                (Field::RepoOwner, "shop"),
                (Field::RepoUrl, "http://bitbucket.org/shop/web"),
                (Field::RepoProvider, "bitbucket"),
                (Field::BuildId, "42"),
                (
                    Field::BuildUrl,
                    "https://bitbucket.org/shop/web/pipelines/results/42",
                ),
            ],
        );
    }

    #[test]
    fn azure_pipelines() {
        let (name, fields) = detected(&[
            ("TF_BUILD", "True"),
            ("BUILD_SOURCEVERSION", SHA),
            ("BUILD_SOURCEBRANCH", "refs/heads/feature/login"),
            ("BUILD_SOURCEBRANCHNAME", "login"),
            ("BUILD_REQUESTEDFOR", "John Doe"),
            ("BUILD_SOURCEVERSIONMESSAGE", "Fix the login page"),
            (
                "BUILD_REPOSITORY_URI",
                "https://dev.azure.com/acme/Shop/_git/web",
            ),
            ("BUILD_REPOSITORY_NAME", "web"),
            ("BUILD_REPOSITORY_PROVIDER", "TfsGit"),
            ("BUILD_BUILDID", "311"),
            ("SYSTEM_COLLECTIONURI", "https://dev.azure.com/acme/"),
            ("SYSTEM_TEAMPROJECT", "Shop Front"),
        ]);
        assert_eq!(name, "azure-pipelines");
        expect(
            &fields,
            &[
                (Field::CommitId, SHA),
                (Field::Branch, "feature/login"),
                (Field::AuthorName, "John Doe"),
                (Field::CommitMsg, "Fix the login page"),
                (Field::RepoUrl, "https://dev.azure.com/acme/Shop/_git/web"),
                (Field::RepoName, "web"),
                (Field::RepoOwner, "Shop Front"),
                (Field::RepoProvider, "azuredevops"),
                (Field::BuildId, "311"),
                (
                    Field::BuildUrl,
                    "https://dev.azure.com/acme/Shop%20Front/_build/results?buildId=311",
                ),
            ],
        );
    }

    #[test]
    fn an_azure_pull_request_of_a_github_repository() {
        let (_, fields) = detected(&[
            ("TF_BUILD", "True"),
            ("BUILD_SOURCEBRANCH", "refs/pull/7/merge"),
            ("BUILD_SOURCEBRANCHNAME", "merge"),
            (
                "SYSTEM_PULLREQUEST_SOURCEBRANCH",
                "refs/heads/feature/login",
            ),
            ("BUILD_REPOSITORY_NAME", "shop/web"),
            ("BUILD_REPOSITORY_PROVIDER", "GitHub"),
        ]);
        assert_eq!(fields[&Field::Branch], "feature/login");
        assert_eq!(fields[&Field::RepoOwner], "shop");
        assert_eq!(fields[&Field::RepoName], "web");
        assert_eq!(fields[&Field::RepoProvider], "github");
    }

    #[test]
    fn travis_ci() {
        let (name, fields) = detected(&[
            ("CI", "true"),
            ("TRAVIS", "true"),
            ("TRAVIS_COMMIT", SHA),
            ("TRAVIS_BRANCH", "main"),
            ("TRAVIS_PULL_REQUEST_BRANCH", ""),
            ("TRAVIS_COMMIT_MESSAGE", "Fix the login page"),
            ("TRAVIS_REPO_SLUG", "shop/web"),
            ("TRAVIS_BUILD_ID", "279"),
            (
                "TRAVIS_BUILD_WEB_URL",
                "https://app.travis-ci.com/shop/web/builds/279",
            ),
        ]);
        assert_eq!(name, "travis-ci");
        expect(
            &fields,
            &[
                (Field::CommitId, SHA),
                (Field::Branch, "main"),
                (Field::CommitMsg, "Fix the login page"),
                (Field::RepoName, "web"),
                (Field::RepoOwner, "shop"),
                (Field::BuildId, "279"),
                (
                    Field::BuildUrl,
                    "https://app.travis-ci.com/shop/web/builds/279",
                ),
            ],
        );
        let (_, pull_request) = detected(&[
            ("TRAVIS", "true"),
            ("TRAVIS_BRANCH", "main"),
            ("TRAVIS_PULL_REQUEST_BRANCH", "feature/login"),
        ]);
        assert_eq!(pull_request[&Field::Branch], "feature/login");
    }

    #[test]
    fn outside_ci_nothing_is_detected() {
        assert!(detect(&|_| None).is_none());
        // A marker set but empty is no marker.
        assert!(detect(&|name| (name == "GITHUB_ACTIONS").then(String::new)).is_none());
    }

    #[test]
    fn the_readme_names_every_variable_read() {
        let readme = include_str!("../../../../README.md");
        for system in SYSTEMS {
            assert!(
                readme.contains(&format!("`{}`", system.name)),
                "{}",
                system.name
            );
            let mut names: Vec<&str> = system.markers.to_vec();
            for (_, source) in system.fields {
                source.variables(&mut names);
            }
            for name in names {
                assert!(
                    readme.contains(&format!("`{name}`")),
                    "the README's table of CI variables lacks `{name}` ({})",
                    system.name
                );
            }
        }
    }

    impl Source {
        fn variables(&self, names: &mut Vec<&'static str>) {
            match self {
                Var(name)
                | Trim(name, _)
                | After(name, _)
                | LastSegment(name)
                | BeforeLastSegment(name)
                | Map(name, _, _) => names.push(name),
                Attempt(run, attempt) => names.extend([*run, *attempt]),
                First(sources) => sources.iter().for_each(|s| s.variables(names)),
                Format(template) => names.extend(
                    template
                        .split('{')
                        .skip(1)
                        .filter_map(|part| part.split_once('}').map(|(name, _)| name)),
                ),
                Const(_) => {}
            }
        }
    }
}
