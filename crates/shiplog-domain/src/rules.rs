//! The state machines of builds and deploys: what an update may change.
//!
//! These are pure functions over the stored fields. The store calls them
//! inside its transaction and then applies the result with a conditional
//! update, so the rule holds even when several writers race.

use crate::event::IncidentStatus;
use crate::input::EventUpdate;
use crate::{DeploymentType, DomainError, EventFields, EventType, Timestamp};

/// The rules every BUILD's fields obey, whether created or updated.
pub fn check_build(fields: &EventFields) -> Result<(), DomainError> {
    if fields.build_status.is_some_and(|s| s.is_terminal()) && fields.build_end.is_none() {
        return Err(DomainError::MissingParam("build_end".into()));
    }
    if let (Some(start), Some(end)) = (fields.build_start, fields.build_end)
        && end < start
    {
        return Err(DomainError::bad_param(
            "build_end",
            "build_end must not be earlier than build_start",
        ));
    }
    Ok(())
}

/// The rules every DEPLOY's fields obey, whether created or updated: an
/// end only once it is over, and never before its start.
pub fn check_deploy(fields: &EventFields) -> Result<(), DomainError> {
    if fields.deployment_end.is_some() && !fields.deployment_status.is_some_and(|s| s.is_terminal())
    {
        return Err(DomainError::bad_param(
            "deployment_end",
            "deployment_end goes with a terminal deployment_status (Ok, Failed or Aborted)",
        ));
    }
    if let (Some(start), Some(end)) = (fields.deployment_start, fields.deployment_end)
        && end < start
    {
        return Err(DomainError::bad_param(
            "deployment_end",
            "deployment_end must not be earlier than deployment_start",
        ));
    }
    Ok(())
}

/// The rules every INCIDENT's fields obey, whether created or updated: a
/// `Resolved` one says when, and never before it started.
pub fn check_incident(fields: &EventFields) -> Result<(), DomainError> {
    if fields.incident_status.is_some_and(|s| s.is_terminal()) && fields.incident_end.is_none() {
        return Err(DomainError::MissingParam("incident_end".into()));
    }
    if let (Some(start), Some(end)) = (fields.incident_start, fields.incident_end)
        && end < start
    {
        return Err(DomainError::bad_param(
            "incident_end",
            "incident_end must not be earlier than incident_start",
        ));
    }
    Ok(())
}

/// The values a new INCIDENT gets from the server when the client sent
/// none: `Open`, started now. A start after a sent end is refused.
pub fn fill_incident_defaults(fields: &mut EventFields, now: Timestamp) -> Result<(), DomainError> {
    fields.incident_status.get_or_insert(IncidentStatus::Open);
    fields.incident_start.get_or_insert(now);
    check_incident(fields)
}

/// A deploy that reaches a terminal status ends then, unless the client
/// said when it ended; never before a start the client sent.
fn end_deploy_if_terminal(fields: &mut EventFields, now: Timestamp) {
    if fields.deployment_status.is_some_and(|s| s.is_terminal()) && fields.deployment_end.is_none()
    {
        let end = match fields.deployment_start {
            Some(start) if start > now => start,
            _ => now,
        };
        fields.deployment_end = Some(end);
    }
}

/// The values a new DEPLOY gets from the server when the client sent none:
/// its id, its start, its type, `hotfix` false, and its end if it is
/// created terminal. `deployment_number` comes from the app's counter. An
/// end before the (sent or assigned) start is refused.
pub fn fill_deploy_defaults(
    fields: &mut EventFields,
    now: Timestamp,
    deployment_number: i64,
) -> Result<(), DomainError> {
    if fields.deployment_id.is_none() {
        fields.deployment_id = Some(new_deployment_id());
    }
    if fields.deployment_number.is_none() {
        fields.deployment_number = Some(deployment_number.to_string());
    }
    fields.deployment_type.get_or_insert(DeploymentType::Deploy);
    fields.deployment_start.get_or_insert(now);
    fields.hotfix.get_or_insert(false);
    end_deploy_if_terminal(fields, now);
    check_deploy(fields)
}

/// What an update does to an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateOutcome {
    /// Nothing changes: the update repeats the stored values (or is empty).
    Unchanged,
    /// The event takes these fields.
    Changed(Box<EventFields>),
}

/// Whether the event is in a terminal state and therefore immutable.
pub fn is_terminal(event_type: EventType, fields: &EventFields) -> bool {
    match event_type {
        EventType::Build => fields.build_status.is_some_and(|s| s.is_terminal()),
        EventType::Deploy => fields.deployment_status.is_some_and(|s| s.is_terminal()),
        EventType::Incident => fields.incident_status.is_some_and(|s| s.is_terminal()),
        _ => false,
    }
}

