//! The web UI in a real headless Chromium: sign in, follow the links from
//! the account to an app, an event, its release and the env it runs in,
//! filter the timeline, watch an event appear live, read the DORA charts
//! and sign out, with no error in
//! the browser's console; a screenshot of each main page is written to
//! `target/screenshots/`. Skipped, with a notice, without Chromium.

use std::path::PathBuf;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use shiplog_domain::Timestamp;
use shiplog_domain::token::hex;

use crate::helpers::TestApp;
use crate::support::with;
use crate::webdriver::{self, Browser};

const DAY_MS: i64 = 86_400_000;

fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    dir
}

fn days_ago(days: f64) -> String {
    Timestamp::from_millis(Timestamp::now().millis() - (days * DAY_MS as f64) as i64).to_string()
}

fn id_of(answer: &crate::helpers::Answer) -> i64 {
    assert_eq!(answer.status, 200, "{}", answer.text);
    answer.json["event_id"].as_str().unwrap().parse().unwrap()
}

async fn put(app: &TestApp, path: &str, body: Value) -> i64 {
    id_of(&app.put(&format!("/jdoe/apps/{path}"), body).await)
}

/// Weeks of history in app `web`: each a commit pushed, built, released
/// and deployed to staging and production, one failed deploy and its fix,
/// a rollback, and a second app. Answers the last week's chain's ids.
async fn seed(app: &TestApp) -> [i64; 4] {
    app.create_app("web").await;
    app.create_app("api").await;
    let mut last = [0; 4];
    let mut releases = Vec::new();
    for week in 0..8 {
        let at = 56.0 - 7.0 * week as f64;
        // Commit ids that look like git's: 40 hex digits.
        let digest = Sha256::digest(format!("web commit {week}"));
        let commit = hex(&digest)[..40].to_owned();
        let message = match week {
            3 => "Cache the timeline <script>alert(1)</script>".to_owned(),
            _ => format!("Release {} of the shop front", week + 1),
        };
        let fields = json!({
            "commit_id": commit, "branch": "main", "commit_msg": message,
            "author_username": "jdoe", "author_name": "Jane Doe",
            "repo_url": "https://git.example.com/jdoe/web",
            "commit_time": days_ago(at + 0.5),
        });
        let push = put(app, "web/events/pushEvent", fields.clone()).await;
        let build = put(
            app,
            "web/events/buildEvent",
            with(
                fields.clone(),
                json!({"build_status": "Success", "build_provider": "github-actions",
                   "build_start": days_ago(at + 0.2), "build_end": days_ago(at + 0.19),
                   "parent_event_id": push.to_string()}),
            ),
        )
        .await;
        let release = put(
            app,
            "web/events/releaseEvent",
            json!({"release_version": format!("v1.{week}"), "parent_event_id": build.to_string()}),
        )
        .await;
        releases.push(release);
        for (env, offset) in [("staging", 0.1), ("production", 0.0)] {
            let failed = week == 5 && env == "production";
            let deploy = put(
                app,
                "web/events/deployEvent",
                json!({"env_name": env, "parent_event_id": release.to_string(),
                       "release_version": format!("v1.{week}"),
                       "deployment_status": if failed { "Failed" } else { "Ok" },
                       "deployment_start": days_ago(at + offset + 0.01),
                       "deployment_end": days_ago(at + offset)}),
            )
            .await;
            if env == "production" {
                last = [push, build, release, deploy];
            }
            if failed {
                put(
                    app,
                    "web/events/deployEvent",
                    json!({"env_name": env, "parent_event_id": release.to_string(),
                           "release_version": format!("v1.{week}"),
                           "deployment_status": "Ok", "hotfix": true,
                           "deployment_start": days_ago(at - 0.1),
                           "deployment_end": days_ago(at - 0.11)}),
                )
                .await;
            }
        }
    }
    // A rollback of production to the week before's release.
    put(
        app,
        "web/events/deployEvent",
        json!({"env_name": "production", "parent_event_id": releases[6].to_string(),
               "release_version": "v1.6", "deployment_status": "Ok",
               "deployment_start": days_ago(0.51), "deployment_end": days_ago(0.5)}),
    )
    .await;
    put(
        app,
        "api/events/buildEvent",
        json!({"build_status": "Running", "branch": "main", "commit_id": "0a1b2c3d4e5f",
               "commit_msg": "Paginate the orders endpoint", "build_start": days_ago(0.01)}),
    )
    .await;
    last
}

/// Fails on any error in the browser's console since the last check.
async fn assert_no_console_errors(browser: &Browser, page: &str) {
    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "console errors on {page}: {errors:#?}");
}

