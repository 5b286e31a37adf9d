//! Reports over the whole appeal workflow, read-only: the supervisor dashboard (queue depth, the
//! SLA burn-down of open appeals, approvals waiting for a second person, how often human review
//! changes each model version's decisions), the reviewer report and the transparency report.
//! Their queries are in `repo`; the screens that show them stay free of SQL.

pub mod repo;
pub mod reviewers;
pub mod service;
pub mod transparency;

pub use service::{Dashboard, ModelRate, OpenAppeal, PendingApproval, SlaBuckets, SupervisorAppeal};
