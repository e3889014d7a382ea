//! GetDora's answer: the five metrics of a scope and window, in total and
//! per bucket, each with its performance level.

use serde::{Deserialize, Serialize};
use shiplog_domain::Timestamp;
use shiplog_domain::dora::benchmark::Level;
use shiplog_domain::dora::{Durations, Metrics, Ratio, Window};
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DoraEnvelope {
    pub dora: DoraOut,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DoraOut {
    /// The app's name; `null` for every app of the account.
    pub app: Option<String>,
    /// The envs in scope, sorted.
    pub envs: Vec<String>,
    #[schema(value_type = String)]
    pub from: Timestamp,
    #[schema(value_type = String)]
    pub to: Timestamp,
    /// `day`, `week` or `month`.
    pub bucket: String,
    /// The IANA time zone of the buckets and days.
    pub tz: String,
    /// The benchmark set the levels come from (`2021`, `2023`, `2024`).
    pub benchmark: String,
    pub deployment_frequency: FrequencyOut,
    pub change_lead_time: LeadTimeOut,
    pub change_fail_rate: FailRateOut,
    pub recovery_time: RecoveryOut,
    pub rework_rate: ReworkOut,
    /// Present, and `true`, when the window starts before the oldest data
    /// retention kept for an app in scope: older events were removed, so
    /// the counts cover only part of the window.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FrequencyOut {
    pub count: u64,
    pub per_day: f64,
    pub days_with_deployment: u64,
    #[schema(value_type = Option<String>)]
    pub level: Option<Level>,
    pub buckets: Vec<CountBucket>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CountBucket {
    #[schema(value_type = String)]
    pub start: Timestamp,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LeadTimeOut {
    pub median_seconds: Option<f64>,
    pub p90_seconds: Option<f64>,
    pub count: u64,
    #[schema(value_type = Option<String>)]
    pub level: Option<Level>,
    pub buckets: Vec<MedianBucket>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MedianBucket {
    #[schema(value_type = String)]
    pub start: Timestamp,
    pub median_seconds: Option<f64>,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FailRateOut {
    pub failed: u64,
    pub total: u64,
    pub rate: Option<f64>,
    #[schema(value_type = Option<String>)]
    pub level: Option<Level>,
    pub buckets: Vec<FailRateBucket>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FailRateBucket {
    #[schema(value_type = String)]
    pub start: Timestamp,
    pub failed: u64,
    pub total: u64,
    pub rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RecoveryOut {
    pub median_seconds: Option<f64>,
    pub count: u64,
    #[schema(value_type = Option<String>)]
    pub level: Option<Level>,
    pub buckets: Vec<MedianBucket>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReworkOut {
    pub rework: u64,
    pub total: u64,
    pub rate: Option<f64>,
    pub buckets: Vec<ReworkBucket>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReworkBucket {
    #[schema(value_type = String)]
    pub start: Timestamp,
    pub rework: u64,
    pub total: u64,
    pub rate: Option<f64>,
}

/// What the answer says of its request.
pub struct DoraScope {
    pub app: Option<String>,
    pub envs: Vec<String>,
    pub bucket: String,
    pub tz: String,
    pub benchmark: String,
    /// Retention removed the events of an app in scope before this time.
    pub pruned_before: Option<Timestamp>,
}

impl DoraOut {
    pub fn new(
        scope: DoraScope,
        window: &Window,
        metrics: &Metrics,
        levels: shiplog_domain::dora::Levels,
    ) -> DoraOut {
        let starts = &window.bucket_starts;
        let medians = |buckets: &[Durations]| -> Vec<MedianBucket> {
            starts
                .iter()
                .zip(buckets)
                .map(|(start, d)| MedianBucket {
                    start: *start,
                    median_seconds: d.median_seconds,
                    count: d.count,
                })
                .collect()
        };
        let frequency = &metrics.deployment_frequency;
        let lead = &metrics.change_lead_time;
        let (failed, failed_buckets) = &metrics.change_fail_rate;
        let (rework, rework_buckets) = &metrics.rework_rate;
        let zip_ratios = |buckets: &[Ratio]| starts.iter().copied().zip(buckets.to_vec());
        DoraOut {
            truncated: scope
                .pruned_before
                .is_some_and(|cut| window.from.millis() < cut.millis()),
            app: scope.app,
            envs: scope.envs,
            from: window.from,
            to: window.to,
            bucket: scope.bucket,
            tz: scope.tz,
            benchmark: scope.benchmark,
            deployment_frequency: FrequencyOut {
                count: frequency.count,
                per_day: frequency.per_day,
                days_with_deployment: frequency.days_with_deployment,
                level: levels.deployment_frequency,
                buckets: starts
                    .iter()
                    .zip(&frequency.buckets)
                    .map(|(start, count)| CountBucket {
                        start: *start,
                        count: *count,
                    })
                    .collect(),
            },
            change_lead_time: LeadTimeOut {
                median_seconds: lead.median_seconds,
                p90_seconds: lead.p90_seconds,
                count: lead.count,
                level: levels.change_lead_time,
                buckets: medians(&lead.buckets),
            },
            change_fail_rate: FailRateOut {
                failed: failed.part,
                total: failed.total,
                rate: failed.rate,
                level: levels.change_fail_rate,
                buckets: zip_ratios(failed_buckets)
                    .map(|(start, r)| FailRateBucket {
                        start,
                        failed: r.part,
                        total: r.total,
                        rate: r.rate,
                    })
                    .collect(),
            },
            recovery_time: RecoveryOut {
                median_seconds: metrics.recovery_time.median_seconds,
                count: metrics.recovery_time.count,
                level: levels.recovery_time,
                buckets: medians(&metrics.recovery_time.buckets),
            },
            rework_rate: ReworkOut {
                rework: rework.part,
                total: rework.total,
                rate: rework.rate,
                buckets: zip_ratios(rework_buckets)
                    .map(|(start, r)| ReworkBucket {
                        start,
                        rework: r.part,
                        total: r.total,
                        rate: r.rate,
                    })
                    .collect(),
            },
        }
    }
}
