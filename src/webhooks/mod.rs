//! Signed webhook delivery of outbox events to each engine's registered endpoints.
//!
//! Deliveries are created in the transaction that writes the event (`outbox::enqueue`), one per
//! active endpoint, and sent by a worker inside every `recourse serve` (`worker::run`).

pub mod error;
pub mod repo;
pub mod service;
pub mod signing;
pub mod ssrf;
pub mod worker;

pub use error::WebhookError;
