use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{login_links_used, web_sessions};
use crate::db::{DbConnection, DbError};

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = web_sessions)]
pub struct SessionRow {
    pub id_hash: String,
    pub actor_id: String,
    pub role: String,
    pub csrf_token: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, row: &SessionRow) -> Result<(), DbError> {
    diesel::insert_into(web_sessions::table).values(row).execute(conn)?;
    Ok(())
}

/// The live session named by `id_hash`, if it has not expired.
pub fn find_live(conn: &mut DbConnection, id_hash: &str, now: NaiveDateTime) -> Result<Option<SessionRow>, DbError> {
    Ok(web_sessions::table
        .find(id_hash)
        .filter(web_sessions::expires_at.gt(now))
        .first(conn)
        .optional()?)
}

pub fn delete(conn: &mut DbConnection, id_hash: &str) -> Result<bool, DbError> {
    Ok(diesel::delete(web_sessions::table.find(id_hash)).execute(conn)? == 1)
}

/// Removes sessions and spent-link records that can no longer matter.
pub fn purge_expired(conn: &mut DbConnection, now: NaiveDateTime) -> Result<(), DbError> {
    diesel::delete(web_sessions::table.filter(web_sessions::expires_at.le(now))).execute(conn)?;
    diesel::delete(login_links_used::table.filter(login_links_used::expires_at.le(now))).execute(conn)?;
    Ok(())
}

/// Records a login link as spent. A second use violates the primary key.
pub fn spend_link(
    conn: &mut DbConnection,
    link_id: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::insert_into(login_links_used::table)
        .values((
            login_links_used::link_id.eq(link_id),
            login_links_used::used_at.eq(now),
            login_links_used::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn link_spent(conn: &mut DbConnection, link_id: &str) -> Result<bool, DbError> {
    Ok(diesel::select(diesel::dsl::exists(login_links_used::table.find(link_id))).get_result(conn)?)
}
