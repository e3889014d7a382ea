//! The DORA scenario's data: 20 apps, each with three envs (production,
//! staging, dev) and a little over a year of releases (a PUSH with its
//! `commit_time`, the BUILD of that push, the RELEASE of that build), each
//! deployed to dev, then staging, then production, with failed deploys and
//! their retries, incidents caused by deploys, rollbacks and hotfixes.
//!
//! A plan is a pure function of its app's number and of `now`, so the
//! runner, which records it in the store, and the floor, which only needs
//! an answer of the same shape, build the same thing. From the ids the
//! store gives, [`expected_answer`] computes what GetDora must answer, with
//! the same pure functions and wire types the server uses.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use shiplog_api::dora::DoraScope;
use shiplog_api::{DoraEnvelope, DoraOut};
use shiplog_domain::dora::query::DoraQuery;
use shiplog_domain::dora::{Deployment, Incident};
use shiplog_domain::{DomainError, Timestamp};

/// Apps in the scenario.
pub const APPS: usize = 20;
/// Releases per app, spread over [`HISTORY_DAYS`].
pub const RELEASES: usize = 90;
/// How far back the releases go: further than the year measured, so that
/// the window starts in the middle of a history.
pub const HISTORY_DAYS: i64 = 400;
/// The window GetDora is asked for: the 365 days up to today.
pub const WINDOW_DAYS: i64 = 365;

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

const APP_NAMES: [&str; APPS] = [
    "checkout",
    "payments",
    "catalog",
    "search",
    "accounts",
    "orders",
    "inventory",
    "shipping",
    "pricing",
    "reviews",
    "notifications",
    "recommendations",
    "gateway",
    "billing",
    "reporting",
    "identity",
    "media",
    "cart",
    "support",
    "analytics",
];

/// The three envs of every app, in the order deploys reach them.
pub const ENV_KINDS: [&str; 3] = ["dev", "staging", "production"];
pub const PRODUCTION: usize = 2;

const AUTHORS: &[(&str, &str)] = &[
    ("jdoe", "John Doe"),
    ("asmith", "Alice Smith"),
    ("bwong", "Bo Wong"),
    ("dkumar", "Divya Kumar"),
    ("iokafor", "Ifeoma Okafor"),
];

/// What one app's history is made of, in the order it is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A PUSH, the BUILD of it and the RELEASE of that build.
    Release {
        commit_id: String,
        commit_time: Timestamp,
        author: usize,
        build_start: Timestamp,
        build_end: Timestamp,
    },
    /// A DEPLOY of release number `release` (in plan order) to the env
    /// `env` (an index of [`ENV_KINDS`]) that ended `Ok` or `Failed`.
    Deploy {
        release: usize,
        env: usize,
        start: Timestamp,
        end: Timestamp,
        ok: bool,
        hotfix: bool,
    },
    /// An INCIDENT of the production env caused by the deploy of step
    /// `cause`; `end` is None while it is open.
    Incident {
        cause: usize,
        start: Timestamp,
        end: Option<Timestamp>,
    },
}

#[derive(Debug, Clone)]
pub struct AppPlan {
    pub app: String,
    /// Env names in the order of [`ENV_KINDS`]; unique in the account.
    pub envs: [String; 3],
    pub steps: Vec<Step>,
}

impl AppPlan {
    pub fn deployments(&self) -> usize {
        self.count(|s| matches!(s, Step::Deploy { .. }))
    }

    pub fn production_deployments(&self) -> usize {
        self.count(|s| {
            matches!(
                s,
                Step::Deploy {
                    env: PRODUCTION,
                    ..
                }
            )
        })
    }

    pub fn incidents(&self) -> usize {
        self.count(|s| matches!(s, Step::Incident { .. }))
    }

    pub fn releases(&self) -> usize {
        self.count(|s| matches!(s, Step::Release { .. }))
    }

    /// Events the plan records: three per release, one per deploy and
    /// per incident.
    pub fn events(&self) -> usize {
        3 * self.releases() + self.deployments() + self.incidents()
    }

    fn count(&self, f: impl Fn(&Step) -> bool) -> usize {
        self.steps.iter().filter(|s| f(s)).count()
    }
}

/// The app names of the scenario; `suffix` keeps them apart from a
/// previous run's in a shared database.
pub fn app_name(index: usize, suffix: &str) -> String {
    if suffix.is_empty() {
        APP_NAMES[index].to_owned()
    } else {
        format!("{}-{suffix}", APP_NAMES[index])
    }
}

