use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::repo::{self, PolicyRow, QueueRow, ReviewerRow, RuleRow};
use crate::audit::{self, repo::Event};
use crate::db::{self, Db, DbConnection, DbError, write_tx};
use crate::domain::legal_clock::DEFAULT_FILING_WINDOW_MONTHS;
use crate::domain::routing::{self, DEFAULT_QUEUE, ESCALATION_QUEUE, RuleInput};
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

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReviewerView {
    pub id: String,
    pub authorities: Vec<String>,
    pub capacity: i32,
    pub updated_at: DateTime<Utc>,
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
    pub fn for_type(conn: &mut DbConnection, decision_type: &str) -> Result<Self, DbError> {
        Ok(match repo::policy(conn, decision_type)? {
            Some(row) => Policy::from(row),
            None => Policy {
                decision_type: decision_type.to_owned(),
                filing_window_months: DEFAULT_FILING_WINDOW_MONTHS,
                requires_approval: false,
                retention_months: None,
            },
        })
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

impl ReviewerView {
    pub fn from_row(r: ReviewerRow) -> Self {
        Self {
            authorities: parse_authorities(&r.authorities),
            id: r.id,
            capacity: r.capacity,
            updated_at: r.updated_at.and_utc(),
        }
    }
}

pub fn parse_authorities(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

fn audit_config(
    conn: &mut DbConnection,
    actor: &Actor,
    action: &str,
    object_type: &str,
    id: &str,
    details: serde_json::Value,
) -> Result<(), DbError> {
    audit::repo::record(
        conn,
        actor,
        Event {
            action,
            object_type,
            object_id: id,
            details,
        },
    )
}

#[tracing::instrument(skip_all, fields(queue = %name))]
pub async fn put_queue(db: &Db, actor: Actor, name: String, input: QueueInput) -> Result<QueueView, RoutingError> {
    let mut c = Checker::default();
    c.identifier("/name", &name, 64);
    if input.description.chars().count() > 500 {
        c.fail("/description", "must be at most 500 characters");
    }
    c.finish(()).map_err(RoutingError::Invalid)?;
    routing::validate_rules(&input.rules).map_err(RoutingError::Invalid)?;
    db.maintain(move |conn| {
        write_tx(conn, |conn| {
            let row = QueueRow {
                name: name.clone(),
                description: input.description.clone(),
                blind_first: input.blind_first,
                updated_at: db::now(),
            };
            let rules: Vec<RuleRow> = input
                .rules
                .iter()
                .map(|r| RuleRow {
                    id: uuid::Uuid::now_v7().to_string(),
                    queue: name.clone(),
                    position: r.position,
                    decision_type: r.conditions.decision_type.clone(),
                    model_name: r.conditions.model_name.clone(),
                    significant_effect: r.conditions.significant_effect,
                    score_min: r.conditions.score_min,
                    score_max: r.conditions.score_max,
                    priority: r.priority,
                })
                .collect();
            repo::upsert_queue(conn, &row, &rules)?;
            audit_config(
                conn,
                &actor,
                "queue.configured",
                "queue",
                &name,
                json!({"rules": rules.len(), "blind_first": row.blind_first}),
            )?;
            Ok::<_, RoutingError>(())
        })?;
        Ok(list_queues_in(conn)?
            .into_iter()
            .find(|q| q.name == name)
            .unwrap_or_else(|| QueueView {
                name,
                description: String::new(),
                blind_first: false,
                rules: Vec::new(),
                depth: 0,
                nearest_due_at: None,
            }))
    })
    .await
}

fn list_queues_in(conn: &mut DbConnection) -> Result<Vec<QueueView>, DbError> {
    let depths: HashMap<String, (i64, Option<chrono::NaiveDateTime>)> = repo::depths(conn)?
        .into_iter()
        .map(|(q, n, due)| (q, (n, due)))
        .collect();
    let mut names: BTreeSet<String> = depths.keys().cloned().collect();
    names.insert(DEFAULT_QUEUE.to_owned());
    names.insert(ESCALATION_QUEUE.to_owned());
    let configured: HashMap<String, QueueRow> = repo::queues(conn)?.into_iter().map(|q| (q.name.clone(), q)).collect();
    names.extend(configured.keys().cloned());
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let (depth, due) = depths.get(&name).copied().unwrap_or((0, None));
        let rules = repo::rules_of(conn, &name)?
            .into_iter()
            .map(|r| {
                let rule = routing::RoutingRule::from(r);
                RuleInput {
                    position: rule.position,
                    conditions: rule.conditions,
                    priority: rule.priority,
                }
            })
            .collect();
        let queue = configured.get(&name);
        out.push(QueueView {
            description: queue.map(|q| q.description.clone()).unwrap_or_default(),
            blind_first: queue.is_some_and(|q| q.blind_first),
            name,
            rules,
            depth,
            nearest_due_at: due.map(|d| d.and_utc()),
        });
    }
    Ok(out)
}

pub async fn list_queues(db: &Db) -> Result<Vec<QueueView>, RoutingError> {
    db.run(|conn| Ok(list_queues_in(conn)?)).await
}

#[tracing::instrument(skip_all, fields(reviewer = %id))]
pub async fn put_reviewer(
    db: &Db,
    actor: Actor,
    id: String,
    input: ReviewerInput,
) -> Result<ReviewerView, RoutingError> {
    let mut c = Checker::default();
    c.identifier("/id", &id, 128);
    if input.authorities.len() > 100 {
        c.fail("/authorities", "at most 100 decision types");
    }
    for (i, t) in input.authorities.iter().enumerate() {
        c.identifier(&format!("/authorities/{i}"), t, 64);
    }
    if !(0..=1000).contains(&input.capacity) {
        c.fail("/capacity", "must be between 0 and 1000");
    }
    c.finish(()).map_err(RoutingError::Invalid)?;
    let authorities: BTreeSet<String> = input.authorities.into_iter().collect();
    db.maintain(move |conn| {
        write_tx(conn, |conn| {
            let row = ReviewerRow {
                id: id.clone(),
                authorities: json!(authorities).to_string(),
                capacity: input.capacity,
                updated_at: db::now(),
            };
            repo::upsert_reviewer(conn, &row)?;
            audit_config(
                conn,
                &actor,
                "reviewer.configured",
                "reviewer",
                &id,
                json!({"authorities": authorities, "capacity": row.capacity}),
            )?;
            Ok(ReviewerView::from_row(row))
        })
    })
    .await
}

pub async fn list_reviewers(db: &Db) -> Result<Vec<ReviewerView>, RoutingError> {
    db.run(|conn| Ok(repo::reviewers(conn)?.into_iter().map(ReviewerView::from_row).collect()))
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
    c.identifier("/decision_type", &decision_type, 64);
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
    db.maintain(move |conn| {
        write_tx(conn, |conn| {
            let row = PolicyRow {
                decision_type: decision_type.clone(),
                filing_window_months: input.filing_window_months,
                requires_approval: input.requires_approval,
                updated_at: db::now(),
                retention_months: input.retention_months,
            };
            repo::upsert_policy(conn, &row)?;
            audit_config(
                conn,
                &actor,
                "policy.configured",
                "decision_type",
                &decision_type,
                json!({"filing_window_months": row.filing_window_months, "requires_approval": row.requires_approval, "retention_months": row.retention_months}),
            )?;
            Ok(Policy::from(row))
        })
    })
    .await
}

pub async fn list_policies(db: &Db) -> Result<Vec<Policy>, RoutingError> {
    db.run(|conn| Ok(repo::policies(conn)?.into_iter().map(Policy::from).collect()))
        .await
}
