//! Pure domain types: no actix, no diesel. Input is parsed into these at the edge.

pub mod actor;
pub mod decision;
pub mod validation;

pub use actor::{Actor, Role};
pub use validation::FieldError;
