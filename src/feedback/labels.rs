//! Label export for retraining: one JSON line per decision a human reviewed, with the inputs
//! as the reviewer found them (rectified values applied), the model's outcome and the human one.
//!
//! Rows are read in keyset pages on `(reviews.resolved_at, reviews.id)`, so the export streams
//! in constant memory however large it is. Erased subjects' decisions are left out (their
//! inputs are gone anyway); restriction and objection are not recorded yet (issue 7), and their
//! filter belongs in `page` too when they are.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;

use crate::db::schema::{decisions, reviews};
use crate::db::{Db, DbConnection, DbError};
use crate::decisions::model::DecisionRow;

pub const CHUNK: i64 = 500;

#[derive(Debug, Clone)]
pub struct LabelQuery {
    pub model: Option<String>,
    pub since: Option<NaiveDateTime>,
    /// Only this engine's decisions.
    pub engine: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ModelRef {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Serialize)]
pub struct Label {
    pub decision_id: String,
    pub engine_id: String,
    pub external_id: String,
    pub model: ModelRef,
    pub decision_type: String,
    pub decided_at: DateTime<Utc>,
    pub inputs: BTreeMap<String, Value>,
    /// Which inputs the reviewer corrected.
    pub rectified: Vec<String>,
    pub original_outcome: String,
    pub human_outcome: String,
    /// uphold, overturn or amend.
    pub review_outcome: String,
    /// The reviewer's rationale.
    pub reason: String,
    pub reviewed_at: DateTime<Utc>,
}

/// Keyset position: a review's `(resolved_at, id)`.
pub type LabelKey = (NaiveDateTime, String);

type Joined = (
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<NaiveDateTime>,
    DecisionRow,
);

/// The next page after `after` (the previous page's last `(resolved_at, review id)`).
pub fn page(
    conn: &mut DbConnection,
    q: &LabelQuery,
    after: Option<&(NaiveDateTime, String)>,
    limit: i64,
) -> Result<Vec<(Label, LabelKey)>, DbError> {
    let mut query = reviews::table
        .inner_join(decisions::table.on(decisions::id.eq(reviews::decision_id)))
        .filter(reviews::status.eq_any(crate::appeals::reviews::model::status::EFFECTIVE))
        .filter(reviews::resolved_at.is_not_null())
        .filter(decisions::payload_hash.ne(crate::domain::subject::ERASED_FINGERPRINT))
        // Kept under a legal hold after an erasure request: kept for that obligation, not reused
        // for training (GDPR Art. 17(3)(b)).
        .filter(diesel::dsl::not(diesel::dsl::exists(
            crate::db::schema::legal_holds::table.filter(crate::db::schema::legal_holds::decision_id.eq(decisions::id)),
        )))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            crate::db::schema::subject_objections::table
                .filter(crate::db::schema::subject_objections::subject_id.eq(decisions::subject_id))
                .filter(crate::db::schema::subject_objections::compelling_grounds.is_null()),
        )))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            crate::db::schema::subject_restrictions::table
                .filter(crate::db::schema::subject_restrictions::subject_id.eq(decisions::subject_id)),
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
    rows.into_iter()
        .map(
            |(review_id, outcome, new_outcome, rationale, rectified, resolved_at, d)| {
                let resolved_at = resolved_at.unwrap_or(d.received_at);
                let corrupt =
                    |e: serde_json::Error| DbError::Query(diesel::result::Error::DeserializationError(Box::new(e)));
                let explanation: Value = serde_json::from_str(&d.explanation).map_err(corrupt)?;
                let mut inputs: BTreeMap<String, Value> =
                    serde_json::from_value(explanation["inputs"].clone()).map_err(corrupt)?;
                let rectified: BTreeMap<String, Value> = match rectified {
                    Some(text) => serde_json::from_str(&text).map_err(corrupt)?,
                    None => BTreeMap::new(),
                };
                let rectified_keys = rectified.keys().cloned().collect();
                inputs.extend(rectified);
                let human_outcome = new_outcome.unwrap_or_else(|| d.outcome.clone());
                Ok((
                    Label {
                        decision_id: d.id,
                        engine_id: d.engine_id,
                        external_id: d.external_id,
                        model: ModelRef {
                            name: d.model_name,
                            version: d.model_version,
                        },
                        decision_type: d.decision_type,
                        decided_at: d.decided_at.and_utc(),
                        inputs,
                        rectified: rectified_keys,
                        original_outcome: d.outcome,
                        human_outcome,
                        review_outcome: outcome,
                        reason: rationale,
                        reviewed_at: resolved_at.and_utc(),
                    },
                    (resolved_at, review_id),
                ))
            },
        )
        .collect()
}

/// One chunk of JSON lines, and where the next starts (`None` when this was the last).
pub async fn chunk(
    db: &Db,
    q: LabelQuery,
    after: Option<(NaiveDateTime, String)>,
) -> Result<(String, Option<(NaiveDateTime, String)>), DbError> {
    db.run(move |conn| {
        let rows = page(conn, &q, after.as_ref(), CHUNK)?;
        let full = rows.len() as i64 == CHUNK;
        let mut out = String::new();
        let mut last = None;
        for (label, key) in rows {
            out.push_str(
                &serde_json::to_string(&label)
                    .map_err(|e| DbError::Query(diesel::result::Error::SerializationError(Box::new(e))))?,
            );
            out.push('\n');
            last = Some(key);
        }
        Ok((out, if full { last } else { None }))
    })
    .await
}
