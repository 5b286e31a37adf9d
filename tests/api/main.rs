//! One integration binary: every test spawns the real server on 127.0.0.1:0 with a fresh
//! database (SQLite by default; Postgres when TEST_DATABASE_URL is set).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod appeals;
mod audit;
mod auth;
mod decisions;
mod docs;
mod engines;
mod errors;
mod feedback;
mod health;
mod helpers;
mod instances;
mod models;
mod openapi;
mod queue;
mod reports;
mod stats;
mod subjects;
mod ui;
mod webhooks;
