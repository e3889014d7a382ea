//! Memberships: users who act on an account that is not their own, each
//! with a role. The owner of an account (the user of the same name) is
//! never a member of it: it is always `admin` there.
//!
//! Every request reads the role afresh (in [`crate::queries::AUTHORIZE`]),
//! so a change here holds from the next request on.

use shiplog_domain::{DomainError, Level};

use crate::columns::Columns;
use crate::db::{Db, WriteTx};
use crate::hooks::account_named;
use crate::{Account, Result, StoreError, known_name};

/// A member of an account, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user: String,
    pub role: Level,
}

/// What [`set`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberSet {
    Added,
    /// The member had this role before.
    Changed(Level),
    Unchanged,
}

/// Makes `user` a member of `account` with `role`, or changes its role.
pub async fn set<T: WriteTx>(
    tx: &mut T,
    account: &Account,
    user: &str,
    role: Level,
) -> Result<MemberSet> {
    let user = member_user(tx, account, user).await?;
    let before = role_of(tx, account, &user).await?;
    let values = vec![account.id.into(), user.id.into(), role.as_str().into()];
    tx.execute(UPSERT_MEMBER, values).await?;
    Ok(match before {
        None => MemberSet::Added,
        Some(before) if before == role => MemberSet::Unchanged,
        Some(before) => MemberSet::Changed(before),
    })
}

/// The members of an account, by user name.
pub async fn list<D: Db>(db: &mut D, account: &Account) -> Result<Vec<Member>> {
    db.rows(MEMBERS_OF_ACCOUNT, vec![account.id.into()], |row| {
        Ok(Member {
            user: row
                .text(0)?
                .ok_or_else(|| StoreError::Internal("a member row has no user".into()))?,
            role: role_column(row, 1)?,
        })
    })
    .await
}

/// Ends a membership; `NotFound` when the user is not a member.
pub async fn remove<T: WriteTx>(tx: &mut T, account: &Account, user: &str) -> Result<()> {
    known_name("User", user)?;
    let user = account_named(tx, user).await?;
    let values = vec![account.id.into(), user.id.into()];
    match tx.execute(DELETE_MEMBER, values).await? {
        0 => Err(not_a_member(account, &user.name)),
        _ => Ok(()),
    }
}

/// The user to make a member: it must exist and not own the account.
async fn member_user<D: Db>(db: &mut D, account: &Account, user: &str) -> Result<Account> {
    known_name("User", user)?;
    let user = account_named(db, user).await?;
    if user.id == account.id {
        return Err(DomainError::BadParam(format!(
            "{} owns the account {} and is always admin there",
            user.name, account.name
        ))
        .into());
    }
    Ok(user)
}

async fn role_of<D: Db>(db: &mut D, account: &Account, user: &Account) -> Result<Option<Level>> {
    let values = vec![account.id.into(), user.id.into()];
    let mut rows = db
        .rows(ROLE_OF_MEMBER, values, |row| role_column(row, 0))
        .await?;
    Ok(rows.pop())
}

fn not_a_member(account: &Account, user: &str) -> StoreError {
    StoreError::not_found(format!("Member {user} of {}", account.name))
}

/// A stored role or scope; one the code does not know is a corrupt row.
pub fn stored_level(name: &str) -> Result<Level> {
    Level::parse("Level", name)
        .map_err(|_| StoreError::Internal(format!("an unknown stored level {name:?}")))
}

fn role_column(row: &dyn Columns, index: usize) -> Result<Level> {
    let role = row.text(index)?;
    stored_level(&role.ok_or_else(|| StoreError::Internal("a member has no role".into()))?)
}

/// (account id, user id, role).
const UPSERT_MEMBER: &str = "INSERT INTO memberships (account_id, user_id, role) \
     VALUES ($1, $2, $3) \
     ON CONFLICT (account_id, user_id) DO UPDATE SET role = excluded.role";

/// (account id, user id).
const ROLE_OF_MEMBER: &str = "SELECT role FROM memberships WHERE account_id = $1 AND user_id = $2";

/// (account id). The primary key's range of the account.
const MEMBERS_OF_ACCOUNT: &str = "SELECT u.name, m.role FROM memberships m \
     JOIN users u ON u.id = m.user_id WHERE m.account_id = $1 ORDER BY u.name";

/// (account id, user id).
const DELETE_MEMBER: &str = "DELETE FROM memberships WHERE account_id = $1 AND user_id = $2";
