use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::decisions;
use crate::domain::decision::{DecisionStatus, Explanation, ModelRef, ValidDecision};

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = decisions, treat_none_as_null = true)]
pub struct DecisionRow {
    pub id: String,
    pub engine_id: String,
    pub external_id: String,
    pub subject_id: String,
    pub decision_type: String,
    pub outcome: String,
    pub score: Option<f64>,
    pub threshold: Option<f64>,
    pub model_name: String,
    pub model_version: String,
    pub significant_effect: bool,
    pub decided_at: NaiveDateTime,
    pub explanation: String,
    pub payload_hash: String,
    pub status: String,
    pub effective_outcome: String,
    pub received_at: NaiveDateTime,
}

impl DecisionRow {
    pub fn new(engine_id: &str, decision: &ValidDecision, received_at: NaiveDateTime) -> Self {
        Self {
            id: uuid::Uuid::now_v7().to_string(),
            engine_id: engine_id.to_owned(),
            external_id: decision.external_id.clone(),
            subject_id: decision.subject_id.clone(),
            decision_type: decision.decision_type.clone(),
            outcome: decision.outcome.clone(),
            score: decision.score,
            threshold: decision.threshold,
            model_name: decision.model.name.clone(),
            model_version: decision.model.version.clone(),
            significant_effect: decision.significant_effect,
            decided_at: decision.decided_at.naive_utc(),
            explanation: serde_json::to_string(&decision.explanation).unwrap_or_default(),
            payload_hash: decision.fingerprint(),
            status: DecisionStatus::Effective.as_str().to_owned(),
            effective_outcome: decision.outcome.clone(),
            received_at,
        }
    }
}

/// A decision as the API returns it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Decision {
    pub id: String,
    pub engine_id: String,
    pub external_id: String,
    pub subject_id: String,
    pub decision_type: String,
    pub outcome: String,
    /// The outcome in force now, after any appeal.
    pub effective_outcome: String,
    pub status: DecisionStatus,
    pub score: Option<f64>,
    pub threshold: Option<f64>,
    pub model: ModelRef,
    pub significant_effect: bool,
    pub decided_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub explanation: Explanation,
    /// The subject's processing is restricted (GDPR Art. 18): the decision is stored only, and
    /// the engine must not act on it until the restriction is lifted.
    pub processing_restricted: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("stored decision {id} is corrupt: {reason}")]
pub struct CorruptRow {
    pub id: String,
    pub reason: String,
}

impl TryFrom<DecisionRow> for Decision {
    type Error = CorruptRow;

    fn try_from(r: DecisionRow) -> Result<Self, CorruptRow> {
        let explanation = serde_json::from_str(&r.explanation).map_err(|e| CorruptRow {
            id: r.id.clone(),
            reason: format!("explanation: {e}"),
        })?;
        let status = DecisionStatus::parse(&r.status).ok_or_else(|| CorruptRow {
            id: r.id.clone(),
            reason: format!("unknown status {:?}", r.status),
        })?;
        Ok(Self {
            id: r.id,
            engine_id: r.engine_id,
            external_id: r.external_id,
            subject_id: r.subject_id,
            decision_type: r.decision_type,
            outcome: r.outcome,
            effective_outcome: r.effective_outcome,
            status,
            score: r.score,
            threshold: r.threshold,
            model: ModelRef {
                name: r.model_name,
                version: r.model_version,
            },
            significant_effect: r.significant_effect,
            processing_restricted: false,
            decided_at: r.decided_at.and_utc(),
            received_at: r.received_at.and_utc(),
            explanation,
        })
    }
}
