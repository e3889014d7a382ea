//! Users, tokens and access in SQLite.

use rusqlite::{Connection, OptionalExtension, params};
use shiplog_domain::token::TokenHash;
use shiplog_domain::{Actor, Level, ResourceName, Timestamp};

use super::{sql_error, unique_violation};
use shiplog_store::constraints::Unique;
use shiplog_store::members::stored_level;
use shiplog_store::{Access, AuthCache, Result, StoreError, TokenInfo, grant, queries};

/// What the token may do on the account, from the cache while nothing it
/// is authorised by has changed since it was looked up. The generation is
/// read first, on the same connection: a change committed by any process
/// between that read and the lookup moves it on, so an answer the change
/// makes wrong is stored under a generation already past and never used.
pub fn authorize(
    conn: &Connection,
    cache: &AuthCache,
    token: TokenHash,
    account: &str,
) -> Result<Access> {
    let generation = auth_generation(conn)?;
    if let Some(access) = cache.get(&token, account, generation) {
        return Ok(access);
    }
    let access = look_up(conn, token, account)?;
    cache.put(token, account, generation, &access);
    Ok(access)
}

/// Moved on by the triggers of every write to tokens, users and memberships.
fn auth_generation(conn: &Connection) -> Result<u64> {
    let mut stmt = conn
        .prepare_cached("SELECT n FROM auth_generation WHERE id = 1")
        .map_err(sql_error)?;
    let n: i64 = stmt.query_row([], |row| row.get(0)).map_err(sql_error)?;
    Ok(n as u64)
}

fn look_up(conn: &Connection, token: TokenHash, account: &str) -> Result<Access> {
    let mut stmt = conn.prepare_cached(queries::AUTHORIZE).map_err(sql_error)?;
    let row = stmt
        .query_row(params![account, &token.0[..]], |row| {
            Ok((
                row.get::<_, Vec<u8>>(0)?,
                row.get::<_, Option<i64>>(1)?,
                row.get::<_, Option<String>>(2)?,
                row.get::<_, Option<String>>(3)?,
                row.get::<_, Option<String>>(4)?,
                Actor::Token {
                    token_id: row.get(5)?,
                    token_label: row.get(6)?,
                    user: row.get(7)?,
                },
            ))
        })
        .optional()
        .map_err(sql_error)?;
    let Some((stored, account_id, account_name, role, scope, actor)) = row else {
        return Ok(Access::Unauthenticated);
    };
    let stored = TokenHash(stored.try_into().unwrap_or([0; 32]));
    Ok(grant(
        &stored,
        &token,
        account_id,
        account_name,
        role.as_deref(),
        scope.as_deref(),
        actor,
    ))
}

pub fn user_count(conn: &Connection) -> Result<u64> {
    conn.query_row("SELECT count(*) FROM users", [], |row| row.get(0))
        .map_err(sql_error)
}

fn user_id(conn: &Connection, name: &str) -> Result<Option<i64>> {
    conn.prepare_cached("SELECT id FROM users WHERE name = ?1")
        .and_then(|mut stmt| stmt.query_row([name], |row| row.get(0)).optional())
        .map_err(sql_error)
}

fn existing_user(conn: &Connection, name: &str) -> Result<i64> {
    user_id(conn, name)?.ok_or_else(|| StoreError::not_found(format!("User {name}")))
}

pub fn create_user(conn: &Connection, name: &ResourceName) -> Result<()> {
    match conn.execute(
        "INSERT INTO users (name, created_ms) VALUES (?1, ?2)",
        params![name.as_str(), Timestamp::now().millis()],
    ) {
        Ok(_) => Ok(()),
        Err(err) if unique_violation(&err) == Some(Unique::UserName) => {
            Err(Unique::UserName.error(name.as_str()))
        }
        Err(err) => Err(sql_error(err)),
    }
}

pub fn add_token(
    conn: &Connection,
    user: &str,
    token: TokenHash,
    label: Option<&str>,
    scope: Level,
) -> Result<TokenInfo> {
    let user_id = existing_user(conn, user)?;
    let created = Timestamp::now();
    conn.execute(
        "INSERT INTO tokens (user_id, hash, label, created_ms, scope) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            user_id,
            &token.0[..],
            label,
            created.millis(),
            scope.as_str()
        ],
    )
    .map_err(sql_error)?;
    Ok(TokenInfo {
        id: conn.last_insert_rowid(),
        label: label.map(str::to_owned),
        created,
        revoked: None,
        scope,
    })
}

pub fn ensure_user_token(conn: &Connection, user: &ResourceName, token: TokenHash) -> Result<bool> {
    let mut created = false;
    let user_id = match user_id(conn, user.as_str())? {
        Some(id) => id,
        None => {
            create_user(conn, user)?;
            created = true;
            existing_user(conn, user.as_str())?
        }
    };
    let holder: Option<i64> = conn
        .query_row(
            "SELECT user_id FROM tokens WHERE hash = ?1",
            [&token.0[..]],
            |row| row.get(0),
        )
        .optional()
        .map_err(sql_error)?;
    match holder {
        Some(holder) if holder == user_id => Ok(created),
        Some(_) => Err(StoreError::Config(
            "the bootstrap token already belongs to another user".into(),
        )),
        None => {
            add_token(conn, user.as_str(), token, Some("bootstrap"), Level::Admin)?;
            Ok(true)
        }
    }
}

