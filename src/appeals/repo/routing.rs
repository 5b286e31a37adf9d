//! Routing configuration queries: queues and their rules, reviewers, and per-decision-type
//! policies.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::appeals::model::{Policy, PolicyRow, QueueRow, QueueView, ReviewerRow, RuleRow};
use crate::db::schema::{appeals, decision_type_policies, queues, reviewers, routing_rules};
use crate::db::{DbConnection, DbError};
use crate::domain::appeal::AppealStatus;
use crate::domain::routing::{DEFAULT_QUEUE, ESCALATION_QUEUE, RoutingRule, RuleInput};

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

fn rules_of(conn: &mut DbConnection, queue: &str) -> Result<Vec<RuleRow>, DbError> {
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

fn queues(conn: &mut DbConnection) -> Result<Vec<QueueRow>, DbError> {
    Ok(queues::table.order(queues::name.asc()).load(conn)?)
}

pub fn queue(conn: &mut DbConnection, name: &str) -> Result<Option<QueueRow>, DbError> {
    Ok(queues::table.find(name).first(conn).optional()?)
}

/// Queued appeals per queue, and the nearest deadline among them.
fn depths(conn: &mut DbConnection) -> Result<Vec<(String, i64, Option<NaiveDateTime>)>, DbError> {
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

/// Every queue: the configured ones, the built-in default and escalation queues, and any other
/// queue an appeal waits in; each with its rules, depth and nearest deadline.
pub fn queue_views(conn: &mut DbConnection) -> Result<Vec<QueueView>, DbError> {
    let depths: HashMap<String, (i64, Option<NaiveDateTime>)> =
        depths(conn)?.into_iter().map(|(q, n, due)| (q, (n, due))).collect();
    let mut names: BTreeSet<String> = depths.keys().cloned().collect();
    names.insert(DEFAULT_QUEUE.to_owned());
    names.insert(ESCALATION_QUEUE.to_owned());
    let configured: HashMap<String, QueueRow> = queues(conn)?.into_iter().map(|q| (q.name.clone(), q)).collect();
    names.extend(configured.keys().cloned());
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let (depth, due) = depths.get(&name).copied().unwrap_or((0, None));
        let rules = rules_of(conn, &name)?
            .into_iter()
            .map(|r| {
                let rule = RoutingRule::from(r);
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

/// The policy in force for a decision type: as configured, or the defaults.
pub fn policy_for(conn: &mut DbConnection, decision_type: &str) -> Result<Policy, DbError> {
    let row: Option<PolicyRow> = decision_type_policies::table
        .find(decision_type)
        .first(conn)
        .optional()?;
    Ok(row.map_or_else(|| Policy::default_for(decision_type), Policy::from))
}

pub fn policies(conn: &mut DbConnection) -> Result<Vec<PolicyRow>, DbError> {
    Ok(decision_type_policies::table
        .order(decision_type_policies::decision_type.asc())
        .load(conn)?)
}
