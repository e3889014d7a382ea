//! ListEvents filters: every `filter_name`, their combinations, letter case,
//! and the refusals.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::support::*;

/// The ids of each kind of event in the fixture app `web`.
struct Fixture {
    app: TestApp,
    push_master: i64,
    push_feature: i64,
    pr_master: i64,
    build_master: i64,
    build_feature: i64,
    release_master: i64,
    deploy_dev_master: i64,
    deploy_dev_feature: i64,
    deploy_prod_master: i64,
}

async fn fixture() -> Fixture {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    app.create_app("api").await;
    let master = json!({"branch": "master"});
    let feature = json!({"branch": "feature/x"});
    let push_master = app.create_event("web", "pushEvent", master.clone()).await;
    let push_feature = app.create_event("web", "pushEvent", feature.clone()).await;
    let pr_master = app
        .create_event("web", "pullRequestEvent", master.clone())
        .await;
    let build_master = app.create_event("web", "buildEvent", master.clone()).await;
    let build_feature = app.create_event("web", "buildEvent", feature.clone()).await;
    let release_master = app
        .create_event("web", "releaseEvent", master.clone())
        .await;
    let deploy_dev_master = app
        .create_event(
            "web",
            "deployEvent",
            with(master.clone(), json!({"env_name": "dev"})),
        )
        .await;
    let deploy_dev_feature = app
        .create_event(
            "web",
            "deployEvent",
            with(feature.clone(), json!({"env_name": "dev"})),
        )
        .await;
    let deploy_prod_master = app
        .create_event(
            "web",
            "deployEvent",
            with(master.clone(), json!({"env_name": "prod"})),
        )
        .await;
    // Noise in another app, including an env of its own and the same branch.
    app.create_event("api", "pushEvent", master.clone()).await;
    app.create_event(
        "api",
        "deployEvent",
        with(master, json!({"env_name": "api-prod"})),
    )
    .await;
    Fixture {
        app,
        push_master,
        push_feature,
        pr_master,
        build_master,
        build_feature,
        release_master,
        deploy_dev_master,
        deploy_dev_feature,
        deploy_prod_master,
    }
}

impl Fixture {
    fn all(&self) -> BTreeSet<i64> {
        [
            self.push_master,
            self.push_feature,
            self.pr_master,
            self.build_master,
            self.build_feature,
            self.release_master,
            self.deploy_dev_master,
            self.deploy_dev_feature,
            self.deploy_prod_master,
        ]
        .into()
    }

    /// The ids a filtered listing of `web` returns, checking that every
    /// listed event belongs to `web`.
    async fn ids(&self, query: &str) -> BTreeSet<i64> {
        let events = list_all(
            &self.app,
            &format!("/jdoe/apps/web/events?max_results=100&{query}"),
            "events",
        )
        .await;
        for e in &events {
            assert_eq!(e["app_name"], "web", "{e}");
        }
        ids(&events).into_iter().collect()
    }

    async fn refused(&self, query: &str) -> crate::helpers::Answer {
        self.app
            .get(&format!("/jdoe/apps/web/events?{query}"))
            .await
    }
}

#[tokio::test]
async fn without_filters_every_event_of_the_app_is_listed() {
    let f = fixture().await;
    assert_eq!(f.ids("").await, f.all());
}

#[tokio::test]
async fn the_branch_filter_returns_every_type_of_that_branch() {
    let f = fixture().await;
    let expected: BTreeSet<i64> = [
        f.push_master,
        f.pr_master,
        f.build_master,
        f.release_master,
        f.deploy_dev_master,
        f.deploy_prod_master,
    ]
    .into();
    assert_eq!(
        f.ids("filter_name=Branch&filter_branch=master").await,
        expected
    );
}

#[tokio::test]
async fn a_branch_with_a_slash_is_matched_when_sent_percent_encoded() {
    let f = fixture().await;
    let expected: BTreeSet<i64> = [f.push_feature, f.build_feature, f.deploy_dev_feature].into();
    assert_eq!(
        f.ids("filter_name=Branch&filter_branch=feature%2Fx").await,
        expected
    );
}

