//! Restriction of processing (GDPR Art. 18). While a subject is restricted their data is stored
//! only: their appeals are not claimable, webhooks about them wait, the feed carries their events
//! without data, and label exports leave them out. The subject is sent a notice before the
//! restriction is lifted, and engines hear of both (Art. 19).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{announce, intake, repo};
use crate::appeals::AppealError;
use crate::db::{self, Db, DbConnection};
use crate::domain::Actor;
use crate::domain::subject::subject_ref;
use crate::notices::model::SubjectNotice;
use crate::notices::{self, templates};
use crate::outbox::EventKind;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestrictionInput {
    #[schema(value_type = crate::domain::fields::Prose<2000>)]
    pub reason: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RestrictionView {
    pub subject_ref: String,
    pub restricted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    /// The notice sent to the subject before the restriction was lifted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice: Option<SubjectNotice>,
}

/// Restricts processing, in the caller's write transaction; a no-op when already restricted.
pub(crate) fn restrict_in_tx(
    conn: &mut DbConnection,
    actor: &Actor,
    subject_id: &str,
    reason: &str,
) -> Result<RestrictionView, AppealError> {
    let reference = subject_ref(subject_id);
    if let Some(since) = repo::restricted_since(conn, subject_id)? {
        return Ok(RestrictionView {
            subject_ref: reference,
            restricted: true,
            since: Some(since.and_utc()),
            notice: None,
        });
    }
    let now = db::now();
    repo::insert_restriction(conn, subject_id, reason, &actor.id, now)?;
    announce::to_engines(conn, EventKind::SubjectRestricted, subject_id, json!({}))?;
    crate::audit::record(conn, actor, "subject.restricted", "subject", &reference, json!({}))?;
    Ok(RestrictionView {
        subject_ref: reference,
        restricted: true,
        since: Some(now.and_utc()),
        notice: None,
    })
}

/// Lifts a restriction, in the caller's write transaction: first the notice to the subject,
/// then the lift. `NotFound` when the subject is not restricted.
pub(crate) fn lift_in_tx(
    conn: &mut DbConnection,
    actor: &Actor,
    subject_id: &str,
    reason: &str,
) -> Result<RestrictionView, AppealError> {
    if repo::restricted_since(conn, subject_id)?.is_none() {
        return Err(AppealError::NotFound);
    }
    let notice = notices::send_to_subject(
        conn,
        subject_id,
        "restriction_lift",
        templates::restriction_lift(reason),
    )?;
    repo::delete_restriction(conn, subject_id)?;
    // Webhooks held back during the restriction get a fresh retry window.
    repo::refresh_held_deliveries(conn, subject_id, notice.created_at)?;
    announce::to_engines(conn, EventKind::SubjectRestrictionLifted, subject_id, json!({}))?;
    let reference = subject_ref(subject_id);
    crate::audit::record(
        conn,
        actor,
        "subject.restriction_lifted",
        "subject",
        &reference,
        json!({"notice_id": notice.id}),
    )?;
    Ok(RestrictionView {
        subject_ref: reference,
        restricted: false,
        since: None,
        notice: Some(notice),
    })
}

/// What a privacy officer does to a subject's restriction.
#[derive(Debug, Clone, Copy)]
pub enum Change {
    /// Restricts processing (a no-op when already restricted).
    Restrict,
    /// Lifts the restriction: first the notice to the subject, then the lift.
    Lift,
}

/// Restricts or lifts, in one write transaction, once the reason is checked.
#[tracing::instrument(skip_all, fields(change = ?change))]
pub async fn change(
    db: &Db,
    actor: Actor,
    subject_id: String,
    change: Change,
    input: RestrictionInput,
) -> Result<RestrictionView, AppealError> {
    intake::check_prose("/reason", &input.reason)?;
    let step = match change {
        Change::Restrict => restrict_in_tx,
        Change::Lift => lift_in_tx,
    };
    db.write(move |conn| step(conn, &actor, &subject_id, &input.reason))
        .await
}
