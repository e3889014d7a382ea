//! Users and tokens: what the command line and the first start do.

use shiplog_domain::ResourceName;
use shiplog_domain::token::{generate_token, hash_token};
use shiplog_store::{Store, StoreError, TokenInfo};

/// Creates a user (and its account) with a first token; returns the token.
pub async fn add_user(store: &dyn Store, name: &str) -> Result<String, StoreError> {
    let name = ResourceName::parse("User", name)?;
    store.create_user(&name).await?;
    add_token(store, name.as_str(), None).await
}

/// Adds a token to a user; returns the token, which is shown only now.
pub async fn add_token(
    store: &dyn Store,
    user: &str,
    label: Option<&str>,
) -> Result<String, StoreError> {
    let token = generate_token();
    store.add_token(user, hash_token(&token), label).await?;
    Ok(token)
}

pub async fn list_tokens(store: &dyn Store, user: &str) -> Result<Vec<TokenInfo>, StoreError> {
    store.list_tokens(user).await
}

pub async fn revoke_token(store: &dyn Store, user: &str, token_id: i64) -> Result<(), StoreError> {
    store.revoke_token(user, token_id).await
}
