use diesel::prelude::*;

use super::model::{NoticeRow, SubjectNotice};
use crate::db::schema::{notices, subject_notices};
use crate::db::{DbConnection, DbError};

pub fn insert(conn: &mut DbConnection, row: &NoticeRow) -> Result<(), DbError> {
    diesel::insert_into(notices::table).values(row).execute(conn)?;
    Ok(())
}

/// An appeal's notices, oldest first.
pub fn for_appeal(conn: &mut DbConnection, appeal_id: &str) -> Result<Vec<NoticeRow>, DbError> {
    Ok(notices::table
        .filter(notices::appeal_id.eq(appeal_id))
        .order((notices::created_at.asc(), notices::id.asc()))
        .load(conn)?)
}

pub fn insert_subject_notice(conn: &mut DbConnection, notice: &SubjectNotice) -> Result<(), DbError> {
    diesel::insert_into(subject_notices::table)
        .values(notice)
        .execute(conn)?;
    Ok(())
}

/// The notices sent to a subject outside any appeal, oldest first.
pub fn of_subject(conn: &mut DbConnection, subject_id: &str) -> Result<Vec<SubjectNotice>, DbError> {
    Ok(subject_notices::table
        .filter(subject_notices::subject_id.eq(subject_id))
        .order(subject_notices::created_at.asc())
        .load(conn)?)
}
