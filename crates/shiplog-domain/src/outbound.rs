//! What leaves shiplog: the scope of a stream or an outbound webhook, the
//! Standard Webhooks signature, the retry schedule of a delivery, and which
//! addresses a webhook may not be aimed at. Pure rules, shared by the
//! stream, the webhook configuration and the delivery worker.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{DomainError, EventType};

/// The changes a stream or a webhook carries: of these event types (none
/// listed: all) and these apps (none listed: all).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    pub event_types: Vec<EventType>,
    pub apps: Vec<String>,
}

impl Scope {
    /// Whether a change of an event of `event_type` in `app` is in scope.
    pub fn matches(&self, app: &str, event_type: EventType) -> bool {
        (self.event_types.is_empty() || self.event_types.contains(&event_type))
            && (self.apps.is_empty() || self.apps.iter().any(|a| a == app))
    }

    /// The event types as a bit set (see [`event_type_bit`]); 0 is all.
    pub fn event_type_mask(&self) -> i64 {
        self.event_types.iter().map(|t| event_type_bit(*t)).sum()
    }

    /// The event types of a bit set made by [`Scope::event_type_mask`].
    pub fn event_types_of_mask(mask: i64) -> Vec<EventType> {
        EventType::ALL
            .iter()
            .copied()
            .filter(|t| mask & event_type_bit(*t) != 0)
            .collect()
    }
}

/// The bit of an event type in a stored scope, by its place in
/// [`EventType::ALL`] (which only grows at its end).
pub fn event_type_bit(event_type: EventType) -> i64 {
    let index = EventType::ALL
        .iter()
        .position(|t| *t == event_type)
        .unwrap_or(0);
    1 << index
}

/// Event types named as ListEvents' filter values (`Build`, `push`, …, any
/// case), each once, in the order of [`EventType::ALL`]; `param` names the
/// parameter in errors.
pub fn parse_event_types<'a>(
    param: &str,
    values: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<EventType>, DomainError> {
    let mut found = Vec::new();
    for value in values {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        found.push(crate::filter::parse_event_type(param, value)?);
    }
    Ok(EventType::ALL
        .iter()
        .copied()
        .filter(|t| found.contains(t))
        .collect())
}

/// How a webhook's changes are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The Change object of ListChanges, as JSON.
    Shiplog,
    /// A CDEvent in the CloudEvents HTTP binary mode.
    Cdevents,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Shiplog => "shiplog",
            Format::Cdevents => "cdevents",
        }
    }

    pub fn parse(param: &str, text: &str) -> Result<Format, DomainError> {
        match text.to_ascii_lowercase().as_str() {
            "shiplog" => Ok(Format::Shiplog),
            "cdevents" => Ok(Format::Cdevents),
            _ => Err(DomainError::bad_param(
                param,
                "accepted values are shiplog, cdevents",
            )),
        }
    }
}

/// The prefix of a webhook secret, as the Standard Webhooks specification
/// writes it.
const SECRET_PREFIX: &str = "whsec_";

/// A new random signing secret: `whsec_` and 24 random bytes in base64.
pub fn generate_secret() -> String {
    let bytes: [u8; 24] = rand::random();
    format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes))
}

/// The `webhook-signature` of a message: `v1,` and the base64 HMAC-SHA256,
/// keyed by the secret's bytes, of `id.timestamp.body`.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    let key = secret_key(secret);
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes a key of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The key a secret stands for: the bytes its base64 part encodes.
fn secret_key(secret: &str) -> Vec<u8> {
    let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    STANDARD
        .decode(encoded)
        .unwrap_or_else(|_| encoded.as_bytes().to_vec())
}

/// How long a delivery is retried: until this long after its change.
pub const RETRY_WINDOW: Duration = Duration::from_secs(24 * 3600);

/// The pause before the attempt after the `attempts`-th failed one: 1 s,
/// 5 s, 30 s, 2 min, 10 min, 30 min, then hourly.
pub fn retry_delay(attempts: u32) -> Duration {
    const SCHEDULE: [u64; 6] = [1, 5, 30, 120, 600, 1800];
    let index = attempts.saturating_sub(1) as usize;
    Duration::from_secs(SCHEDULE.get(index).copied().unwrap_or(3600))
}

/// Whether a webhook may not be sent to this address: loopback, private,
/// link-local (cloud metadata services live there), shared, unspecified,
/// broadcast, multicast and documentation ranges, and IPv6's equivalents
/// (an IPv4 address mapped into IPv6 counts as that address).
pub fn is_forbidden_target(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(v4) => is_forbidden_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_forbidden_v4(v4),
            None => is_forbidden_v6(v6),
        },
    }
}

fn is_forbidden_v4(addr: Ipv4Addr) -> bool {
    let [a, b, ..] = addr.octets();
    addr.is_loopback()
        || addr.is_private()
        || addr.is_link_local()
        || addr.is_unspecified()
        || addr.is_broadcast()
        || addr.is_multicast()
        || addr.is_documentation()
        // 0.0.0.0/8, shared address space (100.64/10), IETF protocol
        // assignments (192.0.0/24) and reserved 240/4.
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && addr.octets()[2] == 0)
        || a >= 240
}

fn is_forbidden_v6(addr: Ipv6Addr) -> bool {
    let first = addr.segments()[0];
    addr.is_loopback()
        || addr.is_unspecified()
        || addr.is_multicast()
        // Unique local fc00::/7, link-local fe80::/10, site-local fec0::/10,
        // documentation 2001:db8::/32, and IPv4-compatible ::/96.
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || (first & 0xffc0) == 0xfec0
        || (first == 0x2001 && addr.segments()[1] == 0x0db8)
        || addr.segments()[..6].iter().all(|s| *s == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_as_the_standard_webhooks_example() {
        // The example of the Standard Webhooks specification.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        let signature = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn secrets_are_random_and_prefixed() {
        let (a, b) = (generate_secret(), generate_secret());
        assert!(a.starts_with("whsec_") && a.len() == 6 + 32);
        assert_ne!(a, b);
        assert_eq!(secret_key(&a).len(), 24);
    }

    #[test]
    fn retries_follow_the_schedule_then_hourly() {
        let delays: Vec<u64> = (1..=9).map(|n| retry_delay(n).as_secs()).collect();
        assert_eq!(delays, [1, 5, 30, 120, 600, 1800, 3600, 3600, 3600]);
    }

    #[test]
    fn forbidden_targets() {
        for addr in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_forbidden_target(addr.parse().unwrap()), "{addr}");
        }
        for addr in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(!is_forbidden_target(addr.parse().unwrap()), "{addr}");
        }
    }

    #[test]
    fn scopes_match_types_and_apps() {
        let all = Scope::default();
        assert!(all.matches("web", EventType::Build));
        let some = Scope {
            event_types: vec![EventType::Build, EventType::Deploy],
            apps: vec!["web".into()],
        };
        assert!(some.matches("web", EventType::Deploy));
        assert!(!some.matches("web", EventType::Push));
        assert!(!some.matches("api", EventType::Build));
        let mask = some.event_type_mask();
        assert_eq!(
            Scope::event_types_of_mask(mask),
            vec![EventType::Build, EventType::Deploy]
        );
        assert_eq!(all.event_type_mask(), 0);
    }

    #[test]
    fn event_types_parse_as_listevents_filters() {
        let types = parse_event_types("event_type", "deploy, Build,build".split(',')).unwrap();
        assert_eq!(types, vec![EventType::Build, EventType::Deploy]);
        let err = parse_event_types("event_type", ["Nope"]).unwrap_err();
        assert!(err.to_string().contains("event_type"), "{err}");
    }
}
