//! The appeal workflow's queries, by what they read and write. Every function takes the caller's
//! connection (inside its write transaction when it writes) and returns rows, views or counts;
//! the rules live in the workflow's steps.

pub mod appeals;
pub mod casework;
pub mod queue;
pub mod reviews;
pub mod routing;
