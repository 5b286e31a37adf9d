use serde::Deserialize;
use serde_json::{Value, json};

use super::AppealError;
use super::model::{AppealDetail, AppealRow, AppealUpdate, AppealView, Filing, OutcomeView};
use super::repo;
use crate::appeals::reviews;
use crate::appeals::routing::Policy;
use crate::appeals::routing::repo as routing_repo;
use crate::audit::{self, repo::Event};
use crate::calendar::CalendarHandle;
use crate::db::{self, Db, DbConnection, DbError, write_tx};
use crate::decisions::model::{Decision, DecisionRow};
use crate::domain::appeal::{Action, AppealDraft, AppealStatus, ValidAppeal};
use crate::domain::decision::DecisionStatus;
use crate::domain::legal_clock::LegalCalendar;
use crate::domain::routing::{self, RoutingFacts};
use crate::domain::validation::Checker;
use crate::domain::{Actor, Role, legal_clock};
use crate::idempotency::{self, Prior};
use crate::notices::{self, templates};
use crate::{decisions, outbox};

/// What filing did: a new appeal, or the stored response to a repeated `Idempotency-Key`.
pub enum Filed {
    Created(Box<AppealDetail>),
    Replayed { status: u16, body: Value },
}

/// An `Idempotency-Key` and the fingerprint of the request it came with.
pub struct IdempotencyKey {
    pub key: String,
    pub request_hash: String,
}

pub(crate) fn audit_appeal(
    conn: &mut DbConnection,
    actor: &Actor,
    action: &str,
    appeal_id: &str,
    details: Value,
) -> Result<(), DbError> {
    audit::repo::record(
        conn,
        actor,
        Event {
            action,
            object_type: "appeal",
            object_id: appeal_id,
            details,
        },
    )
}

/// Files the review task for a decision made by a suspended model (AI Act Art. 26(5)), inside
/// the ingesting transaction: an appeal by `system:kill-switch` in the mandatory-review queue,
/// with the ordinary legal clock, served by the ordinary claim flow. The caller has stored the
/// decision as `under_appeal`.
pub(crate) fn file_mandatory_review(
    conn: &mut DbConnection,
    calendar: &LegalCalendar,
    decision: &DecisionRow,
    reason: &str,
) -> Result<String, DbError> {
    let actor = Actor::system("system:kill-switch");
    let now = db::now();
    let received_at = now.and_utc();
    let due_at = calendar.due_at(received_at);
    let row = AppealRow {
        id: uuid::Uuid::now_v7().to_string(),
        decision_id: decision.id.clone(),
        subject_id: decision.subject_id.clone(),
        decision_type: decision.decision_type.clone(),
        status: AppealStatus::Queued.as_str().to_owned(),
        queue: routing::MANDATORY_REVIEW_QUEUE.to_owned(),
        priority: routing::MANDATORY_REVIEW_PRIORITY,
        escalation_level: 0,
        escalate_at: legal_clock::next_escalation_at(received_at, due_at, 0).map(|t| t.naive_utc()),
        filed_by: actor.id.clone(),
        filed_by_role: actor.role.as_str().to_owned(),
        channel: "api".to_owned(),
        identity_check: None,
        grounds: to_json(&["not_solely_automated_review"]),
        statement: format!(
            "Model {:?} is suspended; every decision it makes needs human review before it stands. Reason: {reason}",
            decision.model_name
        ),
        corrected_inputs: None,
        requested_outcome: None,
        evidence: None,
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
    };
    repo::insert(conn, &row)?;
    audit_appeal(
        conn,
        &actor,
        "appeal.filed",
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
            "due_at": due_at,
        }),
    )?;
    Ok(row.id)
}

pub(crate) fn load_appeal(conn: &mut DbConnection, id: &str) -> Result<AppealRow, AppealError> {
    repo::find(conn, id)?.ok_or(AppealError::NotFound)
}

