//! Filing an appeal, and what happens to an open appeal before and beside its review: reading
//! it, the filer withdrawing it, a supervisor extending its deadline or assigning it to a named
//! reviewer. Also the review task the system files for a suspended model's decision.

use serde::Deserialize;
use serde_json::{Value, json};

use super::AppealError;
use super::detail::AppealDetail;
use super::model::{AppealRow, AppealUpdate, Filing};
use super::repo;
use super::routing::ineligibility;
use crate::audit;
use crate::calendar::CalendarHandle;
use crate::db::{self, Db, DbConnection, DbError};
use crate::decisions::model::DecisionRow;
use crate::decisions::repo as decision_repo;
use crate::domain::appeal::{Action, AppealDraft, AppealStatus, Channel, Ground, ValidAppeal};
use crate::domain::decision::DecisionStatus;
use crate::domain::legal_clock::{self, LegalCalendar};
use crate::domain::routing::{self, RoutingFacts};
use crate::domain::validation::Checker;
use crate::domain::{Actor, Role};
use crate::idempotency::{self, Prior};
use crate::notices::{self, templates};
use crate::outbox;

/// What filing did: a new appeal, or the stored response to a repeated `Idempotency-Key`.
pub enum Filed {
    Created(Box<AppealDetail>),
    Replayed { status: u16, body: Value },
}

/// An `Idempotency-Key` and the fingerprint of the request it came with.
#[derive(Clone)]
pub struct IdempotencyKey {
    pub key: String,
    pub request_hash: String,
}

/// Files `actor`'s appeal against a decision, in one transaction: the legal clock starts, the
/// appeal is routed to a queue, the subject is sent an acknowledgement and the engine an event.
/// A filing after the window closed is refused, and that refusal is committed too (a notice, an
/// audit entry). A repeated `Idempotency-Key` gets the first response again.
#[tracing::instrument(skip_all, fields(decision_id = %decision_id))]
pub async fn file(
    db: &Db,
    calendar: &CalendarHandle,
    actor: Actor,
    decision_id: String,
    draft: AppealDraft,
    idempotency_key: Option<IdempotencyKey>,
) -> Result<Filed, AppealError> {
    let appeal = ValidAppeal::parse(draft, &actor).map_err(AppealError::Invalid)?;
    let calendar = calendar.current();
    let attempt = || {
        let (calendar, actor, decision_id, appeal, key) = (
            calendar.clone(),
            actor.clone(),
            decision_id.clone(),
            appeal.clone(),
            idempotency_key.clone(),
        );
        db.write(move |conn| file_in_tx(conn, &calendar, &actor, &decision_id, &appeal, key.as_ref()))
    };
    let attempted = match attempt().await {
        // Two identical requests raced on the same Idempotency-Key: the second now replays.
        // The loser may also see the winner's committed appeal before its key (PostgreSQL
        // reads each statement's own snapshot), so an open appeal is checked against the
        // key once more before it is a conflict.
        Err(AppealError::Db(e)) if e.is_unique_violation() && idempotency_key.is_some() => attempt().await,
        Err(AppealError::AlreadyOpen { .. }) if idempotency_key.is_some() => attempt().await,
        Err(AppealError::Db(e)) if e.is_unique_violation() => {
            let appeal_id = db
                .run(move |conn| repo::appeals::open_for_decision(conn, &decision_id))
                .await?
                .unwrap_or_default();
            Err(AppealError::AlreadyOpen { appeal_id })
        }
        other => other,
    };
    match attempted? {
        Attempt::Done(filed) => Ok(filed),
        Attempt::Refused { closed_at, closed_on } => Err(AppealError::FilingWindowClosed { closed_at, closed_on }),
    }
}

/// What one filing attempt did. A refusal is committed too: it leaves a notice and an audit entry.
enum Attempt {
    Done(Filed),
    Refused {
        closed_at: chrono::DateTime<chrono::Utc>,
        closed_on: chrono::NaiveDate,
    },
}

