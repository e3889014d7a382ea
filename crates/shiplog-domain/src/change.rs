//! Changes: the record of every accepted write to an event, who made it,
//! and exactly which fields it changed from what to what.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Timestamp;

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
    /// The change of the event `event_id` from `before` (none for a
    /// creation) to `after`, both in their wire form, or `None` when no
    /// field differs.
    pub fn between(
        event_id: i64,
        before: Option<&Value>,
        after: Value,
        at: Timestamp,
    ) -> Option<NewChange> {
        let empty = Map::new();
        let old = before.and_then(Value::as_object).unwrap_or(&empty);
        let mut fields = Map::new();
        if let Value::Object(new) = &after {
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
            event_id,
            fields,
            event: after,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn build(status: &str) -> Value {
        json!({"app_name": "web", "event_id": 7, "event_type": "BUILD",
               "build_status": status, "build_end": null})
    }

    #[test]
    fn a_creation_lists_every_non_null_field_with_null_before() {
        let change = NewChange::between(7, None, build("Running"), Timestamp::now())
            .expect("a creation is a change");
        assert_eq!(change.kind, ChangeKind::Created);
        assert_eq!(change.fields["build_status"], json!([null, "Running"]));
        assert_eq!(change.fields["event_id"], json!([null, 7]));
        assert!(!change.fields.contains_key("build_end"));
    }

    #[test]
    fn an_update_lists_only_what_changed() {
        let before = build("Running");
        let change =
            NewChange::between(7, Some(&before), build("Failed"), Timestamp::now()).unwrap();
        assert_eq!(change.kind, ChangeKind::Updated);
        assert_eq!(
            Value::Object(change.fields),
            json!({"build_status": ["Running", "Failed"]})
        );
        assert_eq!(
            NewChange::between(7, Some(&before), before.clone(), Timestamp::now()),
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
