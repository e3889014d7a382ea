//! Retention: removing events older than a cutoff, in bounded steps, while
//! keeping what the API shows and what runs.
//!
//! Each app is scanned from its newest event down, a bounded window of rows
//! per step, and each step is one short write transaction on both backends
//! (so writers never wait long). An old event goes unless it is protected —
//! the app's latest BUILD and RELEASE, each env's last DEPLOY, the DEPLOY
//! that brought the env's active release and that RELEASE — or some event
//! that stays names it as its parent or cause. A child always has a higher
//! id than its parent, so scanning down meets every child before its
//! parent: the chains of everything kept, protected or recent, stay whole,
//! and no `parent_event_id` or `caused_by_event_id` left points nowhere.
//! An event's history (changes) and DORA facts go in the same transaction.
//! The first sightings of commits (`dora_commits`) stay: the lead time of
//! deploys that stay is measured from them.

use std::collections::HashSet;

use shiplog_domain::Timestamp;

use crate::columns::Columns;
use crate::db::WriteTx;
use crate::{Result, Store};

const DAY_MS: i64 = 86_400_000;
/// Rows one step looks at: a few milliseconds of work.
pub const STEP_ROWS: usize = 500;

/// What is old: events before `before` if given, else older than an app's
/// own `retention_days`, else older than `default_days`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub before: Option<Timestamp>,
    pub default_days: Option<u32>,
    pub now: Timestamp,
}

impl Policy {
    /// The cutoff of an app, in milliseconds; none keeps everything.
    pub fn cutoff(&self, app_days: Option<i64>) -> Option<i64> {
        if let Some(before) = self.before {
            return Some(before.millis());
        }
        let days = app_days.or(self.default_days.map(i64::from))?;
        Some(
            self.now
                .millis()
                .saturating_sub(days.saturating_mul(DAY_MS)),
        )
    }
}

/// Where a run has got to: the app being scanned and the id its scan has
/// reached (none: from its newest event).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub app_id: i64,
    pub below: Option<i64>,
}

/// One step's work.
#[derive(Debug, Clone)]
pub struct Step {
    pub policy: Policy,
    pub cursor: Cursor,
    /// List what would go without removing it.
    pub dry_run: bool,
    /// The events this run removed (or, dry, would remove) so far: a
    /// parent goes only if all its children did.
    pub gone: HashSet<i64>,
}

/// An event a step removed (or would remove).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removed {
    pub account: String,
    pub app: String,
    pub event_id: i64,
    pub event_type: String,
    pub event_time: Timestamp,
}

/// What a step did, and where the next one starts (none: the run is done).
#[derive(Debug, Clone)]
pub struct StepDone {
    pub removed: Vec<Removed>,
    pub next: Option<Cursor>,
    pub gone: HashSet<i64>,
}

struct AppToScan {
    id: i64,
    account: String,
    name: String,
    retention_days: Option<i64>,
}

struct Scanned {
    id: i64,
    time_ms: i64,
    event_type: String,
}

const NEXT_APP: &str = "SELECT a.id, u.name, a.name, a.retention_days FROM apps a \
     JOIN users u ON u.id = a.account_id WHERE a.id >= $1 ORDER BY a.id LIMIT 1";

/// A window of an app's events, newest first: (app id, below id, rows).
const SCAN: &str = "SELECT id, event_time_ms, event_type FROM events \
     WHERE app_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3";

/// The events no cutoff removes: (app id).
const PROTECTED: &str = "\
     SELECT MAX(id) FROM events WHERE app_id = $1 AND event_type = 'BUILD' \
     UNION ALL SELECT MAX(id) FROM events WHERE app_id = $1 AND event_type = 'RELEASE' \
     UNION ALL SELECT (SELECT MAX(d.id) FROM events d WHERE d.app_id = $1 AND d.env_name = v.name \
                       AND d.event_type = 'DEPLOY') FROM envs v WHERE v.app_id = $1 \
     UNION ALL SELECT (SELECT MAX(d.id) FROM events d WHERE d.app_id = $1 AND d.env_name = v.name \
                       AND d.event_type = 'DEPLOY' AND d.deployment_status = 'Ok') \
               FROM envs v WHERE v.app_id = $1";

