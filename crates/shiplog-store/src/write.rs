//! The one write path for events: every rule that involves other rows
//! (parents, releases from builds, release versions, deploy defaults, the
//! terminal-state rule and its retry) and the change record of each write,
//! over the small transaction interface each backend implements.
//!
//! Both backends run these functions inside their group-commit transaction,
//! so an event and the changes it causes commit together or not at all; a
//! backend only runs the statements (see [`WriteTx`]).

use shiplog_api::{CreatedOut, EventEnvelope, EventOut};
use shiplog_domain::input::{EventUpdate, NewEvent};
use shiplog_domain::rules::{self, UpdateOutcome};
use shiplog_domain::{
    Actor, ChangeKind, DomainError, Event, EventFields, EventType, NewChange, Timestamp,
};

use crate::append::Append;
use crate::columns::{AppRow, SqlValue, event_values, list_to_json, to_json_text};
use crate::constraints::Unique;
pub use crate::db::WriteTx;
use crate::idempotency::{self, IdempotencyKey, Keyed};
use crate::reads::load_event;
use crate::{Account, Result, StoreError, dora, queries};

/// The per-app counters behind generated values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    Release,
    Deploy,
}

/// The RELEASE of `app` with this version.
async fn find_release<T: WriteTx>(
    tx: &mut T,
    app: &AppRow,
    version: &str,
) -> Result<Option<Event>> {
    let values = vec![app.id.into(), version.into()];
    Ok(tx
        .events(&app.name, &queries::FIND_RELEASE, values)
        .await?
        .pop())
}

/// Increments one of the app's counters and returns its new value.
async fn bump_counter<T: WriteTx>(tx: &mut T, app: &AppRow, counter: Counter) -> Result<i64> {
    tx.scalar(queries::bump_counter(counter), vec![app.id.into()])
        .await?
        .ok_or_else(|| StoreError::not_found(format!("App {}", app.name)))
}

/// Inserts an event and returns its id. A RELEASE is inserted at once: its
/// version's unique index may refuse it, and that refusal is this write's
/// answer. Any other may be held for the batch ([`WriteTx::append_event`]).
async fn insert_event<T: WriteTx>(
    tx: &mut T,
    app: &AppRow,
    event_type: EventType,
    event_time: Timestamp,
    fields: &EventFields,
) -> Result<i64> {
    let values = event_values(app.id, event_type, event_time, fields);
    if event_type != EventType::Release {
        return tx.append_event(values).await;
    }
    match tx.insert(&queries::INSERT_EVENT, values).await {
        Ok(id) => Ok(id),
        Err(StoreError::Unique(Unique::ReleaseVersion)) => {
            Err(Unique::ReleaseVersion.error(fields.release_version.as_deref().unwrap_or_default()))
        }
        Err(err) => Err(err),
    }
}

/// Stores the updatable fields of a BUILD, DEPLOY or INCIDENT unless it is terminal;
/// false if it was (another writer got there first).
async fn update_unless_terminal<T: WriteTx>(
    tx: &mut T,
    event_id: i64,
    event_type: EventType,
    next: &EventFields,
) -> Result<bool> {
    let millis = |t: Option<Timestamp>| SqlValue::Int(t.map(Timestamp::millis));
    let (sql, values) = match event_type {
        EventType::Build => (
            &*queries::UPDATE_BUILD_UNLESS_TERMINAL,
            vec![
                millis(next.build_end),
                SqlValue::Text(next.build_status.map(|s| s.as_str().to_owned())),
                SqlValue::Text(next.release_version.clone()),
                event_id.into(),
            ],
        ),
        EventType::Incident => (
            &*queries::UPDATE_INCIDENT_UNLESS_TERMINAL,
            vec![
                SqlValue::Text(next.incident_status.map(|s| s.as_str().to_owned())),
                millis(next.incident_end),
                event_id.into(),
            ],
        ),
        _ => (
            &*queries::UPDATE_DEPLOY_UNLESS_TERMINAL,
            vec![
                SqlValue::Text(next.deployment_status.map(|s| s.as_str().to_owned())),
                millis(next.deployment_end),
                event_id.into(),
            ],
        ),
    };
    Ok(tx.execute(sql, values).await? > 0)
}

/// Records a change.
async fn insert_change<T: WriteTx>(
    tx: &mut T,
    account_id: i64,
    app: &AppRow,
    actor: &Actor,
    change: &NewChange,
) -> Result<()> {
    let values = vec![
        account_id.into(),
        app.id.into(),
        change.event_id.into(),
        change.at.millis().into(),
        change.kind.as_str().into(),
        to_json_text(actor).as_str().into(),
        SqlValue::Text(match change.kind {
            ChangeKind::Created => None,
            ChangeKind::Updated => Some(to_json_text(&change.fields)),
        }),
    ];
    // Queued for the webhooks by the writer, once per batch
    // (`webhooks::enqueue_since`).
    tx.append(Append::Change, values).await
}

