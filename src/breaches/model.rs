use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::{breach_steps, breaches};
use crate::domain::breach::{self, BreachStatus};

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = breaches)]
pub struct BreachRow {
    pub id: String,
    pub status: String,
    pub description: String,
    pub reported_by: String,
    pub reported_by_role: String,
    pub aware_at: NaiveDateTime,
    pub reported_at: NaiveDateTime,
    pub authority_notified_at: Option<NaiveDateTime>,
    pub authority_reference: Option<String>,
    pub delay_reason: Option<String>,
    pub subjects_notified: i64,
    pub updated_at: NaiveDateTime,
}

/// A stored breach whose status is not one the register knows.
#[derive(Debug, thiserror::Error)]
#[error("breach {id} status {status:?}")]
pub struct CorruptBreach {
    pub id: String,
    pub status: String,
}

impl BreachRow {
    pub fn status(&self) -> Result<BreachStatus, CorruptBreach> {
        BreachStatus::parse(&self.status).ok_or_else(|| CorruptBreach {
            id: self.id.clone(),
            status: self.status.clone(),
        })
    }
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = breach_steps)]
pub struct BreachStepRow {
    pub id: String,
    pub breach_id: String,
    pub from_status: String,
    pub to_status: String,
    pub note: String,
    pub actor: String,
    pub at: NaiveDateTime,
}

/// A breach as the register shows it, with its clock worked out at `now`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BreachView {
    pub id: String,
    pub status: BreachStatus,
    pub description: String,
    pub reported_by: String,
    pub reported_by_role: String,
    pub aware_at: DateTime<Utc>,
    pub reported_at: DateTime<Utc>,
    /// 72 hours after awareness (GDPR Art. 33(1)).
    pub notify_authority_by: DateTime<Utc>,
    /// The authority has not been told and the 72 hours have passed.
    pub overdue: bool,
    pub authority_notified_at: Option<DateTime<Utc>>,
    pub authority_reference: Option<String>,
    pub delay_reason: Option<String>,
    pub subjects_notified: i64,
    pub steps: Vec<StepView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StepView {
    pub from: String,
    pub to: String,
    pub note: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

impl BreachView {
    pub fn new(row: BreachRow, steps: Vec<BreachStepRow>, now: DateTime<Utc>) -> Result<Self, CorruptBreach> {
        let status = row.status()?;
        let aware_at = row.aware_at.and_utc();
        Ok(Self {
            status,
            notify_authority_by: breach::notify_by(aware_at),
            overdue: breach::is_overdue(status, aware_at, now),
            id: row.id,
            description: row.description,
            reported_by: row.reported_by,
            reported_by_role: row.reported_by_role,
            aware_at,
            reported_at: row.reported_at.and_utc(),
            authority_notified_at: row.authority_notified_at.map(|t| t.and_utc()),
            authority_reference: row.authority_reference,
            delay_reason: row.delay_reason,
            subjects_notified: row.subjects_notified,
            steps: steps
                .into_iter()
                .map(|s| StepView {
                    from: s.from_status,
                    to: s.to_status,
                    note: s.note,
                    by: s.actor,
                    at: s.at.and_utc(),
                })
                .collect(),
        })
    }
}
