//! `Idempotency-Key` support: the first response to a key is stored with a hash of the request,
//! in the same transaction as the write, and replayed for a repeat of the same request.

pub mod repo;

use serde_json::Value;
use sha2::{Digest, Sha256};

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

/// What the key says about this request, in the caller's transaction.
pub fn lookup(conn: &mut DbConnection, actor: &str, key: &str, hash: &str) -> Result<Prior, DbError> {
    Ok(match repo::find(conn, actor, key)? {
        None => Prior::New,
        Some(stored) if stored.request_hash == hash => Prior::Replay {
            status: u16::try_from(stored.status).unwrap_or(200),
            body: serde_json::from_str(&stored.body).unwrap_or(Value::Null),
        },
        Some(_) => Prior::Mismatch,
    })
}

/// Stores the first response to a key, in the transaction that made it.
pub fn store(
    conn: &mut DbConnection,
    actor: &str,
    key: &str,
    hash: &str,
    status: u16,
    body: &Value,
) -> Result<(), DbError> {
    let response = repo::StoredResponse {
        request_hash: hash.to_owned(),
        status: i32::from(status),
        body: body.to_string(),
    };
    repo::insert(conn, actor, key, &response, db::now())
}
