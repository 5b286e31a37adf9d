//! Queries behind the feedback to engines: an engine's outbox events in feed order, and the
//! human-reviewed decisions that become training labels.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};

use crate::db::schema::{decisions, legal_holds, reviews, subject_objections, subject_restrictions};
use crate::db::{DbConnection, DbError, MultiBackend};
use crate::decisions::model::DecisionRow;
use crate::domain::subject::ERASED_FINGERPRINT;

/// One outbox event in an engine's feed.
pub struct FeedEvent {
    /// The writing transaction's id (PostgreSQL); always 0 on SQLite.
    pub txid: u64,
    pub seq: i64,
    /// The versioned envelope, as stored.
    pub payload: String,
    /// Whether the event is about a subject whose processing is restricted (GDPR Art. 18).
    pub restricted: bool,
}

#[derive(QueryableByName)]
struct FeedRow {
    #[diesel(sql_type = BigInt)]
    seq: i64,
    #[diesel(sql_type = Text)]
    txid: String,
    #[diesel(sql_type = Text)]
    payload: String,
    #[diesel(sql_type = Bool)]
    restricted: bool,
}

/// Up to `limit` of `engine_id`'s events after the position `(after_txid, after_seq)`, in feed
/// order, and only those no earlier-ordered event can still join: on PostgreSQL the rows whose
/// writing transaction is below the snapshot's xmin, ordered by `(txid, seq)`; on SQLite, whose
/// single writer commits in `seq` order, every row, ordered by `seq`.
pub fn events_after(
    conn: &mut DbConnection,
    engine_id: &str,
    after_txid: u64,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<FeedEvent>, DbError> {
    let rows: Vec<FeedRow> = match conn {
        DbConnection::Pg(_) => diesel::sql_query(
            "SELECT seq, txid::text AS txid, payload,
                    EXISTS (SELECT 1 FROM subject_restrictions x WHERE x.subject_id = outbox.subject_id) AS restricted
               FROM outbox
              WHERE engine_id = $1
                AND (txid, seq) > ($2::xid8, $3)
                AND txid < pg_snapshot_xmin(pg_current_snapshot())
              ORDER BY txid, seq
              LIMIT $4",
        )
        .into_boxed::<MultiBackend>()
        .bind::<Text, _>(engine_id.to_owned())
        .bind::<Text, _>(after_txid.to_string())
        .bind::<BigInt, _>(after_seq)
        .bind::<BigInt, _>(limit)
        .load(conn)?,
        DbConnection::Sqlite(_) => diesel::sql_query(
            "SELECT seq, '0' AS txid, payload,
                    EXISTS (SELECT 1 FROM subject_restrictions x WHERE x.subject_id = outbox.subject_id) AS restricted
               FROM outbox
              WHERE engine_id = ?1 AND seq > ?2
              ORDER BY seq
              LIMIT ?3",
        )
        .into_boxed::<MultiBackend>()
        .bind::<Text, _>(engine_id.to_owned())
        .bind::<BigInt, _>(after_seq)
        .bind::<BigInt, _>(limit)
        .load(conn)?,
    };
    rows.into_iter()
        .map(|r| {
            let txid = r
                .txid
                .parse()
                .map_err(|e| DbError::Query(diesel::result::Error::DeserializationError(Box::new(e))))?;
            Ok(FeedEvent {
                txid,
                seq: r.seq,
                payload: r.payload,
                restricted: r.restricted,
            })
        })
        .collect()
}

/// Which reviewed decisions a label export covers.
#[derive(Debug, Clone)]
pub struct LabelQuery {
    pub model: Option<String>,
    pub since: Option<NaiveDateTime>,
    /// Only this engine's decisions.
    pub engine: Option<String>,
}

/// Keyset position of a label: its review's `(resolved_at, id)`.
pub type LabelKey = (NaiveDateTime, String);

/// A review in force, with the decision it judged.
pub struct ReviewedDecision {
    pub review_id: String,
    /// uphold, overturn or amend.
    pub outcome: String,
    pub new_outcome: Option<String>,
    pub rationale: String,
    /// The reviewer's corrections to the inputs, a JSON object, if any.
    pub rectified_inputs: Option<String>,
    pub resolved_at: NaiveDateTime,
    pub decision: DecisionRow,
}

impl ReviewedDecision {
    pub fn key(&self) -> LabelKey {
        (self.resolved_at, self.review_id.clone())
    }
}

type Joined = (
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<NaiveDateTime>,
    DecisionRow,
);

/// The next `limit` reviews in force after `after`, oldest resolution first, that may be used
/// for training. Left out: erased subjects' decisions (their inputs are gone anyway), decisions
/// kept under a legal hold after an erasure request (kept for that obligation, not reused for
/// training, GDPR Art. 17(3)(b)), and subjects who objected (unless compelling grounds were
/// recorded) or whose processing is restricted.
pub fn reviewed_for_training(
    conn: &mut DbConnection,
    q: &LabelQuery,
    after: Option<&LabelKey>,
    limit: i64,
) -> Result<Vec<ReviewedDecision>, DbError> {
    let mut query = reviews::table
        .inner_join(decisions::table.on(decisions::id.eq(reviews::decision_id)))
        .filter(reviews::status.eq_any(crate::appeals::model::review_status::EFFECTIVE))
        .filter(reviews::resolved_at.is_not_null())
        .filter(decisions::payload_hash.ne(ERASED_FINGERPRINT))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            legal_holds::table.filter(legal_holds::decision_id.eq(decisions::id)),
        )))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            subject_objections::table
                .filter(subject_objections::subject_id.eq(decisions::subject_id))
                .filter(subject_objections::compelling_grounds.is_null()),
        )))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            subject_restrictions::table.filter(subject_restrictions::subject_id.eq(decisions::subject_id)),
        )))
        .select((
            reviews::id,
            reviews::outcome,
            reviews::new_outcome,
            reviews::rationale,
            reviews::rectified_inputs,
            reviews::resolved_at,
            decisions::all_columns,
        ))
        .order((reviews::resolved_at.asc(), reviews::id.asc()))
        .limit(limit)
        .into_boxed();
    if let Some(model) = &q.model {
        query = query.filter(decisions::model_name.eq(model.clone()));
    }
    if let Some(engine) = &q.engine {
        query = query.filter(decisions::engine_id.eq(engine.clone()));
    }
    if let Some(since) = q.since {
        query = query.filter(reviews::resolved_at.ge(since));
    }
    if let Some((at, id)) = after {
        query = query.filter(
            reviews::resolved_at
                .gt(*at)
                .or(reviews::resolved_at.eq(*at).and(reviews::id.gt(id.clone()))),
        );
    }
    let rows: Vec<Joined> = query.load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(review_id, outcome, new_outcome, rationale, rectified_inputs, resolved_at, decision)| ReviewedDecision {
                resolved_at: resolved_at.unwrap_or(decision.received_at),
                review_id,
                outcome,
                new_outcome,
                rationale,
                rectified_inputs,
                decision,
            },
        )
        .collect())
}
