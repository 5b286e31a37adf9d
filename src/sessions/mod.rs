//! Browser sessions of the web UI. A session is opened from a verified bearer token (pasted into
//! the login form) or by exchanging a one-time login link, and lives server-side: the cookie
//! carries a random value whose SHA-256 names the row, and logout deletes the row. Every session
//! has its own CSRF token, which every form must echo.

pub mod repo;
pub mod service;

pub use service::{SessionError, Started, WebSession};
