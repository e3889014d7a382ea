//! DORA's facts: a row per deployment, per commit's first sighting and
//! per incident, kept by the write path in the transaction of the events
//! they derive from, and read back for a scope with one range scan each,
//! so that no metrics request reads the events table.

use std::collections::HashMap;

use shiplog_domain::dora::{self, Deployment, EnvInfo, Incident, is_deployment};
use shiplog_domain::{DeploymentStatus, Event, EventFields, EventType, Timestamp};

use crate::append::Append;
use crate::columns::{AppRow, Columns, SqlValue, env_lists};
use crate::db::{Db, WriteTx};
use crate::reads::load_event;
use crate::{Account, Result, StoreError, queries};

/// What a metrics request is computed from: the envs in scope (sorted) and
/// every deployment and incident that concerns them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoraFacts {
    pub envs: Vec<String>,
    pub deployments: Vec<Deployment>,
    pub incidents: Vec<Incident>,
    /// The latest cutoff retention removed events of an app in scope by.
    pub pruned_before: Option<Timestamp>,
}

/// An event just recorded, as its facts need it.
pub struct Recorded<'a> {
    pub event_id: i64,
    pub event_type: EventType,
    pub event_time: Timestamp,
    pub fields: &'a EventFields,
}

/// Keeps the facts of an event just recorded.
pub async fn on_created<T: WriteTx>(
    tx: &mut T,
    account_id: i64,
    app: &AppRow,
    event: Recorded<'_>,
) -> Result<()> {
    let f = event.fields;
    match event.event_type {
        EventType::Push | EventType::PullRequest => {
            if let Some(commit) = &f.commit.commit_id {
                let values = vec![
                    app.id.into(),
                    commit.as_str().into(),
                    event.event_time.millis().into(),
                ];
                tx.append(Append::Commit, values).await?;
            }
            Ok(())
        }
        EventType::Release => {
            let Some(version) = &f.release_version else {
                return Ok(());
            };
            let mut values = release_values(tx, app, event.event_id, f).await?;
            values.extend([app.id.into(), version.as_str().into()]);
            tx.execute(ATTACH_RELEASE, values).await.map(|_| ())
        }
        EventType::Deploy => {
            record_deployment(tx, account_id, app, event.event_id, event.event_time, f).await
        }
        EventType::Incident => {
            let cause_env = match f.caused_by_event_id {
                Some(id) => load_event(tx, app, id)
                    .await?
                    .and_then(|deploy| deploy.fields.env_name),
                None => None,
            };
            let values = vec![
                event.event_id.into(),
                account_id.into(),
                app.id.into(),
                SqlValue::Text(f.env_name.clone()),
                SqlValue::Int(f.incident_start.map(Timestamp::millis)),
                SqlValue::Int(f.incident_end.map(Timestamp::millis)),
                SqlValue::Int(f.caused_by_event_id),
                SqlValue::Text(cause_env),
            ];
            tx.execute(INSERT_INCIDENT, values).await.map(|_| ())
        }
        EventType::Build | EventType::DockerImage => Ok(()),
    }
}

/// Keeps the facts of an event just updated from `before` to `after`.
pub async fn on_updated<T: WriteTx>(
    tx: &mut T,
    account_id: i64,
    app: &AppRow,
    before: &Event,
    after: &Event,
) -> Result<()> {
    match after.event_type {
        EventType::Deploy if !is_deployment(before.event_type, &before.fields) => {
            record_deployment(
                tx,
                account_id,
                app,
                after.event_id,
                after.event_time,
                &after.fields,
            )
            .await
        }
        EventType::Incident => {
            let values = vec![
                SqlValue::Int(after.fields.incident_end.map(Timestamp::millis)),
                after.event_id.into(),
            ];
            tx.execute(END_INCIDENT, values).await.map(|_| ())
        }
        _ => Ok(()),
    }
}

/// Records the deployment a DEPLOY became, with what its release brings.
async fn record_deployment<T: WriteTx>(
    tx: &mut T,
    account_id: i64,
    app: &AppRow,
    event_id: i64,
    event_time: Timestamp,
    f: &EventFields,
) -> Result<()> {
    if !is_deployment(EventType::Deploy, f) {
        return Ok(());
    }
    let release = match (f.parent_event_id, &f.release_version) {
        (Some(id), _) => load_event(tx, app, id).await?,
        (None, Some(version)) => tx
            .events(
                &app.name,
                &queries::FIND_RELEASE,
                vec![app.id.into(), version.as_str().into()],
            )
            .await?
            .pop(),
        (None, None) => None,
    };
    let release_columns = match &release {
        Some(release) => release_values(tx, app, release.event_id, &release.fields).await?,
        None => vec![
            SqlValue::Int(None),
            SqlValue::Text(None),
            SqlValue::Int(None),
            SqlValue::Int(None),
        ],
    };
    let end = f.deployment_end.unwrap_or(event_time);
    let mut values = vec![
        event_id.into(),
        account_id.into(),
        app.id.into(),
        SqlValue::Text(f.env_name.clone()),
        end.millis().into(),
        SqlValue::Bool(Some(f.deployment_status == Some(DeploymentStatus::Ok))),
        SqlValue::Bool(Some(f.hotfix.unwrap_or(false))),
        SqlValue::Text(f.release_version.clone()),
    ];
    values.extend(release_columns);
    tx.execute(INSERT_DEPLOYMENT, values).await.map(|_| ())
}

