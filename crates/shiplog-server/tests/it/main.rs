//! HTTP tests through the real router, on a real server bound to port 0.

mod helpers;
mod instances;
mod support;
mod webdriver;

mod apps_envs;
mod browser;
mod builds;
mod cli;
mod compat;
mod concurrency;
mod crash;
mod deploys;
mod dora;
mod errors;
mod events;
mod filters;
mod history;
mod hook_fixtures;
mod hooks;
mod hostile;
mod idempotency;
mod isolation;
mod logging;
mod models;
mod openapi;
mod operability;
mod pagination;
mod persistence;
mod process;
mod proptests;
mod scale_out;
mod ui;