pub fn list_tokens(conn: &Connection, user: &str) -> Result<Vec<TokenInfo>> {
    let user_id = existing_user(conn, user)?;
    let mut stmt = conn
        .prepare_cached(
            "SELECT id, label, created_ms, revoked_ms, scope FROM tokens WHERE user_id = ?1 ORDER BY id",
        )
        .map_err(sql_error)?;
    let rows = stmt
        .query_map([user_id], |row| {
            Ok((
                TokenInfo {
                    id: row.get(0)?,
                    label: row.get(1)?,
                    created: Timestamp::from_millis(row.get(2)?),
                    revoked: row.get::<_, Option<i64>>(3)?.map(Timestamp::from_millis),
                    scope: Level::Read,
                },
                row.get::<_, String>(4)?,
            ))
        })
        .map_err(sql_error)?;
    rows.map(|row| {
        let (info, scope) = row.map_err(sql_error)?;
        Ok(TokenInfo {
            scope: stored_level(&scope)?,
            ..info
        })
    })
    .collect()
}

pub fn revoke_token(conn: &Connection, user: &str, token_id: i64) -> Result<()> {
    let user_id = existing_user(conn, user)?;
    let found = conn
        .execute(
            "UPDATE tokens SET revoked_ms = coalesce(revoked_ms, ?1) WHERE id = ?2 AND user_id = ?3",
            params![Timestamp::now().millis(), token_id, user_id],
        )
        .map_err(sql_error)?;
    if found == 0 {
        return Err(StoreError::not_found(format!(
            "Token {token_id} of user {user}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request's one query finds the token, the account and the
    /// membership each by an index: no table is scanned.
    #[test]
    fn authorising_searches_indexes_only() {
        let conn = Connection::open_in_memory().unwrap();
        super::super::migrations::run(&conn).unwrap();
        let sql = format!("EXPLAIN QUERY PLAN {}", queries::AUTHORIZE);
        let mut stmt = conn.prepare(&sql).unwrap();
        let plan: Vec<String> = stmt
            .query_map(params!["jdoe", &[0u8; 32][..]], |row| row.get(3))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert!(
            plan.iter().all(|step| !step.starts_with("SCAN")),
            "{plan:?}"
        );
        assert!(
            plan.iter()
                .any(|step| step.starts_with("SEARCH m USING PRIMARY KEY")),
            "the membership by its key: {plan:?}"
        );
    }

    /// Every kind of write to a table a token is authorised by moves the
    /// generation on; other writes leave it.
    #[test]
    fn writes_to_what_authorises_move_the_generation_on() {
        let conn = Connection::open_in_memory().unwrap();
        super::super::migrations::run(&conn).unwrap();
        let mut last = auth_generation(&conn).unwrap();
        let mut moves = |sql: &str, expected: bool| {
            conn.execute_batch(sql).unwrap();
            let now = auth_generation(&conn).unwrap();
            assert_eq!(now != last, expected, "{sql}");
            last = now;
        };
        moves(
            "INSERT INTO users (id, name, created_ms) VALUES (1, 'team', 0), (2, 'ci', 0)",
            true,
        );
        moves("UPDATE users SET created_ms = 1 WHERE id = 2", true);
        moves(
            "INSERT INTO tokens (id, user_id, hash, created_ms, scope) VALUES (1, 2, x'00', 0, 'read')",
            true,
        );
        moves("UPDATE tokens SET revoked_ms = 1 WHERE id = 1", true);
        moves("DELETE FROM tokens WHERE id = 1", true);
        moves(
            "INSERT INTO memberships (account_id, user_id, role) VALUES (1, 2, 'read')",
            true,
        );
        moves(
            "UPDATE memberships SET role = 'write' WHERE user_id = 2",
            true,
        );
        moves("DELETE FROM memberships WHERE user_id = 2", true);
        moves(
            "INSERT INTO apps (account_id, name, created_ms) VALUES (1, 'a', 0)",
            false,
        );
        moves("DELETE FROM users WHERE id = 2", true);
    }

    /// A cached grant is answered only until the generation moves on:
    /// another process's revocation through the same file is seen at once.
    #[test]
    fn a_revocation_by_another_connection_ends_a_cached_grant() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auth.db");
        let writer = Connection::open(&path).unwrap();
        super::super::migrations::run(&writer).unwrap();
        let token = shiplog_domain::token::hash_token("a-token-0123456789");
        writer
            .execute_batch("INSERT INTO users (id, name, created_ms) VALUES (1, 'jdoe', 0)")
            .unwrap();
        writer
            .execute(
                "INSERT INTO tokens (user_id, hash, created_ms, scope) VALUES (1, ?1, 0, 'write')",
                [&token.0[..]],
            )
            .unwrap();
        let reader = Connection::open(&path).unwrap();
        let cache = AuthCache::new();
        let first = authorize(&reader, &cache, token, "jdoe").unwrap();
        assert!(matches!(first, Access::Granted { .. }), "{first:?}");
        assert_eq!(cache.len(), 1);
        assert_eq!(authorize(&reader, &cache, token, "jdoe").unwrap(), first);
        writer
            .execute_batch("UPDATE tokens SET revoked_ms = 1")
            .unwrap();
        assert_eq!(
            authorize(&reader, &cache, token, "jdoe").unwrap(),
            Access::Unauthenticated
        );
    }
}
