//! The authentication of a delivery: the provider's signature or token
//! checked against the hook's secret, over the raw body as received.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::{Headers, Provider};

/// The prefix of the HMAC headers GitHub and Bitbucket Cloud send.
const SHA256_PREFIX: &str = "sha256=";

/// Whether the delivery carries the proof that its sender knows `secret`:
/// GitHub `X-Hub-Signature-256` and Bitbucket Cloud `X-Hub-Signature`, each
/// `sha256=<hex HMAC-SHA256(secret, raw_body)>`; GitLab `X-Gitlab-Token`
/// equal to the secret. A missing or malformed header is a failure, and so is
/// an empty secret, which would let an empty token through.
pub fn verify(provider: Provider, secret: &str, headers: &dyn Headers, raw_body: &[u8]) -> bool {
    if secret.is_empty() {
        return false;
    }
    match provider {
        Provider::Github => hmac_matches(headers.get("X-Hub-Signature-256"), secret, raw_body),
        // Bitbucket uses GitHub's legacy (SHA-1) header name for a SHA-256 value.
        Provider::Bitbucket => hmac_matches(headers.get("X-Hub-Signature"), secret, raw_body),
        Provider::Gitlab => headers
            .get("X-Gitlab-Token")
            .is_some_and(|token| token_matches(token, secret)),
    }
}

fn hmac_matches(header: Option<&str>, secret: &str, raw_body: &[u8]) -> bool {
    let Some(sent) = header
        .and_then(|value| value.strip_prefix(SHA256_PREFIX))
        .and_then(decode_digest)
    else {
        return false;
    };
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(raw_body);
    mac.finalize().into_bytes().ct_eq(&sent).into()
}

/// GitLab sends the secret itself. Both sides are hashed first so that the
/// comparison takes the same time whatever the token's length; comparing the
/// raw bytes would answer early when the lengths differ.
fn token_matches(token: &str, secret: &str) -> bool {
    Sha256::digest(token.as_bytes())
        .ct_eq(&Sha256::digest(secret.as_bytes()))
        .into()
}

/// 64 hex digits in either case; anything else is malformed.
fn decode_digest(hex: &str) -> Option<[u8; 32]> {
    let hex = hex.as_bytes();
    if hex.len() != 64 {
        return None;
    }
    let mut digest = [0u8; 32];
    for (byte, pair) in digest.iter_mut().zip(hex.chunks_exact(2)) {
        *byte = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(digest)
}

fn nibble(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test vector of GitHub's "Validating webhook deliveries" page.
    const DOCS_SECRET: &str = "It's a Secret to Everybody";
    const DOCS_BODY: &[u8] = b"Hello, World!";
    const DOCS_SIGNATURE: &str =
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

    fn github(signature: &str, body: &[u8]) -> bool {
        let headers = [("X-Hub-Signature-256", signature)];
        verify(Provider::Github, DOCS_SECRET, &headers, body)
    }

    #[test]
    fn the_github_docs_vector_verifies() {
        assert!(github(DOCS_SIGNATURE, DOCS_BODY));
    }

    #[test]
    fn header_names_match_in_any_case_and_hex_in_upper_case() {
        let upper = format!("sha256={}", DOCS_SIGNATURE[7..].to_ascii_uppercase());
        assert!(github(&upper, DOCS_BODY));
        let headers = [("x-hub-signature-256", DOCS_SIGNATURE)];
        assert!(verify(Provider::Github, DOCS_SECRET, &headers, DOCS_BODY));
    }

    #[test]
    fn one_changed_byte_of_the_body_fails() {
        assert!(!github(DOCS_SIGNATURE, b"Hello, World?"));
        assert!(!github(DOCS_SIGNATURE, b"Hello, World! "));
        assert!(!github(DOCS_SIGNATURE, b""));
    }

    #[test]
    fn a_wrong_signature_or_secret_fails() {
        let last_digit_changed =
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e18";
        assert!(!github(last_digit_changed, DOCS_BODY));
        let headers = [("X-Hub-Signature-256", DOCS_SIGNATURE)];
        assert!(!verify(
            Provider::Github,
            "another secret",
            &headers,
            DOCS_BODY
        ));
    }

    #[test]
    fn malformed_signature_headers_fail() {
        let hex = &DOCS_SIGNATURE[7..];
        for bad in [
            hex.to_string(),                   // no prefix
            format!("sha1={hex}"),             // another algorithm
            format!("SHA256={hex}"),           // the prefix is lower case
            format!("sha256= {hex}"),          // a space
            format!("sha256={}", &hex[..63]),  // one digit short
            format!("sha256={hex}0"),          // one digit long
            format!("sha256={}g", &hex[..63]), // not hex
            format!("sha256={}é", &hex[..62]), // not ASCII, still 64 bytes
            "sha256=".to_string(),             // empty
            String::new(),
        ] {
            assert!(!github(&bad, DOCS_BODY), "{bad:?}");
        }
    }

    #[test]
    fn a_missing_header_fails() {
        let none: [(&str, &str); 0] = [];
        for provider in Provider::ALL {
            assert!(
                !verify(*provider, DOCS_SECRET, &none, DOCS_BODY),
                "{provider:?}"
            );
        }
        // GitHub's legacy SHA-1 header is not accepted in place of the SHA-256 one.
        let legacy = [("X-Hub-Signature", DOCS_SIGNATURE)];
        assert!(!verify(Provider::Github, DOCS_SECRET, &legacy, DOCS_BODY));
    }

    #[test]
    fn bitbucket_reads_the_same_hmac_from_its_own_header() {
        let headers = [("X-Hub-Signature", DOCS_SIGNATURE)];
        assert!(verify(
            Provider::Bitbucket,
            DOCS_SECRET,
            &headers,
            DOCS_BODY
        ));
        let github_header = [("X-Hub-Signature-256", DOCS_SIGNATURE)];
        assert!(!verify(
            Provider::Bitbucket,
            DOCS_SECRET,
            &github_header,
            DOCS_BODY
        ));
    }

    #[test]
    fn a_gitlab_token_must_equal_the_secret() {
        let check = |token: &str| {
            let headers = [("X-Gitlab-Token", token)];
            verify(Provider::Gitlab, "s3cret-token", &headers, b"{}")
        };
        assert!(check("s3cret-token"));
        assert!(!check("s3cret-tokeN"));
        assert!(!check("s3cret-toke"), "shorter");
        assert!(!check("s3cret-token-"), "longer");
        assert!(!check(""));
    }

    #[test]
    fn an_empty_secret_never_verifies() {
        let headers = [("X-Gitlab-Token", "")];
        assert!(!verify(Provider::Gitlab, "", &headers, b"{}"));
        let mut mac = Hmac::<Sha256>::new_from_slice(b"").unwrap();
        mac.update(DOCS_BODY);
        let hex: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let signature = format!("sha256={hex}");
        let headers = [("X-Hub-Signature-256", signature.as_str())];
        assert!(!verify(Provider::Github, "", &headers, DOCS_BODY));
    }
}
