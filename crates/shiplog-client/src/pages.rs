//! Paging: every list call answers a page and a `marker` for the next one,
//! `null` on the last. [`Pages`] follows the markers, page by page or item
//! by item, or as a [`Stream`].

use std::collections::VecDeque;

use futures_util::Stream;
use serde::de::DeserializeOwned;
use shiplog_api::{AppListOut, AppOut, ChangeListOut, ChangeOut, EnvListOut, EnvOut};
use shiplog_api::{EventListOut, EventOut};

use crate::transport::Call;
use crate::{Client, Result};

/// A page of a list call: its items and the marker of the next page.
pub trait Listing: DeserializeOwned {
    type Item;
    fn into_parts(self) -> (Vec<Self::Item>, Option<String>);
}

macro_rules! listing {
    ($page:ty, $item:ty, $field:ident) => {
        impl Listing for $page {
            type Item = $item;
            fn into_parts(self) -> (Vec<$item>, Option<String>) {
                (self.$field, self.marker)
            }
        }
    };
}

listing!(EventListOut, EventOut, events);
listing!(AppListOut, AppOut, apps);
listing!(EnvListOut, EnvOut, envs);
listing!(ChangeListOut, ChangeOut, changes);

/// The pages of one list call, fetched as they are asked for. Each page is
/// one call, retried on its own.
pub struct Pages<L: Listing> {
    client: Client,
    segments: Vec<String>,
    query: Vec<(&'static str, String)>,
    /// The marker of the next page (`Some(None)` before the first);
    /// `None` once the last page is read.
    next: Option<Option<String>>,
    buffered: VecDeque<L::Item>,
}

impl<L: Listing> Pages<L> {
    pub(crate) fn new(
        client: Client,
        segments: &[&str],
        query: Vec<(&'static str, String)>,
    ) -> Pages<L> {
        Pages {
            client,
            segments: segments.iter().map(|s| s.to_string()).collect(),
            query,
            next: Some(None),
            buffered: VecDeque::new(),
        }
    }

    /// The next page's items, or `None` after the last page (a page may be
    /// empty only when the whole list is).
    pub async fn next_page(&mut self) -> Result<Option<Vec<L::Item>>> {
        // Cloned, not taken: after a failed call the same page is asked for
        // again.
        let Some(marker) = self.next.clone() else {
            return Ok(None);
        };
        let segments: Vec<&str> = self.segments.iter().map(String::as_str).collect();
        let mut call = Call::get(&segments);
        call.query = self.query.iter().map(|(k, v)| (*k, v.clone())).collect();
        let page: L = self.client.call(call.query("marker", marker)).await?;
        let (items, marker) = page.into_parts();
        self.next = marker.map(Some);
        Ok(Some(items))
    }

    /// The next item, fetching the next page when this one is used up.
    pub async fn next(&mut self) -> Result<Option<L::Item>> {
        loop {
            if let Some(item) = self.buffered.pop_front() {
                return Ok(Some(item));
            }
            match self.next_page().await? {
                Some(items) => self.buffered.extend(items),
                None => return Ok(None),
            }
        }
    }

    /// Every item of every page.
    pub async fn all(mut self) -> Result<Vec<L::Item>> {
        let mut items = Vec::new();
        while let Some(page) = self.next_page().await? {
            items.extend(page);
        }
        Ok(items)
    }

    /// The items as a stream, fetching pages as it is polled.
    pub fn into_stream(self) -> impl Stream<Item = Result<L::Item>> {
        futures_util::stream::try_unfold(self, |mut pages| async move {
            Ok(pages.next().await?.map(|item| (item, pages)))
        })
    }
}