/// What a release brings to its deployments: (release id, commit id,
/// commit time, build start), each the nearest found along its chain
/// (RELEASE, its BUILD, the BUILD's PUSH or PULLREQUEST).
async fn release_values<T: WriteTx>(
    tx: &mut T,
    app: &AppRow,
    release_id: i64,
    release: &EventFields,
) -> Result<Vec<SqlValue>> {
    let build = match release.parent_event_id {
        Some(id) => load_event(tx, app, id)
            .await?
            .filter(|e| e.event_type == EventType::Build),
        None => None,
    };
    let push = match build.as_ref().and_then(|b| b.fields.parent_event_id) {
        Some(id) => load_event(tx, app, id).await?,
        None => None,
    };
    let chain: Vec<&EventFields> = std::iter::once(release)
        .chain(build.iter().map(|b| &b.fields))
        .chain(push.iter().map(|p| &p.fields))
        .collect();
    let commit_id = chain.iter().find_map(|f| f.commit.commit_id.clone());
    let commit_time = chain.iter().find_map(|f| f.commit.commit_time);
    let build_start = build.and_then(|b| b.fields.build_start);
    Ok(vec![
        release_id.into(),
        SqlValue::Text(commit_id),
        SqlValue::Int(commit_time.map(Timestamp::millis)),
        SqlValue::Int(build_start.map(Timestamp::millis)),
    ])
}

/// A deployment: (event id, account id, app id, env, end, ok, hotfix,
/// release version, release id, commit id, commit time, build start).
const INSERT_DEPLOYMENT: &str = "INSERT INTO dora_deployments (event_id, account_id, app_id, \
     env_name, end_ms, ok, hotfix, release_version, release_id, commit_id, commit_time_ms, \
     build_start_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";

/// A RELEASE recorded after deployments of its version: (release id,
/// commit id, commit time, build start, app id, version).
const ATTACH_RELEASE: &str = "UPDATE dora_deployments \
     SET release_id = $1, commit_id = $2, commit_time_ms = $3, build_start_ms = $4 \
     WHERE app_id = $5 AND release_version = $6 AND release_id IS NULL";

/// An incident: (event id, account id, app id, env, start, end, caused by,
/// env of the cause).
const INSERT_INCIDENT: &str = "INSERT INTO dora_incidents (event_id, account_id, app_id, \
     env_name, start_ms, end_ms, caused_by, cause_env_name) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

/// An incident resolved: (end, event id).
const END_INCIDENT: &str = "UPDATE dora_incidents SET end_ms = $1 WHERE event_id = $2";

/// The facts of the scope: the envs of `app` (every app when none), one
/// of them when `env` names it, else the production envs.
pub async fn read<D: Db>(
    db: &mut D,
    account: &Account,
    app: Option<&str>,
    env: Option<&str>,
) -> Result<DoraFacts> {
    let envs = match app {
        Some(name) => {
            let app = db.find_app(account, name).await?;
            let values = vec![account.id.into(), app.id.into()];
            db.rows(APP_ENVS, values, env_info).await?
        }
        None => {
            db.rows(ACCOUNT_ENVS, vec![account.id.into()], env_info)
                .await?
        }
    };
    let scope: Vec<EnvInfo> = match env {
        Some(name) => {
            let found: Vec<EnvInfo> = envs.into_iter().filter(|e| e.name == name).collect();
            if found.is_empty() {
                return Err(StoreError::not_found(format!("Env {name}")));
            }
            found
        }
        None => dora::production_envs(envs),
    };
    let mut names: Vec<String> = scope.iter().map(|e| e.name.clone()).collect();
    names.sort();
    if names.is_empty() {
        return Ok(DoraFacts {
            envs: names,
            deployments: Vec::new(),
            incidents: Vec::new(),
            pruned_before: None,
        });
    }
    // Env names are unique in an account; the app check guards a name
    // reused by another app after its env was deleted.
    let owner: HashMap<&str, i64> = scope.iter().map(|e| (e.name.as_str(), e.app_id)).collect();
    let values = || {
        std::iter::once(SqlValue::from(account.id))
            .chain(names.iter().map(|n| n.as_str().into()))
            .collect::<Vec<_>>()
    };
    let deployments = db
        .rows(&deployments_sql(names.len()), values(), deployment_row)
        .await?
        .into_iter()
        .filter(|(app_id, d)| owner.get(d.env.as_str()) == Some(app_id))
        .map(|(_, d)| d)
        .collect();
    // An incident counts for its env, or for the env of the deploy that
    // caused it, when that env is the incident's app's (not a name reused
    // after the env was deleted).
    let incidents = db
        .rows(&incidents_sql(names.len()), values(), incident_row)
        .await?
        .into_iter()
        .filter(|(app_id, cause_env, incident)| {
            owner.get(incident.env.as_str()) == Some(app_id)
                || cause_env
                    .as_deref()
                    .is_some_and(|env| owner.get(env) == Some(app_id))
        })
        .map(|(_, _, incident)| incident)
        .collect();
    let mut app_ids: Vec<i64> = owner.values().copied().collect();
    app_ids.sort_unstable();
    app_ids.dedup();
    let pruned_before = db
        .rows(
            &pruned_before_sql(app_ids.len()),
            app_ids.into_iter().map(SqlValue::from).collect(),
            |row| row.int(0),
        )
        .await?
        .into_iter()
        .flatten()
        .next()
        .map(Timestamp::from_millis);
    Ok(DoraFacts {
        envs: names,
        deployments,
        incidents,
        pruned_before,
    })
}

