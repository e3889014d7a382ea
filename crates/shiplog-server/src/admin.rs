//! Users, tokens, members and hooks: what the command line, the first
//! start and the API share.

use shiplog_domain::input::HookSettings;
use shiplog_domain::token::{generate_token, hash_token};
use shiplog_domain::{DomainError, Level, ResourceName};
use shiplog_ingest::Provider;
use shiplog_store::hooks::{HookConfig, StoredSecret};
use shiplog_store::members::{Member, MemberSet};
use shiplog_store::{Account, Store, StoreError, TokenInfo};

/// Creates a user (and its account) with a first token of scope `admin`,
/// the owner's key to everything; returns the token.
pub async fn add_user(store: &dyn Store, name: &str) -> Result<String, StoreError> {
    let name = ResourceName::parse("User", name)?;
    store.create_user(&name).await?;
    add_token(store, name.as_str(), None, Level::Admin).await
}

/// Adds a token of a scope to a user; returns the token, which is shown
/// only now.
pub async fn add_token(
    store: &dyn Store,
    user: &str,
    label: Option<&str>,
    scope: Level,
) -> Result<String, StoreError> {
    let token = generate_token();
    store
        .add_token(user, hash_token(&token), label, scope)
        .await?;
    Ok(token)
}

pub async fn list_tokens(store: &dyn Store, user: &str) -> Result<Vec<TokenInfo>, StoreError> {
    store.list_tokens(user).await
}

pub async fn revoke_token(store: &dyn Store, user: &str, token_id: i64) -> Result<(), StoreError> {
    store.revoke_token(user, token_id).await
}

/// Makes `user` a member of the account named `account` with `role`, or
/// changes its role.
pub async fn set_member(
    store: &dyn Store,
    account: &str,
    user: &str,
    role: Level,
) -> Result<MemberSet, StoreError> {
    let account = store.find_account(account).await?;
    store.set_member(&account, user, role).await
}

pub async fn list_members(store: &dyn Store, account: &str) -> Result<Vec<Member>, StoreError> {
    let account = store.find_account(account).await?;
    store.list_members(&account).await
}

pub async fn remove_member(store: &dyn Store, account: &str, user: &str) -> Result<(), StoreError> {
    let account = store.find_account(account).await?;
    store.remove_member(&account, user).await
}

/// Creates or rotates an account's hook of a provider; returns the new
/// secret, which is shown only now, and the configuration.
pub async fn configure_hook(
    store: &dyn Store,
    account: &Account,
    provider: Provider,
    settings: HookSettings,
) -> Result<(String, HookConfig), StoreError> {
    let (secret, stored) = StoredSecret::generate(provider);
    let config = HookConfig {
        provider,
        app: settings.app.map(|app| app.as_str().to_owned()),
        create_apps: settings.create_apps,
    };
    store
        .configure_hook(account, config.clone(), stored)
        .await?;
    Ok((secret, config))
}

/// The address a provider delivers an account's hook to.
pub fn hook_url(public_url: &str, account: &str, provider: Provider) -> String {
    format!("{public_url}/{account}/hooks/{}", provider.as_str())
}

/// A provider named on the command line or in a path.
pub fn provider(name: &str) -> Result<Provider, DomainError> {
    Provider::parse(name).ok_or_else(|| DomainError::NotFound(format!("Hook provider {name}")))
}

/// Hook settings from the command line's flags, checked as the API checks
/// a body.
pub fn hook_settings(app: Option<&str>, create_apps: bool) -> Result<HookSettings, DomainError> {
    let mut body = serde_json::Map::new();
    if let Some(app) = app {
        body.insert("app".into(), app.into());
    }
    body.insert("create_apps".into(), create_apps.into());
    HookSettings::parse(&body)
}
