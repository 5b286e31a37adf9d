//! The sealer: folds committed, unsealed audit entries into a checkpoint whose hash chains to the
//! previous one. Writers never wait for it; several instances may run it, one seals at a time.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::merkle;
use crate::db::schema::{audit_checkpoints, audit_log};
use crate::db::{self, Db, DbConnection, DbError, write_tx};

fn as_utc<S: serde::Serializer>(t: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(&t.and_utc(), s)
}

/// Names the Postgres advisory lock that lets one sealer at a time through.
const SEAL_LOCK_KEY: i64 = 0x7365_616c; // "seal"
/// `prev_hash` of the first checkpoint.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = audit_checkpoints)]
pub struct Checkpoint {
    pub id: i64,
    pub prev_hash: String,
    pub merkle_root: String,
    pub entry_count: i64,
    pub first_seq: i64,
    pub last_seq: i64,
    /// UTC. Stored without an offset; written with `Z` in JSON.
    #[serde(serialize_with = "as_utc")]
    pub sealed_at: NaiveDateTime,
    pub checkpoint_hash: String,
}

/// The hash that chains checkpoints: over every other field, in a fixed layout.
pub fn checkpoint_hash(
    id: i64,
    prev_hash: &str,
    merkle_root: &str,
    entry_count: i64,
    first_seq: i64,
    last_seq: i64,
    sealed_at: NaiveDateTime,
) -> String {
    let text = format!(
        "{id}|{prev_hash}|{merkle_root}|{entry_count}|{first_seq}|{last_seq}|{}",
        sealed_at.format("%Y-%m-%dT%H:%M:%S%.6f")
    );
    hex::encode(Sha256::digest(text.as_bytes()))
}

pub fn latest(conn: &mut DbConnection) -> Result<Option<Checkpoint>, DbError> {
    Ok(audit_checkpoints::table
        .order(audit_checkpoints::id.desc())
        .first(conn)
        .optional()?)
}

/// Entry hashes of a checkpoint's entries, in `seq` order, as Merkle leaves.
pub fn leaves_of(conn: &mut DbConnection, checkpoint: i64) -> Result<Vec<(i64, Vec<u8>)>, DbError> {
    let rows: Vec<(i64, String)> = audit_log::table
        .filter(audit_log::checkpoint_id.eq(checkpoint))
        .order(audit_log::seq.asc())
        .select((audit_log::seq, audit_log::entry_hash))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(seq, h)| (seq, hex::decode(&h).unwrap_or_else(|_| h.into_bytes())))
        .collect())
}

/// Seals what can be sealed now. Returns the new checkpoint, or `None` when there was nothing
/// to seal or another instance holds the sealer lock.
pub fn seal_once(conn: &mut DbConnection) -> Result<Option<Checkpoint>, DbError> {
    write_tx(conn, |conn| {
        let postgres = matches!(conn, DbConnection::Pg(_));
        if postgres {
            #[derive(QueryableByName)]
            struct Locked {
                #[diesel(sql_type = diesel::sql_types::Bool)]
                locked: bool,
            }
            let got: Locked = diesel::sql_query(format!("SELECT pg_try_advisory_xact_lock({SEAL_LOCK_KEY}) AS locked"))
                .get_result(conn)?;
            if !got.locked {
                return Ok(None);
            }
        }
        let previous = latest(conn)?;
        let id = previous.as_ref().map_or(1, |p| p.id + 1);
        // Claim every committed, unsealed entry. A checkpoint is a set, not a seq range: an
        // entry whose transaction commits after this statement, even with a lower seq, is left
        // for the next checkpoint, so no entry is ever skipped however commits interleave.
        let claimed = diesel::update(audit_log::table.filter(audit_log::checkpoint_id.is_null()))
            .set(audit_log::checkpoint_id.eq(id))
            .execute(conn)?;
        if claimed == 0 {
            return Ok(None);
        }
        let leaves = leaves_of(conn, id)?;
        let (first_seq, last_seq) = (leaves.first().map_or(0, |l| l.0), leaves.last().map_or(0, |l| l.0));
        let hashes: Vec<Vec<u8>> = leaves.into_iter().map(|l| l.1).collect();
        let merkle_root = merkle::root(&hashes);
        let prev_hash = previous.map_or_else(|| GENESIS.to_owned(), |p| p.checkpoint_hash);
        let sealed_at = db::now();
        let count = hashes.len() as i64;
        let checkpoint = Checkpoint {
            checkpoint_hash: checkpoint_hash(id, &prev_hash, &merkle_root, count, first_seq, last_seq, sealed_at),
            id,
            prev_hash,
            merkle_root,
            entry_count: count,
            first_seq,
            last_seq,
            sealed_at,
        };
        diesel::insert_into(audit_checkpoints::table)
            .values(&checkpoint)
            .execute(conn)?;
        Ok(Some(checkpoint))
    })
}

/// Runs the sealer every `interval` until the task is dropped.
pub async fn run(db: Db, interval: std::time::Duration) {
    // The first seal comes one interval after start, like every later one.
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        match db.write(seal_once).await {
            Ok(Some(c)) => tracing::debug!(checkpoint = c.id, entries = c.entry_count, "audit sealed"),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %crate::error::cause_chain(&e), "audit sealing failed; will retry"),
        }
    }
}