/// How far a BUILD or DEPLOY has come: 0 waiting, 1 running, 2 over. A
/// webhook delivery that arrives late (a run's `in_progress` after its
/// `completed`) would move it back, and changes nothing.
pub fn progress(event_type: EventType, fields: &EventFields) -> u8 {
    use crate::{BuildStatus as B, DeploymentStatus as D};
    if is_terminal(event_type, fields) {
        return 2;
    }
    match event_type {
        EventType::Build => u8::from(fields.build_status == Some(B::Running)),
        EventType::Deploy => u8::from(fields.deployment_status == Some(D::InProgress)),
        _ => 0,
    }
}

/// Applies `update`, made at `now`, to the event `event_id` of
/// `event_type` holding `current`.
pub fn apply_update(
    event_id: i64,
    event_type: EventType,
    current: &EventFields,
    update: &EventUpdate,
    now: Timestamp,
) -> Result<UpdateOutcome, DomainError> {
    let mut next = current.clone();
    match event_type {
        EventType::Build => {
            overwrite(&mut next.build_end, update.build_end);
            overwrite(&mut next.build_status, update.build_status);
            overwrite(&mut next.release_version, update.release_version.clone());
        }
        EventType::Deploy => {
            overwrite(&mut next.deployment_status, update.deployment_status);
            overwrite(&mut next.deployment_end, update.deployment_end);
        }
        EventType::Incident => {
            overwrite(&mut next.incident_status, update.incident_status);
            overwrite(&mut next.incident_end, update.incident_end);
        }
        other => {
            return Err(DomainError::BadParam(format!(
                "Event {event_id} is a {} event; only BUILD, DEPLOY and INCIDENT events can be updated",
                other.as_str()
            )));
        }
    }
    if next == *current {
        return Ok(UpdateOutcome::Unchanged);
    }
    if is_terminal(event_type, current) {
        let state = match event_type {
            EventType::Build => current.build_status.map(|s| s.as_str()),
            EventType::Incident => current.incident_status.map(|s| s.as_str()),
            _ => current.deployment_status.map(|s| s.as_str()),
        };
        return Err(DomainError::Immutable(format!(
            "Event {event_id} is in the terminal state {} and can no longer be changed",
            state.unwrap_or_default()
        )));
    }
    match event_type {
        EventType::Build => check_build(&next)?,
        EventType::Incident => check_incident(&next)?,
        _ => {
            end_deploy_if_terminal(&mut next, now);
            check_deploy(&next)?;
        }
    }
    Ok(UpdateOutcome::Changed(Box::new(next)))
}

/// The types of event an event of `event_type` may name as its parent.
pub fn allowed_parents(event_type: EventType) -> &'static [EventType] {
    match event_type {
        EventType::Build => &[EventType::Push, EventType::PullRequest],
        EventType::Release => &[EventType::Build],
        EventType::Deploy => &[EventType::Release],
        EventType::Push | EventType::PullRequest | EventType::DockerImage | EventType::Incident => {
            &[]
        }
    }
}

/// A BUILD of a PUSH or PULLREQUEST learns when its commit was made, so
/// that lead time can start there; its other fields stay as sent.
pub fn inherit_from_push(build: &mut EventFields, push: &EventFields) {
    if build.commit.commit_time.is_none() {
        build.commit.commit_time = push.commit.commit_time;
    }
}

/// A RELEASE made from `build`: it takes the build's commit fields and
/// `build_id` wherever it does not say otherwise.
pub fn inherit_from_build(release: &mut EventFields, build: &EventFields) {
    release.commit.fill_from(&build.commit);
    if release.build_id.is_none() {
        release.build_id.clone_from(&build.build_id);
    }
}

/// A DEPLOY of `release`: it takes the release's commit fields and version
/// and has it as parent.
pub fn inherit_from_release(deploy: &mut EventFields, release: &crate::Event) {
    deploy.commit.fill_from(&release.fields.commit);
    deploy.parent_event_id = Some(release.event_id);
    if deploy.release_version.is_none() {
        deploy
            .release_version
            .clone_from(&release.fields.release_version);
    }
}

/// The RELEASE recorded when a build reports `version`.
pub fn release_of_build(build_id: i64, build: &EventFields, version: &str) -> EventFields {
    EventFields {
        commit: build.commit.clone(),
        build_id: build.build_id.clone(),
        parent_event_id: Some(build_id),
        release_version: Some(version.to_owned()),
        ..EventFields::default()
    }
}

/// Release versions the server assigns: `v1`, `v2`, …
pub fn release_version(sequence: i64) -> String {
    format!("v{sequence}")
}

