//! DORA's five delivery metrics as pure functions over
//! deployment and incident facts: what counts as a deployment, a failure,
//! a rollback, a recovery and rework, and the statistics of each.
//!
//! The facts cover every deployment and incident of the scope, before the
//! window too (history decides what a deployment brings, and which ones
//! are rollbacks); only the samples are limited to the window. Bucket
//! boundaries and calendar days are given by the caller, who knows the
//! time zone.

pub mod benchmark;
pub mod calendar;
pub mod query;

use std::collections::{HashMap, HashSet};

use crate::{DeploymentStatus, DeploymentType, EventFields, EventType, Timestamp};

/// Whether an event is a deployment: a DEPLOY of type `Deploy` that ended
/// `Ok` or `Failed`. One that was `Aborted`, or a `Restart` or
/// `Terminate`, is none and counts nowhere.
pub fn is_deployment(event_type: EventType, fields: &EventFields) -> bool {
    event_type == EventType::Deploy
        && fields.deployment_type.unwrap_or(DeploymentType::Deploy) == DeploymentType::Deploy
        && matches!(
            fields.deployment_status,
            Some(DeploymentStatus::Ok | DeploymentStatus::Failed)
        )
}

/// Whether an `Ok` deployment of `release` rolls back the env's previous
/// `Ok` deployment, which deployed `previous`: both releases known, and
/// this one older (a lower RELEASE id).
pub fn is_rollback(previous: Option<i64>, release: Option<i64>) -> bool {
    matches!((previous, release), (Some(previous), Some(release)) if release < previous)
}

/// A DEPLOY of type `Deploy` to an env in scope that ended `Ok` or `Failed`
/// (an `Aborted` one is no deployment at all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    pub event_id: i64,
    pub env: String,
    /// Its `deployment_end`: the deployment's time.
    pub end: Timestamp,
    pub ok: bool,
    /// The id of the RELEASE it deployed; a lower id is an older release.
    pub release: Option<i64>,
    pub hotfix: bool,
    /// The commit its release was built from.
    pub commit: Option<String>,
    /// When that commit's lead time starts (its `commit_time`, else its
    /// first push, else its build's start), if known.
    pub lead_start: Option<Timestamp>,
}

/// An INCIDENT of an env in scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incident {
    pub env: String,
    pub start: Timestamp,
    /// None while it is open.
    pub end: Option<Timestamp>,
    /// The DEPLOY that caused it.
    pub caused_by: Option<i64>,
}

/// An env, as the scope rule sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvInfo {
    pub app_id: i64,
    pub name: String,
    pub tags: Vec<String>,
}

/// The envs metrics cover unless one is named: of each app, those tagged
/// `production`, else those named `production` or `prod` (in any letter
/// case).
pub fn production_envs(envs: Vec<EnvInfo>) -> Vec<EnvInfo> {
    let tagged = |e: &EnvInfo| e.tags.iter().any(|t| t.eq_ignore_ascii_case("production"));
    let named = |e: &EnvInfo| {
        e.name.eq_ignore_ascii_case("production") || e.name.eq_ignore_ascii_case("prod")
    };
    let apps_with_tags: HashSet<i64> = envs
        .iter()
        .filter(|e| tagged(e))
        .map(|e| e.app_id)
        .collect();
    envs.into_iter()
        .filter(|e| {
            if apps_with_tags.contains(&e.app_id) {
                tagged(e)
            } else {
                named(e)
            }
        })
        .collect()
}

/// The window `[from, to)` and its buckets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub from: Timestamp,
    pub to: Timestamp,
    /// The calendar start of each bucket, ascending; the first is at or
    /// before `from`.
    pub bucket_starts: Vec<Timestamp>,
}

impl Window {
    fn contains(&self, at: Timestamp) -> bool {
        self.from <= at && at < self.to
    }

    /// The index of the bucket `at` falls in; `at` must be in the window.
    fn bucket_of(&self, at: Timestamp) -> usize {
        self.bucket_starts
            .partition_point(|start| *start <= at)
            .saturating_sub(1)
    }

