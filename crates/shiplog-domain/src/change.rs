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

/// A change about to be recorded, before the store gives it an id. A
/// creation stores no fields: they are the event's own, and what the event
/// was right after any change is the event now with the later updates
/// undone (see [`rewind`]), so no change keeps a copy of the event.
#[derive(Debug, Clone, PartialEq)]
pub struct NewChange {
    pub at: Timestamp,
    pub kind: ChangeKind,
    pub event_id: i64,
    /// For an update, each changed field as `[old, new]`; empty for a creation.
    pub fields: ChangedFields,
}

impl NewChange {
    pub fn created(event_id: i64, at: Timestamp) -> NewChange {
        NewChange {
            at,
            kind: ChangeKind::Created,
            event_id,
            fields: Map::new(),
        }
    }

    /// The update of the event `event_id` from `before` to `after`, both in
    /// their wire form, or `None` when no field differs.
    pub fn updated(
        event_id: i64,
        before: &Value,
        after: &Value,
        at: Timestamp,
    ) -> Option<NewChange> {
        let empty = Map::new();
        let old = before.as_object().unwrap_or(&empty);
        let mut fields = Map::new();
        for (key, value) in after.as_object().unwrap_or(&empty) {
            let previous = old.get(key).unwrap_or(&Value::Null);
            if previous != value {
                fields.insert(
                    key.clone(),
                    Value::Array(vec![previous.clone(), value.clone()]),
                );
            }
        }
        if fields.is_empty() {
            return None;
        }
        Some(NewChange {
            at,
            kind: ChangeKind::Updated,
            event_id,
            fields,
        })
    }
}

/// Undoes an update on an event's wire form: each field it changed takes
/// its old value back.
pub fn rewind(event: &mut Value, update: &ChangedFields) {
    let Some(event) = event.as_object_mut() else {
        return;
    };
    for (key, change) in update {
        if let (Some(slot), Some(old)) = (event.get_mut(key), change.get(0)) {
            *slot = old.clone();
        }
    }
}

/// The fields of a creation: every non-null field of the event as created,
/// with `null` as the old value.
pub fn created_fields(event: &Value) -> ChangedFields {
    event
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, value)| !value.is_null())
        .map(|(key, value)| (key.clone(), Value::Array(vec![Value::Null, value.clone()])))
        .collect()
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
        let fields = created_fields(&build("Running"));
        assert_eq!(fields["build_status"], json!([null, "Running"]));
        assert_eq!(fields["event_id"], json!([null, 7]));
        assert!(!fields.contains_key("build_end"));
    }

    #[test]
    fn an_update_lists_only_what_changed_and_rewinds_to_before() {
        let before = build("Running");
        let after = build("Failed");
        let change = NewChange::updated(7, &before, &after, Timestamp::now()).unwrap();
        assert_eq!(change.kind, ChangeKind::Updated);
        assert_eq!(
            Value::Object(change.fields.clone()),
            json!({"build_status": ["Running", "Failed"]})
        );
        let mut rewound = after.clone();
        rewind(&mut rewound, &change.fields);
        assert_eq!(rewound, before);
        assert_eq!(
            NewChange::updated(7, &before, &before, Timestamp::now()),
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