const APP_ENVS: &str = "SELECT app_id, name, tags FROM envs WHERE account_id = $1 AND app_id = $2";
const ACCOUNT_ENVS: &str = "SELECT app_id, name, tags FROM envs WHERE account_id = $1";

/// `$2, $3, …`: the env names after the account id.
fn env_list(count: usize) -> String {
    (2..2 + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The deployments of some envs with when their commit's lead time starts
/// (its chain's `commit_time`, else its first sighting, else its build's
/// start): (account id, env names…).
fn deployments_sql(envs: usize) -> String {
    format!(
        "SELECT d.app_id, d.event_id, d.env_name, d.end_ms, d.ok, d.hotfix, d.release_id, \
             d.commit_id, COALESCE(d.commit_time_ms, c.first_seen_ms, d.build_start_ms) \
         FROM dora_deployments d \
         LEFT JOIN dora_commits c ON c.app_id = d.app_id AND c.commit_id = d.commit_id \
         WHERE d.account_id = $1 AND d.env_name IN ({})",
        env_list(envs)
    )
}

/// The incidents of some envs, or caused by a deploy to them: (account
/// id, env names…). Two selects, so that each is one range of its index
/// rather than a scan of the account's incidents.
fn incidents_sql(envs: usize) -> String {
    let list = env_list(envs);
    let columns = "env_name, start_ms, end_ms, caused_by, app_id, cause_env_name";
    format!(
        "SELECT {columns} FROM dora_incidents WHERE account_id = $1 AND env_name IN ({list}) \
         UNION ALL \
         SELECT {columns} FROM dora_incidents WHERE account_id = $1 \
         AND cause_env_name IN ({list}) AND env_name NOT IN ({list})"
    )
}

fn required<T>(value: Option<T>, what: &str) -> Result<T> {
    value.ok_or_else(|| StoreError::Internal(format!("a DORA fact has no {what}")))
}

fn env_info(row: &dyn Columns) -> Result<EnvInfo> {
    let tags = required(row.text(2)?, "tags")?;
    let (tags, _) = env_lists(&tags, "[]")?;
    Ok(EnvInfo {
        app_id: required(row.int(0)?, "app")?,
        name: required(row.text(1)?, "name")?,
        tags,
    })
}

fn deployment_row(row: &dyn Columns) -> Result<(i64, Deployment)> {
    let deployment = Deployment {
        event_id: required(row.int(1)?, "event id")?,
        env: required(row.text(2)?, "env")?,
        end: Timestamp::from_millis(required(row.int(3)?, "end")?),
        ok: required(row.boolean(4)?, "status")?,
        hotfix: required(row.boolean(5)?, "hotfix")?,
        release: row.int(6)?,
        commit: row.text(7)?,
        lead_start: row.int(8)?.map(Timestamp::from_millis),
    };
    Ok((required(row.int(0)?, "app")?, deployment))
}

fn incident_row(row: &dyn Columns) -> Result<(i64, Option<String>, Incident)> {
    let incident = Incident {
        env: required(row.text(0)?, "env")?,
        start: Timestamp::from_millis(required(row.int(1)?, "start")?),
        end: row.int(2)?.map(Timestamp::from_millis),
        caused_by: row.int(3)?,
    };
    Ok((required(row.int(4)?, "app")?, row.text(5)?, incident))
}

/// The latest cutoff retention applied to some apps: (app ids), by key.
fn pruned_before_sql(apps: usize) -> String {
    let list: Vec<String> = (1..=apps).map(|i| format!("${i}")).collect();
    format!(
        "SELECT MAX(pruned_before_ms) FROM apps WHERE id IN ({})",
        list.join(", ")
    )
}
