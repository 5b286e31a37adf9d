//! The bench's one error type. Any failure ends the run with its message, so nothing needs more
//! than the boxed error and its text.

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
