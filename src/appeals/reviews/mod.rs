//! Reviews: a reviewer's outcome for a leased appeal, the four-eyes approval of high-impact
//! changes, and what follows from a final outcome (decision status, notice, engine events).

pub mod model;
pub mod repo;
pub mod service;