/// Art. 12(4): a filing refused because its window closed is not acted on, so the person is
/// told why, with the routes to redress, and the refusal is audited.
fn refuse_late_filing(
    conn: &mut DbConnection,
    calendar: &LegalCalendar,
    actor: &Actor,
    decision: &DecisionRow,
    closed_on: chrono::NaiveDate,
) -> Result<(), AppealError> {
    let facts = templates::DecisionFacts {
        decision_type: &decision.decision_type,
        outcome: &decision.effective_outcome,
        decided_on: calendar.local_date(decision.decided_at.and_utc()),
    };
    let notice = crate::notices::notify_subject(
        conn,
        actor,
        &decision.subject_id,
        "appeal_refused",
        templates::filing_refused(&facts, closed_on),
    )?;
    audit::record(
        conn,
        actor,
        "appeal.refused",
        "decision",
        &decision.id,
        json!({"reason": "filing_window_closed", "closed_on": closed_on, "notice_id": notice.id}),
    )?;
    Ok(())
}

fn file_in_tx(
    conn: &mut DbConnection,
    calendar: &LegalCalendar,
    actor: &Actor,
    decision_id: &str,
    appeal: &ValidAppeal,
    key: Option<&IdempotencyKey>,
) -> Result<Attempt, AppealError> {
    if let Some(k) = key {
        match idempotency::lookup(conn, &actor.id, &k.key, &k.request_hash)? {
            Prior::New => {}
            Prior::Replay { status, body } => return Ok(Attempt::Done(Filed::Replayed { status, body })),
            Prior::Mismatch => return Err(AppealError::IdempotencyMismatch),
        }
    }
    let decision = decision_repo::find(conn, decision_id)?.ok_or(AppealError::NotFound)?;
    if actor.is(Role::Subject) && decision.subject_id != actor.id {
        return Err(AppealError::NotFound);
    }
    let now = db::now();
    let received_at = now.and_utc();
    let decided_at = decision.decided_at.and_utc();
    let policy = repo::routing::policy_for(conn, &decision.decision_type)?;
    let closed_at = calendar.filing_window_closes_at(decided_at, policy.filing_window_months);
    if received_at > closed_at {
        let closed_on = calendar.local_date(closed_at);
        refuse_late_filing(conn, calendar, actor, &decision, closed_on)?;
        return Ok(Attempt::Refused { closed_at, closed_on });
    }
    let open = repo::appeals::open_for_decision(conn, decision_id)?;
    let rules = repo::routing::all_rules(conn)?;
    let route = routing::route(
        &rules,
        &RoutingFacts {
            decision_type: &decision.decision_type,
            model_name: &decision.model_name,
            significant_effect: decision.significant_effect,
            score: decision.score,
        },
    );
    let row = AppealRow::queued(&decision, actor, appeal, route, calendar, now);
    let (row, joined_task) = match open {
        None => {
            repo::appeals::insert(conn, &row)?;
            decision_repo::set_status(
                conn,
                &decision.id,
                DecisionStatus::UnderAppeal.as_str(),
                &decision.effective_outcome,
            )?;
            (row, None)
        }
        Some(open_id) => {
            let (task, was) = join_review_task(conn, &open_id, &row)?;
            (task, Some(was))
        }
    };
    let facts = templates::DecisionFacts {
        decision_type: &decision.decision_type,
        outcome: &decision.effective_outcome,
        decided_on: calendar.local_date(decided_at),
    };
    notices::insert(
        conn,
        &row.id,
        &row.subject_id,
        "acknowledgement",
        templates::acknowledgement(
            &facts,
            calendar.local_date(received_at),
            calendar.local_date(row.due_at.and_utc()),
        ),
        now,
    )?;
    outbox::enqueue(
        conn,
        outbox::EventKind::AppealFiled,
        Some(&decision.engine_id),
        outbox::About::Subject(&decision.subject_id),
        json!({
            "appeal_id": row.id,
            "decision_id": decision.id,
            "external_id": decision.external_id,
            "grounds": appeal.grounds,
            "due_at": row.due_at.and_utc(),
        }),
    )?;
    audit::record(
        conn,
        actor,
        "appeal.filed",
        "appeal",
        &row.id,
        json!({"decision_id": decision.id, "queue": row.queue, "priority": row.priority, "channel": row.channel,
                            "grounds": appeal.grounds, "identity_checked": appeal.identity_check.is_some(),
                            "joined_review_task_in": joined_task.map(AppealStatus::as_str)}),
    )?;
    let detail = AppealDetail::load(conn, &row, actor.role)?;
    if let Some(k) = key {
        let body = serde_json::to_value(&detail).map_err(|e| AppealError::Corrupt(e.to_string()))?;
        idempotency::store(conn, &actor.id, &k.key, &k.request_hash, 201, &body)?;
    }
    Ok(Attempt::Done(Filed::Created(Box::new(detail))))
}