/// The history of app `index`, up to `now`.
pub fn plan(index: usize, suffix: &str, now: Timestamp) -> AppPlan {
    let app = app_name(index, suffix);
    let envs = ENV_KINDS.map(|kind| format!("{kind}-{app}"));
    let mut rng = StdRng::seed_from_u64(0xD0EA + index as u64);
    let now = now.millis();
    let first = now - HISTORY_DAYS * DAY;
    let spacing = HISTORY_DAYS * DAY / RELEASES as i64;
    let mut steps = Vec::new();
    let at = Timestamp::from_millis;
    // Nothing is recorded as ending in the last few minutes: it would not
    // be over yet.
    let past = |t: i64| t < now - 10 * MINUTE;
    let deploy = |steps: &mut Vec<Step>,
                  rng: &mut StdRng,
                  release: usize,
                  env: usize,
                  end: i64,
                  ok: bool| {
        if !past(end) {
            return None;
        }
        steps.push(Step::Deploy {
            release,
            env,
            start: at(end - rng.random_range(2 * MINUTE..12 * MINUTE)),
            end: at(end),
            ok,
            hotfix: env == PRODUCTION && rng.random_range(0..100) < 5,
        });
        Some(steps.len() - 1)
    };
    for release in 0..RELEASES {
        let t = first + release as i64 * spacing + rng.random_range(0..DAY / 2);
        if !past(t) {
            break;
        }
        let commit_id: String = (0..40)
            .map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0'))
            .collect();
        steps.push(Step::Release {
            commit_id,
            commit_time: at(t - rng.random_range(30 * MINUTE..3 * DAY)),
            author: rng.random_range(0..AUTHORS.len()),
            build_start: at(t),
            build_end: at(t + rng.random_range(3 * MINUTE..20 * MINUTE)),
        });
        // Dev and staging: a failed deploy is retried until it is Ok.
        let mut end = t + rng.random_range(25 * MINUTE..45 * MINUTE);
        for (env, fail_percent, retry) in [
            (0, 4, 10 * MINUTE..30 * MINUTE),
            (1, 7, 30 * MINUTE..2 * HOUR),
        ] {
            if env == 1 {
                end += rng.random_range(2 * HOUR..12 * HOUR);
            }
            if rng.random_range(0..100) < fail_percent {
                deploy(&mut steps, &mut rng, release, env, end, false);
                end += rng.random_range(retry);
            }
            deploy(&mut steps, &mut rng, release, env, end, true);
        }
        // Production, a day or three later.
        let mut end = t + rng.random_range(DAY..3 * DAY);
        if rng.random_range(0..100) < 12 {
            deploy(&mut steps, &mut rng, release, PRODUCTION, end, false);
            end += rng.random_range(HOUR..4 * HOUR);
        }
        let Some(ok) = deploy(&mut steps, &mut rng, release, PRODUCTION, end, true) else {
            continue;
        };
        // Some Ok deploys break production; half of those are rolled back
        // to the release before.
        if rng.random_range(0..100) < 12 {
            let start = end + rng.random_range(10 * MINUTE..6 * HOUR);
            if !past(start) {
                continue;
            }
            let resolved = start + rng.random_range(15 * MINUTE..8 * HOUR);
            let roll_back = release > 0 && rng.random_range(0..2) == 0;
            steps.push(Step::Incident {
                cause: ok,
                start: at(start),
                end: past(resolved).then(|| at(resolved)),
            });
            if roll_back {
                let back = start + rng.random_range(15 * MINUTE..45 * MINUTE);
                deploy(&mut steps, &mut rng, release - 1, PRODUCTION, back, true);
            }
        }
    }
    AppPlan { app, envs, steps }
}

/// The event ids the store gave a plan's steps: per step, the RELEASE's
/// id for a release (its PUSH and BUILD are not needed later), else the
/// event's own.
pub type StepIds = Vec<i64>;