pub(crate) fn load_decision(conn: &mut DbConnection, id: &str) -> Result<DecisionRow, AppealError> {
    decisions::repo::find(conn, id)?.ok_or(AppealError::NotFound)
}

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
    db.maintain(move |conn| {
        let attempt = |conn: &mut DbConnection| {
            write_tx(conn, |conn| {
                file_in_tx(conn, &calendar, &actor, &decision_id, &appeal, idempotency_key.as_ref())
            })
        };
        let attempted = match attempt(conn) {
            // Two identical requests raced on the same Idempotency-Key: the second now replays.
            // The loser may also see the winner's committed appeal before its key (PostgreSQL
            // reads each statement's own snapshot), so an open appeal is checked against the
            // key once more before it is a conflict.
            Err(AppealError::Db(e)) if e.is_unique_violation() && idempotency_key.is_some() => attempt(conn),
            Err(AppealError::AlreadyOpen { .. }) if idempotency_key.is_some() => attempt(conn),
            Err(AppealError::Db(e)) if e.is_unique_violation() => {
                let appeal_id = repo::open_for_decision(conn, &decision_id)?.unwrap_or_default();
                Err(AppealError::AlreadyOpen { appeal_id })
            }
            other => other,
        };
        match attempted? {
            Attempt::Done(filed) => Ok(filed),
            Attempt::Refused { closed_at, closed_on } => Err(AppealError::FilingWindowClosed { closed_at, closed_on }),
        }
    })
    .await
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
    audit::repo::record(
        conn,
        actor,
        Event {
            action: "appeal.refused",
            object_type: "decision",
            object_id: &decision.id,
            details: json!({"reason": "filing_window_closed", "closed_on": closed_on, "notice_id": notice.id}),
        },
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
    let decision = load_decision(conn, decision_id)?;
    if actor.is(Role::Subject) && decision.subject_id != actor.id {
        return Err(AppealError::NotFound);
    }
    let now = db::now();
    let received_at = now.and_utc();
    let decided_at = decision.decided_at.and_utc();
    let policy = Policy::for_type(conn, &decision.decision_type)?;
    let closed_at = calendar.filing_window_closes_at(decided_at, policy.filing_window_months);
    if received_at > closed_at {
        let closed_on = calendar.local_date(closed_at);
        refuse_late_filing(conn, calendar, actor, &decision, closed_on)?;
        return Ok(Attempt::Refused { closed_at, closed_on });
    }
    let open = repo::open_for_decision(conn, decision_id)?;
    let rules = routing_repo::all_rules(conn)?;
    let (queue, priority) = routing::route(
        &rules,
        &RoutingFacts {
            decision_type: &decision.decision_type,
            model_name: &decision.model_name,
            significant_effect: decision.significant_effect,
            score: decision.score,
        },
    );
    let due_at = calendar.due_at(received_at);
    let row = AppealRow {
        id: uuid::Uuid::now_v7().to_string(),
        decision_id: decision.id.clone(),
        subject_id: decision.subject_id.clone(),
        decision_type: decision.decision_type.clone(),
        status: AppealStatus::Queued.as_str().to_owned(),
        queue,
        priority,
        escalation_level: 0,
        escalate_at: legal_clock::next_escalation_at(received_at, due_at, 0).map(|t| t.naive_utc()),
        filed_by: actor.id.clone(),
        filed_by_role: actor.role.as_str().to_owned(),
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
    };
    let (row, joined_task) = match open {
        None => {
            repo::insert(conn, &row)?;
            decisions::repo::set_status(
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
    audit_appeal(
        conn,
        actor,
        "appeal.filed",
        &row.id,
        json!({"decision_id": decision.id, "queue": row.queue, "priority": row.priority, "channel": row.channel,
               "grounds": appeal.grounds, "identity_checked": appeal.identity_check.is_some(),
               "joined_review_task_in": joined_task.map(AppealStatus::as_str)}),
    )?;
    let detail = detail_in_tx(conn, &row, actor.role)?;
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
    let task = load_appeal(conn, task_id)?;
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
            if let Some(pending) = reviews::repo::pending_for_appeal(conn, &task.id)? {
                reviews::repo::resolve(
                    conn,
                    &pending.id,
                    reviews::model::status::RETURNED,
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
    if !repo::refile_if_status(conn, &task.id, from, &refiled, &update)? {
        return Err(AppealError::AlreadyOpen { appeal_id: task.id });
    }
    Ok((load_appeal(conn, &task.id)?, from))
}

/// The text of a JSON column. Serialising these plain data types cannot fail.
fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

pub(crate) fn detail_in_tx(
    conn: &mut DbConnection,
    row: &AppealRow,
    viewer: Role,
) -> Result<AppealDetail, AppealError> {
    let outcome = reviews::repo::effective_for_appeal(conn, &row.id)?.map(|r| OutcomeView {
        result: r.outcome,
        new_outcome: r.new_outcome,
        rationale: r.rationale,
        decided_at: r.resolved_at.unwrap_or(r.created_at).and_utc(),
    });
    let pending_review = match viewer {
        Role::Subject => None,
        _ => reviews::repo::pending_for_appeal(conn, &row.id)?.map(reviews::model::ReviewView::from),
    };
    Ok(AppealDetail {
        appeal: AppealView::from_row(row, viewer)?,
        outcome,
        pending_review,
        notices: notices::for_appeal(conn, &row.id)?,
    })
}

#[tracing::instrument(skip_all, fields(appeal_id = %id))]
pub async fn get(db: &Db, actor: Actor, id: String) -> Result<AppealDetail, AppealError> {
    audit::access::read(db, actor.role, move |conn| {
        let row = load_appeal(conn, &id)?;
        if !actor.may_read_subject(&row.subject_id) {
            return Err(AppealError::NotFound);
        }
        audit::access::record_reads(conn, &actor, "appeal", std::slice::from_ref(&row.id), "api")?;
        detail_in_tx(conn, &row, actor.role)
    })
    .await
}

/// The decision's status once no appeal is open: that of its latest effective review.
pub(crate) fn restore_decision_status(conn: &mut DbConnection, decision: &DecisionRow) -> Result<(), AppealError> {
    // Filing never changes the outcome in force, so only the status needs restoring.
    let status = match reviews::repo::latest_effective_for_decision(conn, &decision.id)? {
        Some(review) => crate::domain::review::ReviewOutcome::parse(&review.outcome)
            .ok_or_else(|| AppealError::Corrupt(format!("review {} outcome {:?}", review.id, review.outcome)))?
            .decision_status(),
        None => DecisionStatus::Effective,
    };
    decisions::repo::set_status(conn, &decision.id, status.as_str(), &decision.effective_outcome)?;
    Ok(())
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawalInput {
    /// Required when an agent withdraws for a caller: how the caller's identity was verified.
    /// Any agent may do so (the caller may ring back and reach another agent); a subject
    /// withdrawing their own appeal leaves it out.
    #[serde(default)]
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff\ufdd0-\ufdef\ufffe\uffff]*[^\s\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff\ufdd0-\ufdef\ufffe\uffff][^\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff\ufdd0-\ufdef\ufffe\uffff]*$"
    )]
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
    db.maintain(move |conn| {
        write_tx(conn, |conn| {
            let row = load_appeal(conn, &id)?;
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
            if !repo::update_if_status(conn, &id, from, &AppealUpdate::to_status_unleased(to, now))? {
                return Err(AppealError::StaleLease);
            }
            let decision = load_decision(conn, &row.decision_id)?;
            restore_decision_status(conn, &decision)?;
            outbox::enqueue(
                conn,
                outbox::EventKind::AppealWithdrawn,
                Some(&decision.engine_id),
                outbox::About::Subject(&decision.subject_id),
                json!({"appeal_id": id, "decision_id": decision.id, "external_id": decision.external_id}),
            )?;
            audit_appeal(
                conn,
                &actor,
                "appeal.withdrawn",
                &id,
                json!({"from": from.as_str(), "identity_checked_by_agent": actor.is(Role::Agent),
                       "identity_method": input.identity_method}),
            )?;
            let row = load_appeal(conn, &id)?;
            detail_in_tx(conn, &row, actor.role)
        })
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
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff\ufdd0-\ufdef\ufffe\uffff]*[^\s\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff\ufdd0-\ufdef\ufffe\uffff][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff\ufdd0-\ufdef\ufffe\uffff]*$"
    )]
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
    c.prose("/reason", &input.reason, 2000);
    c.finish(()).map_err(AppealError::Invalid)?;
    let calendar = calendar.current();
    db.maintain(move |conn| {
        write_tx(conn, |conn| {
            let row = load_appeal(conn, &id)?;
            let status = row.status()?;
            status.apply(Action::Extend)?;
            let now = db::now();
            let received = row.received_at.and_utc();
            let new_due = calendar.extend(received, row.due_at.and_utc(), now.and_utc(), input.months, row.extension_reason.is_some())
                .map_err(|e| match e {
                    legal_clock::ExtensionError::InvalidLength => AppealError::invalid("/months", e.to_string()),
                    other => AppealError::Extension(other),
                })?;
            let update = AppealUpdate {
                due_at: Some(new_due.naive_utc()),
                extension_reason: Some(Some(input.reason.clone())),
                escalate_at: Some(legal_clock::next_escalation_at(received, new_due, row.escalation_level).map(|t| t.naive_utc())),
                updated_at: Some(now),
                ..Default::default()
            };
            if !repo::update_if_status(conn, &id, status, &update)? {
                return Err(AppealError::StaleLease);
            }
            notices::insert(conn, &id, &row.subject_id, "extension", templates::extension(calendar.local_date(new_due), input.months, &input.reason), now)?;
            let decision = load_decision(conn, &row.decision_id)?;
            outbox::enqueue(
                conn,
                outbox::EventKind::AppealExtended,
                Some(&decision.engine_id),
                outbox::About::Subject(&decision.subject_id),
                json!({"appeal_id": id, "decision_id": decision.id, "external_id": decision.external_id, "due_at": new_due}),
            )?;
            audit_appeal(conn, &actor, "appeal.extended", &id, json!({"months": input.months, "due_at": new_due}))?;
            let row = load_appeal(conn, &id)?;
            detail_in_tx(conn, &row, actor.role)
        })
    })
    .await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignmentInput {
    #[schema(min_length = 1, max_length = 128, pattern = r"^[A-Za-z0-9_.:@-]+$")]
    pub reviewer: String,
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff\ufdd0-\ufdef\ufffe\uffff]*[^\s\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff\ufdd0-\ufdef\ufffe\uffff][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff\ufdd0-\ufdef\ufffe\uffff]*$"
    )]
    pub reason: String,
}