    fn days(&self) -> f64 {
        (self.to.millis() - self.from.millis()) as f64 / 86_400_000.0
    }
}

/// Deployments that ended `Ok`, in all and per bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct Frequency {
    pub count: u64,
    pub per_day: f64,
    pub days_with_deployment: u64,
    pub buckets: Vec<u64>,
}

/// A median over samples, in seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Durations {
    pub median_seconds: Option<f64>,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LeadTime {
    pub median_seconds: Option<f64>,
    pub p90_seconds: Option<f64>,
    pub count: u64,
    pub buckets: Vec<Durations>,
}

/// `part` of `total`, and their ratio (`None` without a total).
#[derive(Debug, Clone, PartialEq)]
pub struct Ratio {
    pub part: u64,
    pub total: u64,
    pub rate: Option<f64>,
}

impl Ratio {
    fn of(part: u64, total: u64) -> Ratio {
        Ratio {
            part,
            total,
            rate: (total > 0).then(|| part as f64 / total as f64),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Recovery {
    pub median_seconds: Option<f64>,
    pub count: u64,
    pub buckets: Vec<Durations>,
}

/// The five metrics over one window.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    pub deployment_frequency: Frequency,
    pub change_lead_time: LeadTime,
    /// Failed deployments of all deployments.
    pub change_fail_rate: (Ratio, Vec<Ratio>),
    pub recovery_time: Recovery,
    /// Rework deployments of those that ended `Ok`.
    pub rework_rate: (Ratio, Vec<Ratio>),
}

/// The performance level of each metric that has one; `None` where the
/// metric has no data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Levels {
    pub deployment_frequency: Option<benchmark::Level>,
    pub change_lead_time: Option<benchmark::Level>,
    pub change_fail_rate: Option<benchmark::Level>,
    pub recovery_time: Option<benchmark::Level>,
}

impl Metrics {
    pub fn levels(&self, set: &benchmark::BenchmarkSet) -> Levels {
        let frequency = &self.deployment_frequency;
        Levels {
            deployment_frequency: (frequency.count > 0)
                .then(|| set.frequency_level(frequency.per_day)),
            change_lead_time: self
                .change_lead_time
                .median_seconds
                .map(|s| set.lead_time_level(s)),
            change_fail_rate: self.change_fail_rate.0.rate.map(|r| set.fail_rate_level(r)),
            recovery_time: self
                .recovery_time
                .median_seconds
                .map(|s| set.recovery_level(s)),
        }
    }
}

/// The median: the middle sample, or the mean of the two middle ones.
pub fn median(samples: &[f64]) -> Option<f64> {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// The 90th percentile by nearest rank: the ⌈0.9·n⌉-th smallest sample.
pub fn p90(samples: &[f64]) -> Option<f64> {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let rank = (9 * n).div_ceil(10);
    Some(sorted[rank - 1])
}

fn seconds(from: Timestamp, to: Timestamp) -> f64 {
    (to.millis() - from.millis()) as f64 / 1000.0
}

/// Why a deployment failed: from when, and until when it was recovered.
#[derive(Debug, Clone, Copy)]
struct Failure {
    start: Timestamp,
    recovered: Option<Timestamp>,
}

/// The Ok deployments among `deployments` (in any order) that are
/// rollbacks: each brought an older release than the previous Ok
/// deployment to its env.
pub fn rollbacks(deployments: &[Deployment]) -> HashSet<i64> {
    let mut ordered: Vec<&Deployment> = deployments.iter().collect();
    ordered.sort_by_key(|d| (d.end, d.event_id));
    successions(&ordered).1
}

/// Per env, in time order (`ordered` by end, then id): the Ok deployment
/// after each deployment, and which Ok deployments are rollbacks.
fn successions<'a>(ordered: &[&'a Deployment]) -> (HashMap<i64, &'a Deployment>, HashSet<i64>) {
    let mut next_ok: HashMap<i64, &Deployment> = HashMap::new();
    let mut rollbacks: HashSet<i64> = HashSet::new();
    let mut by_env: HashMap<&str, Vec<&Deployment>> = HashMap::new();
    for d in ordered {
        by_env.entry(d.env.as_str()).or_default().push(d);
    }
    for list in by_env.values() {
        let mut previous_ok: Option<&Deployment> = None;
        let mut waiting: Vec<i64> = Vec::new();
        for d in list {
            if d.ok {
                for id in waiting.drain(..) {
                    next_ok.insert(id, d);
                }
                if let Some(prev) = previous_ok
                    && is_rollback(prev.release, d.release)
                {
                    rollbacks.insert(d.event_id);
                }
                previous_ok = Some(d);
            }
            waiting.push(d.event_id);
        }
    }
    (next_ok, rollbacks)
}

