//! An event assembled from a payload, then read by the domain's own parser,
//! so that what a webhook records obeys the same types, limits and rules
//! (`check_build`, `check_deploy`, env names) as what a client sends.

use serde_json::Value;
use shiplog_domain::event::Field;
use shiplog_domain::input::{COMMIT_MSG_LIMIT, JsonObject, NewEvent};
use shiplog_domain::names::MAX_NAME_LEN;
use shiplog_domain::{BuildStatus, DeploymentStatus, EventType, ResourceName, Timestamp};

use crate::{Command, MapError};

/// The fields of one event, keyed as in a create call's body.
#[derive(Debug, Default)]
pub(crate) struct Draft(JsonObject);

impl Draft {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Sets `field` when the payload has a value for it. A commit message
    /// over its limit is cut there (at a character boundary) rather than
    /// failing the delivery: pushes of long squash messages are ordinary,
    /// and a refused delivery records nothing at all.
    pub(crate) fn set(&mut self, field: Field, value: Option<&str>) -> &mut Self {
        if let Some(mut value) = value {
            if field == Field::CommitMsg && value.len() > COMMIT_MSG_LIMIT {
                value = &value[..value.floor_char_boundary(COMMIT_MSG_LIMIT)];
            }
            self.0
                .insert(field.key().into(), Value::String(value.into()));
        }
        self
    }

    pub(crate) fn time(&mut self, field: Field, value: Option<Timestamp>) -> &mut Self {
        self.set(field, value.map(|t| t.to_string()).as_deref())
    }

    /// A PUSH, PULLREQUEST or RELEASE.
    pub(crate) fn create(&self, event_type: EventType) -> Result<Command, MapError> {
        self.parse(event_type).map(Command::Create)
    }

    /// A BUILD at `status`, begun at `start` and last changed at `changed`.
    /// Its parent is looked up by its own commit.
    pub(crate) fn build(
        &mut self,
        status: BuildStatus,
        start: Option<Timestamp>,
        changed: Option<Timestamp>,
    ) -> Result<Command, MapError> {
        self.set(Field::BuildStatus, Some(status.as_str()))
            .time(Field::BuildStart, start);
        if status.is_terminal() {
            self.time(Field::BuildEnd, end_time(start, changed));
        }
        let fields = self.parse(EventType::Build)?.fields;
        let parent_commit = fields.commit.commit_id.clone();
        Ok(Command::Build {
            fields,
            parent_commit,
        })
    }

    /// A DEPLOY to the env the provider calls `env`, at `status`, begun at
    /// `start` and last changed at `changed`. A deploy first heard of when
    /// it is already over began, as far as shiplog knows, when it ended;
    /// otherwise the store would start it on receipt, after its own end.
    /// Its release is looked up by its own commit.
    pub(crate) fn deploy(
        &mut self,
        env: &str,
        status: DeploymentStatus,
        start: Option<Timestamp>,
        changed: Option<Timestamp>,
    ) -> Result<Command, MapError> {
        let start = start.or(changed);
        self.set(Field::EnvName, Some(&env_name(env)?))
            .set(Field::DeploymentStatus, Some(status.as_str()))
            .time(Field::DeploymentStart, start);
        if status.is_terminal() {
            self.time(Field::DeploymentEnd, end_time(start, changed));
        }
        let fields = self.parse(EventType::Deploy)?.fields;
        let release_commit = fields.commit.commit_id.clone();
        Ok(Command::Deploy {
            fields,
            release_commit,
        })
    }

    pub(crate) fn parse(&self, event_type: EventType) -> Result<NewEvent, MapError> {
        NewEvent::parse(event_type, &self.0).map_err(|err| {
            MapError(format!(
                "The delivery does not make a valid {}: {err}",
                event_type.as_str()
            ))
        })
    }
}

/// When a run or deploy that is over ended: its last change, never before
/// its start (providers' clocks and rounding disagree), and its start when
/// the payload says nothing later.
fn end_time(start: Option<Timestamp>, changed: Option<Timestamp>) -> Option<Timestamp> {
    match (start, changed) {
        (Some(start), Some(changed)) => Some(changed.max(start)),
        (start, changed) => changed.or(start),
    }
}

