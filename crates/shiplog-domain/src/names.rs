//! Names of accounts, apps and environments: 1–64 characters from letters,
//! digits, `-`, `_`, `.`, starting with a letter or digit.

use std::fmt;

use crate::DomainError;

/// A validated resource name. Being URL-safe by construction, it can be
/// echoed into `api_url`/`html_url` without escaping.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceName(String);

pub const MAX_NAME_LEN: usize = 64;

impl ResourceName {
    /// Validates `value` as the name of a `kind` (`App`, `Env`, …).
    pub fn parse(kind: &str, value: &str) -> Result<Self, DomainError> {
        if Self::is_valid(value) {
            Ok(ResourceName(value.to_owned()))
        } else {
            Err(DomainError::BadParam(format!(
                "Invalid {kind} name: names are 1 to {MAX_NAME_LEN} characters from letters, \
                 digits, '-', '_' and '.', starting with a letter or digit"
            )))
        }
    }

    pub fn is_valid(value: &str) -> bool {
        let bytes = value.as_bytes();
        !bytes.is_empty()
            && bytes.len() <= MAX_NAME_LEN
            && bytes[0].is_ascii_alphanumeric()
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for ResourceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names() {
        for ok in [
            "a",
            "example-node",
            "gbd_dev1",
            "v1.2",
            "A9",
            &"x".repeat(64),
        ] {
            assert!(ResourceName::is_valid(ok), "{ok}");
        }
    }

    #[test]
    fn refuses_names_that_could_escape_a_url() {
        for bad in [
            "",
            "-a",
            ".hidden",
            "a/b",
            "../x",
            "a b",
            "a%2F",
            "é",
            &"x".repeat(65),
        ] {
            assert!(ResourceName::parse("App", bad).is_err(), "{bad}");
        }
    }
}
