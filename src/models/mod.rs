//! Models as engines name them: the kill switch (AI Act Art. 26(5)) and, later, statistics.

pub mod repo;
pub mod service;
pub mod stats;

pub use service::{ModelError, Suspension};
