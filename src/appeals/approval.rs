//! Four eyes: under a high-impact policy, a supervisor or another eligible reviewer approves a
//! pending overturn or amend, which then takes effect, or returns it to the queue for a fresh
//! review. Never the first reviewer.

use serde::Deserialize;
use serde_json::json;

use super::AppealError;
use super::detail::AppealDetail;
use super::model::{AppealUpdate, review_status};
use super::repo;
use super::review::{refuse_while_restricted, take_effect};
use super::routing::ineligibility;
use crate::audit;
use crate::calendar::CalendarHandle;
use crate::db::{self, Db};
use crate::domain::appeal::Action;
use crate::domain::validation::Checker;
use crate::domain::{Actor, Role};

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
    #[schema(value_type = Option<crate::domain::fields::Prose<2000>>)]
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
        (Some(note), _) => c.check::<crate::domain::fields::Prose<2000>>("/note", note),
        (None, ApprovalChoice::Return) => c.fail("/note", "say why the review is returned"),
        (None, ApprovalChoice::Approve) => {}
    }
    c.finish(()).map_err(AppealError::Invalid)?;
    let calendar = calendar.current();
    db.write(move |conn| {
        let appeal = repo::appeals::find(conn, &id)?.ok_or(AppealError::NotFound)?;
        let from = appeal.status()?;
        let action = match input.decision {
            ApprovalChoice::Approve => Action::Approve,
            ApprovalChoice::Return => Action::ReturnForReview,
        };
        let to = from.apply(action)?;
        if input.decision == ApprovalChoice::Approve {
            refuse_while_restricted(conn, &appeal)?;
        }
        let pending = repo::reviews::pending_for_appeal(conn, &id)?
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
        let resolved = match input.decision {
            ApprovalChoice::Approve => review_status::APPROVED,
            ApprovalChoice::Return => review_status::RETURNED,
        };
        if !repo::reviews::resolve(conn, &pending.id, resolved, &actor.id, input.note.as_deref(), now)? {
            return Err(AppealError::StaleLease);
        }
        let update = AppealUpdate {
            decided_at: (input.decision == ApprovalChoice::Approve).then_some(Some(now)),
            ..AppealUpdate::to_status_unleased(to, now)
        };
        if !repo::appeals::update_if_status(conn, &id, from, &update)? {
            return Err(AppealError::StaleLease);
        }
        let (action, details) = match input.decision {
            ApprovalChoice::Approve => {
                take_effect(conn, &calendar, &appeal, &pending)?;
                (
                    "appeal.approved",
                    json!({"review_id": pending.id, "outcome": pending.outcome}),
                )
            }
            ApprovalChoice::Return => ("appeal.returned", json!({"review_id": pending.id})),
        };
        audit::record(conn, &actor, action, "appeal", &id, details)?;
        let appeal = repo::appeals::find(conn, &id)?.ok_or(AppealError::NotFound)?;
        AppealDetail::load(conn, &appeal, actor.role)
    })
    .await
}
