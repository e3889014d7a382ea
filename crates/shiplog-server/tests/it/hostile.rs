//! The bad-input catalogue (`docs/hostile-inputs.md`): one test per hostile
//! input not already covered elsewhere. Each checks the exact answer, that a
//! refused call changed nothing, and, where the input could be echoed, that
//! no header or URL carries it.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{Answer, TestApp};
use crate::support::*;

/// The injection attempt, percent-encoded for a path or query.
const CRLF: &str = "a%0d%0aX-Injected:%20yes";

/// A server with app `web` holding a push, a running build, and env `dev`
/// with one deploy; and the build's id.
async fn fixture() -> (TestApp, i64) {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    assert_ok(&app.put("/jdoe/apps/web/envs/dev", json!({})).await);
    let push = app.create_event("web", "pushEvent", push_body()).await;
    let build = app
        .create_event(
            "web",
            "buildEvent",
            with(build_body(), json!({"parent_event_id": push})),
        )
        .await;
    app.create_event("web", "deployEvent", json!({"env_name": "dev"}))
        .await;
    (app, build)
}

/// An answer read off a raw socket, for requests no HTTP client would send.
struct RawAnswer {
    status: u16,
    head: String,
    body: String,
}

impl RawAnswer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    }
}

/// Writes `request` as is (the caller adds `Connection: close`) and reads
/// the whole answer; `half_close` shuts the write side after sending.
async fn raw_with(app: &TestApp, request: &[u8], half_close: bool) -> RawAnswer {
    let mut stream = tokio::net::TcpStream::connect(app.server.addr)
        .await
        .expect("connect");
    stream.write_all(request).await.expect("write");
    if half_close {
        stream.shutdown().await.expect("shutdown");
    }
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut out))
        .await
        .expect("the server answers in time")
        .expect("read");
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("an HTTP answer: {text:?}"));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a status line: {head:?}"));
    RawAnswer {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

async fn raw(app: &TestApp, request: &[u8]) -> RawAnswer {
    raw_with(app, request, false).await
}

/// `METHOD target HTTP/1.1` with the test token as a bearer header and an
/// empty body.
fn request_line(app: &TestApp, method: &str, target: &str) -> Vec<u8> {
    format!(
        "{method} {target} HTTP/1.1\r\nHost: shiplog\r\nConnection: close\r\n\
         Authorization: Bearer {}\r\nContent-Length: 0\r\n\r\n",
        app.token
    )
    .into_bytes()
}

/// No header named after the injection, and no raw CR or LF in a header
/// value or in the body (JSON escapes them).
#[track_caller]
fn assert_not_injected(answer: &Answer) {
    assert!(
        !answer.headers.contains_key("x-injected"),
        "injected header: {:?}",
        answer.headers
    );
    for (name, value) in &answer.headers {
        let bytes = value.as_bytes();
        assert!(
            !bytes.contains(&b'\r') && !bytes.contains(&b'\n'),
            "{name}: {value:?}"
        );
    }
    assert!(
        !answer.text.contains('\r') && !answer.text.contains('\n'),
        "raw CR/LF in the body: {:?}",
        answer.text
    );
}

/// A body sent as is to `path`.
async fn send_bytes(app: &TestApp, method: Method, path: &str, body: &[u8]) -> Answer {
    app.send_raw(method, &app.url(path), Some(body)).await
}

#[tokio::test]
async fn a_chunked_body_over_one_mebibyte_without_a_length_is_payload_too_large() {
    let (app, _) = fixture().await;
    let before = snapshot(&app).await;
    let mut request = format!(
        "PUT /jdoe/apps/web/events/pushEvent HTTP/1.1\r\nHost: shiplog\r\n\
         Connection: close\r\nTransfer-Encoding: chunked\r\n\
         Authorization: Bearer {}\r\n\r\n",
        app.token
    )
    .into_bytes();
    // 20 chunks of 64 KiB of spaces: 1.25 MiB, valid JSON whitespace but for
    // its size.
    for _ in 0..20 {
        request.extend_from_slice(b"10000\r\n");
        request.extend(std::iter::repeat_n(b' ', 0x10000));
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    let answer = raw(&app, &request).await;
    assert_eq!(answer.status, 413, "{}", answer.body);
    assert_eq!(answer.code(), "PayloadTooLarge");
    assert!(answer.body.contains("1048576"), "{}", answer.body);
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn a_content_length_claiming_more_than_one_mebibyte_is_refused_before_reading() {
    let (app, _) = fixture().await;
    let before = snapshot(&app).await;
    let request = format!(
        "PUT /jdoe/apps/web/events/pushEvent HTTP/1.1\r\nHost: shiplog\r\n\
         Connection: close\r\nContent-Length: 99999999999\r\n\
         Authorization: Bearer {}\r\n\r\n{{}}",
        app.token
    );
    let answer = raw(&app, request.as_bytes()).await;
    assert_eq!(answer.status, 413, "{}", answer.body);
    assert_eq!(answer.code(), "PayloadTooLarge");
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn a_body_cut_short_of_its_content_length_is_malformed_request() {
    let (app, _) = fixture().await;
    let before = snapshot(&app).await;
    let request = format!(
        "PUT /jdoe/apps/web/events/pushEvent HTTP/1.1\r\nHost: shiplog\r\n\
         Connection: close\r\nContent-Length: 40\r\n\
         Authorization: Bearer {}\r\n\r\n{{\"branch\":\"ma",
        app.token
    );
    let answer = raw_with(&app, request.as_bytes(), true).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(answer.code(), "MalformedRequest");
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn json_nested_ten_thousand_levels_is_malformed_request() {
    let (app, build) = fixture().await;
    let before = snapshot(&app).await;
    let arrays = format!(
        "{{\"branch\":\"m\",\"x\":{}{}}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let objects = format!("{}1{}", "{\"a\":".repeat(10_000), "}".repeat(10_000));
    let tags = format!("{{\"tags\":{}{}}}", "[".repeat(10_000), "]".repeat(10_000));
    for body in [&arrays, &objects, &tags] {
        for (method, path) in [
            (Method::PUT, "/jdoe/apps/web/events/pushEvent".to_owned()),
            (Method::PUT, "/jdoe/apps/web/events/buildEvent".to_owned()),
            (Method::POST, format!("/jdoe/apps/web/events/{build}")),
            (Method::PUT, "/jdoe/apps/deep".to_owned()),
            (Method::PUT, "/jdoe/apps/web/envs/deep".to_owned()),
        ] {
            let answer = send_bytes(&app, method, &path, body.as_bytes()).await;
            assert_error(&answer, 400, "MalformedRequest");
            assert!(answer.message().contains("recursion"), "{}", answer.text);
        }
    }
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn invalid_utf8_inside_a_json_string_is_malformed_request() {
    let (app, build) = fixture().await;
    let before = snapshot(&app).await;
    for body in [
        &b"{\"branch\":\"\xff\"}"[..],
        b"{\"commit_msg\":\"ok \xc3\"}",
        b"{\"branch\":\"\xc0\xaf\"}",
        b"{\"branch\":\"\xed\xa0\x80\"}",
        b"{\"branch\":\"\\ud800\"}",
        b"{\"description\":\"\xfe\"}",
        b"{\"build_status\":\"Runn\xffing\"}",
    ] {
        for (method, path) in [
            (Method::PUT, "/jdoe/apps/web/events/pushEvent".to_owned()),
            (Method::POST, format!("/jdoe/apps/web/events/{build}")),
            (Method::PUT, "/jdoe/apps/utf".to_owned()),
            (Method::PUT, "/jdoe/apps/web/envs/utf".to_owned()),
        ] {
            let answer = send_bytes(&app, method, &path, body).await;
            assert_error(&answer, 400, "MalformedRequest");
        }
    }
    assert_eq!(snapshot(&app).await, before);
}

/// The token is valid, so the undecodable path is what is wrong: 400.
#[tokio::test]
async fn a_percent_encoded_invalid_utf8_path_segment_is_refused_without_effect() {
    let (app, _) = fixture().await;
    let before = snapshot(&app).await;
    for (method, path) in [
        (Method::PUT, "/jdoe/apps/%ff"),
        (Method::GET, "/jdoe/apps/%ff"),
        (Method::DELETE, "/jdoe/apps/w%ffeb"),
        (Method::PUT, "/jdoe/apps/%ff/events/pushEvent"),
        (Method::GET, "/jdoe/apps/%c3/events"),
        (Method::POST, "/jdoe/apps/web/events/%ff"),
        (Method::PUT, "/jdoe/apps/web/envs/%ff"),
        (Method::DELETE, "/jdoe/envs/%ff"),
        (Method::GET, "/%ff/apps"),
    ] {
        let answer = app.call(method.clone(), path, Some(json!({}))).await;
        assert_error(&answer, 400, "BadParam");
    }
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn a_page_size_too_large_for_any_integer_type_is_still_one_hundred() {
    let (app, _) = fixture().await;
    let answer = app
        .get(&format!(
            "/jdoe/apps/web/events?max_results={}",
            "9".repeat(45)
        ))
        .await;
    assert_ok(&answer);
    assert_eq!(answer.json["events"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn numbers_too_large_for_an_event_id_are_refused_not_rounded() {
    let (app, build) = fixture().await;
    let before = snapshot(&app).await;
    for (body, code) in [
        (r#"{"parent_event_id": 1e400}"#, "MalformedRequest"),
        (r#"{"auto_build": 1e400}"#, "MalformedRequest"),
        (r#"{"build_id": -1e400}"#, "MalformedRequest"),
        (r#"{"parent_event_id": 99999999999999999999}"#, "BadParam"),
        (r#"{"parent_event_id": "9223372036854775808"}"#, "BadParam"),
        (r#"{"parent_event_id": 9223372036854775807}"#, "BadParam"),
        (r#"{"parent_event_id": 1.0}"#, "BadParam"),
        (r#"{"parent_event_id": 1e3}"#, "BadParam"),
    ] {
        let answer = send_bytes(
            &app,
            Method::PUT,
            "/jdoe/apps/web/events/buildEvent",
            body.as_bytes(),
        )
        .await;
        assert_error(&answer, 400, code);
        if code == "BadParam" {
            assert!(
                answer.message().contains("parent_event_id"),
                "{}",
                answer.text
            );
        }
    }
    for id in ["99999999999999999999", "9223372036854775808", "0", "-1"] {
        let answer = app
            .post(
                &format!("/jdoe/apps/web/events/{id}"),
                json!({"build_status": "Queued"}),
            )
            .await;
        assert_error(&answer, 404, "NotFound");
        assert_eq!(answer.message(), format!("Event {id} not found"));
    }
    assert_eq!(snapshot(&app).await, before);
    // The build itself was untouched and still takes an update.
    let answer = app
        .post(
            &format!("/jdoe/apps/web/events/{build}"),
            json!({"build_status": "Queued"}),
        )
        .await;
    assert_ok(&answer);
}

#[tokio::test]
async fn a_build_id_sent_as_a_number_beyond_64_bits_is_kept_digit_for_digit() {
    let (app, _) = fixture().await;
    let before = snapshot(&app).await;
    let answer = send_bytes(
        &app,
        Method::PUT,
        "/jdoe/apps/web/events/buildEvent",
        br#"{"build_id": 123456789012345678901234567890}"#,
    )
    .await;
    if answer.status == 200 {
        let id = created_id(&answer);
        assert_eq!(
            event(&app, "web", id).await["build_id"],
            "123456789012345678901234567890"
        );
    } else {
        assert_error(&answer, 400, "BadParam");
        assert_eq!(snapshot(&app).await, before);
    }
}

#[tokio::test]
async fn timestamps_outside_the_rfc3339_range_are_bad_param() {
    let (app, build) = fixture().await;
    let before = snapshot(&app).await;
    for ts in [
        "10000-01-01T00:00:00Z",
        "+002016-08-15T22:22:22Z",
        "-0001-01-01T00:00:00Z",
        "2016-08-15T22:22:22+24:00",
        "2016-08-15T22:22:22-24:00",
        "2016-08-15T22:22:22+99:99",
        "2016-08-15T25:00:00Z",
        "2016-02-30T00:00:00Z",
        "2016-08-15T22:22:22.Z",
    ] {
        let answer = app
            .put(
                "/jdoe/apps/web/events/buildEvent",
                json!({"build_start": ts}),
            )
            .await;
        assert_eq!(answer.status, 400, "{ts}: {}", answer.text);
        assert_error(&answer, 400, "BadParam");
        assert!(answer.message().contains("build_start"), "{ts}");
        let answer = app
            .post(
                &format!("/jdoe/apps/web/events/{build}"),
                json!({"build_end": ts, "build_status": "Success"}),
            )
            .await;
        assert_error(&answer, 400, "BadParam");
        assert!(answer.message().contains("build_end"), "{ts}");
    }
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn the_first_and_last_instants_of_four_digit_years_round_trip() {
    let (app, _) = fixture().await;
    for (sent, stored) in [
        ("0000-01-01T00:00:00Z", "0000-01-01T00:00:00.000Z"),
        ("9999-12-31T23:59:59Z", "9999-12-31T23:59:59.000Z"),
        ("9999-12-31T23:59:59.999999999Z", "9999-12-31T23:59:59.999Z"),
        ("2016-08-15T22:22:22+23:59", "2016-08-14T22:23:22.000Z"),
        // RFC 3339 puts no bound on fractional digits: the 10th is dropped.
        (
            "2016-08-15T22:22:22.1234567890Z",
            "2016-08-15T22:22:22.123Z",
        ),
    ] {
        let id = app
            .create_event("web", "buildEvent", json!({"build_start": sent}))
            .await;
        let e = event(&app, "web", id).await;
        assert_eq!(e["build_start"], stored, "{sent}");
    }
    assert_ok(&app.get("/jdoe/apps").await);
}

#[tokio::test]
async fn an_offset_that_carries_an_instant_past_year_9999_is_bad_param() {
    let (app, build) = fixture().await;
    let before = snapshot(&app).await;
    let answer = app
        .put(
            "/jdoe/apps/web/events/buildEvent",
            json!({"build_start": "9999-12-31T23:59:59-01:00"}),
        )
        .await;
    assert_error(&answer, 400, "BadParam");
    let answer = app
        .post(
            &format!("/jdoe/apps/web/events/{build}"),
            json!({"build_end": "9999-12-31T23:59:59-01:00"}),
        )
        .await;
    assert_error(&answer, 400, "BadParam");
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn an_offset_that_carries_an_instant_before_year_0000_is_bad_param() {
    let (app, _) = fixture().await;
    let before = snapshot(&app).await;
    let answer = app
        .put(
            "/jdoe/apps/web/events/buildEvent",
            json!({"build_start": "0000-01-01T00:00:00+01:00"}),
        )
        .await;
    assert_error(&answer, 400, "BadParam");
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn dot_dot_and_slashes_in_names_reach_no_other_resource() {
    let (app, _) = fixture().await;
    let before = snapshot(&app).await;
    for (method, target, status, code) in [
        ("GET", "/jdoe/apps/..", 404, "NotFound"),
        ("PUT", "/jdoe/apps/..", 400, "BadParam"),
        ("DELETE", "/jdoe/apps/..", 404, "NotFound"),
        ("PUT", "/jdoe/apps/.", 400, "BadParam"),
        ("PUT", "/jdoe/apps/../etc", 404, "NotFound"),
        ("GET", "/jdoe/apps/../../../etc/passwd", 404, "NotFound"),
        ("PUT", "/jdoe/apps/a/b", 404, "NotFound"),
        ("PUT", "/jdoe/apps/%2e%2e%2fetc", 400, "BadParam"),
        ("GET", "/jdoe/apps/%2e%2e%2fetc", 404, "NotFound"),
        ("PUT", "/jdoe/apps/%2e%2e", 400, "BadParam"),
        ("PUT", "/jdoe/apps/web%2f..%2f..%2fetc", 400, "BadParam"),
        ("PUT", "/jdoe/apps/web/envs/..", 400, "BadParam"),
        ("PUT", "/jdoe/apps/web/envs/%2e%2e%2fetc", 400, "BadParam"),
        ("GET", "/jdoe/envs/..", 404, "NotFound"),
        ("DELETE", "/jdoe/envs/%2e%2e%2fdev", 404, "NotFound"),
        ("PUT", "/jdoe/apps/../events/pushEvent", 404, "NotFound"),
        ("GET", "/../jdoe/apps", 404, "NotFound"),
    ] {
        let answer = raw(&app, &request_line(&app, method, target)).await;
        assert_eq!(answer.status, status, "{method} {target}: {}", answer.body);
        assert_eq!(answer.code(), code, "{method} {target}: {}", answer.body);
    }
    let answer = app
        .put(
            "/jdoe/apps/web/events/deployEvent",
            json!({"env_name": ".."}),
        )
        .await;
    assert_error(&answer, 400, "BadParam");
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn sql_metacharacters_in_text_are_stored_and_matched_as_plain_text() {
    let (app, _) = fixture().await;
    let before = all_events(&app, "web").await;
    let hostile = [
        "'; DROP TABLE events; --",
        "Robert'); DROP TABLE apps;--",
        "\" OR \"\"=\"",
        "x' OR '1'='1",
        "\\'; SELECT 1; --",
        "%_%",
        "$1",
        "?",
    ];
    let mut created = Vec::new();
    for text in hostile {
        let id = app
            .create_event(
                "web",
                "pushEvent",
                json!({"branch": text, "commit_msg": text, "author_name": text}),
            )
            .await;
        created.push(id);
        let e = event(&app, "web", id).await;
        assert_eq!(e["branch"], text);
        assert_eq!(e["commit_msg"], text);
    }
    for (text, id) in hostile.iter().zip(&created) {
        let encoded: String = form_urlencoded::byte_serialize(text.as_bytes()).collect();
        let answer = app
            .get(&format!(
                "/jdoe/apps/web/events?filter_name=Branch&filter_branch={encoded}"
            ))
            .await;
        assert_ok(&answer);
        assert_eq!(
            ids(answer.json["events"].as_array().unwrap()),
            [*id],
            "{text}"
        );
    }
    let answer = app
        .put(
            "/jdoe/apps/web/envs/sql",
            json!({"description": "'; DROP TABLE envs; --", "tags": ["' OR 1=1"],
                   "vars": [{"name": "'", "value": "\"; --"}]}),
        )
        .await;
    assert_ok(&answer);
    assert_eq!(answer.json["env"]["description"], "'; DROP TABLE envs; --");
    let after = all_events(&app, "web").await;
    assert_eq!(after.len(), before.len() + hostile.len());
    assert_eq!(after[..before.len()], before[..]);
}

#[tokio::test]
async fn sql_metacharacters_in_names_markers_and_filters_are_refused_without_effect() {
    let (app, _) = fixture().await;
    let before = snapshot(&app).await;
    let sql = "%27%3B%20DROP%20TABLE%20events%3B%20--";
    let or = "x%27%20OR%20%271%27%3D%271";
    for (method, path, status, code) in [
        (Method::PUT, format!("/jdoe/apps/{sql}"), 400, "BadParam"),
        (Method::PUT, format!("/jdoe/apps/web{or}"), 400, "BadParam"),
        (Method::GET, format!("/jdoe/apps/{or}"), 404, "NotFound"),
        (Method::DELETE, format!("/jdoe/apps/{or}"), 404, "NotFound"),
        (
            Method::PUT,
            format!("/jdoe/apps/{or}/events/pushEvent"),
            404,
            "NotFound",
        ),
        (
            Method::PUT,
            format!("/jdoe/apps/web/envs/{sql}"),
            400,
            "BadParam",
        ),
        (Method::GET, format!("/jdoe/envs/{or}"), 404, "NotFound"),
        (Method::DELETE, format!("/jdoe/envs/{or}"), 404, "NotFound"),
        (Method::GET, format!("/{or}/apps"), 403, "AccessDenied"),
        (
            Method::GET,
            format!("/jdoe/apps/web/events?marker={sql}"),
            400,
            "BadParam",
        ),
        (
            Method::GET,
            format!("/jdoe/apps?marker={or}"),
            400,
            "BadParam",
        ),
        (
            Method::GET,
            format!("/jdoe/apps/web/events?filter_name=Env&filter_env={or}"),
            404,
            "NotFound",
        ),
        (
            Method::GET,
            format!("/jdoe/apps/web/events?filter_event_type={or}"),
            400,
            "BadParam",
        ),
        (
            Method::GET,
            format!("/jdoe/apps/web/events?filter_name={sql}"),
            400,
            "BadParam",
        ),
        (
            Method::GET,
            format!("/jdoe/apps/web/events?order=asc{sql}"),
            400,
            "BadParam",
        ),
        (
            Method::GET,
            format!("/jdoe/apps/web/events?max_results=1{sql}"),
            400,
            "BadParam",
        ),
    ] {
        let body = (method == Method::PUT).then(|| json!({}));
        let answer = app.call(method.clone(), &path, body).await;
        assert_error(&answer, status, code);
    }
    let answer = app
        .put(
            "/jdoe/apps/web/events/deployEvent",
            json!({"env_name": "dev'; DROP TABLE envs; --"}),
        )
        .await;
    assert_error(&answer, 400, "BadParam");
    let answer = app
        .get("/jdoe/apps/web/events?filter_name=Branch&filter_branch=x%27%20OR%20%271%27%3D%271")
        .await;
    assert_ok(&answer);
    assert_eq!(
        answer.json["events"],
        json!([]),
        "no row matches everything"
    );
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn crlf_in_a_path_or_query_value_is_never_echoed_into_a_header() {
    let (app, _) = fixture().await;
    let before = snapshot(&app).await;
    for (method, path, status, code) in [
        (Method::GET, format!("/jdoe/apps/{CRLF}"), 404, "NotFound"),
        (Method::PUT, format!("/jdoe/apps/{CRLF}"), 400, "BadParam"),
        (
            Method::DELETE,
            format!("/jdoe/apps/{CRLF}"),
            404,
            "NotFound",
        ),
        (
            Method::PUT,
            format!("/jdoe/apps/{CRLF}/events/pushEvent"),
            404,
            "NotFound",
        ),
        (Method::GET, format!("/jdoe/envs/{CRLF}"), 404, "NotFound"),
        (
            Method::PUT,
            format!("/jdoe/apps/web/envs/{CRLF}"),
            400,
            "BadParam",
        ),
        (Method::GET, format!("/{CRLF}/apps"), 403, "AccessDenied"),
        (
            Method::GET,
            format!("/jdoe/apps/web/events?filter_name=Env&filter_env={CRLF}"),
            404,
            "NotFound",
        ),
        (
            Method::GET,
            format!("/jdoe/apps/web/events?filter_event_type={CRLF}"),
            400,
            "BadParam",
        ),
        (
            Method::GET,
            format!("/jdoe/apps/web/events?filter_name={CRLF}"),
            400,
            "BadParam",
        ),
        (
            Method::GET,
            format!("/jdoe/apps/web/events?marker={CRLF}"),
            400,
            "BadParam",
        ),
        (
            Method::GET,
            format!("/jdoe/apps/web/events?order={CRLF}"),
            400,
            "BadParam",
        ),
        (
            Method::GET,
            format!("/jdoe/nowhere/{CRLF}"),
            404,
            "NotFound",
        ),
    ] {
        let body = (method == Method::PUT).then(|| json!({}));
        let answer = app.call(method.clone(), &path, body).await;
        assert_error(&answer, status, code);
        assert_not_injected(&answer);
    }
    // A filter value that matches nothing is an ordinary empty page.
    let answer = app
        .get(&format!(
            "/jdoe/apps/web/events?filter_name=Branch&filter_branch={CRLF}"
        ))
        .await;
    assert_ok(&answer);
    assert_eq!(answer.json["events"], json!([]));
    assert_not_injected(&answer);
    let answer = app
        .send_raw(
            Method::GET,
            &format!("{}/jdoe/apps?apiToken={CRLF}", app.base),
            None,
        )
        .await;
    assert_error(&answer, 401, "AuthenticationFailed");
    assert_not_injected(&answer);
    let answer = app
        .put(
            "/jdoe/apps/web/events/deployEvent",
            json!({"env_name": "a\r\nX-Injected: yes"}),
        )
        .await;
    assert_error(&answer, 400, "BadParam");
    assert_not_injected(&answer);
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn api_urls_carry_only_validated_names_whatever_the_request_held() {
    let (app, _) = fixture().await;
    let expected_app = format!("{}/jdoe/apps/api", app.base);
    let expected_env = format!("{}/jdoe/envs/stage", app.base);
    let page = |path: &str| format!("{}/-/ui{path}", app.base);
    let answer = app
        .put(
            &format!("/jdoe/apps/api?name={CRLF}&x={CRLF}"),
            json!({"name": "evil\r\nX-Injected: yes", "description": "line\r\nX-Injected: yes"}),
        )
        .await;
    assert_ok(&answer);
    assert_not_injected(&answer);
    assert_eq!(answer.json["app"]["api_url"], expected_app);
    assert_eq!(answer.json["app"]["html_url"], page("/jdoe/apps/api"));
    let answer = app
        .put(
            &format!("/jdoe/apps/api/envs/stage?name={CRLF}"),
            json!({"name": "evil\r\n", "tags": ["a\r\nX-Injected: yes"]}),
        )
        .await;
    assert_ok(&answer);
    assert_not_injected(&answer);
    assert_eq!(answer.json["env"]["api_url"], expected_env);
    assert_eq!(answer.json["env"]["html_url"], page("/jdoe/envs/stage"));
    for (path, key) in [("/jdoe/apps", "apps"), ("/jdoe/envs", "envs")] {
        let answer = app.get(path).await;
        assert_ok(&answer);
        assert_not_injected(&answer);
        for item in answer.json[key].as_array().unwrap() {
            for field in ["api_url", "html_url"] {
                let url = item[field].as_str().unwrap();
                assert!(
                    url.starts_with(&app.base)
                        && url[app.base.len()..].bytes().all(|b| {
                            b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.')
                        }),
                    "{field}: {url}"
                );
            }
        }
    }
}

#[tokio::test]
async fn a_raw_cr_lf_or_nul_in_the_request_line_is_refused_by_the_http_layer() {
    let (app, _) = fixture().await;
    let before = snapshot(&app).await;
    for target in [
        "/jdoe/apps/a\r\nX-Injected: yes",
        "/jdoe/apps/a\nX-Injected: yes",
        "/jdoe/apps/a\0b",
        "/jdoe/apps/a b",
    ] {
        let answer = raw(&app, &request_line(&app, "PUT", target)).await;
        assert_eq!(answer.status, 400, "{target:?}: {}", answer.head);
        assert!(
            !answer.head.to_ascii_lowercase().contains("x-injected"),
            "{}",
            answer.head
        );
    }
    assert_ok(&app.get("/jdoe/apps/web").await);
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn nul_bytes_are_refused_wherever_text_enters() {
    let (app, build) = fixture().await;
    let before = snapshot(&app).await;
    for (method, path, body, status, code) in [
        (
            Method::PUT,
            "/jdoe/apps/nul".to_owned(),
            json!({"description": "a\u{0}"}),
            400,
            "BadParam",
        ),
        (
            Method::PUT,
            "/jdoe/apps/web/envs/nul".to_owned(),
            json!({"description": "\u{0}"}),
            400,
            "BadParam",
        ),
        (
            Method::PUT,
            "/jdoe/apps/web/envs/nul".to_owned(),
            json!({"tags": ["a\u{0}b"]}),
            400,
            "BadParam",
        ),
        (
            Method::PUT,
            "/jdoe/apps/web/envs/nul".to_owned(),
            json!({"vars": [{"name": "K\u{0}", "value": "v"}]}),
            400,
            "BadParam",
        ),
        (
            Method::PUT,
            "/jdoe/apps/web/events/deployEvent".to_owned(),
            json!({"env_name": "dev\u{0}"}),
            400,
            "BadParam",
        ),
        (
            Method::PUT,
            "/jdoe/apps/web/events/buildEvent".to_owned(),
            json!({"build_status": "Running\u{0}"}),
            400,
            "BadParam",
        ),
        (
            Method::POST,
            format!("/jdoe/apps/web/events/{build}"),
            json!({"release_version": "v1\u{0}"}),
            400,
            "BadParam",
        ),
        (
            Method::PUT,
            "/jdoe/apps/web/envs/n%00l".to_owned(),
            json!({}),
            400,
            "BadParam",
        ),
        (
            Method::PUT,
            format!("/jdoe/apps/web/events/{build}%00"),
            json!({}),
            405,
            "UnsupportedHttpMethod",
        ),
        (
            Method::POST,
            format!("/jdoe/apps/web/events/{build}%00"),
            json!({"build_status": "Queued"}),
            404,
            "NotFound",
        ),
        (
            Method::GET,
            "/jdoe/apps/web/events?filter_name=Env&filter_env=dev%00".to_owned(),
            Value::Null,
            400,
            "BadParam",
        ),
        (
            Method::GET,
            "/jdoe/apps/web/events?filter_event_type=Push%00".to_owned(),
            Value::Null,
            400,
            "BadParam",
        ),
    ] {
        let body = (!body.is_null()).then_some(body);
        let answer = app.call(method.clone(), &path, body).await;
        assert_error(&answer, status, code);
    }
    let answer = send_bytes(
        &app,
        Method::PUT,
        "/jdoe/apps/web/events/pushEvent",
        b"{\"branch\":\"m\"}\0",
    )
    .await;
    assert_error(&answer, 400, "MalformedRequest");
    let answer = app
        .send_raw(
            Method::PUT,
            &format!("{}/jdoe/apps/nul?apiToken={}%00", app.base, app.token),
            Some(b"{}"),
        )
        .await;
    assert_error(&answer, 401, "AuthenticationFailed");
    assert_eq!(snapshot(&app).await, before);
}

/// A URL, extra headers and a body.
type TokenCase = (String, Vec<(&'static str, String)>, Vec<u8>);

#[tokio::test]
async fn a_token_in_a_place_the_contract_does_not_name_is_authentication_failed() {
    let (app, _) = fixture().await;
    let before = snapshot(&app).await;
    let url = format!("{}/jdoe/apps/stolen", app.base);
    let token = app.token.clone();
    let in_body = json!({"apiToken": token, "description": "x"}).to_string();
    let cases: Vec<TokenCase> = vec![
        (url.clone(), vec![], in_body.into_bytes()),
        (
            url.clone(),
            vec![("Cookie", format!("apiToken={token}"))],
            b"{}".to_vec(),
        ),
        (
            url.clone(),
            vec![("X-Api-Token", token.clone())],
            b"{}".to_vec(),
        ),
        (
            url.clone(),
            vec![("apiToken", token.clone())],
            b"{}".to_vec(),
        ),
        (
            url.clone(),
            vec![("Authorization", token.clone())],
            b"{}".to_vec(),
        ),
        (
            url.clone(),
            vec![("Authorization", format!("Token {token}"))],
            b"{}".to_vec(),
        ),
        (format!("{url}?apitoken={token}"), vec![], b"{}".to_vec()),
        (format!("{url}?APITOKEN={token}"), vec![], b"{}".to_vec()),
        (format!("{url}?api_token={token}"), vec![], b"{}".to_vec()),
        (format!("{url}?apiToken=%20{token}"), vec![], b"{}".to_vec()),
        (format!("{url}?apiToken={token}x"), vec![], b"{}".to_vec()),
        (format!("{url};apiToken={token}"), vec![], b"{}".to_vec()),
        (
            format!("{}/jdoe/apps/{token}", app.base),
            vec![],
            b"{}".to_vec(),
        ),
    ];
    for (url, headers, body) in cases {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let answer = send_with_headers(&app, Method::PUT, &url, &headers, Some(&body)).await;
        assert_error(&answer, 401, "AuthenticationFailed");
    }
    // The token where the account name goes names an account it does not own.
    let answer = app.put(&format!("/{token}/apps/stolen"), json!({})).await;
    assert_error(&answer, 403, "AccessDenied");
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn a_wrong_bearer_token_is_not_rescued_by_a_right_query_token() {
    let (app, _) = fixture().await;
    let before = snapshot(&app).await;
    let answer = send_with_headers(
        &app,
        Method::PUT,
        &app.url("/jdoe/apps/rescued"),
        &[("Authorization", "Bearer wrong")],
        Some(b"{}"),
    )
    .await;
    assert_error(&answer, 401, "AuthenticationFailed");
    assert_eq!(snapshot(&app).await, before);
    // A header of another scheme is no bearer token: the query token counts.
    let answer = send_with_headers(
        &app,
        Method::GET,
        &app.url("/jdoe/apps/web"),
        &[("Authorization", "Basic amRvZTpwYXNz")],
        None,
    )
    .await;
    assert_ok(&answer);
}

#[tokio::test]
async fn repeated_query_keys_take_their_first_value() {
    let (app, _) = fixture().await;
    let before = snapshot(&app).await;
    let base = &app.base;
    let token = &app.token;
    let answer = app
        .send_raw(
            Method::PUT,
            &format!("{base}/jdoe/apps/twice?apiToken=wrong&apiToken={token}"),
            Some(b"{}"),
        )
        .await;
    assert_error(&answer, 401, "AuthenticationFailed");
    assert_eq!(snapshot(&app).await, before);
    let answer = app
        .send_raw(
            Method::GET,
            &format!("{base}/jdoe/apps/web?apiToken={token}&apiToken=wrong"),
            None,
        )
        .await;
    assert_ok(&answer);
    let answer = app
        .get("/jdoe/apps/web/events?max_results=1&max_results=100")
        .await;
    assert_eq!(answer.json["events"].as_array().unwrap().len(), 1);
    let answer = app.get("/jdoe/apps/web/events?order=asc&order=desc").await;
    let listed = ids(answer.json["events"].as_array().unwrap());
    assert!(listed.windows(2).all(|w| w[0] < w[1]), "asc: {listed:?}");
    let answer = app
        .get("/jdoe/apps/web/events?filter_name=EventType&filter_name=Branch&filter_event_type=Deploy&filter_event_type=Push")
        .await;
    assert_ok(&answer);
    let events = answer.json["events"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["event_type"], "DEPLOY");
    let answer = app
        .get("/jdoe/apps/web/events?max_results=abc&max_results=5")
        .await;
    assert_error(&answer, 400, "BadParam");
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn a_query_string_up_to_64_kib_is_read_and_a_longer_one_refused_by_the_http_layer() {
    let (app, _) = fixture().await;
    let before = snapshot(&app).await;
    let get = |pad: usize| {
        format!(
            "GET /jdoe/apps/web/events?pad={}&apiToken={} HTTP/1.1\r\nHost: shiplog\r\n\
             Connection: close\r\n\r\n",
            "x".repeat(pad),
            app.token
        )
    };
    let answer = raw(&app, get(60_000).as_bytes()).await;
    assert_eq!(answer.status, 200, "{}", answer.head);
    assert_eq!(answer.json()["events"].as_array().map(Vec::len), Some(3));
    let answer = raw(&app, get(70_000).as_bytes()).await;
    assert_eq!(answer.status, 414, "{}", answer.head);
    let answer = raw(&app, get(1_000_000).as_bytes()).await;
    assert_eq!(answer.status, 431, "{}", answer.head);
    let put = format!(
        "PUT /jdoe/apps/long?pad={} HTTP/1.1\r\nHost: shiplog\r\nConnection: close\r\n\
         Authorization: Bearer {}\r\nContent-Length: 2\r\n\r\n{{}}",
        "x".repeat(70_000),
        app.token
    );
    let answer = raw(&app, put.as_bytes()).await;
    assert_eq!(answer.status, 414, "{}", answer.head);
    assert_ok(&app.get("/jdoe/apps/web").await);
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn five_thousand_query_parameters_are_read_and_ignored() {
    let (app, _) = fixture().await;
    let before = snapshot(&app).await;
    let junk: String = (0..5_000).map(|i| format!("k{i}=v&")).collect();
    let answer = app
        .get(&format!("/jdoe/apps/web/events?{junk}max_results=2"))
        .await;
    assert_ok(&answer);
    assert_eq!(answer.json["events"].as_array().unwrap().len(), 2);
    let answer = app
        .put(
            &format!("/jdoe/apps/web/events/pushEvent?{junk}"),
            json!({}),
        )
        .await;
    created_id(&answer);
    let after = snapshot(&app).await;
    assert_eq!(
        after["events"]["web"].as_array().unwrap().len(),
        before["events"]["web"].as_array().unwrap().len() + 1
    );
}