#[tokio::test]
async fn the_branch_filter_matches_the_whole_branch_exactly() {
    let f = fixture().await;
    assert!(
        f.ids("filter_name=Branch&filter_branch=mast")
            .await
            .is_empty()
    );
    assert!(
        f.ids("filter_name=Branch&filter_branch=feature")
            .await
            .is_empty()
    );
    assert!(
        f.ids("filter_name=Branch&filter_branch=%25")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn the_event_type_filter_returns_only_that_type() {
    let f = fixture().await;
    let cases: [(&str, BTreeSet<i64>); 6] = [
        ("Push", [f.push_master, f.push_feature].into()),
        ("Pullrequest", [f.pr_master].into()),
        ("Build", [f.build_master, f.build_feature].into()),
        ("Release", [f.release_master].into()),
        (
            "Deploy",
            [
                f.deploy_dev_master,
                f.deploy_dev_feature,
                f.deploy_prod_master,
            ]
            .into(),
        ),
        ("Dockerimage", BTreeSet::new()),
    ];
    for (value, expected) in cases {
        for spelling in [value.to_owned(), value.to_lowercase(), value.to_uppercase()] {
            assert_eq!(
                f.ids(&format!(
                    "filter_name=EventType&filter_event_type={spelling}"
                ))
                .await,
                expected,
                "{spelling}"
            );
        }
    }
}

#[tokio::test]
async fn filter_names_are_matched_in_any_letter_case() {
    let f = fixture().await;
    let builds: BTreeSet<i64> = [f.build_master, f.build_feature].into();
    for name in ["EventType", "eventtype", "EVENTTYPE", "eventType"] {
        assert_eq!(
            f.ids(&format!("filter_name={name}&filter_event_type=build"))
                .await,
            builds,
            "{name}"
        );
    }
    let dev: BTreeSet<i64> = [f.deploy_dev_master, f.deploy_dev_feature].into();
    for name in ["env", "ENV"] {
        assert_eq!(
            f.ids(&format!("filter_name={name}&filter_env=dev")).await,
            dev
        );
    }
    let master_builds: BTreeSet<i64> = [f.build_master].into();
    assert_eq!(
        f.ids("filter_name=branchandeventtype&filter_branch=master&filter_event_type=BUILD")
            .await,
        master_builds
    );
}

#[tokio::test]
async fn branch_and_event_type_needs_both_to_match() {
    let f = fixture().await;
    let expected: BTreeSet<i64> = [f.deploy_dev_master, f.deploy_prod_master].into();
    assert_eq!(
        f.ids("filter_name=BranchAndEventType&filter_branch=master&filter_event_type=deploy")
            .await,
        expected
    );
    let expected: BTreeSet<i64> = [f.push_feature].into();
    assert_eq!(
        f.ids("filter_name=BranchAndEventType&filter_branch=feature%2Fx&filter_event_type=push")
            .await,
        expected
    );
}

#[tokio::test]
async fn the_env_filter_returns_the_deploys_to_that_env() {
    let f = fixture().await;
    let dev: BTreeSet<i64> = [f.deploy_dev_master, f.deploy_dev_feature].into();
    assert_eq!(f.ids("filter_name=Env&filter_env=dev").await, dev);
    let prod: BTreeSet<i64> = [f.deploy_prod_master].into();
    assert_eq!(f.ids("filter_name=Env&filter_env=prod").await, prod);
}

#[tokio::test]
async fn the_env_filter_on_an_env_without_deploys_is_an_empty_list() {
    let f = fixture().await;
    assert_ok(&f.app.put("/jdoe/apps/web/envs/staging", json!({})).await);
    let answer = f
        .app
        .get("/jdoe/apps/web/events?filter_name=Env&filter_env=staging")
        .await;
    assert_ok(&answer);
    assert_eq!(answer.json["events"], json!([]));
    assert_eq!(answer.json["marker"], Value::Null);
}

#[tokio::test]
async fn env_and_branch_needs_both_to_match() {
    let f = fixture().await;
    let expected: BTreeSet<i64> = [f.deploy_dev_master].into();
    assert_eq!(
        f.ids("filter_name=EnvAndBranch&filter_env=dev&filter_branch=master")
            .await,
        expected
    );
    assert!(
        f.ids("filter_name=EnvAndBranch&filter_env=prod&filter_branch=feature%2Fx")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn the_env_filter_on_an_env_of_another_app_is_not_found() {
    let f = fixture().await;
    for query in [
        "filter_name=Env&filter_env=api-prod",
        "filter_name=EnvAndBranch&filter_env=api-prod&filter_branch=master",
    ] {
        let answer = f.refused(query).await;
        assert_error(&answer, 404, "NotFound");
        assert_eq!(answer.message(), "Env api-prod not found");
    }
}

#[tokio::test]
async fn the_env_filter_on_an_unknown_env_is_not_found() {
    let f = fixture().await;
    let answer = f.refused("filter_name=Env&filter_env=nowhere").await;
    assert_error(&answer, 404, "NotFound");
    assert_eq!(answer.message(), "Env nowhere not found");
}

#[tokio::test]
async fn a_named_filter_without_its_parameter_is_missing_param_naming_it() {
    let f = fixture().await;
    for (query, missing) in [
        ("filter_name=Branch", "filter_branch"),
        ("filter_name=Env", "filter_env"),
        ("filter_name=EventType", "filter_event_type"),
        (
            "filter_name=BranchAndEventType&filter_branch=master",
            "filter_event_type",
        ),
        (
            "filter_name=BranchAndEventType&filter_event_type=push",
            "filter_branch",
        ),
        ("filter_name=EnvAndBranch&filter_env=dev", "filter_branch"),
        (
            "filter_name=EnvAndBranch&filter_branch=master",
            "filter_env",
        ),
        ("filter_name=Branch&filter_event_type=push", "filter_branch"),
    ] {
        let answer = f.refused(query).await;
        assert_error(&answer, 400, "MissingParam");
        assert!(
            answer.message().contains(missing),
            "{query}: {}",
            answer.text
        );
    }
}

#[tokio::test]
async fn an_empty_companion_parameter_counts_as_missing() {
    let f = fixture().await;
    let answer = f.refused("filter_name=Branch&filter_branch=").await;
    assert_error(&answer, 400, "MissingParam");
    assert!(
        answer.message().contains("filter_branch"),
        "{}",
        answer.text
    );
}

#[tokio::test]
async fn an_unknown_filter_name_is_bad_param() {
    let f = fixture().await;
    for name in ["Colour", "Branches", "Event%20Type"] {
        let answer = f
            .refused(&format!("filter_name={name}&filter_branch=master"))
            .await;
        assert_error(&answer, 400, "BadParam");
        assert!(answer.message().contains("filter_name"), "{}", answer.text);
    }
}

#[tokio::test]
async fn an_unknown_event_type_is_bad_param_listing_the_accepted_values() {
    let f = fixture().await;
    for query in [
        "filter_name=EventType&filter_event_type=party",
        "filter_name=EventType&filter_event_type=PULL_REQUEST",
        "filter_name=BranchAndEventType&filter_branch=master&filter_event_type=builds",
        "filter_event_type=party",
    ] {
        let answer = f.refused(query).await;
        assert_error(&answer, 400, "BadParam");
        assert!(
            answer.message().contains("filter_event_type"),
            "{query}: {}",
            answer.text
        );
        assert!(
            answer.message().contains("Build"),
            "lists the values: {}",
            answer.text
        );
    }
}

#[tokio::test]
async fn without_a_filter_name_the_filter_parameters_apply_together() {
    let f = fixture().await;
    let master_builds: BTreeSet<i64> = [f.build_master].into();
    assert_eq!(
        f.ids("filter_branch=master&filter_event_type=Build").await,
        master_builds
    );
    let feature: BTreeSet<i64> = [f.push_feature, f.build_feature, f.deploy_dev_feature].into();
    assert_eq!(f.ids("filter_branch=feature%2Fx").await, feature);
    let pushes: BTreeSet<i64> = [f.push_master, f.push_feature].into();
    assert_eq!(f.ids("filter_event_type=push").await, pushes);
    let dev: BTreeSet<i64> = [f.deploy_dev_master, f.deploy_dev_feature].into();
    assert_eq!(f.ids("filter_env=dev").await, dev);
    let dev_master: BTreeSet<i64> = [f.deploy_dev_master].into();
    assert_eq!(
        f.ids("filter_env=dev&filter_branch=master&filter_event_type=deploy")
            .await,
        dev_master
    );
    assert!(
        f.ids("filter_env=dev&filter_event_type=push")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn a_named_filter_uses_only_its_own_parameters() {
    let f = fixture().await;
    let expected: BTreeSet<i64> = [
        f.push_master,
        f.pr_master,
        f.build_master,
        f.release_master,
        f.deploy_dev_master,
        f.deploy_prod_master,
    ]
    .into();
    assert_eq!(
        f.ids("filter_name=Branch&filter_branch=master&filter_event_type=build")
            .await,
        expected
    );
}

#[tokio::test]
async fn filtered_events_keep_the_newest_first_order_by_default() {
    let f = fixture().await;
    let answer = f
        .app
        .get("/jdoe/apps/web/events?filter_name=EventType&filter_event_type=deploy")
        .await;
    assert_ok(&answer);
    assert_listing_key_order(&answer.text);
    let got = ids(answer.json["events"].as_array().unwrap());
    assert_eq!(
        got,
        [
            f.deploy_prod_master,
            f.deploy_dev_feature,
            f.deploy_dev_master
        ]
    );
}

#[tokio::test]
async fn the_source_documents_filter_examples_work() {
    let f = fixture().await;
    let answer = f
        .app
        .get("/jdoe/apps/web/events?max_results=2&order=desc&filter_name=EventType&filter_event_type=build")
        .await;
    assert_ok(&answer);
    assert_eq!(
        ids(answer.json["events"].as_array().unwrap()),
        [f.build_feature, f.build_master]
    );
    for query in [
        "filter_name=Branch&filter_branch=master",
        "filter_name=Env&filter_env=dev",
        "filter_name=EventType&filter_event_type=deploy",
        "filter_name=BranchAndEventType&filter_branch=master&filter_event_type=deploy",
        "filter_name=EnvAndBranch&filter_branch=master&filter_env=dev",
    ] {
        let answer = f.app.get(&format!("/jdoe/apps/web/events?{query}")).await;
        assert_ok(&answer);
        assert!(
            !answer.json["events"].as_array().unwrap().is_empty(),
            "{query}"
        );
    }
}
