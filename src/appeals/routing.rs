//! Who reviews what: queues and their routing rules, reviewers with their authorities and
//! capacity, and per-decision-type policies (filing window, four eyes, legal hold), which an admin
//! configures; and the eligibility rule every assignment and approval applies.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::json;

use super::model::{AppealRow, Policy, PolicyRow, QueueRow, QueueView, ReviewerRow, ReviewerView, RuleRow};
use super::repo;
use crate::audit;
use crate::db::{self, Db, DbConnection, DbError};
use crate::domain::legal_clock::DEFAULT_FILING_WINDOW_MONTHS;
use crate::domain::routing::{self, RuleInput};
use crate::domain::validation::Checker;
use crate::domain::{Actor, FieldError};

#[derive(Debug, thiserror::Error)]
pub enum RoutingError {
    #[error("invalid configuration")]
    Invalid(Vec<FieldError>),
    #[error(transparent)]
    Db(#[from] DbError),
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueueInput {
    #[serde(default)]
    #[schema(max_length = 500)]
    pub description: String,
    #[serde(default)]
    pub blind_first: bool,
    #[serde(default)]
    #[schema(max_items = 100)]
    pub rules: Vec<RuleInput>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewerInput {
    /// Decision types this reviewer has the authority and competence to decide.
    #[schema(max_items = 100, value_type = Vec<crate::domain::fields::DecisionType>)]
    pub authorities: Vec<String>,
    /// How many appeals they may hold at once.
    #[serde(deserialize_with = "crate::domain::validation::integral::deserialize")]
    #[schema(minimum = 0, maximum = 1000)]
    pub capacity: i32,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyInput {
    /// How long after the decision an appeal may be filed. DSA Art. 20 requires at least 6.
    #[serde(default = "default_window")]
    #[serde(deserialize_with = "crate::domain::validation::integral::deserialize")]
    #[schema(minimum = 6, maximum = 120)]
    pub filing_window_months: i32,
    /// High impact: an overturn or amend needs a second person's approval.
    #[serde(default)]
    pub requires_approval: bool,
    /// Legal hold: months after the decision during which erasure keeps it (Reg B: 25).
    #[serde(default)]
    #[serde(deserialize_with = "crate::domain::validation::integral::option")]
    #[schema(minimum = 1, maximum = 600)]
    pub retention_months: Option<i32>,
}

fn default_window() -> i32 {
    DEFAULT_FILING_WINDOW_MONTHS as i32
}

/// Why `reviewer` may not decide `appeal`, or `None` when they may (authority, not the filer,
/// not an earlier reviewer of the decision, within capacity).
pub fn ineligibility(
    conn: &mut DbConnection,
    reviewer: &str,
    appeal: &AppealRow,
    check_capacity: bool,
) -> Result<Option<String>, DbError> {
    let Some(row) = repo::routing::reviewer(conn, reviewer)? else {
        return Ok(Some(format!("{reviewer} is not a configured reviewer")));
    };
    if !row.decision_types().contains(&appeal.decision_type) {
        return Ok(Some(format!(
            "{reviewer} has no authority for {} decisions",
            appeal.decision_type
        )));
    }
    if appeal.filed_by == reviewer {
        return Ok(Some(format!("{reviewer} filed this appeal")));
    }
    if repo::reviews::has_reviewed(conn, &appeal.decision_id, reviewer)? {
        return Ok(Some(format!("{reviewer} already reviewed this decision")));
    }
    if check_capacity && repo::appeals::live_leases(conn, reviewer, db::now())? >= i64::from(row.capacity) {
        return Ok(Some(format!("{reviewer} is at capacity")));
    }
    Ok(None)
}

#[tracing::instrument(skip_all, fields(queue = %name))]
pub async fn put_queue(db: &Db, actor: Actor, name: String, input: QueueInput) -> Result<QueueView, RoutingError> {
    let mut c = Checker::default();
    c.check::<crate::domain::fields::Ident<64>>("/name", &name);
    if input.description.chars().count() > 500 {
        c.fail("/description", "must be at most 500 characters");
    }
    c.finish(()).map_err(RoutingError::Invalid)?;
    routing::validate_rules(&input.rules).map_err(RoutingError::Invalid)?;
    db.write(move |conn| {
        let row = QueueRow {
            name: name.clone(),
            description: input.description.clone(),
            blind_first: input.blind_first,
            updated_at: db::now(),
        };
        let rules: Vec<RuleRow> = input.rules.iter().map(|r| RuleRow::new(&name, r)).collect();
        repo::routing::upsert_queue(conn, &row, &rules)?;
        audit::record(
            conn,
            &actor,
            "queue.configured",
            "queue",
            &name,
            json!({"rules": rules.len(), "blind_first": row.blind_first}),
        )?;
        Ok(repo::routing::queue_views(conn)?
            .into_iter()
            .find(|q| q.name == name)
            .unwrap_or_else(|| QueueView {
                name: name.clone(),
                description: String::new(),
                blind_first: false,
                rules: Vec::new(),
                depth: 0,
                nearest_due_at: None,
            }))
    })
    .await
}

pub async fn list_queues(db: &Db) -> Result<Vec<QueueView>, RoutingError> {
    db.run(|conn| Ok(repo::routing::queue_views(conn)?)).await
}

#[tracing::instrument(skip_all, fields(reviewer = %id))]
pub async fn put_reviewer(
    db: &Db,
    actor: Actor,
    id: String,
    input: ReviewerInput,
) -> Result<ReviewerView, RoutingError> {
    let mut c = Checker::default();
    c.check::<crate::domain::fields::Ident<128>>("/id", &id);
    if input.authorities.len() > 100 {
        c.fail("/authorities", "at most 100 decision types");
    }
    for (i, t) in input.authorities.iter().enumerate() {
        c.check::<crate::domain::fields::DecisionType>(&format!("/authorities/{i}"), t);
    }
    if !(0..=1000).contains(&input.capacity) {
        c.fail("/capacity", "must be between 0 and 1000");
    }
    c.finish(()).map_err(RoutingError::Invalid)?;
    let authorities: BTreeSet<String> = input.authorities.into_iter().collect();
    db.write(move |conn| {
        let row = ReviewerRow {
            id: id.clone(),
            authorities: json!(authorities).to_string(),
            capacity: input.capacity,
            updated_at: db::now(),
        };
        repo::routing::upsert_reviewer(conn, &row)?;
        audit::record(
            conn,
            &actor,
            "reviewer.configured",
            "reviewer",
            &id,
            json!({"authorities": authorities, "capacity": row.capacity}),
        )?;
        Ok(ReviewerView::from(row))
    })
    .await
}

pub async fn list_reviewers(db: &Db) -> Result<Vec<ReviewerView>, RoutingError> {
    db.run(|conn| {
        Ok(repo::routing::reviewers(conn)?
            .into_iter()
            .map(ReviewerView::from)
            .collect())
    })
    .await
}

#[tracing::instrument(skip_all, fields(decision_type = %decision_type))]
pub async fn put_policy(
    db: &Db,
    actor: Actor,
    decision_type: String,
    input: PolicyInput,
) -> Result<Policy, RoutingError> {
    let mut c = Checker::default();
    c.check::<crate::domain::fields::DecisionType>("/decision_type", &decision_type);
    if input.retention_months.is_some_and(|m| !(1..=600).contains(&m)) {
        c.fail("/retention_months", "must be between 1 and 600 months");
    }
    if !(6..=120).contains(&input.filing_window_months) {
        c.fail(
            "/filing_window_months",
            "must be between 6 (DSA Art. 20 minimum) and 120",
        );
    }
    c.finish(()).map_err(RoutingError::Invalid)?;
    db.write(move |conn| {
        let row = PolicyRow {
            decision_type: decision_type.clone(),
            filing_window_months: input.filing_window_months,
            requires_approval: input.requires_approval,
            updated_at: db::now(),
            retention_months: input.retention_months,
        };
        repo::routing::upsert_policy(conn, &row)?;
        audit::record(conn, &actor, "policy.configured", "decision_type", &decision_type, json!({"filing_window_months": row.filing_window_months, "requires_approval": row.requires_approval, "retention_months": row.retention_months}))?;
        Ok(Policy::from(row))
    })
    .await
}

pub async fn list_policies(db: &Db) -> Result<Vec<Policy>, RoutingError> {
    db.run(|conn| Ok(repo::routing::policies(conn)?.into_iter().map(Policy::from).collect()))
        .await
}
