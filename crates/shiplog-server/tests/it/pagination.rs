//! Keyset pagination of every list call: page sizes, order, markers.

use serde_json::{Value, json};

use crate::helpers::{Answer, TestApp};
use crate::support::*;

/// An app `web` with `n` push events; their ids oldest first.
async fn app_with_events(n: usize) -> (TestApp, Vec<i64>) {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    let mut ids = Vec::new();
    for i in 0..n {
        let branch = if i % 2 == 0 { "even" } else { "odd" };
        ids.push(
            app.create_event("web", "pushEvent", json!({"branch": branch}))
                .await,
        );
    }
    (app, ids)
}

/// Every page of `path`, following markers; checks each page's marker.
async fn pages(app: &TestApp, path: &str, key: &str) -> Vec<Vec<Value>> {
    let mut pages = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let p = match &marker {
            Some(m) => format!("{path}{sep}marker={m}"),
            None => path.to_owned(),
        };
        let answer = app.get(&p).await;
        assert_ok(&answer);
        let items = answer.json[key].as_array().expect("items").clone();
        if !pages.is_empty() {
            assert!(!items.is_empty(), "a marker led to an empty page");
        }
        pages.push(items);
        match &answer.json["marker"] {
            Value::Null => return pages,
            Value::String(m) => {
                assert!(is_url_safe(m), "marker {m:?} is URL-safe");
                marker = Some(m.clone());
            }
            other => panic!("marker {other}"),
        }
        assert!(pages.len() < 500, "endless paging");
    }
}

fn sizes(pages: &[Vec<Value>]) -> Vec<usize> {
    pages.iter().map(Vec::len).collect()
}

fn flat_ids(pages: &[Vec<Value>]) -> Vec<i64> {
    pages.iter().flat_map(|p| ids(p)).collect()
}

async fn first_marker(app: &TestApp, path: &str) -> String {
    let answer = app.get(path).await;
    assert_ok(&answer);
    answer.json["marker"]
        .as_str()
        .unwrap_or_else(|| panic!("a marker: {}", answer.text))
        .to_owned()
}

#[tokio::test]
async fn events_page_newest_first_by_default_without_gaps_or_duplicates() {
    let (app, created) = app_with_events(25).await;
    let pages = pages(&app, "/jdoe/apps/web/events?max_results=7", "events").await;
    assert_eq!(sizes(&pages), [7, 7, 7, 4]);
    let mut expected = created.clone();
    expected.reverse();
    assert_eq!(flat_ids(&pages), expected);
}

#[tokio::test]
async fn events_page_oldest_first_with_order_asc() {
    let (app, created) = app_with_events(25).await;
    let pages = pages(
        &app,
        "/jdoe/apps/web/events?max_results=7&order=asc",
        "events",
    )
    .await;
    assert_eq!(sizes(&pages), [7, 7, 7, 4]);
    assert_eq!(flat_ids(&pages), created);
}

#[tokio::test]
async fn order_is_matched_in_any_letter_case() {
    let (app, created) = app_with_events(5).await;
    let mut newest_first = created.clone();
    newest_first.reverse();
    for (order, expected) in [
        ("ASC", &created),
        ("Asc", &created),
        ("DESC", &newest_first),
        ("desc", &newest_first),
    ] {
        let answer = app
            .get(&format!("/jdoe/apps/web/events?order={order}"))
            .await;
        assert_ok(&answer);
        assert_eq!(
            &ids(answer.json["events"].as_array().unwrap()),
            expected,
            "{order}"
        );
    }
}

#[tokio::test]
async fn an_unknown_order_is_bad_param() {
    let (app, _) = app_with_events(1).await;
    for order in ["up", "ascending", "1"] {
        let answer = app
            .get(&format!("/jdoe/apps/web/events?order={order}"))
            .await;
        assert_error(&answer, 400, "BadParam");
        assert!(answer.message().contains("order"), "{}", answer.text);
    }
}