/// A subject's own appeal against a decision that already has an open review task filed by the
/// system (a suspended model's decision, AI Act Art. 26(5)) joins that task: the subject's
/// statement, grounds and corrections become the task's, and so does the subject's legal clock,
/// unless the task was due sooner. Art. 22(3) means their view must reach the reviewer, so a task
/// already being reviewed goes back to the queue (a pending four-eyes review is returned). Any
/// other open appeal still refuses a second one. Returns the task as it now is, and its status
/// before.
fn join_review_task(
    conn: &mut DbConnection,
    task_id: &str,
    filing: &AppealRow,
) -> Result<(AppealRow, AppealStatus), AppealError> {
    let task = repo::appeals::find(conn, task_id)?.ok_or(AppealError::NotFound)?;
    if task.filed_by_role != Role::System.as_str() {
        return Err(AppealError::AlreadyOpen { appeal_id: task.id });
    }
    let from = task.status()?;
    let now = filing.received_at;
    let mut refiled = Filing::of(filing);
    refiled.due_at = refiled.due_at.min(task.due_at);
    refiled.escalate_at =
        legal_clock::next_escalation_at(now.and_utc(), refiled.due_at.and_utc(), task.escalation_level)
            .map(|t| t.naive_utc());
    let update = match from {
        AppealStatus::Queued => AppealUpdate {
            updated_at: Some(now),
            ..Default::default()
        },
        AppealStatus::InReview => AppealUpdate::to_status_unleased(from.apply(Action::Release)?, now),
        AppealStatus::AwaitingApproval => {
            if let Some(pending) = repo::reviews::pending_for_appeal(conn, &task.id)? {
                repo::reviews::resolve(
                    conn,
                    &pending.id,
                    super::model::review_status::RETURNED,
                    "system:appeal-filed",
                    Some("The subject filed their own appeal; the review must consider their statement."),
                    now,
                )?;
            }
            AppealUpdate::to_status_unleased(from.apply(Action::ReturnForReview)?, now)
        }
        AppealStatus::Decided | AppealStatus::Withdrawn => {
            return Err(AppealError::AlreadyOpen { appeal_id: task.id });
        }
    };
    if !repo::appeals::refile_if_status(conn, &task.id, from, &refiled, &update)? {
        return Err(AppealError::AlreadyOpen { appeal_id: task.id });
    }
    let task = repo::appeals::find(conn, &task.id)?.ok_or(AppealError::NotFound)?;
    Ok((task, from))
}

/// Files the review task for a decision made by a suspended model (AI Act Art. 26(5)): an appeal
/// by `system:kill-switch` in the mandatory-review queue, with the ordinary legal clock, served by
/// the ordinary claim flow. Runs in the caller's write transaction, the one that ingests the
/// decision; the caller has stored the decision as `under_appeal`. Returns the task's id.
pub fn file_mandatory_review(
    conn: &mut DbConnection,
    calendar: &LegalCalendar,
    decision: &DecisionRow,
    reason: &str,
) -> Result<String, DbError> {
    let actor = Actor::system("system:kill-switch");
    let task = ValidAppeal {
        grounds: vec![Ground::NotSolelyAutomatedReview],
        statement: format!(
            "Model {:?} is suspended; every decision it makes needs human review before it stands. Reason: {reason}",
            decision.model_name
        ),
        corrected_inputs: None,
        requested_outcome: None,
        evidence: Vec::new(),
        channel: Channel::Api,
        identity_check: None,
    };
    let route = (
        routing::MANDATORY_REVIEW_QUEUE.to_owned(),
        routing::MANDATORY_REVIEW_PRIORITY,
    );
    let row = AppealRow::queued(decision, &actor, &task, route, calendar, db::now());
    repo::appeals::insert(conn, &row)?;
    audit::record(
        conn,
        &actor,
        "appeal.filed",
        "appeal",
        &row.id,
        json!({"decision_id": decision.id, "queue": row.queue, "mandatory_review": true}),
    )?;
    outbox::enqueue(
        conn,
        outbox::EventKind::DecisionReviewRequired,
        Some(&decision.engine_id),
        outbox::About::Subject(&decision.subject_id),
        json!({
            "decision_id": decision.id,
            "external_id": decision.external_id,
            "appeal_id": row.id,
            "model": {"name": decision.model_name, "version": decision.model_version},
            "due_at": row.due_at.and_utc(),
        }),
    )?;
    Ok(row.id)
}

