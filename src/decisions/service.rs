use std::collections::HashMap;

use serde::Serialize;
use serde_json::json;

use super::model::{CorruptRow, Decision, DecisionRow};
use super::repo;
use crate::audit::{self, repo::Event};
use crate::calendar::CalendarHandle;
use crate::db::{self, Db, DbConnection, DbError, write_tx};
use crate::domain::decision::{DecisionStatus, ValidDecision};
use crate::domain::legal_clock::LegalCalendar;
use crate::domain::{Actor, FieldError, Role};
use crate::engines;

/// Page sizes for listing decisions.
pub const DEFAULT_PAGE: i64 = 50;
pub const MAX_PAGE: i64 = 500;
/// A concurrent insert of the same key can win the race between our read and our insert on
/// Postgres; the retry then sees the winner's row.
const INGEST_ATTEMPTS: usize = 3;

#[derive(Debug, thiserror::Error)]
pub enum DecisionError {
    #[error("engine {0:?} is not registered")]
    EngineNotRegistered(String),
    #[error("external id {external_id:?} already names a different decision")]
    Conflict { external_id: String, existing_id: String },
    #[error("decision not found")]
    NotFound,
    /// The subject objected to profiling (GDPR Art. 21) and no compelling grounds are recorded.
    #[error("the subject has objected to automated decisions about them")]
    ObjectionInForce,
    #[error(transparent)]
    Corrupt(#[from] CorruptRow),
    #[error(transparent)]
    Db(#[from] DbError),
}

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
) -> Result<Ingested, DecisionError> {
    let calendar = calendar.current();
    db.maintain(move |conn| {
        let external_id = decision.external_id.clone();
        let outcome = ingest_all(conn, &calendar, &actor, &[decision])?.pop();
        match outcome {
            Some(Outcome::Created { row, restricted }) => {
                let mut decision = Decision::try_from(row)?;
                decision.processing_restricted = restricted;
                Ok(Ingested::Created(decision))
            }
            Some(Outcome::Existing(row)) => Ok(Ingested::Existing(row.try_into()?)),
            Some(Outcome::Conflict { existing_id }) => Err(DecisionError::Conflict {
                external_id,
                existing_id,
            }),
            Some(Outcome::Refused) => Err(DecisionError::ObjectionInForce),
            None => Err(DecisionError::NotFound),
        }
    })
    .await
}

/// Stores the valid items of a batch in one transaction; invalid items are reported by index
/// and do not block the others.
#[tracing::instrument(skip_all, fields(engine_id = %actor.id, items = items.len()))]
pub async fn ingest_batch(
    db: &Db,
    calendar: &CalendarHandle,
    actor: Actor,
    items: Vec<Result<ValidDecision, Vec<FieldError>>>,
) -> Result<Vec<BatchItemResult>, DecisionError> {
    let calendar = calendar.current();
    db.maintain(move |conn| {
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
        let outcomes = ingest_all(conn, &calendar, &actor, &valid)?;
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
    })
    .await
}

fn ingest_all(
    conn: &mut DbConnection,
    calendar: &LegalCalendar,
    actor: &Actor,
    items: &[ValidDecision],
) -> Result<Vec<Outcome>, DecisionError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match write_tx(conn, |conn| ingest_in_tx(conn, calendar, actor, items)) {
            Err(DecisionError::Db(e)) if e.is_unique_violation() && attempt < INGEST_ATTEMPTS => {
                tracing::debug!(attempt, "concurrent ingestion of the same external id; retrying");
            }
            other => return other,
        }
    }
}

fn ingest_in_tx(
    conn: &mut DbConnection,
    calendar: &LegalCalendar,
    actor: &Actor,
    items: &[ValidDecision],
) -> Result<Vec<Outcome>, DecisionError> {
    if !engines::repo::exists(conn, &actor.id)? {
        return Err(DecisionError::EngineNotRegistered(actor.id.clone()));
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
            crate::appeals::service::file_mandatory_review(conn, calendar, row, reason)?;
        }
    }
    Ok(outcomes)
}

/// Whether `actor` may see this decision at all. Callers answer 404 when not, so that the
/// existence of other people's decisions is not revealed.
fn can_read(actor: &Actor, row: &DecisionRow) -> bool {
    match actor.role {
        Role::Engine => row.engine_id == actor.id,
        Role::Subject => row.subject_id == actor.id,
        Role::Agent | Role::Reviewer | Role::Supervisor | Role::Dpo => true,
        Role::Admin | Role::System => false,
    }
}

#[tracing::instrument(skip_all, fields(decision_id = %id))]
pub async fn get(db: &Db, actor: Actor, id: String) -> Result<Decision, DecisionError> {
    audit::access::read(db, actor.role, move |conn| {
        let row = repo::find(conn, &id)?
            .filter(|row| can_read(&actor, row))
            .ok_or(DecisionError::NotFound)?;
        audit::access::record_reads(conn, &actor, "decision", std::slice::from_ref(&row.id), "api")?;
        let restricted = crate::subjects::repo::restricted_since(conn, &row.subject_id)?.is_some();
        let mut decision = Decision::try_from(row)?;
        decision.processing_restricted = restricted;
        Ok(decision)
    })
    .await
}

pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// A subject's decisions, a page at a time. A subject asking for anyone else's gets 404;
/// an engine sees only its own decisions.
#[tracing::instrument(skip_all)]
pub async fn list_for_subject(
    db: &Db,
    actor: Actor,
    subject_id: String,
    after: Option<String>,
    limit: i64,
) -> Result<Page<Decision>, DecisionError> {
    if actor.is(Role::Subject) && actor.id != subject_id {
        return Err(DecisionError::NotFound);
    }
    let limit = limit.clamp(1, MAX_PAGE);
    audit::access::read(db, actor.role, move |conn| {
        let engine = actor.is(Role::Engine).then_some(actor.id.as_str());
        let mut rows = repo::page_for_subject(conn, &subject_id, engine, after.as_deref(), limit + 1)?;
        let has_more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        audit::access::record_reads(conn, &actor, "decision", &ids, "api_subject_list")?;
        let items = rows
            .into_iter()
            .map(Decision::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        let next_cursor = if has_more {
            items.last().map(|d| d.id.clone())
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    })
    .await
}
