//! CDEvents, written once over [`Db`] for both backends: a change's
//! CDEvent, with the facts about other rows its mapping needs found by
//! indexed lookups, and the write path of CDEvents received, through the
//! same commands, dedup table and change record as a webhook delivery.

use serde_json::Value;
use shiplog_api::hooks::CdeventOut;
use shiplog_domain::{Actor, Change, DomainError, dora};
use shiplog_ingest::Outcome;
use shiplog_ingest::cdevents::incoming::Incoming;
use shiplog_ingest::cdevents::out::{self, Context, Kind, ReleaseMove};

use crate::columns::{AppRow, Columns, SqlValue, to_json_text};
use crate::db::{Db, WriteTx};
use crate::hooks::{apply, recall, remember};
use crate::{Account, Result, StoreError, queries};

/// The hook name of CDEvents received: the actor's `hook`, and where their
/// `(context.source, context.id)` keys are kept beside the deliveries.
pub const HOOK: &str = "cdevents";

/// The change as a CDEvent whose `context.source` is `source` (the
/// server's public URL); `None` when the mapping names none for it, or
/// its app is gone (with its events, which the CDEvent would describe).
pub async fn cdevent<D: Db>(
    db: &mut D,
    account: &Account,
    change: &Change,
    source: &str,
) -> Result<Option<Value>> {
    let Some(kind) = out::kind(change) else {
        return Ok(None);
    };
    let app = match db.find_app(account, &change.app_name).await {
        Ok(app) => app,
        Err(StoreError::Domain(DomainError::NotFound(_))) => return Ok(None),
        Err(err) => return Err(err),
    };
    let ids = vec![change.event_id.into(), app.id.into()];
    let ancestors = db.events(&app.name, &queries::ANCESTORS, ids).await?;
    let mut context = Context::new(
        source,
        &account.name,
        ancestors
            .last()
            .map_or(change.event_id, |root| root.event_id),
    );
    if let Some(parent) = ancestors.first() {
        let values = vec![
            app.id.into(),
            parent.event_id.into(),
            change.change_id.into(),
        ];
        context.parent_change = db
            .rows(LATEST_CHANGE_BEFORE, values, id_column)
            .await?
            .pop();
    }
    match kind {
        Kind::PullRequest => {
            if let Some(branch) = change.event.get("branch").and_then(Value::as_str) {
                let values = vec![app.id.into(), branch.into(), change.event_id.into()];
                context.branch_seen = !db
                    .rows(EARLIER_OF_BRANCH, values, id_column)
                    .await?
                    .is_empty();
            }
        }
        Kind::ServiceDeployed => {
            context.release_move = release_move(db, account, &app, change.event_id).await?;
        }
        _ => {}
    }
    Ok(out::cdevent(change, &context))
}

/// How an `Ok` deployment's release compares with the env's previous `Ok`
/// deployment's, in DORA's order (end, then id) and by DORA's rollback
/// rule, read from the DORA facts.
async fn release_move<D: Db>(
    db: &mut D,
    account: &Account,
    app: &AppRow,
    event_id: i64,
) -> Result<ReleaseMove> {
    let this = db
        .rows(DEPLOYMENT, vec![event_id.into()], deployment_row)
        .await?
        .pop();
    let Some((env, end_ms, release)) = this else {
        return Ok(ReleaseMove::First);
    };
    let values = vec![
        account.id.into(),
        SqlValue::Text(Some(env)),
        app.id.into(),
        end_ms.into(),
        event_id.into(),
    ];
    let previous = db
        .rows(PREVIOUS_OK_DEPLOYMENT, values, release_row)
        .await?
        .pop();
    Ok(match previous {
        None => ReleaseMove::First,
        Some(previous) if dora::is_rollback(previous, release) => ReleaseMove::Older,
        Some(_) => ReleaseMove::Newer,
    })
}

/// Records CDEvents received for `app`, in order and once each per
/// `(context.source, context.id)`: a repeat answers its first answer with
/// `duplicate` set and records nothing.
pub async fn ingest<T: WriteTx>(
    tx: &mut T,
    account: &Account,
    app: &str,
    events: Vec<Incoming>,
) -> Result<Vec<CdeventOut>> {
    let app = tx.find_app(account, app).await?;
    let mut answers = Vec::with_capacity(events.len());
    for incoming in events {
        let key = incoming.key();
        if let Some(mut first) = recall::<_, CdeventOut>(tx, account, HOOK, &key).await? {
            first.duplicate = true;
            answers.push(first);
            continue;
        }
        let actor = Actor::Hook {
            hook: HOOK.to_owned(),
            delivery: incoming.delivery(),
        };
        let (event_ids, ignored) = match incoming.outcome {
            Outcome::Ignored(why) => (Vec::new(), Some(why)),
            Outcome::Record(commands) => {
                let mut ids = Vec::new();
                for command in commands {
                    if let Some(id) = apply(tx, account, &actor, &app, command).await? {
                        ids.push(id.to_string());
                    }
                }
                (ids, None)
            }
        };
        let answer = CdeventOut {
            event_ids,
            duplicate: false,
            ignored,
        };
        remember(tx, account, HOOK, &key, &to_json_text(&answer)).await?;
        answers.push(answer);
    }
    Ok(answers)
}

fn id_column(row: &dyn Columns) -> Result<i64> {
    row.int(0)?
        .ok_or_else(|| crate::StoreError::Internal("an id column is empty".into()))
}

fn deployment_row(row: &dyn Columns) -> Result<(String, i64, Option<i64>)> {
    let corrupt = || crate::StoreError::Internal("a DORA deployment lacks a column".into());
    Ok((
        row.text(0)?.ok_or_else(corrupt)?,
        row.int(1)?.ok_or_else(corrupt)?,
        row.int(2)?,
    ))
}

fn release_row(row: &dyn Columns) -> Result<Option<i64>> {
    row.int(0)
}

/// The latest change of an event before a change: (app id, event id,
/// change id). Served by the index on (app id, event id, id).
const LATEST_CHANGE_BEFORE: &str = "SELECT id FROM changes \
     WHERE app_id = $1 AND event_id = $2 AND id < $3 ORDER BY id DESC LIMIT 1";

/// An earlier event of an app on a branch: (app id, branch, event id).
/// Served by the index on (app id, branch, id).
const EARLIER_OF_BRANCH: &str = "SELECT id FROM events \
     WHERE app_id = $1 AND branch = $2 AND id < $3 ORDER BY id DESC LIMIT 1";

/// A deployment's env, end and release: (event id), its primary key.
const DEPLOYMENT: &str =
    "SELECT env_name, end_ms, release_id FROM dora_deployments WHERE event_id = $1";

/// The release of the env's last `Ok` deployment before one, in DORA's
/// order: (account id, env, app id, end, event id). Served by the index on
/// (account id, env, end).
const PREVIOUS_OK_DEPLOYMENT: &str = "SELECT release_id FROM dora_deployments \
     WHERE account_id = $1 AND env_name = $2 AND app_id = $3 AND ok \
     AND (end_ms < $4 OR (end_ms = $4 AND event_id < $5)) \
     ORDER BY end_ms DESC, event_id DESC LIMIT 1";
