//! The `Idempotency-Key` header of write calls: which keys are accepted,
//! and the fingerprint that tells a retry from another request.

use sha2::{Digest, Sha256};

use crate::DomainError;
use crate::input::JsonObject;

/// The header's name.
pub const HEADER: &str = "Idempotency-Key";

/// The longest key accepted, in bytes.
pub const MAX_LEN: usize = 255;

/// A key: 1 to 255 visible ASCII characters.
pub fn parse_key(text: &str) -> Result<String, DomainError> {
    if text.is_empty() || text.len() > MAX_LEN || !text.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(DomainError::bad_param(
            HEADER,
            format!("expected 1 to {MAX_LEN} visible ASCII characters"),
        ));
    }
    Ok(text.to_owned())
}

/// The SHA-256 (hex) of a request: its method, path and body as JSON, so
/// that the same body sent with other spacing is the same request.
pub fn fingerprint(method: &str, path: &str, body: &JsonObject) -> String {
    let mut hasher = Sha256::new();
    hasher.update(method.as_bytes());
    hasher.update(b" ");
    hasher.update(path.as_bytes());
    hasher.update(b"\n");
    hasher.update(serde_json::to_vec(body).expect("JSON objects serialise"));
    crate::token::hex(&hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: serde_json::Value) -> JsonObject {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn keys_are_visible_ascii_of_bounded_length() {
        assert_eq!(
            parse_key("build-42/attempt-1").unwrap(),
            "build-42/attempt-1"
        );
        for bad in ["", "with space", "é", &"k".repeat(256)] {
            assert!(matches!(parse_key(bad), Err(DomainError::BadParam(m)) if m.contains(HEADER)));
        }
    }

    #[test]
    fn the_fingerprint_changes_with_method_path_and_body() {
        let body = object(json!({"build_status": "Running"}));
        let base = fingerprint("PUT", "/a/apps/x/events/buildEvent", &body);
        assert_eq!(base.len(), 64);
        assert_eq!(
            base,
            fingerprint("PUT", "/a/apps/x/events/buildEvent", &body)
        );
        assert_ne!(
            base,
            fingerprint("POST", "/a/apps/x/events/buildEvent", &body)
        );
        assert_ne!(
            base,
            fingerprint("PUT", "/a/apps/y/events/buildEvent", &body)
        );
        let other = object(json!({"build_status": "Queued"}));
        assert_ne!(
            base,
            fingerprint("PUT", "/a/apps/x/events/buildEvent", &other)
        );
    }
}
