//! Decisions posted by scoring engines: ingestion (single and batched, idempotent on
//! engine + external id) and access-controlled reads.

pub mod model;
pub mod repo;
pub mod service;

pub use model::Decision;
pub use service::{BatchItemResult, DecisionError, Ingested};
