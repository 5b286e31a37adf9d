//! The sweeper keeps the legal clock: it runs inside every `recourse serve`, returns expired
//! leases to the queue and escalates appeals as their deadline nears (an overdue one goes to the
//! escalation queue and its filer is told). Each step is a guarded UPDATE, so several instances
//! sweeping at once never do the same work twice: the loser's update matches no row and writes
//! no audit entry.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::AppealError;
use super::model::{AppealRow, AppealUpdate};
use super::repo;
use crate::audit;
use crate::calendar::CalendarHandle;
use crate::db::{self, Db, DbConnection};
use crate::decisions::repo as decision_repo;
use crate::domain::appeal::Action;
use crate::domain::legal_clock::LegalCalendar;
use crate::domain::routing::ESCALATION_QUEUE;
use crate::domain::{Actor, Role, legal_clock};
use crate::notices::{self, templates};

/// Rows handled per transaction, so a large backlog never holds the write lock for long.
const BATCH: i64 = 200;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SweepReport {
    pub leases_expired: usize,
    pub escalated: usize,
}

fn sweeper() -> Actor {
    Actor::system("system:sweeper")
}

/// One pass: expired leases back to the queue, then escalations that are due, a batch per
/// transaction. `calendar` dates the overdue notices.
pub async fn sweep_once(db: &Db, calendar: Arc<LegalCalendar>) -> Result<SweepReport, AppealError> {
    let mut report = SweepReport::default();
    loop {
        let n = db.write(requeue_expired_leases).await?;
        report.leases_expired += n;
        if n < BATCH as usize {
            break;
        }
    }
    loop {
        let calendar = calendar.clone();
        let (seen, n) = db.write(move |conn| escalate_due(conn, &calendar)).await?;
        report.escalated += n;
        if seen < BATCH as usize {
            break;
        }
    }
    Ok(report)
}

/// Returns a batch of expired leases to the queue. Runs in the caller's write transaction;
/// returns how many it returned.
fn requeue_expired_leases(conn: &mut DbConnection) -> Result<usize, AppealError> {
    let actor = sweeper();
    let now = db::now();
    let mut n = 0;
    for id in repo::appeals::expired_leases(conn, now, BATCH)? {
        if repo::appeals::requeue_if_expired(conn, &id, now)? {
            audit::record(conn, &actor, "appeal.lease_expired", "appeal", &id, json!({}))?;
            n += 1;
        }
    }
    Ok(n)
}

/// Escalates a batch of appeals whose next escalation point has passed: priority up at half and
/// at eighty per cent of the time, and to the escalation queue once overdue. Runs in the caller's
/// write transaction; returns how many were due and how many it escalated.
fn escalate_due(conn: &mut DbConnection, calendar: &LegalCalendar) -> Result<(usize, usize), AppealError> {
    let actor = sweeper();
    let now = db::now();
    let due = repo::appeals::due_for_escalation(conn, now, BATCH)?;
    let mut n = 0;
    for row in &due {
        let status = row.status()?;
        status.apply(Action::Escalate)?;
        let received = row.received_at.and_utc();
        let due_at = row.due_at.and_utc();
        let level = legal_clock::escalation_level(received, due_at, now.and_utc())
            .max(row.escalation_level + 1)
            .min(3);
        let bump: i32 = (row.escalation_level + 1..=level)
            .map(legal_clock::escalation_bump)
            .sum();
        let overdue = level >= 3;
        let update = AppealUpdate {
            escalation_level: Some(level),
            priority: Some(row.priority + bump),
            escalate_at: Some(legal_clock::next_escalation_at(received, due_at, level).map(|t| t.naive_utc())),
            queue: overdue.then(|| ESCALATION_QUEUE.to_owned()),
            updated_at: Some(now),
            ..Default::default()
        };
        if repo::appeals::update_if_level(conn, &row.id, row.escalation_level, &update)? {
            // Art. 12(4): the person is told, without delay, that their request was not
            // answered in time, with the routes to redress.
            let notice_id = if overdue {
                tell_overdue(conn, calendar, row, now)?
            } else {
                None
            };
            audit::record(
                conn,
                &actor,
                if overdue { "appeal.overdue" } else { "appeal.escalated" },
                "appeal",
                &row.id,
                json!({"from_level": row.escalation_level, "to_level": level, "priority": row.priority + bump,
                                    "queue": if overdue { ESCALATION_QUEUE } else { row.queue.as_str() },
                                    "notice_id": notice_id}),
            )?;
            n += 1;
        }
    }
    Ok((due.len(), n))
}

/// Writes the overdue notice on an appeal the subject filed (a review task the system filed for
/// itself has nobody waiting for an answer). Returns the notice id.
fn tell_overdue(
    conn: &mut DbConnection,
    calendar: &LegalCalendar,
    row: &AppealRow,
    now: chrono::NaiveDateTime,
) -> Result<Option<String>, AppealError> {
    if row.filed_by_role == Role::System.as_str() {
        return Ok(None);
    }
    let decision = decision_repo::find(conn, &row.decision_id)?.ok_or(AppealError::NotFound)?;
    let facts = templates::DecisionFacts {
        decision_type: &decision.decision_type,
        outcome: &decision.effective_outcome,
        decided_on: calendar.local_date(decision.decided_at.and_utc()),
    };
    let notice = notices::insert(
        conn,
        &row.id,
        &row.subject_id,
        "overdue",
        templates::overdue(&facts, calendar.local_date(row.due_at.and_utc())),
        now,
    )?;
    Ok(Some(notice.id))
}

/// Runs the sweeper every `interval` until the task is dropped.
pub async fn run(db: Db, interval: Duration, calendar: CalendarHandle) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        match sweep_once(&db, calendar.current()).await {
            Ok(report) if report != SweepReport::default() => {
                tracing::info!(
                    leases_expired = report.leases_expired,
                    escalated = report.escalated,
                    "sweep"
                );
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %crate::error::cause_chain(&e), "sweep failed; will retry")
            }
        }
    }
}
