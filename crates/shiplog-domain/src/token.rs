//! API tokens: random, shown once, stored only as a SHA-256 hash.
//!
//! A token carries over 200 bits of randomness, so a plain SHA-256 is enough
//! to make the stored hash useless to a thief; no slow password hash needed.

use rand::Rng;
use sha2::{Digest, Sha256};

/// Length of a token: 40 characters of `[a-z0-9]`, about 206 bits.
pub const TOKEN_LEN: usize = 40;
const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// The stored form of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash(pub [u8; 32]);

/// Makes a new random token.
pub fn generate_token() -> String {
    random_alnum(TOKEN_LEN)
}

pub fn hash_token(token: &str) -> TokenHash {
    TokenHash(Sha256::digest(token.as_bytes()).into())
}

impl TokenHash {
    /// Compares in constant time.
    pub fn matches(&self, other: &TokenHash) -> bool {
        subtle::ConstantTimeEq::ct_eq(&self.0[..], &other.0[..]).into()
    }
}

/// Bytes as lower-case hex, as digests are written in headers and columns.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A random string of `len` characters of `[a-z0-9]`, for generated ids
/// such as deployment ids and secrets.
pub fn random_alnum(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_distinct() {
        let a = generate_token();
        let b = generate_token();
        assert_eq!(a.len(), TOKEN_LEN);
        assert_ne!(a, b);
        assert!(hash_token(&a).matches(&hash_token(&a)));
        assert!(!hash_token(&a).matches(&hash_token(&b)));
    }
}
