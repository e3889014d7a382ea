//! The web UI over HTTP: every page's status and content, sessions and
//! their cookies, CSRF tokens, access to other accounts, escaping and the
//! security headers.

use std::time::Duration;

use reqwest::header::{CONTENT_SECURITY_POLICY, COOKIE, HeaderMap, LOCATION, SET_COOKIE};
use reqwest::{Response, StatusCode};
use serde_json::json;

use crate::helpers::TestApp;
use crate::support::{build_body, push_body, with};

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const HOSTILE: &str = "<script>alert(1)</script>";

/// A browser's view of the UI: no redirects followed, cookies kept by hand.
pub struct Browser {
    base: String,
    client: reqwest::Client,
    pub cookies: Vec<(String, String)>,
}

/// A page as fetched: status, headers, body.
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    async fn of(response: Response) -> Page {
        Page {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.text().await.expect("body"),
        }
    }

    pub fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The `Set-Cookie` line of a cookie.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }

    /// The value of the hidden `csrf` input of the page's (first) form.
    pub fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = self.body.find(marker).expect("a csrf input") + marker.len();
        let end = start + self.body[start..].find('"').expect("end of value");
        self.body[start..end].to_owned()
    }

    #[track_caller]
    pub fn assert_redirects_to_sign_in(&self) {
        assert_eq!(self.status, StatusCode::SEE_OTHER, "{}", self.body);
        assert_eq!(self.location(), "/-/ui/login");
    }
}

