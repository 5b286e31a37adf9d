//! The sealer: folds committed, unsealed audit entries into a checkpoint whose hash chains to the
//! previous one. Writers never wait for it; several instances may run it, one seals at a time.

use chrono::NaiveDateTime;
use sha2::{Digest, Sha256};

use super::merkle;
use super::model::Checkpoint;
use super::repo::checkpoints::{self, Claim};
use crate::db::{self, Db, DbConnection, DbError};

/// `prev_hash` of the first checkpoint.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

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
    let (snapshot, horizon) = checkpoints::snapshot_and_horizon(conn)?;
    let ours = checkpoints::own_in_flight(conn, &snapshot)?;
    if ours.is_empty() {
        return Ok(Some(horizon));
    }
    let deadline = std::time::Instant::now() + SETTLE_WAIT;
    loop {
        if checkpoints::still_running(conn, &ours)? == 0 {
            return Ok(Some(horizon));
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
        if !checkpoints::try_lock_sealer(conn)? {
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
    let previous = checkpoints::latest(conn)?;
    let id = previous.as_ref().map_or(1, |p| p.id + 1);
    let (floor_seq, floor_at) = match &previous {
        Some(p) => (Some(p.last_seq), checkpoints::latest_at_of(conn, p.id)?),
        None => (None, None),
    };
    // Entries already marked with this or a later checkpoint were not marked by a sealer:
    // sealing now would fold them in unjudged. Stop, and leave them for verify to name.
    let premarked = checkpoints::marked_from(conn, id)?;
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
    let candidates = checkpoints::unsealed(conn, horizon)?;
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
    let skew = chrono::TimeDelta::from_std(skew).unwrap_or(chrono::TimeDelta::seconds(5));
    let claimed = checkpoints::mark(
        conn,
        Claim {
            checkpoint: id,
            min_seq: floor_seq.unwrap_or(i64::MIN),
            max_seq: last_accepted,
            min_at: floor_at.map_or(
                chrono::DateTime::UNIX_EPOCH.naive_utc() - chrono::TimeDelta::days(365 * 1000),
                |at| at - skew,
            ),
            refused: refused.iter().map(|r| r.seq).collect(),
        },
    )?;
    if claimed == 0 {
        return Ok(Sealed {
            checkpoint: None,
            refused,
        });
    }
    let leaves = checkpoints::leaves_of(conn, id)?;
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
    checkpoints::insert(conn, &checkpoint)?;
    Ok(Sealed {
        checkpoint: Some(checkpoint),
        refused,
    })
}

/// The latest checkpoint, to be anchored outside the database; `None` before the first seal.
pub async fn head(db: &Db) -> Result<Option<Checkpoint>, DbError> {
    db.run(checkpoints::latest).await
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
