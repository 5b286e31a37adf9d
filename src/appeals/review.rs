//! The review: the leaseholder's outcome for an appeal. Under a high-impact policy an overturn or
//! amend waits for a second person (see [`super::approval`]); otherwise it takes effect at once:
//! the decision's status and outcome in force change, the subject gets the outcome notice, and
//! the engine hears of it.

use serde_json::json;

use super::AppealError;
use super::detail::AppealDetail;
use super::model::{AppealRow, AppealUpdate, ReviewRow};
use super::repo;
use crate::audit;
use crate::calendar::CalendarHandle;
use crate::db::{self, Db, DbConnection};
use crate::decisions::repo as decision_repo;
use crate::domain::appeal::{Action, AppealStatus};
use crate::domain::legal_clock::LegalCalendar;
use crate::domain::review::ValidReview;
use crate::domain::{Actor, Role};
use crate::notices::{self, templates};
use crate::outbox;

/// Submits the leaseholder's review. The API's path: the blind-first rule belongs to the
/// reviewer's workbench (`casework::submit_review`), whose case hides the model's view.
#[tracing::instrument(skip_all, fields(appeal_id = %id))]
pub async fn submit(
    db: &Db,
    calendar: &CalendarHandle,
    actor: Actor,
    id: String,
    review: ValidReview,
) -> Result<AppealDetail, AppealError> {
    let calendar = calendar.current();
    db.write(move |conn| submit_in_tx(conn, &calendar, &actor, &id, &review))
        .await
}

/// Stores `actor`'s review of appeal `id` and, unless it waits for approval, puts it into effect.
/// Runs in the caller's write transaction.
pub fn submit_in_tx(
    conn: &mut DbConnection,
    calendar: &LegalCalendar,
    actor: &Actor,
    id: &str,
    review: &ValidReview,
) -> Result<AppealDetail, AppealError> {
    let appeal = repo::appeals::find(conn, id)?.ok_or(AppealError::NotFound)?;
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
        let decision = decision_repo::find(conn, &appeal.decision_id)?.ok_or(AppealError::NotFound)?;
        review
            .check_against(&decision.effective_outcome)
            .map_err(|e| AppealError::Invalid(vec![e]))?;
    }
    let policy = repo::routing::policy_for(conn, &appeal.decision_type)?;
    let needs_approval = policy.requires_approval && review.outcome.changes_outcome();
    let to = from.apply(Action::SubmitReview { needs_approval })?;
    let now = db::now();
    let update = AppealUpdate {
        decided_at: (!needs_approval).then_some(Some(now)),
        ..AppealUpdate::to_status_unleased(to, now)
    };
    if !repo::appeals::update_if_leased(conn, id, &actor.id, &review.lease_token, now, &update)? {
        return Err(AppealError::StaleLease);
    }
    let row = ReviewRow::submitted(&appeal, &actor.id, review, needs_approval, now);
    repo::reviews::insert(conn, &row)?;
    let (action, details) = if needs_approval {
        (
            "appeal.review_submitted",
            json!({"review_id": row.id, "outcome": row.outcome, "awaiting_approval": true}),
        )
    } else {
        take_effect(conn, calendar, &appeal, &row)?;
        ("appeal.decided", json!({"review_id": row.id, "outcome": row.outcome}))
    };
    audit::record(conn, actor, action, "appeal", id, details)?;
    let appeal = repo::appeals::find(conn, id)?.ok_or(AppealError::NotFound)?;
    AppealDetail::load(conn, &appeal, actor.role)
}

/// Art. 18: while processing is restricted the data is only stored, so no review is decided,
/// even on a lease taken before the restriction.
pub(super) fn refuse_while_restricted(conn: &mut DbConnection, appeal: &AppealRow) -> Result<(), AppealError> {
    if crate::subjects::repo::restricted_since(conn, &appeal.subject_id)?.is_some() {
        return Err(AppealError::Restricted);
    }
    Ok(())
}

/// A final outcome: the decision's status and effective outcome change, the subject gets the
/// outcome notice, and the engine hears of it (and of the override, if any).
pub(super) fn take_effect(
    conn: &mut DbConnection,
    calendar: &LegalCalendar,
    appeal: &AppealRow,
    review: &ReviewRow,
) -> Result<(), AppealError> {
    let decision = decision_repo::find(conn, &appeal.decision_id)?.ok_or(AppealError::NotFound)?;
    let result = review.outcome()?;
    // An uphold keeps the outcome in force, which after an earlier overturn is not the engine's.
    let effective = review
        .new_outcome
        .clone()
        .unwrap_or_else(|| decision.effective_outcome.clone());
    decision_repo::set_status(conn, &decision.id, result.decision_status().as_str(), &effective)?;
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
