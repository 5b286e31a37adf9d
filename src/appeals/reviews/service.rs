use serde::Deserialize;
use serde_json::json;

use super::model::{ReviewRow, status};
use super::repo;
use crate::appeals::model::{AppealDetail, AppealRow, AppealUpdate};
use crate::appeals::routing::Policy;
use crate::appeals::service::{audit_appeal, detail_in_tx, ineligibility, load_appeal, load_decision};
use crate::appeals::{AppealError, repo as appeal_repo};
use crate::calendar::CalendarHandle;
use crate::db::{self, Db, DbConnection, write_tx};
use crate::decisions;
use crate::domain::appeal::{Action, AppealStatus};
use crate::domain::legal_clock::LegalCalendar;
use crate::domain::review::{ReviewOutcome, ValidReview};
use crate::domain::validation::Checker;
use crate::domain::{Actor, Role};
use crate::notices::{self, templates};
use crate::outbox;

/// Submits the leaseholder's review. With a high-impact policy, an overturn or amend waits for
/// a second person; otherwise the outcome takes effect at once.
#[tracing::instrument(skip_all, fields(appeal_id = %id))]
pub async fn submit(
    db: &Db,
    calendar: &CalendarHandle,
    actor: Actor,
    id: String,
    review: ValidReview,
) -> Result<AppealDetail, AppealError> {
    let calendar = calendar.current();
    db.maintain(move |conn| {
        write_tx(conn, |conn| {
            let appeal = load_appeal(conn, &id)?;
            let from = appeal.status()?;
            let leased_to_actor = appeal.reviewer_id.as_deref() == Some(actor.id.as_str())
                && appeal.lease_token.as_deref() == Some(review.lease_token.as_str());
            // A queued appeal has no live lease: whatever token is presented has expired, been
            // released or been revoked by a reassignment.
            if matches!(from, AppealStatus::InReview | AppealStatus::Queued) && !leased_to_actor {
                return Err(AppealError::StaleLease);
            }
            refuse_while_restricted(conn, &appeal)?;
            if review.outcome.changes_outcome() {
                let decision = load_decision(conn, &appeal.decision_id)?;
                review
                    .check_against(&decision.effective_outcome)
                    .map_err(|e| AppealError::Invalid(vec![e]))?;
            }
            let policy = Policy::for_type(conn, &appeal.decision_type)?;
            let needs_approval = policy.requires_approval && review.outcome.changes_outcome();
            let to = from.apply(Action::SubmitReview { needs_approval })?;
            let now = db::now();
            let update = AppealUpdate {
                decided_at: (!needs_approval).then_some(Some(now)),
                ..AppealUpdate::to_status_unleased(to, now)
            };
            if !appeal_repo::update_if_leased(conn, &id, &actor.id, &review.lease_token, now, &update)? {
                return Err(AppealError::StaleLease);
            }
            let row = ReviewRow {
                id: uuid::Uuid::now_v7().to_string(),
                appeal_id: id.clone(),
                decision_id: appeal.decision_id.clone(),
                reviewer_id: actor.id.clone(),
                outcome: review.outcome.as_str().to_owned(),
                new_outcome: review.new_outcome.clone(),
                rationale: review.rationale.clone(),
                factors_considered: serde_json::to_string(&review.factors_considered).unwrap_or_default(),
                rectified_inputs: review
                    .rectified_inputs
                    .as_ref()
                    .map(|r| serde_json::to_string(r).unwrap_or_default()),
                status: if needs_approval {
                    status::PENDING_APPROVAL
                } else {
                    status::FINAL
                }
                .to_owned(),
                approver_id: None,
                approval_note: None,
                seconds_spent: appeal.claimed_at.map(|t| (now - t).num_seconds()),
                created_at: now,
                resolved_at: (!needs_approval).then_some(now),
            };
            repo::insert(conn, &row)?;
            if needs_approval {
                audit_appeal(
                    conn,
                    &actor,
                    "appeal.review_submitted",
                    &id,
                    json!({"review_id": row.id, "outcome": row.outcome, "awaiting_approval": true}),
                )?;
            } else {
                take_effect(conn, &calendar, &appeal, &row)?;
                audit_appeal(
                    conn,
                    &actor,
                    "appeal.decided",
                    &id,
                    json!({"review_id": row.id, "outcome": row.outcome}),
                )?;
            }
            let appeal = load_appeal(conn, &id)?;
            detail_in_tx(conn, &appeal, actor.role)
        })
    })
    .await
}

/// Art. 18: while processing is restricted the data is only stored, so no review is decided,
/// even on a lease taken before the restriction.
fn refuse_while_restricted(conn: &mut DbConnection, appeal: &AppealRow) -> Result<(), AppealError> {
    if crate::subjects::repo::restricted_since(conn, &appeal.subject_id)?.is_some() {
        return Err(AppealError::Restricted);
    }
    Ok(())
}