/// Makes sure the env a DEPLOY or INCIDENT names belongs to `app`,
/// creating it (with no description, tags or vars) if the account has no
/// env of that name.
async fn ensure_env<T: WriteTx>(
    tx: &mut T,
    account_id: i64,
    app: &AppRow,
    env: &str,
) -> Result<()> {
    let owner = tx
        .scalar(queries::ENV_APP_ID, vec![account_id.into(), env.into()])
        .await?;
    match owner {
        Some(app_id) if app_id == app.id => Ok(()),
        Some(_) => Err(DomainError::bad_param(
            "env_name",
            format!("Env {env} belongs to another app"),
        )
        .into()),
        None => {
            let values = vec![
                account_id.into(),
                app.id.into(),
                env.into(),
                SqlValue::Text(None),
                list_to_json::<String>(&[]).as_str().into(),
                list_to_json::<String>(&[]).as_str().into(),
                Timestamp::now().millis().into(),
            ];
            match tx.execute(queries::INSERT_ENV, values).await {
                Err(StoreError::Unique(Unique::EnvName)) => Err(Unique::EnvName.error(env)),
                other => other.map(|_| ()),
            }
        }
    }
}

/// Records `event` as [`create_event`] does, once per idempotency key: a
/// repeat answers the first answer.
pub async fn create_event_keyed<T: WriteTx>(
    tx: &mut T,
    account: &Account,
    actor: &Actor,
    app: &str,
    event: NewEvent,
    key: Option<&IdempotencyKey>,
) -> Result<Keyed<i64>> {
    let now = Timestamp::now();
    if let Some(key) = key
        && let Some(answer) = idempotency::recall(tx, account.id, key, now).await?
    {
        return Ok(Keyed::Repeat(answer));
    }
    let id = create_event(tx, account, actor, app, event).await?;
    if let Some(key) = key {
        let answer = to_json_text(&CreatedOut {
            event_id: id.to_string(),
        });
        idempotency::remember(tx, account.id, key, &answer, now).await?;
    }
    Ok(Keyed::Done(id))
}

/// Applies `update` as [`update_event`] does, once per idempotency key.
pub async fn update_event_keyed<T: WriteTx>(
    tx: &mut T,
    account: &Account,
    actor: &Actor,
    app: &str,
    event_id: i64,
    update: &EventUpdate,
    key: Option<&IdempotencyKey>,
) -> Result<Keyed<Event>> {
    let now = Timestamp::now();
    if let Some(key) = key
        && let Some(answer) = idempotency::recall(tx, account.id, key, now).await?
    {
        return Ok(Keyed::Repeat(answer));
    }
    let event = update_event(tx, account, actor, app, event_id, update).await?;
    if let Some(key) = key {
        let answer = to_json_text(&EventEnvelope {
            event: EventOut::from(&event),
        });
        idempotency::remember(tx, account.id, key, &answer, now).await?;
    }
    Ok(Keyed::Done(event))
}

/// Records `event` in the app named `app`, with its change.
pub async fn create_event<T: WriteTx>(
    tx: &mut T,
    account: &Account,
    actor: &Actor,
    app: &str,
    event: NewEvent,
) -> Result<i64> {
    let app = tx.find_app(account, app).await?;
    let now = Timestamp::now();
    let NewEvent {
        event_type,
        mut fields,
    } = event;
    match event_type {
        EventType::Build => {
            if let Some(id) = fields.parent_event_id {
                let push = parent(tx, &app, id, event_type).await?;
                rules::inherit_from_push(&mut fields, &push.fields);
            }
        }
        EventType::Release => {
            if let Some(id) = fields.parent_event_id {
                let build = parent(tx, &app, id, event_type).await?;
                rules::inherit_from_build(&mut fields, &build.fields);
            }
            match &fields.release_version {
                Some(version) => {
                    if find_release(tx, &app, version).await?.is_some() {
                        return Err(StoreError::already_exists(format!("Release {version}")));
                    }
                }
                None => fields.release_version = Some(next_release_version(tx, &app).await?),
            }
        }
        EventType::Deploy => {
            let env = fields.env_name.clone().unwrap_or_default();
            ensure_env(tx, account.id, &app, &env).await?;
            let release = match (fields.parent_event_id, &fields.release_version) {
                (Some(id), _) => Some(parent(tx, &app, id, event_type).await?),
                (None, Some(version)) => find_release(tx, &app, version).await?,
                (None, None) => None,
            };
            if let Some(release) = release {
                rules::inherit_from_release(&mut fields, &release);
            }
            let number = match fields.deployment_number {
                Some(_) => 0,
                None => bump_counter(tx, &app, Counter::Deploy).await?,
            };
            rules::fill_deploy_defaults(&mut fields, now, number)?;
        }
        EventType::Incident => {
            let env = fields.env_name.clone().unwrap_or_default();
            ensure_env(tx, account.id, &app, &env).await?;
            if let Some(id) = fields.caused_by_event_id {
                cause(tx, &app, id).await?;
            }
            rules::fill_incident_defaults(&mut fields, now)?;
        }
        EventType::Push | EventType::PullRequest | EventType::DockerImage => {}
    }
    let id = record_new(tx, account, actor, &app, event_type, now, &fields).await?;
    if event_type == EventType::Build
        && let Some(version) = &fields.release_version
    {
        ensure_release_of_build(tx, account, actor, &app, id, version, &fields, now).await?;
    }
    Ok(id)
}

