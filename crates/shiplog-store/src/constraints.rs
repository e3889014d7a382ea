//! Unique constraints, known by name, and the client error each one means.
//!
//! PostgreSQL names the constraint a write broke; SQLite names its columns
//! instead. Each backend identifies the constraint by what its database
//! reports and this table turns it into the answer, so no backend guesses.

use crate::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unique {
    /// `releases_by_version`: a release version exists once per app.
    ReleaseVersion,
    /// An app name exists once per account.
    AppName,
    /// An env name exists once per account.
    EnvName,
    /// A user name exists once.
    UserName,
}

/// Every constraint: its PostgreSQL name and the columns SQLite reports.
const CONSTRAINTS: &[(Unique, &str, &str)] = &[
    (
        Unique::ReleaseVersion,
        "releases_by_version",
        "events.app_id, events.release_version",
    ),
    (
        Unique::AppName,
        "apps_account_id_name_key",
        "apps.account_id, apps.name",
    ),
    (
        Unique::EnvName,
        "envs_account_id_name_key",
        "envs.account_id, envs.name",
    ),
    (Unique::UserName, "users_name_key", "users.name"),
];

impl Unique {
    /// The constraint PostgreSQL names.
    pub fn from_postgres(name: &str) -> Option<Unique> {
        CONSTRAINTS
            .iter()
            .find(|(_, pg, _)| *pg == name)
            .map(|(unique, _, _)| *unique)
    }

    /// The constraint whose columns SQLite lists in its message
    /// (`UNIQUE constraint failed: apps.account_id, apps.name`).
    pub fn from_sqlite(message: &str) -> Option<Unique> {
        let columns = message.strip_prefix("UNIQUE constraint failed: ")?;
        CONSTRAINTS
            .iter()
            .find(|(_, _, sqlite)| *sqlite == columns)
            .map(|(unique, _, _)| *unique)
    }

    /// The answer to a write that broke this constraint on `value`.
    pub fn error(self, value: &str) -> StoreError {
        let kind = match self {
            Unique::ReleaseVersion => "Release",
            Unique::AppName => "App",
            Unique::EnvName => "Env",
            Unique::UserName => "User",
        };
        StoreError::already_exists(format!("{kind} {value}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_backend_report_names_one_constraint() {
        assert_eq!(
            Unique::from_sqlite("UNIQUE constraint failed: events.app_id, events.release_version"),
            Some(Unique::ReleaseVersion)
        );
        assert_eq!(
            Unique::from_postgres("apps_account_id_name_key"),
            Some(Unique::AppName)
        );
        assert_eq!(
            Unique::from_sqlite("UNIQUE constraint failed: tokens.hash"),
            None
        );
        assert_eq!(Unique::from_postgres("something_else"), None);
    }
}
