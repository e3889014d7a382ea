//! The pages of an account: its apps and envs, an app's timeline, an
//! event, a commit and an env. Each reads through the API's store calls,
//! a page (with limits) at a time.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use shiplog_domain::input::parse_event_id;
use shiplog_domain::page::split_page;
use shiplog_domain::{DomainError, EventFilter, EventType, Order, PageRequest};

use super::error::OrPage;
use super::session::{Nav, Viewer};
use super::view::{
    self, ChangeRow, EventRow, FieldRow, LineageLink, Link, app_href, env_href, event_href,
};
use super::{UiError, render};
use crate::extract::{Params, Segments};
use crate::pagination::{Listing, Ordering};
use crate::state::SharedState;

/// Apps and envs shown on the account page, and changes on an event's.
const LIST_LIMIT: usize = 100;
/// Events on a page of a timeline or an env's deploys, unless
/// `max_results` says otherwise.
const EVENTS_PER_PAGE: &str = "25";

fn first_page(limit: usize) -> PageRequest<String> {
    PageRequest {
        order: Order::Asc,
        limit,
        after: None,
    }
}

/// An app on the account page.
struct AppRow {
    name: String,
    href: String,
    build: Option<Link>,
    build_status: String,
    build_time: String,
    release: Option<Link>,
    release_time: String,
}

/// What runs in an env of an app: a cell of the app x env grid.
struct Cell {
    href: String,
    release: String,
    deployed_at: String,
    status: String,
}

struct GridRow {
    app: String,
    href: String,
    cells: Vec<Option<Cell>>,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    title: String,
    nav: Option<Nav>,
    account: String,
    apps: Vec<AppRow>,
    more_apps: bool,
    env_names: Vec<(String, String)>,
    grid: Vec<GridRow>,
    more_envs: bool,
}

/// `/-/ui/:username`: each app with its latest build and release, and what
/// runs in each env.
pub async fn account(
    State(state): State<SharedState>,
    Viewer { account, nav }: Viewer,
) -> Result<Response, UiError> {
    let owner = account.name.as_str();
    let rows = state
        .store
        .list_apps(&account, &first_page(LIST_LIMIT))
        .await
        .or_page(&nav)?;
    let (apps, more_apps) = split_page(rows, LIST_LIMIT);
    let rows = state
        .store
        .list_envs(&account, None, &first_page(LIST_LIMIT))
        .await
        .or_page(&nav)?;
    let (envs, more_envs) = split_page(rows, LIST_LIMIT);
    let env_names = envs
        .iter()
        .map(|env| (env.name.clone(), env_href(owner, &env.name)))
        .collect();
    let grid = apps
        .iter()
        .map(|app| GridRow {
            app: app.name.clone(),
            href: app_href(owner, &app.name),
            cells: envs
                .iter()
                .map(|env| {
                    (env.app_name == app.name).then(|| {
                        let last = env.last_deployment.as_ref();
                        Cell {
                            href: env_href(owner, &env.name),
                            release: env.active_release_version.clone().unwrap_or_default(),
                            deployed_at: last
                                .map(|d| {
                                    d.fields.deployment_end.unwrap_or(d.event_time).to_string()
                                })
                                .unwrap_or_default(),
                            status: last.and_then(view::status).unwrap_or_default().to_owned(),
                        }
                    })
                })
                .collect(),
        })
        .collect();
    let apps = apps
        .iter()
        .map(|app| {
            let build = app.latest_build.as_ref();
            let release = app.latest_release.as_ref();
            AppRow {
                name: app.name.clone(),
                href: app_href(owner, &app.name),
                build: build.map(|b| Link {
                    href: event_href(owner, &app.name, b.event_id),
                    text: format!("BUILD {}", b.event_id),
                }),
                build_status: build.and_then(view::status).unwrap_or_default().to_owned(),
                build_time: build.map(|b| b.event_time.to_string()).unwrap_or_default(),
                release: release.map(|r| Link {
                    href: event_href(owner, &app.name, r.event_id),
                    text: r.fields.release_version.clone().unwrap_or_default(),
                }),
                release_time: release
                    .map(|r| r.event_time.to_string())
                    .unwrap_or_default(),
            }
        })
        .collect();
    Ok(render(&AccountPage {
        title: format!("Account {}", account.name),
        account: account.name.clone(),
        nav: Some(nav),
        apps,
        more_apps,
        env_names,
        grid,
        more_envs,
    }))
}

