use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde_json::json;

use super::BreachError;
use super::model::{BreachRow, BreachStepRow, BreachView};
use super::repo::{self, StepUpdate};
use crate::audit;
use crate::db::{self, Db, DbConnection};
use crate::domain::Actor;
use crate::domain::FieldError;
use crate::domain::breach::{BreachStatus, TransitionError, TransitionRequest, ValidReport, ValidTransition};

/// Most breaches one listing returns.
pub const MAX_LIST: i64 = 1_000;

fn view_in_tx(conn: &mut DbConnection, row: BreachRow, now: DateTime<Utc>) -> Result<BreachView, BreachError> {
    let steps = repo::steps_of(conn, &[row.id.as_str()])?;
    Ok(BreachView::new(row, steps, now)?)
}

/// Records a suspected breach reported by any member of staff.
#[tracing::instrument(skip_all)]
pub async fn report(db: &Db, actor: Actor, report: ValidReport) -> Result<BreachView, BreachError> {
    db.write(move |conn| {
        let now = db::now();
        let row = BreachRow {
            id: uuid::Uuid::now_v7().to_string(),
            status: BreachStatus::Suspected.as_str().to_owned(),
            description: report.description.clone(),
            reported_by: actor.id.clone(),
            reported_by_role: actor.role.as_str().to_owned(),
            aware_at: report.aware_at.naive_utc(),
            reported_at: now,
            authority_notified_at: None,
            authority_reference: None,
            delay_reason: None,
            subjects_notified: 0,
            updated_at: now,
        };
        repo::insert(conn, &row)?;
        audit::record(
            conn,
            &actor,
            "breach.reported",
            "breach",
            &row.id,
            json!({"aware_at": report.aware_at}),
        )?;
        view_in_tx(conn, row, Utc::now())
    })
    .await
}

#[tracing::instrument(skip_all, fields(breach_id = %id))]
pub async fn get(db: &Db, id: String) -> Result<BreachView, BreachError> {
    db.run(move |conn| {
        let row = repo::find(conn, &id)?.ok_or(BreachError::NotFound)?;
        view_in_tx(conn, row, Utc::now())
    })
    .await
}

/// The register, optionally only some statuses and only overdue breaches.
#[tracing::instrument(skip_all)]
pub async fn list(db: &Db, statuses: Vec<BreachStatus>, overdue_only: bool) -> Result<Vec<BreachView>, BreachError> {
    db.run(move |conn| {
        let wanted: Vec<&str> = statuses.iter().map(|s| s.as_str()).collect();
        let rows = repo::list(conn, &wanted, MAX_LIST)?;
        let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        let mut steps: HashMap<String, Vec<BreachStepRow>> = HashMap::new();
        for step in repo::steps_of(conn, &ids)? {
            steps.entry(step.breach_id.clone()).or_default().push(step);
        }
        let now = Utc::now();
        let views = rows
            .into_iter()
            .map(|row| {
                let own = steps.remove(&row.id).unwrap_or_default();
                BreachView::new(row, own, now)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(views.into_iter().filter(|v| v.overdue || !overdue_only).collect())
    })
    .await
}

/// Takes one step in the register. Notifying subjects stores the notice for each of them (it
/// appears in their export) in the same transaction as the step.
#[tracing::instrument(skip_all, fields(breach_id = %id))]
pub async fn advance(db: &Db, actor: Actor, id: String, request: TransitionRequest) -> Result<BreachView, BreachError> {
    db.write(move |conn| {
        let row = repo::find(conn, &id)?.ok_or(BreachError::NotFound)?;
        let from = row.status()?;
        let now = Utc::now();
        let step = ValidTransition::parse(request.clone(), from, row.aware_at.and_utc(), now).map_err(|e| match e {
            TransitionError::Illegal { from, to } => BreachError::illegal(from, to),
            TransitionError::Invalid(errors) => BreachError::Invalid(errors),
        })?;
        if step.to == BreachStatus::SubjectsNotified {
            notify_subjects(conn, &step)?;
        }
        let at = db::now();
        let authority = step.to == BreachStatus::AuthorityNotified;
        let update = StepUpdate {
            to: step.to.as_str(),
            authority_notified_at: authority.then_some(at),
            authority_reference: step.authority_reference.as_deref(),
            delay_reason: step.delay_reason.as_deref(),
            subjects_notified: step.subjects.len() as i64,
            at,
        };
        if !repo::advance_if_status(conn, &id, from.as_str(), &update)? {
            return Err(BreachError::illegal(from, step.to));
        }
        repo::insert_step(
            conn,
            &BreachStepRow {
                id: uuid::Uuid::now_v7().to_string(),
                breach_id: id.clone(),
                from_status: from.as_str().to_owned(),
                to_status: step.to.as_str().to_owned(),
                note: step.note.clone(),
                actor: actor.id.clone(),
                at,
            },
        )?;
        audit::record(
            conn,
            &actor,
            &format!("breach.{}", step.to.as_str()),
            "breach",
            &id,
            json!({"from": from.as_str(), "late": step.delay_reason.is_some(), "subjects": step.subjects.len()}),
        )?;
        let row = repo::find(conn, &id)?.ok_or(BreachError::NotFound)?;
        view_in_tx(conn, row, now)
    })
    .await
}

/// Stores the breach notice for each named subject; every one must have records here.
fn notify_subjects(conn: &mut DbConnection, step: &ValidTransition) -> Result<(), BreachError> {
    let known: BTreeSet<String> = crate::decisions::repo::known_subjects(conn, &step.subjects)?
        .into_iter()
        .collect();
    let unknown: Vec<FieldError> = step
        .subjects
        .iter()
        .enumerate()
        .filter(|(_, s)| !known.contains(*s))
        .map(|(i, _)| FieldError::new(format!("/subjects/{i}"), "no records about this subject are held here"))
        .collect();
    if !unknown.is_empty() {
        return Err(BreachError::Invalid(unknown));
    }
    let body = step.subject_notice.clone().unwrap_or_default();
    for subject in &step.subjects {
        crate::notices::send_to_subject(conn, subject, "breach", body.clone())?;
    }
    Ok(())
}

/// Whose data `actor` touched in `[from, to)`, from the audit log: the subjects a breach
/// involving that actor's access may affect.
#[tracing::instrument(skip_all)]
pub async fn subjects_accessed(
    db: &Db,
    actor: String,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<audit::access::AccessReport, BreachError> {
    db.run(move |conn| Ok(audit::access::subjects_accessed(conn, &actor, from, to)?))
        .await
}
