//! The sealer: folds committed, unsealed audit entries into a checkpoint whose hash chains to the
//! previous one. Writers never wait for it; several instances may run it, one seals at a time.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::merkle;
use crate::db::schema::{audit_checkpoints, audit_log};
use crate::db::{self, Db, DbConnection, DbError};

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
    #[serde(serialize_with = "crate::domain::utc::as_utc")]
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

/// How far back in time an entry may step relative to an entry with a lower `seq`. `at` is read
/// from each instance's clock when the entry is written, so entries from instances whose
/// clocks differ slightly land a little out of time order; anything further back is treated
/// as backdated. The sealer and the verifier use the same value, so what one seals the other
/// accepts.
pub const MAX_CLOCK_SKEW: std::time::Duration = std::time::Duration::from_secs(5);

/// How long the Postgres sealer waits for in-flight writers to finish before it gives up on
/// this round (see [`settled_horizon`]).
const SETTLE_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// An unsealed entry the sealer would not fold in: backdated or out of order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub seq: i64,
    pub at: NaiveDateTime,
    pub reason: String,
}

/// What one sealing pass did.
#[derive(Debug, Default)]
pub struct Sealed {
    pub checkpoint: Option<Checkpoint>,
    /// Entries left unsealed because they are older than what was sealed before them. They stay
    /// in the log and `audit verify` names them (`entry_backdated`).
    pub refused: Vec<Refused>,
}

/// The ordering rule shared by the sealer and the verifier. Entries are taken in `seq` order,
/// after everything sealed before them (`floor_seq`: the last sealed `seq`; `floor_at`: the
/// latest `at` sealed before). An entry is accepted when
/// - its `seq` is above `floor_seq` (a `seq` never goes backwards), and
/// - its `at` is no more than `skew` before the latest `at` accepted so far (clock skew between
///   instances is tolerated; an entry ten months back is not).
///
/// Refused entries do not move the bounds. Returns the refusals with their reasons.
pub struct Order {
    floor_seq: Option<i64>,
    latest_at: Option<NaiveDateTime>,
    skew: chrono::TimeDelta,
}

impl Order {
    pub fn after(floor_seq: Option<i64>, floor_at: Option<NaiveDateTime>, skew: std::time::Duration) -> Self {
        Self {
            floor_seq,
            latest_at: floor_at,
            skew: chrono::TimeDelta::from_std(skew).unwrap_or(chrono::TimeDelta::seconds(5)),
        }
    }

    /// Judges the next entry in `seq` order: `None` when accepted, else why not.
    pub fn judge(&mut self, seq: i64, at: NaiveDateTime) -> Option<String> {
        if let Some(floor) = self.floor_seq
            && seq <= floor
        {
            return Some(format!(
                "entry {seq} is not after the last entry sealed before it (seq {floor}): seq went backwards"
            ));
        }
        if let Some(latest) = self.latest_at
            && at < latest - self.skew
        {
            return Some(format!(
                "entry {seq} is dated {} but follows an entry dated {}: more than {} s back in time",
                at.and_utc().format("%Y-%m-%dT%H:%M:%S%.6fZ"),
                latest.and_utc().format("%Y-%m-%dT%H:%M:%S%.6fZ"),
                self.skew.num_seconds()
            ));
        }
        self.latest_at = Some(self.latest_at.map_or(at, |l| l.max(at)));
        None
    }
}

/// The latest `at` among a checkpoint's entries.
pub fn latest_at_of(conn: &mut DbConnection, checkpoint: i64) -> Result<Option<NaiveDateTime>, DbError> {
    Ok(audit_log::table
        .filter(audit_log::checkpoint_id.eq(checkpoint))
        .select(diesel::dsl::max(audit_log::at))
        .first(conn)?)
}

