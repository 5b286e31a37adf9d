use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{appeals, decision_type_policies, queues, reviewers, routing_rules};
use crate::db::{DbConnection, DbError};
use crate::domain::appeal::AppealStatus;
use crate::domain::routing::{RoutingRule, RuleMatch};

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

#[derive(Debug, Clone, Queryable, Insertable, AsChangeset)]
#[diesel(table_name = reviewers)]
pub struct ReviewerRow {
    pub id: String,
    /// JSON array of decision types.
    pub authorities: String,
    pub capacity: i32,
    pub updated_at: NaiveDateTime,
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

/// Rules of every queue, in evaluation order.
pub fn all_rules(conn: &mut DbConnection) -> Result<Vec<RoutingRule>, DbError> {
    Ok(routing_rules::table
        .order((
            routing_rules::position.asc(),
            routing_rules::queue.asc(),
            routing_rules::id.asc(),
        ))
        .load::<RuleRow>(conn)?
        .into_iter()
        .map(RoutingRule::from)
        .collect())
}

pub fn rules_of(conn: &mut DbConnection, queue: &str) -> Result<Vec<RuleRow>, DbError> {
    Ok(routing_rules::table
        .filter(routing_rules::queue.eq(queue))
        .order((routing_rules::position.asc(), routing_rules::id.asc()))
        .load(conn)?)
}

/// Replaces a queue's definition and rules.
pub fn upsert_queue(conn: &mut DbConnection, queue: &QueueRow, rules: &[RuleRow]) -> Result<(), DbError> {
    let updated = diesel::update(queues::table.find(&queue.name))
        .set(queue)
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(queues::table).values(queue).execute(conn)?;
    }
    diesel::delete(routing_rules::table.filter(routing_rules::queue.eq(&queue.name))).execute(conn)?;
    for rule in rules {
        diesel::insert_into(routing_rules::table).values(rule).execute(conn)?;
    }
    Ok(())
}

pub fn queues(conn: &mut DbConnection) -> Result<Vec<QueueRow>, DbError> {
    Ok(queues::table.order(queues::name.asc()).load(conn)?)
}

pub fn queue(conn: &mut DbConnection, name: &str) -> Result<Option<QueueRow>, DbError> {
    Ok(queues::table.find(name).first(conn).optional()?)
}

/// Queued appeals per queue, and the nearest deadline among them.
pub fn depths(conn: &mut DbConnection) -> Result<Vec<(String, i64, Option<NaiveDateTime>)>, DbError> {
    Ok(appeals::table
        .filter(appeals::status.eq(AppealStatus::Queued.as_str()))
        .group_by(appeals::queue)
        .select((
            appeals::queue,
            diesel::dsl::count_star(),
            diesel::dsl::min(appeals::due_at),
        ))
        .load(conn)?)
}

pub fn upsert_reviewer(conn: &mut DbConnection, row: &ReviewerRow) -> Result<(), DbError> {
    let updated = diesel::update(reviewers::table.find(&row.id)).set(row).execute(conn)?;
    if updated == 0 {
        diesel::insert_into(reviewers::table).values(row).execute(conn)?;
    }
    Ok(())
}

pub fn reviewer(conn: &mut DbConnection, id: &str) -> Result<Option<ReviewerRow>, DbError> {
    Ok(reviewers::table.find(id).first(conn).optional()?)
}

pub fn reviewers(conn: &mut DbConnection) -> Result<Vec<ReviewerRow>, DbError> {
    Ok(reviewers::table.order(reviewers::id.asc()).load(conn)?)
}

pub fn upsert_policy(conn: &mut DbConnection, row: &PolicyRow) -> Result<(), DbError> {
    let updated = diesel::update(decision_type_policies::table.find(&row.decision_type))
        .set(row)
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(decision_type_policies::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

pub fn policy(conn: &mut DbConnection, decision_type: &str) -> Result<Option<PolicyRow>, DbError> {
    Ok(decision_type_policies::table
        .find(decision_type)
        .first(conn)
        .optional()?)
}

pub fn policies(conn: &mut DbConnection) -> Result<Vec<PolicyRow>, DbError> {
    Ok(decision_type_policies::table
        .order(decision_type_policies::decision_type.asc())
        .load(conn)?)
}
