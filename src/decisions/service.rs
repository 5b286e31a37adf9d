//! Reading decisions: one by id, or a subject's a page at a time. Engines and subjects see only
//! their own; every read by staff is audited.

use super::DecisionError;
use super::model::{Decision, DecisionRow};
use super::repo;
use crate::audit;
use crate::db::Db;
use crate::domain::{Actor, Role};

/// Page sizes for listing decisions.
pub const DEFAULT_PAGE: i64 = 50;
pub const MAX_PAGE: i64 = 500;

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