/// The request bodies of a step, as a client of the API sends them. For a
/// release: the PUSH, then the BUILD and the RELEASE, whose parents the
/// caller fills in with [`with_parent`].
pub fn bodies(plan: &AppPlan, ids: &[i64], index: usize) -> Vec<Value> {
    let release_id = |release: usize| -> i64 {
        let step = plan
            .steps
            .iter()
            .enumerate()
            .filter(|(_, s)| matches!(s, Step::Release { .. }))
            .nth(release)
            .map(|(i, _)| i)
            .expect("a release of the plan");
        ids[step]
    };
    match &plan.steps[index] {
        Step::Release {
            commit_id,
            commit_time,
            author,
            build_start,
            build_end,
        } => {
            let (username, name) = AUTHORS[*author];
            let repo = format!("https://github.com/acme/{}", plan.app);
            let commit = json!({
                "repo_provider": "github",
                "repo_url": repo,
                "repo_owner": "acme",
                "repo_name": plan.app,
                "branch": "main",
                "commit_id": commit_id,
                "commit_msg": "Merge pull request from feature branch",
                "commit_url": format!("{repo}/commit/{commit_id}"),
                "author_username": username,
                "author_name": name,
            });
            let mut push = commit.clone();
            push["commit_time"] = json!(commit_time.to_string());
            let mut build = commit;
            let number = 1000 + index;
            build["build_provider"] = json!("github-actions");
            build["build_id"] = json!(number);
            build["build_url"] = json!(format!("https://ci.acme.example/{}/{number}", plan.app));
            build["build_start"] = json!(build_start.to_string());
            build["build_end"] = json!(build_end.to_string());
            build["build_status"] = json!("Success");
            build["auto_build"] = json!(true);
            vec![push, build, json!({})]
        }
        Step::Deploy {
            release,
            env,
            start,
            end,
            ok,
            hotfix,
        } => vec![json!({
            "env_name": plan.envs[*env],
            "parent_event_id": release_id(*release).to_string(),
            "deployment_status": if *ok { "Ok" } else { "Failed" },
            "deployment_start": start.to_string(),
            "deployment_end": end.to_string(),
            "hotfix": hotfix,
            "auto_deploy": *env != PRODUCTION,
        })],
        Step::Incident { cause, start, end } => {
            let mut body = json!({
                "env_name": plan.envs[PRODUCTION],
                "caused_by_event_id": ids[*cause].to_string(),
                "incident_start": start.to_string(),
                "incident_status": if end.is_some() { "Resolved" } else { "Open" },
                "severity": "SEV2",
                "title": "Error rate above 5 % after the deploy",
            });
            if let Some(end) = end {
                body["incident_end"] = json!(end.to_string());
            }
            vec![body]
        }
    }
}

/// `body` with `parent_event_id` set to `parent`.
pub fn with_parent(mut body: Value, parent: i64) -> Value {
    body["parent_event_id"] = json!(parent.to_string());
    body
}

/// The facts of the production env as the store should keep them, given
/// the ids of the plan's steps.
pub fn production_facts(plan: &AppPlan, ids: &[i64]) -> (Vec<Deployment>, Vec<Incident>) {
    let releases: Vec<(i64, &str, Timestamp)> = plan
        .steps
        .iter()
        .zip(ids)
        .filter_map(|(s, id)| match s {
            Step::Release {
                commit_id,
                commit_time,
                ..
            } => Some((*id, commit_id.as_str(), *commit_time)),
            _ => None,
        })
        .collect();
    let prod = &plan.envs[PRODUCTION];
    let mut deployments = Vec::new();
    let mut incidents = Vec::new();
    for (step, &id) in plan.steps.iter().zip(ids) {
        match step {
            Step::Deploy {
                release,
                env: PRODUCTION,
                end,
                ok,
                hotfix,
                ..
            } => {
                let (release_id, commit, commit_time) = releases[*release];
                deployments.push(Deployment {
                    event_id: id,
                    env: prod.clone(),
                    end: *end,
                    ok: *ok,
                    release: Some(release_id),
                    hotfix: *hotfix,
                    commit: Some(commit.to_owned()),
                    lead_start: Some(commit_time),
                });
            }
            Step::Incident { cause, start, end } => incidents.push(Incident {
                env: prod.clone(),
                start: *start,
                end: *end,
                caused_by: Some(ids[*cause]),
            }),
            _ => {}
        }
    }
    (deployments, incidents)
}

/// The window of the measured requests: `(from, to)` as `YYYY-MM-DD`, the
/// 365 days before today (UTC).
pub fn window_dates(now: Timestamp) -> (String, String) {
    let today = now.millis().div_euclid(DAY) * DAY;
    let date = |millis: i64| Timestamp::from_millis(millis).to_string()[..10].to_owned();
    (date(today - WINDOW_DAYS * DAY), date(today))
}

/// The query string of the measured GetDora call for `app` (without the
/// token).
pub fn query(app: &str, (from, to): &(String, String)) -> String {
    format!("app={app}&from={from}&to={to}")
}