#[tracing::instrument(skip_all, fields(appeal_id = %id))]
pub async fn get(db: &Db, actor: Actor, id: String) -> Result<AppealDetail, AppealError> {
    audit::access::read(db, actor.role, move |conn| {
        let row = repo::appeals::find(conn, &id)?.ok_or(AppealError::NotFound)?;
        if !actor.may_read_subject(&row.subject_id) {
            return Err(AppealError::NotFound);
        }
        audit::access::record_reads(conn, &actor, "appeal", std::slice::from_ref(&row.id), "api")?;
        AppealDetail::load(conn, &row, actor.role)
    })
    .await
}

/// The decision's status once no appeal is open: that of its latest effective review.
fn restore_decision_status(conn: &mut DbConnection, decision: &DecisionRow) -> Result<(), AppealError> {
    // Filing never changes the outcome in force, so only the status needs restoring.
    let status = match repo::reviews::latest_effective_for_decision(conn, &decision.id)? {
        Some(review) => review.outcome()?.decision_status(),
        None => DecisionStatus::Effective,
    };
    decision_repo::set_status(conn, &decision.id, status.as_str(), &decision.effective_outcome)?;
    Ok(())
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawalInput {
    /// Required when an agent withdraws for a caller: how the caller's identity was verified.
    /// Any agent may do so (the caller may ring back and reach another agent); a subject
    /// withdrawing their own appeal leaves it out.
    #[serde(default)]
    #[schema(value_type = Option<crate::domain::fields::IdentityMethod>)]
    pub identity_method: Option<String>,
}

/// The subject withdraws their appeal, or an agent does for a caller whose identity they checked
/// (GDPR Art. 12(6)); the check is recorded in the audit entry.
#[tracing::instrument(skip_all, fields(appeal_id = %id))]
pub async fn withdraw(db: &Db, actor: Actor, id: String, input: WithdrawalInput) -> Result<AppealDetail, AppealError> {
    if !matches!(actor.role, Role::Subject | Role::Agent) {
        return Err(AppealError::Forbidden(
            "only the subject, or an agent for a caller, can withdraw an appeal".into(),
        ));
    }
    let mut c = Checker::default();
    crate::domain::subject::check_identity_method(&mut c, &actor, input.identity_method.as_deref());
    c.finish(()).map_err(AppealError::Invalid)?;
    db.write(move |conn| {
        let row = repo::appeals::find(conn, &id)?.ok_or(AppealError::NotFound)?;
        if !actor.may_read_subject(&row.subject_id) {
            return Err(AppealError::NotFound);
        }
        // A suspended model's decision is reviewed whatever happens to the subject's own
        // appeal that joined the task (AI Act Art. 26(5)).
        if row.queue == routing::MANDATORY_REVIEW_QUEUE {
            return Err(AppealError::Forbidden(
                "the decision is under a mandatory human review because its model was suspended; \
the review goes ahead"
                    .into(),
            ));
        }
        let from = row.status()?;
        let to = from.apply(Action::Withdraw)?;
        let now = db::now();
        if !repo::appeals::update_if_status(conn, &id, from, &AppealUpdate::to_status_unleased(to, now))? {
            return Err(AppealError::StaleLease);
        }
        let decision = decision_repo::find(conn, &row.decision_id)?.ok_or(AppealError::NotFound)?;
        restore_decision_status(conn, &decision)?;
        outbox::enqueue(
            conn,
            outbox::EventKind::AppealWithdrawn,
            Some(&decision.engine_id),
            outbox::About::Subject(&decision.subject_id),
            json!({"appeal_id": id, "decision_id": decision.id, "external_id": decision.external_id}),
        )?;
        audit::record(
            conn,
            &actor,
            "appeal.withdrawn",
            "appeal",
            &id,
            json!({"from": from.as_str(), "identity_checked_by_agent": actor.is(Role::Agent),
                                "identity_method": input.identity_method}),
        )?;
        let row = repo::appeals::find(conn, &id)?.ok_or(AppealError::NotFound)?;
        AppealDetail::load(conn, &row, actor.role)
    })
    .await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionInput {
    /// 1 or 2 further months.
    #[serde(deserialize_with = "crate::domain::validation::integral::deserialize")]
    #[schema(minimum = 1, maximum = 2)]
    pub months: u32,
    #[schema(value_type = crate::domain::fields::Prose<2000>)]
    pub reason: String,
}

#[tracing::instrument(skip_all, fields(appeal_id = %id))]
pub async fn extend(
    db: &Db,
    calendar: &CalendarHandle,
    actor: Actor,
    id: String,
    input: ExtensionInput,
) -> Result<AppealDetail, AppealError> {
    let mut c = Checker::default();
    c.check::<crate::domain::fields::Prose<2000>>("/reason", &input.reason);
    c.finish(()).map_err(AppealError::Invalid)?;
    let calendar = calendar.current();
    db.write(move |conn| {
        let row = repo::appeals::find(conn, &id)?.ok_or(AppealError::NotFound)?;
        let status = row.status()?;
        status.apply(Action::Extend)?;
        let now = db::now();
        let received = row.received_at.and_utc();
        let new_due = calendar
            .extend(received, row.due_at.and_utc(), now.and_utc(), input.months, row.extension_reason.is_some())
            .map_err(|e| match e {
                legal_clock::ExtensionError::InvalidLength => AppealError::invalid("/months", e.to_string()),
                other => AppealError::Extension(other),
            })?;
        let update = AppealUpdate {
            due_at: Some(new_due.naive_utc()),
            extension_reason: Some(Some(input.reason.clone())),
            escalate_at: Some(
                legal_clock::next_escalation_at(received, new_due, row.escalation_level).map(|t| t.naive_utc()),
            ),
            updated_at: Some(now),
            ..Default::default()
        };
        if !repo::appeals::update_if_status(conn, &id, status, &update)? {
            return Err(AppealError::StaleLease);
        }
        notices::insert(
            conn,
            &id,
            &row.subject_id,
            "extension",
            templates::extension(calendar.local_date(new_due), input.months, &input.reason),
            now,
        )?;
        let decision = decision_repo::find(conn, &row.decision_id)?.ok_or(AppealError::NotFound)?;
        outbox::enqueue(
            conn,
            outbox::EventKind::AppealExtended,
            Some(&decision.engine_id),
            outbox::About::Subject(&decision.subject_id),
            json!({"appeal_id": id, "decision_id": decision.id, "external_id": decision.external_id, "due_at": new_due}),
        )?;
        audit::record(conn, &actor, "appeal.extended", "appeal", &id, json!({"months": input.months, "due_at": new_due}))?;
        let row = repo::appeals::find(conn, &id)?.ok_or(AppealError::NotFound)?;
        AppealDetail::load(conn, &row, actor.role)
    })
    .await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignmentInput {
    #[schema(value_type = crate::domain::fields::Ident<128>)]
    pub reviewer: String,
    #[schema(value_type = crate::domain::fields::Prose<2000>)]
    pub reason: String,
}

/// A supervisor gives an appeal to a named reviewer. Any current lease is revoked, so the
/// previous holder's review will be refused; the appeal waits for the named reviewer's claim.
#[tracing::instrument(skip_all, fields(appeal_id = %id))]
pub async fn assign(db: &Db, actor: Actor, id: String, input: AssignmentInput) -> Result<AppealDetail, AppealError> {
    let mut c = Checker::default();
    c.check::<crate::domain::fields::Ident<128>>("/reviewer", &input.reviewer);
    c.check::<crate::domain::fields::Prose<2000>>("/reason", &input.reason);
    c.finish(()).map_err(AppealError::Invalid)?;
    db.write(move |conn| {
        let row = repo::appeals::find(conn, &id)?.ok_or(AppealError::NotFound)?;
        let from = row.status()?;
        let to = from.apply(Action::Assign)?;
        if row.reviewer_id.as_deref() != Some(input.reviewer.as_str())
            && let Some(why) = ineligibility(conn, &input.reviewer, &row, false)?
        {
            return Err(AppealError::invalid("/reviewer", why));
        }
        let now = db::now();
        let update = AppealUpdate {
            assigned_to: Some(Some(input.reviewer.clone())),
            assignment_reason: Some(Some(input.reason.clone())),
            ..AppealUpdate::to_status_unleased(to, now)
        };
        if !repo::appeals::update_if_status(conn, &id, from, &update)? {
            return Err(AppealError::StaleLease);
        }
        audit::record(conn, &actor, "appeal.assigned", "appeal", &id, json!({"reviewer": input.reviewer, "previous_reviewer": row.reviewer_id, "previous_assignee": row.assigned_to}))?;
        let row = repo::appeals::find(conn, &id)?.ok_or(AppealError::NotFound)?;
        AppealDetail::load(conn, &row, actor.role)
    })
    .await
}