/// Why `reviewer` may not decide `appeal`, or `None` when they may (authority, not the filer,
/// not an earlier reviewer of the decision, within capacity).
pub(crate) fn ineligibility(
    conn: &mut DbConnection,
    reviewer: &str,
    appeal: &AppealRow,
    check_capacity: bool,
) -> Result<Option<String>, AppealError> {
    let Some(row) = routing_repo::reviewer(conn, reviewer)? else {
        return Ok(Some(format!("{reviewer} is not a configured reviewer")));
    };
    let authorities = crate::appeals::routing::service::parse_authorities(&row.authorities);
    if !authorities.contains(&appeal.decision_type) {
        return Ok(Some(format!(
            "{reviewer} has no authority for {} decisions",
            appeal.decision_type
        )));
    }
    if appeal.filed_by == reviewer {
        return Ok(Some(format!("{reviewer} filed this appeal")));
    }
    if reviews::repo::has_reviewed(conn, &appeal.decision_id, reviewer)? {
        return Ok(Some(format!("{reviewer} already reviewed this decision")));
    }
    if check_capacity && repo::live_leases(conn, reviewer, db::now())? >= i64::from(row.capacity) {
        return Ok(Some(format!("{reviewer} is at capacity")));
    }
    Ok(None)
}

/// A supervisor gives an appeal to a named reviewer. Any current lease is revoked, so the
/// previous holder's review will be refused; the appeal waits for the named reviewer's claim.
#[tracing::instrument(skip_all, fields(appeal_id = %id))]
pub async fn assign(db: &Db, actor: Actor, id: String, input: AssignmentInput) -> Result<AppealDetail, AppealError> {
    let mut c = Checker::default();
    c.identifier("/reviewer", &input.reviewer, 128);
    c.prose("/reason", &input.reason, 2000);
    c.finish(()).map_err(AppealError::Invalid)?;
    db.maintain(move |conn| {
        write_tx(conn, |conn| {
            let row = load_appeal(conn, &id)?;
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
            if !repo::update_if_status(conn, &id, from, &update)? {
                return Err(AppealError::StaleLease);
            }
            audit_appeal(
                conn,
                &actor,
                "appeal.assigned",
                &id,
                json!({"reviewer": input.reviewer, "previous_reviewer": row.reviewer_id, "previous_assignee": row.assigned_to}),
            )?;
            let row = load_appeal(conn, &id)?;
            detail_in_tx(conn, &row, actor.role)
        })
    })
    .await
}

/// The decision as a reviewer sees it in a case, with its explanation.
pub(crate) fn decision_view(row: DecisionRow) -> Result<Decision, AppealError> {
    Ok(Decision::try_from(row)?)
}
