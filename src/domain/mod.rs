//! Pure domain types: no actix, no diesel. Input is parsed into these at the edge.

pub mod actor;
pub mod appeal;
pub mod audit_entry;
pub mod breach;
pub mod decision;
pub mod fields;
pub mod legal_clock;
pub mod review;
pub mod routing;
pub mod subject;
pub mod utc;
pub mod validation;

pub use actor::{Actor, Role};
pub use validation::FieldError;
