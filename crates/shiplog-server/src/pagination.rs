//! The one pagination utility of every list: reads `order`, `max_results`
//! and `marker`, and cuts a fetched page (`limit + 1` rows) into the page
//! and the marker of the next.
//!
//! A listing's scope (its kind, account, app, filters and order) is bound
//! into every marker it makes, so a marker works for that listing alone.

use shiplog_domain::page::{parse_page_size, split_page};
use shiplog_domain::{DomainError, Order, PageRequest};

use crate::extract::Params;
use crate::state::SharedState;

/// How a listing may be ordered.
#[derive(Debug, Clone, Copy)]
pub enum Ordering {
    /// `order` chooses, with this default.
    Default(Order),
    /// Always this order; `order` is refused unless it names it.
    Fixed(Order),
}

/// One keyset listing being answered.
pub struct Listing<'a> {
    state: &'a SharedState,
    scope: Vec<String>,
    limit: usize,
}

/// The key a listing pages by.
pub trait PageKey: Sized {
    fn encode(state: &SharedState, scope: &[&str], key: &Self) -> String;
    fn decode(state: &SharedState, scope: &[&str], marker: &str) -> Result<Self, DomainError>;
}

impl PageKey for i64 {
    fn encode(state: &SharedState, scope: &[&str], key: &i64) -> String {
        state.markers.encode_id(scope, *key)
    }

    fn decode(state: &SharedState, scope: &[&str], marker: &str) -> Result<i64, DomainError> {
        state.markers.decode_id(scope, marker)
    }
}

impl PageKey for String {
    fn encode(state: &SharedState, scope: &[&str], key: &String) -> String {
        state.markers.encode_name(scope, key)
    }

    fn decode(state: &SharedState, scope: &[&str], marker: &str) -> Result<String, DomainError> {
        state.markers.decode_name(scope, marker)
    }
}

impl<'a> Listing<'a> {
    /// Reads the page a request asks of the listing `scope`.
    pub fn start<K: PageKey>(
        state: &'a SharedState,
        params: &Params,
        scope: &[&str],
        ordering: Ordering,
    ) -> Result<(Listing<'a>, PageRequest<K>), DomainError> {
        let order = match ordering {
            Ordering::Default(default) => Order::parse(params.get("order"), default)?,
            Ordering::Fixed(order) => {
                if Order::parse(params.get("order"), order)? != order {
                    return Err(DomainError::bad_param(
                        "order",
                        format!("this list is always in {} order", order.as_str()),
                    ));
                }
                order
            }
        };
        let limit = parse_page_size(params.get("max_results"))?;
        let mut scope: Vec<String> = scope.iter().map(|part| (*part).to_owned()).collect();
        scope.push(order.as_str().to_owned());
        let listing = Listing {
            state,
            scope,
            limit,
        };
        let after = match params.get("marker").filter(|m| !m.is_empty()) {
            Some(marker) => Some(K::decode(state, &listing.scope_refs(), marker)?),
            None => None,
        };
        Ok((
            listing,
            PageRequest {
                order,
                limit,
                after,
            },
        ))
    }

    /// Cuts the fetched rows to the page and makes the marker of the next
    /// page, if there is one.
    pub fn finish<T, K: PageKey>(
        &self,
        rows: Vec<T>,
        key: impl Fn(&T) -> K,
    ) -> (Vec<T>, Option<String>) {
        let (items, more) = split_page(rows, self.limit);
        let marker = more
            .then(|| {
                items
                    .last()
                    .map(|last| K::encode(self.state, &self.scope_refs(), &key(last)))
            })
            .flatten();
        (items, marker)
    }

    fn scope_refs(&self) -> Vec<&str> {
        self.scope.iter().map(String::as_str).collect()
    }
}
