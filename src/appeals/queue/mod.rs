//! The routing queue: reviewers claim the next eligible appeal as a lease with a fencing token,
//! renew or release it, and a sweeper returns expired leases and escalates near deadlines.

pub mod repo;
pub mod service;
pub mod sweeper;
