//! Roles and scopes: every kind of caller (the owner, a member of each
//! role, a member of another account, a stranger) with a token of each
//! scope, against every call the API describes, through the real router.
//! The calls come from the published OpenAPI description and the levels
//! from the table the server itself decides by, so a new call without a
//! level, or without a request here, fails this test.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::{Value, json};
use shiplog_domain::Level;
use shiplog_server::access::{CALLS, needed};

use crate::helpers::TestApp;
use crate::support::*;

const ACCOUNT: &str = "jdoe";
const COMMIT: &str = "c0ffee0000000000000000000000000000000001";

/// Who calls, and the role that gives it on `jdoe`.
#[derive(Debug, Clone, Copy)]
enum Caller {
    Owner,
    Member(Level),
    /// An admin of another account, and nothing of `jdoe`.
    AdminElsewhere,
    Stranger,
}

impl Caller {
    const ALL: [Caller; 6] = [
        Caller::Owner,
        Caller::Member(Level::Read),
        Caller::Member(Level::Write),
        Caller::Member(Level::Admin),
        Caller::AdminElsewhere,
        Caller::Stranger,
    ];

    fn user(self) -> &'static str {
        match self {
            Caller::Owner => ACCOUNT,
            Caller::Member(Level::Read) => "reader",
            Caller::Member(Level::Write) => "writer",
            Caller::Member(Level::Admin) => "manager",
            Caller::AdminElsewhere => "elsewhere",
            Caller::Stranger => "stranger",
        }
    }

    fn role(self) -> Option<Level> {
        match self {
            Caller::Owner => Some(Level::Admin),
            Caller::Member(role) => Some(role),
            Caller::AdminElsewhere | Caller::Stranger => None,
        }
    }
}

/// One request: method, path (with the account) and body.
#[derive(Debug, Clone)]
struct Call {
    method: Method,
    path: String,
    body: Option<Value>,
}

fn call(method: Method, path: impl Into<String>, body: Option<Value>) -> Call {
    Call {
        method,
        path: path.into(),
        body,
    }
}

/// The account `jdoe` with something of every kind to read, and the
/// owner's admin token to prepare and check with.
struct Fixture {
    app: TestApp,
    push: i64,
}

impl Fixture {
    async fn new() -> Fixture {
        // Webhooks to loopback may be configured (they are paused).
        let app = TestApp::spawn_with(|s| s.allow_private_webhook_targets = true).await;
        app.create_app("web").await;
        let push = app
            .create_event(
                "web",
                "pushEvent",
                json!({"commit_id": COMMIT, "branch": "main"}),
            )
            .await;
        app.create_event("web", "deployEvent", json!({"env_name": "production"}))
            .await;
        let probe = app
            .put(&format!("/jdoe/webhooks/{PROBE}"), paused_webhook())
            .await;
        assert_eq!(probe.status, 200, "{}", probe.text);
        Fixture { app, push }
    }

    async fn owner(&self, call: Call) -> Value {
        let answer = call_as(
            &self.app,
            &self.app.token,
            call.method,
            &call.path,
            call.body,
        )
        .await;
        assert_ok(&answer);
        answer.json
    }

    /// Everything of the account a refused call could have changed: its
    /// apps, envs, events, hooks, webhooks, members and change log.
    async fn state(&self) -> Value {
        let token = &self.app.token;
        json!({
            "snapshot": snapshot_as(&self.app, ACCOUNT, token).await,
            "hooks": call_as(&self.app, token, Method::GET, "/jdoe/hooks", None).await.json,
            "members": call_as(&self.app, token, Method::GET, "/jdoe/members", None).await.json,
            "webhooks": call_as(&self.app, token, Method::GET, "/jdoe/webhooks", None).await.json,
            "changes": list_all_as(&self.app, token, "/jdoe/changes?max_results=100", "changes").await,
        })
    }

