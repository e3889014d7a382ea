//! The cases of the conformance suite, written against the `Store` trait only.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use shiplog_domain::Timestamp;
use shiplog_domain::input::{EventUpdate, NewEvent};
use shiplog_domain::resources::{NewApp, NewEnv};
use shiplog_domain::token::{TokenHash, hash_token};
use shiplog_domain::{Actor, Change, ChangeKind, Level};
use shiplog_domain::{
    BuildStatus, DomainError, Event, EventFilter, EventType, Order, PageRequest, ResourceName,
};
use shiplog_store::sessions::SessionAccess;
use shiplog_store::{Access, Account, Store, StoreError};

fn name(text: &str) -> ResourceName {
    ResourceName::parse("Name", text).unwrap()
}

/// An account as a token authorised on it sees it: the account, and the
/// actor its writes are recorded as.
#[derive(Debug, Clone)]
pub struct Grant {
    pub account: Account,
    pub actor: Actor,
}

impl std::ops::Deref for Grant {
    type Target = Account;

    fn deref(&self) -> &Account {
        &self.account
    }
}

/// A user with a token, authorised on its own account.
async fn account(store: &dyn Store, user: &str) -> Grant {
    store.create_user(&name(user)).await.unwrap();
    let token = format!("token-of-{user}-0123456789");
    store
        .add_token(user, hash_token(&token), None, Level::Admin)
        .await
        .unwrap();
    match store.authorize(hash_token(&token), user).await.unwrap() {
        Access::Granted { account, actor, .. } => Grant { account, actor },
        other => panic!("{other:?}"),
    }
}

async fn app(store: &dyn Store, account: &Account, app: &str) {
    store
        .create_app(account, &name(app), NewApp::default())
        .await
        .unwrap();
}

fn event(event_type: EventType, body: serde_json::Value) -> NewEvent {
    NewEvent::parse(event_type, body.as_object().unwrap()).unwrap()
}

fn update(body: serde_json::Value) -> EventUpdate {
    EventUpdate::parse(body.as_object().unwrap()).unwrap()
}

async fn list(store: &dyn Store, account: &Account, app: &str, filter: EventFilter) -> Vec<Event> {
    let page = PageRequest {
        order: Order::Asc,
        limit: 100,
        after: None,
    };
    store
        .list_events(account, app, &filter, &page)
        .await
        .unwrap()
}

fn ids(events: &[Event]) -> Vec<i64> {
    events.iter().map(|e| e.event_id).collect()
}

fn domain_error(result: Result<impl std::fmt::Debug, StoreError>) -> DomainError {
    match result {
        Err(StoreError::Domain(err)) => err,
        other => panic!("expected a domain error, got {other:?}"),
    }
}

pub async fn events_get_increasing_ids_across_apps(store: Arc<dyn Store>) {
    let jdoe = account(&*store, "jdoe").await;
    app(&*store, &jdoe, "a").await;
    app(&*store, &jdoe, "b").await;
    let mut created = Vec::new();
    for i in 0..6 {
        let target = if i % 2 == 0 { "a" } else { "b" };
        let id = store
            .create_event(
                &jdoe,
                &jdoe.actor,
                target,
                event(EventType::Push, json!({"branch": "main"})),
            )
            .await
            .unwrap();
        created.push(id);
    }
    assert!(created.windows(2).all(|w| w[0] < w[1]), "{created:?}");
    let a = list(&*store, &jdoe, "a", EventFilter::default()).await;
    assert_eq!(ids(&a), vec![created[0], created[2], created[4]]);
    assert!(
        a.iter()
            .all(|e| e.app_name == "a" && e.event_type == EventType::Push)
    );
    assert_eq!(a[0].fields.commit.branch.as_deref(), Some("main"));
}

pub async fn listing_pages_by_key_in_both_orders_without_gaps(store: Arc<dyn Store>) {
    let jdoe = account(&*store, "jdoe").await;
    app(&*store, &jdoe, "a").await;
    let mut created = Vec::new();
    for _ in 0..25 {
        created.push(
            store
                .create_event(&jdoe, &jdoe.actor, "a", event(EventType::Push, json!({})))
                .await
                .unwrap(),
        );
    }
    for order in [Order::Asc, Order::Desc] {
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = PageRequest {
                order,
                limit: 7,
                after,
            };
            let rows = store
                .list_events(&jdoe, "a", &EventFilter::default(), &page)
                .await
                .unwrap();
            assert!(rows.len() <= page.fetch_limit());
            let (rows, more) = shiplog_domain::page::split_page(rows, 7);
            seen.extend(ids(&rows));
            if !more {
                break;
            }
            after = rows.last().map(|e| e.event_id);
        }
        let mut expected = created.clone();
        if order == Order::Desc {
            expected.reverse();
        }
        assert_eq!(seen, expected, "{order:?}");
    }
}

pub async fn filters_select_by_branch_type_and_env(store: Arc<dyn Store>) {
    let jdoe = account(&*store, "jdoe").await;
    app(&*store, &jdoe, "a").await;
    let push_main = store
        .create_event(
            &jdoe,
            &jdoe.actor,
            "a",
            event(EventType::Push, json!({"branch": "main"})),
        )
        .await
        .unwrap();
    let build_main = store
        .create_event(
            &jdoe,
            &jdoe.actor,
            "a",
            event(EventType::Build, json!({"branch": "main"})),
        )
        .await
        .unwrap();
    let build_dev = store
        .create_event(
            &jdoe,
            &jdoe.actor,
            "a",
            event(EventType::Build, json!({"branch": "dev"})),
        )
        .await
        .unwrap();
    let deploy_dev = store
        .create_event(
            &jdoe,
            &jdoe.actor,
            "a",
            event(
                EventType::Deploy,
                json!({"branch": "main", "env_name": "dev"}),
            ),
        )
        .await
        .unwrap();
    let deploy_prod = store
        .create_event(
            &jdoe,
            &jdoe.actor,
            "a",
            event(
                EventType::Deploy,
                json!({"branch": "main", "env_name": "prod"}),
            ),
        )
        .await
        .unwrap();
    let by = |branch: Option<&str>, event_type: Option<EventType>, env: Option<&str>| EventFilter {
        branch: branch.map(str::to_owned),
        event_type,
        env: env.map(str::to_owned),
    };
    let cases = [
        (
            by(Some("main"), None, None),
            vec![push_main, build_main, deploy_dev, deploy_prod],
        ),
        (
            by(None, Some(EventType::Build), None),
            vec![build_main, build_dev],
        ),
        (
            by(Some("main"), Some(EventType::Build), None),
            vec![build_main],
        ),
        (by(None, None, Some("dev")), vec![deploy_dev]),
        (by(Some("main"), None, Some("prod")), vec![deploy_prod]),
        (by(Some("dev"), None, Some("prod")), vec![]),
        (by(Some("nope"), None, None), vec![]),
    ];
    for (filter, expected) in cases {
        assert_eq!(
            ids(&list(&*store, &jdoe, "a", filter.clone()).await),
            expected,
            "{filter:?}"
        );
    }
}

