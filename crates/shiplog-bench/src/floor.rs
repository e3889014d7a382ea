//! The floor server: shiplog's routes and answer shapes for the calls the
//! benchmark makes, checking one fixed token, parsing every body, storing
//! nothing. What it costs is what any server of this API costs, so shiplog's
//! figures are reported as ratios to it.
//!
//! Its GetDora answers one fixed answer of the shape and size shiplog gives
//! for one app over a year (computed once at start-up from the DORA
//! scenario's plan of the first app, see [`crate::dora::floor_answer`]) and
//! serialises it on every call, as its ListEvents does with its page: what
//! it measures is the HTTP exchange, the token check and the JSON of the
//! answer, not the reading of facts and the computing of metrics.
//!
//! Its GitHub hook (`POST /:username/hooks/github`, given `--hook-secret`)
//! does what any receiver of signed deliveries must: it reads the raw body,
//! checks `X-Hub-Signature-256` (HMAC-SHA256 with the secret, compared in
//! constant time), requires `X-GitHub-Event` and `X-GitHub-Delivery`,
//! parses the JSON, and answers a delivery answer of shiplog's shape with
//! a counter for the event id. It maps nothing, stores nothing and keeps
//! no record of delivery ids.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::Serialize;
use serde_json::Value;
use shiplog_api::hooks::DeliveryOut;
use shiplog_api::{DoraEnvelope, EventOut};
use shiplog_domain::{
    BuildStatus, Event, EventFields, EventType, RepoProvider, Timestamp, event::CommitFields,
};

pub struct Floor {
    token: String,
    next_id: AtomicI64,
    page: Vec<EventOut>,
    dora: DoraEnvelope,
    hook_secret: Option<String>,
    /// A page of the web UI's size and kind: the sample page's events as
    /// table rows, made once.
    html: String,
}

type Shared = Arc<Floor>;

/// The floor's routes; deliveries to its GitHub hook are refused without
/// `hook_secret`.
pub fn router(token: String, hook_secret: Option<String>) -> Router {
    let floor = Arc::new(Floor {
        token,
        next_id: AtomicI64::new(1),
        page: sample_page(),
        dora: crate::dora::floor_answer(Timestamp::now()),
        hook_secret,
        html: sample_html(&sample_page()),
    });
    Router::new()
        .route("/-/health", get(|| async { "ok" }))
        .route("/{username}/apps/{app}/events", get(list))
        .route("/{username}/apps/{app}/events/pushEvent", put(create))
        .route(
            "/{username}/apps/{app}/events/pullRequestEvent",
            put(create),
        )
        .route("/{username}/apps/{app}/events/buildEvent", put(create))
        .route("/{username}/dora", get(dora))
        .route("/{username}/hooks/github", post(deliver))
        .route("/-/ui/{username}", get(ui_page))
        .route("/-/ui/{username}/apps/{app}", get(ui_page))
        .with_state(floor)
}

#[derive(Serialize)]
struct CreatedOut {
    event_id: String,
}

#[derive(Serialize)]
struct EventListOut<'a> {
    app_name: &'a str,
    events: &'a [EventOut],
    marker: Option<&'a str>,
}

fn authorised(floor: &Floor, uri: &Uri) -> bool {
    form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
        .any(|(key, value)| key == "apiToken" && value == floor.token)
}

fn error(status: StatusCode, code: &str) -> Response {
    let body = serde_json::json!({"error": {"code": code, "message": code}});
    json(status, serde_json::to_vec(&body).unwrap_or_default())
}

fn json(status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

async fn create(State(floor): State<Shared>, uri: Uri, body: Bytes) -> Response {
    if !authorised(&floor, &uri) {
        return error(StatusCode::UNAUTHORIZED, "AuthenticationFailed");
    }
    match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(_)) => {}
        _ => return error(StatusCode::BAD_REQUEST, "MalformedRequest"),
    }
    let id = floor.next_id.fetch_add(1, Ordering::Relaxed);
    let body = serde_json::to_vec(&CreatedOut {
        event_id: id.to_string(),
    });
    json(StatusCode::OK, body.unwrap_or_default())
}

async fn list(
    State(floor): State<Shared>,
    Path((_, app)): Path<(String, String)>,
    uri: Uri,
) -> Response {
    if !authorised(&floor, &uri) {
        return error(StatusCode::UNAUTHORIZED, "AuthenticationFailed");
    }
    let body = serde_json::to_vec(&EventListOut {
        app_name: &app,
        events: &floor.page,
        marker: Some("v1.bQ3xT0a9Kc2Hn4yFZ1pRk8sW6dLgEuJ"),
    });
    json(StatusCode::OK, body.unwrap_or_default())
}

