use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::engines;
use crate::db::{DbConnection, DbError};

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = engines)]
pub struct EngineRow {
    pub id: String,
    pub name: String,
    pub created_at: NaiveDateTime,
    pub created_by: String,
}

pub fn insert(conn: &mut DbConnection, row: &EngineRow) -> Result<(), DbError> {
    diesel::insert_into(engines::table).values(row).execute(conn)?;
    Ok(())
}

pub fn exists(conn: &mut DbConnection, id: &str) -> Result<bool, DbError> {
    Ok(diesel::select(diesel::dsl::exists(engines::table.find(id))).get_result(conn)?)
}

pub fn list(conn: &mut DbConnection) -> Result<Vec<EngineRow>, DbError> {
    Ok(engines::table.order(engines::id.asc()).load(conn)?)
}