/// What GetDora must answer for the production env of `plan` over
/// `window`, computed as the server computes it from the facts it reads
/// (`DoraQuery::window` and `DoraQuery::evaluate`).
pub fn expected_answer(
    plan: &AppPlan,
    ids: &[i64],
    window: &(String, String),
) -> Result<DoraEnvelope, DomainError> {
    let (deployments, incidents) = production_facts(plan, ids);
    let pairs = [
        ("app", plan.app.as_str()),
        ("from", window.0.as_str()),
        ("to", window.1.as_str()),
    ];
    let query = DoraQuery::parse(
        |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v),
        Timestamp::now(),
    )?;
    let window = query.window()?;
    let (metrics, levels) = query.evaluate(&window, &deployments, &incidents);
    let scope = DoraScope {
        app: query.app,
        envs: vec![plan.envs[PRODUCTION].clone()],
        bucket: query.bucket.as_str().to_owned(),
        tz: query.calendar.name().to_owned(),
        benchmark: query.benchmark_name,
        pruned_before: None,
    };
    Ok(DoraEnvelope {
        dora: DoraOut::new(scope, &window, &metrics, levels),
    })
}

/// The answer the floor gives to every GetDora call: that of the first
/// app over the year up to `now`, with ids numbered as a fresh store would
/// number them.
pub fn floor_answer(now: Timestamp) -> DoraEnvelope {
    let plan = plan(0, "", now);
    let mut next = 0;
    let ids: Vec<i64> = plan
        .steps
        .iter()
        .map(|step| {
            next += match step {
                Step::Release { .. } => 3,
                _ => 1,
            };
            next
        })
        .collect();
    expected_answer(&plan, &ids, &window_dates(now)).expect("a valid window")
}

#[cfg(test)]
mod tests {
    use super::*;
    use shiplog_domain::EventType;
    use shiplog_domain::input::NewEvent;

    fn now() -> Timestamp {
        Timestamp::parse("2026-12-01T09:00:00Z").unwrap()
    }

    #[test]
    fn plans_hold_several_thousand_deployments_over_the_year() {
        let plans: Vec<AppPlan> = (0..APPS).map(|i| plan(i, "", now())).collect();
        let deployments: usize = plans.iter().map(AppPlan::deployments).sum();
        let production: usize = plans.iter().map(AppPlan::production_deployments).sum();
        let incidents: usize = plans.iter().map(AppPlan::incidents).sum();
        assert!((5_000..6_500).contains(&deployments), "{deployments}");
        assert!((1_800..2_300).contains(&production), "{production}");
        assert!((100..400).contains(&incidents), "{incidents}");
        let envs: std::collections::HashSet<&String> =
            plans.iter().flat_map(|p| p.envs.iter()).collect();
        assert_eq!(envs.len(), 3 * APPS, "env names are unique in the account");
        for step in plans.iter().flat_map(|p| &p.steps) {
            let end = match step {
                Step::Deploy { end, .. } => *end,
                Step::Incident { start, end, .. } => end.unwrap_or(*start),
                Step::Release { build_end, .. } => *build_end,
            };
            assert!(end < now());
        }
    }

    #[test]
    fn every_body_is_a_valid_event() {
        let plan = plan(3, "", now());
        let ids: Vec<i64> = (1..=plan.steps.len() as i64).collect();
        for index in 0..plan.steps.len() {
            let bodies = bodies(&plan, &ids, index);
            let types: &[EventType] = match bodies.len() {
                3 => &[EventType::Push, EventType::Build, EventType::Release],
                _ => match plan.steps[index] {
                    Step::Deploy { .. } => &[EventType::Deploy],
                    _ => &[EventType::Incident],
                },
            };
            for (body, &event_type) in bodies.iter().zip(types) {
                let body = with_parent(body.clone(), 1);
                NewEvent::parse(event_type, body.as_object().unwrap()).unwrap();
            }
        }
    }

    #[test]
    fn the_floor_answers_a_year_of_weekly_metrics() {
        let answer = floor_answer(now()).dora;
        assert_eq!(answer.envs, ["production-checkout"]);
        assert!(answer.deployment_frequency.count > 60);
        assert!(answer.change_fail_rate.failed > 0);
        assert!(answer.recovery_time.count > 0);
        assert!(answer.rework_rate.rework > 0);
        assert_eq!(answer.deployment_frequency.buckets.len(), 53);
    }
}
