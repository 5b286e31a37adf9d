use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{BreachRow, BreachStepRow};
use crate::db::schema::{breach_steps, breaches};
use crate::db::{DbConnection, DbError};

pub fn insert(conn: &mut DbConnection, row: &BreachRow) -> Result<(), DbError> {
    diesel::insert_into(breaches::table).values(row).execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<BreachRow>, DbError> {
    Ok(breaches::table.find(id).first(conn).optional()?)
}

/// Breaches in the given statuses (all when empty), oldest awareness first.
pub fn list(conn: &mut DbConnection, statuses: &[&str], limit: i64) -> Result<Vec<BreachRow>, DbError> {
    let mut query = breaches::table
        .order((breaches::aware_at.asc(), breaches::id.asc()))
        .limit(limit)
        .into_boxed();
    if !statuses.is_empty() {
        query = query.filter(breaches::status.eq_any(statuses));
    }
    Ok(query.load(conn)?)
}

pub fn steps_of(conn: &mut DbConnection, breach_ids: &[&str]) -> Result<Vec<BreachStepRow>, DbError> {
    Ok(breach_steps::table
        .filter(breach_steps::breach_id.eq_any(breach_ids))
        .order((breach_steps::at.asc(), breach_steps::id.asc()))
        .load(conn)?)
}

/// What a step changes on the breach itself.
pub struct StepUpdate<'a> {
    pub to: &'a str,
    pub authority_notified_at: Option<NaiveDateTime>,
    pub authority_reference: Option<&'a str>,
    pub delay_reason: Option<&'a str>,
    pub subjects_notified: i64,
    pub at: NaiveDateTime,
}

/// Moves the breach on if it is still in `from`. False when someone else moved it first.
pub fn advance_if_status(
    conn: &mut DbConnection,
    id: &str,
    from: &str,
    update: &StepUpdate<'_>,
) -> Result<bool, DbError> {
    let target = breaches::table
        .filter(breaches::id.eq(id))
        .filter(breaches::status.eq(from));
    let changed = diesel::update(target)
        .set((
            breaches::status.eq(update.to),
            breaches::updated_at.eq(update.at),
            breaches::subjects_notified.eq(breaches::subjects_notified + update.subjects_notified),
        ))
        .execute(conn)?;
    if changed == 1 && update.authority_notified_at.is_some() {
        diesel::update(breaches::table.find(id))
            .set((
                breaches::authority_notified_at.eq(update.authority_notified_at),
                breaches::authority_reference.eq(update.authority_reference),
                breaches::delay_reason.eq(update.delay_reason),
            ))
            .execute(conn)?;
    }
    Ok(changed == 1)
}

pub fn insert_step(conn: &mut DbConnection, step: &BreachStepRow) -> Result<(), DbError> {
    diesel::insert_into(breach_steps::table).values(step).execute(conn)?;
    Ok(())
}