#[derive(Template)]
#[template(path = "timeline.html")]
struct TimelinePage {
    title: String,
    nav: Option<Nav>,
    account: String,
    app: String,
    types: Vec<(&'static str, bool)>,
    branch: String,
    env: String,
    envs: Vec<(String, bool)>,
    rows: Vec<EventRow>,
    newer: Option<String>,
    older: Option<String>,
    /// The live stream's address, on the first page only.
    stream: Option<String>,
    filter_type: String,
}

/// `/-/ui/:username/apps/:app`: the app's events, newest first, filtered
/// as ListEvents filters, a page at a time.
pub async fn timeline(
    State(state): State<SharedState>,
    Viewer { account, nav }: Viewer,
    Segments((_, app)): Segments<(String, String)>,
    params: Params,
) -> Result<Response, UiError> {
    let params = params.or_default("max_results", EVENTS_PER_PAGE);
    let filter = EventFilter::from_query(|name| params.get(name)).or_page(&nav)?;
    let [branch_key, type_key, env_key] = filter.scope();
    let scope = ["events", &account.name, &app, branch_key, type_key, env_key];
    let (listing, page) =
        Listing::start(&state, &params, &scope, Ordering::Default(Order::Desc)).or_page(&nav)?;
    let rows = state
        .store
        .list_events(&account, &app, &filter, &page)
        .await
        .or_page(&nav)?;
    let (events, marker) = listing.finish(rows, |event| event.event_id);
    let envs = state
        .store
        .list_envs(&account, Some(&app), &first_page(LIST_LIMIT))
        .await
        .or_page(&nav)?;
    let (envs, _) = split_page(envs, LIST_LIMIT);
    let owner = account.name.as_str();
    let base = app_href(owner, &app);
    let filters = query(&[
        (
            "filter_event_type",
            filter.event_type.map(|t| t.filter_name()),
        ),
        ("filter_branch", filter.branch.as_deref()),
        ("filter_env", filter.env.as_deref()),
    ]);
    let older = marker.map(|marker| {
        let sep = if filters.is_empty() { "" } else { "&" };
        format!(
            "{base}?{filters}{sep}{}",
            query(&[("marker", Some(&marker))])
        )
    });
    let first = page.after.is_none();
    let newer = (!first).then(|| {
        if filters.is_empty() {
            base.clone()
        } else {
            format!("{base}?{filters}")
        }
    });
    let env = filter.env.clone().unwrap_or_default();
    Ok(render(&TimelinePage {
        title: format!("{app} · timeline"),
        account: owner.to_owned(),
        types: EventType::ALL
            .iter()
            .map(|t| (t.filter_name(), filter.event_type == Some(*t)))
            .collect(),
        branch: filter.branch.clone().unwrap_or_default(),
        envs: envs
            .iter()
            .map(|e| (e.name.clone(), e.name == env))
            .collect(),
        env,
        rows: EventRow::list(owner, &events),
        newer,
        older,
        stream: (first && super::LIVE_STREAM)
            .then(|| format!("/{owner}/stream?{}", query(&[("app", Some(&app))]))),
        filter_type: filter
            .event_type
            .map(|t| t.as_str().to_owned())
            .unwrap_or_default(),
        app,
        nav: Some(nav),
    }))
}

/// A query string of the parameters that are set.
fn query(pairs: &[(&str, Option<&str>)]) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        if let Some(value) = value {
            out.append_pair(name, value);
        }
    }
    out.finish()
}

#[derive(Template)]
#[template(path = "event.html")]
struct EventPage {
    title: String,
    nav: Option<Nav>,
    account: String,
    app: String,
    app_href: String,
    heading: String,
    fields: Vec<FieldRow>,
    changes: Vec<ChangeRow>,
    more_changes: bool,
    lineage: Vec<LineageLink>,
}

/// `…/apps/:app/events/:event_id`: every field, the history and the
/// lineage of an event.
pub async fn event(
    State(state): State<SharedState>,
    Viewer { account, nav }: Viewer,
    Segments((_, app, id)): Segments<(String, String, String)>,
) -> Result<Response, UiError> {
    let id = parse_event_id(&id)
        .ok_or_else(|| DomainError::NotFound(format!("Event {id}")))
        .or_page(&nav)?;
    let lineage = state
        .store
        .event_lineage(&account, &app, id)
        .await
        .or_page(&nav)?;
    let history = PageRequest {
        order: Order::Asc,
        limit: LIST_LIMIT,
        after: None,
    };
    let changes = state
        .store
        .event_history(&account, &app, id, &history)
        .await
        .or_page(&nav)?;
    let (changes, more_changes) = split_page(changes, LIST_LIMIT);
    let owner = account.name.as_str();
    let event = &lineage.event;
    let chain = lineage
        .ancestors
        .iter()
        .rev()
        .map(|e| LineageLink::new(owner, e, false))
        .chain([LineageLink::new(owner, event, true)])
        .chain(
            lineage
                .descendants
                .iter()
                .map(|e| LineageLink::new(owner, e, false)),
        )
        .collect();
    Ok(render(&EventPage {
        title: format!("{} {} · {app}", event.event_type.as_str(), event.event_id),
        heading: format!("{} {}", event.event_type.as_str(), event.event_id),
        account: owner.to_owned(),
        app_href: app_href(owner, &app),
        fields: view::fields(owner, event),
        changes: changes.iter().map(ChangeRow::new).collect(),
        more_changes,
        lineage: chain,
        app,
        nav: Some(nav),
    }))
}

