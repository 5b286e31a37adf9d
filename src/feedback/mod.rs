//! Feedback to scoring engines: the gap-free pull feed over the outbox, and (in
//! `crate::webhooks`) push delivery of the same events.

pub mod feed;
pub mod labels;

pub use feed::{FeedCursor, FeedError, FeedPage};
