//! The appeal workflow's rows and the views read from them: appeals, reviews, initial views and
//! the routing configuration (queues, rules, reviewers, policies). Each row type has one
//! constructor, so a row is filled in the same way wherever it is made. Views in the API
//! contract are described with `//` where a `///` would change the published OpenAPI document.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::db::schema::{appeals, decision_type_policies, initial_views, queues, reviewers, reviews, routing_rules};
use crate::decisions::model::DecisionRow;
use crate::domain::appeal::{AppealStatus, Channel, Evidence, Ground, IdentityCheck, ValidAppeal};
use crate::domain::legal_clock::{self, DEFAULT_FILING_WINDOW_MONTHS, LegalCalendar};
use crate::domain::review::{ReviewOutcome, ValidReview};
use crate::domain::routing::{RoutingRule, RuleInput, RuleMatch};
use crate::domain::{Actor, Role};

/// A stored appeal or review that no longer parses. Nothing about the request was wrong, so the
/// caller answers 500 and logs which row it was.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CorruptAppeal(pub String);

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
    /// A new appeal against `decision`, queued on `route` (queue and priority), received `now`:
    /// its legal clock runs to the calendar's due date, with the first escalation at half-time.
    /// Both a person's appeal and the review task the system files for a suspended model's
    /// decision are made here.
    pub fn queued(
        decision: &DecisionRow,
        filer: &Actor,
        appeal: &ValidAppeal,
        (queue, priority): (String, i32),
        calendar: &LegalCalendar,
        now: NaiveDateTime,
    ) -> Self {
        let received_at = now.and_utc();
        let due_at = calendar.due_at(received_at);
        Self {
            id: uuid::Uuid::now_v7().to_string(),
            decision_id: decision.id.clone(),
            subject_id: decision.subject_id.clone(),
            decision_type: decision.decision_type.clone(),
            status: AppealStatus::Queued.as_str().to_owned(),
            queue,
            priority,
            escalation_level: 0,
            escalate_at: legal_clock::next_escalation_at(received_at, due_at, 0).map(|t| t.naive_utc()),
            filed_by: filer.id.clone(),
            filed_by_role: filer.role.as_str().to_owned(),
            channel: appeal.channel.as_str().to_owned(),
            identity_check: appeal.identity_check.as_ref().map(to_json),
            grounds: to_json(&appeal.grounds),
            statement: appeal.statement.clone(),
            corrected_inputs: appeal.corrected_inputs.as_ref().map(to_json),
            requested_outcome: appeal.requested_outcome.clone(),
            evidence: (!appeal.evidence.is_empty()).then(|| to_json(&appeal.evidence)),
            received_at: now,
            due_at: due_at.naive_utc(),
            extension_reason: None,
            assigned_to: None,
            assignment_reason: None,
            reviewer_id: None,
            lease_token: None,
            lease_expires_at: None,
            claimed_at: None,
            decided_at: None,
            updated_at: now,
        }
    }

    pub fn status(&self) -> Result<AppealStatus, CorruptAppeal> {
        AppealStatus::parse(&self.status)
            .ok_or_else(|| CorruptAppeal(format!("appeal {} has status {:?}", self.id, self.status)))
    }
}

/// The text of a JSON column. Serialising these plain data types cannot fail.
fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
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

fn parse_json<T: serde::de::DeserializeOwned>(id: &str, field: &str, raw: &str) -> Result<T, CorruptAppeal> {
    serde_json::from_str(raw).map_err(|e| CorruptAppeal(format!("appeal {id} {field}: {e}")))
}

fn parse_opt<T: serde::de::DeserializeOwned>(
    id: &str,
    field: &str,
    raw: &Option<String>,
) -> Result<Option<T>, CorruptAppeal> {
    raw.as_deref().map(|r| parse_json(id, field, r)).transpose()
}

