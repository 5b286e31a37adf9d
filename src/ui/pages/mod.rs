//! Page building: each function turns what a service returned (and what was typed into a form)
//! into HTML, and nothing else. No page reads a request or calls a service.

pub mod agent;
pub mod appeal_form;
pub mod charts;
pub mod decision;
pub mod decision_file;
pub mod error;
pub mod fields;
pub mod format;
pub mod portal;
pub mod reviewer;
pub mod shell;
pub mod sign_in;
pub mod supervisor;
