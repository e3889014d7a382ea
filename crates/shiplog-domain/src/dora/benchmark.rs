//! DORA's performance levels: the published benchmark sets, kept as data
//! (`benchmarks.json`, each set with its source), and how a metric's value
//! falls into a level.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

/// A performance level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Elite,
    High,
    Medium,
    Low,
}

/// The bounds of the elite, high and medium levels of one metric; a value
/// past the medium bound is low.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct Bounds {
    pub elite: f64,
    pub high: f64,
    pub medium: f64,
}

/// One year's published levels.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BenchmarkSet {
    /// Where the bounds come from.
    pub source: String,
    /// How the published table was read where it was not a set of bounds.
    pub notes: String,
    /// Deployments per day, at least.
    pub deployment_frequency: Bounds,
    /// Seconds, less than.
    pub change_lead_time: Bounds,
    /// A fraction, at most.
    pub change_fail_rate: Bounds,
    /// Seconds, less than.
    pub recovery_time: Bounds,
}

/// The set used when a request names none.
pub const DEFAULT: &str = "2023";

static SETS: LazyLock<BTreeMap<String, BenchmarkSet>> = LazyLock::new(|| {
    serde_json::from_str(include_str!("benchmarks.json")).expect("benchmarks.json is valid")
});

/// The benchmark set of that name (`2021`, `2023`, `2024`).
pub fn set(name: &str) -> Option<&'static BenchmarkSet> {
    SETS.get(name)
}

/// The names of every set, for error messages.
pub fn names() -> Vec<&'static str> {
    SETS.keys().map(String::as_str).collect()
}

impl BenchmarkSet {
    /// More is better: deployments per day.
    pub fn frequency_level(&self, per_day: f64) -> Level {
        let b = &self.deployment_frequency;
        if per_day >= b.elite {
            Level::Elite
        } else if per_day >= b.high {
            Level::High
        } else if per_day >= b.medium {
            Level::Medium
        } else {
            Level::Low
        }
    }

    pub fn lead_time_level(&self, seconds: f64) -> Level {
        below(&self.change_lead_time, seconds)
    }

    pub fn recovery_level(&self, seconds: f64) -> Level {
        below(&self.recovery_time, seconds)
    }

    pub fn fail_rate_level(&self, rate: f64) -> Level {
        let b = &self.change_fail_rate;
        if rate <= b.elite {
            Level::Elite
        } else if rate <= b.high {
            Level::High
        } else if rate <= b.medium {
            Level::Medium
        } else {
            Level::Low
        }
    }
}

/// Less is better: a duration under each bound.
fn below(b: &Bounds, value: f64) -> Level {
    if value < b.elite {
        Level::Elite
    } else if value < b.high {
        Level::High
    } else if value < b.medium {
        Level::Medium
    } else {
        Level::Low
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_published_sets_load_with_their_sources() {
        assert_eq!(names(), ["2021", "2023", "2024"]);
        for name in names() {
            let set = set(name).unwrap();
            assert!(set.source.contains("dora.dev"), "{name}");
            for b in [
                set.change_lead_time,
                set.recovery_time,
                set.change_fail_rate,
            ] {
                assert!(b.elite <= b.high && b.high <= b.medium, "{name}: {b:?}");
            }
        }
        assert!(set(DEFAULT).is_some());
        assert!(set("2022").is_none());
    }

    #[test]
    fn values_fall_into_the_levels_of_the_2023_set() {
        let set = set("2023").unwrap();
        assert_eq!(set.frequency_level(3.0), Level::Elite);
        assert_eq!(set.frequency_level(1.0 / 3.0), Level::High);
        assert_eq!(set.frequency_level(1.0 / 14.0), Level::Medium);
        assert_eq!(set.frequency_level(1.0 / 90.0), Level::Low);
        assert_eq!(set.lead_time_level(3600.0), Level::Elite);
        assert_eq!(set.lead_time_level(86_400.0), Level::High);
        assert_eq!(set.lead_time_level(10.0 * 86_400.0), Level::Medium);
        assert_eq!(set.lead_time_level(40.0 * 86_400.0), Level::Low);
        assert_eq!(set.fail_rate_level(0.05), Level::Elite);
        assert_eq!(set.fail_rate_level(0.12), Level::Medium);
        assert_eq!(set.fail_rate_level(0.5), Level::Low);
        assert_eq!(set.recovery_level(1800.0), Level::Elite);
        assert_eq!(set.recovery_level(7200.0), Level::High);
    }

    #[test]
    fn the_2021_set_puts_a_one_hour_lead_time_past_elite() {
        let set = set("2021").unwrap();
        assert_eq!(set.lead_time_level(3599.0), Level::Elite);
        assert_eq!(set.lead_time_level(3600.0), Level::High);
        assert_eq!(set.frequency_level(1.0 / 20.0), Level::High);
    }
}
