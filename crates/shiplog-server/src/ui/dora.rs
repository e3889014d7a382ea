//! The DORA page: GetDora's answer for the scope its form names, as a chart
//! and a table per metric.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use shiplog_domain::page::split_page;
use shiplog_domain::{Order, PageRequest};

use super::charts::{self, Chart};
use super::error::OrPage;
use super::session::{Nav, Viewer};
use super::{UiError, render};
use crate::extract::Params;
use crate::state::SharedState;

/// Apps and envs offered in the scope's controls.
const CHOICES: usize = 100;

#[derive(Template)]
#[template(path = "dora.html")]
struct DoraPage {
    title: String,
    nav: Option<Nav>,
    account: String,
    apps: Vec<(String, bool)>,
    envs: Vec<(String, bool)>,
    buckets: Vec<(&'static str, bool)>,
    from: String,
    to: String,
    scope: String,
    benchmark: String,
    charts: Vec<Chart>,
    width: f64,
    height: f64,
    baseline: String,
}

/// `/-/ui/:username/dora`: the metrics of the account, or of the app and
/// env chosen, over the window and buckets chosen.
pub async fn page(
    State(state): State<SharedState>,
    Viewer { account, nav }: Viewer,
    params: Params,
) -> Result<Response, UiError> {
    let dora = crate::routes::dora::evaluate(&state, &account, |name| params.get(name))
        .await
        .or_page(&nav)?;
    let all = PageRequest {
        order: Order::Asc,
        limit: CHOICES,
        after: None,
    };
    let (apps, _) = split_page(
        state.store.list_apps(&account, &all).await.or_page(&nav)?,
        CHOICES,
    );
    let (envs, _) = split_page(
        state
            .store
            .list_envs(&account, dora.app.as_deref(), &all)
            .await
            .or_page(&nav)?,
        CHOICES,
    );
    let chosen_env = params.get("env").unwrap_or_default();
    let scope = match &dora.app {
        Some(app) => format!("app {app}"),
        None => "every app".to_owned(),
    };
    let envs_text = if dora.envs.is_empty() {
        "no env".to_owned()
    } else {
        dora.envs.join(", ")
    };
    let date = |text: String| text.chars().take(10).collect::<String>();
    Ok(render(&DoraPage {
        title: format!("DORA · {}", account.name),
        account: account.name.clone(),
        apps: apps
            .iter()
            .map(|a| (a.name.clone(), dora.app.as_deref() == Some(a.name.as_str())))
            .collect(),
        envs: envs
            .iter()
            .map(|e| (e.name.clone(), e.name == chosen_env))
            .collect(),
        buckets: ["day", "week", "month"]
            .into_iter()
            .map(|b| (b, b == dora.bucket))
            .collect(),
        from: params.get("from").unwrap_or_default().to_owned(),
        to: params.get("to").unwrap_or_default().to_owned(),
        scope: format!(
            "{scope}, envs: {envs_text}, from {} to {} (exclusive), by {}",
            date(dora.from.to_string()),
            date(dora.to.to_string()),
            dora.bucket
        ),
        benchmark: dora.benchmark.clone(),
        charts: charts::charts(&dora),
        width: charts::WIDTH,
        height: charts::HEIGHT,
        baseline: charts::baseline(),
        nav: Some(nav),
    }))
}