impl AppealView {
    /// Builds the view for `viewer`: subjects do not see staff identities.
    pub fn from_row(r: &AppealRow, viewer: Role) -> Result<Self, CorruptAppeal> {
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

// A reviewer's lease on an appeal: the fencing token every step on the case must present.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Lease {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// Where a review stands.
pub mod review_status {
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

impl ReviewRow {
    /// `reviewer`'s review of `appeal`, submitted `now`: final at once, or pending a second
    /// person's approval.
    pub fn submitted(
        appeal: &AppealRow,
        reviewer: &str,
        review: &ValidReview,
        needs_approval: bool,
        now: NaiveDateTime,
    ) -> Self {
        Self {
            id: uuid::Uuid::now_v7().to_string(),
            appeal_id: appeal.id.clone(),
            decision_id: appeal.decision_id.clone(),
            reviewer_id: reviewer.to_owned(),
            outcome: review.outcome.as_str().to_owned(),
            new_outcome: review.new_outcome.clone(),
            rationale: review.rationale.clone(),
            factors_considered: to_json(&review.factors_considered),
            rectified_inputs: review.rectified_inputs.as_ref().map(to_json),
            status: if needs_approval {
                review_status::PENDING_APPROVAL
            } else {
                review_status::FINAL
            }
            .to_owned(),
            approver_id: None,
            approval_note: None,
            seconds_spent: appeal.claimed_at.map(|t| (now - t).num_seconds()),
            created_at: now,
            resolved_at: (!needs_approval).then_some(now),
        }
    }

    pub fn outcome(&self) -> Result<ReviewOutcome, CorruptAppeal> {
        ReviewOutcome::parse(&self.outcome)
            .ok_or_else(|| CorruptAppeal(format!("review {} outcome {:?}", self.id, self.outcome)))
    }
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

// The outcome of an appeal, from the review in force.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OutcomeView {
    pub result: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_outcome: Option<String>,
    pub rationale: String,
    pub decided_at: DateTime<Utc>,
}

impl From<ReviewRow> for OutcomeView {
    fn from(r: ReviewRow) -> Self {
        Self {
            result: r.outcome,
            new_outcome: r.new_outcome,
            rationale: r.rationale,
            decided_at: r.resolved_at.unwrap_or(r.created_at).and_utc(),
        }
    }
}

/// A reviewer's first impression of a blind-first case, recorded before the model's is shown.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = initial_views, treat_none_as_null = true)]
pub struct InitialViewRow {
    pub appeal_id: String,
    pub reviewer_id: String,
    pub leaning: String,
    pub note: Option<String>,
    pub recorded_at: NaiveDateTime,
}

#[derive(Debug, Clone, Serialize)]
pub struct InitialView {
    pub leaning: String,
    pub note: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

impl From<InitialViewRow> for InitialView {
    fn from(r: InitialViewRow) -> Self {
        Self {
            leaning: r.leaning,
            note: r.note,
            recorded_at: r.recorded_at.and_utc(),
        }
    }
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = routing_rules, treat_none_as_null = true)]
pub struct RuleRow {
    pub id: String,
    pub queue: String,
    pub position: i32,
    pub decision_type: Option<String>,
    pub model_name: Option<String>,
    pub significant_effect: Option<bool>,
    pub score_min: Option<f64>,
    pub score_max: Option<f64>,
    pub priority: i32,
}

impl RuleRow {
    /// A rule of `queue` as an admin configured it.
    pub fn new(queue: &str, rule: &RuleInput) -> Self {
        Self {
            id: uuid::Uuid::now_v7().to_string(),
            queue: queue.to_owned(),
            position: rule.position,
            decision_type: rule.conditions.decision_type.clone(),
            model_name: rule.conditions.model_name.clone(),
            significant_effect: rule.conditions.significant_effect,
            score_min: rule.conditions.score_min,
            score_max: rule.conditions.score_max,
            priority: rule.priority,
        }
    }
}

impl From<RuleRow> for RoutingRule {
    fn from(r: RuleRow) -> Self {
        RoutingRule {
            queue: r.queue,
            position: r.position,
            conditions: RuleMatch {
                decision_type: r.decision_type,
                model_name: r.model_name,
                significant_effect: r.significant_effect,
                score_min: r.score_min,
                score_max: r.score_max,
            },
            priority: r.priority,
        }
    }
}

#[derive(Debug, Clone, Queryable, Insertable, AsChangeset)]
#[diesel(table_name = queues)]
pub struct QueueRow {
    pub name: String,
    pub description: String,
    pub blind_first: bool,
    pub updated_at: NaiveDateTime,
}

// A queue as configured, with its rules and what waits in it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QueueView {
    pub name: String,
    pub description: String,
    pub blind_first: bool,
    pub rules: Vec<RuleInput>,
    /// Appeals waiting to be claimed.
    pub depth: i64,
    pub nearest_due_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Queryable, Insertable, AsChangeset)]
#[diesel(table_name = reviewers)]
pub struct ReviewerRow {
    pub id: String,
    /// JSON array of decision types.
    pub authorities: String,
    pub capacity: i32,
    pub updated_at: NaiveDateTime,
}

impl ReviewerRow {
    /// The decision types this reviewer has the authority to decide.
    pub fn decision_types(&self) -> Vec<String> {
        serde_json::from_str(&self.authorities).unwrap_or_default()
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReviewerView {
    pub id: String,
    pub authorities: Vec<String>,
    pub capacity: i32,
    pub updated_at: DateTime<Utc>,
}

impl From<ReviewerRow> for ReviewerView {
    fn from(r: ReviewerRow) -> Self {
        Self {
            authorities: r.decision_types(),
            id: r.id,
            capacity: r.capacity,
            updated_at: r.updated_at.and_utc(),
        }
    }
}

#[derive(Debug, Clone, Queryable, Insertable, AsChangeset)]
#[diesel(table_name = decision_type_policies)]
pub struct PolicyRow {
    pub decision_type: String,
    pub filing_window_months: i32,
    pub requires_approval: bool,
    pub updated_at: NaiveDateTime,
    pub retention_months: Option<i32>,
}

/// The rules in force for one decision type; defaults when none are configured.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Policy {
    pub decision_type: String,
    pub filing_window_months: u32,
    pub requires_approval: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention_months: Option<u32>,
}

impl Policy {
    /// What applies to a decision type nobody configured: the DSA Art. 20 minimum filing
    /// window, no four eyes, no legal hold.
    pub fn default_for(decision_type: &str) -> Self {
        Policy {
            decision_type: decision_type.to_owned(),
            filing_window_months: DEFAULT_FILING_WINDOW_MONTHS,
            requires_approval: false,
            retention_months: None,
        }
    }
}

impl From<PolicyRow> for Policy {
    fn from(r: PolicyRow) -> Self {
        Policy {
            decision_type: r.decision_type,
            filing_window_months: u32::try_from(r.filing_window_months).unwrap_or(DEFAULT_FILING_WINDOW_MONTHS),
            requires_approval: r.requires_approval,
            retention_months: r.retention_months.and_then(|m| u32::try_from(m).ok()),
        }
    }
}
