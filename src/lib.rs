//! Recourse: a service that lets people contest automated decisions and get a human review.

pub mod api;
pub mod appeals;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod decisions;
pub mod demo;
pub mod domain;
pub mod engines;
pub mod error;
pub mod feedback;
pub mod idempotency;
pub mod models;
pub mod notices;
pub mod outbox;
pub mod queue;
pub mod reviews;
pub mod routing;
pub mod startup;
pub mod telemetry;
pub mod webhooks;
