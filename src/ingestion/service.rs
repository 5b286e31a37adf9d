//! Storing decisions as an engine posts them, one or a batch, in one transaction with their
//! audit entries, the reason codes that statistics count and any mandatory review.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;
use serde_json::json;

use super::IngestionError;
use crate::audit;
use crate::audit::repo::Event;
use crate::calendar::CalendarHandle;
use crate::db::{self, Db, DbConnection, DbError};
use crate::decisions::model::{Decision, DecisionRow};
use crate::decisions::repo;
use crate::domain::decision::{DecisionStatus, ValidDecision};
use crate::domain::legal_clock::LegalCalendar;
use crate::domain::{Actor, FieldError};

/// A concurrent insert of the same key can win the race between our read and our insert on
/// Postgres; the retry then sees the winner's row.
const INGEST_ATTEMPTS: usize = 3;

/// What a single ingestion did.
#[derive(Debug)]
pub enum Ingested {
    Created(Decision),
    /// An identical decision was already stored under this external id.
    Existing(Decision),
}

/// One item of a batch, reported by its index in the request.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BatchItemResult {
    pub index: usize,
    pub status: BatchItemStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Stored only: the subject's processing is restricted (GDPR Art. 18).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub processing_restricted: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BatchItemStatus {
    Created,
    Existing,
    Conflict,
    Invalid,
    /// Refused: the subject objected to profiling (GDPR Art. 21).
    Refused,
}

enum Outcome {
    /// Stored; `restricted` when the subject's processing is restricted (stored only).
    Created {
        row: DecisionRow,
        restricted: bool,
    },
    Existing(DecisionRow),
    Conflict {
        existing_id: String,
    },
    Refused,
}

/// Stores one decision from the engine named by the actor.
#[tracing::instrument(skip_all, fields(engine_id = %actor.id))]
pub async fn ingest(
    db: &Db,
    calendar: &CalendarHandle,
    actor: Actor,
    decision: ValidDecision,
) -> Result<Ingested, IngestionError> {
    let external_id = decision.external_id.clone();
    let outcome = ingest_all(db, calendar.current(), actor, vec![decision]).await?.pop();
    match outcome {
        Some(Outcome::Created { row, restricted }) => {
            let mut decision = Decision::try_from(row)?;
            decision.processing_restricted = restricted;
            Ok(Ingested::Created(decision))
        }
        Some(Outcome::Existing(row)) => Ok(Ingested::Existing(row.try_into()?)),
        Some(Outcome::Conflict { existing_id }) => Err(IngestionError::Conflict {
            external_id,
            existing_id,
        }),
        Some(Outcome::Refused) => Err(IngestionError::ObjectionInForce),
        // One outcome per item: an empty answer would be a write that got lost.
        None => Err(DbError::Query(diesel::result::Error::NotFound).into()),
    }
}

/// Stores the valid items of a batch in one transaction; invalid items are reported by index
/// and do not block the others.
#[tracing::instrument(skip_all, fields(engine_id = %actor.id, items = items.len()))]
pub async fn ingest_batch(
    db: &Db,
    calendar: &CalendarHandle,
    actor: Actor,
    items: Vec<Result<ValidDecision, Vec<FieldError>>>,
) -> Result<Vec<BatchItemResult>, IngestionError> {
    let mut results = Vec::with_capacity(items.len());
    let mut valid = Vec::new();
    let mut valid_index = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        match item {
            Ok(decision) => {
                valid_index.push(index);
                valid.push(decision);
            }
            Err(errors) => results.push(BatchItemResult {
                index,
                status: BatchItemStatus::Invalid,
                id: None,
                errors,
                processing_restricted: false,
            }),
        }
    }
    let outcomes = ingest_all(db, calendar.current(), actor, valid).await?;
    for (index, outcome) in valid_index.into_iter().zip(outcomes) {
        let (status, id, processing_restricted) = match outcome {
            Outcome::Created { row, restricted } => (BatchItemStatus::Created, Some(row.id), restricted),
            Outcome::Existing(row) => (BatchItemStatus::Existing, Some(row.id), false),
            Outcome::Conflict { existing_id } => (BatchItemStatus::Conflict, Some(existing_id), false),
            Outcome::Refused => (BatchItemStatus::Refused, None, false),
        };
        results.push(BatchItemResult {
            index,
            status,
            id,
            errors: Vec::new(),
            processing_restricted,
        });
    }
    results.sort_by_key(|r| r.index);
    Ok(results)
}

