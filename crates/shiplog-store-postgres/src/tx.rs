//! The write path's transaction interface on PostgreSQL: the writer task's
//! connection, inside the batch's transaction.

use async_trait::async_trait;
use shiplog_domain::{Actor, Event, EventFields, EventType, NewChange, Timestamp};
use shiplog_store::columns::AppRow;
use shiplog_store::write::{Counter, WriteTx};
use shiplog_store::{Account, Result};
use sqlx::PgConnection;

use super::{apps, events};

pub struct PgTx<'c>(pub &'c mut PgConnection);

#[async_trait]
impl WriteTx for PgTx<'_> {
    async fn find_app(&mut self, account: &Account, name: &str) -> Result<AppRow> {
        apps::find_app(self.0, account, name).await
    }

    async fn load_event(&mut self, app: &AppRow, event_id: i64) -> Result<Option<Event>> {
        events::load(self.0, app, event_id).await
    }

    async fn find_release(&mut self, app: &AppRow, version: &str) -> Result<Option<Event>> {
        events::find_release(self.0, app, version).await
    }

    async fn env_app_id(&mut self, account_id: i64, env: &str) -> Result<Option<i64>> {
        apps::env_app_id(self.0, account_id, env).await
    }

    async fn create_env(&mut self, account_id: i64, app: &AppRow, env: &str) -> Result<()> {
        apps::insert_env(self.0, account_id, app, env, &Default::default()).await
    }

    async fn bump_counter(&mut self, app: &AppRow, counter: Counter) -> Result<i64> {
        events::bump_counter(self.0, app, counter).await
    }

    async fn insert_event(
        &mut self,
        app: &AppRow,
        event_type: EventType,
        event_time: Timestamp,
        fields: &EventFields,
    ) -> Result<i64> {
        events::insert(self.0, app, event_type, event_time, fields).await
    }

    async fn update_unless_terminal(
        &mut self,
        event_id: i64,
        event_type: EventType,
        next: &EventFields,
    ) -> Result<bool> {
        events::update_unless_terminal(self.0, event_id, event_type, next).await
    }

    async fn insert_change(
        &mut self,
        account_id: i64,
        app: &AppRow,
        actor: &Actor,
        change: &NewChange,
    ) -> Result<i64> {
        events::insert_change(self.0, account_id, app, actor, change).await
    }
}
