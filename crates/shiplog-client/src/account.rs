//! The calls on an account: its apps and envs, its change log, DORA
//! metrics, webhooks and members.

use reqwest::Method;
use shiplog_api::hooks::{DeliveryOut, HookEnvelope, HookIn, HookInfoOut, HookListOut, HookOut};
use shiplog_api::members::{MemberEnvelope, MemberIn, MemberListOut, MemberOut};
use shiplog_api::{
    AppEnvelope, AppIn, AppListOut, AppOut, ChangeListOut, DoraEnvelope, DoraOut, EnvEnvelope,
    EnvListOut, EnvOut,
};

use crate::transport::Call;
use crate::{Client, Pages, Result};

/// The scope, window and calendar of GetDora; every field is optional (see
/// the server's defaults in the API reference).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DoraQuery {
    /// One app; every app of the account when absent.
    pub app: Option<String>,
    pub env: Option<String>,
    /// RFC 3339 or `YYYY-MM-DD`.
    pub from: Option<String>,
    pub to: Option<String>,
    /// `day`, `week` or `month`.
    pub bucket: Option<String>,
    /// An IANA time zone.
    pub tz: Option<String>,
    /// `2021`, `2023` or `2024`.
    pub benchmark: Option<String>,
}

impl Client {
    fn account_call<'a>(&'a self, method: Method, rest: &[&'a str]) -> Call<'a> {
        let mut segments = vec![self.account()];
        segments.extend_from_slice(rest);
        Call::new(method, &segments)
    }

    /// ListApps, every page.
    pub fn apps(&self) -> Pages<AppListOut> {
        Pages::new(self.clone(), &[self.account(), "apps"], Vec::new())
    }

    /// GetApp.
    pub async fn get_app(&self, name: &str) -> Result<AppOut> {
        let call = self.account_call(Method::GET, &["apps", name]);
        Ok(self.call::<AppEnvelope>(call).await?.app)
    }

    /// CreateApp; an existing name is `AlreadyExists`.
    pub async fn create_app(&self, name: &str, app: &AppIn) -> Result<AppOut> {
        let call = self.account_call(Method::PUT, &["apps", name]).json(app);
        Ok(self.call::<AppEnvelope>(call).await?.app)
    }

    /// DeleteApp, with its events and envs.
    pub async fn delete_app(&self, name: &str) -> Result<()> {
        let call = self.account_call(Method::DELETE, &["apps", name]);
        self.send(call).await.map(drop)
    }

    /// ListEnvs: every env of the account, every page.
    pub fn envs(&self) -> Pages<EnvListOut> {
        Pages::new(self.clone(), &[self.account(), "envs"], Vec::new())
    }

    /// GetEnv.
    pub async fn get_env(&self, name: &str) -> Result<EnvOut> {
        let call = self.account_call(Method::GET, &["envs", name]);
        Ok(self.call::<EnvEnvelope>(call).await?.env)
    }

    /// DeleteEnv; its deploy events stay.
    pub async fn delete_env(&self, name: &str) -> Result<()> {
        let call = self.account_call(Method::DELETE, &["envs", name]);
        self.send(call).await.map(drop)
    }

    /// ListChanges: the account's changes in commit order, after change
    /// `after` (from the first when `None`).
    pub fn changes(&self, after: Option<i64>) -> Pages<ChangeListOut> {
        let query = after
            .map(|after| vec![("after", after.to_string())])
            .unwrap_or_default();
        Pages::new(self.clone(), &[self.account(), "changes"], query)
    }

    /// GetDora.
    pub async fn dora(&self, query: &DoraQuery) -> Result<DoraOut> {
        let call = self
            .account_call(Method::GET, &["dora"])
            .query("app", query.app.as_ref())
            .query("env", query.env.as_ref())
            .query("from", query.from.as_ref())
            .query("to", query.to.as_ref())
            .query("bucket", query.bucket.as_ref())
            .query("tz", query.tz.as_ref())
            .query("benchmark", query.benchmark.as_ref());
        Ok(self.call::<DoraEnvelope>(call).await?.dora)
    }

    /// ConfigureHook: a new secret (shown only in this answer); again, it
    /// rotates the secret.
    pub async fn configure_hook(&self, provider: &str, hook: &HookIn) -> Result<HookOut> {
        let call = self
            .account_call(Method::PUT, &["hooks", provider])
            .json(hook);
        Ok(self.call::<HookEnvelope>(call).await?.hook)
    }

    /// ListHooks, never a secret.
    pub async fn list_hooks(&self) -> Result<Vec<HookInfoOut>> {
        let call = self.account_call(Method::GET, &["hooks"]);
        Ok(self.call::<HookListOut>(call).await?.hooks)
    }

    /// DeleteHook.
    pub async fn delete_hook(&self, provider: &str) -> Result<()> {
        let call = self.account_call(Method::DELETE, &["hooks", provider]);
        self.send(call).await.map(drop)
    }

    /// ListMembers: the users who may act on the account, and their roles.
    pub async fn list_members(&self) -> Result<Vec<MemberOut>> {
        let call = self.account_call(Method::GET, &["members"]);
        Ok(self.call::<MemberListOut>(call).await?.members)
    }

    /// SetMember: lets a user act on the account with a role (`read`,
    /// `write` or `admin`; `write` when `None`), or changes its role.
    pub async fn set_member(&self, user: &str, role: Option<&str>) -> Result<MemberOut> {
        let body = MemberIn {
            role: role.map(str::to_owned),
        };
        let call = self
            .account_call(Method::PUT, &["members", user])
            .json(&body);
        Ok(self.call::<MemberEnvelope>(call).await?.member)
    }

    /// RemoveMember.
    pub async fn remove_member(&self, user: &str) -> Result<()> {
        let call = self.account_call(Method::DELETE, &["members", user]);
        self.send(call).await.map(drop)
    }

    /// Deliver: a provider's payload, as the provider would send it, with
    /// its event and signature headers. No token is sent: the signature is
    /// the authentication.
    pub async fn deliver(
        &self,
        provider: &str,
        headers: &[(&str, &str)],
        payload: Vec<u8>,
    ) -> Result<DeliveryOut> {
        let mut call = self.account_call(Method::POST, &["hooks", provider]);
        call.token = false;
        // GitLab's own Idempotency-Key names the delivery.
        call.keyed = false;
        call.body = Some(payload);
        call.headers = headers
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        self.call(call).await
    }
}
