//! One integration binary: every test spawns the real server on 127.0.0.1:0 with a fresh
//! database (SQLite by default; Postgres when TEST_DATABASE_URL is set).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod appeals;
mod audit;
mod auth;
mod auth_suite;
mod authz_matrix;
mod breaches;
mod calendar;
mod crash;
mod decisions;
mod docs;
mod engines;
mod erasure_events;
mod errors;
mod feedback;
mod health;
mod helpers;
mod hostile_text;
mod instances;
mod legal;
mod limits;
mod maintenance;
mod mass_assignment;
mod models;
mod openapi;
mod outage;
mod queue;
mod reports;
mod routes;
mod shutdown;
mod stats;
mod subjects;
mod timeouts;
mod ui;
mod webhooks;
