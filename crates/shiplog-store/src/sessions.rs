//! Web UI sessions: what a session cookie may do with the account a page
//! names. The cookie's secret is random; only its SHA-256 is stored, and
//! the row found by it is compared with it again in constant time. Both
//! backends run these functions as written.

use shiplog_domain::Timestamp;
use shiplog_domain::token::{TokenHash, hex};
use subtle::ConstantTimeEq;

use crate::db::{Db, WriteTx};
use crate::{Account, Result, StoreError};

/// A session that has neither ended nor expired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The signed-in user's name.
    pub user: String,
    /// The token every form of the session carries.
    pub csrf: String,
    pub last_seen: Timestamp,
    pub expires: Timestamp,
}

/// What a session cookie may do with the account named in a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionAccess {
    /// No such session, or it ended or expired.
    Unauthenticated,
    /// The session is valid but its user may not read the account.
    Denied(Session),
    /// The session's user may read the account.
    Granted(Session, Account),
}

impl SessionAccess {
    /// The session, whatever it may do.
    pub fn session(&self) -> Option<&Session> {
        match self {
            SessionAccess::Unauthenticated => None,
            SessionAccess::Denied(session) | SessionAccess::Granted(session, _) => Some(session),
        }
    }
}

/// The session whose secret hashes to `id`, unless it ended or expired by
/// `now`, and what its user may do with `account`. The row is found by the
/// hash's index, then its hash compared again in constant time.
pub async fn lookup<D: Db>(
    db: &mut D,
    id: &TokenHash,
    account: &str,
    now: Timestamp,
) -> Result<SessionAccess> {
    let presented = hex(&id.0);
    let values = vec![account.into(), presented.as_str().into()];
    let mut rows = db
        .rows(LOOKUP, values, |row| {
            Ok((
                row.text(0)?,
                row.text(1)?,
                row.text(2)?,
                row.int(3)?,
                row.int(4)?,
                row.int(5)?,
                row.text(6)?,
                row.boolean(7)?,
            ))
        })
        .await?;
    let Some((
        Some(stored),
        Some(user),
        Some(csrf),
        Some(last_seen),
        Some(expires),
        id,
        name,
        allowed,
    )) = rows.pop()
    else {
        return Ok(SessionAccess::Unauthenticated);
    };
    let same: bool = stored.as_bytes().ct_eq(presented.as_bytes()).into();
    if !same || now.millis() >= expires {
        return Ok(SessionAccess::Unauthenticated);
    }
    let session = Session {
        user,
        csrf,
        last_seen: Timestamp::from_millis(last_seen),
        expires: Timestamp::from_millis(expires),
    };
    Ok(match (id, name, allowed) {
        (Some(id), Some(name), Some(true)) => SessionAccess::Granted(session, Account { id, name }),
        _ => SessionAccess::Denied(session),
    })
}

/// Opens a session of `user` until `expires` (unless used), after dropping
/// the user's expired ones; `NotFound` without such a user.
pub async fn create<T: WriteTx>(
    tx: &mut T,
    user: &str,
    id: &TokenHash,
    csrf: &str,
    now: Timestamp,
    expires: Timestamp,
) -> Result<()> {
    tx.execute(DROP_EXPIRED, vec![user.into(), now.millis().into()])
        .await?;
    let values = vec![
        hex(&id.0).as_str().into(),
        csrf.into(),
        now.millis().into(),
        expires.millis().into(),
        user.into(),
    ];
    match tx.execute(CREATE, values).await? {
        0 => Err(StoreError::not_found(format!("User {user}"))),
        _ => Ok(()),
    }
}

/// Moves a live session's expiry on.
pub async fn touch<T: WriteTx>(
    tx: &mut T,
    id: &TokenHash,
    now: Timestamp,
    expires: Timestamp,
) -> Result<()> {
    let values = vec![
        now.millis().into(),
        expires.millis().into(),
        hex(&id.0).as_str().into(),
    ];
    tx.execute(TOUCH, values).await.map(|_| ())
}

/// Ends a session; nothing if there is none.
pub async fn end<T: WriteTx>(tx: &mut T, id: &TokenHash) -> Result<()> {
    tx.execute(END, vec![hex(&id.0).as_str().into()])
        .await
        .map(|_| ())
}

/// A session and the account a request names, with whether the session's
/// user has a role on it (by the rule tokens are authorised by; the pages
/// only read, which every role allows): (account name, hash).
pub const LOOKUP: &str = concat!(
    "SELECT s.hash, u.name, s.csrf, s.last_seen_ms, s.expires_ms, a.id, a.name, (",
    crate::queries::role_on_account!("s.user_id"),
    ") IS NOT NULL \
     FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN users a ON a.name = $1 \
     WHERE s.hash = $2"
);

/// Drops a user's expired sessions: (user name, now).
pub const DROP_EXPIRED: &str = "DELETE FROM sessions \
     WHERE user_id = (SELECT id FROM users WHERE name = $1) AND expires_ms <= $2";

/// Opens a session of a user: (hash, csrf, now, expires, user name).
pub const CREATE: &str = "INSERT INTO sessions \
     (hash, user_id, csrf, created_ms, last_seen_ms, expires_ms) \
     SELECT $1, id, $2, $3, $3, $4 FROM users WHERE name = $5";

/// Records a session's use: (now, expires, hash).
pub const TOUCH: &str =
    "UPDATE sessions SET last_seen_ms = $1, expires_ms = $2 WHERE hash = $3 AND expires_ms > $1";

/// Ends a session: (hash).
pub const END: &str = "DELETE FROM sessions WHERE hash = $1";