pub async fn an_env_filter_of_another_app_is_not_found(store: Arc<dyn Store>) {
    let jdoe = account(&*store, "jdoe").await;
    app(&*store, &jdoe, "a").await;
    app(&*store, &jdoe, "b").await;
    store
        .create_env(&jdoe, "b", &name("staging"), NewEnv::default())
        .await
        .unwrap();
    let filter = EventFilter {
        env: Some("staging".into()),
        ..Default::default()
    };
    let page = PageRequest {
        order: Order::Desc,
        limit: 10,
        after: None,
    };
    let err = domain_error(store.list_events(&jdoe, "a", &filter, &page).await);
    assert_eq!(err, DomainError::NotFound("Env staging".into()));
    assert!(
        store
            .list_events(&jdoe, "b", &filter, &page)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn a_terminal_build_is_immutable_but_accepts_repeats(store: Arc<dyn Store>) {
    let jdoe = account(&*store, "jdoe").await;
    app(&*store, &jdoe, "a").await;
    let id = store
        .create_event(
            &jdoe,
            &jdoe.actor,
            "a",
            event(EventType::Build, json!({"build_status": "Running"})),
        )
        .await
        .unwrap();
    let done = json!({"build_status": "failed", "build_end": "2016-08-30T22:31:11Z"});
    let after = store
        .update_event(&jdoe, &jdoe.actor, "a", id, update(done.clone()))
        .await
        .unwrap();
    assert_eq!(after.fields.build_status, Some(BuildStatus::Failed));
    let repeat = store
        .update_event(&jdoe, &jdoe.actor, "a", id, update(done))
        .await
        .unwrap();
    assert_eq!(repeat, after);
    let err = domain_error(
        store
            .update_event(
                &jdoe,
                &jdoe.actor,
                "a",
                id,
                update(json!({"build_status": "Success"})),
            )
            .await,
    );
    assert!(matches!(err, DomainError::Immutable(_)), "{err:?}");
    let stored = list(&*store, &jdoe, "a", EventFilter::default()).await;
    assert_eq!(stored, vec![after]);
}

pub async fn racing_terminal_updates_let_exactly_one_win(store: Arc<dyn Store>) {
    let jdoe = account(&*store, "jdoe").await;
    app(&*store, &jdoe, "a").await;
    let id = store
        .create_event(
            &jdoe,
            &jdoe.actor,
            "a",
            event(EventType::Build, json!({"build_status": "Running"})),
        )
        .await
        .unwrap();
    let statuses = ["Success", "Failed", "TimedOut", "Cancelled"];
    let mut tasks = Vec::new();
    for round in 0..16 {
        let (store, jdoe) = (store.clone(), jdoe.clone());
        let status = statuses[round % statuses.len()];
        tasks.push(tokio::spawn(async move {
            let body = json!({"build_status": status, "build_end": "2016-08-30T22:31:11Z"});
            (
                status,
                store
                    .update_event(&jdoe, &jdoe.actor, "a", id, update(body))
                    .await,
            )
        }));
    }
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    let stored = list(&*store, &jdoe, "a", EventFilter::default()).await;
    let winner = stored[0].fields.build_status.unwrap().as_str();
    for (status, outcome) in outcomes {
        if status == winner {
            assert!(outcome.is_ok(), "{status}: {outcome:?}");
        } else {
            assert!(
                matches!(outcome, Err(StoreError::Domain(DomainError::Immutable(_)))),
                "{status}: {outcome:?}"
            );
        }
    }
}

pub async fn a_build_release_version_creates_one_release(store: Arc<dyn Store>) {
    let jdoe = account(&*store, "jdoe").await;
    app(&*store, &jdoe, "a").await;
    let build = store
        .create_event(&jdoe, &jdoe.actor,
            "a",
            event(
                EventType::Build,
                json!({"build_status": "Running", "commit_id": "abc", "branch": "main", "build_id": "96"}),
            ),
        )
        .await
        .unwrap();
    let body = json!({"build_status": "Success", "build_end": "2016-08-30T22:31:11Z", "release_version": "v5"});
    store
        .update_event(&jdoe, &jdoe.actor, "a", build, update(body.clone()))
        .await
        .unwrap();
    store
        .update_event(&jdoe, &jdoe.actor, "a", build, update(body))
        .await
        .unwrap();
    let releases = list(
        &*store,
        &jdoe,
        "a",
        EventFilter {
            event_type: Some(EventType::Release),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(releases.len(), 1);
    let release = &releases[0].fields;
    assert_eq!(release.parent_event_id, Some(build));
    assert_eq!(release.release_version.as_deref(), Some("v5"));
    assert_eq!(release.commit.commit_id.as_deref(), Some("abc"));
    assert_eq!(release.commit.branch.as_deref(), Some("main"));
    assert_eq!(release.build_id.as_deref(), Some("96"));
}

pub async fn racing_release_updates_create_one_release(store: Arc<dyn Store>) {
    let jdoe = account(&*store, "jdoe").await;
    app(&*store, &jdoe, "a").await;
    let mut builds = Vec::new();
    for _ in 0..4 {
        builds.push(
            store
                .create_event(&jdoe, &jdoe.actor, "a", event(EventType::Build, json!({})))
                .await
                .unwrap(),
        );
    }
    let mut tasks = Vec::new();
    for build in builds {
        let (store, jdoe) = (store.clone(), jdoe.clone());
        tasks.push(tokio::spawn(async move {
            store
                .update_event(
                    &jdoe,
                    &jdoe.actor,
                    "a",
                    build,
                    update(json!({"release_version": "v9"})),
                )
                .await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let releases = list(
        &*store,
        &jdoe,
        "a",
        EventFilter {
            event_type: Some(EventType::Release),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(releases.len(), 1);
}

pub async fn releases_get_versions_and_refuse_duplicates(store: Arc<dyn Store>) {
    let jdoe = account(&*store, "jdoe").await;
    app(&*store, &jdoe, "a").await;
    store
        .create_event(
            &jdoe,
            &jdoe.actor,
            "a",
            event(EventType::Release, json!({"release_version": "v2"})),
        )
        .await
        .unwrap();
    for _ in 0..2 {
        store
            .create_event(
                &jdoe,
                &jdoe.actor,
                "a",
                event(EventType::Release, json!({})),
            )
            .await
            .unwrap();
    }
    let versions: Vec<_> = list(&*store, &jdoe, "a", EventFilter::default())
        .await
        .into_iter()
        .map(|e| e.fields.release_version.unwrap())
        .collect();
    assert_eq!(versions, ["v2", "v1", "v3"]);
    let err = domain_error(
        store
            .create_event(
                &jdoe,
                &jdoe.actor,
                "a",
                event(EventType::Release, json!({"release_version": "v3"})),
            )
            .await,
    );
    assert_eq!(err, DomainError::AlreadyExists("Release v3".into()));
}

pub async fn deploys_create_envs_and_number_themselves(store: Arc<dyn Store>) {
    let jdoe = account(&*store, "jdoe").await;
    app(&*store, &jdoe, "a").await;
    app(&*store, &jdoe, "b").await;
    let release = store
        .create_event(
            &jdoe,
            &jdoe.actor,
            "a",
            event(
                EventType::Release,
                json!({"commit_id": "abc", "release_version": "v1"}),
            ),
        )
        .await
        .unwrap();
    for _ in 0..2 {
        store
            .create_event(
                &jdoe,
                &jdoe.actor,
                "a",
                event(
                    EventType::Deploy,
                    json!({"env_name": "prod", "release_version": "v1"}),
                ),
            )
            .await
            .unwrap();
    }
    let deploys = list(
        &*store,
        &jdoe,
        "a",
        EventFilter {
            env: Some("prod".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(deploys.len(), 2);
    let (first, second) = (&deploys[0].fields, &deploys[1].fields);
    assert!(first.deployment_id.as_deref().unwrap().starts_with("d-"));
    assert_ne!(first.deployment_id, second.deployment_id);
    assert_eq!(first.deployment_number.as_deref(), Some("1"));
    assert_eq!(second.deployment_number.as_deref(), Some("2"));
    assert_eq!(first.parent_event_id, Some(release));
    assert_eq!(first.commit.commit_id.as_deref(), Some("abc"));
    let env = store.get_env(&jdoe, "prod").await.unwrap();
    assert_eq!(env.app_name, "a");
    assert_eq!(
        env.last_deployment.as_ref().map(|e| e.event_id),
        Some(deploys[1].event_id)
    );
    let err = domain_error(
        store
            .create_event(
                &jdoe,
                &jdoe.actor,
                "b",
                event(EventType::Deploy, json!({"env_name": "prod"})),
            )
            .await,
    );
    assert!(matches!(err, DomainError::BadParam(_)), "{err:?}");
}

pub async fn parents_must_be_of_the_right_type_and_app(store: Arc<dyn Store>) {
    let jdoe = account(&*store, "jdoe").await;
    app(&*store, &jdoe, "a").await;
    app(&*store, &jdoe, "b").await;
    let push = store
        .create_event(
            &jdoe,
            &jdoe.actor,
            "a",
            event(EventType::Push, json!({"commit_id": "abc"})),
        )
        .await
        .unwrap();
    let build = store
        .create_event(
            &jdoe,
            &jdoe.actor,
            "a",
            event(EventType::Build, json!({"parent_event_id": push})),
        )
        .await
        .unwrap();
    let release_parent = json!({"parent_event_id": push.to_string()});
    let err = domain_error(
        store
            .create_event(
                &jdoe,
                &jdoe.actor,
                "a",
                event(EventType::Release, release_parent),
            )
            .await,
    );
    assert!(matches!(err, DomainError::BadParam(m) if m.contains("parent_event_id")));
    let err = domain_error(
        store
            .create_event(
                &jdoe,
                &jdoe.actor,
                "b",
                event(EventType::Build, json!({"parent_event_id": push})),
            )
            .await,
    );
    assert!(matches!(err, DomainError::BadParam(_)));
    let release = store
        .create_event(
            &jdoe,
            &jdoe.actor,
            "a",
            event(EventType::Release, json!({"parent_event_id": build})),
        )
        .await
        .unwrap();
    assert!(release > build);
}

pub async fn deleting_an_app_takes_its_events_and_envs(store: Arc<dyn Store>) {
    let jdoe = account(&*store, "jdoe").await;
    app(&*store, &jdoe, "a").await;
    store
        .create_event(
            &jdoe,
            &jdoe.actor,
            "a",
            event(EventType::Deploy, json!({"env_name": "dev"})),
        )
        .await
        .unwrap();
    store.delete_app(&jdoe, "a").await.unwrap();
    assert_eq!(
        domain_error(store.get_app(&jdoe, "a").await),
        DomainError::NotFound("App a".into())
    );
    assert_eq!(
        domain_error(store.get_env(&jdoe, "dev").await),
        DomainError::NotFound("Env dev".into())
    );
    app(&*store, &jdoe, "a").await;
    assert!(
        list(&*store, &jdoe, "a", EventFilter::default())
            .await
            .is_empty()
    );
    assert_eq!(
        domain_error(store.delete_app(&jdoe, "missing").await),
        DomainError::NotFound("App missing".into())
    );
}

pub async fn names_are_unique_per_account(store: Arc<dyn Store>) {
    let jdoe = account(&*store, "jdoe").await;
    let other = account(&*store, "other").await;
    app(&*store, &jdoe, "a").await;
    app(&*store, &jdoe, "b").await;
    app(&*store, &other, "a").await;
    let err = domain_error(store.create_app(&jdoe, &name("a"), NewApp::default()).await);
    assert_eq!(err, DomainError::AlreadyExists("App a".into()));
    store
        .create_env(&jdoe, "a", &name("dev"), NewEnv::default())
        .await
        .unwrap();
    let err = domain_error(
        store
            .create_env(&jdoe, "b", &name("dev"), NewEnv::default())
            .await,
    );
    assert_eq!(err, DomainError::AlreadyExists("Env dev".into()));
    store
        .create_env(&other, "a", &name("dev"), NewEnv::default())
        .await
        .unwrap();
    let page = PageRequest {
        order: Order::Asc,
        limit: 10,
        after: None,
    };
    let apps: Vec<_> = store
        .list_apps(&jdoe, &page)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(apps, ["a", "b"]);
}

pub async fn tokens_authorise_only_their_own_account(store: Arc<dyn Store>) {
    let jdoe = account(&*store, "jdoe").await;
    account(&*store, "other").await;
    let token = hash_token("token-of-jdoe-0123456789");
    assert_eq!(
        store.authorize(token, "jdoe").await.unwrap(),
        Access::Granted {
            account: jdoe.account.clone(),
            actor: jdoe.actor.clone(),
            level: Level::Admin,
        }
    );
    assert_eq!(
        store.authorize(token, "other").await.unwrap(),
        Access::Denied
    );
    assert_eq!(
        store.authorize(token, "nobody").await.unwrap(),
        Access::Denied
    );
    assert_eq!(
        store.authorize(hash_token("wrong"), "jdoe").await.unwrap(),
        Access::Unauthenticated
    );
}

pub async fn sessions_read_their_users_accounts_until_they_end_or_expire(store: Arc<dyn Store>) {
    let jdoe = account(&*store, "jdoe").await;
    account(&*store, "other").await;
    let at = |ms: i64| Timestamp::from_millis(1_800_000_000_000 + ms);
    let id = hash_token("session-secret-of-jdoe");
    store
        .create_session("jdoe", id, "csrf-token", at(0), at(1000))
        .await
        .unwrap();
    let granted = store.session(id, "jdoe", at(10)).await.unwrap();
    let SessionAccess::Granted(session, account) = granted else {
        panic!("expected access to its own account: {granted:?}");
    };
    assert_eq!(account, jdoe.account);
    assert_eq!(
        (session.user.as_str(), session.csrf.as_str()),
        ("jdoe", "csrf-token")
    );
    assert_eq!((session.last_seen, session.expires), (at(0), at(1000)));
    for other in ["other", "nobody", ""] {
        let denied = store.session(id, other, at(10)).await.unwrap();
        assert!(
            matches!(denied, SessionAccess::Denied(_)),
            "{other}: {denied:?}"
        );
    }
    let unknown = hash_token("a-made-up-secret");
    assert_eq!(
        store.session(unknown, "jdoe", at(10)).await.unwrap(),
        SessionAccess::Unauthenticated
    );
    // Expired at its expiry; a touch before it moves it on.
    assert_eq!(
        store.session(id, "jdoe", at(1000)).await.unwrap(),
        SessionAccess::Unauthenticated
    );
    store.touch_session(id, at(500), at(2000)).await.unwrap();
    let touched = store.session(id, "jdoe", at(1500)).await.unwrap();
    assert_eq!(touched.session().map(|s| s.last_seen), Some(at(500)));
    // An expired session is not brought back by a touch.
    store.touch_session(id, at(2500), at(9000)).await.unwrap();
    assert_eq!(
        store.session(id, "jdoe", at(2600)).await.unwrap(),
        SessionAccess::Unauthenticated
    );
    // Sign-out ends a session at once; ending it again is no error.
    let second = hash_token("second-session-of-jdoe");
    store
        .create_session("jdoe", second, "csrf-2", at(3000), at(9000))
        .await
        .unwrap();
    assert!(matches!(
        store.session(second, "jdoe", at(3001)).await.unwrap(),
        SessionAccess::Granted(..)
    ));
    store.end_session(second).await.unwrap();
    assert_eq!(
        store.session(second, "jdoe", at(3001)).await.unwrap(),
        SessionAccess::Unauthenticated
    );
    store.end_session(second).await.unwrap();
    assert!(matches!(
        store
            .create_session("nobody", second, "x", at(0), at(1))
            .await,
        Err(StoreError::Domain(DomainError::NotFound(_)))
    ));
}

pub async fn revoked_tokens_stop_working(store: Arc<dyn Store>) {
    account(&*store, "jdoe").await;
    let second = hash_token("a-second-token-0123456789");
    let info = store
        .add_token("jdoe", second, Some("ci"), Level::Write)
        .await
        .unwrap();
    assert!(matches!(
        store.authorize(second, "jdoe").await.unwrap(),
        Access::Granted { .. }
    ));
    store.revoke_token("jdoe", info.id).await.unwrap();
    assert_eq!(
        store.authorize(second, "jdoe").await.unwrap(),
        Access::Unauthenticated
    );
    let tokens = store.list_tokens("jdoe").await.unwrap();
    assert_eq!(tokens.len(), 2);
    assert!(
        tokens
            .iter()
            .any(|t| t.id == info.id && t.revoked.is_some())
    );
    assert!(matches!(
        store
            .authorize(hash_token("token-of-jdoe-0123456789"), "jdoe")
            .await
            .unwrap(),
        Access::Granted { .. }
    ));
    assert!(store.revoke_token("jdoe", 9_999).await.is_err());
}

pub async fn a_members_level_is_the_lower_of_its_role_and_its_tokens_scope(store: Arc<dyn Store>) {
    let jdoe = account(&*store, "jdoe").await;
    account(&*store, "ci").await;
    let level_of = |token: &'static str| {
        let store = store.clone();
        async move {
            match store.authorize(hash_token(token), "jdoe").await.unwrap() {
                Access::Granted { level, actor, .. } => {
                    assert!(matches!(actor, Actor::Token { ref user, .. } if user == "ci"));
                    Some(level)
                }
                Access::Denied => None,
                other => panic!("{other:?}"),
            }
        }
    };
    let tokens = [
        "ci-read-0123456789",
        "ci-write-0123456789",
        "ci-admin-0123456789",
    ];
    for (token, scope) in tokens.iter().zip(Level::ALL) {
        let info = store
            .add_token("ci", hash_token(token), None, scope)
            .await
            .unwrap();
        assert_eq!(info.scope, scope);
        assert_eq!(level_of(token).await, None, "not a member yet");
    }
    let listed: Vec<Level> = store
        .list_tokens("ci")
        .await
        .unwrap()
        .iter()
        .map(|t| t.scope)
        .collect();
    assert_eq!(
        listed,
        [Level::Admin, Level::Read, Level::Write, Level::Admin]
    );

    use shiplog_store::members::{Member, MemberSet};
    let mut before = None;
    for role in Level::ALL {
        let set = store.set_member(&jdoe, "ci", role).await.unwrap();
        let expected = before.map_or(MemberSet::Added, MemberSet::Changed);
        assert_eq!(set, expected);
        for (token, scope) in tokens.iter().zip(Level::ALL) {
            assert_eq!(
                level_of(token).await,
                Some(role.min(scope)),
                "{role} {scope}"
            );
        }
        before = Some(role);
    }
    assert_eq!(
        store.set_member(&jdoe, "ci", Level::Admin).await.unwrap(),
        MemberSet::Unchanged
    );
    assert_eq!(
        store.list_members(&jdoe).await.unwrap(),
        [Member {
            user: "ci".into(),
            role: Level::Admin
        }]
    );
    // The owner is admin on its own account whatever it is of others.
    match store
        .authorize(hash_token("token-of-jdoe-0123456789"), "jdoe")
        .await
        .unwrap()
    {
        Access::Granted { level, .. } => assert_eq!(level, Level::Admin),
        other => panic!("{other:?}"),
    }
    store.remove_member(&jdoe, "ci").await.unwrap();
    assert_eq!(level_of(tokens[2]).await, None);
    assert!(store.list_members(&jdoe).await.unwrap().is_empty());
    assert!(store.remove_member(&jdoe, "ci").await.is_err());
}

/// Asks until the answer is `expected`, for up to `within` (once when
/// zero): how long a change made elsewhere may take to be seen.
async fn authorized_within(
    store: &dyn Store,
    token: TokenHash,
    account: &str,
    within: Duration,
    expected: &Access,
) {
    let deadline = Instant::now() + within;
    loop {
        let access = store.authorize(token, account).await.unwrap();
        if access == *expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "still {access:?} after {within:?}, expected {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Asked again with nothing changed (from the cache where there is one),
/// every kind of answer is the same.
pub async fn an_unchanged_authorisation_is_answered_alike(store: Arc<dyn Store>) {
    account(&*store, "jdoe").await;
    account(&*store, "other").await;
    let token = hash_token("token-of-jdoe-0123456789");
    for (token, account) in [
        (token, "jdoe"),
        (token, "other"),
        (token, "nobody"),
        (hash_token("wrong"), "jdoe"),
    ] {
        let first = store.authorize(token, account).await.unwrap();
        for _ in 0..3 {
            assert_eq!(
                store.authorize(token, account).await.unwrap(),
                first,
                "{account}"
            );
        }
    }
}

/// A token revoked through another store on the same database (another
/// process, or another instance) is refused by the first store at once,
/// though it had just authorised it.
pub async fn a_token_revoked_through_another_store_stops_working_at_once(
    store: Arc<dyn Store>,
    other: Arc<dyn Store>,
    delivery: Duration,
) {
    account(&*store, "jdoe").await;
    let second = hash_token("a-second-token-0123456789");
    let info = store
        .add_token("jdoe", second, Some("ci"), Level::Write)
        .await
        .unwrap();
    let granted = store.authorize(second, "jdoe").await.unwrap();
    assert!(matches!(granted, Access::Granted { .. }), "{granted:?}");
    assert_eq!(store.authorize(second, "jdoe").await.unwrap(), granted);

    other.revoke_token("jdoe", info.id).await.unwrap();
    authorized_within(&*store, second, "jdoe", delivery, &Access::Unauthenticated).await;
    assert!(matches!(
        store
            .authorize(hash_token("token-of-jdoe-0123456789"), "jdoe")
            .await
            .unwrap(),
        Access::Granted { .. }
    ));
}

/// A member's role lowered, then its membership removed, through another
/// store on the same database: the first store answers the new level, then
/// denies, at once.
pub async fn a_role_lowered_or_removed_through_another_store_takes_effect_at_once(
    store: Arc<dyn Store>,
    other: Arc<dyn Store>,
    delivery: Duration,
) {
    let jdoe = account(&*store, "jdoe").await;
    let ci = account(&*store, "ci").await;
    let token = hash_token("token-of-ci-0123456789");
    store.set_member(&jdoe, "ci", Level::Admin).await.unwrap();
    let at = |level| Access::Granted {
        account: jdoe.account.clone(),
        actor: ci.actor.clone(),
        level,
    };
    assert_eq!(
        store.authorize(token, "jdoe").await.unwrap(),
        at(Level::Admin)
    );
    assert_eq!(
        store.authorize(token, "jdoe").await.unwrap(),
        at(Level::Admin)
    );

    other.set_member(&jdoe, "ci", Level::Read).await.unwrap();
    authorized_within(&*store, token, "jdoe", delivery, &at(Level::Read)).await;
    assert_eq!(
        store.authorize(token, "jdoe").await.unwrap(),
        at(Level::Read)
    );

    other.remove_member(&jdoe, "ci").await.unwrap();
    authorized_within(&*store, token, "jdoe", delivery, &Access::Denied).await;
    // Its own account is untouched.
    assert!(matches!(
        store.authorize(token, "ci").await.unwrap(),
        Access::Granted {
            level: Level::Admin,
            ..
        }
    ));
}

pub async fn a_refused_write_changes_nothing(store: Arc<dyn Store>) {
    let jdoe = account(&*store, "jdoe").await;
    app(&*store, &jdoe, "a").await;
    let before = list(&*store, &jdoe, "a", EventFilter::default()).await;
    // A deploy whose parent is wrong is refused after its env would have
    // been created: the env must not remain.
    let push = store
        .create_event(&jdoe, &jdoe.actor, "a", event(EventType::Push, json!({})))
        .await
        .unwrap();
    let refused = store
        .create_event(
            &jdoe,
            &jdoe.actor,
            "a",
            event(
                EventType::Deploy,
                json!({"env_name": "ghost", "parent_event_id": push}),
            ),
        )
        .await;
    assert!(matches!(
        refused,
        Err(StoreError::Domain(DomainError::BadParam(_)))
    ));
    assert!(store.get_env(&jdoe, "ghost").await.is_err());
    let after = list(&*store, &jdoe, "a", EventFilter::default()).await;
    assert_eq!(after.len(), before.len() + 1);
}

fn ascending(after: Option<i64>, limit: usize) -> PageRequest<i64> {
    PageRequest {
        order: Order::Asc,
        limit,
        after,
    }
}

async fn history(store: &dyn Store, account: &Account, app: &str, id: i64) -> Vec<Change> {
    store
        .event_history(account, app, id, &ascending(None, 100))
        .await
        .unwrap()
}

pub async fn each_accepted_write_records_one_change_and_a_refused_one_none(store: Arc<dyn Store>) {
    let jdoe = account(&*store, "jdoe").await;
    app(&*store, &jdoe, "a").await;
    let id = store
        .create_event(
            &jdoe,
            &jdoe.actor,
            "a",
            event(EventType::Build, json!({"build_status": "Running"})),
        )
        .await
        .unwrap();
    let done = json!({"build_status": "Success", "build_end": "2016-08-30T22:31:11Z"});
    store
        .update_event(&jdoe, &jdoe.actor, "a", id, update(done.clone()))
        .await
        .unwrap();
    // A repeat, an empty update and a refused change record nothing.
    store
        .update_event(&jdoe, &jdoe.actor, "a", id, update(done))
        .await
        .unwrap();
    store
        .update_event(&jdoe, &jdoe.actor, "a", id, update(json!({})))
        .await
        .unwrap();
    let refused = store
        .update_event(
            &jdoe,
            &jdoe.actor,
            "a",
            id,
            update(json!({"build_status": "Failed"})),
        )
        .await;
    assert!(matches!(
        refused,
        Err(StoreError::Domain(DomainError::Immutable(_)))
    ));
    let changes = history(&*store, &jdoe, "a", id).await;
    let kinds: Vec<_> = changes.iter().map(|c| c.kind).collect();
    assert_eq!(kinds, [ChangeKind::Created, ChangeKind::Updated]);
    assert!(changes.iter().all(|c| c.actor == jdoe.actor));
    assert_eq!(
        serde_json::Value::Object(changes[1].fields.clone()),
        json!({"build_end": [null, "2016-08-30T22:31:11.000Z"], "build_status": ["Running", "Success"]})
    );
    assert_eq!(changes[1].event["build_status"], "Success");
    assert_eq!(changes[0].fields["build_status"], json!([null, "Running"]));
    let all = store
        .list_changes(&jdoe, &ascending(None, 100))
        .await
        .unwrap();
    assert_eq!(all, changes, "the account's changes are the build's two");
}

pub async fn a_deploy_lineage_reaches_the_push(store: Arc<dyn Store>) {
    let jdoe = account(&*store, "jdoe").await;
    app(&*store, &jdoe, "a").await;
    let create = |event_type, body| {
        let (store, jdoe) = (store.clone(), jdoe.clone());
        async move {
            store
                .create_event(&jdoe, &jdoe.actor, "a", event(event_type, body))
                .await
                .unwrap()
        }
    };
    let push = create(EventType::Push, json!({"commit_id": "c1"})).await;
    let build = create(
        EventType::Build,
        json!({"parent_event_id": push, "release_version": "v1", "commit_id": "c1"}),
    )
    .await;
    let release = build + 1;
    let dev = create(
        EventType::Deploy,
        json!({"env_name": "dev", "release_version": "v1"}),
    )
    .await;
    let prod = create(
        EventType::Deploy,
        json!({"env_name": "prod", "release_version": "v1"}),
    )
    .await;
    let ids = |events: &[Event]| events.iter().map(|e| e.event_id).collect::<Vec<_>>();
    let lineage = store.event_lineage(&jdoe, "a", prod).await.unwrap();
    assert_eq!(ids(&lineage.ancestors), [release, build, push]);
    assert_eq!(lineage.event.event_id, prod);
    assert!(lineage.descendants.is_empty());
    let lineage = store.event_lineage(&jdoe, "a", push).await.unwrap();
    assert!(lineage.ancestors.is_empty());
    assert_eq!(ids(&lineage.descendants), [build, release, dev, prod]);
    let commit = store.get_commit(&jdoe, "a", "c1").await.unwrap();
    assert_eq!(ids(&commit.events), [push, build, release, dev, prod]);
    assert!(commit.deployed_to.is_empty(), "no deploy has ended Ok");
    assert!(matches!(
        store.get_commit(&jdoe, "a", "c2").await,
        Err(StoreError::Domain(DomainError::NotFound(_)))
    ));
}

pub async fn changes_after_resume_exactly_while_writers_run(store: Arc<dyn Store>) {
    let jdoe = account(&*store, "jdoe").await;
    app(&*store, &jdoe, "a").await;
    let writers: Vec<_> = (0..4)
        .map(|_| {
            let (store, jdoe) = (store.clone(), jdoe.clone());
            tokio::spawn(async move {
                for _ in 0..25 {
                    store
                        .create_event(&jdoe, &jdoe.actor, "a", event(EventType::Push, json!({})))
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let finished = writers.iter().all(|w| w.is_finished());
        let page = store
            .list_changes(&jdoe, &ascending(after, 7))
            .await
            .unwrap();
        if let Some(last) = page.last() {
            after = Some(last.change_id);
        }
        seen.extend(page.iter().map(|c| c.change_id));
        if finished && page.is_empty() {
            break;
        }
        tokio::task::yield_now().await;
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let everything: Vec<_> = store
        .list_changes(&jdoe, &ascending(None, 1000))
        .await
        .unwrap()
        .iter()
        .map(|c| c.change_id)
        .collect();
    assert_eq!(everything.len(), 100);
    assert_eq!(seen, everything, "no repeat and no gap");
}

pub async fn deleting_an_app_takes_its_changes_and_change_ids_are_never_reused(
    store: Arc<dyn Store>,
) {
    let jdoe = account(&*store, "jdoe").await;
    app(&*store, &jdoe, "a").await;
    app(&*store, &jdoe, "b").await;
    let push = |app: &'static str| {
        let (store, jdoe) = (store.clone(), jdoe.clone());
        async move {
            store
                .create_event(&jdoe, &jdoe.actor, app, event(EventType::Push, json!({})))
                .await
                .unwrap()
        }
    };
    let kept = push("a").await;
    push("b").await;
    push("b").await;
    let before = store
        .list_changes(&jdoe, &ascending(None, 100))
        .await
        .unwrap();
    let highest = before.last().unwrap().change_id;
    store.delete_app(&jdoe, "b").await.unwrap();
    let after = store
        .list_changes(&jdoe, &ascending(None, 100))
        .await
        .unwrap();
    let events: Vec<_> = after.iter().map(|c| c.event_id).collect();
    assert_eq!(events, [kept], "the deleted app's changes went with it");
    let next = push("a").await;
    let latest = store
        .list_changes(&jdoe, &ascending(Some(highest - 1), 100))
        .await
        .unwrap();
    assert_eq!(latest.len(), 1);
    assert_eq!(latest[0].event_id, next);
    assert!(
        latest[0].change_id > highest,
        "a change id of the deleted app ({highest}) was given again: {}",
        latest[0].change_id
    );
}

/// Creates events of `grant`'s apps all at once, so that they reach the
/// writer together and share transactions; answers each write's outcome.
async fn create_together(
    store: &Arc<dyn Store>,
    grant: &Grant,
    events: Vec<(&'static str, EventType, serde_json::Value)>,
) -> Vec<Result<i64, StoreError>> {
    let writes: Vec<_> = events
        .into_iter()
        .map(|(app, event_type, body)| {
            let (store, grant) = (store.clone(), grant.clone());
            tokio::spawn(async move {
                store
                    .create_event(&grant, &grant.actor, app, event(event_type, body))
                    .await
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for write in writes {
        outcomes.push(write.await.unwrap());
    }
    outcomes
}

/// The events of the account's changes, in order.
async fn changed_events(store: &dyn Store, account: &Account) -> Vec<i64> {
    let changes = store
        .list_changes(account, &ascending(None, 1000))
        .await
        .unwrap();
    assert!(changes.iter().all(|c| c.kind == ChangeKind::Created));
    let mut events: Vec<_> = changes.iter().map(|c| c.event_id).collect();
    events.sort_unstable();
    events
}

/// Writes that reach the writer together share one transaction: each
/// accepted write keeps exactly its own change, and a refused one leaves
/// nothing, not even the env it created before it was refused.
pub async fn a_write_refused_among_others_undoes_only_itself(store: Arc<dyn Store>) {
    let jdoe = account(&*store, "jdoe").await;
    app(&*store, &jdoe, "a").await;
    let mut events = Vec::new();
    for i in 0..60 {
        if i % 10 == 7 {
            // Creates env `e{i}`, then finds no such parent.
            let body = json!({"env_name": format!("e{i}"), "parent_event_id": 999_999_999});
            events.push(("a", EventType::Deploy, body));
        } else {
            events.push(("a", EventType::Push, json!({"commit_id": format!("c{i}")})));
        }
    }
    let outcomes = create_together(&store, &jdoe, events).await;
    let mut accepted = Vec::new();
    for (i, outcome) in outcomes.into_iter().enumerate() {
        if i % 10 == 7 {
            assert!(matches!(domain_error(outcome), DomainError::BadParam(_)));
            assert_eq!(
                domain_error(store.get_env(&jdoe, &format!("e{i}")).await),
                DomainError::NotFound(format!("Env e{i}"))
            );
        } else {
            accepted.push(outcome.expect("a push is accepted"));
        }
    }
    accepted.sort_unstable();
    assert_eq!(changed_events(&*store, &jdoe).await, accepted);
    let listed = list(&*store, &jdoe, "a", EventFilter::default()).await;
    assert_eq!(ids(&listed), accepted);
}

/// An app deleted among event writes that share its transaction takes the
/// changes of its events written before, and the writes after find no app;
/// a refused deletion among them undoes nothing of the writes before it.
pub async fn an_app_deleted_among_event_writes_takes_their_changes(store: Arc<dyn Store>) {
    let jdoe = account(&*store, "jdoe").await;
    app(&*store, &jdoe, "a").await;
    app(&*store, &jdoe, "b").await;
    let deletion = {
        let (store, jdoe) = (store.clone(), jdoe.clone());
        async move {
            // Queued while the writes below are.
            tokio::time::sleep(Duration::from_millis(2)).await;
            let (refused, deleted) = tokio::join!(
                store.delete_app(&jdoe, "missing"),
                store.delete_app(&jdoe, "b")
            );
            assert_eq!(
                domain_error(refused),
                DomainError::NotFound("App missing".into())
            );
            deleted
        }
    };
    let mut events = Vec::new();
    for i in 0..60 {
        let app = if i % 3 == 0 { "b" } else { "a" };
        events.push((app, EventType::Push, json!({"commit_id": format!("c{i}")})));
    }
    let (outcomes, deleted) = tokio::join!(create_together(&store, &jdoe, events), deletion);
    deleted.unwrap();
    let mut accepted = Vec::new();
    for (i, outcome) in outcomes.into_iter().enumerate() {
        match outcome {
            Ok(id) if i % 3 != 0 => accepted.push(id),
            Ok(_) | Err(StoreError::Domain(DomainError::NotFound(_))) if i % 3 == 0 => {}
            other => panic!("write {i}: {other:?}"),
        }
    }
    accepted.sort_unstable();
    assert_eq!(
        changed_events(&*store, &jdoe).await,
        accepted,
        "nothing of b is left"
    );
}

/// A body giving every field of every type (each type takes its own),
/// different for each `i`, its env one of `app`'s.
fn every_field(app: &str, i: usize) -> serde_json::Value {
    json!({
        "author_name": format!("Author {i}"),
        "author_username": format!("author-{i}"),
        "branch": format!("branch-{}", i % 4),
        "commit_id": format!("{i:040x}"),
        "commit_msg": format!("Change {i}"),
        "commit_url": format!("https://example.com/c/{i}"),
        "commit_time": "2016-08-30T22:00:00Z",
        "repo_name": "web",
        "repo_owner": "jdoe",
        "repo_provider": "github",
        "repo_url": "https://example.com/jdoe/web",
        "auto_build": i % 4 == 1,
        "build_id": format!("b{i}"),
        "build_provider": "jenkins",
        "build_start": "2016-08-30T22:30:00Z",
        "build_end": "2016-08-30T22:31:11Z",
        "build_status": "Success",
        "build_url": format!("https://ci.example.com/{i}"),
        "release_version": format!("v{i}"),
        "env_name": format!("{app}-{}", i % 3),
        "auto_deploy": i.is_multiple_of(3),
        "hotfix": i.is_multiple_of(5),
        "deployment_id": format!("d{i}"),
        "deployment_number": format!("{i}"),
        "deployment_status": "Ok",
        "deployment_type": "Deploy",
        "deployment_start": "2016-08-30T22:40:00Z",
        "deployment_end": "2016-08-30T22:41:00Z",
    })
}

/// Events written together, in one batch, keep every field exactly as the
/// same events written one at a time.
pub async fn events_written_together_keep_every_field(store: Arc<dyn Store>) {
    let jdoe = account(&*store, "jdoe").await;
    app(&*store, &jdoe, "alone").await;
    app(&*store, &jdoe, "together").await;
    let types = [
        EventType::Push,
        EventType::Build,
        EventType::PullRequest,
        EventType::Build,
        EventType::DockerImage,
        EventType::Push,
        EventType::Release,
        EventType::Deploy,
    ];
    let mut alone = Vec::new();
    for i in 0..48 {
        let body = event(types[i % types.len()], every_field("alone", i));
        let written = store
            .create_event(&jdoe, &jdoe.actor, "alone", body)
            .await
            .unwrap();
        alone.push(store.get_event(&jdoe, "alone", written).await.unwrap());
    }
    let together: Vec<_> = (0..48)
        .map(|i| {
            (
                "together",
                types[i % types.len()],
                every_field("together", i),
            )
        })
        .collect();
    let mut ids = Vec::new();
    for (i, outcome) in create_together(&store, &jdoe, together)
        .await
        .into_iter()
        .enumerate()
    {
        let id = outcome.unwrap_or_else(|err| panic!("write {i}: {err:?}"));
        let written = store.get_event(&jdoe, "together", id).await.unwrap();
        assert_eq!(written.event_type, alone[i].event_type, "write {i}");
        let mut expected = alone[i].fields.clone();
        expected.env_name = expected
            .env_name
            .map(|env| env.replace("alone", "together"));
        assert_eq!(written.fields, expected, "write {i}");
        ids.push(id);
    }
    assert!(
        alone.iter().any(|e| e.fields.auto_build == Some(true))
            && alone.iter().any(|e| e.fields.hotfix == Some(true)),
        "the bodies set the flags"
    );
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), alone.len(), "each write has an id of its own");
    // The listing also holds the RELEASEs the BUILDs' versions created.
    let listed = crate::cases::ids(&list(&*store, &jdoe, "together", EventFilter::default()).await);
    let missing: Vec<_> = ids.iter().filter(|id| !listed.contains(id)).collect();
    assert!(missing.is_empty(), "not listed: {missing:?}");
}

/// Records an event of `app` and answers its id.
async fn record(
    store: &dyn Store,
    grant: &Grant,
    app: &str,
    event_type: EventType,
    body: serde_json::Value,
) -> i64 {
    store
        .create_event(grant, &grant.actor, app, event(event_type, body))
        .await
        .unwrap()
}

fn millis(text: &str) -> shiplog_domain::Timestamp {
    shiplog_domain::Timestamp::parse(text).unwrap()
}

pub async fn dora_facts_follow_the_write_path(store: Arc<dyn Store>) {
    let jdoe = account(&*store, "jdoe").await;
    app(&*store, &jdoe, "web").await;
    let s = &*store;
    let push = record(s, &jdoe, "web", EventType::Push, json!({"commit_id": "c1"})).await;
    let pushed_at = store
        .get_event(&jdoe, "web", push)
        .await
        .unwrap()
        .event_time;
    let build = record(
        s,
        &jdoe,
        "web",
        EventType::Build,
        json!({"parent_event_id": push, "build_start": "2026-03-02T09:00:00Z"}),
    )
    .await;
    // A deploy naming a version before its RELEASE is recorded, and one in
    // progress that ends later.
    let early = record(
        s,
        &jdoe,
        "web",
        EventType::Deploy,
        json!({"env_name": "production", "release_version": "v9", "deployment_status": "Ok",
               "deployment_start": "2026-03-03T09:00:00Z", "deployment_end": "2026-03-03T10:00:00Z"}),
    )
    .await;
    let release = record(
        s,
        &jdoe,
        "web",
        EventType::Release,
        json!({"parent_event_id": build, "release_version": "v9"}),
    )
    .await;
    let later = record(
        s,
        &jdoe,
        "web",
        EventType::Deploy,
        json!({"env_name": "production", "parent_event_id": release,
               "deployment_status": "InProgress", "deployment_start": "2026-03-04T09:00:00Z"}),
    )
    .await;
    // None of these is a deployment.
    for body in [
        json!({"env_name": "production", "deployment_status": "Aborted"}),
        json!({"env_name": "production", "deployment_status": "Ok", "deployment_type": "Restart"}),
        json!({"env_name": "production", "deployment_status": "Pending"}),
    ] {
        record(s, &jdoe, "web", EventType::Deploy, body).await;
    }
    let facts = store.dora_facts(&jdoe, Some("web"), None).await.unwrap();
    assert_eq!(facts.envs, ["production"]);
    assert_eq!(
        ids_of(&facts),
        [early],
        "only the deploy that ended is a deployment"
    );
    let fact = &facts.deployments[0];
    assert_eq!(
        fact.release,
        Some(release),
        "the RELEASE recorded later is attached"
    );
    assert_eq!(fact.commit.as_deref(), Some("c1"));
    assert_eq!(
        fact.lead_start,
        Some(pushed_at),
        "without a commit_time the first push starts the lead time"
    );
    assert_eq!(fact.end, millis("2026-03-03T10:00:00Z"));

    store
        .update_event(
            &jdoe,
            &jdoe.actor,
            "web",
            later,
            update(
                json!({"deployment_status": "Failed", "deployment_end": "2026-03-04T10:00:00Z"}),
            ),
        )
        .await
        .unwrap();
    let incident = record(
        s,
        &jdoe,
        "web",
        EventType::Incident,
        json!({"env_name": "production", "caused_by_event_id": later,
               "incident_start": "2026-03-04T10:30:00Z"}),
    )
    .await;
    let facts = store.dora_facts(&jdoe, Some("web"), None).await.unwrap();
    assert_eq!(ids_of(&facts), [early, later]);
    assert!(!facts.deployments[1].ok);
    assert_eq!(facts.incidents.len(), 1);
    assert_eq!(facts.incidents[0].caused_by, Some(later));
    assert_eq!(facts.incidents[0].end, None);
    store
        .update_event(
            &jdoe,
            &jdoe.actor,
            "web",
            incident,
            update(json!({"incident_status": "Resolved", "incident_end": "2026-03-04T12:00:00Z"})),
        )
        .await
        .unwrap();
    let facts = store
        .dora_facts(&jdoe, None, Some("production"))
        .await
        .unwrap();
    assert_eq!(facts.incidents[0].end, Some(millis("2026-03-04T12:00:00Z")));

    // Deleting the app takes its facts: a new app of the name starts empty.
    store.delete_app(&jdoe, "web").await.unwrap();
    app(&*store, &jdoe, "web").await;
    record(
        s,
        &jdoe,
        "web",
        EventType::Deploy,
        json!({"env_name": "production"}),
    )
    .await;
    let facts = store.dora_facts(&jdoe, Some("web"), None).await.unwrap();
    assert!(facts.deployments.is_empty() && facts.incidents.is_empty());
}

fn ids_of(facts: &shiplog_store::dora::DoraFacts) -> Vec<i64> {
    let mut ids: Vec<i64> = facts.deployments.iter().map(|d| d.event_id).collect();
    ids.sort();
    ids
}

pub async fn dora_scope_is_the_production_envs_unless_one_is_named(store: Arc<dyn Store>) {
    let jdoe = account(&*store, "jdoe").await;
    for name in ["tagged", "named", "other"] {
        app(&*store, &jdoe, name).await;
    }
    let env = |tags: &[&str]| NewEnv {
        tags: tags.iter().map(|t| t.to_string()).collect(),
        ..NewEnv::default()
    };
    let s = &*store;
    // "tagged" has a tagged env, so its env named prod is not in scope.
    s.create_env(&jdoe, "tagged", &name("live"), env(&["Production"]))
        .await
        .unwrap();
    s.create_env(&jdoe, "tagged", &name("prod"), env(&[]))
        .await
        .unwrap();
    s.create_env(&jdoe, "named", &name("production"), env(&[]))
        .await
        .unwrap();
    s.create_env(&jdoe, "named", &name("qa"), env(&[]))
        .await
        .unwrap();
    s.create_env(&jdoe, "other", &name("dev"), env(&[]))
        .await
        .unwrap();
    let envs = |app: Option<&'static str>, env: Option<&'static str>| {
        let (store, jdoe) = (store.clone(), jdoe.clone());
        async move { store.dora_facts(&jdoe, app, env).await.map(|f| f.envs) }
    };
    assert_eq!(envs(None, None).await.unwrap(), ["live", "production"]);
    assert_eq!(envs(Some("tagged"), None).await.unwrap(), ["live"]);
    assert_eq!(envs(Some("named"), None).await.unwrap(), ["production"]);
    assert!(envs(Some("other"), None).await.unwrap().is_empty());
    assert_eq!(envs(Some("named"), Some("qa")).await.unwrap(), ["qa"]);
    assert!(matches!(
        envs(Some("named"), Some("dev")).await,
        Err(StoreError::Domain(DomainError::NotFound(m))) if m == "Env dev"
    ));
    assert!(matches!(
        envs(Some("missing"), None).await,
        Err(StoreError::Domain(DomainError::NotFound(_)))
    ));
}

fn webhook(apps: &[&str], enabled: bool) -> shiplog_store::webhooks::WebhookConfig {
    shiplog_store::webhooks::WebhookConfig {
        url: "https://receiver.example/hook".into(),
        scope: shiplog_domain::outbound::Scope {
            event_types: Vec::new(),
            apps: apps.iter().map(|a| (*a).to_owned()).collect(),
        },
        format: shiplog_domain::outbound::Format::Shiplog,
        enabled,
    }
}

fn attempt(at: shiplog_domain::Timestamp, status: u16) -> Option<shiplog_store::webhooks::Attempt> {
    Some(shiplog_store::webhooks::Attempt {
        at,
        status_code: Some(status),
        duration_ms: 3,
        error: (status >= 300).then(|| format!("answered {status}")),
    })
}

fn later(at: shiplog_domain::Timestamp, millis: i64) -> shiplog_domain::Timestamp {
    shiplog_domain::Timestamp::from_millis(at.millis() + millis)
}

pub async fn a_webhook_owes_each_change_until_delivered_and_is_disabled_past_its_window(
    store: Arc<dyn Store>,
) {
    const LEASE: i64 = 60_000;
    let jdoe = account(&*store, "jdoe").await;
    app(&*store, &jdoe, "web").await;
    let s = &*store;
    s.put_webhook(&jdoe, "all", webhook(&[], true), "whsec_a".into(), false)
        .await
        .unwrap();
    s.put_webhook(
        &jdoe,
        "api-only",
        webhook(&["api"], true),
        "whsec_b".into(),
        false,
    )
    .await
    .unwrap();
    record(s, &jdoe, "web", EventType::Push, json!({})).await;
    record(s, &jdoe, "web", EventType::Push, json!({})).await;
    let now = shiplog_domain::Timestamp::now();
    // Only the webhook whose scope takes the changes owes them.
    let claimed = s.claim_deliveries(now, LEASE, 10).await.unwrap();
    assert_eq!(claimed.len(), 2, "{claimed:?}");
    assert!(
        claimed
            .iter()
            .all(|c| c.attempt == 1 && c.secret == "whsec_a")
    );
    assert_eq!(claimed[0].account, jdoe.account);
    // Claimed deliveries are not claimed again while their lease holds.
    assert!(s.claim_deliveries(now, LEASE, 10).await.unwrap().is_empty());
    let (done, failed) = (claimed[0].clone(), claimed[1].clone());
    s.finish_delivery(done, attempt(now, 200)).await.unwrap();
    s.finish_delivery(failed, attempt(now, 500)).await.unwrap();
    let webhook_state = s.get_webhook(&jdoe, "all").await.unwrap();
    assert_eq!(webhook_state.failing_since, Some(now));
    // The failed one falls due after the first retry delay, as attempt 2.
    assert!(s.claim_deliveries(now, LEASE, 10).await.unwrap().is_empty());
    let retry = s
        .claim_deliveries(later(now, 1_500), LEASE, 10)
        .await
        .unwrap();
    assert_eq!(retry.len(), 1);
    assert_eq!(retry[0].attempt, 2);
    // Failing past the change's 24-hour window disables the webhook, which
    // keeps what it owes.
    let past_window = later(now, 25 * 3600 * 1000);
    s.finish_delivery(retry[0].clone(), attempt(past_window, 503))
        .await
        .unwrap();
    let disabled = s.get_webhook(&jdoe, "all").await.unwrap();
    assert!(!disabled.config.enabled);
    let reason = disabled.disabled_reason.unwrap();
    assert!(
        reason.contains("24 hours") && reason.contains("503"),
        "{reason}"
    );
    assert!(
        s.claim_deliveries(later(now, 48 * 3600 * 1000), LEASE, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Enabled again, it resumes with that change, as attempt 3.
    s.put_webhook(&jdoe, "all", webhook(&[], true), "whsec_c".into(), false)
        .await
        .unwrap();
    let resumed = s.get_webhook(&jdoe, "all").await.unwrap();
    assert_eq!(
        (resumed.failing_since, resumed.disabled_reason),
        (None, None)
    );
    let again = s
        .claim_deliveries(shiplog_domain::Timestamp::now(), LEASE, 10)
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempt, 3);
    assert_ne!(again[0].change_id, 0);
    // Every attempt is listed, newest first.
    let attempts = s.webhook_attempts(&jdoe, "all", None, 10).await.unwrap();
    let statuses: Vec<_> = attempts.iter().map(|a| a.outcome.status_code).collect();
    assert_eq!(statuses, [Some(503), Some(500), Some(200)]);
    let older = s
        .webhook_attempts(&jdoe, "all", Some(attempts[0].id), 10)
        .await
        .unwrap();
    assert_eq!(older.len(), 2);
    // Deleting the webhook takes what it owes.
    s.delete_webhook(&jdoe, "all").await.unwrap();
    assert!(
        s.claim_deliveries(later(now, 72 * 3600 * 1000), LEASE, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(s.next_delivery_due().await.unwrap().is_none());
}
