//! The UI's handlers: each extracts (its audience's session, a form, the path), calls one use
//! case, and renders a page from `pages` or redirects.

pub mod agent;
pub mod decision_file;
pub mod portal;
pub mod reviewer;
pub mod sign_in;
pub mod supervisor;
