//! ListEvents on PostgreSQL: keyset listing, its filters compiled with
//! bound values only.

use shiplog_domain::{Event, EventFilter, EventType, Order, PageRequest};
use shiplog_store::Result;
use shiplog_store::columns::{AppRow, EVENT_COLUMNS, ListedApp};
use shiplog_store::pages;
use sqlx::{PgConnection, QueryBuilder};

use super::tx::events;

/// The newest event of `app` of a type, optionally only those to one env.
pub async fn latest(
    conn: &mut PgConnection,
    app: &AppRow,
    event_type: EventType,
    env: Option<&str>,
) -> Result<Option<Event>> {
    let (filter, page) = pages::newest(event_type, env);
    Ok(list(conn, ListedApp::Found(app), &filter, &page, 1)
        .await?
        .pop())
}

/// One page of `app`'s events: at most `fetch` rows after the page's key.
/// Filters are compiled with bound values only.
pub async fn list(
    conn: &mut PgConnection,
    app: ListedApp<'_>,
    filter: &EventFilter,
    page: &PageRequest<i64>,
    fetch: usize,
) -> Result<Vec<Event>> {
    let mut query = QueryBuilder::new(format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE app_id = "
    ));
    match app {
        ListedApp::Found(app) => {
            query.push_bind(app.id);
        }
        ListedApp::Named { account_id, name } => {
            query
                .push("(SELECT id FROM apps WHERE account_id = ")
                .push_bind(account_id)
                .push(" AND name = ")
                .push_bind(name.to_owned())
                .push(")");
        }
    }
    if let Some(branch) = &filter.branch {
        query.push(" AND branch = ").push_bind(branch.clone());
    }
    if let Some(event_type) = filter.event_type {
        query
            .push(" AND event_type = ")
            .push_bind(event_type.as_str());
    }
    if let Some(env) = &filter.env {
        query.push(" AND env_name = ").push_bind(env.clone());
    }
    if let Some(after) = page.after {
        query.push(match page.order {
            Order::Asc => " AND id > ",
            Order::Desc => " AND id < ",
        });
        query.push_bind(after);
    }
    query.push(match page.order {
        Order::Asc => " ORDER BY id ASC LIMIT ",
        Order::Desc => " ORDER BY id DESC LIMIT ",
    });
    query.push_bind(fetch as i64);
    events(conn, app.name(), query.build()).await
}
