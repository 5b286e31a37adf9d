//! Erasure (GDPR Art. 17): the subject's personal data leaves every table, outbox payload,
//! idempotency record, session and notice, and the subject id becomes a tombstone. Decisions
//! under a legal hold (a retention period per decision type, e.g. 25 months under Reg B) are
//! kept as they are and reported with the reason and the date the hold ends.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{intake, rectification, repo};
use crate::appeals::AppealError;
use crate::db::{Db, DbConnection};
use crate::domain::Actor;
use crate::domain::legal_clock::add_months;
use crate::domain::subject::{TOMBSTONE_PREFIX, subject_ref};
use crate::notices::{self, templates};
use crate::outbox::{self, About, EventKind};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErasureInput {
    #[schema(value_type = crate::domain::fields::Prose<2000>)]
    pub reason: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErasureReport {
    /// The pseudonym under which the audit log records this erasure.
    pub subject_ref: String,
    /// Replaces the subject id on what remains (PII-free records of decisions and appeals).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tombstone: Option<String>,
    pub decisions_erased: usize,
    pub appeals_erased: usize,
    /// Decisions kept under a legal hold: what, why, and until when.
    pub retained: Vec<Retained>,
    /// Engines told of the erasure (GDPR Art. 19).
    pub engines_notified: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Retained {
    pub decision_id: String,
    pub decision_type: String,
    pub reason: String,
    pub until: DateTime<Utc>,
}

/// Erases the subject, in the caller's write transaction.
fn erase_in_tx(conn: &mut DbConnection, actor: &Actor, subject_id: &str) -> Result<ErasureReport, AppealError> {
    let now = Utc::now();
    let mut report = ErasureReport {
        subject_ref: subject_ref(subject_id),
        tombstone: None,
        decisions_erased: 0,
        appeals_erased: 0,
        retained: Vec::new(),
        engines_notified: Vec::new(),
    };
    let mut erase = Vec::new();
    for row in crate::decisions::repo::all_for_subject(conn, subject_id)? {
        let policy = crate::appeals::repo::routing::policy_for(conn, &row.decision_type)?;
        match policy.retention_months.map(|m| add_months(row.decided_at.and_utc(), m)) {
            Some(until) if until > now => report.retained.push(Retained {
                reason: format!(
                    "legal hold: {} decisions are kept for {} months after the decision",
                    row.decision_type,
                    policy.retention_months.unwrap_or_default()
                ),
                decision_id: row.id,
                decision_type: row.decision_type,
                until,
            }),
            _ => erase.push(row),
        }
    }
    let now_naive = crate::db::now();
    for held in &report.retained {
        repo::erasure::record_legal_hold(
            conn,
            &held.decision_id,
            subject_id,
            &held.reason,
            held.until.naive_utc(),
            now_naive,
        )?;
    }
    if !report.retained.is_empty() {
        // Art. 12(4): the part of the request not acted on is answered, with reasons and redress.
        let notice = notices::notify_subject(
            conn,
            actor,
            subject_id,
            "erasure_refused",
            templates::erasure_held(
                &report
                    .retained
                    .iter()
                    .map(|r| templates::Held {
                        decision_type: &r.decision_type,
                        reason: &r.reason,
                        until_on: r.until.date_naive(),
                    })
                    .collect::<Vec<_>>(),
                !erase.is_empty(),
            ),
        )?;
        if erase.is_empty() {
            crate::audit::record(
                conn,
                actor,
                "subject.erasure_held",
                "subject",
                &report.subject_ref,
                json!({"retained": report.retained.len(), "notice_id": notice.id}),
            )?;
        }
    }
    if erase.is_empty() {
        return Ok(report);
    }
    let tombstone = format!("{}{}", TOMBSTONE_PREFIX, uuid::Uuid::new_v4().simple());
    // Tell every engine that holds the data, with its own references, before they are replaced.
    let mut by_engine: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for d in &erase {
        by_engine
            .entry(d.engine_id.clone())
            .or_default()
            .push(json!({"decision_id": d.id, "external_id": d.external_id}));
    }

    let some_held = !report.retained.is_empty();
    let appeals_erased = repo::erasure::scrub(conn, subject_id, &tombstone, &erase, some_held)?;
    if some_held {
        // A restriction that only waited for a rectification of an erased decision has ended.
        rectification::lift_if_settled(conn, actor, subject_id)?;
    }
    for (engine, refs) in &by_engine {
        outbox::enqueue(
            conn,
            EventKind::SubjectErased,
            Some(engine),
            About::Erased { tombstone: &tombstone },
            json!({"decisions": refs}),
        )?;
    }
    crate::audit::record(
        conn,
        actor,
        "subject.erased",
        "subject",
        &report.subject_ref,
        json!({"decisions": erase.len(), "appeals": appeals_erased, "retained": report.retained.len()}),
    )?;
    report.tombstone = Some(tombstone);
    report.decisions_erased = erase.len();
    report.appeals_erased = appeals_erased;
    report.engines_notified = by_engine.into_keys().collect();
    Ok(report)
}

/// Erases a subject. Erasing again finds nothing and changes nothing.
#[tracing::instrument(skip_all)]
pub async fn erase(
    db: &Db,
    actor: Actor,
    subject_id: String,
    input: ErasureInput,
) -> Result<ErasureReport, AppealError> {
    intake::check_prose("/reason", &input.reason)?;
    let report = db.write(move |conn| erase_in_tx(conn, &actor, &subject_id)).await?;
    if report.tombstone.is_some() {
        // The erasure is committed either way; SQLite's automatic checkpoints move the rest
        // later, so a failure here is logged rather than reported as a failed erasure.
        if let Err(e) = db.checkpoint_wal().await {
            tracing::warn!(error = %crate::error::cause_chain(&e), "WAL checkpoint after erasure failed");
        }
    }
    Ok(report)
}
