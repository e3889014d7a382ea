//! The reads of an event's story, written once over [`Db`]: one event, its
//! history and lineage, a commit, and an account's changes.

use shiplog_domain::{Change, Event, PageRequest};

use crate::columns::{AppRow, SqlValue};
use crate::db::Db;
use crate::{Account, CommitStory, Lineage, Result, StoreError, queries};

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
    db.changes(&queries::EVENT_HISTORY, values).await
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
    db.changes(&queries::ACCOUNT_CHANGES, values).await
}
