//! The write path's transaction interface on SQLite: each call runs at
//! once on the writer thread's connection, so its future is ready at its
//! first poll (see `shiplog_store::write::run_ready`).

use async_trait::async_trait;
use rusqlite::Connection;
use shiplog_domain::{Actor, Event, EventFields, EventType, NewChange, Timestamp};
use shiplog_store::columns::AppRow;
use shiplog_store::write::{Counter, WriteTx};
use shiplog_store::{Account, Result};

use super::{apps, events};

/// The writer's connection, inside its open transaction. Held by `&mut`
/// (which is `Send`), since a connection may move between threads but not
/// be shared by them.
pub struct SqliteTx<'c>(pub &'c mut Connection);

#[async_trait]
impl WriteTx for SqliteTx<'_> {
    async fn find_app(&mut self, account: &Account, name: &str) -> Result<AppRow> {
        apps::find_app(self.0, account, name)
    }

    async fn load_event(&mut self, app: &AppRow, event_id: i64) -> Result<Option<Event>> {
        events::load(self.0, app, event_id)
    }

    async fn find_release(&mut self, app: &AppRow, version: &str) -> Result<Option<Event>> {
        events::find_release(self.0, app, version)
    }

    async fn env_app_id(&mut self, account_id: i64, env: &str) -> Result<Option<i64>> {
        apps::env_app_id(self.0, account_id, env)
    }

    async fn create_env(&mut self, account_id: i64, app: &AppRow, env: &str) -> Result<()> {
        apps::insert_env(self.0, account_id, app, env, &Default::default())
    }

    async fn bump_counter(&mut self, app: &AppRow, counter: Counter) -> Result<i64> {
        events::bump_counter(self.0, app, counter)
    }

    async fn insert_event(
        &mut self,
        app: &AppRow,
        event_type: EventType,
        event_time: Timestamp,
        fields: &EventFields,
    ) -> Result<i64> {
        events::insert(self.0, app, event_type, event_time, fields)
    }

    async fn update_unless_terminal(
        &mut self,
        event_id: i64,
        event_type: EventType,
        next: &EventFields,
    ) -> Result<bool> {
        events::update_unless_terminal(self.0, event_id, event_type, next)
    }

    async fn insert_change(
        &mut self,
        account_id: i64,
        app: &AppRow,
        actor: &Actor,
        change: &NewChange,
    ) -> Result<i64> {
        events::insert_change(self.0, account_id, app, actor, change)
    }
}
