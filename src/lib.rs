//! Recourse: a service that lets people contest automated decisions and get a human review.

pub mod api;
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
pub mod startup;
pub mod telemetry;
