//! The pull feed: `GET /v1/feedback?after=<cursor>` gives an engine its own outbox events, in
//! order, resumable, with no gaps.
//!
//! # Why a plain `seq > cursor` is not enough
//! `outbox.seq` is assigned when the row is inserted, but transactions commit in any order.
//! If transaction A inserts seq 7 and transaction B inserts seq 8 and commits first, a reader
//! that sees 8 and advances its cursor to 8 would never see 7 once A commits.
//!
//! # The design
//! A reader only serves rows that can no longer be joined by an earlier-ordered row:
//!
//! * **PostgreSQL.** Each outbox row carries the id of the transaction that wrote it
//!   (`txid xid8 DEFAULT pg_current_xact_id()`, Postgres only). The feed is ordered by
//!   `(txid, seq)` and only serves rows with `txid < pg_snapshot_xmin(pg_current_snapshot())`:
//!   every transaction below the snapshot's xmin has finished (committed or rolled back), and any
//!   transaction that has not yet written will get a txid at or above it. So the set of rows
//!   below the horizon is final; a cursor `(txid, seq)` inside it can never be overtaken by a
//!   late commit. A long-running writer delays the feed (rows above it wait), it never loses
//!   events. Ordering by writer transaction rather than commit keeps every transaction's events
//!   together and in insertion order.
//! * **SQLite.** There is one writer at a time (`BEGIN IMMEDIATE`, and SQLite's write lock for
//!   any other write), so `seq` is assigned and committed in the same order: `seq > cursor` is
//!   already gap-free. The cursor's txid part is always 0.
//!
//! The alternative, a commit-ordered counter row updated under lock by every writer, would put
//! every outbox write in the system behind one row lock (the same objection DESIGN.md makes to
//! chaining audit entries at write time).

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use serde_json::value::RawValue;

use super::repo;
use crate::db::{Db, DbError};

pub const DEFAULT_LIMIT: i64 = 100;
pub const MAX_LIMIT: i64 = 1_000;

/// A position in an engine's feed: after the event written by transaction `txid` at `seq`.
/// Rendered as `"{txid}-{seq}"`; clients treat it as opaque.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct FeedCursor {
    pub txid: u64,
    pub seq: i64,
}

impl fmt::Display for FeedCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.txid, self.seq)
    }
}

impl FromStr for FeedCursor {
    type Err = FeedError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (txid, seq) = s.split_once('-').ok_or(FeedError::BadCursor)?;
        let txid = txid.parse().map_err(|_| FeedError::BadCursor)?;
        let seq = seq.parse().map_err(|_| FeedError::BadCursor)?;
        if seq < 0 {
            return Err(FeedError::BadCursor);
        }
        Ok(Self { txid, seq })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("the cursor is not one this feed returned")]
    BadCursor,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// One page of events, each the versioned envelope exactly as webhooks carry it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FeedPage {
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Box<RawValue>>,
    /// Where to resume: the last item's cursor, or the request's own cursor when the page is
    /// empty, so a poller can always pass it back.
    pub next_cursor: String,
    /// Whether more events were ready when this page was read.
    pub has_more: bool,
}

/// An event about a restricted subject keeps its place in the feed (so the cursor stays
/// gap-free) but carries no data (GDPR Art. 18); a `subject.restriction_lifted` event follows
/// the lift, with the decisions to fetch again.
fn restricted_payload(payload: &str) -> String {
    let mut envelope: serde_json::Value = serde_json::from_str(payload).unwrap_or_default();
    envelope["data"] = serde_json::json!({"restricted": true});
    envelope.to_string()
}

/// The engine's next page.
#[tracing::instrument(skip_all, fields(engine_id = %engine_id))]
pub async fn page(
    db: &Db,
    engine_id: String,
    after: Option<String>,
    limit: Option<i64>,
) -> Result<FeedPage, FeedError> {
    let after = after
        .as_deref()
        .map(FeedCursor::from_str)
        .transpose()?
        .unwrap_or_default();
    let limit = limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let events = db
        .run(move |conn| repo::events_after(conn, &engine_id, after.txid, after.seq, limit + 1))
        .await?;
    let has_more = events.len() as i64 > limit;
    let mut next = after;
    let mut items = Vec::with_capacity(events.len().min(limit as usize));
    for event in events.into_iter().take(limit as usize) {
        let payload = if event.restricted {
            restricted_payload(&event.payload)
        } else {
            event.payload
        };
        let raw = RawValue::from_string(payload)
            .map_err(|e| DbError::Query(diesel::result::Error::DeserializationError(Box::new(e))))?;
        items.push(raw);
        next = FeedCursor {
            txid: event.txid,
            seq: event.seq,
        };
    }
    Ok(FeedPage {
        items,
        next_cursor: next.to_string(),
        has_more,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_junk() {
        let c = FeedCursor { txid: 812, seq: 99 };
        assert_eq!(c.to_string().parse::<FeedCursor>().unwrap(), c);
        assert_eq!("0-0".parse::<FeedCursor>().unwrap(), FeedCursor::default());
        for bad in ["", "12", "a-1", "1-b", "1--2", "-1-2"] {
            assert!(bad.parse::<FeedCursor>().is_err(), "{bad}");
        }
    }
}