/// Applies `update` to a BUILD, DEPLOY or INCIDENT under the terminal-state rule,
/// recording a change unless nothing changes.
pub async fn update_event<T: WriteTx>(
    tx: &mut T,
    account: &Account,
    actor: &Actor,
    app: &str,
    event_id: i64,
    update: &EventUpdate,
) -> Result<Event> {
    let app = tx.find_app(account, app).await?;
    let now = Timestamp::now();
    let not_found = || StoreError::not_found(format!("Event {event_id}"));
    let current = load_event(tx, &app, event_id)
        .await?
        .ok_or_else(not_found)?;
    let next =
        match rules::apply_update(event_id, current.event_type, &current.fields, update, now)? {
            UpdateOutcome::Unchanged => return Ok(current),
            UpdateOutcome::Changed(next) => *next,
        };
    if !update_unless_terminal(tx, event_id, current.event_type, &next).await? {
        // Writes are serialised (one SQLite writer; one advisory lock on
        // PostgreSQL), so the row read above cannot have turned terminal
        // since: this is a guard. Judge the update again on what is stored.
        let latest = load_event(tx, &app, event_id)
            .await?
            .ok_or_else(not_found)?;
        return match rules::apply_update(event_id, latest.event_type, &latest.fields, update, now)?
        {
            UpdateOutcome::Unchanged => Ok(latest),
            UpdateOutcome::Changed(_) => Err(StoreError::Internal(format!(
                "event {event_id} changed under a conditional update"
            ))),
        };
    }
    let after = Event {
        fields: next,
        ..current.clone()
    };
    let (before, changed) = (EventOut::json(&current), EventOut::json(&after));
    if let Some(change) = NewChange::updated(event_id, &before, &changed, now) {
        insert_change(tx, account.id, &app, actor, &change).await?;
    }
    dora::on_updated(tx, account.id, &app, &current, &after).await?;
    if after.event_type == EventType::Build
        && let Some(version) = &update.release_version
    {
        ensure_release_of_build(
            tx,
            account,
            actor,
            &app,
            event_id,
            version,
            &after.fields,
            now,
        )
        .await?;
    }
    Ok(after)
}

/// Inserts a new event and the change that records its creation.
async fn record_new<T: WriteTx>(
    tx: &mut T,
    account: &Account,
    actor: &Actor,
    app: &AppRow,
    event_type: EventType,
    now: Timestamp,
    fields: &EventFields,
) -> Result<i64> {
    let event_id = insert_event(tx, app, event_type, now, fields).await?;
    let recorded = dora::Recorded {
        event_id,
        event_type,
        event_time: now,
        fields,
    };
    dora::on_created(tx, account.id, app, recorded).await?;
    insert_change(
        tx,
        account.id,
        app,
        actor,
        &NewChange::created(event_id, now),
    )
    .await?;
    Ok(event_id)
}

/// The parent an event names, which must be an event of the same app of one
/// of the types the child allows.
async fn parent<T: WriteTx>(tx: &mut T, app: &AppRow, id: i64, child: EventType) -> Result<Event> {
    let allowed = rules::allowed_parents(child);
    load_event(tx, app, id)
        .await?
        .filter(|event| allowed.contains(&event.event_type))
        .ok_or_else(|| {
            let types: Vec<_> = allowed.iter().map(|t| t.as_str()).collect();
            DomainError::bad_param(
                "parent_event_id",
                format!(
                    "event {id} is not a {} event of app {}",
                    types.join(" or "),
                    app.name
                ),
            )
            .into()
        })
}

/// The DEPLOY an INCIDENT says caused it, which must be one of the app's.
async fn cause<T: WriteTx>(tx: &mut T, app: &AppRow, id: i64) -> Result<Event> {
    load_event(tx, app, id)
        .await?
        .filter(|event| event.event_type == EventType::Deploy)
        .ok_or_else(|| {
            DomainError::bad_param(
                "caused_by_event_id",
                format!("event {id} is not a DEPLOY event of app {}", app.name),
            )
            .into()
        })
}

/// Records the RELEASE a build reported, unless the app already has it.
#[allow(clippy::too_many_arguments)]
async fn ensure_release_of_build<T: WriteTx>(
    tx: &mut T,
    account: &Account,
    actor: &Actor,
    app: &AppRow,
    build_id: i64,
    version: &str,
    build: &EventFields,
    now: Timestamp,
) -> Result<()> {
    if find_release(tx, app, version).await?.is_some() {
        return Ok(());
    }
    let release = rules::release_of_build(build_id, build, version);
    record_new(tx, account, actor, app, EventType::Release, now, &release)
        .await
        .map(|_| ())
}

/// The next `vN` the app has not used.
async fn next_release_version<T: WriteTx>(tx: &mut T, app: &AppRow) -> Result<String> {
    loop {
        let version = rules::release_version(bump_counter(tx, app, Counter::Release).await?);
        if find_release(tx, app, &version).await?.is_none() {
            return Ok(version);
        }
    }
}
