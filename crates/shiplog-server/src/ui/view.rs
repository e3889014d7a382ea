//! What the templates show of events and changes: text and links made
//! here, escaped by the templates.

use serde_json::Value;
use shiplog_api::EventOut;
use shiplog_domain::{Actor, Change, Event};

/// A path segment, percent-encoded: anything but unreserved characters.
pub fn segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The page of an app of `owner`.
pub fn app_href(owner: &str, app: &str) -> String {
    format!("/-/ui/{owner}/apps/{}", segment(app))
}

pub fn event_href(owner: &str, app: &str, id: i64) -> String {
    format!("{}/events/{id}", app_href(owner, app))
}

pub fn commit_href(owner: &str, app: &str, commit: &str) -> String {
    format!("{}/commits/{}", app_href(owner, app), segment(commit))
}

pub fn env_href(owner: &str, env: &str) -> String {
    format!("/-/ui/{owner}/envs/{}", segment(env))
}

/// A commit id as shown in lists.
pub fn short_commit(commit: &str) -> String {
    commit.chars().take(12).collect()
}

/// The status an event has, whichever kind it is.
pub fn status(event: &Event) -> Option<&'static str> {
    let f = &event.fields;
    f.build_status
        .map(|s| s.as_str())
        .or(f.deployment_status.map(|s| s.as_str()))
        .or(f.incident_status.map(|s| s.as_str()))
}

/// One line of a list of events.
pub struct EventRow {
    pub id: i64,
    pub href: String,
    pub time: String,
    pub event_type: &'static str,
    pub status: String,
    pub env: Option<Link>,
    pub release: String,
    pub branch: String,
    pub commit: Option<Link>,
    pub message: String,
    /// An Ok deploy that brought back an older release.
    pub rollback: bool,
}

/// A link with its text.
pub struct Link {
    pub href: String,
    pub text: String,
}

impl EventRow {
    pub fn new(owner: &str, event: &Event) -> EventRow {
        let f = &event.fields;
        EventRow {
            id: event.event_id,
            href: event_href(owner, &event.app_name, event.event_id),
            time: event.event_time.to_string(),
            event_type: event.event_type.as_str(),
            status: status(event).unwrap_or_default().to_owned(),
            env: f.env_name.as_ref().map(|env| Link {
                href: env_href(owner, env),
                text: env.clone(),
            }),
            release: f.release_version.clone().unwrap_or_default(),
            branch: f.commit.branch.clone().unwrap_or_default(),
            commit: f.commit.commit_id.as_ref().map(|commit| Link {
                href: commit_href(owner, &event.app_name, commit),
                text: short_commit(commit),
            }),
            message: f
                .commit
                .commit_msg
                .as_deref()
                .or(f.title.as_deref())
                .unwrap_or_default()
                .to_owned(),
            rollback: false,
        }
    }

    pub fn list(owner: &str, events: &[Event]) -> Vec<EventRow> {
        events
            .iter()
            .map(|event| EventRow::new(owner, event))
            .collect()
    }
}

/// An event in a chain of lineage.
pub struct LineageLink {
    pub href: String,
    pub text: String,
    pub current: bool,
}

impl LineageLink {
    pub fn new(owner: &str, event: &Event, current: bool) -> LineageLink {
        let f = &event.fields;
        let mut text = format!("{} {}", event.event_type.as_str(), event.event_id);
        for part in [
            f.release_version.as_deref(),
            f.env_name.as_deref(),
            status(event),
        ]
        .into_iter()
        .flatten()
        {
            text.push_str(" · ");
            text.push_str(part);
        }
        LineageLink {
            href: event_href(owner, &event.app_name, event.event_id),
            text,
            current,
        }
    }
}

/// A field of an event, with a link where it names something shown
/// elsewhere.
pub struct FieldRow {
    pub name: String,
    pub value: String,
    pub href: Option<String>,
}

/// Every field of an event as the API answers it, in its order.
pub fn fields(owner: &str, event: &Event) -> Vec<FieldRow> {
    let wire = serde_json::to_value(EventOut::from(event.clone())).unwrap_or(Value::Null);
    let Value::Object(map) = wire else {
        return Vec::new();
    };
    map.into_iter()
        .map(|(name, value)| {
            let text = text_of(&value);
            let href = match (name.as_str(), &value) {
                (_, Value::Null) => None,
                ("commit_id", _) => Some(commit_href(owner, &event.app_name, &text)),
                ("parent_event_id" | "caused_by_event_id", _) => text
                    .parse::<i64>()
                    .ok()
                    .map(|id| event_href(owner, &event.app_name, id)),
                ("env_name", _) => Some(env_href(owner, &text)),
                (name, _) if name.ends_with("_url") && is_web_address(&text) => Some(text.clone()),
                _ => None,
            };
            FieldRow {
                name,
                value: text,
                href,
            }
        })
        .collect()
}

/// Only web addresses become links: never `javascript:` or the like.
fn is_web_address(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

/// A JSON value as text: strings as they are, `null` as nothing.
pub fn text_of(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// One change of an event's history.
pub struct ChangeRow {
    pub id: i64,
    pub at: String,
    pub kind: &'static str,
    pub actor: String,
    /// Each changed field: name, old, new.
    pub fields: Vec<(String, String, String)>,
}

impl ChangeRow {
    pub fn new(change: &Change) -> ChangeRow {
        let fields = change
            .fields
            .iter()
            .map(|(name, pair)| {
                let (old, new) = match pair {
                    Value::Array(pair) if pair.len() == 2 => (text_of(&pair[0]), text_of(&pair[1])),
                    other => (String::new(), text_of(other)),
                };
                (name.clone(), old, new)
            })
            .collect();
        ChangeRow {
            id: change.change_id,
            at: change.at.to_string(),
            kind: change.kind.as_str(),
            actor: actor(&change.actor),
            fields,
        }
    }
}

fn actor(actor: &Actor) -> String {
    match actor {
        Actor::Token {
            user,
            token_label: Some(label),
            ..
        } => format!("{user} (token {label})"),
        Actor::Token { user, token_id, .. } => format!("{user} (token {token_id})"),
        Actor::Hook { hook, delivery } => format!("{hook} webhook, delivery {delivery}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_percent_encoded() {
        assert_eq!(segment("v1.2_x-y~z"), "v1.2_x-y~z");
        assert_eq!(segment("a/b c?#"), "a%2Fb%20c%3F%23");
        assert_eq!(segment("é"), "%C3%A9");
    }

    #[test]
    fn only_web_addresses_are_links() {
        assert!(is_web_address("https://ci.example.com/1"));
        assert!(is_web_address("HTTP://ci.example.com/1"));
        assert!(!is_web_address("javascript:alert(1)"));
        assert!(!is_web_address("data:text/html,x"));
    }
}