/// Computes the five metrics of `deployments` and `incidents` (every one
/// of the scope, in any order) over `window`. `day_of` names the calendar
/// day (in the caller's time zone) of an instant.
pub fn metrics(
    deployments: &[Deployment],
    incidents: &[Incident],
    window: &Window,
    day_of: impl Fn(Timestamp) -> i64,
) -> Metrics {
    let mut ordered: Vec<&Deployment> = deployments.iter().collect();
    ordered.sort_by_key(|d| (d.end, d.event_id));
    let buckets = window.bucket_starts.len();

    let (next_ok, rollbacks) = successions(&ordered);

    // Failures of each deployment, each with its start and recovery.
    let mut failures: HashMap<i64, Vec<Failure>> = HashMap::new();
    for d in &ordered {
        let recovered = next_ok.get(&d.event_id).map(|next| next.end);
        let rolled_back = next_ok
            .get(&d.event_id)
            .is_some_and(|next| rollbacks.contains(&next.event_id));
        if !d.ok || rolled_back {
            failures.entry(d.event_id).or_default().push(Failure {
                start: d.end,
                recovered,
            });
        }
    }
    let known: HashSet<i64> = deployments.iter().map(|d| d.event_id).collect();
    for incident in incidents {
        if let Some(cause) = incident.caused_by
            && known.contains(&cause)
        {
            failures.entry(cause).or_default().push(Failure {
                start: incident.start,
                recovered: incident.end,
            });
        }
    }

    let in_window: Vec<&Deployment> = ordered
        .iter()
        .copied()
        .filter(|d| window.contains(d.end))
        .collect();

    // Deployment frequency.
    let mut frequency_buckets = vec![0u64; buckets];
    let mut days = HashSet::new();
    for d in in_window.iter().filter(|d| d.ok) {
        frequency_buckets[window.bucket_of(d.end)] += 1;
        days.insert(day_of(d.end));
    }
    let count: u64 = frequency_buckets.iter().sum();
    let deployment_frequency = Frequency {
        count,
        per_day: count as f64 / window.days(),
        days_with_deployment: days.len() as u64,
        buckets: frequency_buckets,
    };

    // Change lead time: the first Ok deployment of each (env, commit).
    let mut seen: HashSet<(&str, &str)> = HashSet::new();
    let mut lead_samples: Vec<(usize, f64)> = Vec::new();
    for d in ordered.iter().filter(|d| d.ok) {
        let Some(commit) = d.commit.as_deref() else {
            continue;
        };
        if !seen.insert((d.env.as_str(), commit)) || !window.contains(d.end) {
            continue;
        }
        if let Some(start) = d.lead_start {
            let sample = seconds(start, d.end);
            if sample > 0.0 {
                lead_samples.push((window.bucket_of(d.end), sample));
            }
        }
    }
    let all: Vec<f64> = lead_samples.iter().map(|(_, s)| *s).collect();
    let change_lead_time = LeadTime {
        median_seconds: median(&all),
        p90_seconds: p90(&all),
        count: all.len() as u64,
        buckets: per_bucket(&lead_samples, buckets),
    };

    // Change fail rate, over the window's deployments.
    let failed = |d: &Deployment| failures.contains_key(&d.event_id);
    let mut fail_buckets = vec![(0u64, 0u64); buckets];
    for d in &in_window {
        let slot = &mut fail_buckets[window.bucket_of(d.end)];
        slot.1 += 1;
        if failed(d) {
            slot.0 += 1;
        }
    }
    let change_fail_rate = ratios(&fail_buckets);

    // Recovery: one sample per failed deployment, from its earliest failure.
    let mut recovery_samples: Vec<(usize, f64)> = Vec::new();
    for list in failures.values() {
        let Some(first) = list.iter().min_by_key(|f| f.start) else {
            continue;
        };
        if let Some(recovered) = first.recovered
            && window.contains(first.start)
        {
            recovery_samples.push((
                window.bucket_of(first.start),
                seconds(first.start, recovered),
            ));
        }
    }
    let all: Vec<f64> = recovery_samples.iter().map(|(_, s)| *s).collect();
    let recovery_time = Recovery {
        median_seconds: median(&all),
        count: all.len() as u64,
        buckets: per_bucket(&recovery_samples, buckets),
    };

    // Rework, over the window's Ok deployments.
    let mut incidents_of_env: HashMap<&str, Vec<&Incident>> = HashMap::new();
    for incident in incidents {
        incidents_of_env
            .entry(incident.env.as_str())
            .or_default()
            .push(incident);
    }
    let during_incident = |d: &Deployment| {
        incidents_of_env.get(d.env.as_str()).is_some_and(|list| {
            list.iter()
                .any(|i| i.start <= d.end && i.end.is_none_or(|end| d.end < end))
        })
    };
    let mut rework_buckets = vec![(0u64, 0u64); buckets];
    for d in in_window.iter().filter(|d| d.ok) {
        let slot = &mut rework_buckets[window.bucket_of(d.end)];
        slot.1 += 1;
        if rollbacks.contains(&d.event_id) || d.hotfix || during_incident(d) {
            slot.0 += 1;
        }
    }
    let rework_rate = ratios(&rework_buckets);

    Metrics {
        deployment_frequency,
        change_lead_time,
        change_fail_rate,
        recovery_time,
        rework_rate,
    }
}

