//! Helpers shared by the HTTP tests, on top of `helpers.rs`.

#![allow(dead_code)]

use std::fmt;

use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value, json};

use crate::helpers::{Answer, TestApp};

/// The fields of a PUSH or PULLREQUEST after the four common ones, in wire order.
pub const PUSH_FIELDS: &[&str] = &[
    "author_name",
    "author_username",
    "branch",
    "commit_id",
    "commit_msg",
    "commit_time",
    "commit_url",
    "repo_name",
    "repo_owner",
    "repo_provider",
    "repo_url",
];

pub const BUILD_FIELDS: &[&str] = &[
    "author_name",
    "author_username",
    "auto_build",
    "branch",
    "build_end",
    "build_id",
    "build_provider",
    "build_start",
    "build_status",
    "build_url",
    "commit_id",
    "commit_msg",
    "commit_time",
    "commit_url",
    "parent_event_id",
    "release_version",
    "repo_name",
    "repo_owner",
    "repo_provider",
    "repo_url",
];

pub const RELEASE_FIELDS: &[&str] = &[
    "author_name",
    "author_username",
    "branch",
    "build_id",
    "commit_id",
    "commit_msg",
    "commit_time",
    "commit_url",
    "parent_event_id",
    "release_version",
    "repo_name",
    "repo_owner",
    "repo_provider",
    "repo_url",
];

pub const DEPLOY_FIELDS: &[&str] = &[
    "author_name",
    "author_username",
    "auto_deploy",
    "branch",
    "commit_id",
    "commit_msg",
    "commit_time",
    "commit_url",
    "deployment_end",
    "deployment_id",
    "deployment_number",
    "deployment_start",
    "deployment_status",
    "deployment_type",
    "env_name",
    "hotfix",
    "parent_event_id",
    "release_version",
    "repo_name",
    "repo_owner",
    "repo_provider",
    "repo_url",
];

/// The commit fields a release copies from its build and a deploy from its release.
pub const COMMIT_FIELDS: &[&str] = PUSH_FIELDS;

pub const APP_FIELDS: &[&str] = &[
    "api_url",
    "created",
    "description",
    "html_url",
    "latest_build",
    "latest_release",
    "name",
    "owner",
];

pub const ENV_FIELDS: &[&str] = &[
    "active_release_version",
    "api_url",
    "app_name",
    "description",
    "html_url",
    "last_deployment",
    "name",
    "owner",
    "tags",
    "vars",
];

/// The full key list of an event object of `event_type`, in wire order.
pub fn event_keys(event_type: &str) -> Vec<&'static str> {
    let rest = match event_type {
        "PUSH" | "PULLREQUEST" => PUSH_FIELDS,
        "BUILD" => BUILD_FIELDS,
        "RELEASE" => RELEASE_FIELDS,
        "DEPLOY" => DEPLOY_FIELDS,
        other => panic!("unknown event type {other}"),
    };
    let mut keys = vec!["app_name", "event_id", "event_time", "event_type"];
    keys.extend_from_slice(rest);
    keys
}

/// The commit of the source document's examples.
pub fn push_body() -> Value {
    json!({
        "repo_url": "https://github.example.com/jdoe/example-node",
        "commit_url": "https://github.example.com/jdoe/example-node/commits/1234567890123456789012345678901234567890",
        "repo_owner": "jdoe",
        "repo_name": "example-node",
        "repo_provider": "github",
        "author_username": "jdoe",
        "author_name": "John Doe",
        "commit_msg": "Just a Test",
        "commit_id": "1234567890123456789012345678901234567890",
        "branch": "master"
    })
}

/// The source document's CreateBuildEvent example body.
pub fn build_body() -> Value {
    let mut body = push_body();
    let extra = json!({
        "build_status": "Running",
        "build_start": "2016-08-15T22:22:22.111Z",
        "auto_build": true,
        "build_id": "J23465",
        "build_provider": "jenkins",
        "build_url": "http://jenkins.example.com"
    });
    merge(&mut body, extra);
    body
}

/// Copies every key of `extra` into `body`.
pub fn merge(body: &mut Value, extra: Value) {
    let body = body.as_object_mut().expect("object");
    for (k, v) in extra.as_object().expect("object") {
        body.insert(k.clone(), v.clone());
    }
}

pub fn with(mut body: Value, extra: Value) -> Value {
    merge(&mut body, extra);
    body
}

#[track_caller]
pub fn assert_ok(answer: &Answer) {
    assert_eq!(answer.status, 200, "expected 200, got: {}", answer.text);
}