#[tokio::test]
async fn exactly_two_pages_of_events_end_with_a_null_marker_not_an_empty_page() {
    let (app, created) = app_with_events(10).await;
    for order in ["asc", "desc"] {
        let pages = pages(
            &app,
            &format!("/jdoe/apps/web/events?max_results=5&order={order}"),
            "events",
        )
        .await;
        assert_eq!(sizes(&pages), [5, 5], "{order}");
        let mut got = flat_ids(&pages);
        got.sort();
        assert_eq!(got, created);
    }
}

#[tokio::test]
async fn a_single_full_page_has_a_null_marker() {
    let (app, _) = app_with_events(4).await;
    let answer = app.get("/jdoe/apps/web/events?max_results=4").await;
    assert_ok(&answer);
    assert_eq!(answer.json["events"].as_array().unwrap().len(), 4);
    assert_eq!(answer.json["marker"], Value::Null);
    assert!(answer.text.contains("\"marker\":null"), "{}", answer.text);
}

#[tokio::test]
async fn an_app_without_events_lists_an_empty_page_with_a_null_marker() {
    let (app, _) = app_with_events(0).await;
    let answer = app.get("/jdoe/apps/web/events").await;
    assert_ok(&answer);
    assert_eq!(
        answer.text,
        r#"{"app_name":"web","events":[],"marker":null}"#
    );
}

#[tokio::test]
async fn the_default_page_size_is_ten() {
    let (app, created) = app_with_events(12).await;
    let answer = app.get("/jdoe/apps/web/events").await;
    assert_ok(&answer);
    let got = ids(answer.json["events"].as_array().unwrap());
    assert_eq!(got.len(), 10);
    assert_eq!(got[0], *created.last().unwrap());
    assert!(answer.json["marker"].is_string());
}

#[tokio::test]
async fn a_page_size_over_one_hundred_is_treated_as_one_hundred() {
    let (app, created) = app_with_events(101).await;
    for size in ["1000", "101", "99999999999999999999"] {
        let answer = app
            .get(&format!("/jdoe/apps/web/events?max_results={size}"))
            .await;
        assert_ok(&answer);
        assert_eq!(
            answer.json["events"].as_array().unwrap().len(),
            100,
            "{size}"
        );
        assert!(answer.json["marker"].is_string());
    }
    let pages = pages(
        &app,
        "/jdoe/apps/web/events?max_results=1000&order=asc",
        "events",
    )
    .await;
    assert_eq!(sizes(&pages), [100, 1]);
    assert_eq!(flat_ids(&pages), created);
}

#[tokio::test]
async fn a_zero_negative_or_non_numeric_page_size_is_bad_param() {
    let (app, _) = app_with_events(3).await;
    for size in ["0", "-1", "abc", "1.5", "ten"] {
        for path in [
            "/jdoe/apps/web/events",
            "/jdoe/apps",
            "/jdoe/envs",
            "/jdoe/apps/web/envs",
        ] {
            let answer = app.get(&format!("{path}?max_results={size}")).await;
            assert_error(&answer, 400, "BadParam");
            assert!(
                answer.message().contains("max_results"),
                "{path} {size}: {}",
                answer.text
            );
        }
    }
}

#[tokio::test]
async fn a_page_size_of_one_walks_every_event() {
    let (app, created) = app_with_events(6).await;
    let pages = pages(
        &app,
        "/jdoe/apps/web/events?max_results=1&order=asc",
        "events",
    )
    .await;
    assert_eq!(sizes(&pages), [1; 6]);
    assert_eq!(flat_ids(&pages), created);
}

#[tokio::test]
async fn filtered_listings_page_too() {
    let (app, created) = app_with_events(15).await;
    let even: Vec<i64> = created.iter().copied().step_by(2).collect();
    let pages = pages(
        &app,
        "/jdoe/apps/web/events?max_results=3&order=asc&filter_name=Branch&filter_branch=even",
        "events",
    )
    .await;
    assert_eq!(sizes(&pages), [3, 3, 2]);
    assert_eq!(flat_ids(&pages), even);
}

