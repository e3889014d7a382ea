//! Keyset pagination: page sizes, order, and opaque markers.
//!
//! A marker carries the key of the last item of a page, authenticated with
//! an HMAC over that key and the identity of the listing (account, app,
//! filter, order). A marker the server did not make, or made for another
//! listing, fails the check and is refused.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::DomainError;

pub const DEFAULT_PAGE_SIZE: usize = 10;
pub const MAX_PAGE_SIZE: usize = 100;
/// Bytes of the HMAC kept in a marker: 96 bits cannot be guessed.
const TAG_LEN: usize = 12;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Asc,
    Desc,
}

impl Order {
    pub fn parse(value: Option<&str>, default: Order) -> Result<Order, DomainError> {
        match value {
            None | Some("") => Ok(default),
            Some(v) if v.eq_ignore_ascii_case("asc") => Ok(Order::Asc),
            Some(v) if v.eq_ignore_ascii_case("desc") => Ok(Order::Desc),
            Some(_) => Err(DomainError::bad_param(
                "order",
                "accepted values are asc, desc",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Order::Asc => "asc",
            Order::Desc => "desc",
        }
    }
}

/// Parses `max_results`: default 10, larger than 100 means 100.
pub fn parse_page_size(value: Option<&str>) -> Result<usize, DomainError> {
    match value {
        None | Some("") => Ok(DEFAULT_PAGE_SIZE),
        // Any whole number past 100 means 100, however many digits it has.
        Some(v) if v.bytes().all(|b| b.is_ascii_digit()) && v.trim_start_matches('0').len() > 3 => {
            Ok(MAX_PAGE_SIZE)
        }
        Some(v) => match v.trim().parse::<i128>() {
            Ok(n) if n >= 1 => Ok(n.min(MAX_PAGE_SIZE as i128) as usize),
            Ok(_) | Err(_) => Err(DomainError::bad_param(
                "max_results",
                format!("expected a whole number from 1 to {MAX_PAGE_SIZE}"),
            )),
        },
    }
}

/// One page's worth of a keyset query: items after `after` in `order`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest<K> {
    pub order: Order,
    pub limit: usize,
    pub after: Option<K>,
}

impl<K> PageRequest<K> {
    /// Rows a store fetches: one more than the page, to learn whether
    /// another page follows without a second query.
    pub fn fetch_limit(&self) -> usize {
        self.limit + 1
    }
}

/// Cuts the extra row fetched by [`PageRequest::fetch_limit`], and says
/// whether there is a next page.
pub fn split_page<T>(mut rows: Vec<T>, limit: usize) -> (Vec<T>, bool) {
    let more = rows.len() > limit;
    rows.truncate(limit);
    (rows, more)
}

/// Makes and checks markers with the server's secret.
#[derive(Clone)]
pub struct MarkerCodec {
    mac: Hmac<Sha256>,
}

impl MarkerCodec {
    pub fn new(secret: &[u8]) -> Self {
        MarkerCodec {
            mac: Hmac::new_from_slice(secret).expect("HMAC accepts keys of any length"),
        }
    }

    fn tag(&self, scope: &[&str], position: &[u8]) -> [u8; TAG_LEN] {
        let mut mac = self.mac.clone();
        // Length prefixes keep ("ab","c") and ("a","bc") apart.
        for part in scope.iter().map(|s| s.as_bytes()).chain([position]) {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        let full = mac.finalize().into_bytes();
        let mut tag = [0; TAG_LEN];
        tag.copy_from_slice(&full[..TAG_LEN]);
        tag
    }

    /// A marker for the position `position` within the listing `scope`.
    pub fn encode(&self, scope: &[&str], position: &[u8]) -> String {
        let mut bytes = position.to_vec();
        bytes.extend_from_slice(&self.tag(scope, position));
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The position a marker carries, if the server made it for `scope`.
    pub fn decode(&self, scope: &[&str], marker: &str) -> Result<Vec<u8>, DomainError> {
        let refused = || DomainError::bad_param("marker", "not a marker of this listing");
        let bytes = URL_SAFE_NO_PAD.decode(marker).map_err(|_| refused())?;
        if bytes.len() < TAG_LEN {
            return Err(refused());
        }
        let (position, tag) = bytes.split_at(bytes.len() - TAG_LEN);
        let expected = self.tag(scope, position);
        if subtle::ConstantTimeEq::ct_eq(&expected[..], tag).into() {
            Ok(position.to_vec())
        } else {
            Err(refused())
        }
    }

    pub fn encode_id(&self, scope: &[&str], id: i64) -> String {
        self.encode(scope, &id.to_be_bytes())
    }

    pub fn decode_id(&self, scope: &[&str], marker: &str) -> Result<i64, DomainError> {
        let position = self.decode(scope, marker)?;
        let bytes: [u8; 8] = position
            .try_into()
            .map_err(|_| DomainError::bad_param("marker", "not a marker of this listing"))?;
        Ok(i64::from_be_bytes(bytes))
    }

    pub fn encode_name(&self, scope: &[&str], name: &str) -> String {
        self.encode(scope, name.as_bytes())
    }

    pub fn decode_name(&self, scope: &[&str], marker: &str) -> Result<String, DomainError> {
        String::from_utf8(self.decode(scope, marker)?)
            .map_err(|_| DomainError::bad_param("marker", "not a marker of this listing"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_round_trip_and_are_url_safe() {
        let codec = MarkerCodec::new(b"secret");
        let marker = codec.encode_id(&["jdoe", "app"], 123_456);
        assert!(
            marker
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(codec.decode_id(&["jdoe", "app"], &marker), Ok(123_456));
    }

    #[test]
    fn a_marker_of_another_listing_or_key_is_refused() {
        let codec = MarkerCodec::new(b"secret");
        let marker = codec.encode_id(&["jdoe", "app"], 5);
        assert!(codec.decode_id(&["jdoe", "other"], &marker).is_err());
        assert!(codec.decode_id(&["jdo", "eapp"], &marker).is_err());
        assert!(
            MarkerCodec::new(b"other")
                .decode_id(&["jdoe", "app"], &marker)
                .is_err()
        );
        assert!(codec.decode_id(&["jdoe", "app"], "AAAAAAAAAAU").is_err());
        assert!(codec.decode_id(&["jdoe", "app"], "not base64!").is_err());
    }

    #[test]
    fn page_sizes_are_clamped_or_refused() {
        assert_eq!(parse_page_size(None), Ok(10));
        assert_eq!(parse_page_size(Some("1000")), Ok(100));
        assert_eq!(parse_page_size(Some("99999999999999999999999")), Ok(100));
        assert_eq!(parse_page_size(Some(&"9".repeat(45))), Ok(100));
        assert_eq!(parse_page_size(Some("0050")), Ok(50));
        assert!(parse_page_size(Some("0000")).is_err());
        for bad in ["0", "-1", "ten", "1.5"] {
            assert!(parse_page_size(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn order_is_case_insensitive() {
        assert_eq!(Order::parse(Some("DESC"), Order::Asc), Ok(Order::Desc));
        assert_eq!(Order::parse(None, Order::Desc), Ok(Order::Desc));
        assert!(Order::parse(Some("up"), Order::Asc).is_err());
    }
}