/// Checks status, `error.code`, a non-empty message and the error body's shape.
#[track_caller]
pub fn assert_error(answer: &Answer, status: u16, code: &str) {
    assert_eq!(
        answer.status.as_u16(),
        status,
        "expected {status} {code}, got: {}",
        answer.text
    );
    assert_eq!(answer.code(), code, "body: {}", answer.text);
    assert!(
        !answer.message().is_empty(),
        "empty message: {}",
        answer.text
    );
    let top = answer.json.as_object().expect("error body is an object");
    assert_eq!(top.len(), 1, "error body has only `error`: {}", answer.text);
    let error = answer.json["error"].as_object().expect("error object");
    let mut keys: Vec<_> = error.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["code", "message"], "{}", answer.text);
}

/// The id of a create answer, which must be exactly `{"event_id":"<digits>"}`.
#[track_caller]
pub fn created_id(answer: &Answer) -> i64 {
    assert_ok(answer);
    let id = answer.json["event_id"]
        .as_str()
        .unwrap_or_else(|| panic!("event_id is a JSON string: {}", answer.text));
    assert_eq!(answer.text, format!("{{\"event_id\":\"{id}\"}}"));
    id.parse().expect("numeric event id")
}

/// Sends with extra headers (e.g. `Authorization`) to a full URL.
pub async fn send_with_headers(
    app: &TestApp,
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Answer {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.insert(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    let mut request = app.client.request(method, url).headers(map);
    if let Some(body) = body {
        request = request.body(body.to_vec());
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let json = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::Null)
    };
    Answer {
        status,
        headers,
        text,
        json,
    }
}

/// Calls `path` with another account's token.
pub async fn call_as(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Answer {
    let bytes = body.map(|b| serde_json::to_vec(&b).unwrap());
    app.send_raw(method, &app.url_with_token(path, token), bytes.as_deref())
        .await
}

/// Follows markers from `path` until `marker` is null, checking that no page
/// is empty after the first, and returns the items under `key`.
pub async fn list_all_as(app: &TestApp, token: &str, path: &str, key: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut marker: Option<String> = None;
    for page in 0..2000 {
        let sep = if path.contains('?') { '&' } else { '?' };
        let p = match &marker {
            Some(m) => format!("{path}{sep}marker={m}"),
            None => path.to_owned(),
        };
        let answer = call_as(app, token, Method::GET, &p, None).await;
        assert_eq!(answer.status, 200, "{p}: {}", answer.text);
        let got = answer.json[key]
            .as_array()
            .unwrap_or_else(|| panic!("`{key}` is an array: {}", answer.text))
            .clone();
        if page > 0 {
            assert!(!got.is_empty(), "a marker led to an empty page: {p}");
        }
        items.extend(got);
        match &answer.json["marker"] {
            Value::Null => {
                assert!(
                    answer.json.as_object().unwrap().contains_key("marker"),
                    "`marker` is present: {}",
                    answer.text
                );
                return items;
            }
            Value::String(m) => marker = Some(m.clone()),
            other => panic!("marker is a string or null, got {other}"),
        }
    }
    panic!("more than 2000 pages at {path}");
}

pub async fn list_all(app: &TestApp, path: &str, key: &str) -> Vec<Value> {
    list_all_as(app, &app.token, path, key).await
}

/// Every event of `app_name`, oldest first.
pub async fn all_events(app: &TestApp, app_name: &str) -> Vec<Value> {
    list_all(
        app,
        &format!("/jdoe/apps/{app_name}/events?max_results=100&order=asc"),
        "events",
    )
    .await
}

/// The ids of a list of events.
pub fn ids(events: &[Value]) -> Vec<i64> {
    events
        .iter()
        .map(|e| e["event_id"].as_i64().expect("event_id is a JSON number"))
        .collect()
}

/// One event of `app_name`, found in its listing.
pub async fn event(app: &TestApp, app_name: &str, id: i64) -> Value {
    all_events(app, app_name)
        .await
        .into_iter()
        .find(|e| e["event_id"].as_i64() == Some(id))
        .unwrap_or_else(|| panic!("event {id} is listed in {app_name}"))
}

/// Events of `app_name` of one type, oldest first.
pub async fn events_of_type(app: &TestApp, app_name: &str, event_type: &str) -> Vec<Value> {
    all_events(app, app_name)
        .await
        .into_iter()
        .filter(|e| e["event_type"] == event_type)
        .collect()
}

/// Everything an account holds: apps, envs and every app's events.
pub async fn snapshot_as(app: &TestApp, user: &str, token: &str) -> Value {
    let apps = list_all_as(app, token, &format!("/{user}/apps?max_results=100"), "apps").await;
    let envs = list_all_as(app, token, &format!("/{user}/envs?max_results=100"), "envs").await;
    let mut events = Map::new();
    for a in &apps {
        let name = a["name"].as_str().expect("app name").to_owned();
        let list = list_all_as(
            app,
            token,
            &format!("/{user}/apps/{name}/events?max_results=100&order=asc"),
            "events",
        )
        .await;
        events.insert(name, Value::Array(list));
    }
    json!({"apps": apps, "envs": envs, "events": events})
}

pub async fn snapshot(app: &TestApp) -> Value {
    snapshot_as(app, "jdoe", &app.token).await
}

/// Whether `text` has no whitespace outside strings (a trailing newline aside).
pub fn is_compact(text: &str) -> bool {
    let text = text.strip_suffix('\n').unwrap_or(text);
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
        } else if c.is_whitespace() {
            return false;
        }
    }
    true
}