struct RunningRow {
    env: Link,
    release: String,
    deployed_at: String,
    deploy: Link,
}

#[derive(Template)]
#[template(path = "commit.html")]
struct CommitPage {
    title: String,
    nav: Option<Nav>,
    account: String,
    app: String,
    app_href: String,
    commit: String,
    running: Vec<RunningRow>,
    rows: Vec<EventRow>,
}

/// `…/apps/:app/commits/:commit_id`: every event that carried a commit and
/// where it runs now.
pub async fn commit(
    State(state): State<SharedState>,
    Viewer { account, nav }: Viewer,
    Segments((_, app, commit)): Segments<(String, String, String)>,
) -> Result<Response, UiError> {
    let story = state
        .store
        .get_commit(&account, &app, &commit)
        .await
        .or_page(&nav)?;
    let owner = account.name.as_str();
    let running = story
        .deployed_to
        .iter()
        .map(|d| RunningRow {
            env: Link {
                href: env_href(owner, &d.env_name),
                text: d.env_name.clone(),
            },
            release: d.release_version.clone().unwrap_or_default(),
            deployed_at: d.deployed_at.to_string(),
            deploy: Link {
                href: event_href(owner, &app, d.event_id),
                text: format!("DEPLOY {}", d.event_id),
            },
        })
        .collect();
    Ok(render(&CommitPage {
        title: format!("Commit {} · {app}", view::short_commit(&commit)),
        account: owner.to_owned(),
        app_href: app_href(owner, &app),
        running,
        rows: EventRow::list(owner, &story.events),
        commit: story.commit_id,
        app,
        nav: Some(nav),
    }))
}

#[derive(Template)]
#[template(path = "env.html")]
struct EnvPage {
    title: String,
    nav: Option<Nav>,
    account: String,
    env: String,
    app: String,
    app_href: String,
    release: String,
    last: Option<EventRow>,
    rows: Vec<EventRow>,
    newer: Option<String>,
    older: Option<String>,
}

/// `/-/ui/:username/envs/:env`: what runs in an env and its deploys,
/// newest first, rollbacks marked.
pub async fn env(
    State(state): State<SharedState>,
    Viewer { account, nav }: Viewer,
    Segments((_, name)): Segments<(String, String)>,
    params: Params,
) -> Result<Response, UiError> {
    let env = state.store.get_env(&account, &name).await.or_page(&nav)?;
    let params = params.or_default("max_results", EVENTS_PER_PAGE);
    let filter = EventFilter {
        branch: None,
        event_type: Some(EventType::Deploy),
        env: Some(env.name.clone()),
    };
    let [branch_key, type_key, env_key] = filter.scope();
    let scope = [
        "events",
        &account.name,
        &env.app_name,
        branch_key,
        type_key,
        env_key,
    ];
    let (listing, page) =
        Listing::start(&state, &params, &scope, Ordering::Fixed(Order::Desc)).or_page(&nav)?;
    let rows = state
        .store
        .list_events(&account, &env.app_name, &filter, &page)
        .await
        .or_page(&nav)?;
    let (deploys, marker) = listing.finish(rows, |event| event.event_id);
    // Which deploys were rollbacks is DORA's rule, over the env's facts.
    let facts = state
        .store
        .dora_facts(&account, Some(&env.app_name), Some(&env.name))
        .await
        .or_page(&nav)?;
    let rollbacks = shiplog_domain::dora::rollbacks(&facts.deployments);
    let owner = account.name.as_str();
    let mut rows = EventRow::list(owner, &deploys);
    for row in &mut rows {
        row.rollback = rollbacks.contains(&row.id);
    }
    let base = env_href(owner, &env.name);
    let first = page.after.is_none();
    Ok(render(&EnvPage {
        title: format!("Env {}", env.name),
        account: owner.to_owned(),
        app_href: app_href(owner, &env.app_name),
        release: env.active_release_version.clone().unwrap_or_default(),
        last: env
            .last_deployment
            .as_ref()
            .map(|event| EventRow::new(owner, event)),
        rows,
        older: marker.map(|marker| format!("{base}?{}", query(&[("marker", Some(&marker))]))),
        newer: (!first).then(|| base.clone()),
        env: env.name,
        app: env.app_name,
        nav: Some(nav),
    }))
}
