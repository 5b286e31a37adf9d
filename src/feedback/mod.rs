//! Feedback to scoring engines: the gap-free pull feed over the outbox and the label export
//! for retraining. Push delivery of the same events is the webhooks module's.

pub mod feed;
pub mod labels;
pub mod repo;

pub use feed::{FeedCursor, FeedError, FeedPage};
