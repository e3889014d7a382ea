//! Each CI system's documented variables, in the job's environment, give
//! the recorded BUILD its fields; outside CI, git does.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use super::{Job, event};
use crate::helpers::TestApp;

const SHA: &str = "6113728f27ae82c7b1a177c8d03f9e96e0adf246";

/// The BUILD `run` records in a job with `vars`.
async fn build_in(vars: &[(&str, &str)]) -> Value {
    let server = TestApp::spawn().await;
    let ran = Job::new(&server, "web")
        .vars(vars)
        .run(&["run", "--", "true"])
        .await;
    assert_eq!(ran.code, Some(0), "{ran:?}");
    event(&server, "web", ran.id()).await
}

fn expect(build: &Value, expected: &[(&str, &str)]) {
    for (field, value) in expected {
        assert_eq!(build[*field], *value, "{field} of {build}");
    }
}

#[tokio::test]
async fn github_actions() {
    let build = build_in(&[
        ("CI", "true"),
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_SHA", SHA),
        ("GITHUB_REF_NAME", "21/merge"),
        ("GITHUB_HEAD_REF", "feature/login"),
        ("GITHUB_ACTOR", "jdoe"),
        ("GITHUB_REPOSITORY", "jdoe/web"),
        ("GITHUB_REPOSITORY_OWNER", "jdoe"),
        ("GITHUB_SERVER_URL", "https://github.com"),
        ("GITHUB_RUN_ID", "1658821493"),
        ("GITHUB_RUN_ATTEMPT", "2"),
    ])
    .await;
    expect(
        &build,
        &[
            ("build_provider", "github-actions"),
            ("commit_id", SHA),
            ("branch", "feature/login"),
            ("author_username", "jdoe"),
            ("repo_url", "https://github.com/jdoe/web"),
            ("repo_owner", "jdoe"),
            ("repo_name", "web"),
            ("repo_provider", "github"),
            ("build_id", "1658821493.2"),
            (
                "build_url",
                "https://github.com/jdoe/web/actions/runs/1658821493",
            ),
            (
                "commit_url",
                &format!("https://github.com/jdoe/web/commit/{SHA}"),
            ),
        ],
    );
}

#[tokio::test]
async fn gitlab_ci() {
    let build = build_in(&[
        ("CI", "true"),
        ("GITLAB_CI", "true"),
        ("CI_COMMIT_SHA", SHA),
        ("CI_COMMIT_REF_NAME", "main"),
        ("CI_COMMIT_MESSAGE", "Fix the login page"),
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
        (
            "CI_REPOSITORY_URL",
            "https://gitlab-ci-token:secret@gitlab.com/shop/web.git",
        ),
    ])
    .await;
    expect(
        &build,
        &[
            ("build_provider", "gitlab-ci"),
            ("commit_id", SHA),
            ("branch", "main"),
            ("commit_msg", "Fix the login page"),
            ("commit_time", "2026-03-02T08:00:00.000Z"),
            ("author_username", "jdoe"),
            ("author_name", "John Doe"),
            ("repo_url", "https://gitlab.com/shop/web"),
            ("repo_name", "web"),
            ("repo_owner", "shop"),
            ("repo_provider", "gitlab"),
            ("build_id", "1000"),
            ("build_url", "https://gitlab.com/shop/web/-/pipelines/1000"),
            (
                "commit_url",
                &format!("https://gitlab.com/shop/web/-/commit/{SHA}"),
            ),
        ],
    );
    assert!(!build.to_string().contains("secret"), "{build}");
}

#[tokio::test]
async fn jenkins() {
    let build = build_in(&[
        ("JENKINS_URL", "https://ci.example.com/"),
        ("JENKINS_HOME", "/var/jenkins_home"),
        ("BUILD_NUMBER", "96"),
        ("BUILD_URL", "https://ci.example.com/job/web/96/"),
        ("GIT_COMMIT", SHA),
        ("GIT_BRANCH", "origin/main"),
        ("GIT_URL", "https://jenkins:secret@github.com/jdoe/web.git"),
    ])
    .await;
    expect(
        &build,
        &[
            ("build_provider", "jenkins"),
            ("commit_id", SHA),
            ("branch", "main"),
            ("repo_url", "https://github.com/jdoe/web"),
            ("repo_owner", "jdoe"),
            ("repo_name", "web"),
            ("repo_provider", "github"),
            ("build_id", "96"),
            ("build_url", "https://ci.example.com/job/web/96/"),
        ],
    );
}

#[tokio::test]
async fn circleci() {
    let build = build_in(&[
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
    ])
    .await;
    expect(
        &build,
        &[
            ("build_provider", "circleci"),
            ("commit_id", SHA),
            ("branch", "main"),
            ("author_username", "jdoe"),
            ("repo_name", "web"),
            ("repo_owner", "shop"),
            ("repo_url", "https://github.com/shop/web"),
            ("repo_provider", "github"),
            ("build_id", "123"),
            ("build_url", "https://circleci.com/gh/shop/web/123"),
        ],
    );
}

#[tokio::test]
async fn bitbucket_pipelines() {
    let build = build_in(&[
        ("CI", "true"),
        ("BITBUCKET_BUILD_NUMBER", "42"),
        ("BITBUCKET_COMMIT", SHA),
        ("BITBUCKET_BRANCH", "main"),
        ("BITBUCKET_REPO_SLUG", "web"),
        ("BITBUCKET_WORKSPACE", "shop"),
        ("BITBUCKET_GIT_HTTP_ORIGIN", "http://bitbucket.org/shop/web"),
    ])
    .await;
    expect(
        &build,
        &[
            ("build_provider", "bitbucket-pipelines"),
            ("commit_id", SHA),
            ("branch", "main"),
            ("repo_name", "web"),
            ("repo_owner", "shop"),
            ("repo_url", "http://bitbucket.org/shop/web"),
            ("repo_provider", "bitbucket"),
            ("build_id", "42"),
            (
                "build_url",
                "https://bitbucket.org/shop/web/pipelines/results/42",
            ),
        ],
    );
}

