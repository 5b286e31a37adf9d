use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::AppealError;
use crate::db::schema::appeals;
use crate::domain::Role;
use crate::domain::appeal::{AppealStatus, Channel, Evidence, Ground, IdentityCheck};
use crate::notices::Notice;

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = appeals, treat_none_as_null = true)]
pub struct AppealRow {
    pub id: String,
    pub decision_id: String,
    pub subject_id: String,
    pub decision_type: String,
    pub status: String,
    pub queue: String,
    pub priority: i32,
    pub escalation_level: i32,
    pub escalate_at: Option<NaiveDateTime>,
    pub filed_by: String,
    pub filed_by_role: String,
    pub channel: String,
    pub identity_check: Option<String>,
    pub grounds: String,
    pub statement: String,
    pub corrected_inputs: Option<String>,
    pub requested_outcome: Option<String>,
    pub evidence: Option<String>,
    pub received_at: NaiveDateTime,
    pub due_at: NaiveDateTime,
    pub extension_reason: Option<String>,
    pub assigned_to: Option<String>,
    pub assignment_reason: Option<String>,
    pub reviewer_id: Option<String>,
    pub lease_token: Option<String>,
    pub lease_expires_at: Option<NaiveDateTime>,
    pub claimed_at: Option<NaiveDateTime>,
    pub decided_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

impl AppealRow {
    pub fn status(&self) -> Result<AppealStatus, AppealError> {
        AppealStatus::parse(&self.status)
            .ok_or_else(|| AppealError::Corrupt(format!("appeal {} has status {:?}", self.id, self.status)))
    }
}

/// Changes to an appeal row. `None` leaves a column alone; `Some(None)` clears it.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = appeals)]
pub struct AppealUpdate {
    pub status: Option<String>,
    pub queue: Option<String>,
    pub priority: Option<i32>,
    pub escalation_level: Option<i32>,
    pub escalate_at: Option<Option<NaiveDateTime>>,
    pub due_at: Option<NaiveDateTime>,
    pub extension_reason: Option<Option<String>>,
    pub assigned_to: Option<Option<String>>,
    pub assignment_reason: Option<Option<String>>,
    pub reviewer_id: Option<Option<String>>,
    pub lease_token: Option<Option<String>>,
    pub lease_expires_at: Option<Option<NaiveDateTime>>,
    pub claimed_at: Option<Option<NaiveDateTime>>,
    pub decided_at: Option<Option<NaiveDateTime>>,
    pub updated_at: Option<NaiveDateTime>,
}

impl AppealUpdate {
    /// Moves to `status` and gives up any lease.
    pub fn to_status_unleased(status: AppealStatus, now: NaiveDateTime) -> Self {
        Self {
            status: Some(status.as_str().to_owned()),
            reviewer_id: Some(None),
            lease_token: Some(None),
            lease_expires_at: Some(None),
            claimed_at: Some(None),
            updated_at: Some(now),
            ..Default::default()
        }
    }
}

/// Who filed an appeal and what they said: what a subject's own appeal writes over a review task
/// the system filed for the same decision, when it is folded into that task.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = appeals, treat_none_as_null = true)]
pub struct Filing {
    pub filed_by: String,
    pub filed_by_role: String,
    pub channel: String,
    pub identity_check: Option<String>,
    pub grounds: String,
    pub statement: String,
    pub corrected_inputs: Option<String>,
    pub requested_outcome: Option<String>,
    pub evidence: Option<String>,
    pub received_at: NaiveDateTime,
    pub due_at: NaiveDateTime,
    pub escalate_at: Option<NaiveDateTime>,
}

impl Filing {
    pub fn of(row: &AppealRow) -> Self {
        Self {
            filed_by: row.filed_by.clone(),
            filed_by_role: row.filed_by_role.clone(),
            channel: row.channel.clone(),
            identity_check: row.identity_check.clone(),
            grounds: row.grounds.clone(),
            statement: row.statement.clone(),
            corrected_inputs: row.corrected_inputs.clone(),
            requested_outcome: row.requested_outcome.clone(),
            evidence: row.evidence.clone(),
            received_at: row.received_at,
            due_at: row.due_at,
            escalate_at: row.escalate_at,
        }
    }
}

/// An appeal as the API shows it. The lease token is never part of it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AppealView {
    pub id: String,
    pub decision_id: String,
    pub status: AppealStatus,
    pub queue: String,
    pub priority: i32,
    pub escalation_level: i32,
    pub grounds: Vec<Ground>,
    pub statement: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corrected_inputs: Option<BTreeMap<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested_outcome: Option<String>,
    pub evidence: Vec<Evidence>,
    pub channel: Channel,
    pub filed_by_role: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filed_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_check: Option<IdentityCheck>,
    pub received_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub extended: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extension_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reviewer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assigned_to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease_expires_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<DateTime<Utc>>,
}

/// An appeal with its notices and, once reviewed, the outcome.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AppealDetail {
    #[serde(flatten)]
    pub appeal: AppealView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<OutcomeView>,
    /// The review waiting for a second person's approval, shown to staff so that the approver
    /// sees what they approve.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_review: Option<crate::appeals::reviews::model::ReviewView>,
    pub notices: Vec<Notice>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OutcomeView {
    pub result: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_outcome: Option<String>,
    pub rationale: String,
    pub decided_at: DateTime<Utc>,
}

fn parse_json<T: serde::de::DeserializeOwned>(id: &str, field: &str, raw: &str) -> Result<T, AppealError> {
    serde_json::from_str(raw).map_err(|e| AppealError::Corrupt(format!("appeal {id} {field}: {e}")))
}

fn parse_opt<T: serde::de::DeserializeOwned>(
    id: &str,
    field: &str,
    raw: &Option<String>,
) -> Result<Option<T>, AppealError> {
    raw.as_deref().map(|r| parse_json(id, field, r)).transpose()
}

impl AppealView {
    /// Builds the view for `viewer`: subjects do not see staff identities.
    pub fn from_row(r: &AppealRow, viewer: Role) -> Result<Self, AppealError> {
        let staff = viewer != Role::Subject;
        let channel: Channel = parse_json(&r.id, "channel", &format!("\"{}\"", r.channel))?;
        Ok(Self {
            id: r.id.clone(),
            decision_id: r.decision_id.clone(),
            status: r.status()?,
            queue: r.queue.clone(),
            priority: r.priority,
            escalation_level: r.escalation_level,
            grounds: parse_json(&r.id, "grounds", &r.grounds)?,
            statement: r.statement.clone(),
            corrected_inputs: parse_opt(&r.id, "corrected_inputs", &r.corrected_inputs)?,
            requested_outcome: r.requested_outcome.clone(),
            evidence: parse_opt(&r.id, "evidence", &r.evidence)?.unwrap_or_default(),
            channel,
            filed_by_role: r.filed_by_role.clone(),
            filed_by: staff.then(|| r.filed_by.clone()),
            // Staff identities stay internal: a subject does not see which agent checked them.
            identity_check: if staff {
                parse_opt(&r.id, "identity_check", &r.identity_check)?
            } else {
                None
            },
            received_at: r.received_at.and_utc(),
            due_at: r.due_at.and_utc(),
            extended: r.extension_reason.is_some(),
            extension_reason: r.extension_reason.clone(),
            reviewer_id: r.reviewer_id.clone().filter(|_| staff),
            assigned_to: r.assigned_to.clone().filter(|_| staff),
            lease_expires_at: r.lease_expires_at.filter(|_| staff).map(|t| t.and_utc()),
            decided_at: r.decided_at.map(|t| t.and_utc()),
        })
    }
}