/// Whether a timestamp is in the contract's response form `2016-08-30T22:31:03.723Z`.
pub fn is_response_timestamp(value: &Value) -> bool {
    let Some(s) = value.as_str() else {
        return false;
    };
    let b = s.as_bytes();
    b.len() == 24
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'.',
            23 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

/// Whether a marker uses only characters that survive a URL unencoded.
pub fn is_url_safe(marker: &str) -> bool {
    !marker.is_empty()
        && marker
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
}

/// JSON that remembers the order of object keys, to check wire order.
#[derive(Debug, Clone, PartialEq)]
pub enum Ordered {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Ordered>),
    Object(Vec<(String, Ordered)>),
}

impl Ordered {
    pub fn parse(text: &str) -> Ordered {
        serde_json::from_str(text).unwrap_or_else(|e| panic!("JSON ({e}): {text}"))
    }

    pub fn keys(&self) -> Vec<&str> {
        match self {
            Ordered::Object(entries) => entries.iter().map(|(k, _)| k.as_str()).collect(),
            other => panic!("not an object: {other:?}"),
        }
    }

    pub fn get(&self, key: &str) -> &Ordered {
        match self {
            Ordered::Object(entries) => entries
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v)
                .unwrap_or_else(|| panic!("no key {key}")),
            other => panic!("not an object: {other:?}"),
        }
    }

    pub fn at(&self, index: usize) -> &Ordered {
        match self {
            Ordered::Array(items) => &items[index],
            other => panic!("not an array: {other:?}"),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Ordered::Array(items) => items.len(),
            other => panic!("not an array: {other:?}"),
        }
    }
}

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OrderedVisitor;
        impl<'de> Visitor<'de> for OrderedVisitor {
            type Value = Ordered;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("JSON")
            }
            fn visit_unit<E>(self) -> Result<Ordered, E> {
                Ok(Ordered::Null)
            }
            fn visit_none<E>(self) -> Result<Ordered, E> {
                Ok(Ordered::Null)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Ordered, E> {
                Ok(Ordered::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Ordered, E> {
                Ok(Ordered::Number(v as f64))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Ordered, E> {
                Ok(Ordered::Number(v as f64))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Ordered, E> {
                Ok(Ordered::Number(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Ordered, E> {
                Ok(Ordered::String(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Ordered, E> {
                Ok(Ordered::String(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Ordered, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Ordered::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
                let mut entries = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Ordered>()? {
                    entries.push((k, v));
                }
                Ok(Ordered::Object(entries))
            }
        }
        deserializer.deserialize_any(OrderedVisitor)
    }
}

/// Checks that every event object of a listing's raw text has exactly the
/// keys of its type in contract order.
#[track_caller]
pub fn assert_listing_key_order(text: &str) {
    let listing = Ordered::parse(text);
    let events = listing.get("events");
    for i in 0..events.len() {
        assert_event_key_order(events.at(i));
    }
}

#[track_caller]
pub fn assert_event_key_order(event: &Ordered) {
    let Ordered::String(event_type) = event.get("event_type") else {
        panic!("event_type is a string: {event:?}")
    };
    assert_eq!(
        event.keys(),
        event_keys(event_type),
        "{event_type} key order"
    );
}

/// The key set of an object value, sorted.
pub fn key_set(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .unwrap_or_else(|| panic!("object: {value}"))
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

pub fn sorted(keys: &[&str]) -> Vec<String> {
    let mut keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    keys.sort();
    keys
}

/// The `sha256=<hex HMAC-SHA256(secret, body)>` value GitHub sends in
/// `X-Hub-Signature-256` and Bitbucket Cloud in `X-Hub-Signature`.
pub fn hub_signature(secret: &str, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}
