//! Rectification (GDPR Art. 16). A subject (or an agent or DPO for them) says which inputs of a
//! decision were wrong. While that is pending, processing is restricted (Art. 18(1)(a)); a DPO
//! then accepts it, and the corrected values replace the originals in every later read, export and
//! label, or rejects it. Engines are told of the request and of the correction (Art. 19).

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::restriction::{lift_in_tx, restrict_in_tx};
use super::subject_ref;
use crate::appeals::AppealError;
use crate::audit::{self, repo::Event};
use crate::db::schema::rectifications;
use crate::db::{self, Db, DbConnection, DbError, write_tx};
use crate::domain::validation::Checker;
use crate::domain::{Actor, Role};
use crate::notices::templates;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RectificationInput {
    pub decision_id: String,
    #[schema(schema_with = crate::domain::fields::scalar_map_nonempty)]
    pub corrected_inputs: BTreeMap<String, Value>,
    #[schema(value_type = crate::domain::fields::Prose<2000>)]
    pub note: String,
    /// Required when an agent asks for a caller: how the caller's identity was verified.
    #[serde(default)]
    #[schema(value_type = Option<crate::domain::fields::IdentityMethod>)]
    pub identity_method: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolutionInput {
    pub accept: bool,
    #[schema(value_type = crate::domain::fields::Prose<2000>)]
    pub note: String,
}

#[derive(Debug, Clone, Serialize, Queryable, utoipa::ToSchema)]
pub struct Rectification {
    pub id: String,
    #[serde(skip)]
    pub subject_id: String,
    pub decision_id: String,
    #[serde(serialize_with = "as_json")]
    pub corrected_inputs: String,
    pub note: String,
    pub status: String,
    /// Whether this rectification put the restriction in place.
    pub restricted: bool,
    #[serde(serialize_with = "crate::domain::utc::as_utc")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::domain::utc::opt_utc")]
    pub resolved_at: Option<NaiveDateTime>,
    pub resolution_note: Option<String>,
}

fn as_json<S: serde::Serializer>(raw: &str, s: S) -> Result<S::Ok, S::Error> {
    serde_json::from_str::<Value>(raw).unwrap_or(Value::Null).serialize(s)
}

pub const PENDING: &str = "pending";

pub fn of_subject(conn: &mut DbConnection, subject_id: &str) -> Result<Vec<Rectification>, DbError> {
    Ok(rectifications::table
        .filter(rectifications::subject_id.eq(subject_id))
        .order(rectifications::created_at.asc())
        .load(conn)?)
}

fn find(conn: &mut DbConnection, subject_id: &str, id: &str) -> Result<Option<Rectification>, DbError> {
    Ok(rectifications::table
        .find(id)
        .filter(rectifications::subject_id.eq(subject_id))
        .first(conn)
        .optional()?)
}

fn pending_count(conn: &mut DbConnection, subject_id: &str) -> Result<i64, DbError> {
    Ok(rectifications::table
        .filter(rectifications::subject_id.eq(subject_id))
        .filter(rectifications::status.eq(PENDING))
        .count()
        .get_result(conn)?)
}

/// Whether the restriction in force since `since` was put in place by a rectification (rather
/// than asked for by the subject or set by a privacy officer).
fn restriction_set_by_rectification(
    conn: &mut DbConnection,
    subject_id: &str,
    since: NaiveDateTime,
) -> Result<bool, DbError> {
    let n: i64 = rectifications::table
        .filter(rectifications::subject_id.eq(subject_id))
        .filter(rectifications::restricted.eq(true))
        .filter(rectifications::created_at.ge(since))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Lifts the restriction, notice first, once the accuracy it waited for is settled: it was put
/// in place by a rectification and none is pending any more, in whatever order they were
/// resolved. A restriction asked for on other grounds stays.
pub(crate) fn lift_if_settled(conn: &mut DbConnection, actor: &Actor, subject_id: &str) -> Result<(), AppealError> {
    let Some(since) = super::restriction::restricted_since(conn, subject_id)? else {
        return Ok(());
    };
    if pending_count(conn, subject_id)? == 0 && restriction_set_by_rectification(conn, subject_id, since)? {
        lift_in_tx(conn, actor, subject_id, "the accuracy of your data has been settled")?;
    }
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn request(
    db: &Db,
    actor: Actor,
    subject_id: String,
    input: RectificationInput,
) -> Result<Rectification, AppealError> {
    if actor.is(Role::Subject) && actor.id != subject_id {
        return Err(AppealError::NotFound);
    }
    let mut c = Checker::default();
    if input.corrected_inputs.is_empty() {
        c.fail("/corrected_inputs", "name at least one corrected input");
    }
    c.scalar_map("/corrected_inputs", &input.corrected_inputs, 256);
    c.prose("/note", &input.note, 2000);
    super::check_identity_method(&mut c, &actor, input.identity_method.as_deref());
    c.finish(()).map_err(AppealError::Invalid)?;
    db.maintain(move |conn| {
        write_tx(conn, |conn| {
            let decision = crate::decisions::repo::find(conn, &input.decision_id)?
                .filter(|d| d.subject_id == subject_id)
                .ok_or(AppealError::NotFound)?;
            let already = super::restriction::restricted_since(conn, &subject_id)?.is_some();
            if !already {
                restrict_in_tx(
                    conn,
                    &actor,
                    &subject_id,
                    "accuracy contested: rectification pending (Art. 18(1)(a))",
                )?;
            }
            let row = Rectification {
                id: uuid::Uuid::now_v7().to_string(),
                subject_id: subject_id.clone(),
                decision_id: decision.id.clone(),
                corrected_inputs: json!(input.corrected_inputs).to_string(),
                note: input.note.clone(),
                status: PENDING.into(),
                restricted: !already,
                created_at: db::now(),
                resolved_at: None,
                resolution_note: None,
            };
            super::repo::insert_rectification(conn, &row)?;
            crate::outbox::enqueue(
                conn,
                crate::outbox::EventKind::DecisionRectificationRequested,
                Some(&decision.engine_id),
                crate::outbox::About::Subject(&decision.subject_id),
                json!({"decision_id": decision.id, "external_id": decision.external_id, "rectification_id": row.id}),
            )?;
            audit::repo::record(
                conn,
                &actor,
                Event {
                    action: "subject.rectification_requested",
                    object_type: "decision",
                    object_id: &decision.id,
                    details: json!({"rectification_id": row.id, "subject": subject_ref(&subject_id),
                        "identity_checked_by_agent": actor.is(Role::Agent)}),
                },
            )?;
            Ok(row)
        })
    })
    .await
}

/// A DPO accepts (the corrected values replace the originals) or rejects a pending
/// rectification, and a rejection is explained to the subject; when no rectification is pending
/// any more and one of them set the restriction, the restriction is lifted, notice first.
#[tracing::instrument(skip_all)]
pub async fn resolve(
    db: &Db,
    actor: Actor,
    subject_id: String,
    id: String,
    input: ResolutionInput,
) -> Result<Rectification, AppealError> {
    let mut c = Checker::default();
    c.prose("/note", &input.note, 2000);
    c.finish(()).map_err(AppealError::Invalid)?;
    db.maintain(move |conn| {
        write_tx(conn, |conn| {
            let row = find(conn, &subject_id, &id)?.ok_or(AppealError::NotFound)?;
            if row.status != PENDING {
                return Err(AppealError::Forbidden(format!("the rectification is already {}", row.status)));
            }
            let decision = crate::decisions::repo::find(conn, &row.decision_id)?.ok_or(AppealError::NotFound)?;
            let status = if input.accept { "accepted" } else { "rejected" };
            let now = db::now();
            if input.accept {
                let corrected: BTreeMap<String, Value> = serde_json::from_str(&row.corrected_inputs).unwrap_or_default();
                let mut explanation: Value = serde_json::from_str(&decision.explanation).unwrap_or_else(|_| json!({}));
                for (feature, value) in &corrected {
                    explanation["inputs"][feature] = value.clone();
                }
                super::repo::set_explanation(conn, &decision.id, &explanation.to_string())?;
                crate::outbox::enqueue(
                    conn,
                    crate::outbox::EventKind::DecisionRectified,
                    Some(&decision.engine_id),
                    crate::outbox::About::Subject(&decision.subject_id),
                    json!({"decision_id": decision.id, "external_id": decision.external_id, "corrected_inputs": corrected}),
                )?;
            }
            super::repo::resolve_rectification(conn, &row.id, status, now, &input.note)?;
            // Art. 12(4): a refusal is explained to the person, with the routes to redress.
            let notice_id = if input.accept {
                None
            } else {
                let notice = super::notify_subject(
                    conn,
                    &actor,
                    &subject_id,
                    "rectification_rejected",
                    templates::rectification_rejected(&input.note),
                )?;
                Some(notice.id)
            };
            lift_if_settled(conn, &actor, &subject_id)?;
            audit::repo::record(
                conn,
                &actor,
                Event {
                    action: "subject.rectification_resolved",
                    object_type: "decision",
                    object_id: &decision.id,
                    details: json!({"rectification_id": row.id, "status": status, "notice_id": notice_id}),
                },
            )?;
            find(conn, &subject_id, &id)?.ok_or(AppealError::NotFound)
        })
    })
    .await
}
