//! Timestamps: accepted in any RFC 3339 form, stored as UTC milliseconds,
//! returned as `2016-08-30T22:31:03.723Z`.

use std::fmt;

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

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
}

impl fmt::Display for Timestamp {
    /// The calendar is `time`'s; the digits are written straight into the
    /// output, which costs a fraction of formatting through a format
    /// description into a string of its own (every event of every page has
    /// several timestamps).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let instant = OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000)
            .ok()
            .filter(|instant| (0..=9999).contains(&instant.year()));
        match instant {
            Some(t) => write!(
                f,
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second(),
                t.millisecond()
            ),
            // Unreachable for parsed input; never fail a whole response for it.
            None => write!(f, "{}ms", self.0),
        }
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
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

    /// The digits written are those of `time`'s own formatting, across the
    /// years a timestamp can have, at every field's edges.
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
            assert_eq!(Timestamp::from_millis(millis).to_string(), expected);
        }
        assert_eq!(
            Timestamp::from_millis(last + 1).to_string(),
            format!("{}ms", last + 1)
        );
    }

    #[test]
    fn formats_times_before_the_epoch() {
        let t = Timestamp::parse("1969-12-31T23:59:59.999Z").unwrap();
        assert_eq!(t.millis(), -1);
        assert_eq!(t.to_string(), "1969-12-31T23:59:59.999Z");
    }
}
