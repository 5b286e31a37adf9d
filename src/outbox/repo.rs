//! The outbox's queries: the event row, and its webhook deliveries.

use diesel::prelude::*;

use crate::db::schema::outbox;
use crate::db::{DbConnection, DbError};

/// One event as stored: the envelope in `payload`, and who it is for and about.
#[derive(Insertable)]
#[diesel(table_name = outbox, treat_none_as_null = true)]
pub struct NewOutboxRow<'a> {
    pub id: &'a str,
    pub event_type: &'a str,
    pub engine_id: Option<&'a str>,
    pub subject_id: Option<&'a str>,
    pub personal_data_of: Option<&'a str>,
    pub payload: String,
    pub created_at: chrono::NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, row: &NewOutboxRow<'_>) -> Result<(), DbError> {
    diesel::insert_into(outbox::table).values(row).execute(conn)?;
    Ok(())
}

/// Creates one webhook delivery per active endpoint of the engine, in the event's transaction,
/// so a crash after commit never loses a delivery. The delivery id is `{event}.{endpoint}`:
/// unique per pair, and computable in SQL on both backends.
pub fn fan_out(
    conn: &mut DbConnection,
    event_id: &str,
    engine_id: &str,
    now: chrono::NaiveDateTime,
) -> Result<(), DbError> {
    use diesel::sql_types::{Text, Timestamp};
    let sql = match conn {
        DbConnection::Pg(_) => {
            "INSERT INTO webhook_deliveries
                 (id, event_id, endpoint_id, engine_id, status, attempts, next_attempt_at, window_start, created_at)
             SELECT $1 || '.' || e.id, $1, e.id, e.engine_id, 'pending', 0, $3, $3, $3
               FROM webhook_endpoints e WHERE e.engine_id = $2 AND e.status = 'active'"
        }
        DbConnection::Sqlite(_) => {
            "INSERT INTO webhook_deliveries
                 (id, event_id, endpoint_id, engine_id, status, attempts, next_attempt_at, window_start, created_at)
             SELECT ?1 || '.' || e.id, ?1, e.id, e.engine_id, 'pending', 0, ?3, ?3, ?3
               FROM webhook_endpoints e WHERE e.engine_id = ?2 AND e.status = 'active'"
        }
    };
    diesel::sql_query(sql)
        .bind::<Text, _>(event_id)
        .bind::<Text, _>(engine_id)
        .bind::<Timestamp, _>(now)
        .execute(conn)?;
    Ok(())
}