impl Browser {
    pub fn new(app: &TestApp) -> Browser {
        Browser {
            base: app.base.clone(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            cookies: Vec::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Keeps the cookies a response sets (an empty value removes one).
    fn keep(&mut self, page: &Page) {
        for line in page.headers.get_all(SET_COOKIE) {
            let line = line.to_str().unwrap();
            let pair = line.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            self.cookies.retain(|(k, _)| k != name);
            if !value.is_empty() {
                self.cookies.push((name.to_owned(), value.to_owned()));
            }
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .expect("request");
        let page = Page::of(response).await;
        self.keep(&page);
        page
    }

    /// The status and headers of a GET whose body is never read (a stream).
    pub async fn open(&self, path: &str) -> (StatusCode, HeaderMap) {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .expect("request");
        (response.status(), response.headers().clone())
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("request");
        let page = Page::of(response).await;
        self.keep(&page);
        page
    }

    /// Signs in through the form; answers the form's answer.
    pub async fn sign_in(&mut self, username: &str, token: &str) -> Page {
        let form = self.get("/-/ui/login").await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        let csrf = form.csrf();
        self.post(
            "/-/ui/login",
            &[("csrf", &csrf), ("username", username), ("token", token)],
        )
        .await
    }

    pub fn has_cookie(&self, name: &str) -> bool {
        self.cookies.iter().any(|(k, _)| k == name)
    }
}

/// A signed-in browser of the test account.
async fn signed_in(app: &TestApp) -> Browser {
    let mut browser = Browser::new(app);
    let answer = browser.sign_in("jdoe", &app.token).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert_eq!(answer.location(), "/-/ui/jdoe");
    browser
}

/// A push (with a hostile message) -> build -> release -> deploy to
/// production, in app `web`: the ids.
async fn seed_chain(app: &TestApp) -> [i64; 4] {
    app.create_app("web").await;
    let push = app
        .create_event(
            "web",
            "pushEvent",
            with(push_body(), json!({"commit_msg": HOSTILE})),
        )
        .await;
    let build = app
        .create_event(
            "web",
            "buildEvent",
            with(
                build_body(),
                json!({"build_status": "Success", "build_end": "2016-08-15T22:30:00.000Z",
                       "parent_event_id": push.to_string(), "commit_msg": HOSTILE}),
            ),
        )
        .await;
    let release = app
        .create_event(
            "web",
            "releaseEvent",
            json!({"release_version": "v1", "parent_event_id": build.to_string()}),
        )
        .await;
    let deploy = app
        .create_event(
            "web",
            "deployEvent",
            json!({"env_name": "production", "release_version": "v1",
                   "deployment_status": "Ok", "parent_event_id": release.to_string()}),
        )
        .await;
    [push, build, release, deploy]
}

#[track_caller]
fn assert_page(page: &Page, needles: &[&str]) {
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(
        page.headers.get(CONTENT_SECURITY_POLICY).unwrap(),
        CSP,
        "every page carries the policy"
    );
    assert!(
        page.body.contains("action=\"/-/ui/-/signout\""),
        "sign-out form"
    );
    for needle in needles {
        assert!(
            page.body.contains(needle),
            "missing {needle:?} in {}",
            page.body
        );
    }
    assert!(
        !page.body.contains(HOSTILE),
        "unescaped value in {}",
        page.body
    );
}

#[tokio::test]
async fn sign_in_opens_a_session_in_a_strict_http_only_cookie() {
    let app = TestApp::spawn().await;
    let mut browser = Browser::new(&app);
    let form = browser.get("/-/ui/login").await;
    assert_eq!(form.status, StatusCode::OK);
    assert_eq!(form.headers.get(CONTENT_SECURITY_POLICY).unwrap(), CSP);
    assert!(form.body.contains("name=\"username\""));
    assert!(form.body.contains("name=\"token\""));
    let pre = form
        .set_cookie("shiplog_signin")
        .expect("the form's CSRF cookie");
    assert!(
        pre.contains("HttpOnly") && pre.contains("SameSite=Strict"),
        "{pre}"
    );

    let csrf = form.csrf();
    let answer = browser
        .post(
            "/-/ui/login",
            &[("csrf", &csrf), ("username", "jdoe"), ("token", &app.token)],
        )
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert_eq!(answer.location(), "/-/ui/jdoe");
    let cookie = answer
        .set_cookie("shiplog_session")
        .expect("a session cookie");
    for part in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.split("; ").any(|p| p == part), "{part} in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");
    let secret = cookie.split(';').next().unwrap().split_once('=').unwrap().1;
    assert!(secret.len() >= 40, "a long random secret: {secret}");

    let account = browser.get("/-/ui/jdoe").await;
    assert_page(
        &account,
        &["Account jdoe", "Signed in as <strong>jdoe</strong>"],
    );
    // The landing path and the root lead to the signed-in account.
    let landing = browser.get("/-/ui").await;
    assert_eq!(landing.location(), "/-/ui/jdoe");
    assert_eq!(browser.get("/").await.location(), "/-/ui/");
}

#[tokio::test]
async fn the_session_cookie_is_secure_behind_an_https_public_url() {
    let app = TestApp::spawn_with(|settings| {
        settings.public_url = Some("https://shiplog.example.com".into());
    })
    .await;
    let mut browser = Browser::new(&app);
    let answer = browser.sign_in("jdoe", &app.token).await;
    let cookie = answer
        .set_cookie("shiplog_session")
        .expect("a session cookie");
    assert!(cookie.split("; ").any(|p| p == "Secure"), "{cookie}");
}

#[tokio::test]
async fn a_wrong_token_or_user_name_opens_no_session() {
    let app = TestApp::spawn().await;
    let other = app.new_account("other").await;
    for (user, token) in [
        ("jdoe", "not-a-token"),
        ("jdoe", ""),
        ("nobody", app.token.as_str()),
        ("other", app.token.as_str()),
        ("jdoe", other.as_str()),
        ("<b>", app.token.as_str()),
    ] {
        let mut browser = Browser::new(&app);
        let answer = browser.sign_in(user, token).await;
        assert_eq!(
            answer.status,
            StatusCode::UNAUTHORIZED,
            "{user}: {}",
            answer.body
        );
        assert!(answer.body.contains("Unknown user name or token"));
        assert!(!browser.has_cookie("shiplog_session"), "{user}");
        assert!(!answer.body.contains("<b>"), "the name is escaped");
    }
}

#[tokio::test]
async fn a_forged_csrf_token_is_refused_on_sign_in_and_sign_out() {
    let app = TestApp::spawn().await;
    // Sign-in: a token that is not the form cookie's, or no cookie at all.
    let mut browser = Browser::new(&app);
    browser.get("/-/ui/login").await;
    let forged = browser
        .post(
            "/-/ui/login",
            &[
                ("csrf", "forged"),
                ("username", "jdoe"),
                ("token", &app.token),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
    assert!(!browser.has_cookie("shiplog_session"));
    let mut cookieless = Browser::new(&app);
    let csrf = cookieless.get("/-/ui/login").await.csrf();
    cookieless.cookies.clear();
    let answer = cookieless
        .post(
            "/-/ui/login",
            &[("csrf", &csrf), ("username", "jdoe"), ("token", &app.token)],
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);

    // Sign-out: refused with a wrong token, and the session goes on.
    let mut browser = signed_in(&app).await;
    let page = browser.get("/-/ui/jdoe").await;
    let csrf = page.csrf();
    let forged = browser.post("/-/ui/-/signout", &[("csrf", "x")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
    assert_eq!(forged.headers.get(CONTENT_SECURITY_POLICY).unwrap(), CSP);
    assert_eq!(browser.get("/-/ui/jdoe").await.status, StatusCode::OK);
    let missing = browser.post("/-/ui/-/signout", &[]).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);

    // With the page's token it ends the session, here and for a copy of
    // the cookie.
    let stolen = browser.cookies.clone();
    let out = browser.post("/-/ui/-/signout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location(), "/-/ui/login");
    assert!(
        out.set_cookie("shiplog_session")
            .unwrap()
            .contains("Max-Age=0")
    );
    browser
        .get("/-/ui/jdoe")
        .await
        .assert_redirects_to_sign_in();
    let mut replay = Browser::new(&app);
    replay.cookies = stolen;
    replay.get("/-/ui/jdoe").await.assert_redirects_to_sign_in();
}

#[tokio::test]
async fn pages_without_a_valid_session_redirect_to_sign_in() {
    let app = TestApp::spawn().await;
    let paths = [
        "/-/ui",
        "/-/ui/jdoe",
        "/-/ui/jdoe/apps/web",
        "/-/ui/jdoe/apps/web/events/1",
        "/-/ui/jdoe/apps/web/commits/abc",
        "/-/ui/jdoe/envs/production",
        "/-/ui/jdoe/dora",
    ];
    for cookies in [vec![], vec![("shiplog_session", "made-up-secret")]] {
        let mut browser = Browser::new(&app);
        browser.cookies = cookies
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        for path in paths {
            let page = browser.get(path).await;
            assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
            assert_eq!(page.location(), "/-/ui/login", "{path}");
        }
    }
}

#[tokio::test]
async fn an_expired_session_redirects_to_sign_in() {
    // Sessions that expire as soon as they open: the next page finds the
    // session expired, whatever the clock says.
    let app = TestApp::spawn_with(|settings| settings.session_idle = Duration::ZERO).await;
    let mut browser = Browser::new(&app);
    let answer = browser.sign_in("jdoe", &app.token).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert!(browser.has_cookie("shiplog_session"));
    browser
        .get("/-/ui/jdoe")
        .await
        .assert_redirects_to_sign_in();
    assert_eq!(browser.get("/-/ui").await.location(), "/-/ui/login");
}

#[tokio::test]
async fn another_accounts_pages_are_forbidden() {
    let app = TestApp::spawn().await;
    let other = app.new_account("other").await;
    let created = app
        .send_raw(
            reqwest::Method::PUT,
            &app.url_with_token("/other/apps/secret", &other),
            Some(b"{}"),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.text);
    let mut browser = signed_in(&app).await;
    for path in [
        "/-/ui/other",
        "/-/ui/other/apps/secret",
        "/-/ui/other/apps/secret/events/1",
        "/-/ui/other/envs/production",
        "/-/ui/other/dora",
        "/-/ui/nobody",
    ] {
        let page = browser.get(path).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}: {}", page.body);
        assert_eq!(page.headers.get(CONTENT_SECURITY_POLICY).unwrap(), CSP);
        assert!(page.body.contains("Access denied"), "{path}");
        assert!(page.body.contains("action=\"/-/ui/-/signout\""), "{path}");
    }
}

#[tokio::test]
async fn the_account_page_shows_apps_and_what_runs_where() {
    let app = TestApp::spawn().await;
    let [_, build, release, _] = seed_chain(&app).await;
    app.create_app("api").await;
    let mut browser = signed_in(&app).await;
    let page = browser.get("/-/ui/jdoe").await;
    assert_page(
        &page,
        &[
            "<a href=\"/-/ui/jdoe/apps/web\">web</a>",
            "<a href=\"/-/ui/jdoe/apps/api\">api</a>",
            &format!("<a href=\"/-/ui/jdoe/apps/web/events/{build}\">BUILD {build}</a>"),
            "status-success\">Success",
            &format!("<a href=\"/-/ui/jdoe/apps/web/events/{release}\">v1</a>"),
            "<a href=\"/-/ui/jdoe/envs/production\">production</a>",
            "<a href=\"/-/ui/jdoe/envs/production\">v1</a>",
            "status-ok\">Ok",
            "<header",
            "<nav aria-label=\"Main\"",
            "<main",
        ],
    );
}

#[tokio::test]
async fn the_timeline_lists_filters_and_pages_events_with_values_escaped() {
    let app = TestApp::spawn().await;
    let [push, build, release, deploy] = seed_chain(&app).await;
    let mut browser = signed_in(&app).await;
    let page = browser.get("/-/ui/jdoe/apps/web").await;
    assert_page(
        &page,
        &[
            "&#60;script&#62;alert(1)&#60;/script&#62;",
            &format!("data-event-id=\"{deploy}\""),
            &format!("data-event-id=\"{push}\""),
            "<label for=\"filter_event_type\">",
            "<label for=\"filter_branch\">",
            "<label for=\"filter_env\">",
            "<script src=\"/-/ui/-/live.js\" defer></script>",
        ],
    );
    // Newest first.
    let at = |page: &Page, id: i64| page.body.find(&format!("data-event-id=\"{id}\"")).unwrap();
    assert!(at(&page, deploy) < at(&page, release) && at(&page, build) < at(&page, push));

    let deploys = browser
        .get("/-/ui/jdoe/apps/web?filter_event_type=Deploy&filter_branch=&filter_env=")
        .await;
    assert_page(
        &deploys,
        &[
            &format!("data-event-id=\"{deploy}\""),
            "<option value=\"Deploy\" selected>",
        ],
    );
    assert!(!deploys.body.contains(&format!("data-event-id=\"{push}\"")));
    let by_env = browser
        .get("/-/ui/jdoe/apps/web?filter_env=production")
        .await;
    assert_page(&by_env, &[&format!("data-event-id=\"{deploy}\"")]);
    assert!(!by_env.body.contains(&format!("data-event-id=\"{build}\"")));

    // A hostile filter value is shown escaped in its input.
    let hostile = browser
        .get("/-/ui/jdoe/apps/web?filter_branch=%22%3E%3Cscript%3Ealert(1)%3C/script%3E")
        .await;
    assert_page(
        &hostile,
        &["value=\"&#34;&#62;&#60;script&#62;", "No events match."],
    );

    let bad = browser
        .get("/-/ui/jdoe/apps/web?filter_event_type=Nope")
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("filter_event_type"), "{}", bad.body);
    let missing = browser.get("/-/ui/jdoe/apps/missing").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn older_timeline_pages_follow_the_marker() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    let mut ids = Vec::new();
    for i in 0..30 {
        let body = with(push_body(), json!({"commit_id": format!("c{i:02}")}));
        ids.push(app.create_event("web", "pushEvent", body).await);
    }
    let mut browser = signed_in(&app).await;
    let first = browser.get("/-/ui/jdoe/apps/web").await;
    assert_eq!(first.body.matches("<tr data-event-id=").count(), 25);
    assert!(
        first
            .body
            .contains(&format!("data-event-id=\"{}\"", ids[29]))
    );
    let marker = "rel=\"next\"";
    assert!(first.body.contains(marker));
    let start = first
        .body
        .find("href=\"/-/ui/jdoe/apps/web?marker=")
        .expect("older link")
        + 6;
    let end = start + first.body[start..].find('"').unwrap();
    let older = first.body[start..end].replace("&#38;", "&");
    let second = browser.get(&older).await;
    assert_page(&second, &["Newest events"]);
    assert_eq!(second.body.matches("<tr data-event-id=").count(), 5);
    assert!(
        second
            .body
            .contains(&format!("data-event-id=\"{}\"", ids[0]))
    );
    assert!(
        !second
            .body
            .contains(&format!("data-event-id=\"{}\"", ids[29]))
    );
    assert!(!second.body.contains(marker));
    // No live stream on an older page: it would insert above old events.
    assert!(!second.body.contains("data-stream="));
}

#[tokio::test]
async fn the_event_page_shows_fields_history_and_lineage() {
    let app = TestApp::spawn().await;
    let [push, build, release, deploy] = seed_chain(&app).await;
    let running = app
        .create_event(
            "web",
            "buildEvent",
            with(build_body(), json!({"build_status": "Running"})),
        )
        .await;
    let finished = app
        .post(
            &format!("/jdoe/apps/web/events/{running}"),
            json!({"build_status": "Failed", "build_end": "2016-08-15T22:40:00.000Z"}),
        )
        .await;
    assert_eq!(finished.status, 200, "{}", finished.text);
    let mut browser = signed_in(&app).await;
    let history = browser
        .get(&format!("/-/ui/jdoe/apps/web/events/{running}"))
        .await;
    assert_page(
        &history,
        &[
            "<td>updated</td>",
            "<code>build_status</code>: Running → Failed",
        ],
    );
    let page = browser
        .get(&format!("/-/ui/jdoe/apps/web/events/{release}"))
        .await;
    assert_page(
        &page,
        &[
            &format!("<h1>RELEASE {release}</h1>"),
            "<code>release_version</code>",
            "<code>commit_msg</code></th><td>&#60;script&#62;",
            &format!("<a href=\"/-/ui/jdoe/apps/web/events/{push}\">PUSH {push}"),
            &format!("<a href=\"/-/ui/jdoe/apps/web/events/{build}\">BUILD {build}"),
            &format!("<strong aria-current=\"page\">RELEASE {release}"),
            &format!(
                "<a href=\"/-/ui/jdoe/apps/web/events/{deploy}\">DEPLOY {deploy} · v1 · production · Ok"
            ),
            "<a href=\"/-/ui/jdoe/apps/web/commits/1234567890123456789012345678901234567890\">",
            "created",
            "jdoe (token",
        ],
    );
    // The lineage runs from the push to the deploy, in that order.
    let lineage = &page.body[page.body.find("<ol class=\"lineage\">").unwrap()..];
    let order: Vec<usize> = [
        format!("PUSH {push}"),
        format!("BUILD {build}"),
        format!("RELEASE {release}"),
        format!("DEPLOY {deploy}"),
    ]
    .iter()
    .map(|text| lineage.find(text.as_str()).unwrap())
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");

    let deploy_page = browser
        .get(&format!("/-/ui/jdoe/apps/web/events/{deploy}"))
        .await;
    assert_page(
        &deploy_page,
        &["<a href=\"/-/ui/jdoe/envs/production\">production</a>"],
    );
    for missing in [
        "/-/ui/jdoe/apps/web/events/999999",
        "/-/ui/jdoe/apps/web/events/x",
    ] {
        assert_eq!(
            browser.get(missing).await.status,
            StatusCode::NOT_FOUND,
            "{missing}"
        );
    }
}

#[tokio::test]
async fn the_commit_page_shows_what_carried_it_and_where_it_runs() {
    let app = TestApp::spawn().await;
    let [push, build, _, deploy] = seed_chain(&app).await;
    let mut browser = signed_in(&app).await;
    let page = browser
        .get("/-/ui/jdoe/apps/web/commits/1234567890123456789012345678901234567890")
        .await;
    assert_page(
        &page,
        &[
            "Where it runs now",
            "<a href=\"/-/ui/jdoe/envs/production\">production</a>",
            &format!("DEPLOY {deploy}</a>"),
            &format!("data-event-id=\"{push}\""),
            &format!("data-event-id=\"{build}\""),
        ],
    );
    let unknown = browser.get("/-/ui/jdoe/apps/web/commits/nope").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_env_page_shows_what_runs_and_marks_rollbacks() {
    let app = TestApp::spawn().await;
    let [_, build, v1, first] = seed_chain(&app).await;
    let v2 = app
        .create_event(
            "web",
            "releaseEvent",
            json!({"release_version": "v2", "parent_event_id": build.to_string()}),
        )
        .await;
    let deploy = |release: i64, version: &str| {
        json!({"env_name": "production", "release_version": version,
               "deployment_status": "Ok", "parent_event_id": release.to_string()})
    };
    let second = app
        .create_event("web", "deployEvent", deploy(v2, "v2"))
        .await;
    let back = app
        .create_event("web", "deployEvent", deploy(v1, "v1"))
        .await;
    let mut browser = signed_in(&app).await;
    let page = browser.get("/-/ui/jdoe/envs/production").await;
    assert_page(
        &page,
        &[
            "<h1>Env production</h1>",
            "<dt>Release running</dt><dd>v1</dd>",
            &format!("<tr data-event-id=\"{back}\" class=\"rollback\">"),
            &format!("<tr data-event-id=\"{second}\">"),
            &format!("<tr data-event-id=\"{first}\">"),
        ],
    );
    assert_eq!(page.body.matches("class=\"rollback\"").count(), 1);
    assert_eq!(
        browser.get("/-/ui/jdoe/envs/nope").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_dora_page_draws_a_chart_and_a_table_per_metric() {
    let app = TestApp::spawn().await;
    seed_chain(&app).await;
    let mut browser = signed_in(&app).await;
    let page = browser.get("/-/ui/jdoe/dora").await;
    assert_page(
        &page,
        &[
            "Deployment frequency",
            "Change lead time",
            "Change fail rate",
            "Failed deployment recovery time",
            "Deployment rework rate",
            "<label for=\"app\">",
            "<label for=\"env\">",
            "<label for=\"from\">",
            "<label for=\"to\">",
            "<label for=\"bucket\">",
            "<option value=\"week\" selected>",
        ],
    );
    assert_eq!(page.body.matches("<svg ").count(), 5);
    assert_eq!(page.body.matches("<table class=\"numbers\">").count(), 5);
    assert!(page.body.contains("role=\"img\""));
    // The deploy of today is one bar of the frequency chart.
    assert!(page.body.contains("1 deployments"), "{}", page.body);

    let scoped = browser
        .get("/-/ui/jdoe/dora?app=web&env=production&from=&to=&bucket=day")
        .await;
    assert_page(
        &scoped,
        &[
            "<option value=\"web\" selected>",
            "<option value=\"day\" selected>",
            "app web",
        ],
    );
    let bad = browser.get("/-/ui/jdoe/dora?bucket=year").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("bucket"));
}

#[tokio::test]
async fn a_session_outlives_the_instance_that_opened_it() {
    let app = TestApp::spawn().await;
    let browser = signed_in(&app).await;
    let cookies = browser.cookies.clone();
    let app = app.restart().await;
    let mut browser = Browser::new(&app);
    browser.cookies = cookies;
    let page = browser.get("/-/ui/jdoe").await;
    assert_page(&page, &["Account jdoe"]);
}

#[tokio::test]
async fn the_icon_style_and_script_are_served() {
    let app = TestApp::spawn().await;
    let mut browser = Browser::new(&app);
    for (path, content_type) in [
        ("/favicon.ico", "image/x-icon"),
        ("/-/ui/-/style.css", "text/css; charset=utf-8"),
        ("/-/ui/-/live.js", "text/javascript; charset=utf-8"),
    ] {
        let page = browser.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert_eq!(page.headers.get("content-type").unwrap(), content_type);
        assert!(!page.body.is_empty());
    }
    let script = browser.get("/-/ui/-/live.js").await.body;
    assert!(
        !script.contains("innerHTML"),
        "the script builds nodes as text"
    );
}

#[tokio::test]
async fn the_live_stream_is_read_with_the_session_cookie() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    app.new_account("other").await;
    let browser = signed_in(&app).await;
    let (status, headers) = browser.open("/jdoe/stream?app=web").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers.get("content-type").unwrap(), "text/event-stream");
    let (status, _) = browser.open("/other/stream").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "another account's stream");
    // Only reads: a write with the cookie alone is not authorised.
    let write = reqwest::Client::new()
        .put(format!("{}/jdoe/apps/web/events/pushEvent", app.base))
        .header(COOKIE, browser.cookie_header())
        .body(push_body().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(write.status(), StatusCode::UNAUTHORIZED);
    let anonymous = Browser::new(&app);
    let (status, _) = anonymous.open("/jdoe/stream").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn html_urls_in_api_answers_are_the_pages() {
    let app = TestApp::spawn().await;
    seed_chain(&app).await;
    let web = app.get("/jdoe/apps/web").await;
    let production = app.get("/jdoe/envs/production").await;
    let mut browser = signed_in(&app).await;
    for (url, path) in [
        (&web.json["app"]["html_url"], "/-/ui/jdoe/apps/web"),
        (
            &production.json["env"]["html_url"],
            "/-/ui/jdoe/envs/production",
        ),
    ] {
        assert_eq!(url.as_str().unwrap(), format!("{}{path}", app.base));
        assert_page(&browser.get(path).await, &[]);
    }
    assert_eq!(
        web.json["app"]["api_url"].as_str().unwrap(),
        format!("{}/jdoe/apps/web", app.base)
    );
}

#[tokio::test]
async fn a_read_member_signs_in_to_the_account_and_reads_its_pages() {
    let app = TestApp::spawn().await;
    seed_chain(&app).await;
    let reader = app.new_account("reader").await;
    let added = app
        .put("/jdoe/members/reader", json!({"role": "read"}))
        .await;
    assert_eq!(added.status, 200, "{}", added.text);
    let mut browser = Browser::new(&app);
    let answer = browser.sign_in("jdoe", &reader).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert_eq!(answer.location(), "/-/ui/jdoe");
    let page = browser.get("/-/ui/jdoe/apps/web").await;
    assert_page(&page, &["Signed in as <strong>reader</strong>", "App web"]);
    assert_page(&browser.get("/-/ui/reader").await, &["Account reader"]);
    // The membership ends: its pages are refused at once.
    let removed = app.delete("/jdoe/members/reader").await;
    assert_eq!(removed.status, 200, "{}", removed.text);
    assert_eq!(
        browser.get("/-/ui/jdoe/apps/web").await.status,
        StatusCode::FORBIDDEN
    );
}