/// A final outcome: the decision's status and effective outcome change, the subject gets the
/// outcome notice, and the engine hears of it (and of the override, if any).
fn take_effect(
    conn: &mut DbConnection,
    calendar: &LegalCalendar,
    appeal: &AppealRow,
    review: &ReviewRow,
) -> Result<(), AppealError> {
    let decision = load_decision(conn, &appeal.decision_id)?;
    let result = ReviewOutcome::parse(&review.outcome)
        .ok_or_else(|| AppealError::Corrupt(format!("review {} outcome {:?}", review.id, review.outcome)))?;
    // An uphold keeps the outcome in force, which after an earlier overturn is not the engine's.
    let effective = review
        .new_outcome
        .clone()
        .unwrap_or_else(|| decision.effective_outcome.clone());
    decisions::repo::set_status(conn, &decision.id, result.decision_status().as_str(), &effective)?;
    let facts = templates::DecisionFacts {
        decision_type: &decision.decision_type,
        outcome: &decision.effective_outcome,
        decided_on: calendar.local_date(decision.decided_at.and_utc()),
    };
    notices::insert(
        conn,
        &appeal.id,
        &appeal.subject_id,
        "outcome",
        templates::outcome(
            &facts,
            if appeal.filed_by_role == Role::System.as_str() {
                templates::ReviewCause::SuspendedModel
            } else {
                templates::ReviewCause::Appeal
            },
            result.as_str(),
            review.new_outcome.as_deref(),
            &review.rationale,
        ),
        db::now(),
    )?;
    let common = json!({
        "appeal_id": appeal.id,
        "decision_id": decision.id,
        "external_id": decision.external_id,
        "model": {"name": decision.model_name, "version": decision.model_version},
        "original_outcome": decision.outcome,
        "result": result.as_str(),
        "effective_outcome": effective,
    });
    outbox::enqueue(
        conn,
        outbox::EventKind::AppealDecided,
        Some(&decision.engine_id),
        outbox::About::Subject(&decision.subject_id),
        common.clone(),
    )?;
    if result.changes_outcome() {
        outbox::enqueue(
            conn,
            outbox::EventKind::DecisionOverridden,
            Some(&decision.engine_id),
            outbox::About::Subject(&decision.subject_id),
            common,
        )?;
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalChoice {
    Approve,
    Return,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalInput {
    pub decision: ApprovalChoice,
    #[serde(default)]
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff\ufdd0-\ufdef\ufffe\uffff]*[^\s\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff\ufdd0-\ufdef\ufffe\uffff][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff\ufdd0-\ufdef\ufffe\uffff]*$"
    )]
    pub note: Option<String>,
}

/// The second pair of eyes: a supervisor, or another eligible reviewer, approves a pending
/// overturn or amend, or returns it to the queue for a fresh review. Never the first reviewer.
#[tracing::instrument(skip_all, fields(appeal_id = %id))]
pub async fn approve(
    db: &Db,
    calendar: &CalendarHandle,
    actor: Actor,
    id: String,
    input: ApprovalInput,
) -> Result<AppealDetail, AppealError> {
    let mut c = Checker::default();
    match (&input.note, input.decision) {
        (Some(note), _) => c.prose("/note", note, 2000),
        (None, ApprovalChoice::Return) => c.fail("/note", "say why the review is returned"),
        (None, ApprovalChoice::Approve) => {}
    }
    c.finish(()).map_err(AppealError::Invalid)?;
    let calendar = calendar.current();
    db.maintain(move |conn| {
        write_tx(conn, |conn| {
            let appeal = load_appeal(conn, &id)?;
            let from = appeal.status()?;
            let action = match input.decision {
                ApprovalChoice::Approve => Action::Approve,
                ApprovalChoice::Return => Action::ReturnForReview,
            };
            let to = from.apply(action)?;
            if input.decision == ApprovalChoice::Approve {
                refuse_while_restricted(conn, &appeal)?;
            }
            let pending = repo::pending_for_appeal(conn, &id)?
                .ok_or_else(|| AppealError::Corrupt(format!("appeal {id} awaits approval without a pending review")))?;
            if pending.reviewer_id == actor.id {
                return Err(AppealError::Forbidden(
                    "four eyes: the reviewer cannot approve their own review".into(),
                ));
            }
            if actor.is(Role::Reviewer)
                && let Some(why) = ineligibility(conn, &actor.id, &appeal, false)?
            {
                return Err(AppealError::Forbidden(format!("not eligible to approve: {why}")));
            }
            let now = db::now();
            let review_status = match input.decision {
                ApprovalChoice::Approve => status::APPROVED,
                ApprovalChoice::Return => status::RETURNED,
            };
            if !repo::resolve(conn, &pending.id, review_status, &actor.id, input.note.as_deref(), now)? {
                return Err(AppealError::StaleLease);
            }
            let update = AppealUpdate {
                decided_at: (input.decision == ApprovalChoice::Approve).then_some(Some(now)),
                ..AppealUpdate::to_status_unleased(to, now)
            };
            if !appeal_repo::update_if_status(conn, &id, from, &update)? {
                return Err(AppealError::StaleLease);
            }
            match input.decision {
                ApprovalChoice::Approve => {
                    take_effect(conn, &calendar, &appeal, &pending)?;
                    audit_appeal(
                        conn,
                        &actor,
                        "appeal.approved",
                        &id,
                        json!({"review_id": pending.id, "outcome": pending.outcome}),
                    )?;
                }
                ApprovalChoice::Return => {
                    audit_appeal(conn, &actor, "appeal.returned", &id, json!({"review_id": pending.id}))?;
                }
            }
            let appeal = load_appeal(conn, &id)?;
            detail_in_tx(conn, &appeal, actor.role)
        })
    })
    .await
}