fn per_bucket(samples: &[(usize, f64)], buckets: usize) -> Vec<Durations> {
    (0..buckets)
        .map(|bucket| {
            let these: Vec<f64> = samples
                .iter()
                .filter(|(b, _)| *b == bucket)
                .map(|(_, s)| *s)
                .collect();
            Durations {
                median_seconds: median(&these),
                count: these.len() as u64,
            }
        })
        .collect()
}

fn ratios(buckets: &[(u64, u64)]) -> (Ratio, Vec<Ratio>) {
    let part = buckets.iter().map(|(p, _)| p).sum();
    let total = buckets.iter().map(|(_, t)| t).sum();
    (
        Ratio::of(part, total),
        buckets.iter().map(|(p, t)| Ratio::of(*p, *t)).collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;
    const DAY: i64 = 24 * HOUR;
    /// Monday 2026-03-02T00:00:00Z.
    const MONDAY: i64 = 1_772_409_600_000;

    fn at(millis: i64) -> Timestamp {
        Timestamp::from_millis(millis)
    }

    fn deploy(id: i64, env: &str, end: i64, ok: bool, release: i64) -> Deployment {
        Deployment {
            event_id: id,
            env: env.into(),
            end: at(end),
            ok,
            release: Some(release),
            hotfix: false,
            commit: Some(format!("c{release}")),
            lead_start: None,
        }
    }

    /// Two Monday-weeks from MONDAY.
    fn two_weeks() -> Window {
        Window {
            from: at(MONDAY),
            to: at(MONDAY + 14 * DAY),
            bucket_starts: vec![at(MONDAY), at(MONDAY + 7 * DAY)],
        }
    }

    fn utc_day(t: Timestamp) -> i64 {
        t.millis().div_euclid(DAY)
    }

    #[test]
    fn only_deploys_that_ended_ok_or_failed_are_deployments() {
        let with = |status, deployment_type| EventFields {
            deployment_status: Some(status),
            deployment_type: Some(deployment_type),
            ..EventFields::default()
        };
        let deploy = DeploymentType::Deploy;
        assert!(is_deployment(
            EventType::Deploy,
            &with(DeploymentStatus::Ok, deploy)
        ));
        assert!(is_deployment(
            EventType::Deploy,
            &with(DeploymentStatus::Failed, deploy)
        ));
        assert!(!is_deployment(
            EventType::Deploy,
            &with(DeploymentStatus::Aborted, deploy)
        ));
        assert!(!is_deployment(
            EventType::Deploy,
            &with(DeploymentStatus::InProgress, deploy)
        ));
        let restart = with(DeploymentStatus::Ok, DeploymentType::Restart);
        assert!(!is_deployment(EventType::Deploy, &restart));
        assert!(!is_deployment(
            EventType::Build,
            &with(DeploymentStatus::Ok, deploy)
        ));
    }

    #[test]
    fn an_empty_bucket_has_zero_counts_and_no_medians_or_rates() {
        let deployments = [deploy(1, "prod", MONDAY + HOUR, false, 1), {
            let mut d = deploy(2, "prod", MONDAY + 2 * HOUR, true, 2);
            d.lead_start = Some(at(MONDAY));
            d
        }];
        let m = metrics(&deployments, &[], &two_weeks(), utc_day);
        assert_eq!(m.deployment_frequency.buckets, [1, 0]);
        assert_eq!(
            m.change_lead_time.buckets[1],
            Durations {
                median_seconds: None,
                count: 0
            }
        );
        assert_eq!(m.change_lead_time.buckets[0].median_seconds, Some(7200.0));
        assert_eq!(
            m.change_fail_rate.1[1],
            Ratio {
                part: 0,
                total: 0,
                rate: None
            }
        );
        assert_eq!(
            m.change_fail_rate.1[0],
            Ratio {
                part: 1,
                total: 2,
                rate: Some(0.5)
            }
        );
        assert_eq!(m.recovery_time.buckets[1].median_seconds, None);
        // The failure at 01:00 was recovered by the Ok deploy at 02:00.
        assert_eq!(m.recovery_time.buckets[0].median_seconds, Some(3600.0));
        assert_eq!(m.rework_rate.1[1].rate, None);
    }

    #[test]
    fn los_angeles_weeks_and_days_move_with_the_dst_change() {
        use calendar::{Bucket, Calendar};
        let la = Calendar::new("America/Los_Angeles").unwrap();
        let ts = |text: &str| Timestamp::parse(text).unwrap();
        // Two LA weeks from Monday 2 March 2026 (08:00 UTC); daylight time
        // begins on Sunday 8 March, so the second week starts at 07:00 UTC.
        let window = Window {
            from: ts("2026-03-02T08:00:00Z"),
            to: ts("2026-03-16T07:00:00Z"),
            bucket_starts: la
                .bucket_starts(
                    ts("2026-03-02T08:00:00Z"),
                    ts("2026-03-16T07:00:00Z"),
                    Bucket::Week,
                )
                .unwrap(),
        };
        assert_eq!(
            window.bucket_starts,
            [ts("2026-03-02T08:00:00Z"), ts("2026-03-09T07:00:00Z")]
        );
        let at_text = |id, text: &str| {
            let mut d = deploy(id, "prod", 0, true, id);
            d.end = ts(text);
            d
        };
        let deployments = [
            // Monday 2 March 00:30 in LA: the first week (a UTC calendar
            // would put it on the Monday too, but 08:30 UTC).
            at_text(1, "2026-03-02T08:30:00Z"),
            // Sunday 8 March 23:30 PDT: still the first LA week, though it
            // is Monday 9 March in UTC.
            at_text(2, "2026-03-09T06:30:00Z"),
            // Monday 9 March 00:30 PDT: the second week.
            at_text(3, "2026-03-09T07:30:00Z"),
            // Sunday 1 March 23:59 PST: before the window.
            at_text(4, "2026-03-02T07:59:00Z"),
        ];
        let m = metrics(&deployments, &[], &window, |t| la.day_of(t));
        assert_eq!(m.deployment_frequency.buckets, [2, 1]);
        assert_eq!(m.deployment_frequency.count, 3);
        // LA days: 2 March, 8 March, 9 March.
        assert_eq!(m.deployment_frequency.days_with_deployment, 3);
        // The window is 14 days less the hour daylight time skips.
        let days = (14.0 * 24.0 - 1.0) / 24.0;
        assert!((m.deployment_frequency.per_day - 3.0 / days).abs() < 1e-12);
    }

    #[test]
    fn medians_average_the_middle_pair_and_p90_takes_the_nearest_rank() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        let ten: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(p90(&ten), Some(9.0));
        let eleven: Vec<f64> = (1..=11).map(f64::from).collect();
        assert_eq!(p90(&eleven), Some(10.0));
        assert_eq!(p90(&[5.0]), Some(5.0));
    }

    #[test]
    fn frequency_counts_ok_deployments_per_bucket_and_day() {
        let deployments = [
            deploy(1, "prod", MONDAY + HOUR, true, 1),
            deploy(2, "prod", MONDAY + 2 * HOUR, true, 2),
            deploy(3, "prod", MONDAY + DAY, false, 3),
            deploy(4, "prod", MONDAY + 8 * DAY, true, 4),
            // Before the window: history only.
            deploy(5, "prod", MONDAY - DAY, true, 0),
        ];
        let m = metrics(&deployments, &[], &two_weeks(), utc_day);
        let f = &m.deployment_frequency;
        assert_eq!(f.count, 3);
        assert_eq!(f.buckets, [2, 1]);
        assert_eq!(f.days_with_deployment, 2);
        assert!((f.per_day - 3.0 / 14.0).abs() < 1e-12);
    }

    #[test]
    fn a_failed_deploy_and_a_rollback_fail_and_the_next_ok_recovers() {
        let deployments = [
            deploy(1, "prod", MONDAY + HOUR, true, 10),
            // Fails; recovered by 3 two hours later.
            deploy(2, "prod", MONDAY + 2 * HOUR, false, 11),
            deploy(3, "prod", MONDAY + 4 * HOUR, true, 11),
            // 5 rolls 4 back to release 11: 4 failed, 5 is rework.
            deploy(4, "prod", MONDAY + DAY, true, 12),
            deploy(5, "prod", MONDAY + DAY + 30 * 60_000, true, 11),
        ];
        let m = metrics(&deployments, &[], &two_weeks(), utc_day);
        let (fail, buckets) = &m.change_fail_rate;
        assert_eq!((fail.part, fail.total), (2, 5));
        assert_eq!(fail.rate, Some(0.4));
        assert_eq!(buckets[1].rate, None, "an empty bucket has no rate");
        assert_eq!(m.recovery_time.count, 2);
        // Samples: 2 h (deploy 2 → 3) and 30 min (deploy 4 → 5).
        assert_eq!(
            m.recovery_time.median_seconds,
            Some((7200.0 + 1800.0) / 2.0)
        );
        let (rework, _) = &m.rework_rate;
        assert_eq!((rework.part, rework.total), (1, 4));
    }

    #[test]
    fn an_incident_fails_its_deploy_and_recovers_at_its_end_and_open_ones_make_rework() {
        let mut hotfix = deploy(3, "prod", MONDAY + 5 * HOUR, true, 12);
        hotfix.hotfix = true;
        let deployments = [
            deploy(1, "prod", MONDAY + HOUR, true, 10),
            deploy(2, "prod", MONDAY + 2 * HOUR, true, 11),
            hotfix,
            // During the open incident below: rework.
            deploy(4, "prod", MONDAY + 9 * DAY, true, 13),
            // Aborted deploys are not facts at all; another env is apart.
            deploy(5, "dev", MONDAY + 9 * DAY, true, 13),
        ];
        let incidents = [
            Incident {
                env: "prod".into(),
                start: at(MONDAY + 3 * HOUR),
                end: Some(at(MONDAY + 4 * HOUR)),
                caused_by: Some(2),
            },
            Incident {
                env: "prod".into(),
                start: at(MONDAY + 8 * DAY),
                end: None,
                caused_by: None,
            },
        ];
        let m = metrics(&deployments, &incidents, &two_weeks(), utc_day);
        let (fail, _) = &m.change_fail_rate;
        assert_eq!((fail.part, fail.total), (1, 5));
        assert_eq!(m.recovery_time.count, 1);
        assert_eq!(m.recovery_time.median_seconds, Some(3600.0));
        assert_eq!(m.recovery_time.buckets[0].count, 1);
        let (rework, buckets) = &m.rework_rate;
        // The hotfix, and the deploy to prod while the incident is open.
        assert_eq!((rework.part, rework.total), (2, 5));
        assert_eq!((buckets[1].part, buckets[1].total), (1, 2));
    }

    #[test]
    fn lead_time_counts_each_commit_once_per_env_and_drops_non_positive_samples() {
        let with_start = |mut d: Deployment, commit: &str, start: i64| {
            d.commit = Some(commit.into());
            d.lead_start = Some(at(start));
            d
        };
        let deployments = [
            // Deployed before the window: no sample for a later redeploy.
            with_start(
                deploy(1, "prod", MONDAY - HOUR, true, 1),
                "old",
                MONDAY - DAY,
            ),
            with_start(
                deploy(2, "prod", MONDAY + HOUR, true, 1),
                "old",
                MONDAY - DAY,
            ),
            // 1 h, 3 h and 5 h; the redeploy of a adds none; dev has its own.
            with_start(
                deploy(3, "prod", MONDAY + 2 * HOUR, true, 2),
                "a",
                MONDAY + HOUR,
            ),
            with_start(
                deploy(4, "prod", MONDAY + 3 * HOUR, true, 2),
                "a",
                MONDAY + HOUR,
            ),
            with_start(
                deploy(5, "dev", MONDAY + 4 * HOUR, true, 2),
                "a",
                MONDAY + HOUR,
            ),
            with_start(
                deploy(6, "prod", MONDAY + 8 * DAY, true, 3),
                "b",
                MONDAY + 8 * DAY - 5 * HOUR,
            ),
            // A failed deploy brings nothing; a start after the end drops.
            with_start(deploy(7, "prod", MONDAY + 9 * DAY, false, 4), "c", MONDAY),
            with_start(
                deploy(8, "prod", MONDAY + 10 * DAY, true, 5),
                "d",
                MONDAY + 11 * DAY,
            ),
        ];
        let m = metrics(&deployments, &[], &two_weeks(), utc_day);
        let lead = &m.change_lead_time;
        assert_eq!(lead.count, 3);
        assert_eq!(lead.median_seconds, Some(3.0 * 3600.0));
        assert_eq!(lead.p90_seconds, Some(5.0 * 3600.0));
        assert_eq!(lead.buckets[0].count, 2);
        assert_eq!(lead.buckets[0].median_seconds, Some(2.0 * 3600.0));
        assert_eq!(lead.buckets[1].count, 1);
    }

    #[test]
    fn the_order_facts_arrive_in_does_not_change_the_answer() {
        let deployments = vec![
            deploy(1, "prod", MONDAY + HOUR, true, 10),
            deploy(2, "prod", MONDAY + 2 * HOUR, false, 11),
            deploy(3, "prod", MONDAY + 4 * HOUR, true, 12),
            deploy(4, "prod", MONDAY + DAY, true, 11),
        ];
        let mut shuffled = deployments.clone();
        shuffled.reverse();
        shuffled.swap(0, 2);
        assert_eq!(
            metrics(&deployments, &[], &two_weeks(), utc_day),
            metrics(&shuffled, &[], &two_weeks(), utc_day)
        );
    }
}
