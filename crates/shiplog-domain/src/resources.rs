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
    /// Days its events are kept, when the app has a retention of its own.
    pub retention_days: Option<u32>,
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
    pub retention_days: Option<u32>,
}

impl NewApp {
    pub fn parse(body: &JsonObject) -> Result<Self, DomainError> {
        Ok(NewApp {
            description: description(body)?,
            retention_days: retention_days(body)?,
        })
    }
}

/// The most days an app's retention may name: a century.
pub const MAX_RETENTION_DAYS: u32 = 36_500;

/// The body of UpdateApp: each field present is set (`null` clears it),
/// each absent one is left as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppUpdate {
    pub description: Option<Option<String>>,
    pub retention_days: Option<Option<u32>>,
}

impl AppUpdate {
    pub fn parse(body: &JsonObject) -> Result<Self, DomainError> {
        Ok(AppUpdate {
            description: match body.contains_key("description") {
                true => Some(description(body)?),
                false => None,
            },
            retention_days: match body.contains_key("retention_days") {
                true => Some(retention_days(body)?),
                false => None,
            },
        })
    }
}

fn retention_days(body: &JsonObject) -> Result<Option<u32>, DomainError> {
    match body.get("retention_days") {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value
            .as_u64()
            .filter(|days| (1..=u64::from(MAX_RETENTION_DAYS)).contains(days))
            .map(|days| Some(days as u32))
            .ok_or_else(|| {
                DomainError::bad_param(
                    "retention_days",
                    format!("expected a whole number of days from 1 to {MAX_RETENTION_DAYS}"),
                )
            }),
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
    fn an_app_retention_is_a_whole_number_of_days_within_bounds() {
        let parse = |body: serde_json::Value| NewApp::parse(body.as_object().unwrap());
        assert_eq!(
            parse(json!({"retention_days": 30})).unwrap().retention_days,
            Some(30)
        );
        assert_eq!(
            parse(json!({"retention_days": null}))
                .unwrap()
                .retention_days,
            None
        );
        for bad in [json!(0), json!(-1), json!(1.5), json!("30"), json!(36_501)] {
            assert!(parse(json!({"retention_days": bad})).is_err(), "{bad}");
        }
        let update =
            AppUpdate::parse(json!({"retention_days": null}).as_object().unwrap()).unwrap();
        assert_eq!(update.retention_days, Some(None));
        assert_eq!(update.description, None);
    }

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
