//! Label export for retraining: one JSON line per decision a human reviewed, with the inputs
//! as the reviewer found them (rectified values applied), the model's outcome and the human one.
//!
//! Rows are read in keyset pages on `(reviews.resolved_at, reviews.id)`, so the export streams
//! in constant memory however large it is. Which decisions may not be used for training
//! (erased, held, objected to, restricted) is decided with the query, in
//! `repo::reviewed_for_training`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use futures_util::Stream;
use serde::Serialize;
use serde_json::Value;

use super::repo::{self, LabelKey, LabelQuery, ReviewedDecision};
use crate::db::{Db, DbError};
use crate::domain::{Actor, Role};

pub const CHUNK: i64 = 500;

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

impl Label {
    /// The label of one review: the inputs as the reviewer found them (rectified values
    /// applied), the model's outcome and the human one.
    fn of(r: ReviewedDecision) -> Result<Self, DbError> {
        let corrupt = |e: serde_json::Error| DbError::Query(diesel::result::Error::DeserializationError(Box::new(e)));
        let d = r.decision;
        let explanation: Value = serde_json::from_str(&d.explanation).map_err(corrupt)?;
        let mut inputs: BTreeMap<String, Value> =
            serde_json::from_value(explanation["inputs"].clone()).map_err(corrupt)?;
        let rectified: BTreeMap<String, Value> = match r.rectified_inputs {
            Some(text) => serde_json::from_str(&text).map_err(corrupt)?,
            None => BTreeMap::new(),
        };
        let rectified_keys = rectified.keys().cloned().collect();
        inputs.extend(rectified);
        let human_outcome = r.new_outcome.unwrap_or_else(|| d.outcome.clone());
        Ok(Self {
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
            review_outcome: r.outcome,
            reason: r.rationale,
            reviewed_at: r.resolved_at.and_utc(),
        })
    }
}

/// One chunk of JSON lines, and where the next starts (`None` when this was the last).
async fn chunk(db: &Db, q: LabelQuery, after: Option<LabelKey>) -> Result<(String, Option<LabelKey>), DbError> {
    db.run(move |conn| {
        let rows = repo::reviewed_for_training(conn, &q, after.as_ref(), CHUNK)?;
        let full = rows.len() as i64 == CHUNK;
        let mut out = String::new();
        let mut last = None;
        for row in rows {
            let key = row.key();
            out.push_str(
                &serde_json::to_string(&Label::of(row)?)
                    .map_err(|e| DbError::Query(diesel::result::Error::SerializationError(Box::new(e))))?,
            );
            out.push('\n');
            last = Some(key);
        }
        Ok((out, if full { last } else { None }))
    })
    .await
}

/// Every label `actor` may export, as chunks of JSON lines: an engine gets its own decisions
/// only. Each chunk is read when the stream asks for it, so the export runs in constant memory.
pub fn export(
    db: Db,
    actor: &Actor,
    model: Option<String>,
    since: Option<DateTime<Utc>>,
) -> impl Stream<Item = Result<String, DbError>> + 'static {
    let q = LabelQuery {
        model,
        since: since.map(|t| t.naive_utc()),
        engine: actor.is(Role::Engine).then(|| actor.id.clone()),
    };
    // State: Some(cursor) while there may be more; None once the last chunk went out.
    futures_util::stream::unfold(Some(None), move |state| {
        let db = db.clone();
        let q = q.clone();
        async move {
            let after = state?;
            match chunk(&db, q, after).await {
                Ok((text, next)) if text.is_empty() && next.is_none() => None,
                Ok((text, next)) => Some((Ok(text), next.map(Some))),
                Err(e) => Some((Err(e), None)),
            }
        }
    })
}
