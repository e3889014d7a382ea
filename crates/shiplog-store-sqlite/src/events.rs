//! ListEvents on SQLite: keyset listing with SQL planned once per shape.

use rusqlite::Connection;
use rusqlite::types::Value;
use shiplog_domain::{Event, EventFilter, EventType, Order, PageRequest};
use shiplog_store::Result;
use shiplog_store::columns::{AppRow, EVENT_COLUMNS, ListedApp, event_from_columns};
use shiplog_store::pages;

use super::tx::query;

/// The newest event of `app` of a type, optionally only those to one env.
pub fn latest(
    conn: &Connection,
    app: &AppRow,
    event_type: EventType,
    env: Option<&str>,
) -> Result<Option<Event>> {
    let (filter, page) = pages::newest(event_type, env);
    Ok(list(conn, ListedApp::Found(app), &filter, &page, 1)?.pop())
}

/// One page of `app`'s events: at most `fetch` rows after the page's key.
pub fn list(
    conn: &Connection,
    app: ListedApp<'_>,
    filter: &EventFilter,
    page: &PageRequest<i64>,
    fetch: usize,
) -> Result<Vec<Event>> {
    query(
        conn,
        &list_sql(app, filter, page, fetch),
        list_values(app, filter, page),
        |row| event_from_columns(row, app.name()),
    )
}

/// The listing's SQL, assembled from fixed fragments only: every value from
/// the request is bound, in the order [`list_values`] gives them.
///
/// The event type (one of six constants) and the row count (at most 101)
/// are written into the SQL instead: SQLite re-plans a statement on every
/// run when a bound value could change its choice of a partial index or its
/// LIMIT, and with them as literals each variant is planned once and cached.
fn list_sql(
    app: ListedApp<'_>,
    filter: &EventFilter,
    page: &PageRequest<i64>,
    fetch: usize,
) -> String {
    let mut sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE app_id = ");
    sql.push_str(match app {
        ListedApp::Found(_) => "?",
        ListedApp::Named { .. } => "(SELECT id FROM apps WHERE account_id = ? AND name = ?)",
    });
    if filter.branch.is_some() {
        sql.push_str(" AND branch = ?");
    }
    if let Some(event_type) = filter.event_type {
        sql.push_str(" AND event_type = '");
        sql.push_str(event_type.as_str());
        sql.push('\'');
    }
    if filter.env.is_some() {
        sql.push_str(" AND env_name = ?");
    }
    if page.after.is_some() {
        sql.push_str(match page.order {
            Order::Asc => " AND id > ?",
            Order::Desc => " AND id < ?",
        });
    }
    sql.push_str(match page.order {
        Order::Asc => " ORDER BY id ASC LIMIT ",
        Order::Desc => " ORDER BY id DESC LIMIT ",
    });
    sql.push_str(&fetch.to_string());
    sql
}

fn list_values(app: ListedApp<'_>, filter: &EventFilter, page: &PageRequest<i64>) -> Vec<Value> {
    let mut values = match app {
        ListedApp::Found(app) => vec![Value::Integer(app.id)],
        ListedApp::Named { account_id, name } => {
            vec![Value::Integer(account_id), Value::Text(name.to_owned())]
        }
    };
    if let Some(branch) = &filter.branch {
        values.push(Value::Text(branch.clone()));
    }
    if let Some(env) = &filter.env {
        values.push(Value::Text(env.clone()));
    }
    if let Some(after) = page.after {
        values.push(Value::Integer(after));
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every filter combination, in both orders and with a marker, of an app
    /// found or named, is served by an index in id order: no table scan, no
    /// sort.
    #[test]
    fn every_listing_is_an_index_range_scan() {
        let conn = Connection::open_in_memory().unwrap();
        super::super::migrations::run(&conn).unwrap();
        let app = AppRow {
            id: 1,
            name: "a".into(),
            description: None,
            created_ms: 0,
            retention_days: None,
        };
        for mask in 0..8u8 {
            let filter = EventFilter {
                branch: (mask & 1 != 0).then(|| "main".to_owned()),
                event_type: (mask & 2 != 0).then_some(EventType::Deploy),
                env: (mask & 4 != 0).then(|| "prod".to_owned()),
            };
            for order in [Order::Asc, Order::Desc] {
                let named = ListedApp::Named {
                    account_id: 1,
                    name: "a",
                };
                for (listed, after) in [ListedApp::Found(&app), named]
                    .into_iter()
                    .flat_map(|listed| [(listed, None), (listed, Some(10))])
                {
                    let page = PageRequest {
                        order,
                        limit: 10,
                        after,
                    };
                    let plan = query_plan(&conn, listed, &filter, &page);
                    assert!(
                        plan.contains("SEARCH events USING INDEX"),
                        "{filter:?} {order:?}: {plan}"
                    );
                    assert!(
                        !plan.contains("TEMP B-TREE"),
                        "{filter:?} {order:?}: {plan}"
                    );
                }
            }
        }
    }

    fn query_plan(
        conn: &Connection,
        app: ListedApp<'_>,
        filter: &EventFilter,
        page: &PageRequest<i64>,
    ) -> String {
        let sql = format!("EXPLAIN QUERY PLAN {}", list_sql(app, filter, page, 11));
        let mut stmt = conn.prepare(&sql).unwrap();
        let values = list_values(app, filter, page);
        let rows = stmt
            .query_map(rusqlite::params_from_iter(values), |row| {
                row.get::<_, String>(3)
            })
            .unwrap();
        rows.map(Result::unwrap).collect::<Vec<_>>().join("; ")
    }
}
