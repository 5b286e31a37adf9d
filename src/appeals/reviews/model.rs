use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::db::schema::reviews;

/// Where a review stands.
pub mod status {
    /// Decided without a second person.
    pub const FINAL: &str = "final";
    pub const PENDING_APPROVAL: &str = "pending_approval";
    pub const APPROVED: &str = "approved";
    pub const RETURNED: &str = "returned";
    /// Reviews whose outcome is in force.
    pub const EFFECTIVE: [&str; 2] = [FINAL, APPROVED];
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = reviews, treat_none_as_null = true)]
pub struct ReviewRow {
    pub id: String,
    pub appeal_id: String,
    pub decision_id: String,
    pub reviewer_id: String,
    pub outcome: String,
    pub new_outcome: Option<String>,
    pub rationale: String,
    pub factors_considered: String,
    pub rectified_inputs: Option<String>,
    pub status: String,
    pub approver_id: Option<String>,
    pub approval_note: Option<String>,
    pub seconds_spent: Option<i64>,
    pub created_at: NaiveDateTime,
    pub resolved_at: Option<NaiveDateTime>,
}

/// A review as shown in a case's history.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReviewView {
    pub id: String,
    pub appeal_id: String,
    pub reviewer_id: String,
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_outcome: Option<String>,
    pub rationale: String,
    pub factors_considered: Vec<String>,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approver_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<ReviewRow> for ReviewView {
    fn from(r: ReviewRow) -> Self {
        Self {
            factors_considered: serde_json::from_str(&r.factors_considered).unwrap_or_default(),
            id: r.id,
            appeal_id: r.appeal_id,
            reviewer_id: r.reviewer_id,
            outcome: r.outcome,
            new_outcome: r.new_outcome,
            rationale: r.rationale,
            status: r.status,
            approver_id: r.approver_id,
            created_at: r.created_at.and_utc(),
        }
    }
}
