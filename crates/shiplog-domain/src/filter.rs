//! ListEvents filters, modelled as data: the store compiles them to SQL.

use crate::{DomainError, EventType};

/// Which events a listing returns. Every part that is set must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    pub branch: Option<String>,
    pub event_type: Option<EventType>,
    /// Only DEPLOY and INCIDENT events carry an env, so this selects them.
    pub env: Option<String>,
}

/// The named filters of `filter_name`, and the parameters each needs.
const NAMED_FILTERS: &[(&str, &[&str])] = &[
    ("Branch", &["filter_branch"]),
    ("Env", &["filter_env"]),
    ("EventType", &["filter_event_type"]),
    (
        "BranchAndEventType",
        &["filter_branch", "filter_event_type"],
    ),
    ("EnvAndBranch", &["filter_env", "filter_branch"]),
];

impl EventFilter {
    /// Builds the filter from query parameters, looked up through `param`
    /// (an empty value counts as absent).
    pub fn from_query<'q>(param: impl Fn(&str) -> Option<&'q str>) -> Result<Self, DomainError> {
        let param = |name: &str| param(name).filter(|v| !v.is_empty());
        let used: Vec<&str> = match param("filter_name") {
            None => vec!["filter_branch", "filter_env", "filter_event_type"],
            Some(name) => {
                let (_, needs) = NAMED_FILTERS
                    .iter()
                    .find(|(known, _)| known.eq_ignore_ascii_case(name))
                    .ok_or_else(|| {
                        let names: Vec<_> = NAMED_FILTERS.iter().map(|(n, _)| *n).collect();
                        DomainError::bad_param(
                            "filter_name",
                            format!("accepted values are {}", names.join(", ")),
                        )
                    })?;
                if let Some(missing) = needs.iter().find(|p| param(p).is_none()) {
                    return Err(DomainError::MissingParam((*missing).into()));
                }
                needs.to_vec()
            }
        };
        let mut filter = EventFilter::default();
        for name in used {
            let Some(value) = param(name) else { continue };
            crate::input::check_text(name, value)?;
            match name {
                "filter_branch" => filter.branch = Some(value.to_owned()),
                "filter_env" => filter.env = Some(value.to_owned()),
                _ => filter.event_type = Some(parse_event_type(name, value)?),
            }
        }
        Ok(filter)
    }

    /// The parts that identify this listing, for binding markers to it.
    pub fn scope(&self) -> [&str; 3] {
        [
            self.branch.as_deref().unwrap_or("\u{0}"),
            self.event_type.map_or("\u{0}", |t| t.as_str()),
            self.env.as_deref().unwrap_or("\u{0}"),
        ]
    }
}

/// An event type by its filter name (`Build`, `PullRequest`, …, any case);
/// `param` names the parameter in the error.
pub(crate) fn parse_event_type(param: &str, value: &str) -> Result<EventType, DomainError> {
    EventType::ALL
        .iter()
        .copied()
        .find(|t| t.filter_name().eq_ignore_ascii_case(value))
        .ok_or_else(|| {
            let names: Vec<_> = EventType::ALL.iter().map(|t| t.filter_name()).collect();
            DomainError::bad_param(param, format!("accepted values are {}", names.join(", ")))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(pairs: &[(&'static str, &'static str)]) -> Result<EventFilter, DomainError> {
        EventFilter::from_query(|name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v))
    }

    #[test]
    fn named_filters_use_only_their_parameters() {
        let f = filter(&[
            ("filter_name", "branch"),
            ("filter_branch", "master"),
            ("filter_event_type", "build"),
        ])
        .unwrap();
        assert_eq!(f.branch.as_deref(), Some("master"));
        assert_eq!(f.event_type, None);
    }

    #[test]
    fn a_named_filter_without_its_parameter_is_missing_param() {
        assert_eq!(
            filter(&[("filter_name", "EnvAndBranch"), ("filter_env", "dev")]),
            Err(DomainError::MissingParam("filter_branch".into()))
        );
    }

    #[test]
    fn unknown_names_and_types_are_bad_params() {
        assert!(matches!(
            filter(&[("filter_name", "Colour")]),
            Err(DomainError::BadParam(_))
        ));
        assert!(matches!(
            filter(&[("filter_name", "EventType"), ("filter_event_type", "party")]),
            Err(DomainError::BadParam(_))
        ));
    }

    #[test]
    fn without_a_name_every_filter_applies() {
        let f = filter(&[
            ("filter_branch", "main"),
            ("filter_event_type", "PULLREQUEST"),
        ])
        .unwrap();
        assert_eq!(f.branch.as_deref(), Some("main"));
        assert_eq!(f.event_type, Some(EventType::PullRequest));
    }
}
