use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{decisions, model_suspensions as ms};
use crate::db::{DbConnection, DbError};

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = ms)]
pub struct SuspensionRow {
    pub model_name: String,
    pub reason: String,
    pub suspended_by: String,
    pub suspended_at: NaiveDateTime,
}

pub fn find(conn: &mut DbConnection, model: &str) -> Result<Option<SuspensionRow>, DbError> {
    Ok(ms::table.find(model).first(conn).optional()?)
}

pub fn insert(conn: &mut DbConnection, row: &SuspensionRow) -> Result<(), DbError> {
    diesel::insert_into(ms::table).values(row).execute(conn)?;
    Ok(())
}

pub fn delete(conn: &mut DbConnection, model: &str) -> Result<bool, DbError> {
    Ok(diesel::delete(ms::table.find(model)).execute(conn)? == 1)
}

/// Reasons for those of `models` that are suspended.
pub fn suspended_among(conn: &mut DbConnection, models: &[&str]) -> Result<HashMap<String, String>, DbError> {
    if models.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(ms::table
        .filter(ms::model_name.eq_any(models))
        .select((ms::model_name, ms::reason))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}

/// Engines that have posted decisions from this model: they are told about its suspension.
pub fn engines_using(conn: &mut DbConnection, model: &str) -> Result<Vec<String>, DbError> {
    Ok(decisions::table
        .filter(decisions::model_name.eq(model))
        .select(decisions::engine_id)
        .distinct()
        .load(conn)?)
}
