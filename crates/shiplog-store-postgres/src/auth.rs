//! Users, tokens and access in PostgreSQL.

use shiplog_domain::token::TokenHash;
use shiplog_domain::{Actor, Level, ResourceName, Timestamp};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use super::{db_error, unique_violation};
use shiplog_store::constraints::Unique;
use shiplog_store::members::stored_level;
use shiplog_store::{Access, Result, StoreError, TokenInfo, grant, queries};

pub async fn authorize(conn: &mut PgConnection, token: TokenHash, account: &str) -> Result<Access> {
    let row = sqlx::query(queries::AUTHORIZE)
        .bind(account)
        .bind(&token.0[..])
        .fetch_optional(conn)
        .await
        .map_err(db_error)?;
    let Some(row) = row else {
        return Ok(Access::Unauthenticated);
    };
    let get = |row: &PgRow| -> Result<_, sqlx::Error> {
        Ok((
            row.try_get::<Vec<u8>, _>(0)?,
            row.try_get::<Option<i64>, _>(1)?,
            row.try_get::<Option<String>, _>(2)?,
            row.try_get::<Option<String>, _>(3)?,
            row.try_get::<Option<String>, _>(4)?,
            Actor::Token {
                token_id: row.try_get(5)?,
                token_label: row.try_get(6)?,
                user: row.try_get(7)?,
            },
        ))
    };
    let (stored, account_id, account_name, role, scope, actor) = get(&row).map_err(db_error)?;
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

pub async fn user_count(conn: &mut PgConnection) -> Result<u64> {
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(conn)
        .await
        .map_err(db_error)?;
    Ok(count as u64)
}

async fn user_id(conn: &mut PgConnection, name: &str) -> Result<Option<i64>> {
    sqlx::query_scalar("SELECT id FROM users WHERE name = $1")
        .bind(name)
        .fetch_optional(conn)
        .await
        .map_err(db_error)
}

async fn existing_user(conn: &mut PgConnection, name: &str) -> Result<i64> {
    user_id(conn, name)
        .await?
        .ok_or_else(|| StoreError::not_found(format!("User {name}")))
}

pub async fn create_user(conn: &mut PgConnection, name: &ResourceName) -> Result<()> {
    let inserted = sqlx::query("INSERT INTO users (name, created_ms) VALUES ($1, $2)")
        .bind(name.as_str())
        .bind(Timestamp::now().millis())
        .execute(conn)
        .await;
    match inserted {
        Ok(_) => Ok(()),
        Err(err) if unique_violation(&err) == Some(Unique::UserName) => {
            Err(Unique::UserName.error(name.as_str()))
        }
        Err(err) => Err(db_error(err)),
    }
}

pub async fn add_token(
    conn: &mut PgConnection,
    user: &str,
    token: TokenHash,
    label: Option<&str>,
    scope: Level,
) -> Result<TokenInfo> {
    let user_id = existing_user(conn, user).await?;
    let created = Timestamp::now();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO tokens (user_id, hash, label, created_ms, scope) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(user_id)
    .bind(&token.0[..])
    .bind(label)
    .bind(created.millis())
    .bind(scope.as_str())
    .fetch_one(conn)
    .await
    .map_err(db_error)?;
    Ok(TokenInfo {
        id,
        label: label.map(str::to_owned),
        created,
        revoked: None,
        scope,
    })
}

pub async fn ensure_user_token(
    conn: &mut PgConnection,
    user: &ResourceName,
    token: TokenHash,
) -> Result<bool> {
    let mut created = false;
    let user_id = match user_id(conn, user.as_str()).await? {
        Some(id) => id,
        None => {
            create_user(conn, user).await?;
            created = true;
            existing_user(conn, user.as_str()).await?
        }
    };
    let holder: Option<i64> = sqlx::query_scalar("SELECT user_id FROM tokens WHERE hash = $1")
        .bind(&token.0[..])
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_error)?;
    match holder {
        Some(holder) if holder == user_id => Ok(created),
        Some(_) => Err(StoreError::Config(
            "the bootstrap token already belongs to another user".into(),
        )),
        None => {
            add_token(conn, user.as_str(), token, Some("bootstrap"), Level::Admin).await?;
            Ok(true)
        }
    }
}

pub async fn list_tokens(conn: &mut PgConnection, user: &str) -> Result<Vec<TokenInfo>> {
    let user_id = existing_user(conn, user).await?;
    let rows = sqlx::query(
        "SELECT id, label, created_ms, revoked_ms, scope FROM tokens WHERE user_id = $1 ORDER BY id",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await
    .map_err(db_error)?;
    rows.iter()
        .map(|row| {
            let revoked: Option<i64> = row.try_get(3).map_err(db_error)?;
            let scope: String = row.try_get(4).map_err(db_error)?;
            Ok(TokenInfo {
                id: row.try_get(0).map_err(db_error)?,
                label: row.try_get(1).map_err(db_error)?,
                created: Timestamp::from_millis(row.try_get(2).map_err(db_error)?),
                revoked: revoked.map(Timestamp::from_millis),
                scope: stored_level(&scope)?,
            })
        })
        .collect()
}

pub async fn revoke_token(conn: &mut PgConnection, user: &str, token_id: i64) -> Result<()> {
    let user_id = existing_user(conn, user).await?;
    let found = sqlx::query(
        "UPDATE tokens SET revoked_ms = coalesce(revoked_ms, $1) WHERE id = $2 AND user_id = $3",
    )
    .bind(Timestamp::now().millis())
    .bind(token_id)
    .bind(user_id)
    .execute(conn)
    .await
    .map_err(db_error)?
    .rows_affected();
    if found == 0 {
        return Err(StoreError::not_found(format!(
            "Token {token_id} of user {user}"
        )));
    }
    Ok(())
}
