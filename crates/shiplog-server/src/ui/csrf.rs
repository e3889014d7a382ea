//! CSRF tokens: every form carries one. A session keeps its own; the
//! sign-in form, before any session, is checked against a cookie of the
//! same value (a double-submit cookie). Compared in constant time.

use shiplog_domain::token::random_alnum;
use subtle::ConstantTimeEq;

/// Characters of a token: about 190 bits.
const LEN: usize = 37;

pub fn new_token() -> String {
    random_alnum(LEN)
}

/// Whether `sent` is the token `expected`; an empty one never is.
pub fn matches(expected: &str, sent: &str) -> bool {
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(sent.as_bytes()))
}

/// Whether a cookie's value can be a token this server made.
pub fn well_formed(value: &str) -> bool {
    value.len() == LEN && value.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_same_token_matches() {
        let token = new_token();
        assert!(well_formed(&token));
        assert!(matches(&token, &token.clone()));
        assert!(!matches(&token, &new_token()));
        assert!(!matches(&token, ""));
        assert!(!matches("", ""));
        assert!(!well_formed("short"));
    }
}
