//! Rectification (GDPR Art. 16). A subject (or an agent or DPO for them) says which inputs of a
//! decision were wrong. While that is pending, processing is restricted (Art. 18(1)(a)); a DPO
//! then accepts it, and the corrected values replace the originals in every later read, export and
//! label, or rejects it. Engines are told of the request and of the correction (Art. 19).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::model::{PENDING, Rectification};
use super::restriction::{lift_in_tx, restrict_in_tx};
use super::{intake, repo};
use crate::appeals::AppealError;
use crate::db::{self, Db, DbConnection};
use crate::domain::subject::subject_ref;
use crate::domain::{Actor, Role};
use crate::notices::{self, templates};
use crate::outbox::{self, About, EventKind};

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

/// Lifts the restriction, notice first, once the accuracy it waited for is settled: it was put
/// in place by a rectification and none is pending any more, in whatever order they were
/// resolved. A restriction asked for on other grounds stays. Runs in the caller's write
/// transaction.
pub(crate) fn lift_if_settled(conn: &mut DbConnection, actor: &Actor, subject_id: &str) -> Result<(), AppealError> {
    let Some(since) = repo::restricted_since(conn, subject_id)? else {
        return Ok(());
    };
    if repo::pending_rectifications(conn, subject_id)? == 0
        && repo::rectification_restricted_since(conn, subject_id, since)?
    {
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
    intake::check_request(&actor, &subject_id, input.identity_method.as_deref(), |c| {
        if input.corrected_inputs.is_empty() {
            c.fail("/corrected_inputs", "name at least one corrected input");
        }
        c.scalar_map("/corrected_inputs", &input.corrected_inputs, 256);
        intake::prose(c, "/note", &input.note);
    })?;
    db.write(move |conn| {
        let decision = crate::decisions::repo::find(conn, &input.decision_id)?
            .filter(|d| d.subject_id == subject_id)
            .ok_or(AppealError::NotFound)?;
        let already = repo::restricted_since(conn, &subject_id)?.is_some();
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
        repo::insert_rectification(conn, &row)?;
        outbox::enqueue(
            conn,
            EventKind::DecisionRectificationRequested,
            Some(&decision.engine_id),
            About::Subject(&decision.subject_id),
            json!({"decision_id": decision.id, "external_id": decision.external_id, "rectification_id": row.id}),
        )?;
        crate::audit::record(
            conn,
            &actor,
            "subject.rectification_requested",
            "decision",
            &decision.id,
            json!({"rectification_id": row.id, "subject": subject_ref(&subject_id),
                "identity_checked_by_agent": actor.is(Role::Agent)}),
        )?;
        Ok(row)
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
    intake::check_prose("/note", &input.note)?;
    db.write(move |conn| {
        let row = repo::find_rectification(conn, &subject_id, &id)?.ok_or(AppealError::NotFound)?;
        if row.status != PENDING {
            return Err(AppealError::Forbidden(format!(
                "the rectification is already {}",
                row.status
            )));
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
            repo::set_explanation(conn, &decision.id, &explanation.to_string())?;
            outbox::enqueue(
                conn,
                EventKind::DecisionRectified,
                Some(&decision.engine_id),
                About::Subject(&decision.subject_id),
                json!({"decision_id": decision.id, "external_id": decision.external_id, "corrected_inputs": corrected}),
            )?;
        }
        repo::resolve_rectification(conn, &row.id, status, now, &input.note)?;
        // Art. 12(4): a refusal is explained to the person, with the routes to redress.
        let notice_id = if input.accept {
            None
        } else {
            let notice = notices::notify_subject(
                conn,
                &actor,
                &subject_id,
                "rectification_rejected",
                templates::rectification_rejected(&input.note),
            )?;
            Some(notice.id)
        };
        lift_if_settled(conn, &actor, &subject_id)?;
        crate::audit::record(
            conn,
            &actor,
            "subject.rectification_resolved",
            "decision",
            &decision.id,
            json!({"rectification_id": row.id, "status": status, "notice_id": notice_id}),
        )?;
        repo::find_rectification(conn, &subject_id, &id)?.ok_or(AppealError::NotFound)
    })
    .await
}