/// A deployment id the server assigns: `d-` and 20 random characters.
pub fn new_deployment_id() -> String {
    format!("d-{}", crate::token::random_alnum(20))
}

fn overwrite<T>(slot: &mut Option<T>, value: Option<T>) {
    if value.is_some() {
        *slot = value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BuildStatus, DeploymentStatus, Timestamp};

    fn ts(text: &str) -> Option<Timestamp> {
        Timestamp::parse(text)
    }

    fn running_build() -> EventFields {
        EventFields {
            build_status: Some(BuildStatus::Running),
            build_start: ts("2016-08-30T22:30:52Z"),
            ..Default::default()
        }
    }

    #[test]
    fn a_terminal_status_needs_build_end() {
        let update = EventUpdate {
            build_status: Some(BuildStatus::Success),
            ..Default::default()
        };
        assert_eq!(
            apply_update(
                1,
                EventType::Build,
                &running_build(),
                &update,
                Timestamp::from_millis(0)
            ),
            Err(DomainError::MissingParam("build_end".into()))
        );
        let update = EventUpdate {
            build_end: ts("2016-08-30T22:31:11Z"),
            ..update
        };
        let UpdateOutcome::Changed(next) = apply_update(
            1,
            EventType::Build,
            &running_build(),
            &update,
            Timestamp::from_millis(0),
        )
        .unwrap() else {
            panic!("expected a change")
        };
        assert_eq!(next.build_status, Some(BuildStatus::Success));
    }

    #[test]
    fn build_end_before_build_start_is_refused() {
        let update = EventUpdate {
            build_end: ts("2016-08-30T22:00:00Z"),
            ..Default::default()
        };
        assert!(matches!(
            apply_update(
                1,
                EventType::Build,
                &running_build(),
                &update,
                Timestamp::from_millis(0)
            ),
            Err(DomainError::BadParam(_))
        ));
    }

    #[test]
    fn a_terminal_build_accepts_only_repeats() {
        let done = EventFields {
            build_status: Some(BuildStatus::Failed),
            build_end: ts("2016-08-30T22:31:11Z"),
            ..running_build()
        };
        let repeat = EventUpdate {
            build_status: Some(BuildStatus::Failed),
            build_end: ts("2016-08-30T22:31:11.000+00:00"),
            ..Default::default()
        };
        assert_eq!(
            apply_update(
                7,
                EventType::Build,
                &done,
                &repeat,
                Timestamp::from_millis(0)
            ),
            Ok(UpdateOutcome::Unchanged)
        );
        let change = EventUpdate {
            build_status: Some(BuildStatus::Success),
            ..repeat
        };
        assert!(matches!(
            apply_update(7, EventType::Build, &done, &change, Timestamp::from_millis(0)),
            Err(DomainError::Immutable(m)) if m.contains("Event 7") && m.contains("Failed")
        ));
    }

    #[test]
    fn deploys_follow_the_same_rule() {
        let done = EventFields {
            deployment_status: Some(DeploymentStatus::Ok),
            ..Default::default()
        };
        let change = EventUpdate {
            deployment_status: Some(DeploymentStatus::Failed),
            ..Default::default()
        };
        assert!(matches!(
            apply_update(
                3,
                EventType::Deploy,
                &done,
                &change,
                Timestamp::from_millis(0)
            ),
            Err(DomainError::Immutable(_))
        ));
    }

    #[test]
    fn only_builds_and_deploys_can_be_updated() {
        assert!(matches!(
            apply_update(
                3,
                EventType::Push,
                &EventFields::default(),
                &EventUpdate::default(),
                Timestamp::from_millis(0)
            ),
            Err(DomainError::BadParam(_))
        ));
    }

    #[test]
    fn a_deploy_ends_when_it_reaches_a_terminal_status() {
        let started = EventFields {
            deployment_status: Some(DeploymentStatus::InProgress),
            deployment_start: ts("2016-08-30T22:30:00Z"),
            ..Default::default()
        };
        let done = EventUpdate {
            deployment_status: Some(DeploymentStatus::Ok),
            ..Default::default()
        };
        let now = Timestamp::parse("2016-08-30T22:40:00Z").unwrap();
        let UpdateOutcome::Changed(next) =
            apply_update(3, EventType::Deploy, &started, &done, now).unwrap()
        else {
            panic!("the status changes");
        };
        assert_eq!(next.deployment_end, Some(now));
        let early = EventUpdate {
            deployment_end: ts("2016-08-30T22:00:00Z"),
            ..done
        };
        assert!(matches!(
            apply_update(3, EventType::Deploy, &started, &early, now),
            Err(DomainError::BadParam(_))
        ));
    }
}
