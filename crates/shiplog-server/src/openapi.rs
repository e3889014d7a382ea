//! The OpenAPI 3.1 description of the API, generated from the handlers'
//! annotations and the wire shapes below, served at `/-/openapi.json`.
//!
//! The shapes here describe what the domain's serialisers write; the
//! committed `openapi.json` and the schema-driven fuzzing in CI keep the two
//! in step.

#![allow(dead_code)] // The shapes exist for their schemas only.

use std::sync::LazyLock;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, IntoResponses, Modify, OpenApi, ToSchema};

use crate::routes;

/// An error answer.
#[derive(ToSchema, Serialize)]
pub struct ErrorBody {
    error: ErrorDetail,
}

#[derive(ToSchema, Serialize)]
pub struct ErrorDetail {
    /// A stable machine code: `MalformedRequest`, `BadParam`, `MissingParam`,
    /// `AuthenticationFailed`, `AccessDenied`, `NotFound`,
    /// `UnsupportedHttpMethod`, `AlreadyExists`, `ImmutableEvent`,
    /// `PayloadTooLarge`, `InternalServerError`, `ServiceUnavailable`.
    code: String,
    /// What went wrong, for people.
    message: String,
}

/// The errors every API call may answer.
#[derive(IntoResponses)]
pub enum ApiErrors {
    /// `MalformedRequest` (the body is not a JSON object), `BadParam` or `MissingParam`.
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// `AuthenticationFailed`: no token, or an unknown or revoked one.
    #[response(status = 401)]
    Unauthenticated(ErrorBody),
    /// `AccessDenied`: the token may not act on that account.
    #[response(status = 403)]
    AccessDenied(ErrorBody),
    /// `NotFound`: an unknown app, env or event.
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// `AlreadyExists` or `ImmutableEvent`.
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

/// The fields of the commit an event is about. Strings are limited to
/// 4 KiB, `commit_msg` to 64 KiB; numbers are accepted for strings.
#[derive(ToSchema, Serialize)]
pub struct CommitFieldsIn {
    author_name: Option<String>,
    author_username: Option<String>,
    branch: Option<String>,
    commit_id: Option<String>,
    commit_msg: Option<String>,
    commit_url: Option<String>,
    repo_name: Option<String>,
    repo_owner: Option<String>,
    /// `bitbucket`, `bitbucketserver`, `github`, `githubenterprise`,
    /// `gitlab` or `azuredevops`, in any letter case.
    repo_provider: Option<String>,
    repo_url: Option<String>,
}

/// The body of CreateBuildEvent: the commit fields and these.
#[derive(ToSchema, Serialize)]
pub struct BuildEventIn {
    #[schema(inline)]
    #[serde(flatten)]
    commit: CommitFieldsIn,
    /// A boolean, or the string `"true"` or `"false"`.
    auto_build: Option<bool>,
    /// RFC 3339 date-time; needed before a terminal `build_status`.
    build_end: Option<String>,
    build_id: Option<String>,
    build_provider: Option<String>,
    /// RFC 3339 date-time.
    build_start: Option<String>,
    /// `Waiting`, `Queued`, `Running`, or the terminal `Success`, `Failed`,
    /// `TimedOut`, `Cancelled`, in any letter case.
    build_status: Option<String>,
    build_url: Option<String>,
    /// A PUSH or PULLREQUEST event of the same app, as a string or number.
    parent_event_id: Option<String>,
    /// Records a RELEASE of this version with the build as parent.
    release_version: Option<String>,
}

/// The body of CreateReleaseEvent: the commit fields and these.
#[derive(ToSchema, Serialize)]
pub struct ReleaseEventIn {
    #[schema(inline)]
    #[serde(flatten)]
    commit: CommitFieldsIn,
    build_id: Option<String>,
    /// A BUILD event of the same app.
    parent_event_id: Option<String>,
    /// Assigned (`v1`, `v2`, …) when absent.
    release_version: Option<String>,
}

/// The body of CreateDeployEvent: the commit fields and these.
#[derive(ToSchema, Serialize)]
pub struct DeployEventIn {
    #[schema(inline)]
    #[serde(flatten)]
    commit: CommitFieldsIn,
    auto_deploy: Option<bool>,
    /// Assigned (`d-…`) when absent.
    deployment_id: Option<String>,
    /// Assigned when absent.
    deployment_number: Option<String>,
    /// `Pending`, `InProgress`, or the terminal `Ok`, `Failed`, `Aborted`.
    deployment_status: Option<String>,
    /// `Deploy` (default), `Restart` or `Terminate`.
    deployment_type: Option<String>,
    /// Required; the env is created if the app lacks it.
    env_name: Option<String>,
    /// A RELEASE event of the same app.
    parent_event_id: Option<String>,
    release_version: Option<String>,
}

/// The body of UpdateBuildEvent (on a BUILD) or UpdateDeployEvent (on a DEPLOY).
#[derive(ToSchema, Serialize)]
pub struct EventUpdateIn {
    build_end: Option<String>,
    build_status: Option<String>,
    release_version: Option<String>,
    deployment_status: Option<String>,
}

/// The answer of an event creation.
#[derive(ToSchema, Serialize)]
pub struct CreatedOut {
    /// The new event's id, as a string.
    event_id: String,
}

/// An event. The first four fields are always present; then come every
/// field of its type in alphabetical order, `null` when unknown.
#[derive(ToSchema, Serialize)]
pub struct EventOut {
    app_name: String,
    event_id: i64,
    /// When shiplog recorded the event (UTC, milliseconds).
    event_time: String,
    /// `PUSH`, `PULLREQUEST`, `BUILD`, `RELEASE`, `DEPLOY` or `DOCKERIMAGE`.
    event_type: String,
    author_name: Option<String>,
    author_username: Option<String>,
    auto_build: Option<bool>,
    auto_deploy: Option<bool>,
    branch: Option<String>,
    build_end: Option<String>,
    build_id: Option<String>,
    build_provider: Option<String>,
    build_start: Option<String>,
    build_status: Option<String>,
    build_url: Option<String>,
    commit_id: Option<String>,
    commit_msg: Option<String>,
    commit_url: Option<String>,
    deployment_id: Option<String>,
    deployment_number: Option<String>,
    deployment_status: Option<String>,
    deployment_type: Option<String>,
    env_name: Option<String>,
    /// The parent's id, as a string.
    parent_event_id: Option<String>,
    release_version: Option<String>,
    repo_name: Option<String>,
    repo_owner: Option<String>,
    repo_provider: Option<String>,
    repo_url: Option<String>,
}

#[derive(ToSchema, Serialize)]
pub struct EventEnvelope {
    event: EventOut,
}

#[derive(ToSchema, Serialize)]
pub struct EventListOut {
    app_name: String,
    events: Vec<EventOut>,
    /// Pass back as `marker` for the next page; `null` on the last page.
    marker: Option<String>,
}

/// The body of CreateApp.
#[derive(ToSchema, Serialize)]
pub struct AppIn {
    description: Option<String>,
}

#[derive(ToSchema, Serialize)]
pub struct AppOut {
    api_url: String,
    created: String,
    description: Option<String>,
    html_url: String,
    /// The newest BUILD event.
    latest_build: Option<EventOut>,
    /// The newest RELEASE event.
    latest_release: Option<EventOut>,
    name: String,
    owner: String,
}

#[derive(ToSchema, Serialize)]
pub struct AppEnvelope {
    app: AppOut,
}

#[derive(ToSchema, Serialize)]
pub struct AppListOut {
    apps: Vec<AppOut>,
    marker: Option<String>,
}

#[derive(ToSchema, Serialize)]
pub struct EnvVarOut {
    name: String,
    value: String,
}

/// The body of CreateEnv.
#[derive(ToSchema, Serialize)]
pub struct EnvIn {
    description: Option<String>,
    tags: Option<Vec<String>>,
    vars: Option<Vec<EnvVarOut>>,
}

#[derive(ToSchema, Serialize)]
pub struct EnvOut {
    /// The release of the newest deploy to this env that ended `Ok`.
    active_release_version: Option<String>,
    api_url: String,
    app_name: String,
    description: Option<String>,
    html_url: String,
    /// The newest DEPLOY event to this env.
    last_deployment: Option<EventOut>,
    name: String,
    owner: String,
    tags: Vec<String>,
    vars: Vec<EnvVarOut>,
}

#[derive(ToSchema, Serialize)]
pub struct EnvEnvelope {
    env: EnvOut,
}

#[derive(ToSchema, Serialize)]
pub struct EnvListOut {
    envs: Vec<EnvOut>,
    marker: Option<String>,
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

/// Filters of ListEvents.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventFilterQuery {
    /// `Branch`, `Env`, `EventType`, `BranchAndEventType` or `EnvAndBranch`.
    filter_name: Option<String>,
    filter_branch: Option<String>,
    filter_env: Option<String>,
    /// `Build`, `Deploy`, `Dockerimage`, `Pullrequest`, `Push` or `Release`.
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
    paths(
        routes::events::create_push,
        routes::events::create_pull_request,
        routes::events::create_build,
        routes::events::create_release,
        routes::events::create_deploy,
        routes::events::update,
        routes::events::list,
        routes::apps::list,
        routes::apps::get,
        routes::apps::create,
        routes::apps::delete,
        routes::envs::list,
        routes::envs::list_of_app,
        routes::envs::get,
        routes::envs::create,
        routes::envs::delete,
        routes::service::health,
        routes::service::ready,
    ),
    modifiers(&Security),
    security(("apiToken" = []), ("bearer" = []))
)]
struct ApiDoc;

/// The description, as served and as committed in `openapi.json`.
pub fn document() -> Value {
    serde_json::to_value(ApiDoc::openapi()).expect("the OpenAPI document serialises")
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
