//! The transactional outbox: events for scoring engines are written in the same transaction as
//! the change they describe, and delivered later (webhooks, pull feed).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;

use crate::db::schema::outbox;
use crate::db::{self, DbConnection, DbError};

/// A versioned event as engines receive it.
#[derive(Debug, Serialize)]
pub struct EventEnvelope<'a> {
    #[serde(rename = "type")]
    pub event_type: &'a str,
    pub id: &'a str,
    pub occurred_at: DateTime<Utc>,
    pub version: u32,
    pub data: &'a Value,
}

#[derive(Insertable)]
#[diesel(table_name = outbox, treat_none_as_null = true)]
struct NewOutboxRow<'a> {
    id: &'a str,
    event_type: &'a str,
    engine_id: Option<&'a str>,
    subject_id: Option<&'a str>,
    payload: String,
    created_at: chrono::NaiveDateTime,
}

/// Queues one event for `engine_id` about `subject_id`. Call inside the transaction that makes
/// the change. Returns the event id.
pub fn enqueue(
    conn: &mut DbConnection,
    event_type: &str,
    engine_id: Option<&str>,
    subject_id: Option<&str>,
    data: Value,
) -> Result<String, DbError> {
    let id = uuid::Uuid::now_v7().to_string();
    let created_at = db::now();
    let payload = serde_json::to_string(&EventEnvelope {
        event_type,
        id: &id,
        occurred_at: created_at.and_utc(),
        version: 1,
        data: &data,
    })
    .map_err(|e| DbError::Query(diesel::result::Error::SerializationError(Box::new(e))))?;
    diesel::insert_into(outbox::table)
        .values(&NewOutboxRow {
            id: &id,
            event_type,
            engine_id,
            subject_id,
            payload,
            created_at,
        })
        .execute(conn)?;
    if let Some(engine) = engine_id {
        fan_out(conn, &id, engine, created_at)?;
    }
    Ok(id)
}

/// Creates one webhook delivery per active endpoint of the engine, in the event's transaction,
/// so a crash after commit never loses a delivery. The delivery id is `{event}.{endpoint}`:
/// unique per pair, and computable in SQL on both backends.
fn fan_out(
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
