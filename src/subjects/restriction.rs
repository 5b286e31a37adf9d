//! Restriction of processing (GDPR Art. 18). While a subject is restricted their data is stored
//! only: their appeals are not claimable, webhooks about them wait, the feed carries their events
//! without data, and label exports leave them out. The subject is sent a notice before the
//! restriction is lifted, and engines hear of both (Art. 19).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::subject_ref;
use crate::appeals::AppealError;
use crate::audit::{self, repo::Event};
use crate::db::schema::{subject_notices, subject_restrictions};
use crate::db::{self, Db, DbConnection, DbError, write_tx};
use crate::domain::Actor;
use crate::domain::validation::Checker;
use crate::notices::templates;

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

#[derive(Debug, Clone, Serialize, Queryable, utoipa::ToSchema)]
pub struct SubjectNotice {
    pub id: String,
    #[serde(skip)]
    pub subject_id: String,
    pub kind: String,
    pub body: String,
    #[serde(serialize_with = "crate::domain::utc::as_utc")]
    pub created_at: chrono::NaiveDateTime,
}

/// Stores a notice to a subject that belongs to no appeal (restriction lifts, breach notices).
pub(crate) fn send_notice(
    conn: &mut DbConnection,
    subject_id: &str,
    kind: &str,
    body: String,
) -> Result<SubjectNotice, DbError> {
    let notice = SubjectNotice {
        id: uuid::Uuid::now_v7().to_string(),
        subject_id: subject_id.to_owned(),
        kind: kind.to_owned(),
        body,
        created_at: db::now(),
    };
    super::repo::insert_subject_notice(conn, &notice)?;
    Ok(notice)
}

/// Those of `subjects` whose processing is restricted now.
pub fn restricted_among(conn: &mut DbConnection, subjects: &[&str]) -> Result<Vec<String>, DbError> {
    Ok(subject_restrictions::table
        .filter(subject_restrictions::subject_id.eq_any(subjects))
        .select(subject_restrictions::subject_id)
        .load(conn)?)
}

pub fn restricted_since(conn: &mut DbConnection, subject_id: &str) -> Result<Option<chrono::NaiveDateTime>, DbError> {
    Ok(subject_restrictions::table
        .find(subject_id)
        .select(subject_restrictions::created_at)
        .first(conn)
        .optional()?)
}

pub fn notices_of(conn: &mut DbConnection, subject_id: &str) -> Result<Vec<SubjectNotice>, DbError> {
    Ok(subject_notices::table
        .filter(subject_notices::subject_id.eq(subject_id))
        .order(subject_notices::created_at.asc())
        .load(conn)?)
}

/// Tells each engine holding the subject's decisions, with its own references.
fn check_reason(reason: &str) -> Result<(), AppealError> {
    let mut c = Checker::default();
    c.prose("/reason", reason, 2000);
    c.finish(()).map_err(AppealError::Invalid)
}

/// Restricts processing inside the caller's transaction; a no-op when already restricted.
pub(crate) fn restrict_in_tx(
    conn: &mut DbConnection,
    actor: &Actor,
    subject_id: &str,
    reason: &str,
) -> Result<RestrictionView, AppealError> {
    let reference = subject_ref(subject_id);
    if let Some(since) = restricted_since(conn, subject_id)? {
        return Ok(RestrictionView {
            subject_ref: reference,
            restricted: true,
            since: Some(since.and_utc()),
            notice: None,
        });
    }
    let now = db::now();
    super::repo::insert_restriction(conn, subject_id, reason, &actor.id, now)?;
    super::announce_to_engines(conn, crate::outbox::EventKind::SubjectRestricted, subject_id, json!({}))?;
    audit::repo::record(
        conn,
        actor,
        Event {
            action: "subject.restricted",
            object_type: "subject",
            object_id: &reference,
            details: json!({}),
        },
    )?;
    Ok(RestrictionView {
        subject_ref: reference,
        restricted: true,
        since: Some(now.and_utc()),
        notice: None,
    })
}

/// Lifts a restriction inside the caller's transaction: first the notice to the subject, then
/// the lift. `NotFound` when the subject is not restricted.
pub(crate) fn lift_in_tx(
    conn: &mut DbConnection,
    actor: &Actor,
    subject_id: &str,
    reason: &str,
) -> Result<RestrictionView, AppealError> {
    if restricted_since(conn, subject_id)?.is_none() {
        return Err(AppealError::NotFound);
    }
    let notice = send_notice(
        conn,
        subject_id,
        "restriction_lift",
        templates::restriction_lift(reason),
    )?;
    super::repo::delete_restriction(conn, subject_id)?;
    // Webhooks held back during the restriction get a fresh retry window.
    super::repo::refresh_held_deliveries(conn, subject_id, notice.created_at)?;
    super::announce_to_engines(
        conn,
        crate::outbox::EventKind::SubjectRestrictionLifted,
        subject_id,
        json!({}),
    )?;
    let reference = subject_ref(subject_id);
    audit::repo::record(
        conn,
        actor,
        Event {
            action: "subject.restriction_lifted",
            object_type: "subject",
            object_id: &reference,
            details: json!({"notice_id": notice.id}),
        },
    )?;
    Ok(RestrictionView {
        subject_ref: reference,
        restricted: false,
        since: None,
        notice: Some(notice),
    })
}

#[tracing::instrument(skip_all)]
pub async fn restrict(
    db: &Db,
    actor: Actor,
    subject_id: String,
    input: RestrictionInput,
) -> Result<RestrictionView, AppealError> {
    check_reason(&input.reason)?;
    db.maintain(move |conn| write_tx(conn, |conn| restrict_in_tx(conn, &actor, &subject_id, &input.reason)))
        .await
}

/// Lifts a restriction: first the notice to the subject, then the lift, in one transaction.
#[tracing::instrument(skip_all)]
pub async fn lift(
    db: &Db,
    actor: Actor,
    subject_id: String,
    input: RestrictionInput,
) -> Result<RestrictionView, AppealError> {
    check_reason(&input.reason)?;
    db.maintain(move |conn| write_tx(conn, |conn| lift_in_tx(conn, &actor, &subject_id, &input.reason)))
        .await
}