/// Runs [`ingest_in_tx`] in one write transaction. A unique violation means a concurrent
/// ingestion of the same key won the race between our read and our insert: the transaction
/// runs again, and finds the winner's row.
async fn ingest_all(
    db: &Db,
    calendar: Arc<LegalCalendar>,
    actor: Actor,
    items: Vec<ValidDecision>,
) -> Result<Vec<Outcome>, IngestionError> {
    let request = Arc::new((calendar, actor, items));
    let mut attempt = 1;
    loop {
        let request = request.clone();
        let ingested = db
            .write(move |conn| {
                let (calendar, actor, items) = &*request;
                ingest_in_tx(conn, calendar, actor, items)
            })
            .await;
        match ingested {
            Err(IngestionError::Db(e)) if e.is_unique_violation() && attempt < INGEST_ATTEMPTS => {
                tracing::debug!(attempt, "concurrent ingestion of the same external id; retrying");
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// Stores the new decisions among `items` and files a mandatory review for each made by a
/// suspended model. Runs in the caller's write transaction. Returns one outcome per item.
fn ingest_in_tx(
    conn: &mut DbConnection,
    calendar: &LegalCalendar,
    actor: &Actor,
    items: &[ValidDecision],
) -> Result<Vec<Outcome>, IngestionError> {
    if !crate::engines::repo::exists(conn, &actor.id)? {
        return Err(IngestionError::EngineNotRegistered(actor.id.clone()));
    }
    let external_ids: Vec<&str> = items.iter().map(|d| d.external_id.as_str()).collect();
    let mut known: HashMap<String, DecisionRow> = repo::find_by_external_ids(conn, &actor.id, &external_ids)?
        .into_iter()
        .map(|row| (row.external_id.clone(), row))
        .collect();
    let models: Vec<&str> = items.iter().map(|d| d.model.name.as_str()).collect();
    let suspended = crate::models::repo::suspended_among(conn, &models)?;
    let subjects: Vec<&str> = items.iter().map(|d| d.subject_id.as_str()).collect();
    let objecting = crate::subjects::repo::objecting_to_profiling(conn, &subjects)?;
    let restricted = crate::subjects::repo::restricted_among(conn, &subjects)?;
    let received_at = db::now();
    let mut fresh = Vec::new();
    let outcomes: Vec<Outcome> = items
        .iter()
        .map(|decision| match known.get(&decision.external_id) {
            Some(row) if row.payload_hash == decision.fingerprint() => Outcome::Existing(row.clone()),
            Some(row) => Outcome::Conflict {
                existing_id: row.id.clone(),
            },
            None if objecting.iter().any(|s| s == &decision.subject_id) => Outcome::Refused,
            None => {
                let mut row = DecisionRow::new(&actor.id, decision, received_at);
                if suspended.contains_key(&row.model_name) {
                    row.status = DecisionStatus::UnderAppeal.as_str().to_owned();
                }
                known.insert(row.external_id.clone(), row.clone());
                fresh.push(row.clone());
                Outcome::Created {
                    restricted: restricted.contains(&row.subject_id),
                    row,
                }
            }
        })
        .collect();
    repo::insert_many(conn, &fresh)?;
    let by_external_id: HashMap<&str, &ValidDecision> = items.iter().map(|d| (d.external_id.as_str(), d)).collect();
    let codes: Vec<(usize, std::collections::BTreeSet<&str>)> = fresh
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let item = by_external_id.get(row.external_id.as_str());
            let set = item
                .map(|d| d.explanation.reason_codes.iter().map(|c| c.code.as_str()).collect())
                .unwrap_or_default();
            (i, set)
        })
        .collect();
    let code_rows: Vec<repo::ReasonCodeRow<'_>> = codes
        .iter()
        .flat_map(|(i, set)| {
            let row = &fresh[*i];
            set.iter().map(move |code| repo::ReasonCodeRow {
                decision_id: &row.id,
                code,
                model_name: &row.model_name,
                model_version: &row.model_version,
                engine_id: &row.engine_id,
                decided_at: row.decided_at,
            })
        })
        .collect();
    repo::insert_reason_codes(conn, &code_rows)?;
    let events: Vec<Event<'_>> = fresh
        .iter()
        .map(|row| Event {
            action: "decision.created",
            object_type: "decision",
            object_id: &row.id,
            details: json!({
                "engine_id": row.engine_id,
                "decision_type": row.decision_type,
                "model": {"name": row.model_name, "version": row.model_version},
                "significant_effect": row.significant_effect,
                "processing_restricted": restricted.contains(&row.subject_id),
            }),
        })
        .collect();
    audit::repo::record_many(conn, actor, &events)?;
    for row in fresh.iter() {
        if let Some(reason) = suspended.get(&row.model_name) {
            crate::appeals::filing::file_mandatory_review(conn, calendar, row, reason)?;
        }
    }
    Ok(outcomes)
}
