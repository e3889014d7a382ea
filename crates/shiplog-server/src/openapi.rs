//! The OpenAPI 3.1 description of the API, generated from the handlers'
//! annotations (collected where the router registers them) and the wire
//! types of `shiplog-api`, served at `/-/openapi.json`. Only the path and query parameters are described
//! here, since axum reads those without a type of their own.

#![allow(dead_code)] // The parameter structs exist for their schemas only.

use std::sync::LazyLock;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use shiplog_api::ErrorBody;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, IntoResponses, Modify, OpenApi};

use crate::routes;

/// The errors every API call may answer.
#[derive(IntoResponses)]
pub enum ApiErrors {
    /// `MalformedRequest` (the body is not a JSON object), `BadParam` or `MissingParam`.
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// `AuthenticationFailed`: no token, or an unknown or revoked one.
    #[response(status = 401)]
    Unauthenticated(ErrorBody),
    /// `AccessDenied`: the token may not act on that account, or not at the
    /// level this call needs (its user's role there and its scope).
    #[response(status = 403)]
    AccessDenied(ErrorBody),
    /// `NotFound`: an unknown app, env or event.
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// `AlreadyExists`, `ImmutableEvent` or `IdempotencyKeyReused`.
    #[response(status = 409)]
    Conflict(ErrorBody),
    /// `PayloadTooLarge`: a body over 1 MiB or a field over its limit.
    #[response(status = 413)]
    TooLarge(ErrorBody),
    /// `ServiceUnavailable`: the database cannot be reached or the server is
    /// overloaded; retry after the `Retry-After` seconds.
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

/// `/:username`: the account acted on.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AccountPath {
    /// The account (a user name).
    username: String,
}

/// `/:username/apps/:app_name`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AppPath {
    /// The account (a user name).
    username: String,
    /// The application: 1–64 letters, digits, `-`, `_`, `.`.
    app_name: String,
}

/// `/:username/hooks/:provider`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct HookPath {
    /// The account (a user name).
    username: String,
    /// `github`, `gitlab` or `bitbucket`.
    provider: String,
}

/// `/:username/webhooks/:name`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct WebhookPath {
    /// The account (a user name).
    username: String,
    /// The webhook's name: 1–64 letters, digits, `-`, `_`, `.`.
    name: String,
}

/// `/:username/members/:member`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct MemberPath {
    /// The account (a user name).
    username: String,
    /// The member's user name.
    member: String,
}

/// `/:username/envs/:env_name`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct EnvPath {
    /// The account (a user name).
    username: String,
    /// The environment.
    env_name: String,
}

/// `/:username/apps/:app_name/envs/:env_name`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AppEnvPath {
    /// The account (a user name).
    username: String,
    /// The application.
    app_name: String,
    /// The environment to create.
    env_name: String,
}

/// `/:username/apps/:app_name/events/:event_id`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct EventPath {
    /// The account (a user name).
    username: String,
    /// The application.
    app_name: String,
    /// The event's id.
    event_id: String,
}

/// `/:username/apps/:app_name/commits/:commit_id`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct CommitPath {
    /// The account (a user name).
    username: String,
    /// The application.
    app_name: String,
    /// The commit, as events carry it in `commit_id`.
    commit_id: String,
}

/// Paging of a list that is always newest first.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DescendingPageQuery {
    /// Page size: default 10, at most 100 (more is taken as 100).
    max_results: Option<String>,
    /// Only `desc`, the list's one order.
    order: Option<String>,
    /// The `marker` of the previous page.
    marker: Option<String>,
}

/// Paging of a list that is always oldest first.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AscendingPageQuery {
    /// Page size: default 10, at most 100 (more is taken as 100).
    max_results: Option<String>,
    /// Only `asc`, the list's one order.
    order: Option<String>,
    /// The `marker` of the previous page.
    marker: Option<String>,
}

/// ListChanges: where to start, and paging.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangesQuery {
    /// List the changes after this change id; default: from the first.
    /// A `marker` continues a listing instead.
    after: Option<String>,
    /// Page size: default 10, at most 100 (more is taken as 100).
    max_results: Option<String>,
    /// Only `asc`, the list's one order.
    order: Option<String>,
    /// The `marker` of the previous page.
    marker: Option<String>,
}

/// Paging of every list.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size: default 10, at most 100 (more is taken as 100).
    max_results: Option<String>,
    /// `asc` or `desc`, any letter case.
    order: Option<String>,
    /// The `marker` of the previous page.
    marker: Option<String>,
}

/// What StreamChanges carries.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// Only this app's changes.
    app: Option<String>,
    /// Only changes of events of these types, comma-separated
    /// (ListEvents' filter values: `Build`, `Deploy`, …, any case).
    event_type: Option<String>,
    /// Resume after this change id (`0`: from the first change); default:
    /// the first change after the stream opened. `Last-Event-ID` wins.
    after: Option<String>,
    /// `shiplog` (default: Change objects) or `cdevents`.
    format: Option<String>,
}

/// Where a resumed stream continues.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct LastEventIdHeader {
    /// The id of the last message received: the stream resumes after it.
    #[param(rename = "Last-Event-ID")]
    last_event_id: Option<String>,
}

/// The header that makes a write safe to retry.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyKeyHeader {
    /// 1–255 visible ASCII characters. A retry with the same key, path and
    /// body (within 24 hours) answers what the first call answered and
    /// records nothing; the same key with another request is
    /// `409 IdempotencyKeyReused`.
    #[param(rename = "Idempotency-Key")]
    idempotency_key: Option<String>,
}

/// The scope, window and calendar of GetDora.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DoraQuery {
    /// One app; every app of the account when absent.
    app: Option<String>,
    /// One env of the app; the envs tagged `production`, else those named
    /// `production` or `prod`, when absent.
    env: Option<String>,
    /// RFC 3339, or `YYYY-MM-DD` (the start of that day in `tz`); default 90
    /// days before `to`.
    from: Option<String>,
    /// RFC 3339 or `YYYY-MM-DD`, excluded; default now.
    to: Option<String>,
    /// `day`, `week` (default; from Monday) or `month`.
    bucket: Option<String>,
    /// An IANA time zone for buckets and dates; default `UTC`.
    tz: Option<String>,
    /// The benchmark set of the levels: `2021`, `2023` (default) or `2024`.
    benchmark: Option<String>,
}

/// Filters of ListEvents.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventFilterQuery {
    /// `Branch`, `Env`, `EventType`, `BranchAndEventType` or `EnvAndBranch`.
    filter_name: Option<String>,
    filter_branch: Option<String>,
    filter_env: Option<String>,
    /// `Build`, `Deploy`, `Dockerimage`, `Incident`, `Pullrequest`, `Push` or `Release`.
    filter_event_type: Option<String>,
}

/// Both ways of sending a token.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "apiToken",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::new("apiToken"))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "shiplog",
        description = "A self-hosted CI/CD event service speaking the Pipelines Events API.",
        license(name = "Apache-2.0")
    ),
    modifiers(&Security),
    security(("apiToken" = []), ("bearer" = []))
)]
pub struct ApiDoc;

/// The description, as served and as committed in `openapi.json`: the
/// document above with every operation the router registers.
pub fn document() -> Value {
    let (_, openapi) = routes::api().split_for_parts();
    serde_json::to_value(openapi).expect("the OpenAPI document serialises")
}

static DOCUMENT: LazyLock<Vec<u8>> =
    LazyLock::new(|| serde_json::to_vec(&document()).expect("the OpenAPI document serialises"));

/// `GET /-/openapi.json`.
pub async fn serve() -> Response {
    let mut response = DOCUMENT.as_slice().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
