//! The sealer's queries: checkpoints, the entries they seal, and (on PostgreSQL) the lock and
//! the view of transactions in flight that let it seal only settled entries.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::audit::model::Checkpoint;
use crate::db::schema::{audit_checkpoints, audit_log};
use crate::db::{DbConnection, DbError};

/// Names the Postgres advisory lock that lets one sealer at a time through.
const SEAL_LOCK_KEY: i64 = 0x7365_616c; // "seal"

/// The latest checkpoint: the head of the chain, to be anchored outside the database.
pub fn latest(conn: &mut DbConnection) -> Result<Option<Checkpoint>, DbError> {
    Ok(audit_checkpoints::table
        .order(audit_checkpoints::id.desc())
        .first(conn)
        .optional()?)
}

/// Every checkpoint, in id order.
pub fn all(conn: &mut DbConnection) -> Result<Vec<Checkpoint>, DbError> {
    Ok(audit_checkpoints::table.order(audit_checkpoints::id.asc()).load(conn)?)
}

pub fn insert(conn: &mut DbConnection, checkpoint: &Checkpoint) -> Result<(), DbError> {
    diesel::insert_into(audit_checkpoints::table)
        .values(checkpoint)
        .execute(conn)?;
    Ok(())
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

/// The latest `at` among a checkpoint's entries.
pub fn latest_at_of(conn: &mut DbConnection, checkpoint: i64) -> Result<Option<NaiveDateTime>, DbError> {
    Ok(audit_log::table
        .filter(audit_log::checkpoint_id.eq(checkpoint))
        .select(diesel::dsl::max(audit_log::at))
        .first(conn)?)
}

/// `seq` and `at` of the entries that claim checkpoint `id` or a later one.
pub fn marked_from(conn: &mut DbConnection, id: i64) -> Result<Vec<(i64, NaiveDateTime)>, DbError> {
    Ok(audit_log::table
        .filter(audit_log::checkpoint_id.ge(id))
        .select((audit_log::seq, audit_log::at))
        .load(conn)?)
}

/// `seq` and `at` of the unsealed entries, in `seq` order, up to `horizon` when there is one.
pub fn unsealed(conn: &mut DbConnection, horizon: Option<i64>) -> Result<Vec<(i64, NaiveDateTime)>, DbError> {
    let mut query = audit_log::table
        .filter(audit_log::checkpoint_id.is_null())
        .select((audit_log::seq, audit_log::at))
        .order(audit_log::seq.asc())
        .into_boxed();
    if let Some(h) = horizon {
        query = query.filter(audit_log::seq.le(h));
    }
    Ok(query.load(conn)?)
}

/// The entries a checkpoint takes: unsealed, `seq` in `(min_seq, max_seq]`, `at` from `min_at`,
/// and none of the refused ones.
pub struct Claim {
    pub checkpoint: i64,
    pub min_seq: i64,
    pub max_seq: i64,
    pub min_at: NaiveDateTime,
    pub refused: Vec<i64>,
}

/// Marks the claimed entries with the checkpoint's id. Returns how many were marked.
pub fn mark(conn: &mut DbConnection, claim: Claim) -> Result<usize, DbError> {
    Ok(diesel::update(
        audit_log::table
            .filter(audit_log::checkpoint_id.is_null())
            .filter(audit_log::seq.le(claim.max_seq))
            .filter(audit_log::seq.gt(claim.min_seq))
            .filter(audit_log::at.ge(claim.min_at))
            .filter(audit_log::seq.ne_all(claim.refused)),
    )
    .set(audit_log::checkpoint_id.eq(claim.checkpoint))
    .execute(conn)?)
}

/// PostgreSQL: takes the sealer's lock for this transaction. False when another sealer holds it.
pub fn try_lock_sealer(conn: &mut DbConnection) -> Result<bool, DbError> {
    #[derive(QueryableByName)]
    struct Locked {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        locked: bool,
    }
    let got: Locked =
        diesel::sql_query(format!("SELECT pg_try_advisory_xact_lock({SEAL_LOCK_KEY}) AS locked")).get_result(conn)?;
    Ok(got.locked)
}

/// PostgreSQL: the current snapshot (as text) and the highest `seq` visible in it, read in one
/// statement.
pub fn snapshot_and_horizon(conn: &mut DbConnection) -> Result<(String, i64), DbError> {
    #[derive(QueryableByName)]
    struct Snapshot {
        #[diesel(sql_type = diesel::sql_types::Text)]
        snap: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        horizon: i64,
    }
    let taken: Snapshot = diesel::sql_query(
        "SELECT pg_current_snapshot()::text AS snap, COALESCE((SELECT max(seq) FROM audit_log), 0)::bigint AS horizon",
    )
    .get_result(conn)?;
    Ok((taken.snap, taken.horizon))
}

/// PostgreSQL: the transactions in flight in `snapshot` that belong to this database (transaction
/// ids are cluster-wide), comma-separated. The activity view is read once per transaction, so
/// call this after taking the snapshot.
pub fn own_in_flight(conn: &mut DbConnection, snapshot: &str) -> Result<String, DbError> {
    #[derive(QueryableByName)]
    struct Ours {
        #[diesel(sql_type = diesel::sql_types::Text)]
        xids: String,
    }
    let ours: Ours = diesel::sql_query(
        "SELECT COALESCE(string_agg(x::text, ','), '') AS xids FROM pg_snapshot_xip($1::pg_snapshot) AS x
          WHERE x::xid IN (SELECT backend_xid FROM pg_stat_activity
                            WHERE datname = current_database() AND backend_xid IS NOT NULL)",
    )
    .bind::<diesel::sql_types::Text, _>(snapshot)
    .get_result(conn)?;
    Ok(ours.xids)
}

/// PostgreSQL: how many of the comma-separated transactions are still in progress, asked live
/// (`pg_xact_status`).
pub fn still_running(conn: &mut DbConnection, xids: &str) -> Result<i64, DbError> {
    #[derive(QueryableByName)]
    struct Running {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        running: i64,
    }
    let running: Running = diesel::sql_query(
        "SELECT count(*)::bigint AS running FROM unnest(string_to_array($1, ',')) AS x
          WHERE pg_xact_status(x::xid8) = 'in progress'",
    )
    .bind::<diesel::sql_types::Text, _>(xids)
    .get_result(conn)?;
    Ok(running.running)
}