/// The shiplog env for a provider's environment name. Env names are
/// resource names (1–64 letters, digits, `-`, `_`, `.`, starting with a
/// letter or digit), while providers allow `review/feature-x` or
/// `Production EU`: each run of other characters becomes one `-`, leading
/// punctuation is dropped and the name is cut at 64 bytes. A name with
/// nothing left is refused.
pub(crate) fn env_name(provider_name: &str) -> Result<String, MapError> {
    let mut name = String::new();
    let mut gap = false;
    for c in provider_name.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
            if gap && !name.is_empty() {
                name.push('-');
            }
            gap = false;
            name.push(c);
        } else {
            gap = true;
        }
    }
    let name = name.trim_start_matches(|c: char| !c.is_ascii_alphanumeric());
    let name = &name[..name.len().min(MAX_NAME_LEN)];
    if ResourceName::is_valid(name) {
        Ok(name.to_owned())
    } else {
        Err(MapError(format!(
            "The environment {provider_name:?} has no letters or digits to name an env by"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Option<Timestamp> {
        Timestamp::parse(text)
    }

    #[test]
    fn env_names_keep_valid_names_and_sanitise_the_rest() {
        for (given, expected) in [
            ("production", "production"),
            ("Prod_EU-1.a", "Prod_EU-1.a"),
            ("review/feature-x", "review-feature-x"),
            ("Production / EU", "Production-EU"),
            ("  staging  ", "staging"),
            (".hidden", "hidden"),
            ("-x", "x"),
            ("prod/", "prod"),
            ("étape 2", "tape-2"),
        ] {
            assert_eq!(env_name(given).unwrap(), expected, "{given:?}");
        }
        assert_eq!(env_name(&"e".repeat(100)).unwrap(), "e".repeat(64));
        for hopeless in ["", "  ", "///", "...", "日本"] {
            assert!(env_name(hopeless).is_err(), "{hopeless:?}");
        }
    }

    #[test]
    fn an_end_is_the_last_change_never_before_the_start() {
        let (early, late) = (at("2020-01-01T00:00:00Z"), at("2020-01-01T00:05:00Z"));
        assert_eq!(end_time(early, late), late);
        assert_eq!(end_time(late, early), late);
        assert_eq!(end_time(early, None), early);
        assert_eq!(end_time(None, late), late);
        assert_eq!(end_time(None, None), None);
    }

    #[test]
    fn an_over_long_commit_message_is_cut_at_its_limit_on_a_character_boundary() {
        // "é" is two bytes, so the limit falls inside the last one.
        let message = format!("{}é", "m".repeat(COMMIT_MSG_LIMIT - 1));
        let mut draft = Draft::new();
        draft.set(Field::CommitMsg, Some(&message));
        let Command::Create(event) = draft.create(EventType::Push).unwrap() else {
            panic!()
        };
        let kept = event.fields.commit.commit_msg.unwrap();
        assert_eq!(kept, "m".repeat(COMMIT_MSG_LIMIT - 1));
    }

    #[test]
    fn other_text_keeps_the_domain_limit_and_fails_the_delivery() {
        let mut draft = Draft::new();
        draft.set(Field::Branch, Some(&"b".repeat(5000)));
        let err = draft.create(EventType::Push).unwrap_err();
        assert!(
            err.0.contains("PUSH") && err.0.contains("branch"),
            "{err:?}"
        );
    }

    #[test]
    fn a_terminal_build_ends_at_its_last_change_or_its_start() {
        let start = at("2020-10-05T16:33:49Z");
        let Command::Build { fields, .. } = Draft::new()
            .build(BuildStatus::Success, start, None)
            .unwrap()
        else {
            panic!()
        };
        assert_eq!(fields.build_end, start);
        let Command::Build { fields, .. } = Draft::new()
            .build(BuildStatus::Running, start, at("2020-10-05T16:40:00Z"))
            .unwrap()
        else {
            panic!()
        };
        assert_eq!(fields.build_end, None, "a running build has not ended");
        let err = Draft::new()
            .build(BuildStatus::Failed, None, None)
            .unwrap_err();
        assert!(err.0.contains("build_end"), "{err:?}");
    }

    #[test]
    fn builds_and_deploys_find_their_parent_by_their_own_commit() {
        let sha = "6113728f27ae82c7b1a177c8d03f9e96e0adf246";
        let mut draft = Draft::new();
        draft.set(Field::CommitId, Some(sha));
        let Command::Build { parent_commit, .. } =
            draft.build(BuildStatus::Queued, None, None).unwrap()
        else {
            panic!()
        };
        assert_eq!(parent_commit.as_deref(), Some(sha));
        let mut draft = Draft::new();
        draft.set(Field::CommitId, Some(sha));
        let Command::Deploy { release_commit, .. } = draft
            .deploy("production", DeploymentStatus::Pending, None, None)
            .unwrap()
        else {
            panic!()
        };
        assert_eq!(release_commit.as_deref(), Some(sha));
    }

    #[test]
    fn a_deploy_first_heard_of_when_over_starts_when_it_ended() {
        let changed = at("2021-04-28T19:50:00Z");
        let Command::Deploy { fields, .. } = Draft::new()
            .deploy("staging", DeploymentStatus::Ok, None, changed)
            .unwrap()
        else {
            panic!()
        };
        assert_eq!(fields.deployment_start, changed);
        assert_eq!(fields.deployment_end, changed);
        let Command::Deploy { fields, .. } = Draft::new()
            .deploy("staging", DeploymentStatus::InProgress, None, changed)
            .unwrap()
        else {
            panic!()
        };
        assert_eq!(fields.deployment_start, changed);
        assert_eq!(
            fields.deployment_end, None,
            "only a deploy that is over ends"
        );
    }
}