/// The RELEASE each env runs, by the version of its active deploy: (app id).
const RUNNING_RELEASES: &str = "SELECT r.id FROM envs v \
     JOIN events d ON d.id = (SELECT MAX(x.id) FROM events x WHERE x.app_id = $1 \
         AND x.env_name = v.name AND x.event_type = 'DEPLOY' AND x.deployment_status = 'Ok') \
     JOIN events r ON r.app_id = $1 AND r.event_type = 'RELEASE' \
         AND r.release_version = d.release_version \
     WHERE v.app_id = $1";

fn id_list(from: usize, count: usize) -> String {
    (from..from + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn int_values(ids: &[i64]) -> Vec<crate::columns::SqlValue> {
    ids.iter().map(|id| (*id).into()).collect()
}

fn read_app(row: &dyn Columns) -> Result<AppToScan> {
    Ok(AppToScan {
        id: row.int(0)?.unwrap_or_default(),
        account: row.text(1)?.unwrap_or_default(),
        name: row.text(2)?.unwrap_or_default(),
        retention_days: row.int(3)?,
    })
}

fn read_scanned(row: &dyn Columns) -> Result<Scanned> {
    Ok(Scanned {
        id: row.int(0)?.unwrap_or_default(),
        time_ms: row.int(1)?.unwrap_or_default(),
        event_type: row.text(2)?.unwrap_or_default(),
    })
}

fn read_id(row: &dyn Columns) -> Result<Option<i64>> {
    row.int(0)
}

fn read_pair(row: &dyn Columns) -> Result<(i64, i64)> {
    Ok((
        row.int(0)?.unwrap_or_default(),
        row.int(1)?.unwrap_or_default(),
    ))
}

/// Runs one step inside the backend's write transaction.
pub async fn step<T: WriteTx>(tx: &mut T, step: Step) -> Result<StepDone> {
    let Step {
        policy,
        cursor,
        dry_run,
        mut gone,
    } = step;
    let apps = tx
        .rows(NEXT_APP, vec![cursor.app_id.into()], read_app)
        .await?;
    let Some(app) = apps.into_iter().next() else {
        return Ok(StepDone {
            removed: Vec::new(),
            next: None,
            gone,
        });
    };
    let next_app = Some(Cursor {
        app_id: app.id + 1,
        below: None,
    });
    let cursor_below = if app.id == cursor.app_id {
        cursor.below
    } else {
        None
    };
    let Some(cutoff) = policy.cutoff(app.retention_days) else {
        return Ok(StepDone {
            removed: Vec::new(),
            next: next_app,
            gone,
        });
    };
    let values = vec![
        app.id.into(),
        cursor_below.unwrap_or(i64::MAX).into(),
        (STEP_ROWS as i64).into(),
    ];
    let scanned = tx.rows(SCAN, values, read_scanned).await?;
    let next = match scanned.last() {
        Some(last) if scanned.len() == STEP_ROWS => Some(Cursor {
            app_id: app.id,
            below: Some(last.id),
        }),
        _ => next_app,
    };
    let old: Vec<&Scanned> = scanned.iter().filter(|e| e.time_ms < cutoff).collect();
    if old.is_empty() {
        return Ok(StepDone {
            removed: Vec::new(),
            next,
            gone,
        });
    }
    let mut protected: HashSet<i64> = tx
        .rows(PROTECTED, vec![app.id.into()], read_id)
        .await?
        .into_iter()
        .flatten()
        .collect();
    protected.extend(
        tx.rows(RUNNING_RELEASES, vec![app.id.into()], read_id)
            .await?
            .into_iter()
            .flatten(),
    );
    let candidates: Vec<&Scanned> = old
        .into_iter()
        .filter(|e| !protected.contains(&e.id))
        .collect();
    let ids: Vec<i64> = candidates.iter().map(|e| e.id).collect();
    let children = if ids.is_empty() {
        Vec::new()
    } else {
        let sql = format!(
            "SELECT parent_event_id, id FROM events WHERE parent_event_id IN ({list}) \
             UNION ALL SELECT caused_by_event_id, id FROM events WHERE caused_by_event_id IN ({list})",
            list = id_list(1, ids.len())
        );
        tx.rows(&sql, int_values(&ids), read_pair).await?
    };
    // Newest first: children are decided before their parents.
    let mut removed = Vec::new();
    for event in candidates {
        let kept_child = children
            .iter()
            .any(|(parent, child)| *parent == event.id && !gone.contains(child));
        if kept_child {
            continue;
        }
        gone.insert(event.id);
        removed.push(Removed {
            account: app.account.clone(),
            app: app.name.clone(),
            event_id: event.id,
            event_type: event.event_type.clone(),
            event_time: Timestamp::from_millis(event.time_ms),
        });
    }
    if !dry_run && !removed.is_empty() {
        remove(tx, app.id, cutoff, &removed).await?;
    }
    Ok(StepDone {
        removed,
        next,
        gone,
    })
}

/// Removes events with their history and DORA facts, and records how far
/// back the app's data was cut.
async fn remove<T: WriteTx>(
    tx: &mut T,
    app_id: i64,
    cutoff: i64,
    removed: &[Removed],
) -> Result<()> {
    let ids: Vec<i64> = removed.iter().map(|r| r.event_id).collect();
    let list = id_list(2, ids.len());
    let mut values = vec![app_id.into()];
    values.extend(int_values(&ids));
    for table in ["changes", "dora_deployments", "dora_incidents"] {
        let sql = format!("DELETE FROM {table} WHERE app_id = $1 AND event_id IN ({list})");
        tx.execute(&sql, values.clone()).await?;
    }
    let sql = format!("DELETE FROM events WHERE app_id = $1 AND id IN ({list})");
    tx.execute(&sql, values).await?;
    // Placeholders numbered in the order they first appear, as SQLite
    // binds them.
    tx.execute(
        "UPDATE apps SET pruned_before_ms = $1 WHERE id = $2 \
         AND (pruned_before_ms IS NULL OR pruned_before_ms < $1)",
        vec![cutoff.into(), app_id.into()],
    )
    .await?;
    Ok(())
}

/// Held while a run prunes (see [`Store::prune_lease`]); dropping it lets
/// another run start.
pub type Lease = Box<dyn std::any::Any + Send>;

/// What a run removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub removed: u64,
    /// Nothing was done: another instance was pruning.
    pub busy: bool,
}

/// Runs every step of a prune; `each` sees what each step removed (or
/// would remove). Each step is a write of its own, so writes that
/// arrive meanwhile are not held back by the whole run.
pub async fn run(
    store: &dyn Store,
    policy: Policy,
    dry_run: bool,
    mut each: impl FnMut(&Removed),
) -> Result<Summary> {
    let Some(_lease) = store.prune_lease().await? else {
        return Ok(Summary {
            removed: 0,
            busy: true,
        });
    };
    let mut cursor = Some(Cursor {
        app_id: 0,
        below: None,
    });
    let mut gone = HashSet::new();
    let mut summary = Summary::default();
    while let Some(at) = cursor {
        let done = store
            .prune_step(Step {
                policy,
                cursor: at,
                dry_run,
                gone,
            })
            .await?;
        for removed in &done.removed {
            each(removed);
        }
        summary.removed += done.removed.len() as u64;
        // A real run's removed events are gone from the database: only a
        // dry run must remember them.
        gone = if dry_run { done.gone } else { HashSet::new() };
        cursor = done.next;
    }
    Ok(summary)
}