    /// Readies the account for one try of an operation (`n` makes names
    /// unique) and answers the request to try, and the requests that undo
    /// what was readied if the try is refused.
    async fn prepare(&self, operation: &str, n: usize) -> (Call, Vec<Call>) {
        let push = self.push;
        let events = "/jdoe/apps/web/events";
        let get = |path: String| (call(Method::GET, path, None), vec![]);
        let put = |path: String, body: Value| (call(Method::PUT, path, Some(body)), vec![]);
        match operation {
            "ListEvents" => get(events.into()),
            "GetEvent" => get(format!("{events}/{push}")),
            "GetEventHistory" => get(format!("{events}/{push}/history")),
            "GetEventLineage" => get(format!("{events}/{push}/lineage")),
            "GetCommit" => get(format!("/jdoe/apps/web/commits/{COMMIT}")),
            "ListChanges" => get("/jdoe/changes".into()),
            "GetDora" => get("/jdoe/dora".into()),
            "ListApps" => get("/jdoe/apps".into()),
            "GetApp" => get("/jdoe/apps/web".into()),
            "ListEnvs" => get("/jdoe/envs".into()),
            "ListAppEnvs" => get("/jdoe/apps/web/envs".into()),
            "GetEnv" => get("/jdoe/envs/production".into()),
            "ListHooks" => get("/jdoe/hooks".into()),
            "ListMembers" => get("/jdoe/members".into()),
            "StreamChanges" => get("/jdoe/stream".into()),
            "ListWebhooks" => get("/jdoe/webhooks".into()),
            "GetWebhook" => get(format!("/jdoe/webhooks/{PROBE}")),
            "ListDeliveries" => get(format!("/jdoe/webhooks/{PROBE}/deliveries")),
            "PutWebhook" => put(format!("/jdoe/webhooks/new-{n}"), paused_webhook()),
            "DeleteWebhook" => {
                let path = format!("/jdoe/webhooks/gone-{n}");
                self.owner(call(Method::PUT, path.clone(), Some(paused_webhook())))
                    .await;
                (
                    call(Method::DELETE, path.clone(), None),
                    vec![call(Method::DELETE, path, None)],
                )
            }
            "SetMember" => {
                let user = format!("candidate-{n}");
                self.app.new_account(&user).await;
                put(format!("/jdoe/members/{user}"), json!({"role": "read"}))
            }
            "RemoveMember" => {
                let user = format!("leaving-{n}");
                self.app.new_account(&user).await;
                let path = format!("/jdoe/members/{user}");
                self.owner(call(Method::PUT, path.clone(), Some(json!({}))))
                    .await;
                (
                    call(Method::DELETE, path.clone(), None),
                    vec![call(Method::DELETE, path, None)],
                )
            }
            "CreatePushEvent" => put(format!("{events}/pushEvent"), json!({"branch": "main"})),
            "CreatePullRequestEvent" => put(format!("{events}/pullRequestEvent"), json!({})),
            "CreateBuildEvent" => put(format!("{events}/buildEvent"), json!({})),
            "CreateReleaseEvent" => put(format!("{events}/releaseEvent"), json!({})),
            "CreateDeployEvent" => put(
                format!("{events}/deployEvent"),
                json!({"env_name": "production"}),
            ),
            "CreateIncidentEvent" => put(
                format!("{events}/incidentEvent"),
                json!({"env_name": "production"}),
            ),
            "UpdateEvent" => {
                let build = self
                    .owner(call(
                        Method::PUT,
                        format!("{events}/buildEvent"),
                        Some(json!({"build_status": "Queued"})),
                    ))
                    .await;
                let id = build["event_id"].as_str().unwrap().to_owned();
                put_body(
                    Method::POST,
                    format!("{events}/{id}"),
                    json!({"build_status": "Running"}),
                )
            }
            "CreateApp" => put(format!("/jdoe/apps/new-{n}"), json!({})),
            "DeleteApp" => {
                let path = format!("/jdoe/apps/gone-{n}");
                self.owner(call(Method::PUT, path.clone(), Some(json!({}))))
                    .await;
                (
                    call(Method::DELETE, path.clone(), None),
                    vec![call(Method::DELETE, path, None)],
                )
            }
            "CreateEnv" => put(format!("/jdoe/apps/web/envs/new-{n}"), json!({})),
            "DeleteEnv" => {
                self.owner(call(
                    Method::PUT,
                    format!("/jdoe/apps/web/envs/gone-{n}"),
                    Some(json!({})),
                ))
                .await;
                let path = format!("/jdoe/envs/gone-{n}");
                (
                    call(Method::DELETE, path.clone(), None),
                    vec![call(Method::DELETE, path, None)],
                )
            }
            "ConfigureHook" => put(
                "/jdoe/hooks/github".into(),
                json!({"app": format!("app-{n}")}),
            ),
            "DeleteHook" => {
                let path = "/jdoe/hooks/gitlab";
                self.owner(call(Method::PUT, path, Some(json!({})))).await;
                (
                    call(Method::DELETE, path, None),
                    vec![call(Method::DELETE, path, None)],
                )
            }
            other => panic!("no request to try {other} with: add one to tests/it/access.rs"),
        }
    }
}

