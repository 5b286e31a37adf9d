use diesel::prelude::*;

use super::model::DecisionRow;
use crate::db::schema::decisions;
use crate::db::{DbConnection, DbError, INSERT_CHUNK};

/// The narrow copy of each decision's reason codes that statistics count (see the migration).
#[derive(Insertable)]
#[diesel(table_name = crate::db::schema::decision_reason_codes)]
pub struct ReasonCodeRow<'a> {
    pub decision_id: &'a str,
    pub code: &'a str,
    pub model_name: &'a str,
    pub model_version: &'a str,
    pub engine_id: &'a str,
    pub decided_at: chrono::NaiveDateTime,
}

pub fn insert_reason_codes(conn: &mut DbConnection, rows: &[ReasonCodeRow<'_>]) -> Result<(), DbError> {
    use crate::db::schema::decision_reason_codes as drc;
    match conn {
        DbConnection::Pg(c) => {
            for chunk in rows.chunks(INSERT_CHUNK) {
                diesel::insert_into(drc::table).values(chunk).execute(c)?;
            }
        }
        DbConnection::Sqlite(c) => {
            for row in rows {
                diesel::insert_into(drc::table).values(row).execute(c)?;
            }
        }
    }
    Ok(())
}

/// Multi-row INSERTs on Postgres; on SQLite (where diesel has no dynamic batch insert) one
/// prepared INSERT per row, which inside one transaction costs about the same.
pub fn insert_many(conn: &mut DbConnection, rows: &[DecisionRow]) -> Result<(), DbError> {
    match conn {
        DbConnection::Pg(c) => {
            for chunk in rows.chunks(INSERT_CHUNK) {
                diesel::insert_into(decisions::table).values(chunk).execute(c)?;
            }
        }
        DbConnection::Sqlite(c) => {
            for row in rows {
                diesel::insert_into(decisions::table).values(row).execute(c)?;
            }
        }
    }
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<DecisionRow>, DbError> {
    Ok(decisions::table.find(id).first(conn).optional()?)
}

pub fn find_by_external_ids(
    conn: &mut DbConnection,
    engine_id: &str,
    external_ids: &[&str],
) -> Result<Vec<DecisionRow>, DbError> {
    Ok(decisions::table
        .filter(decisions::engine_id.eq(engine_id))
        .filter(decisions::external_id.eq_any(external_ids))
        .load(conn)?)
}

/// One page of a subject's decisions in id order (ids are time-ordered UUIDv7), optionally
/// only those of one engine.
pub fn page_for_subject(
    conn: &mut DbConnection,
    subject_id: &str,
    engine_id: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<DecisionRow>, DbError> {
    let mut query = decisions::table
        .filter(decisions::subject_id.eq(subject_id))
        .order(decisions::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(engine_id) = engine_id {
        query = query.filter(decisions::engine_id.eq(engine_id));
    }
    if let Some(after) = after {
        query = query.filter(decisions::id.gt(after));
    }
    Ok(query.load(conn)?)
}

/// Sets where a decision stands after an appeal, and the outcome now in force.
pub fn set_status(conn: &mut DbConnection, id: &str, status: &str, effective_outcome: &str) -> Result<(), DbError> {
    diesel::update(decisions::table.find(id))
        .set((
            decisions::status.eq(status),
            decisions::effective_outcome.eq(effective_outcome),
        ))
        .execute(conn)?;
    Ok(())
}

/// `(decision id, subject id)` for each of `ids` that exists.
pub fn subjects_of(conn: &mut DbConnection, ids: &[String]) -> Result<Vec<(String, String)>, DbError> {
    let mut found = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(INSERT_CHUNK) {
        found.extend(
            decisions::table
                .filter(decisions::id.eq_any(chunk))
                .select((decisions::id, decisions::subject_id))
                .load::<(String, String)>(conn)?,
        );
    }
    Ok(found)
}

/// Those of `subjects` that have decisions on record.
pub fn known_subjects(conn: &mut DbConnection, subjects: &[String]) -> Result<Vec<String>, DbError> {
    let mut found = Vec::with_capacity(subjects.len());
    for chunk in subjects.chunks(INSERT_CHUNK) {
        found.extend(
            decisions::table
                .filter(decisions::subject_id.eq_any(chunk))
                .select(decisions::subject_id)
                .distinct()
                .load::<String>(conn)?,
        );
    }
    Ok(found)
}

/// Every subject id on record.
pub fn distinct_subjects(conn: &mut DbConnection) -> Result<Vec<String>, DbError> {
    Ok(decisions::table.select(decisions::subject_id).distinct().load(conn)?)
}

/// Every decision about a subject, in id order.
pub fn all_for_subject(conn: &mut DbConnection, subject_id: &str) -> Result<Vec<DecisionRow>, DbError> {
    Ok(decisions::table
        .filter(decisions::subject_id.eq(subject_id))
        .order(decisions::id.asc())
        .load(conn)?)
}
