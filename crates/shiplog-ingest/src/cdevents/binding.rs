//! The CloudEvents HTTP binding of a CDEvent (CloudEvents 1.0.2, as the
//! CDEvents CloudEvents binding maps the attributes): the binary-mode
//! headers that carry one, and the decoding of received `ce-*` values.

use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};
use serde_json::Value;

/// What a header value escapes: space, `"`, `%`, and everything outside
/// printable ASCII (U+0021–U+007E), as UTF-8 bytes.
const HEADER_ESCAPES: &AsciiSet = &CONTROLS.add(b' ').add(b'"').add(b'%');

/// The headers of a CDEvent sent in binary mode, the CDEvent itself being
/// the body: `ce-specversion` (CloudEvents `1.0`), `ce-id`, `ce-source`,
/// `ce-type`, `ce-time` (the CDEvent's own timestamp, never the send
/// time), `ce-subject` (its subject's id), and the `content-type` the
/// binding requires of a CDEvent body, `application/json`. Values are
/// percent-encoded as the HTTP binding says.
pub fn binary_headers(cdevent: &Value) -> Vec<(&'static str, String)> {
    let attribute = |pointer: &str| {
        let value = cdevent.pointer(pointer).and_then(Value::as_str);
        utf8_percent_encode(value.unwrap_or_default(), HEADER_ESCAPES).to_string()
    };
    vec![
        ("ce-specversion", "1.0".to_owned()),
        ("ce-id", attribute("/context/id")),
        ("ce-source", attribute("/context/source")),
        ("ce-type", attribute("/context/type")),
        ("ce-time", attribute("/context/timestamp")),
        ("ce-subject", attribute("/subject/id")),
        ("content-type", "application/json".to_owned()),
    ]
}

/// A received `ce-*` header's value: a double-quoted string unquoted, then
/// one round of percent-decoding; `None` when that is not UTF-8.
pub fn decode_header(value: &str) -> Option<String> {
    let value = value.trim();
    let unquoted = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value);
    percent_decode_str(unquoted)
        .decode_utf8()
        .ok()
        .map(|text| text.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn binary_headers_carry_the_context_and_subject_percent_encoded() {
        let cdevent = json!({
            "context": {"id": "a1", "source": "https://s.example/x y", "type": "dev.cdevents.change.merged.0.3.0",
                        "timestamp": "2026-03-20T14:27:05.315Z"},
            "subject": {"id": "feature/\"é\" 100%"}
        });
        let headers = binary_headers(&cdevent);
        assert_eq!(
            headers,
            vec![
                ("ce-specversion", "1.0".to_owned()),
                ("ce-id", "a1".to_owned()),
                ("ce-source", "https://s.example/x%20y".to_owned()),
                ("ce-type", "dev.cdevents.change.merged.0.3.0".to_owned()),
                ("ce-time", "2026-03-20T14:27:05.315Z".to_owned()),
                ("ce-subject", "feature/%22%C3%A9%22%20100%25".to_owned()),
                ("content-type", "application/json".to_owned()),
            ]
        );
        for (name, value) in &headers {
            assert!(
                value.bytes().all(|b| (0x21..=0x7e).contains(&b)),
                "{name}: {value}"
            );
        }
        assert_eq!(
            decode_header(&headers[5].1).as_deref(),
            Some("feature/\"é\" 100%")
        );
    }

    #[test]
    fn received_values_are_unquoted_then_decoded_and_must_be_utf8() {
        assert_eq!(decode_header("\"a%20b\"").as_deref(), Some("a b"));
        assert_eq!(decode_header("plain").as_deref(), Some("plain"));
        assert_eq!(decode_header("%C0%A0"), None);
    }
}
