//! Scoring engines: the registered systems allowed to post decisions.

pub mod repo;
pub mod service;

pub use service::{Engine, EngineError, NewEngine};
