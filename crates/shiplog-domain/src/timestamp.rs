//! Timestamps: accepted in any RFC 3339 form, stored as UTC milliseconds,
//! returned as `2016-08-30T22:31:03.723Z`.

use std::fmt;

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
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
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let format = format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        );
        let text = OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000)
            .ok()
            .and_then(|instant| instant.to_offset(UtcOffset::UTC).format(format).ok());
        match text {
            Some(text) => f.write_str(&text),
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

    #[test]
    fn formats_times_before_the_epoch() {
        let t = Timestamp::parse("1969-12-31T23:59:59.999Z").unwrap();
        assert_eq!(t.millis(), -1);
        assert_eq!(t.to_string(), "1969-12-31T23:59:59.999Z");
    }
}
