//! The calendar of a metrics window: days, Monday-weeks and months in an
//! IANA time zone, and their starts as instants.

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{ToSpan, Zoned};

use crate::{DomainError, Timestamp};

/// The length of a bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Day,
    Week,
    Month,
}

impl Bucket {
    /// Parses `day`, `week` or `month` in any letter case.
    pub fn parse(text: &str) -> Option<Bucket> {
        [Bucket::Day, Bucket::Week, Bucket::Month]
            .into_iter()
            .find(|b| b.as_str().eq_ignore_ascii_case(text))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::Day => "day",
            Bucket::Week => "week",
            Bucket::Month => "month",
        }
    }
}

/// The most buckets one answer holds: ten years of days.
pub const MAX_BUCKETS: usize = 3660;

/// A time zone and the calendar it keeps.
#[derive(Debug, Clone)]
pub struct Calendar {
    name: String,
    tz: TimeZone,
}

impl Calendar {
    /// The calendar of an IANA zone name (`UTC`, `America/Los_Angeles`).
    pub fn new(tz_name: &str) -> Result<Calendar, DomainError> {
        TimeZone::get(tz_name)
            .map(|tz| Calendar {
                name: tz.iana_name().unwrap_or(tz_name).to_owned(),
                tz,
            })
            .map_err(|_| {
                DomainError::bad_param("tz", format!("{tz_name:?} is not an IANA time zone"))
            })
    }

    /// The zone's IANA name (`America/Los_Angeles`, whatever the case sent).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the calendar covers an instant: every one up to
    /// 9999-12-30T22:00Z, so that its date exists in every zone.
    pub fn covers(&self, at: Timestamp) -> bool {
        self.zoned(at).is_some()
    }

    fn zoned(&self, at: Timestamp) -> Option<Zoned> {
        jiff::Timestamp::from_millisecond(at.millis())
            .ok()
            .map(|t| t.to_zoned(self.tz.clone()))
    }

    /// The first instant of a calendar day (midnight, or the first time
    /// after a gap that skips it); none past the calendar's range.
    pub fn start_of(&self, date: Date) -> Option<Timestamp> {
        date.to_zoned(self.tz.clone())
            .and_then(|zoned| zoned.start_of_day())
            .ok()
            .map(|zoned| Timestamp::from_millis(zoned.timestamp().as_millisecond()))
    }

    /// The calendar day of an instant, as a number that orders like days.
    /// Instants the calendar does not cover (never in a window) fall back
    /// to their UTC day.
    pub fn day_of(&self, at: Timestamp) -> i64 {
        match self.zoned(at) {
            Some(zoned) => {
                let date = zoned.date();
                i64::from(date.year()) * 10_000
                    + i64::from(date.month()) * 100
                    + i64::from(date.day())
            }
            None => at.millis().div_euclid(86_400_000),
        }
    }

    /// The calendar start of the bucket holding `at`.
    fn bucket_date(&self, at: Timestamp, bucket: Bucket) -> Option<Date> {
        let date = self.zoned(at)?.date();
        Some(match bucket {
            Bucket::Day => date,
            Bucket::Week => {
                let back = date.weekday().since(Weekday::Monday);
                date.checked_sub(i64::from(back).days()).unwrap_or(date)
            }
            Bucket::Month => date.first_of_month(),
        })
    }

    /// The starts of every bucket that meets `[from, to)`, ascending: the
    /// first is at or before `from`. `BadParam` naming `bucket` past
    /// [`MAX_BUCKETS`].
    pub fn bucket_starts(
        &self,
        from: Timestamp,
        to: Timestamp,
        bucket: Bucket,
    ) -> Result<Vec<Timestamp>, DomainError> {
        let step = match bucket {
            Bucket::Day => 1.day(),
            Bucket::Week => 1.week(),
            Bucket::Month => 1.month(),
        };
        let mut starts = Vec::new();
        let Some(mut date) = self.bucket_date(from, bucket) else {
            return Ok(starts);
        };
        loop {
            let Some(start) = self.start_of(date) else {
                return Ok(starts);
            };
            if start >= to && !starts.is_empty() {
                return Ok(starts);
            }
            if starts.len() == MAX_BUCKETS {
                return Err(DomainError::bad_param(
                    "bucket",
                    format!(
                        "the window holds more than {MAX_BUCKETS} buckets; choose a longer bucket or a shorter window"
                    ),
                ));
            }
            starts.push(start);
            date = match date.checked_add(step) {
                Ok(next) => next,
                Err(_) => return Ok(starts),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    fn texts(starts: &[Timestamp]) -> Vec<String> {
        starts.iter().map(|t| t.to_string()).collect()
    }

    #[test]
    fn weeks_start_on_monday_in_the_zone() {
        let la = Calendar::new("America/Los_Angeles").unwrap();
        // Wednesday 4 March 2026 to Tuesday 17 March, across the DST change
        // of Sunday 8 March.
        let starts = la
            .bucket_starts(
                ts("2026-03-04T12:00:00Z"),
                ts("2026-03-17T12:00:00Z"),
                Bucket::Week,
            )
            .unwrap();
        assert_eq!(
            texts(&starts),
            [
                "2026-03-02T08:00:00.000Z",
                "2026-03-09T07:00:00.000Z",
                "2026-03-16T07:00:00.000Z"
            ]
        );
    }

    #[test]
    fn days_follow_the_zone_and_months_their_first_day() {
        let utc = Calendar::new("UTC").unwrap();
        let days = utc
            .bucket_starts(
                ts("2026-01-30T10:00:00Z"),
                ts("2026-02-01T00:00:00Z"),
                Bucket::Day,
            )
            .unwrap();
        assert_eq!(
            texts(&days),
            ["2026-01-30T00:00:00.000Z", "2026-01-31T00:00:00.000Z"]
        );
        let months = utc
            .bucket_starts(
                ts("2026-01-30T10:00:00Z"),
                ts("2026-03-01T00:00:01Z"),
                Bucket::Month,
            )
            .unwrap();
        assert_eq!(
            texts(&months),
            [
                "2026-01-01T00:00:00.000Z",
                "2026-02-01T00:00:00.000Z",
                "2026-03-01T00:00:00.000Z"
            ]
        );
        // 23:30 in Los Angeles on 1 March is 2 March in UTC.
        let la = Calendar::new("America/Los_Angeles").unwrap();
        let late = ts("2026-03-02T07:30:00Z");
        assert_eq!(la.day_of(late), 20260301);
        assert_eq!(utc.day_of(late), 20260302);
    }

    #[test]
    fn unknown_zones_and_huge_windows_are_refused() {
        assert!(
            matches!(Calendar::new("Mars/Olympus"), Err(DomainError::BadParam(m)) if m.contains("tz"))
        );
        let utc = Calendar::new("UTC").unwrap();
        let err = utc.bucket_starts(
            ts("1990-01-01T00:00:00Z"),
            ts("2026-01-01T00:00:00Z"),
            Bucket::Day,
        );
        assert!(matches!(err, Err(DomainError::BadParam(m)) if m.contains("bucket")));
    }
}