/// A web UI page, for a request that carries a session cookie.
async fn ui_page(State(floor): State<Shared>, headers: HeaderMap) -> Response {
    let signed_in = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("shiplog_session="));
    if !signed_in {
        return (StatusCode::SEE_OTHER, [(header::LOCATION, "/-/ui/login")]).into_response();
    }
    let mut response = floor.html.clone().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

/// The sample page's events as the rows of an HTML table.
fn sample_html(events: &[EventOut]) -> String {
    let rows: String = events
        .iter()
        .map(|event| {
            let json = serde_json::to_value(event).unwrap_or_default();
            let cell = |key: &str| json[key].to_string().replace('<', "&lt;");
            format!(
                "<tr><td><a href=\"/-/ui/x/apps/y/events/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                cell("event_id"),
                cell("event_type"),
                cell("event_time"),
                cell("branch"),
                cell("commit_id"),
                cell("commit_msg"),
            )
        })
        .collect();
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>floor</title>\
         <link rel=\"stylesheet\" href=\"/-/ui/-/style.css\"></head><body><header><nav>shiplog</nav>\
         </header><main><h1>Events</h1><table><thead><tr><th>Event</th><th>Type</th><th>Time</th>\
         <th>Branch</th><th>Commit</th><th>Message</th></tr></thead><tbody>\n{rows}</tbody></table>\
         </main></body></html>"
    )
}

async fn dora(State(floor): State<Shared>, uri: Uri) -> Response {
    if !authorised(&floor, &uri) {
        return error(StatusCode::UNAUTHORIZED, "AuthenticationFailed");
    }
    json(
        StatusCode::OK,
        serde_json::to_vec(&floor.dora).unwrap_or_default(),
    )
}

async fn deliver(State(floor): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let authentic = floor
        .hook_secret
        .as_deref()
        .is_some_and(|secret| crate::hooks::verify(secret, header("X-Hub-Signature-256"), &body));
    if !authentic {
        return error(StatusCode::UNAUTHORIZED, "AuthenticationFailed");
    }
    let (Some(_event), Some(delivery)) = (header("X-GitHub-Event"), header("X-GitHub-Delivery"))
    else {
        return error(StatusCode::BAD_REQUEST, "BadParam");
    };
    match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(_)) => {}
        _ => return error(StatusCode::BAD_REQUEST, "MalformedRequest"),
    }
    let id = floor.next_id.fetch_add(1, Ordering::Relaxed);
    let body = serde_json::to_vec(&DeliveryOut {
        delivery: delivery.to_owned(),
        event_ids: vec![id.to_string()],
        duplicate: false,
        ignored: None,
    });
    json(StatusCode::OK, body.unwrap_or_default())
}

/// Ten events as ListEvents returns them: pushes and builds on one branch.
fn sample_page() -> Vec<EventOut> {
    (0..10)
        .map(|i| {
            let build = i % 2 == 1;
            let commit_id = format!("{:040x}", 0x05169ab2384e8cd991cfdf4e61f96u128 + i as u128);
            let base = 1_772_445_000_000 + i * 60_000;
            let mut fields = EventFields {
                commit: CommitFields {
                    author_name: Some("John Doe".into()),
                    author_username: Some("jdoe".into()),
                    branch: Some("feature/SHIP-1042".into()),
                    commit_url: Some(format!(
                        "https://github.com/acme/storefront/commit/{commit_id}"
                    )),
                    commit_id: Some(commit_id),
                    commit_msg: Some(
                        "Add retries to the payment client when the gateway answers 502".into(),
                    ),
                    repo_name: Some("storefront".into()),
                    repo_owner: Some("acme".into()),
                    repo_provider: Some(RepoProvider::Github),
                    commit_time: None,
                    repo_url: Some("https://github.com/acme/storefront".into()),
                },
                ..EventFields::default()
            };
            if build {
                fields.auto_build = Some(true);
                fields.build_id = Some(format!("{}", 4000 + i));
                fields.build_provider = Some("jenkins".into());
                fields.build_start = Some(Timestamp::from_millis(base));
                fields.build_end = Some(Timestamp::from_millis(base + 38_000));
                fields.build_status = Some(BuildStatus::Success);
                fields.build_url = Some(format!(
                    "https://ci.acme.example/job/storefront/{}/",
                    4000 + i
                ));
            }
            Event {
                app_name: "storefront".into(),
                event_id: 2_000_000 - i,
                event_time: Timestamp::from_millis(base + 1_000),
                event_type: if build {
                    EventType::Build
                } else {
                    EventType::Push
                },
                fields,
            }
            .into()
        })
        .collect()
}
