//! What a webhook delivery from a code host records, as pure functions: its
//! signature checked over the raw bytes, then its payload mapped to the
//! commands of the write path; and CDEvents both ways ([`cdevents`]). No I/O here; the server verifies, maps, and
//! hands the commands to the store, which applies them with the same rules
//! and change record as any other write.

pub mod bitbucket;
pub mod cdevents;
mod draft;
pub mod github;
pub mod gitlab;
mod payload;
pub mod signature;

use shiplog_domain::EventFields;
use shiplog_domain::input::NewEvent;

/// The code hosts shiplog takes webhooks from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    Github,
    Gitlab,
    Bitbucket,
}

impl Provider {
    pub const ALL: &'static [Provider] = &[Provider::Github, Provider::Gitlab, Provider::Bitbucket];

    /// The name in paths and answers: `github`, `gitlab`, `bitbucket`.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Github => "github",
            Provider::Gitlab => "gitlab",
            Provider::Bitbucket => "bitbucket",
        }
    }

    pub fn parse(name: &str) -> Option<Provider> {
        Self::ALL.iter().copied().find(|p| p.as_str() == name)
    }
}

/// The headers of a delivery, looked up by name in any letter case.
pub trait Headers {
    fn get(&self, name: &str) -> Option<&str>;
}

impl Headers for [(&str, &str)] {
    fn get(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| *value)
    }
}

/// A literal list, `&[("X-GitHub-Event", "push")]`, is a `&dyn Headers`;
/// the slice itself cannot be, being unsized.
impl<const N: usize> Headers for [(&str, &str); N] {
    fn get(&self, name: &str) -> Option<&str> {
        Headers::get(self.as_slice(), name)
    }
}

/// A reference to headers is headers, so `&slice` is a `&dyn Headers` too.
impl<T: Headers + ?Sized> Headers for &T {
    fn get(&self, name: &str) -> Option<&str> {
        Headers::get(*self, name)
    }
}

/// What a delivery asks of shiplog.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// The provider's id of this delivery (the same on a redelivery).
    pub id: String,
    /// The repository's name, which names the app unless the hook names one.
    pub repository: Option<String>,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Nothing to record (a ping, an event or action the mapping does not
    /// use); the text says why, for the answer.
    Ignored(String),
    /// Commands to apply in order, in one transaction.
    Record(Vec<Command>),
}

impl Outcome {
    /// A delivery that records one event.
    pub(crate) fn one(command: Command) -> Outcome {
        Outcome::Record(vec![command])
    }
}

/// One write a delivery makes.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// A new PUSH, PULLREQUEST or RELEASE, as a client would send it.
    Create(NewEvent),
    /// The BUILD of a CI run, identified by its `build_provider` and
    /// `build_id`: created with `fields` when the app has none, else moved
    /// forward to `fields.build_status` (with its `build_end`), never back.
    /// Its parent is the app's first PUSH or PULLREQUEST of `parent_commit`
    /// when one is recorded.
    Build {
        fields: EventFields,
        parent_commit: Option<String>,
    },
    /// The DEPLOY of a deployment, identified by its `deployment_id`:
    /// created with `fields` (which name the env) when the app has none, else
    /// moved forward to `fields.deployment_status`, never back. Its release
    /// is the app's RELEASE built from `release_commit` when there is one.
    Deploy {
        fields: EventFields,
        release_commit: Option<String>,
    },
    /// The INCIDENT a CDEvents source calls `subject`: created with
    /// `fields` (which name the env) when the app has none of that subject,
    /// else resolved when `fields` resolve it, never reopened.
    Incident {
        fields: EventFields,
        subject: String,
    },
}

/// Why a delivery cannot be mapped: a client error, answered 400.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapError(pub String);

/// Maps a delivery whose signature was checked: `headers` and its body
/// parsed as JSON.
pub fn map(
    provider: Provider,
    headers: &dyn Headers,
    body: &serde_json::Value,
) -> Result<Delivery, MapError> {
    let delivery = match provider {
        Provider::Github => github::map(headers, body)?,
        Provider::Gitlab => gitlab::map(headers, body)?,
        Provider::Bitbucket => bitbucket::map(headers, body)?,
    };
    check_delivery_id(&delivery.id)?;
    Ok(delivery)
}

/// The longest delivery id kept. Providers send UUIDs; the signature does
/// not cover headers, so anything else is refused rather than stored.
pub const MAX_DELIVERY_ID: usize = 255;

fn check_delivery_id(id: &str) -> Result<(), MapError> {
    if id.len() > MAX_DELIVERY_ID || !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(MapError(format!(
            "The delivery id must be 1 to {MAX_DELIVERY_ID} visible ASCII characters"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_ids_are_short_visible_ascii() {
        let body = serde_json::json!({"zen": "hi"});
        let ping = |id: &str| {
            let headers = [("X-GitHub-Event", "ping"), ("X-GitHub-Delivery", id)];
            map(Provider::Github, &headers, &body)
        };
        assert!(ping(&"a".repeat(MAX_DELIVERY_ID)).is_ok());
        for bad in [
            "a".repeat(MAX_DELIVERY_ID + 1),
            "with space".into(),
            "é".into(),
        ] {
            let err = ping(&bad).unwrap_err();
            assert!(err.0.contains("delivery id"), "{err:?}");
        }
    }

    #[test]
    fn headers_are_found_in_any_letter_case_from_lists_and_slices() {
        let list = [("X-GitHub-Event", "push"), ("x-github-delivery", "d-1")];
        assert_eq!(list.get("x-github-event"), Some("push"));
        assert_eq!(list.get("X-GITHUB-DELIVERY"), Some("d-1"));
        assert_eq!(list.get("X-Hub-Signature-256"), None);
        let owned = [("X-Event-Key".to_string(), "repo:push".to_string())];
        let borrowed: Vec<(&str, &str)> = owned
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let slice: &dyn Headers = &borrowed.as_slice();
        assert_eq!(slice.get("x-event-key"), Some("repo:push"));
    }

    #[test]
    fn providers_are_named_as_in_hook_paths() {
        for provider in Provider::ALL {
            assert_eq!(Provider::parse(provider.as_str()), Some(*provider));
        }
        assert_eq!(Provider::parse("GitHub"), None);
    }
}
