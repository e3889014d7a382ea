//! Reading a delivery: its headers and the few JSON shapes every mapping
//! looks up, with the one converter of the providers' time formats.

use serde_json::Value;
use shiplog_domain::Timestamp;

use crate::{Headers, MapError};

/// A header's value, when it is present and not blank.
pub(crate) fn header<'a>(headers: &'a dyn Headers, name: &str) -> Option<&'a str> {
    headers.get(name).filter(|value| !value.trim().is_empty())
}

pub(crate) fn required_header(headers: &dyn Headers, name: &str) -> Result<String, MapError> {
    header(headers, name)
        .map(str::to_owned)
        .ok_or_else(|| MapError(format!("The delivery has no {name} header")))
}

/// The string at `pointer` (`/a/b`). An empty string counts as absent:
/// providers send `""` for "none" (GitHub's `target_url`, `name`).
pub(crate) fn text<'a>(body: &'a Value, pointer: &str) -> Option<&'a str> {
    body.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|text| !text.is_empty())
}

pub(crate) fn required_text<'a>(body: &'a Value, pointer: &str) -> Result<&'a str, MapError> {
    text(body, pointer).ok_or_else(|| missing(pointer))
}

/// An id at `pointer`, sent as a whole number or a string.
pub(crate) fn required_id(body: &Value, pointer: &str) -> Result<String, MapError> {
    match body.pointer(pointer) {
        Some(Value::Number(n)) if n.is_u64() || n.is_i64() => Ok(n.to_string()),
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        _ => Err(missing(pointer)),
    }
}

/// The time at `pointer`; absent or `null` is `None`, a string that is not
/// a time is an error rather than silently lost.
pub(crate) fn time(body: &Value, pointer: &str) -> Result<Option<Timestamp>, MapError> {
    match body.pointer(pointer) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => timestamp(s)
            .map(Some)
            .ok_or_else(|| MapError(format!("The payload's {pointer} is not a time: {s:?}"))),
        Some(_) => Err(MapError(format!("The payload's {pointer} is not a time"))),
    }
}

/// RFC 3339, or GitLab's older form `2016-08-12 15:23:28 UTC` /
/// `2021-04-28 21:50:00 +0200`, which some of its hooks still send.
pub(crate) fn timestamp(text: &str) -> Option<Timestamp> {
    Timestamp::parse(text).or_else(|| Timestamp::parse(&gitlab_time_as_rfc3339(text)?))
}

fn gitlab_time_as_rfc3339(text: &str) -> Option<String> {
    let (date, rest) = text.split_once(' ')?;
    let (clock, zone) = rest.split_once(' ')?;
    let offset = match zone.as_bytes() {
        b"UTC" => "Z".to_owned(),
        [sign @ (b'+' | b'-'), digits @ ..] if digits.len() == 4 => {
            format!("{}{}:{}", *sign as char, &zone[1..3], &zone[3..])
        }
        _ => return None,
    };
    Some(format!("{date}T{clock}{offset}"))
}

/// A value from a provider's table of names (a status, a conclusion).
pub(crate) fn lookup<T: Copy>(table: &[(&str, T)], name: &str) -> Option<T> {
    table
        .iter()
        .find(|(known, _)| *known == name)
        .map(|(_, value)| *value)
}

