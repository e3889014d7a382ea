//! The reads of an event's story, written once over [`Db`]: one event, its
//! history and lineage, a commit, and an account's changes.

use std::collections::{BTreeSet, HashMap};

use serde_json::Map;
use shiplog_api::EventOut;
use shiplog_domain::change::{created_fields, rewind};
use shiplog_domain::{Change, Event, PageRequest};

use crate::columns::{AppRow, ChangeRow, SqlValue};
use crate::db::Db;
use crate::{Account, CommitStory, Lineage, Result, StoreError, pages, queries};

/// The id to list changes after: none means from the first.
fn after_change(page: &PageRequest<i64>) -> SqlValue {
    page.after.unwrap_or(0).into()
}

fn fetch_limit(page: &PageRequest<i64>) -> SqlValue {
    (page.fetch_limit() as i64).into()
}

/// One event of an app, if it exists.
pub async fn load_event<D: Db>(db: &mut D, app: &AppRow, event_id: i64) -> Result<Option<Event>> {
    let values = vec![event_id.into(), app.id.into()];
    Ok(db
        .events(&app.name, &queries::LOAD_EVENT, values)
        .await?
        .pop())
}

async fn existing_event<D: Db>(db: &mut D, app: &AppRow, event_id: i64) -> Result<Event> {
    load_event(db, app, event_id)
        .await?
        .ok_or_else(|| StoreError::not_found(format!("Event {event_id}")))
}

pub async fn get_event<D: Db>(db: &mut D, account: &Account, app: &str, id: i64) -> Result<Event> {
    let app = db.find_app(account, app).await?;
    existing_event(db, &app, id).await
}

pub async fn event_history<D: Db>(
    db: &mut D,
    account: &Account,
    app: &str,
    event_id: i64,
    page: &PageRequest<i64>,
) -> Result<Vec<Change>> {
    let app = db.find_app(account, app).await?;
    existing_event(db, &app, event_id).await?;
    let values = vec![
        app.id.into(),
        event_id.into(),
        after_change(page),
        fetch_limit(page),
    ];
    let rows = db.changes(&queries::EVENT_HISTORY, values).await?;
    complete(db, rows).await
}

pub async fn event_lineage<D: Db>(
    db: &mut D,
    account: &Account,
    app: &str,
    event_id: i64,
) -> Result<Lineage> {
    let app = db.find_app(account, app).await?;
    let event = existing_event(db, &app, event_id).await?;
    let ids = || vec![event_id.into(), app.id.into()];
    Ok(Lineage {
        ancestors: db.events(&app.name, &queries::ANCESTORS, ids()).await?,
        event,
        descendants: db.events(&app.name, &queries::DESCENDANTS, ids()).await?,
    })
}

pub async fn get_commit<D: Db>(
    db: &mut D,
    account: &Account,
    app: &str,
    commit_id: &str,
) -> Result<CommitStory> {
    let app = db.find_app(account, app).await?;
    // No event can carry text the write path refuses (NUL), and PostgreSQL
    // would refuse to compare it.
    if commit_id.contains('\0') {
        return Err(StoreError::not_found(format!("Commit {commit_id}")));
    }
    let keys = || vec![app.id.into(), commit_id.into()];
    let events = db
        .events(&app.name, &queries::COMMIT_EVENTS, keys())
        .await?;
    let active = db
        .events(&app.name, &queries::ACTIVE_DEPLOYS_OF_COMMIT, keys())
        .await?;
    CommitStory::new(commit_id, events, active)
}

pub async fn list_changes<D: Db>(
    db: &mut D,
    account: &Account,
    page: &PageRequest<i64>,
) -> Result<Vec<Change>> {
    let values = vec![account.id.into(), after_change(page), fetch_limit(page)];
    let rows = db.changes(&queries::ACCOUNT_CHANGES, values).await?;
    complete(db, rows).await
}

/// Rebuilds what each event was right after each change: the event as it
/// is now, with every later update of it undone, newest first. Two queries
/// for the whole page: the events, and their later updates.
async fn complete<D: Db>(db: &mut D, rows: Vec<ChangeRow>) -> Result<Vec<Change>> {
    let Some(first) = rows.first().map(|row| row.change_id) else {
        return Ok(Vec::new());
    };
    let distinct = |ids: Vec<i64>| ids.into_iter().collect::<BTreeSet<_>>();
    let event_ids = pages::padded(distinct(rows.iter().map(|row| row.event_id).collect()));
    let app_ids = pages::padded(distinct(rows.iter().map(|row| row.app_id).collect()));
    let event_values: Vec<SqlValue> = event_ids.iter().map(|id| (*id).into()).collect();
    let current: HashMap<i64, Event> = db
        .events(
            "",
            &pages::events_by_ids_sql(event_ids.len()),
            event_values.clone(),
        )
        .await?
        .into_iter()
        .map(|event| (event.event_id, event))
        .collect();
    let mut values: Vec<SqlValue> = app_ids.iter().map(|id| (*id).into()).collect();
    values.extend(event_values);
    values.push(first.into());
    let sql = queries::updates_of_events_sql(app_ids.len(), event_ids.len());
    let later = db.changes(&sql, values).await?;
    rows.into_iter()
        .map(|row| {
            let mut event = current.get(&row.event_id).cloned().ok_or_else(|| {
                StoreError::Internal(format!("change {} of a missing event", row.change_id))
            })?;
            event.app_name.clone_from(&row.app_name);
            let mut state = EventOut::json(&event);
            for update in later
                .iter()
                .rev()
                .filter(|u| u.event_id == row.event_id && u.change_id > row.change_id)
            {
                rewind(&mut state, update.fields.as_ref().unwrap_or(&Map::new()));
            }
            let fields = match row.fields {
                Some(fields) => fields,
                None => created_fields(&state),
            };
            Ok(Change {
                change_id: row.change_id,
                at: row.at,
                kind: row.kind,
                actor: row.actor,
                app_name: row.app_name,
                event_id: row.event_id,
                fields,
                event: state,
            })
        })
        .collect()
}
