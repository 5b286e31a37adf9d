use diesel::prelude::*;

use crate::db::schema::idempotency_keys;
use crate::db::{DbConnection, DbError};

/// A stored response to a key: the request's hash, and the status and body given.
pub struct StoredResponse {
    pub request_hash: String,
    pub status: i32,
    pub body: String,
}

pub fn find(conn: &mut DbConnection, actor: &str, key: &str) -> Result<Option<StoredResponse>, DbError> {
    let row: Option<(String, i32, String)> = idempotency_keys::table
        .find((actor, key))
        .select((
            idempotency_keys::request_hash,
            idempotency_keys::response_status,
            idempotency_keys::response_body,
        ))
        .first(conn)
        .optional()?;
    Ok(row.map(|(request_hash, status, body)| StoredResponse {
        request_hash,
        status,
        body,
    }))
}

pub fn insert(
    conn: &mut DbConnection,
    actor: &str,
    key: &str,
    response: &StoredResponse,
    at: chrono::NaiveDateTime,
) -> Result<(), DbError> {
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::actor.eq(actor),
            idempotency_keys::idem_key.eq(key),
            idempotency_keys::request_hash.eq(&response.request_hash),
            idempotency_keys::response_status.eq(response.status),
            idempotency_keys::response_body.eq(&response.body),
            idempotency_keys::created_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}
