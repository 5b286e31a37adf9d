//! `Idempotency-Key` support: the first response to a key is stored with a hash of the request,
//! in the same transaction as the write, and replayed for a repeat of the same request.

use diesel::prelude::*;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::db::schema::idempotency_keys;
use crate::db::{self, DbConnection, DbError};

pub const MAX_KEY_LEN: usize = 255;

/// What a stored key says about a new request.
pub enum Prior {
    /// Never seen: do the work and `store` the response.
    New,
    /// Seen with the same request: replay this response.
    Replay { status: u16, body: Value },
    /// Seen with a different request under the same key.
    Mismatch,
}

/// Fingerprint of a request: its target and canonical body.
pub fn request_hash(target: &str, body: &Value) -> String {
    let mut h = Sha256::new();
    h.update(target.as_bytes());
    h.update([0]);
    h.update(body.to_string().as_bytes());
    hex::encode(h.finalize())
}

pub fn lookup(conn: &mut DbConnection, actor: &str, key: &str, hash: &str) -> Result<Prior, DbError> {
    let row: Option<(String, i32, String)> = idempotency_keys::table
        .find((actor, key))
        .select((
            idempotency_keys::request_hash,
            idempotency_keys::response_status,
            idempotency_keys::response_body,
        ))
        .first(conn)
        .optional()?;
    Ok(match row {
        None => Prior::New,
        Some((stored, status, body)) if stored == hash => Prior::Replay {
            status: u16::try_from(status).unwrap_or(200),
            body: serde_json::from_str(&body).unwrap_or(Value::Null),
        },
        Some(_) => Prior::Mismatch,
    })
}

pub fn store(
    conn: &mut DbConnection,
    actor: &str,
    key: &str,
    hash: &str,
    status: u16,
    body: &Value,
) -> Result<(), DbError> {
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::actor.eq(actor),
            idempotency_keys::idem_key.eq(key),
            idempotency_keys::request_hash.eq(hash),
            idempotency_keys::response_status.eq(i32::from(status)),
            idempotency_keys::response_body.eq(body.to_string()),
            idempotency_keys::created_at.eq(db::now()),
        ))
        .execute(conn)?;
    Ok(())
}
