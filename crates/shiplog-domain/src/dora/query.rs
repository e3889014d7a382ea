//! A metrics request: its scope, window, buckets, time zone and benchmark
//! set, parsed from the query string with the defaults that need no
//! configuration.

use jiff::civil::Date;

use super::benchmark::{self, BenchmarkSet};
use super::calendar::{Bucket, Calendar};
use crate::{DomainError, Timestamp};

/// The default window: the 90 days up to now.
const DEFAULT_DAYS: i64 = 90;

#[derive(Debug, Clone)]
pub struct DoraQuery {
    /// One app, or every app of the account.
    pub app: Option<String>,
    /// One env, or the production envs.
    pub env: Option<String>,
    pub from: Timestamp,
    pub to: Timestamp,
    pub bucket: Bucket,
    pub calendar: Calendar,
    pub benchmark_name: String,
    pub benchmark: &'static BenchmarkSet,
}

impl DoraQuery {
    /// Parses the query parameters `param` gives, at `now`.
    pub fn parse<'a>(
        param: impl Fn(&str) -> Option<&'a str>,
        now: Timestamp,
    ) -> Result<DoraQuery, DomainError> {
        let present = |name: &str| param(name).filter(|v| !v.is_empty());
        let calendar = Calendar::new(present("tz").unwrap_or("UTC"))?;
        let bucket = match present("bucket") {
            None => Bucket::Week,
            Some(text) => Bucket::parse(text).ok_or_else(|| {
                DomainError::bad_param("bucket", "accepted values are day, week, month")
            })?,
        };
        let benchmark_name = present("benchmark").unwrap_or(benchmark::DEFAULT);
        let benchmark = benchmark::set(benchmark_name).ok_or_else(|| {
            DomainError::bad_param(
                "benchmark",
                format!("accepted values are {}", benchmark::names().join(", ")),
            )
        })?;
        let instant = |name: &str| -> Result<Option<Timestamp>, DomainError> {
            let Some(text) = present(name) else {
                return Ok(None);
            };
            let at = parse_instant(&calendar, text).ok_or_else(|| {
                DomainError::bad_param(
                    name,
                    "expected an RFC 3339 date-time (2026-03-02T08:00:00Z) or a date (2026-03-02)",
                )
            })?;
            if !calendar.covers(at) {
                return Err(DomainError::bad_param(
                    name,
                    "the calendar covers instants up to 9999-12-30",
                ));
            }
            Ok(Some(at))
        };
        let span = DEFAULT_DAYS * 86_400_000;
        let (from, to) = match (instant("from")?, instant("to")?) {
            (Some(from), Some(to)) => (from, to),
            (Some(from), None) => (from, now),
            (None, Some(to)) => (Timestamp::from_millis(to.millis() - span), to),
            (None, None) => (Timestamp::from_millis(now.millis() - span), now),
        };
        if from >= to {
            return Err(DomainError::bad_param("to", "to must be later than from"));
        }
        Ok(DoraQuery {
            app: present("app").map(str::to_owned),
            env: present("env").map(str::to_owned),
            from,
            to,
            bucket,
            calendar,
            benchmark_name: benchmark_name.to_owned(),
            benchmark,
        })
    }
}

impl DoraQuery {
    /// The query's window with the start of each of its buckets;
    /// `BadParam` naming `bucket` when it holds too many.
    pub fn window(&self) -> Result<super::Window, DomainError> {
        Ok(super::Window {
            from: self.from,
            to: self.to,
            bucket_starts: self
                .calendar
                .bucket_starts(self.from, self.to, self.bucket)?,
        })
    }

    /// The metrics of a scope's facts over `window`, and their levels by
    /// the query's benchmark set.
    pub fn evaluate(
        &self,
        window: &super::Window,
        deployments: &[super::Deployment],
        incidents: &[super::Incident],
    ) -> (super::Metrics, super::Levels) {
        let metrics = super::metrics(deployments, incidents, window, |at| {
            self.calendar.day_of(at)
        });
        let levels = metrics.levels(self.benchmark);
        (metrics, levels)
    }
}

/// An RFC 3339 instant, or the start of a `YYYY-MM-DD` day in the zone.
fn parse_instant(calendar: &Calendar, text: &str) -> Option<Timestamp> {
    if let Some(instant) = Timestamp::parse(text) {
        return Some(instant);
    }
    let date: Date = text.parse().ok()?;
    if text.len() != 10 {
        return None;
    }
    calendar.start_of(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &'static str)]) -> Result<DoraQuery, DomainError> {
        let now = Timestamp::parse("2026-06-01T12:00:00Z").unwrap();
        let pairs = pairs.to_vec();
        DoraQuery::parse(
            move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v),
            now,
        )
    }

    fn bad_param(result: Result<DoraQuery, DomainError>) -> String {
        match result {
            Err(DomainError::BadParam(message)) => message,
            other => panic!("expected BadParam, got {other:?}"),
        }
    }

    #[test]
    fn defaults_are_90_days_weekly_in_utc_by_the_2023_set() {
        let query = parse(&[]).unwrap();
        assert_eq!(query.to.to_string(), "2026-06-01T12:00:00.000Z");
        assert_eq!(query.from.to_string(), "2026-03-03T12:00:00.000Z");
        assert_eq!(query.bucket, Bucket::Week);
        assert_eq!(parse(&[("bucket", "Month")]).unwrap().bucket, Bucket::Month);
        assert_eq!(
            parse(&[("tz", "america/los_angeles")])
                .unwrap()
                .calendar
                .name(),
            "America/Los_Angeles"
        );
        assert_eq!(query.benchmark_name, "2023");
        assert_eq!(query.app, None);
    }

    #[test]
    fn dates_start_at_midnight_in_the_zone() {
        let query = parse(&[
            ("from", "2026-03-02"),
            ("to", "2026-03-09"),
            ("tz", "America/Los_Angeles"),
        ])
        .unwrap();
        assert_eq!(query.from.to_string(), "2026-03-02T08:00:00.000Z");
        // After the change to daylight time on 8 March.
        assert_eq!(query.to.to_string(), "2026-03-09T07:00:00.000Z");
    }

    #[test]
    fn wrong_parameters_are_named() {
        assert!(bad_param(parse(&[("from", "2026-03-09"), ("to", "2026-03-02")])).contains("to"));
        assert!(bad_param(parse(&[("from", "2026-03-02"), ("to", "2026-03-02")])).contains("to"));
        assert!(bad_param(parse(&[("bucket", "year")])).contains("bucket"));
        assert!(bad_param(parse(&[("benchmark", "2022")])).contains("benchmark"));
        assert!(bad_param(parse(&[("tz", "Europe/Nowhere")])).contains("tz"));
        assert!(bad_param(parse(&[("from", "March")])).contains("from"));
        assert!(bad_param(parse(&[("to", "2026-02-30")])).contains("to"));
        // `to` is now unless sent: a `from` after it is refused.
        assert!(bad_param(parse(&[("from", "2100-01-01")])).contains("parameter to"));
        // The calendar ends on 9999-12-30, whatever the zone.
        assert!(bad_param(parse(&[("to", "9999-12-31")])).contains("parameter to"));
        assert!(bad_param(parse(&[("from", "9999-12-31T12:00:00Z")])).contains("parameter from"));
    }
}
