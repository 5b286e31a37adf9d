//! Appeal queries. Every state change is a guarded UPDATE: it names the state it expects, so
//! that a concurrent change makes it affect no row instead of overwriting someone's work.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::appeals::model::{AppealRow, AppealUpdate, Filing};
use crate::db::schema::appeals;
use crate::db::{DbConnection, DbError};
use crate::domain::appeal::AppealStatus;

fn open_statuses() -> [&'static str; 3] {
    AppealStatus::OPEN.map(AppealStatus::as_str)
}

pub fn insert(conn: &mut DbConnection, row: &AppealRow) -> Result<(), DbError> {
    diesel::insert_into(appeals::table).values(row).execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<AppealRow>, DbError> {
    Ok(appeals::table.find(id).first(conn).optional()?)
}

/// `(appeal id, subject id)` for each of `ids` that exists.
pub fn subjects_of(conn: &mut DbConnection, ids: &[String]) -> Result<Vec<(String, String)>, DbError> {
    let mut found = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(crate::db::INSERT_CHUNK) {
        found.extend(
            appeals::table
                .filter(appeals::id.eq_any(chunk))
                .select((appeals::id, appeals::subject_id))
                .load::<(String, String)>(conn)?,
        );
    }
    Ok(found)
}

pub fn open_for_decision(conn: &mut DbConnection, decision_id: &str) -> Result<Option<String>, DbError> {
    Ok(appeals::table
        .filter(appeals::decision_id.eq(decision_id))
        .filter(appeals::status.eq_any(open_statuses()))
        .select(appeals::id)
        .first(conn)
        .optional()?)
}

pub fn for_decision(conn: &mut DbConnection, decision_id: &str) -> Result<Vec<AppealRow>, DbError> {
    Ok(appeals::table
        .filter(appeals::decision_id.eq(decision_id))
        .order((appeals::received_at.asc(), appeals::id.asc()))
        .load(conn)?)
}

/// Live leases a reviewer holds now.
pub fn live_leases(conn: &mut DbConnection, reviewer: &str, now: NaiveDateTime) -> Result<i64, DbError> {
    Ok(appeals::table
        .filter(appeals::reviewer_id.eq(reviewer))
        .filter(appeals::status.eq(AppealStatus::InReview.as_str()))
        .filter(appeals::lease_expires_at.gt(now))
        .count()
        .get_result(conn)?)
}

/// Applies `update` if the appeal is still in `status`. Returns whether it was.
pub fn update_if_status(
    conn: &mut DbConnection,
    id: &str,
    status: AppealStatus,
    update: &AppealUpdate,
) -> Result<bool, DbError> {
    let n = diesel::update(
        appeals::table
            .filter(appeals::id.eq(id))
            .filter(appeals::status.eq(status.as_str())),
    )
    .set(update)
    .execute(conn)?;
    Ok(n == 1)
}

/// Writes a subject's filing over an open review task in `status`, and applies `update`.
/// Returns whether the task was still in that status.
pub fn refile_if_status(
    conn: &mut DbConnection,
    id: &str,
    status: AppealStatus,
    filing: &Filing,
    update: &AppealUpdate,
) -> Result<bool, DbError> {
    let target = appeals::table
        .filter(appeals::id.eq(id))
        .filter(appeals::status.eq(status.as_str()));
    let n = diesel::update(target).set(filing).execute(conn)?;
    if n == 1 {
        diesel::update(appeals::table.find(id)).set(update).execute(conn)?;
    }
    Ok(n == 1)
}

/// Applies `update` only for the current holder of a live lease (the fencing check).
pub fn update_if_leased(
    conn: &mut DbConnection,
    id: &str,
    reviewer: &str,
    token: &str,
    now: NaiveDateTime,
    update: &AppealUpdate,
) -> Result<bool, DbError> {
    let n = diesel::update(
        appeals::table
            .filter(appeals::id.eq(id))
            .filter(appeals::status.eq(AppealStatus::InReview.as_str()))
            .filter(appeals::reviewer_id.eq(reviewer))
            .filter(appeals::lease_token.eq(token))
            .filter(appeals::lease_expires_at.gt(now)),
    )
    .set(update)
    .execute(conn)?;
    Ok(n == 1)
}

/// Ids of appeals whose lease ran out, oldest first.
pub fn expired_leases(conn: &mut DbConnection, now: NaiveDateTime, limit: i64) -> Result<Vec<String>, DbError> {
    Ok(appeals::table
        .filter(appeals::status.eq(AppealStatus::InReview.as_str()))
        .filter(appeals::lease_expires_at.le(now))
        .order(appeals::lease_expires_at.asc())
        .select(appeals::id)
        .limit(limit)
        .load(conn)?)
}

/// Returns an expired lease to the queue, unless someone renewed or finished it meanwhile.
pub fn requeue_if_expired(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> Result<bool, DbError> {
    let n = diesel::update(
        appeals::table
            .filter(appeals::id.eq(id))
            .filter(appeals::status.eq(AppealStatus::InReview.as_str()))
            .filter(appeals::lease_expires_at.le(now)),
    )
    .set(&AppealUpdate::to_status_unleased(AppealStatus::Queued, now))
    .execute(conn)?;
    Ok(n == 1)
}

/// Open appeals whose next escalation point has passed.
pub fn due_for_escalation(conn: &mut DbConnection, now: NaiveDateTime, limit: i64) -> Result<Vec<AppealRow>, DbError> {
    Ok(appeals::table
        .filter(appeals::escalate_at.le(now))
        .filter(appeals::status.eq_any(open_statuses()))
        .order(appeals::escalate_at.asc())
        .limit(limit)
        .load(conn)?)
}

/// Escalates an appeal unless another sweeper already moved it past `level`.
pub fn update_if_level(conn: &mut DbConnection, id: &str, level: i32, update: &AppealUpdate) -> Result<bool, DbError> {
    let n = diesel::update(
        appeals::table
            .filter(appeals::id.eq(id))
            .filter(appeals::escalation_level.eq(level))
            .filter(appeals::status.eq_any(open_statuses())),
    )
    .set(update)
    .execute(conn)?;
    Ok(n == 1)
}
