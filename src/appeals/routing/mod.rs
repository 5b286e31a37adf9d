//! Configuration of who reviews what: queues and their routing rules, reviewers with their
//! authorities and capacity, and per-decision-type policies (filing window, four eyes).

pub mod repo;
pub mod service;

pub use service::{Policy, PolicyInput, QueueInput, QueueView, ReviewerInput, ReviewerView, RoutingError};