async fn snap(browser: &Browser, name: &str, width: u32) {
    browser.fit(width).await;
    browser.screenshot(&screenshots().join(name)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_signs_in_follows_a_release_reads_dora_and_signs_out() {
    if !webdriver::available() {
        println!(
            "skipped: no {} and {} (apt-get install chromium chromium-driver)",
            webdriver::CHROMIUM,
            webdriver::CHROMEDRIVER
        );
        return;
    }
    let app = TestApp::spawn().await;
    let [_, build, release, deploy] = seed(&app).await;
    let browser = Browser::start().await;
    let base = &app.base;

    // The root leads to the sign-in form.
    browser.goto(&format!("{base}/")).await;
    assert_eq!(browser.url().await, format!("{base}/-/ui/login"));
    snap(&browser, "login.png", 1280).await;
    browser.type_into("#username", "jdoe").await;
    browser.type_into("#token", &app.token).await;
    browser.follow("form.signin button[type=submit]").await;
    assert_eq!(browser.url().await, format!("{base}/-/ui/jdoe"));
    assert_eq!(browser.text("h1").await, "Account jdoe");
    assert_no_console_errors(&browser, "the account page").await;
    snap(&browser, "account.png", 1280).await;

    // At 360 px the page itself does not scroll sideways: wide tables do,
    // inside their own box.
    browser.fit(360).await;
    let overflow = browser
        .execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
            json!([]),
        )
        .await;
    assert_eq!(overflow, json!(0), "the page fits 360 px");
    snap(&browser, "account-360.png", 360).await;
    browser.fit(1280).await;

    // Account -> app -> an event -> its release -> the deploy -> its env.
    browser.follow("a[href='/-/ui/jdoe/apps/web']").await;
    assert_eq!(browser.text("h1").await, "App web");
    assert_eq!(browser.count("#timeline tbody tr").await, 25);
    assert_no_console_errors(&browser, "the timeline").await;
    snap(&browser, "timeline.png", 1280).await;

    browser
        .follow(&format!("#timeline tr[data-event-id='{build}'] a"))
        .await;
    assert_eq!(browser.text("h1").await, format!("BUILD {build}"));
    browser
        .follow(&format!(
            ".lineage a[href='/-/ui/jdoe/apps/web/events/{release}']"
        ))
        .await;
    assert_eq!(browser.text("h1").await, format!("RELEASE {release}"));
    assert_no_console_errors(&browser, "the event page").await;
    snap(&browser, "event.png", 1280).await;
    browser
        .follow(&format!(
            ".lineage a[href='/-/ui/jdoe/apps/web/events/{deploy}']"
        ))
        .await;
    assert_eq!(browser.text("h1").await, format!("DEPLOY {deploy}"));
    browser
        .follow(".fields a[href='/-/ui/jdoe/envs/production']")
        .await;
    assert_eq!(browser.text("h1").await, "Env production");
    assert_eq!(browser.count("tr.rollback").await, 1);
    assert_no_console_errors(&browser, "the env page").await;
    snap(&browser, "env.png", 1280).await;

    // The timeline's filters: only deploys to production.
    browser.goto(&format!("{base}/-/ui/jdoe/apps/web")).await;
    browser
        .click("#filter_event_type option[value='Deploy']")
        .await;
    browser
        .click("#filter_env option[value='production']")
        .await;
    browser.follow("form.filters button[type=submit]").await;
    // The answer's form shows the filter chosen (found once it has loaded).
    browser
        .find("#filter_event_type option[value='Deploy'][selected]")
        .await;
    let url = browser.url().await;
    assert!(
        url.contains("filter_event_type=Deploy") && url.contains("filter_env=production"),
        "{url}"
    );
    let types = browser
        .execute(
            "return Array.from(document.querySelectorAll('#timeline tbody tr td:nth-child(3)'))\
             .map(td => td.textContent);",
            json!([]),
        )
        .await;
    let types: Vec<&str> = types
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(
        types.len(),
        10,
        "8 deploys to production, a fix and a rollback"
    );
    assert!(types.iter().all(|t| *t == "DEPLOY"), "{types:?}");
    assert_no_console_errors(&browser, "the filtered timeline").await;

    // Live: an event recorded through the API appears at the top of the
    // timeline without a reload.
    browser.goto(&format!("{base}/-/ui/jdoe/apps/web")).await;
    browser.find("#live-status.connected").await;
    let live = app
        .create_event(
            "web",
            "pushEvent",
            json!({"branch": "main", "commit_id": "5eed5eed5eed5eed",
                   "commit_msg": "Live <b>from</b> the API"}),
        )
        .await;
    let row = format!("#timeline tbody tr:first-child[data-event-id='{live}']");
    browser.find(&row).await;
    assert_eq!(
        browser.text(&format!("{row} td.message")).await,
        "Live <b>from</b> the API",
        "the message is shown as text"
    );
    assert_eq!(browser.count("#timeline tbody tr").await, 26);
    assert_no_console_errors(&browser, "the live timeline").await;

    // DORA: a chart per metric, drawn by the server.
    browser.follow("nav a[href='/-/ui/jdoe/dora']").await;
    assert_eq!(browser.text("h1").await, "DORA metrics of jdoe");
    assert_eq!(browser.count("svg.chart").await, 5);
    assert!(browser.count("svg.chart rect.bar").await > 0);
    assert_no_console_errors(&browser, "the DORA page").await;
    snap(&browser, "dora.png", 1280).await;

    // Sign out: back to the form, and the pages ask to sign in again.
    browser.follow(".signout button").await;
    assert_eq!(browser.url().await, format!("{base}/-/ui/login"));
    browser.goto(&format!("{base}/-/ui/jdoe")).await;
    assert_eq!(browser.url().await, format!("{base}/-/ui/login"));
    assert_no_console_errors(&browser, "signing out").await;
}