/// A full commit id: 40 (SHA-1) or 64 (SHA-256) hex digits.
pub(crate) fn is_commit_id(text: &str) -> bool {
    matches!(text.len(), 40 | 64) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The all-zero id git hooks give the missing side of a ref change (the
/// `after` of a deletion).
pub(crate) fn is_null_commit(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b == b'0')
}

/// The text after the last `/` (`group/sub/project` → `project`).
pub(crate) fn last_segment(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The text before the last `/`, when there is one (`group/sub/project` →
/// `group/sub`).
pub(crate) fn before_last_segment(path: &str) -> Option<&str> {
    path.rsplit_once('/').map(|(head, _)| head)
}

/// The host of an `https://host[:port]/…` URL.
pub(crate) fn host(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?;
    let host = host.split(':').next()?;
    (!host.is_empty()).then_some(host)
}

fn missing(pointer: &str) -> MapError {
    MapError(format!("The payload has no {pointer}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc3339_and_gitlab_times_are_read() {
        let at = |text| timestamp(text).map(|t| t.to_string());
        assert_eq!(
            at("2019-05-15T15:20:53Z").as_deref(),
            Some("2019-05-15T15:20:53.000Z")
        );
        assert_eq!(
            at("2015-11-19T20:37:35.547563+00:00").as_deref(),
            Some("2015-11-19T20:37:35.547Z")
        );
        assert_eq!(
            at("2016-08-12 15:23:28 UTC").as_deref(),
            Some("2016-08-12T15:23:28.000Z")
        );
        assert_eq!(
            at("2021-02-23 02:41:37 UTC").as_deref(),
            Some("2021-02-23T02:41:37.000Z")
        );
        assert_eq!(
            at("2021-04-28 21:50:00 +0200").as_deref(),
            Some("2021-04-28T19:50:00.000Z")
        );
        assert_eq!(
            at("2021-04-28 21:50:00 -0130").as_deref(),
            Some("2021-04-28T23:20:00.000Z")
        );
    }

    #[test]
    fn what_is_not_a_time_is_refused() {
        for bad in [
            "",
            "yesterday",
            "2016-08-12 15:23:28",
            "2016-08-12 15:23:28 CEST",
            "2016-08-12 15:23:28 +02",
            "2016-08-12 25:23:28 UTC",
            "2016-08-12  15:23:28 UTC",
        ] {
            assert_eq!(timestamp(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn times_in_payloads_are_optional_but_must_be_times() {
        let body = json!({"a": "2016-08-12 15:23:28 UTC", "b": null, "c": "", "d": "soon", "e": 5});
        assert!(time(&body, "/a").unwrap().is_some());
        assert_eq!(time(&body, "/b"), Ok(None));
        assert_eq!(time(&body, "/c"), Ok(None));
        assert_eq!(time(&body, "/absent"), Ok(None));
        assert!(time(&body, "/d").unwrap_err().0.contains("/d"));
        assert!(time(&body, "/e").is_err());
    }

    #[test]
    fn ids_are_numbers_or_strings() {
        let body = json!({"n": 145988746, "s": "key", "e": "", "f": 1.5, "neg": -3});
        assert_eq!(required_id(&body, "/n").unwrap(), "145988746");
        assert_eq!(required_id(&body, "/s").unwrap(), "key");
        assert_eq!(required_id(&body, "/neg").unwrap(), "-3");
        assert!(required_id(&body, "/e").is_err());
        assert!(required_id(&body, "/f").is_err());
        assert!(
            required_id(&body, "/absent")
                .unwrap_err()
                .0
                .contains("/absent")
        );
    }

    #[test]
    fn empty_strings_and_blank_headers_are_absent() {
        let body = json!({"a": "", "b": "x", "n": 1});
        assert_eq!(text(&body, "/a"), None);
        assert_eq!(text(&body, "/b"), Some("x"));
        assert_eq!(text(&body, "/n"), None);
        let headers = [("X-Request-UUID", " "), ("X-Event-Key", "repo:push")];
        assert_eq!(header(&headers, "x-request-uuid"), None);
        assert!(required_header(&headers, "X-Request-UUID").is_err());
        assert_eq!(
            required_header(&headers, "x-event-key").unwrap(),
            "repo:push"
        );
    }

    #[test]
    fn commit_ids_urls_and_paths_are_taken_apart() {
        assert!(is_commit_id("6113728f27ae82c7b1a177c8d03f9e96e0adf246"));
        assert!(is_commit_id(&"A".repeat(64)));
        assert!(!is_commit_id("d31df3425c5b"), "abbreviated");
        assert!(!is_commit_id("master"));
        assert!(is_null_commit("0000000000000000000000000000000000000000"));
        assert!(!is_null_commit("6113728f27ae82c7b1a177c8d03f9e96e0adf246"));
        assert!(!is_null_commit(""));
        assert_eq!(last_segment("gitlab-org/sub/gitlab-test"), "gitlab-test");
        assert_eq!(last_segment("plain"), "plain");
        assert_eq!(
            before_last_segment("gitlab-org/sub/gitlab-test"),
            Some("gitlab-org/sub")
        );
        assert_eq!(before_last_segment("plain"), None);
        assert_eq!(
            host("https://github.com/Codertocat/Hello-World"),
            Some("github.com")
        );
        assert_eq!(
            host("https://ghe.example.com:8443/a/b"),
            Some("ghe.example.com")
        );
        assert_eq!(
            host("https://user@GHE.example.com"),
            Some("GHE.example.com")
        );
        assert_eq!(host("github.com/a"), None);
    }
}
