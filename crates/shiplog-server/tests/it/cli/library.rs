//! `shiplog-client`, the library the commands are made of, against the
//! real server: every call of the API, typed both ways.

use futures_util::TryStreamExt;
use shiplog_client::api::hooks::HookIn;
use shiplog_client::api::{
    AppIn, BuildEventIn, CommitFieldsIn, DeployEventIn, EnvIn, EventUpdateIn, IncidentEventIn,
    ReleaseEventIn,
};
use shiplog_client::{Client, DoraQuery, Error, EventQuery, Order, Retry};
use shiplog_domain::{BuildStatus, EventType};

use crate::helpers::TestApp;

fn client(server: &TestApp) -> Client {
    Client::new(&server.base, &server.token, "jdoe")
        .unwrap()
        .with_retry(Retry::none())
}

#[tokio::test]
async fn the_client_makes_every_call_of_the_api() {
    let server = TestApp::spawn().await;
    let client = client(&server);

    // Apps.
    let created = client
        .create_app(
            "web",
            &AppIn {
                description: Some("The shop".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(created.name, "web");
    client.create_app("api", &AppIn::default()).await.unwrap();
    let names: Vec<String> = client
        .apps()
        .all()
        .await
        .unwrap()
        .into_iter()
        .map(|app| app.name)
        .collect();
    assert_eq!(names, ["api", "web"]);
    assert_eq!(
        client.get_app("web").await.unwrap().description.as_deref(),
        Some("The shop")
    );
    let again = client
        .create_app("web", &AppIn::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&again, Error::Api { status: 409, code, .. } if code == "AlreadyExists"),
        "{again}"
    );
    client.delete_app("api").await.unwrap();

    // Events of every type, an update each, get and list.
    let web = client.app("web");
    let commit = CommitFieldsIn {
        commit_id: Some("05169ab2".into()),
        branch: Some("feature/a b".into()),
        ..Default::default()
    };
    let push = web.create_push(&commit).await.unwrap();
    let pull_request = web.create_pull_request(&commit).await.unwrap();
    let build = web
        .create_build(&BuildEventIn {
            commit: commit.clone(),
            parent_event_id: Some(push.to_string()),
            build_status: Some("running".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let ended = web
        .update_event(
            build,
            &EventUpdateIn {
                build_status: Some("Success".into()),
                build_end: Some("2030-01-01T00:00:00Z".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(ended.build_status, Some(BuildStatus::Success));
    let release = web
        .create_release(&ReleaseEventIn {
            parent_event_id: Some(build.to_string()),
            ..Default::default()
        })
        .await
        .unwrap();
    let deploy = web
        .create_deploy(&DeployEventIn {
            env_name: Some("production".into()),
            parent_event_id: Some(release.to_string()),
            deployment_status: Some("Ok".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let incident = web
        .create_incident(&IncidentEventIn {
            env_name: Some("production".into()),
            caused_by_event_id: Some(deploy.to_string()),
            ..Default::default()
        })
        .await
        .unwrap();
    let resolved = web
        .update_event(
            incident,
            &EventUpdateIn {
                incident_status: Some("Resolved".into()),
                incident_end: Some("2030-01-01T00:00:00Z".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(resolved.event_type, EventType::Incident);
    assert_eq!(
        web.get_event(pull_request).await.unwrap().event_type,
        EventType::PullRequest
    );
    let missing = web.get_event(999_999).await.unwrap_err();
    assert_eq!(missing.code(), Some("NotFound"));

    // Lists follow the markers, as a stream too, with filters.
    let ids: Vec<i64> = web
        .events(&EventQuery {
            order: Some(Order::Asc),
            page_size: Some(2),
            ..Default::default()
        })
        .into_stream()
        .map_ok(|event| event.event_id)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids, [push, pull_request, build, release, deploy, incident]);
    let builds = web
        .events(&EventQuery {
            event_type: Some("build".into()),
            branch: Some("feature/a b".into()),
            ..Default::default()
        })
        .all()
        .await
        .unwrap();
    assert_eq!(builds.len(), 1);

    // The story: history, lineage, commit, changes.
    let history = web.history(build).all().await.unwrap();
    assert_eq!(history.len(), 2);
    let lineage = web.lineage(deploy).await.unwrap();
    let up: Vec<i64> = lineage.ancestors.iter().map(|e| e.event_id).collect();
    assert_eq!(up, [release, build, push]);
    let story = web.commit("05169ab2").await.unwrap();
    assert_eq!(story.deployed_to[0].env_name, "production");
    let changes = client.changes(Some(0)).all().await.unwrap();
    assert!(changes.len() >= 7, "{}", changes.len());
    let after = client
        .changes(Some(changes[2].change_id))
        .all()
        .await
        .unwrap();
    assert_eq!(after.len(), changes.len() - 3);

    // Envs.
    web.create_env(
        "staging",
        &EnvIn {
            tags: Some(vec!["pre".into()]),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let of_app: Vec<String> = web
        .envs()
        .all()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(of_app, ["production", "staging"]);
    assert_eq!(client.envs().all().await.unwrap().len(), 2);
    let production = client.get_env("production").await.unwrap();
    assert_eq!(production.active_release_version.as_deref(), Some("v1"));
    client.delete_env("staging").await.unwrap();

    // DORA.
    let dora = client
        .dora(&DoraQuery {
            app: Some("web".into()),
            env: Some("production".into()),
            bucket: Some("month".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(dora.envs, ["production"]);
    assert_eq!(dora.bucket, "month");

    // Hooks: configured, listed, delivered to, removed.
    let hook = client
        .configure_hook(
            "gitlab",
            &HookIn {
                app: Some("web".into()),
                create_apps: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(client.list_hooks().await.unwrap()[0].provider, "gitlab");
    let delivery = client
        .deliver(
            "gitlab",
            &[
                ("X-Gitlab-Event", "Note Hook"),
                ("X-Gitlab-Event-UUID", "u-1"),
                ("X-Gitlab-Token", &hook.secret),
            ],
            br#"{"object_kind":"note"}"#.to_vec(),
        )
        .await
        .unwrap();
    assert_eq!(delivery.delivery, "u-1");
    assert!(delivery.ignored.is_some());
    client.delete_hook("gitlab").await.unwrap();
    assert!(client.list_hooks().await.unwrap().is_empty());

    // Members: added, changed, listed, removed.
    server.new_account("ci").await;
    let member = client.set_member("ci", None).await.unwrap();
    assert_eq!(
        (member.user.as_str(), member.role.as_str()),
        ("ci", "write")
    );
    client.set_member("ci", Some("read")).await.unwrap();
    let members = client.list_members().await.unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].role, "read");
    client.remove_member("ci").await.unwrap();
    assert!(client.list_members().await.unwrap().is_empty());
    let err = client.remove_member("ci").await.unwrap_err();
    assert!(matches!(&err, Error::Api { status: 404, .. }), "{err}");
}

#[tokio::test]
async fn a_client_with_a_bad_token_or_url_says_so() {
    let server = TestApp::spawn().await;
    let wrong = Client::new(&server.base, "wrong", "jdoe").unwrap();
    let err = wrong.get_app("web").await.unwrap_err();
    assert!(matches!(&err, Error::Api { status: 401, .. }), "{err}");
    assert!(Client::new("ftp://example.com", "t", "jdoe").is_err());
    assert!(Client::new("not a url", "t", "jdoe").is_err());
}