#[tokio::test]
async fn azure_pipelines() {
    let build = build_in(&[
        ("TF_BUILD", "True"),
        ("BUILD_SOURCEVERSION", SHA),
        ("BUILD_SOURCEBRANCH", "refs/heads/main"),
        ("BUILD_SOURCEBRANCHNAME", "main"),
        ("BUILD_REQUESTEDFOR", "John Doe"),
        ("BUILD_SOURCEVERSIONMESSAGE", "Fix the login page"),
        (
            "BUILD_REPOSITORY_URI",
            "https://acme@dev.azure.com/acme/Shop/_git/web",
        ),
        ("BUILD_REPOSITORY_NAME", "web"),
        ("BUILD_REPOSITORY_PROVIDER", "TfsGit"),
        ("BUILD_BUILDID", "311"),
        ("SYSTEM_COLLECTIONURI", "https://dev.azure.com/acme/"),
        ("SYSTEM_TEAMPROJECT", "Shop"),
    ])
    .await;
    expect(
        &build,
        &[
            ("build_provider", "azure-pipelines"),
            ("commit_id", SHA),
            ("branch", "main"),
            ("author_name", "John Doe"),
            ("commit_msg", "Fix the login page"),
            ("repo_url", "https://dev.azure.com/acme/Shop/_git/web"),
            ("repo_name", "web"),
            ("repo_owner", "Shop"),
            ("repo_provider", "azuredevops"),
            ("build_id", "311"),
            (
                "build_url",
                "https://dev.azure.com/acme/Shop/_build/results?buildId=311",
            ),
        ],
    );
}

#[tokio::test]
async fn travis_ci() {
    let build = build_in(&[
        ("CI", "true"),
        ("TRAVIS", "true"),
        ("TRAVIS_COMMIT", SHA),
        ("TRAVIS_BRANCH", "main"),
        ("TRAVIS_PULL_REQUEST_BRANCH", "feature/login"),
        ("TRAVIS_COMMIT_MESSAGE", "Fix the login page"),
        ("TRAVIS_REPO_SLUG", "shop/web"),
        ("TRAVIS_BUILD_ID", "279"),
        (
            "TRAVIS_BUILD_WEB_URL",
            "https://app.travis-ci.com/shop/web/builds/279",
        ),
    ])
    .await;
    expect(
        &build,
        &[
            ("build_provider", "travis-ci"),
            ("commit_id", SHA),
            ("branch", "feature/login"),
            ("commit_msg", "Fix the login page"),
            ("repo_name", "web"),
            ("repo_owner", "shop"),
            ("build_id", "279"),
            ("build_url", "https://app.travis-ci.com/shop/web/builds/279"),
        ],
    );
}

fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git is installed");
    assert!(output.status.success(), "git {args:?}: {output:?}");
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

#[tokio::test]
async fn outside_ci_the_fields_come_from_git() {
    let server = TestApp::spawn().await;
    let repo = tempfile::tempdir().unwrap();
    let dir = repo.path();
    git(
        dir,
        &["init", "--quiet", "--initial-branch", "feature/login"],
    );
    git(dir, &["config", "user.name", "Jane Roe"]);
    git(dir, &["config", "user.email", "jroe@example.com"]);
    git(
        dir,
        &[
            "remote",
            "add",
            "origin",
            "https://jroe:s3cret@github.com/jroe/web.git",
        ],
    );
    std::fs::write(dir.join("README"), "web\n").unwrap();
    git(dir, &["add", "README"]);
    git(
        dir,
        &[
            "commit",
            "--quiet",
            "-m",
            "Add the login page\n\nWith a form.",
        ],
    );
    let head = git(dir, &["rev-parse", "HEAD"]);

    let ran = Job::new(&server, "web")
        .in_dir(dir)
        .run(&["run", "--", "true"])
        .await;
    assert_eq!(ran.code, Some(0), "{ran:?}");
    let build = event(&server, "web", ran.id()).await;
    expect(
        &build,
        &[
            ("commit_id", &head),
            ("branch", "feature/login"),
            ("author_name", "Jane Roe"),
            ("commit_msg", "Add the login page\n\nWith a form."),
            ("repo_url", "https://github.com/jroe/web"),
            ("repo_owner", "jroe"),
            ("repo_name", "web"),
            ("repo_provider", "github"),
            (
                "commit_url",
                &format!("https://github.com/jroe/web/commit/{head}"),
            ),
        ],
    );
    assert!(build["commit_time"].is_string(), "{build}");
    assert_eq!(build["build_provider"], Value::Null);
    assert!(!build.to_string().contains("s3cret"), "{build}");

    // Flags override what git says.
    let flagged = Job::new(&server, "web")
        .in_dir(dir)
        .run(&[
            "build",
            "start",
            "--branch",
            "main",
            "--build-provider",
            "buildkite",
        ])
        .await;
    let build = event(&server, "web", flagged.id()).await;
    assert_eq!(build["branch"], "main");
    assert_eq!(build["build_provider"], "buildkite");
    assert_eq!(build["commit_id"], head.as_str());
}
