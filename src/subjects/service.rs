use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use super::model::{LegalHold, Objection, Rectification};
use super::repo;
use crate::appeals::AppealError;
use crate::appeals::detail::AppealDetail;
use crate::appeals::repo::{appeals as appeal_repo, reviews};
use crate::db::{Db, DbConnection};
use crate::decisions::{self, model::Decision};
use crate::domain::subject::subject_ref;
use crate::domain::{Actor, Role};
use crate::engines;
use crate::notices::model::SubjectNotice;

/// Everything Recourse holds about one subject (GDPR Art. 15), machine-readable (Art. 20).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SubjectExport {
    pub subject_id: String,
    pub generated_at: DateTime<Utc>,
    pub decisions: Vec<ExportedDecision>,
    /// The scoring engines that sent or received this subject's data (Art. 15(1)(c), Art. 19).
    pub recipients: Vec<Recipient>,
    /// Notices that belong to no appeal (e.g. before a restriction was lifted).
    pub notices: Vec<SubjectNotice>,
    /// Rectifications asked for and how they were resolved (Art. 16).
    pub rectifications: Vec<Rectification>,
    /// Objections to processing and how they were answered (Art. 21).
    pub objections: Vec<Objection>,
    /// Since when processing is restricted, if it is (Art. 18).
    pub restricted_since: Option<DateTime<Utc>>,
    /// Decisions kept after an erasure request only because the law requires it, with the
    /// reason and until when (Art. 17(3)(b)).
    pub legal_holds: Vec<LegalHold>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExportedDecision {
    pub decision: Decision,
    /// Appeals with the subject's statements, corrected inputs, notices and outcomes.
    pub appeals: Vec<AppealDetail>,
    pub reviews: Vec<ExportedReview>,
}

/// A review as the subject may see it: the outcome and its reasons, not the reviewer's identity.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExportedReview {
    pub appeal_id: String,
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_outcome: Option<String>,
    pub rationale: String,
    pub factors_considered: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rectified_inputs: Option<serde_json::Value>,
    pub status: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Recipient {
    pub engine_id: String,
    pub name: String,
}

/// Who may export: the subject, a DPO, or an agent for a caller whose identity they verified.
fn check_access(actor: &Actor, subject_id: &str, identity_method: Option<&str>) -> Result<(), AppealError> {
    match actor.role {
        Role::Subject if actor.id == subject_id => Ok(()),
        Role::Subject => Err(AppealError::NotFound),
        Role::Dpo => Ok(()),
        Role::Agent => match identity_method.map(str::trim) {
            Some(m) if !m.is_empty() && m.len() <= 100 => Ok(()),
            _ => Err(AppealError::invalid(
                "/identity_method",
                "say how the caller's identity was verified before exporting their data",
            )),
        },
        _ => Err(AppealError::Forbidden(format!(
            "role '{}' may not export a subject's data",
            actor.role
        ))),
    }
}

fn export_in_tx(conn: &mut DbConnection, actor: &Actor, subject_id: &str) -> Result<SubjectExport, AppealError> {
    let rows = decisions::repo::all_for_subject(conn, subject_id)?;
    // Objections, restrictions, rectifications and notices can exist without any decision, and
    // Art. 15 covers them too.
    let notices = crate::notices::repo::of_subject(conn, subject_id)?;
    let objections = repo::objections_of(conn, subject_id)?;
    let rectifications = repo::rectifications_of(conn, subject_id)?;
    let restricted_since = repo::restricted_since(conn, subject_id)?.map(|t| t.and_utc());
    let legal_holds = repo::erasure::legal_holds_of(conn, subject_id)?;
    // Nothing held (never known, or erased): there is nothing to give, and nothing was read.
    if rows.is_empty()
        && notices.is_empty()
        && objections.is_empty()
        && rectifications.is_empty()
        && restricted_since.is_none()
    {
        return Err(AppealError::NotFound);
    }
    let mut engine_ids = std::collections::BTreeSet::new();
    let mut exported = Vec::with_capacity(rows.len());
    for row in rows {
        engine_ids.insert(row.engine_id.clone());
        let appeals = appeal_repo::for_decision(conn, &row.id)?
            .iter()
            .map(|a| AppealDetail::load(conn, a, Role::Subject))
            .collect::<Result<Vec<_>, _>>()?;
        let reviews = reviews::for_decision(conn, &row.id)?
            .into_iter()
            .map(|r| ExportedReview {
                factors_considered: serde_json::from_str(&r.factors_considered).unwrap_or_default(),
                rectified_inputs: r.rectified_inputs.as_deref().and_then(|s| serde_json::from_str(s).ok()),
                appeal_id: r.appeal_id,
                outcome: r.outcome,
                new_outcome: r.new_outcome,
                rationale: r.rationale,
                status: r.status,
                created_at: r.created_at.and_utc(),
            })
            .collect();
        exported.push(ExportedDecision {
            decision: Decision::try_from(row)?,
            appeals,
            reviews,
        });
    }
    let names: BTreeMap<String, String> = engines::repo::list(conn)?.into_iter().map(|e| (e.id, e.name)).collect();
    let recipients = engine_ids
        .into_iter()
        .map(|id| Recipient {
            name: names.get(&id).cloned().unwrap_or_default(),
            engine_id: id,
        })
        .collect();
    crate::audit::record(
        conn,
        actor,
        "subject.exported",
        "subject",
        &subject_ref(subject_id),
        json!({"decisions": exported.len(), "identity_checked_by_agent": actor.is(Role::Agent)}),
    )?;
    Ok(SubjectExport {
        notices,
        objections,
        rectifications,
        restricted_since,
        legal_holds,
        subject_id: subject_id.to_owned(),
        generated_at: Utc::now(),
        decisions: exported,
        recipients,
    })
}

#[tracing::instrument(skip_all)]
pub async fn export(
    db: &Db,
    actor: Actor,
    subject_id: String,
    identity_method: Option<String>,
) -> Result<SubjectExport, AppealError> {
    check_access(&actor, &subject_id, identity_method.as_deref())?;
    db.write(move |conn| export_in_tx(conn, &actor, &subject_id)).await
}
