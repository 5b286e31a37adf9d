//! The rights' queries: objections (Art. 21), restrictions (Art. 18) and rectifications
//! (Art. 16). What erasure (Art. 17) removes is in [`erasure`].

pub mod erasure;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{Objection, PENDING, Rectification, Scope};
use crate::db::schema::{
    decisions, outbox, rectifications, subject_objections, subject_restrictions, webhook_deliveries,
};
use crate::db::{DbConnection, DbError};

// Objections

/// A subject's objections, oldest first.
pub fn objections_of(conn: &mut DbConnection, subject_id: &str) -> Result<Vec<Objection>, DbError> {
    Ok(subject_objections::table
        .filter(subject_objections::subject_id.eq(subject_id))
        .order(subject_objections::created_at.asc())
        .load(conn)?)
}

/// Subjects among `subjects` whose profiling objection is in force.
pub fn objecting_to_profiling(conn: &mut DbConnection, subjects: &[&str]) -> Result<Vec<String>, DbError> {
    Ok(subject_objections::table
        .filter(subject_objections::subject_id.eq_any(subjects))
        .filter(subject_objections::scope.eq(Scope::Profiling.as_str()))
        .filter(subject_objections::compelling_grounds.is_null())
        .select(subject_objections::subject_id)
        .load(conn)?)
}

/// Records (or renews) an objection: objecting again to a scope puts it back in force.
pub fn replace_objection(
    conn: &mut DbConnection,
    subject_id: &str,
    scope: &str,
    grounds: &str,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::delete(
        subject_objections::table
            .filter(subject_objections::subject_id.eq(subject_id))
            .filter(subject_objections::scope.eq(scope)),
    )
    .execute(conn)?;
    diesel::insert_into(subject_objections::table)
        .values((
            subject_objections::subject_id.eq(subject_id),
            subject_objections::scope.eq(scope),
            subject_objections::grounds.eq(grounds),
            subject_objections::created_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records compelling grounds against an objection in force. Returns how many rows changed.
pub fn override_objection(
    conn: &mut DbConnection,
    subject_id: &str,
    scope: &str,
    grounds: &str,
    by: &str,
    at: NaiveDateTime,
) -> Result<usize, DbError> {
    Ok(diesel::update(
        subject_objections::table
            .filter(subject_objections::subject_id.eq(subject_id))
            .filter(subject_objections::scope.eq(scope))
            .filter(subject_objections::compelling_grounds.is_null()),
    )
    .set((
        subject_objections::compelling_grounds.eq(grounds),
        subject_objections::overridden_by.eq(by),
        subject_objections::overridden_at.eq(at),
    ))
    .execute(conn)?)
}

// Restrictions

/// Those of `subjects` whose processing is restricted now.
pub fn restricted_among(conn: &mut DbConnection, subjects: &[&str]) -> Result<Vec<String>, DbError> {
    Ok(subject_restrictions::table
        .filter(subject_restrictions::subject_id.eq_any(subjects))
        .select(subject_restrictions::subject_id)
        .load(conn)?)
}

/// Since when the subject's processing is restricted; `None` when it is not.
pub fn restricted_since(conn: &mut DbConnection, subject_id: &str) -> Result<Option<NaiveDateTime>, DbError> {
    Ok(subject_restrictions::table
        .find(subject_id)
        .select(subject_restrictions::created_at)
        .first(conn)
        .optional()?)
}

pub fn insert_restriction(
    conn: &mut DbConnection,
    subject_id: &str,
    reason: &str,
    by: &str,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::insert_into(subject_restrictions::table)
        .values((
            subject_restrictions::subject_id.eq(subject_id),
            subject_restrictions::reason.eq(reason),
            subject_restrictions::restricted_by.eq(by),
            subject_restrictions::created_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn delete_restriction(conn: &mut DbConnection, subject_id: &str) -> Result<(), DbError> {
    diesel::delete(subject_restrictions::table.find(subject_id)).execute(conn)?;
    Ok(())
}

/// Pending deliveries of events about the subject start a fresh retry window now.
pub fn refresh_held_deliveries(conn: &mut DbConnection, subject_id: &str, now: NaiveDateTime) -> Result<(), DbError> {
    let held = outbox::table
        .filter(outbox::subject_id.eq(subject_id))
        .select(outbox::id);
    diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::status.eq("pending"))
            .filter(webhook_deliveries::event_id.eq_any(held)),
    )
    .set((
        webhook_deliveries::window_start.eq(now),
        webhook_deliveries::next_attempt_at.eq(now),
    ))
    .execute(conn)?;
    Ok(())
}

// Rectifications

/// A subject's rectifications, oldest first.
pub fn rectifications_of(conn: &mut DbConnection, subject_id: &str) -> Result<Vec<Rectification>, DbError> {
    Ok(rectifications::table
        .filter(rectifications::subject_id.eq(subject_id))
        .order(rectifications::created_at.asc())
        .load(conn)?)
}

/// One of the subject's rectifications.
pub fn find_rectification(
    conn: &mut DbConnection,
    subject_id: &str,
    id: &str,
) -> Result<Option<Rectification>, DbError> {
    Ok(rectifications::table
        .find(id)
        .filter(rectifications::subject_id.eq(subject_id))
        .first(conn)
        .optional()?)
}

/// How many of the subject's rectifications are pending.
pub fn pending_rectifications(conn: &mut DbConnection, subject_id: &str) -> Result<i64, DbError> {
    Ok(rectifications::table
        .filter(rectifications::subject_id.eq(subject_id))
        .filter(rectifications::status.eq(PENDING))
        .count()
        .get_result(conn)?)
}

/// Whether a rectification made since `since` put a restriction in place.
pub fn rectification_restricted_since(
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

pub fn insert_rectification(conn: &mut DbConnection, r: &Rectification) -> Result<(), DbError> {
    diesel::insert_into(rectifications::table)
        .values((
            rectifications::id.eq(&r.id),
            rectifications::subject_id.eq(&r.subject_id),
            rectifications::decision_id.eq(&r.decision_id),
            rectifications::corrected_inputs.eq(&r.corrected_inputs),
            rectifications::note.eq(&r.note),
            rectifications::status.eq(&r.status),
            rectifications::restricted.eq(r.restricted),
            rectifications::created_at.eq(r.created_at),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn resolve_rectification(
    conn: &mut DbConnection,
    id: &str,
    status: &str,
    at: NaiveDateTime,
    note: &str,
) -> Result<(), DbError> {
    diesel::update(rectifications::table.find(id))
        .set((
            rectifications::status.eq(status),
            rectifications::resolved_at.eq(at),
            rectifications::resolution_note.eq(note),
        ))
        .execute(conn)?;
    Ok(())
}

/// Replaces a decision's explanation (accepted rectification).
pub fn set_explanation(conn: &mut DbConnection, decision_id: &str, explanation: &str) -> Result<(), DbError> {
    diesel::update(decisions::table.find(decision_id))
        .set(decisions::explanation.eq(explanation))
        .execute(conn)?;
    Ok(())
}