/// The outbound webhook every webhook call but PutWebhook works on.
const PROBE: &str = "probe";

/// A webhook that sends nothing while the test runs.
fn paused_webhook() -> Value {
    json!({"url": "http://127.0.0.1:9/", "enabled": false})
}

/// Tries a call: a stream's answer is judged by its status, without waiting
/// for a body that does not end.
async fn try_call(app: &TestApp, token: &str, request: &Call) -> super::helpers::Answer {
    if !request.path.ends_with("/stream") {
        return call_as(
            app,
            token,
            request.method.clone(),
            &request.path,
            request.body.clone(),
        )
        .await;
    }
    let response = app
        .client
        .get(app.url_with_token(&request.path, token))
        .send()
        .await
        .unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let text = if status == 200 {
        String::new()
    } else {
        response.text().await.unwrap()
    };
    super::helpers::Answer {
        status,
        headers,
        json: serde_json::from_str(&text).unwrap_or(Value::Null),
        text,
    }
}

fn put_body(method: Method, path: String, body: Value) -> (Call, Vec<Call>) {
    (call(method, path, Some(body)), vec![])
}

/// Every call of the published description that takes a token: its
/// operation id, method and route template.
fn described_calls() -> Vec<(String, Method, String)> {
    let document = shiplog_server::openapi::document();
    let mut calls = Vec::new();
    for (route, operations) in document["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            // Calls that take no token declare an empty security requirement.
            if operation["security"] == json!([{}]) {
                continue;
            }
            let id = operation["operationId"].as_str().unwrap().to_owned();
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            calls.push((id, method, route.clone()));
        }
    }
    calls
}

#[test]
fn every_call_that_takes_a_token_has_a_level_and_every_level_a_call() {
    let described = described_calls();
    for (id, method, route) in &described {
        assert!(
            CALLS
                .iter()
                .any(|call| call.method == method && call.route == route),
            "{id} ({method} {route}) has no level in shiplog_server::access::CALLS"
        );
    }
    for call in CALLS {
        assert!(
            described
                .iter()
                .any(|(_, method, route)| *method == call.method && route == call.route),
            "{} {} has a level but is not described",
            call.method,
            call.route
        );
    }
}

/// Users for every caller, each with a token of every scope.
async fn callers(fixture: &Fixture) -> BTreeMap<(usize, Level), String> {
    let server = &fixture.app.server;
    server.add_user_or_token("team").await.unwrap();
    let mut tokens = BTreeMap::new();
    for (i, caller) in Caller::ALL.into_iter().enumerate() {
        for scope in Level::ALL {
            let token = server
                .add_user_or_scoped_token(caller.user(), scope)
                .await
                .unwrap();
            tokens.insert((i, scope), token);
        }
        let store = &server.store;
        if let Caller::Member(role) = caller {
            let jdoe = store.find_account(ACCOUNT).await.unwrap();
            store.set_member(&jdoe, caller.user(), role).await.unwrap();
        }
        if let Caller::AdminElsewhere = caller {
            let team = store.find_account("team").await.unwrap();
            store
                .set_member(&team, caller.user(), Level::Admin)
                .await
                .unwrap();
        }
    }
    tokens
}

