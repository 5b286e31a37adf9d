//! Review queries: a reviewer's outcome for an appeal, and its resolution by a second person.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::appeals::model::{ReviewRow, review_status};
use crate::db::schema::reviews;
use crate::db::{DbConnection, DbError};

pub fn insert(conn: &mut DbConnection, row: &ReviewRow) -> Result<(), DbError> {
    diesel::insert_into(reviews::table).values(row).execute(conn)?;
    Ok(())
}

pub fn for_decision(conn: &mut DbConnection, decision_id: &str) -> Result<Vec<ReviewRow>, DbError> {
    Ok(reviews::table
        .filter(reviews::decision_id.eq(decision_id))
        .order((reviews::created_at.asc(), reviews::id.asc()))
        .load(conn)?)
}

pub fn has_reviewed(conn: &mut DbConnection, decision_id: &str, reviewer: &str) -> Result<bool, DbError> {
    Ok(diesel::select(diesel::dsl::exists(
        reviews::table
            .filter(reviews::decision_id.eq(decision_id))
            .filter(reviews::reviewer_id.eq(reviewer)),
    ))
    .get_result(conn)?)
}

pub fn pending_for_appeal(conn: &mut DbConnection, appeal_id: &str) -> Result<Option<ReviewRow>, DbError> {
    Ok(reviews::table
        .filter(reviews::appeal_id.eq(appeal_id))
        .filter(reviews::status.eq(review_status::PENDING_APPROVAL))
        .first(conn)
        .optional()?)
}

/// The review whose outcome is in force for an appeal, if any.
pub fn effective_for_appeal(conn: &mut DbConnection, appeal_id: &str) -> Result<Option<ReviewRow>, DbError> {
    Ok(reviews::table
        .filter(reviews::appeal_id.eq(appeal_id))
        .filter(reviews::status.eq_any(review_status::EFFECTIVE))
        .first(conn)
        .optional()?)
}

/// The latest review in force for a decision: what its status is, absent an open appeal.
pub fn latest_effective_for_decision(conn: &mut DbConnection, decision_id: &str) -> Result<Option<ReviewRow>, DbError> {
    Ok(reviews::table
        .filter(reviews::decision_id.eq(decision_id))
        .filter(reviews::status.eq_any(review_status::EFFECTIVE))
        .order((reviews::resolved_at.desc(), reviews::id.desc()))
        .first(conn)
        .optional()?)
}

pub fn resolve(
    conn: &mut DbConnection,
    id: &str,
    new_status: &str,
    approver: &str,
    note: Option<&str>,
    at: NaiveDateTime,
) -> Result<bool, DbError> {
    let n = diesel::update(
        reviews::table
            .filter(reviews::id.eq(id))
            .filter(reviews::status.eq(review_status::PENDING_APPROVAL)),
    )
    .set((
        reviews::status.eq(new_status),
        reviews::approver_id.eq(approver),
        reviews::approval_note.eq(note),
        reviews::resolved_at.eq(at),
    ))
    .execute(conn)?;
    Ok(n == 1)
}
