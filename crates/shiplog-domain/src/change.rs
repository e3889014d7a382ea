//! Changes: the record of every accepted write to an event, who made it,
//! and exactly which fields it changed from what to what.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{Event, Timestamp};

/// Who made a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Actor {
    /// A user, through one of its API tokens.
    Token {
        user: String,
        token_id: i64,
        token_label: Option<String>,
    },
    /// A delivery of a source-code host's webhook.
    Hook { hook: String, delivery: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Created,
    Updated,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Created => "created",
            ChangeKind::Updated => "updated",
        }
    }

    pub fn parse(text: &str) -> Option<ChangeKind> {
        [ChangeKind::Created, ChangeKind::Updated]
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

/// The changed fields of a change: each key maps to `[old, new]`.
pub type ChangedFields = Map<String, Value>;

/// A change as recorded: `event` is the event right after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub change_id: i64,
    pub at: Timestamp,
    pub kind: ChangeKind,
    pub actor: Actor,
    pub app_name: String,
    pub event_id: i64,
    pub fields: ChangedFields,
    pub event: Value,
}

/// A change about to be recorded, before the store gives it an id.
#[derive(Debug, Clone, PartialEq)]
pub struct NewChange {
    pub at: Timestamp,
    pub kind: ChangeKind,
    pub event_id: i64,
    pub fields: ChangedFields,
    pub event: Value,
}

impl NewChange {
    /// The change from `before` (none for a creation) to `after`, or `None`
    /// when no field differs.
    pub fn between(before: Option<&Event>, after: &Event, at: Timestamp) -> Option<NewChange> {
        let after_json = event_json(after);
        let before_json = before.map(event_json);
        let empty = Map::new();
        let old = match &before_json {
            Some(Value::Object(map)) => map,
            _ => &empty,
        };
        let mut fields = Map::new();
        if let Value::Object(new) = &after_json {
            for (key, value) in new {
                let previous = old.get(key).unwrap_or(&Value::Null);
                if previous != value {
                    fields.insert(
                        key.clone(),
                        Value::Array(vec![previous.clone(), value.clone()]),
                    );
                }
            }
        }
        if fields.is_empty() {
            return None;
        }
        Some(NewChange {
            at,
            kind: if before.is_some() {
                ChangeKind::Updated
            } else {
                ChangeKind::Created
            },
            event_id: after.event_id,
            fields,
            event: after_json,
        })
    }
}

fn event_json(event: &Event) -> Value {
    serde_json::to_value(event).expect("events serialise")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BuildStatus, EventFields, EventType};

    fn build(status: BuildStatus) -> Event {
        Event {
            app_name: "web".into(),
            event_id: 7,
            event_time: Timestamp::from_millis(1_000),
            event_type: EventType::Build,
            fields: EventFields {
                build_status: Some(status),
                ..Default::default()
            },
        }
    }

    #[test]
    fn a_creation_lists_every_non_null_field_with_null_before() {
        let change = NewChange::between(None, &build(BuildStatus::Running), Timestamp::now())
            .expect("a creation is a change");
        assert_eq!(change.kind, ChangeKind::Created);
        assert_eq!(
            change.fields["build_status"],
            serde_json::json!([null, "Running"])
        );
        assert_eq!(change.fields["event_id"], serde_json::json!([null, 7]));
        assert!(!change.fields.contains_key("build_end"));
    }

    #[test]
    fn an_update_lists_only_what_changed() {
        let before = build(BuildStatus::Running);
        let after = build(BuildStatus::Failed);
        let change = NewChange::between(Some(&before), &after, Timestamp::now()).unwrap();
        assert_eq!(change.kind, ChangeKind::Updated);
        assert_eq!(
            serde_json::Value::Object(change.fields),
            serde_json::json!({"build_status": ["Running", "Failed"]})
        );
        assert_eq!(
            NewChange::between(Some(&before), &before, Timestamp::now()),
            None
        );
    }

    #[test]
    fn actors_take_the_contract_shapes() {
        let token = Actor::Token {
            user: "jdoe".into(),
            token_id: 3,
            token_label: Some("ci".into()),
        };
        assert_eq!(
            serde_json::to_string(&token).unwrap(),
            r#"{"user":"jdoe","token_id":3,"token_label":"ci"}"#
        );
        let hook = Actor::Hook {
            hook: "github".into(),
            delivery: "d1".into(),
        };
        assert_eq!(
            serde_json::to_string(&hook).unwrap(),
            r#"{"hook":"github","delivery":"d1"}"#
        );
    }
}