#[tokio::test]
async fn each_call_is_allowed_exactly_when_both_the_role_and_the_scope_allow_it() {
    let fixture = Fixture::new().await;
    let tokens = callers(&fixture).await;
    let mut tries = 0;
    let mut refused = 0;
    for (operation, method, route) in described_calls() {
        let level = needed(&method, Some(&route));
        for (i, caller) in Caller::ALL.into_iter().enumerate() {
            for scope in Level::ALL {
                tries += 1;
                let (request, undo) = fixture.prepare(&operation, tries).await;
                assert_eq!(request.method, method, "{operation}'s request");
                let allowed = caller
                    .role()
                    .is_some_and(|role| Level::effective(role, scope).allows(level));
                let what = format!("{operation} by {caller:?} with a {scope} token");
                let before = if allowed || level == Level::Read {
                    None
                } else {
                    Some(fixture.state().await)
                };
                let token = &tokens[&(i, scope)];
                let answer = try_call(&fixture.app, token, &request).await;
                if allowed {
                    assert_eq!(answer.status, 200, "{what}: {}", answer.text);
                    continue;
                }
                refused += 1;
                assert_error(&answer, 403, "AccessDenied");
                if let Some(before) = before {
                    assert_eq!(fixture.state().await, before, "{what} changed something");
                }
                for undo in undo {
                    fixture.owner(undo).await;
                }
            }
        }
    }
    // Every call, with every caller and scope; and a refusal of each kind.
    assert_eq!(tries, CALLS.len() * Caller::ALL.len() * Level::ALL.len());
    assert!(refused > 0 && refused < tries);

    // The admin of another account is one there, and nothing here.
    let elsewhere = Caller::ALL
        .iter()
        .position(|c| matches!(c, Caller::AdminElsewhere))
        .unwrap();
    let token = &tokens[&(elsewhere, Level::Admin)];
    let hooks = call_as(&fixture.app, token, Method::GET, "/team/hooks", None).await;
    assert_ok(&hooks);
    let hook = call_as(
        &fixture.app,
        token,
        Method::PUT,
        "/team/hooks/github",
        Some(json!({})),
    );
    assert_ok(&hook.await);
}

#[tokio::test]
async fn a_member_acts_as_itself_within_its_role_and_a_change_of_role_holds_at_once() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    let store = &app.server.store;
    let token = app
        .server
        .add_user_or_scoped_token("ci", Level::Admin)
        .await
        .unwrap();
    let jdoe = store.find_account(ACCOUNT).await.unwrap();
    let push = |token: String| {
        let app = &app;
        async move {
            call_as(
                app,
                &token,
                Method::PUT,
                "/jdoe/apps/web/events/pushEvent",
                Some(json!({"branch": "main"})),
            )
            .await
        }
    };
    let read = |token: String| {
        let app = &app;
        async move { call_as(app, &token, Method::GET, "/jdoe/apps/web/events", None).await }
    };
    assert_error(&push(token.clone()).await, 403, "AccessDenied");

    store.set_member(&jdoe, "ci", Level::Write).await.unwrap();
    let id = created_id(&push(token.clone()).await);
    let history = app
        .get(&format!("/jdoe/apps/web/events/{id}/history"))
        .await;
    let actor = &history.json["changes"][0]["actor"];
    assert_eq!(actor["user"], "ci", "{}", history.text);
    let tokens = store.list_tokens("ci").await.unwrap();
    assert_eq!(actor["token_id"], json!(tokens[0].id), "{actor}");
    let hooks = call_as(&app, &token, Method::GET, "/jdoe/hooks", None).await;
    assert_error(&hooks, 403, "AccessDenied");
    assert!(hooks.message().contains("admin"), "{}", hooks.text);

    // Down to read: the next write is refused, reads still work.
    store.set_member(&jdoe, "ci", Level::Read).await.unwrap();
    assert_error(&push(token.clone()).await, 403, "AccessDenied");
    assert_ok(&read(token.clone()).await);
    assert_eq!(all_events(&app, "web").await.len(), 1);

    // Up to admin: hooks too.
    store.set_member(&jdoe, "ci", Level::Admin).await.unwrap();
    assert_ok(&call_as(&app, &token, Method::GET, "/jdoe/hooks", None).await);

    // Removed: nothing, at once.
    store.remove_member(&jdoe, "ci").await.unwrap();
    assert_error(&read(token.clone()).await, 403, "AccessDenied");
    assert_error(&push(token).await, 403, "AccessDenied");
    assert_eq!(all_events(&app, "web").await.len(), 1);
}

