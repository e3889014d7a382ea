//! Timestamps: accepted in any RFC 3339 form, stored as UTC milliseconds,
//! returned as `2016-08-30T22:31:03.723Z`.

use std::fmt;

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// `2016-08-30T22:31:03.723Z`: the length of every answered timestamp.
const RFC3339_MILLIS_LEN: usize = 24;

/// An instant with millisecond precision, as milliseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    pub fn from_millis(millis: i64) -> Self {
        Timestamp(millis)
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    pub fn now() -> Self {
        let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
        Timestamp((nanos / 1_000_000) as i64)
    }

    /// Parses any RFC 3339 date-time (0–9 fractional digits, any offset);
    /// sub-millisecond digits are truncated. The instant must fall in the
    /// years 0000–9999 in UTC, the range the response format can express.
    pub fn parse(text: &str) -> Option<Self> {
        let parsed = OffsetDateTime::parse(text, &Rfc3339).ok()?;
        let utc = parsed.checked_to_offset(UtcOffset::UTC)?;
        if !(0..=9999).contains(&utc.year()) {
            return None;
        }
        let nanos = parsed.unix_timestamp_nanos();
        Some(Timestamp(nanos.div_euclid(1_000_000) as i64))
    }

    /// The instant as `YYYY-MM-DDTHH:MM:SS.mmmZ`, or `None` outside the
    /// years 0000–9999 (unreachable for parsed input). The calendar is
    /// `time`'s; the digits are written straight into a buffer on the
    /// stack, which costs a fraction of formatting them one by one through
    /// `fmt` (every event of every page has several timestamps).
    fn rfc3339_millis(self) -> Option<[u8; RFC3339_MILLIS_LEN]> {
        let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000)
            .ok()
            .filter(|instant| (0..=9999).contains(&instant.year()))?;
        let mut out = *b"0000-00-00T00:00:00.000Z";
        let mut digits = |at: usize, width: usize, mut value: u32| {
            for slot in out[at..at + width].iter_mut().rev() {
                *slot = b'0' + (value % 10) as u8;
                value /= 10;
            }
        };
        let (year, month, day) = t.to_calendar_date();
        let (hour, minute, second, milli) = t.to_hms_milli();
        digits(0, 4, year as u32);
        digits(5, 2, u32::from(u8::from(month)));
        digits(8, 2, u32::from(day));
        digits(11, 2, u32::from(hour));
        digits(14, 2, u32::from(minute));
        digits(17, 2, u32::from(second));
        digits(20, 3, u32::from(milli));
        Some(out)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.rfc3339_millis() {
            Some(text) => f.write_str(ascii(&text)),
            // Never fail a whole response for an instant out of range.
            None => write!(f, "{}ms", self.0),
        }
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.rfc3339_millis() {
            Some(text) => serializer.serialize_str(ascii(&text)),
            None => serializer.collect_str(self),
        }
    }
}

/// The formatted instant, which holds only ASCII digits and punctuation.
fn ascii(text: &[u8; RFC3339_MILLIS_LEN]) -> &str {
    std::str::from_utf8(text).unwrap_or_default()
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Timestamp::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("not an RFC 3339 time: {text}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_every_fraction_length_and_offset() {
        let base = Timestamp::parse("2016-08-15T22:22:22Z").unwrap();
        assert_eq!(base.to_string(), "2016-08-15T22:22:22.000Z");
        assert_eq!(
            Timestamp::parse("2016-08-30T22:30:52.0Z")
                .unwrap()
                .to_string(),
            "2016-08-30T22:30:52.000Z"
        );
        assert_eq!(
            Timestamp::parse("2016-08-15T22:22:22.1Z")
                .unwrap()
                .to_string(),
            "2016-08-15T22:22:22.100Z"
        );
        assert_eq!(
            Timestamp::parse("2016-08-15T22:22:22.111+02:00")
                .unwrap()
                .to_string(),
            "2016-08-15T20:22:22.111Z"
        );
        assert_eq!(
            Timestamp::parse("2016-08-15T22:22:22.123456789Z")
                .unwrap()
                .to_string(),
            "2016-08-15T22:22:22.123Z"
        );
    }

    #[test]
    fn refuses_what_is_not_rfc3339() {
        for bad in [
            "",
            "yesterday",
            "2016-08-15",
            "2016-13-01T00:00:00Z",
            "2016-08-15 22:22:22",
        ] {
            assert!(Timestamp::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn refuses_instants_outside_years_0000_to_9999_in_utc() {
        assert!(Timestamp::parse("9999-12-31T23:59:59-01:00").is_none());
        assert!(Timestamp::parse("0000-01-01T00:00:00+01:00").is_none());
        assert!(Timestamp::parse("9999-12-31T23:59:59Z").is_some());
        assert!(Timestamp::parse("0000-01-01T00:00:00Z").is_some());
    }

    /// The digits written, shown and serialised, are those of `time`'s own
    /// formatting, across the years a timestamp can have, at every field's
    /// edges.
    #[test]
    fn formats_as_time_does_with_a_format_description() {
        let format = time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        );
        let first = Timestamp::parse("0000-01-01T00:00:00Z").unwrap().millis();
        let last = Timestamp::parse("9999-12-31T23:59:59.999Z")
            .unwrap()
            .millis();
        let step = (last - first) / 100_003;
        let edges = [first, last, -1, 0, 1, 951_782_400_000, 1_709_164_800_999];
        for millis in (first..=last).step_by(step as usize).chain(edges) {
            let expected =
                OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
                    .unwrap()
                    .format(format)
                    .unwrap();
            let t = Timestamp::from_millis(millis);
            assert_eq!(t.to_string(), expected);
            assert_eq!(
                serde_json::to_string(&t).unwrap(),
                format!("\"{expected}\"")
            );
        }
        let beyond = Timestamp::from_millis(last + 1);
        assert_eq!(beyond.to_string(), format!("{}ms", last + 1));
        assert_eq!(
            serde_json::to_string(&beyond).unwrap(),
            format!("\"{}ms\"", last + 1)
        );
    }

    #[test]
    fn formats_times_before_the_epoch() {
        let t = Timestamp::parse("1969-12-31T23:59:59.999Z").unwrap();
        assert_eq!(t.millis(), -1);
        assert_eq!(t.to_string(), "1969-12-31T23:59:59.999Z");
    }
}