#[tokio::test]
async fn an_event_created_while_paging_newest_first_neither_repeats_nor_hides_an_older_one() {
    let (app, created) = app_with_events(9).await;
    let first = app.get("/jdoe/apps/web/events?max_results=4").await;
    let mut seen = ids(first.json["events"].as_array().unwrap());
    let mut marker = first.json["marker"].as_str().unwrap().to_owned();
    app.create_event("web", "pushEvent", json!({})).await;
    loop {
        let answer = app
            .get(&format!(
                "/jdoe/apps/web/events?max_results=4&marker={marker}"
            ))
            .await;
        assert_ok(&answer);
        seen.extend(ids(answer.json["events"].as_array().unwrap()));
        match answer.json["marker"].as_str() {
            Some(m) => marker = m.to_owned(),
            None => break,
        }
    }
    let mut expected = created.clone();
    expected.reverse();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn an_event_created_while_paging_oldest_first_comes_last() {
    let (app, created) = app_with_events(6).await;
    let first = app
        .get("/jdoe/apps/web/events?max_results=3&order=asc")
        .await;
    let mut seen = ids(first.json["events"].as_array().unwrap());
    let mut marker = first.json["marker"].as_str().unwrap().to_owned();
    let new = app.create_event("web", "pushEvent", json!({})).await;
    loop {
        let answer = app
            .get(&format!(
                "/jdoe/apps/web/events?max_results=3&order=asc&marker={marker}"
            ))
            .await;
        assert_ok(&answer);
        seen.extend(ids(answer.json["events"].as_array().unwrap()));
        match answer.json["marker"].as_str() {
            Some(m) => marker = m.to_owned(),
            None => break,
        }
        assert!(seen.len() < 100, "endless paging");
    }
    let mut expected = created.clone();
    expected.push(new);
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn a_garbage_or_forged_marker_is_bad_param() {
    let (app, _) = app_with_events(6).await;
    let real = first_marker(&app, "/jdoe/apps/web/events?max_results=2").await;
    let mut tampered: Vec<char> = real.chars().collect();
    let last = tampered.len() / 2;
    tampered[last] = if tampered[last] == 'A' { 'B' } else { 'A' };
    let tampered: String = tampered.into_iter().collect();
    for marker in [
        "garbage".to_owned(),
        "AAAAAAAAAAAAAAAAAAAAAAAAAAA".to_owned(),
        "%00".to_owned(),
        "!!!".to_owned(),
        tampered,
        format!("{real}A"),
        real[..real.len() - 1].to_owned(),
        "1".to_owned(),
    ] {
        let answer = app
            .get(&format!(
                "/jdoe/apps/web/events?max_results=2&marker={marker}"
            ))
            .await;
        assert_error(&answer, 400, "BadParam");
        assert!(
            answer.message().contains("marker"),
            "{marker}: {}",
            answer.text
        );
    }
}

#[tokio::test]
async fn a_marker_of_another_app_is_bad_param() {
    let (app, _) = app_with_events(4).await;
    app.create_app("api").await;
    for _ in 0..4 {
        app.create_event("api", "pushEvent", json!({"branch": "even"}))
            .await;
    }
    let marker = first_marker(&app, "/jdoe/apps/api/events?max_results=2").await;
    let answer = app
        .get(&format!(
            "/jdoe/apps/web/events?max_results=2&marker={marker}"
        ))
        .await;
    assert_error(&answer, 400, "BadParam");
}

#[tokio::test]
async fn a_marker_of_another_filter_is_bad_param() {
    let (app, _) = app_with_events(8).await;
    let marker = first_marker(
        &app,
        "/jdoe/apps/web/events?max_results=2&filter_name=Branch&filter_branch=even",
    )
    .await;
    for query in [
        "filter_name=Branch&filter_branch=odd",
        "filter_name=EventType&filter_event_type=push",
        "",
    ] {
        let answer = app
            .get(&format!(
                "/jdoe/apps/web/events?max_results=2&marker={marker}&{query}"
            ))
            .await;
        assert_error(&answer, 400, "BadParam");
    }
    let same = app
        .get(&format!(
            "/jdoe/apps/web/events?max_results=2&marker={marker}&filter_name=branch&filter_branch=even"
        ))
        .await;
    assert_ok(&same);
}

#[tokio::test]
async fn a_marker_of_another_order_is_bad_param() {
    let (app, _) = app_with_events(6).await;
    let desc = first_marker(&app, "/jdoe/apps/web/events?max_results=2").await;
    let answer = app
        .get(&format!(
            "/jdoe/apps/web/events?max_results=2&order=asc&marker={desc}"
        ))
        .await;
    assert_error(&answer, 400, "BadParam");
    let asc = first_marker(&app, "/jdoe/apps/web/events?max_results=2&order=asc").await;
    let answer = app
        .get(&format!("/jdoe/apps/web/events?max_results=2&marker={asc}"))
        .await;
    assert_error(&answer, 400, "BadParam");
}

#[tokio::test]
async fn a_marker_of_another_account_is_bad_param() {
    let (app, _) = app_with_events(4).await;
    let bob = app.new_account("bob").await;
    assert_ok(
        &call_as(
            &app,
            &bob,
            reqwest::Method::PUT,
            "/bob/apps/web",
            Some(json!({})),
        )
        .await,
    );
    for _ in 0..4 {
        assert_ok(
            &call_as(
                &app,
                &bob,
                reqwest::Method::PUT,
                "/bob/apps/web/events/pushEvent",
                Some(json!({})),
            )
            .await,
        );
    }
    let bobs = call_as(
        &app,
        &bob,
        reqwest::Method::GET,
        "/bob/apps/web/events?max_results=2",
        None,
    )
    .await;
    let marker = bobs.json["marker"].as_str().expect("marker").to_owned();
    let answer = app
        .get(&format!(
            "/jdoe/apps/web/events?max_results=2&marker={marker}"
        ))
        .await;
    assert_error(&answer, 400, "BadParam");
}

#[tokio::test]
async fn a_marker_of_another_list_is_bad_param() {
    let (app, _) = app_with_events(4).await;
    for name in ["a1", "a2", "a3"] {
        app.create_app(name).await;
        assert_ok(
            &app.put(&format!("/jdoe/apps/web/envs/{name}-env"), json!({}))
                .await,
        );
    }
    let apps_marker = first_marker(&app, "/jdoe/apps?max_results=1").await;
    let envs_marker = first_marker(&app, "/jdoe/envs?max_results=1").await;
    let events_marker = first_marker(&app, "/jdoe/apps/web/events?max_results=1").await;
    let cases = [
        ("/jdoe/apps/web/events", &apps_marker),
        ("/jdoe/apps/web/events", &envs_marker),
        ("/jdoe/apps", &events_marker),
        ("/jdoe/apps", &envs_marker),
        ("/jdoe/envs", &apps_marker),
        ("/jdoe/apps/web/envs", &apps_marker),
    ];
    for (path, marker) in cases {
        let answer = app
            .get(&format!("{path}?max_results=1&marker={marker}"))
            .await;
        assert_error(&answer, 400, "BadParam");
    }
}

#[tokio::test]
async fn markers_use_only_url_safe_characters() {
    let (app, _) = app_with_events(40).await;
    let mut markers = Vec::new();
    for size in 1..=6 {
        for order in ["asc", "desc"] {
            let answer = app
                .get(&format!(
                    "/jdoe/apps/web/events?max_results={size}&order={order}"
                ))
                .await;
            markers.push(answer.json["marker"].as_str().unwrap().to_owned());
        }
    }
    for m in &markers {
        assert!(is_url_safe(m), "{m:?}");
        assert!(!m.contains(['+', '/', '=']), "{m:?}");
    }
}

async fn create_apps(app: &TestApp, names: &[&str]) {
    for name in names {
        app.create_app(name).await;
    }
}

const NAMES: &[&str] = &[
    "mango",
    "apple",
    "kiwi",
    "banana",
    "zucchini",
    "cherry",
    "date",
    "fig",
    "grape",
    "lemon",
    "nectarine",
    "orange",
    "pear",
];

fn names_of(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn apps_page_by_name_ascending_by_default() {
    let app = TestApp::spawn().await;
    create_apps(&app, NAMES).await;
    let pages = pages(&app, "/jdoe/apps?max_results=5", "apps").await;
    assert_eq!(sizes(&pages), [5, 5, 3]);
    let got: Vec<String> = pages.iter().flat_map(|p| names_of(p)).collect();
    let mut expected: Vec<String> = NAMES.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn apps_page_by_name_descending_on_request() {
    let app = TestApp::spawn().await;
    create_apps(&app, NAMES).await;
    let pages = pages(&app, "/jdoe/apps?max_results=4&order=DESC", "apps").await;
    assert_eq!(sizes(&pages), [4, 4, 4, 1]);
    let got: Vec<String> = pages.iter().flat_map(|p| names_of(p)).collect();
    let mut expected: Vec<String> = NAMES.iter().map(|s| s.to_string()).collect();
    expected.sort();
    expected.reverse();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn apps_of_exactly_two_pages_end_with_a_null_marker() {
    let app = TestApp::spawn().await;
    create_apps(&app, &NAMES[..6]).await;
    let pages = pages(&app, "/jdoe/apps?max_results=3", "apps").await;
    assert_eq!(sizes(&pages), [3, 3]);
}

#[tokio::test]
async fn envs_and_app_envs_page_by_name() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    app.create_app("api").await;
    for (i, name) in NAMES.iter().enumerate() {
        let owner = if i % 3 == 0 { "api" } else { "web" };
        assert_ok(
            &app.put(&format!("/jdoe/apps/{owner}/envs/{name}"), json!({}))
                .await,
        );
    }
    let pages_all = pages(&app, "/jdoe/envs?max_results=4", "envs").await;
    assert_eq!(sizes(&pages_all), [4, 4, 4, 1]);
    let got: Vec<String> = pages_all.iter().flat_map(|p| names_of(p)).collect();
    let mut expected: Vec<String> = NAMES.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(got, expected);

    let web_pages = pages(&app, "/jdoe/apps/web/envs?max_results=3&order=desc", "envs").await;
    let got: Vec<String> = web_pages.iter().flat_map(|p| names_of(p)).collect();
    let mut expected: Vec<String> = NAMES
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 3 != 0)
        .map(|(_, s)| s.to_string())
        .collect();
    expected.sort();
    expected.reverse();
    assert_eq!(got, expected);
    assert_eq!(sizes(&web_pages), [3, 3, 2]);
    for page in &web_pages {
        for env in page {
            assert_eq!(env["app_name"], "web");
        }
    }
}

#[tokio::test]
async fn a_marker_of_one_apps_envs_is_refused_for_another_apps_envs() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    app.create_app("api").await;
    for name in ["a", "b", "c"] {
        assert_ok(
            &app.put(&format!("/jdoe/apps/web/envs/w{name}"), json!({}))
                .await,
        );
        assert_ok(
            &app.put(&format!("/jdoe/apps/api/envs/x{name}"), json!({}))
                .await,
        );
    }
    let marker = first_marker(&app, "/jdoe/apps/web/envs?max_results=1").await;
    let answer: Answer = app
        .get(&format!(
            "/jdoe/apps/api/envs?max_results=1&marker={marker}"
        ))
        .await;
    assert_error(&answer, 400, "BadParam");
}

#[tokio::test]
async fn list_answers_carry_a_top_level_marker_key_in_every_list() {
    let (app, _) = app_with_events(1).await;
    for (path, keys) in [
        ("/jdoe/apps", vec!["apps", "marker"]),
        ("/jdoe/envs", vec!["envs", "marker"]),
        ("/jdoe/apps/web/envs", vec!["envs", "marker"]),
        (
            "/jdoe/apps/web/events",
            vec!["app_name", "events", "marker"],
        ),
    ] {
        let answer = app.get(path).await;
        assert_ok(&answer);
        assert_eq!(Ordered::parse(&answer.text).keys(), keys, "{path}");
    }
}

#[tokio::test]
async fn the_page_size_may_change_between_pages() {
    let (app, created) = app_with_events(9).await;
    let first = app
        .get("/jdoe/apps/web/events?max_results=2&order=asc")
        .await;
    let marker = first.json["marker"].as_str().unwrap().to_owned();
    let second = app
        .get(&format!(
            "/jdoe/apps/web/events?max_results=5&order=asc&marker={marker}"
        ))
        .await;
    assert_ok(&second);
    assert_eq!(
        ids(second.json["events"].as_array().unwrap()),
        created[2..7]
    );
}
