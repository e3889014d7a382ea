//! Applications and environments, and the bodies that create them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::input::{JsonObject, TEXT_LIMIT};
use crate::{DomainError, Event, Timestamp};

/// An application, with the newest build and release it has recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub owner: String,
    pub name: String,
    pub description: Option<String>,
    pub created: Timestamp,
    pub latest_build: Option<Event>,
    pub latest_release: Option<Event>,
}

/// An environment variable of an env, as the original service shaped it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvVar {
    pub name: String,
    pub value: String,
}

/// An environment of an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Env {
    pub owner: String,
    pub app_name: String,
    pub name: String,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub vars: Vec<EnvVar>,
    /// The newest DEPLOY event to this env.
    pub last_deployment: Option<Event>,
    /// The release of the newest deploy to this env that finished `Ok`.
    pub active_release_version: Option<String>,
}

/// The body of CreateApp.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewApp {
    pub description: Option<String>,
}

impl NewApp {
    pub fn parse(body: &JsonObject) -> Result<Self, DomainError> {
        Ok(NewApp {
            description: description(body)?,
        })
    }
}

/// The body of CreateEnv.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewEnv {
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub vars: Vec<EnvVar>,
}

impl NewEnv {
    pub fn parse(body: &JsonObject) -> Result<Self, DomainError> {
        let tags = match body.get("tags") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| bounded_str("tags", item))
                .collect::<Result<_, _>>()?,
            Some(_) => {
                return Err(DomainError::bad_param(
                    "tags",
                    "expected an array of strings",
                ));
            }
        };
        let vars = match body.get("vars") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items.iter().map(env_var).collect::<Result<_, _>>()?,
            Some(_) => {
                return Err(DomainError::bad_param(
                    "vars",
                    "expected an array of {\"name\",\"value\"} objects",
                ));
            }
        };
        Ok(NewEnv {
            description: description(body)?,
            tags,
            vars,
        })
    }
}

fn description(body: &JsonObject) -> Result<Option<String>, DomainError> {
    match body.get("description") {
        None | Some(Value::Null) => Ok(None),
        Some(value) => bounded_str("description", value).map(Some),
    }
}

fn bounded_str(key: &str, value: &Value) -> Result<String, DomainError> {
    let text = value
        .as_str()
        .ok_or_else(|| DomainError::bad_param(key, "expected a string"))?;
    crate::input::check_text(key, text)?;
    if text.len() > TEXT_LIMIT {
        return Err(DomainError::TooLarge(format!(
            "Parameter {key} exceeds its limit of {TEXT_LIMIT} bytes"
        )));
    }
    Ok(text.to_owned())
}

fn env_var(item: &Value) -> Result<EnvVar, DomainError> {
    let field = |key: &str| {
        item.get(key)
            .ok_or_else(|| {
                DomainError::bad_param("vars", "expected an array of {\"name\",\"value\"} objects")
            })
            .and_then(|v| bounded_str("vars", v))
    };
    Ok(EnvVar {
        name: field("name")?,
        value: field("value")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_env_body_is_checked_field_by_field() {
        let body =
            json!({"description": "dev", "tags": ["a"], "vars": [{"name": "PORT", "value": "80"}]});
        let env = NewEnv::parse(body.as_object().unwrap()).unwrap();
        assert_eq!(env.tags, ["a"]);
        assert_eq!(env.vars[0].name, "PORT");
        for bad in [
            json!({"tags": "a"}),
            json!({"vars": [{"name": 1}]}),
            json!({"description": 5}),
        ] {
            assert!(NewEnv::parse(bad.as_object().unwrap()).is_err(), "{bad}");
        }
    }
}
