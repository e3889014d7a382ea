//! Levels of access: what a member's role on an account, a token's scope,
//! and each API call are ranked by.
//!
//! A call is allowed when the caller's effective level, the lower of its
//! role on the account and its token's scope, is at least the call's.

use std::fmt;

use crate::DomainError;

/// `read` < `write` < `admin`; each allows everything below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Reads everything of the account.
    Read,
    /// Also records events and creates or changes apps and envs.
    Write,
    /// Also manages the account: its hooks, webhooks and members.
    Admin,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::Read, Level::Write, Level::Admin];

    /// The name stored in the database and written on the command line.
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Read => "read",
            Level::Write => "write",
            Level::Admin => "admin",
        }
    }

    /// A level by its name, in any letter case; `what` names the value in
    /// the error (`Role`, `Scope`).
    pub fn parse(what: &str, name: &str) -> Result<Level, DomainError> {
        Level::ALL
            .into_iter()
            .find(|level| level.as_str().eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                DomainError::BadParam(format!("{what} {name:?} is not one of read, write, admin"))
            })
    }

    /// What a member with `role` may do through a token of `scope`.
    pub fn effective(role: Level, scope: Level) -> Level {
        role.min(scope)
    }

    /// Whether a caller at this level may make a call that needs `needed`.
    pub fn allows(self, needed: Level) -> bool {
        self >= needed
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_ordered_and_the_lower_of_role_and_scope_wins() {
        assert!(Level::Read < Level::Write && Level::Write < Level::Admin);
        for role in Level::ALL {
            for scope in Level::ALL {
                let effective = Level::effective(role, scope);
                assert_eq!(effective, role.min(scope));
                assert!(role.allows(effective) && scope.allows(effective));
            }
        }
        assert!(Level::Admin.allows(Level::Read));
        assert!(!Level::Read.allows(Level::Write));
    }

    #[test]
    fn names_round_trip_in_any_case_and_others_are_bad_params() {
        for level in Level::ALL {
            assert_eq!(Level::parse("Role", level.as_str()), Ok(level));
            let upper = level.as_str().to_uppercase();
            assert_eq!(Level::parse("Role", &upper), Ok(level));
        }
        let err = Level::parse("Scope", "owner").unwrap_err();
        assert!(matches!(&err, DomainError::BadParam(m) if m.contains("Scope")));
        assert!(Level::parse("Scope", "").is_err());
    }
}