#[tokio::test]
async fn memberships_are_refused_for_the_owner_and_unknown_users() {
    let app = TestApp::spawn().await;
    let store = &app.server.store;
    let jdoe = store.find_account(ACCOUNT).await.unwrap();
    let own = store.set_member(&jdoe, ACCOUNT, Level::Read).await;
    assert!(
        matches!(&own, Err(shiplog_store::StoreError::Domain(shiplog_domain::DomainError::BadParam(m))) if m.contains("owns")),
        "{own:?}"
    );
    assert!(
        store
            .set_member(&jdoe, "nobody", Level::Read)
            .await
            .is_err()
    );
    assert!(store.remove_member(&jdoe, "nobody").await.is_err());
    app.new_account("ci").await;
    assert!(store.remove_member(&jdoe, "ci").await.is_err());
    assert!(store.list_members(&jdoe).await.unwrap().is_empty());
    // The owner keeps every right with an admin token.
    assert_ok(&app.get("/jdoe/hooks").await);
}

#[tokio::test]
async fn the_members_api_adds_changes_lists_and_removes_members() {
    let app = TestApp::spawn().await;
    let ci = app.new_account("ci").await;
    app.new_account("ops").await;
    let set = app.put("/jdoe/members/ci", json!({})).await;
    assert_ok(&set);
    assert_eq!(set.text, r#"{"member":{"user":"ci","role":"write"}}"#);
    assert_ok(&call_as(&app, &ci, Method::PUT, "/jdoe/apps/web", Some(json!({}))).await);
    let set = app.put("/jdoe/members/ops", json!({"role": "ADMIN"})).await;
    assert_eq!(set.json["member"]["role"], "admin", "{}", set.text);
    let changed = app.put("/jdoe/members/ci", json!({"role": "read"})).await;
    assert_eq!(changed.json["member"]["role"], "read", "{}", changed.text);
    let refused = call_as(&app, &ci, Method::PUT, "/jdoe/apps/api", Some(json!({}))).await;
    assert_error(&refused, 403, "AccessDenied");
    let listed = app.get("/jdoe/members").await;
    assert_eq!(
        listed.json,
        json!({"members": [{"user": "ci", "role": "read"}, {"user": "ops", "role": "admin"}]})
    );

    // Bad input is refused and changes nothing.
    for (path, body, status, code) in [
        (
            "/jdoe/members/ci",
            json!({"role": "owner"}),
            400,
            "BadParam",
        ),
        ("/jdoe/members/ci", json!({"role": 3}), 400, "BadParam"),
        (
            "/jdoe/members/jdoe",
            json!({"role": "read"}),
            400,
            "BadParam",
        ),
        ("/jdoe/members/nobody", json!({}), 404, "NotFound"),
        ("/jdoe/members/no%20body", json!({}), 404, "NotFound"),
        ("/jdoe/members/nul%00", json!({}), 404, "NotFound"),
    ] {
        let answer = app.put(path, body.clone()).await;
        assert_error(&answer, status, code);
    }
    assert_error(&app.delete("/jdoe/members/nobody").await, 404, "NotFound");
    assert_error(&app.delete("/jdoe/members/nul%00").await, 404, "NotFound");
    assert_eq!(app.get("/jdoe/members").await.json, listed.json);

    let removed = app.delete("/jdoe/members/ci").await;
    assert_ok(&removed);
    assert_eq!(removed.text, "");
    assert_error(&app.delete("/jdoe/members/ci").await, 404, "NotFound");
    let listed = call_as(&app, &ci, Method::GET, "/jdoe/apps", None).await;
    assert_error(&listed, 403, "AccessDenied");
    assert_eq!(
        app.get("/jdoe/members").await.json,
        json!({"members": [{"user": "ops", "role": "admin"}]})
    );
}

/// The README's table of levels is the server's.
#[test]
fn the_readme_lists_each_call_at_its_level() {
    let readme = include_str!("../../../../README.md");
    let section = readme
        .split("### Access: roles and scopes")
        .nth(1)
        .expect("the README has the access section");
    let mut listed = BTreeMap::new();
    for line in section.lines().take_while(|line| !line.starts_with("## ")) {
        for level in Level::ALL {
            let Some(calls) = line.strip_prefix(&format!("| `{level}` | ")) else {
                continue;
            };
            for name in calls.trim_end_matches(" |").split(", ") {
                let name = name.split(' ').next().unwrap();
                listed.insert(name.to_owned(), level);
            }
        }
    }
    let levels: BTreeMap<String, Level> = described_calls()
        .into_iter()
        .map(|(id, method, route)| (id, needed(&method, Some(&route))))
        .collect();
    assert_eq!(listed, levels);
}