/// Postgres only: the highest `seq` that no transaction still in flight can have taken, or
/// `None` when writers did not finish within [`SETTLE_WAIT`].
///
/// Sequences hand out numbers at insert time, not at commit, so a transaction may commit entry
/// 10 after entry 11 is visible. Sealing 11 first would leave 10 to a later checkpoint, below
/// its predecessor's end, which the ordering rule refuses. So: read the highest visible `seq`
/// and the snapshot's in-progress transactions in one statement, wait until those of this
/// database have ended,
/// and seal nothing above that `seq`. Every entry at or below it was written by a transaction
/// that had started (and taken its transaction id, see `repo::record_many`) before the
/// snapshot, so it is now committed or gone. SQLite writes one transaction at a time, so `seq`
/// order is commit order there.
fn settled_horizon(conn: &mut DbConnection) -> Result<Option<i64>, DbError> {
    #[derive(QueryableByName)]
    struct Snapshot {
        #[diesel(sql_type = diesel::sql_types::Text)]
        snap: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        horizon: i64,
    }
    #[derive(QueryableByName)]
    struct Running {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        running: i64,
    }
    let taken: Snapshot = diesel::sql_query(
        "SELECT pg_current_snapshot()::text AS snap, COALESCE((SELECT max(seq) FROM audit_log), 0)::bigint AS horizon",
    )
    .get_result(conn)?;
    // Only this database's transactions matter (transaction ids are cluster-wide). The activity
    // view is read once per transaction, so it is read here, after the snapshot, and the
    // waiting below asks `pg_xact_status`, which is live.
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
    .bind::<diesel::sql_types::Text, _>(&taken.snap)
    .get_result(conn)?;
    if ours.xids.is_empty() {
        return Ok(Some(taken.horizon));
    }
    let deadline = std::time::Instant::now() + SETTLE_WAIT;
    loop {
        let running: Running = diesel::sql_query(
            "SELECT count(*)::bigint AS running FROM unnest(string_to_array($1, ',')) AS x
              WHERE pg_xact_status(x::xid8) = 'in progress'",
        )
        .bind::<diesel::sql_types::Text, _>(&ours.xids)
        .get_result(conn)?;
        if running.running == 0 {
            return Ok(Some(taken.horizon));
        }
        if std::time::Instant::now() >= deadline {
            return Ok(None);
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Seals what can be sealed now, with [`MAX_CLOCK_SKEW`], and logs any refused entry. Returns
/// the new checkpoint, or `None` when there was nothing to seal or another instance holds the
/// sealer lock.
pub fn seal_once(conn: &mut DbConnection) -> Result<Option<Checkpoint>, DbError> {
    let sealed = seal_with(conn, MAX_CLOCK_SKEW)?;
    for r in &sealed.refused {
        tracing::error!(seq = r.seq, at = %r.at.and_utc(), reason = %r.reason, "audit entry refused by the sealer: it is backdated; run `recourse audit verify`");
    }
    Ok(sealed.checkpoint)
}

/// Runs inside the caller's write transaction ([`Db::write`]).
///
/// Folds every committed, unsealed entry that keeps the ordering rule ([`Order`]) into a new
/// checkpoint chained to the previous one. Entries that break it are left unsealed and
/// returned in `refused`: a backdated entry is never folded in, so it cannot hide inside a
/// valid checkpoint, and verification names it.
pub fn seal_with(conn: &mut DbConnection, skew: std::time::Duration) -> Result<Sealed, DbError> {
    let postgres = matches!(conn, DbConnection::Pg(_));
    let mut horizon = None;
    if postgres {
        #[derive(QueryableByName)]
        struct Locked {
            #[diesel(sql_type = diesel::sql_types::Bool)]
            locked: bool,
        }
        let got: Locked = diesel::sql_query(format!("SELECT pg_try_advisory_xact_lock({SEAL_LOCK_KEY}) AS locked"))
            .get_result(conn)?;
        if !got.locked {
            return Ok(Sealed::default());
        }
        match settled_horizon(conn)? {
            Some(h) => horizon = Some(h),
            None => {
                tracing::debug!("audit sealing waits for writers still in flight");
                return Ok(Sealed::default());
            }
        }
    }
    let previous = latest(conn)?;
    let id = previous.as_ref().map_or(1, |p| p.id + 1);
    let (floor_seq, floor_at) = match &previous {
        Some(p) => (Some(p.last_seq), latest_at_of(conn, p.id)?),
        None => (None, None),
    };
    // Entries already marked with this or a later checkpoint were not marked by a sealer:
    // sealing now would fold them in unjudged. Stop, and leave them for verify to name.
    let premarked: Vec<(i64, NaiveDateTime)> = audit_log::table
        .filter(audit_log::checkpoint_id.ge(id))
        .select((audit_log::seq, audit_log::at))
        .load(conn)?;
    if !premarked.is_empty() {
        return Ok(Sealed {
            checkpoint: None,
            refused: premarked
                .into_iter()
                .map(|(seq, at)| Refused {
                    seq,
                    at,
                    reason: format!(
                        "entry {seq} claims checkpoint {id} or later before it was sealed; sealing is stopped"
                    ),
                })
                .collect(),
        });
    }
    let mut unsealed = audit_log::table
        .filter(audit_log::checkpoint_id.is_null())
        .select((audit_log::seq, audit_log::at))
        .order(audit_log::seq.asc())
        .into_boxed();
    if let Some(h) = horizon {
        unsealed = unsealed.filter(audit_log::seq.le(h));
    }
    let candidates: Vec<(i64, NaiveDateTime)> = unsealed.load(conn)?;
    let mut order = Order::after(floor_seq, floor_at, skew);
    let mut refused = Vec::new();
    let mut last_accepted = None;
    for (seq, at) in candidates {
        match order.judge(seq, at) {
            None => last_accepted = Some(seq),
            Some(reason) => refused.push(Refused { seq, at, reason }),
        }
    }
    let Some(last_accepted) = last_accepted else {
        return Ok(Sealed {
            checkpoint: None,
            refused,
        });
    };
    // A checkpoint is the set of entries marked with its id. The bounds repeat the rule in
    // SQL, so nothing committed since the read above slips in unjudged below a refusal.
    let refused_seqs: Vec<i64> = refused.iter().map(|r| r.seq).collect();
    let min_seq = floor_seq.unwrap_or(i64::MIN);
    let skew = chrono::TimeDelta::from_std(skew).unwrap_or(chrono::TimeDelta::seconds(5));
    let min_at = floor_at.map_or(
        chrono::DateTime::UNIX_EPOCH.naive_utc() - chrono::TimeDelta::days(365 * 1000),
        |at| at - skew,
    );
    let claimed = diesel::update(
        audit_log::table
            .filter(audit_log::checkpoint_id.is_null())
            .filter(audit_log::seq.le(last_accepted))
            .filter(audit_log::seq.gt(min_seq))
            .filter(audit_log::at.ge(min_at))
            .filter(audit_log::seq.ne_all(refused_seqs)),
    )
    .set(audit_log::checkpoint_id.eq(id))
    .execute(conn)?;
    if claimed == 0 {
        return Ok(Sealed {
            checkpoint: None,
            refused,
        });
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
    Ok(Sealed {
        checkpoint: Some(checkpoint),
        refused,
    })
}

/// Runs the sealer every `interval` until the task is dropped. A refused entry is logged when
/// it is first seen, not on every pass.
pub async fn run(db: Db, interval: std::time::Duration) {
    // The first seal comes one interval after start, like every later one.
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut reported: std::collections::HashSet<i64> = std::collections::HashSet::new();
    loop {
        ticker.tick().await;
        match db.write(|conn| seal_with(conn, MAX_CLOCK_SKEW)).await {
            Ok(sealed) => {
                if let Some(c) = &sealed.checkpoint {
                    tracing::debug!(checkpoint = c.id, entries = c.entry_count, "audit sealed");
                }
                for r in &sealed.refused {
                    if reported.insert(r.seq) {
                        tracing::error!(seq = r.seq, at = %r.at.and_utc(), reason = %r.reason, "audit entry refused by the sealer: it is backdated; run `recourse audit verify`");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %crate::error::cause_chain(&e), "audit sealing failed; will retry"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> NaiveDateTime {
        s.parse().unwrap()
    }

    #[test]
    fn seq_must_grow_past_the_floor_and_time_may_step_back_only_by_the_skew() {
        let mut order = Order::after(Some(10), Some(t("2026-12-01T10:00:00")), MAX_CLOCK_SKEW);
        assert!(
            order.judge(11, t("2026-12-01T09:59:57")).is_none(),
            "3 s of skew is fine"
        );
        assert!(
            order
                .judge(5, t("2026-12-01T10:00:01"))
                .unwrap()
                .contains("seq went backwards")
        );
        assert!(order.judge(0, t("2026-02-01T10:00:00")).is_some());
        let far = order.judge(12, t("2026-02-01T10:00:00")).unwrap();
        assert!(far.contains("entry 12") && far.contains("2026-02-01"), "{far}");
        // Refusals do not move the bounds; later honest entries pass.
        assert!(order.judge(13, t("2026-12-01T10:00:02")).is_none());
        assert!(
            order.judge(14, t("2026-12-01T09:59:56")).is_some(),
            "6 s back from 10:00:02"
        );
    }

    #[test]
    fn the_first_entries_have_no_floor() {
        let mut order = Order::after(None, None, MAX_CLOCK_SKEW);
        assert!(order.judge(-5, t("2020-01-01T00:00:00")).is_none());
        assert!(order.judge(1, t("2020-01-01T00:00:00")).is_none());
        assert!(order.judge(2, t("2019-01-01T00:00:00")).is_some());
    }
}
