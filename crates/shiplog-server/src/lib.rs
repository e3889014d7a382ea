//! shiplog's HTTP server: configuration, router, handlers and start-up.
//!
//! Handlers are thin: extract and authorise, parse into domain types, call
//! one store method, answer with the wire shape. Errors of every layer meet
//! in [`error::ApiError`], the one place they become HTTP.

pub mod access;
pub mod admin;
pub mod cli;
pub mod client_cli;
pub mod database;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod middleware;
pub mod moving;
pub mod openapi;
pub mod outbound;
pub mod pagination;
pub mod pruning;
pub mod routes;
pub mod startup;
pub mod state;
pub mod ui;
