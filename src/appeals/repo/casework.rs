//! What the reviewer's workbench reads: the work waiting for a reviewer, the cases they hold,
//! their initial views of blind-first cases, and whether a decision was ever appealed.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::appeals::model::{AppealRow, InitialViewRow};
use crate::db::schema::{appeals, initial_views};
use crate::db::{DbConnection, DbError};
use crate::domain::appeal::AppealStatus;

/// Queued appeals a reviewer could claim, per queue, with the nearest deadline. Mirrors the
/// claim's filters except "not an earlier reviewer of the decision", which the claim checks.
pub fn eligible_depths(
    conn: &mut DbConnection,
    reviewer: &str,
    authorities: &[String],
) -> Result<Vec<(String, i64, Option<NaiveDateTime>)>, DbError> {
    if authorities.is_empty() {
        return Ok(Vec::new());
    }
    Ok(appeals::table
        .filter(appeals::status.eq(AppealStatus::Queued.as_str()))
        .filter(appeals::decision_type.eq_any(authorities))
        .filter(appeals::filed_by.ne(reviewer))
        .filter(appeals::assigned_to.is_null().or(appeals::assigned_to.eq(reviewer)))
        .group_by(appeals::queue)
        .select((
            appeals::queue,
            diesel::dsl::count_star(),
            diesel::dsl::min(appeals::due_at),
        ))
        .load(conn)?)
}

/// Appeals leased to `reviewer` whose lease is still live, soonest deadline first.
pub fn live_leases_of(conn: &mut DbConnection, reviewer: &str, now: NaiveDateTime) -> Result<Vec<AppealRow>, DbError> {
    Ok(appeals::table
        .filter(appeals::status.eq(AppealStatus::InReview.as_str()))
        .filter(appeals::reviewer_id.eq(reviewer))
        .filter(appeals::lease_expires_at.gt(now))
        .order((appeals::due_at.asc(), appeals::id.asc()))
        .load(conn)?)
}

pub fn initial_view(
    conn: &mut DbConnection,
    appeal_id: &str,
    reviewer: &str,
) -> Result<Option<InitialViewRow>, DbError> {
    Ok(initial_views::table
        .find((appeal_id, reviewer))
        .first(conn)
        .optional()?)
}

pub fn insert_initial_view(conn: &mut DbConnection, row: &InitialViewRow) -> Result<(), DbError> {
    diesel::insert_into(initial_views::table).values(row).execute(conn)?;
    Ok(())
}

pub fn any_appeal(conn: &mut DbConnection, decision_id: &str) -> Result<bool, DbError> {
    Ok(diesel::select(diesel::dsl::exists(
        appeals::table.filter(appeals::decision_id.eq(decision_id)),
    ))
    .get_result(conn)?)
}
