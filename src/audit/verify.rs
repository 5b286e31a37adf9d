//! Verification: recompute every entry hash, every checkpoint's Merkle root over its entries in
//! `seq` order, and the hash chain of checkpoints; name the first place where they disagree.
//! Entries must also keep the ordering rule (`seal::Order`): within and across checkpoints,
//! `seq` only grows and `at` never steps back by more than the clock skew allowed, and no
//! checkpoint (nor the unsealed tail) holds an entry older than its predecessor's end. A
//! backdated entry, sealed or not, is named as `entry_backdated`.
//! Optionally check that a previously exported head (`recourse audit head`) is still in the
//! chain, which also exposes a consistent rewrite of the whole tail.

use serde::Serialize;

use super::merkle;
use super::model::Checkpoint;
use super::repo::{self, checkpoints as checkpoint_repo};
use super::seal::{GENESIS, MAX_CLOCK_SKEW, Order, checkpoint_hash};
use crate::db::{Db, DbConnection, DbError};
use crate::domain::audit_entry::{AuditEntry, entry_hash};

/// Where verification failed first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Break {
    /// `entry_altered`, `entry_backdated`, `checkpoint_entries_changed`, `checkpoint_altered`, `chain_broken`,
    /// `checkpoint_missing`, `unknown_checkpoint` or `anchored_head_missing`.
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<i64>,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Verification {
    pub ok: bool,
    pub entries: i64,
    pub unsealed_entries: i64,
    pub checkpoints: i64,
    pub head: Option<Checkpoint>,
    pub first_break: Option<Break>,
    pub breaks: usize,
}

const PAGE: i64 = 5_000;

/// Verifies the whole log with the clock skew the sealer allows ([`MAX_CLOCK_SKEW`]).
/// `anchored_head` is a checkpoint hash saved outside the database.
pub fn verify(conn: &mut DbConnection, anchored_head: Option<&str>) -> Result<Verification, DbError> {
    verify_with(conn, anchored_head, MAX_CLOCK_SKEW)
}

/// [`verify`] with another allowance for clock skew between instances.
pub fn verify_with(
    conn: &mut DbConnection,
    anchored_head: Option<&str>,
    skew: std::time::Duration,
) -> Result<Verification, DbError> {
    // One snapshot for all the reads: a sealer committing a checkpoint halfway through would
    // otherwise show entries claiming a checkpoint not yet read.
    repo::in_snapshot(conn, |conn| verify_in_snapshot(conn, anchored_head, skew))
}

/// [`verify`] on a pooled connection, for a request.
pub async fn verify_log(db: &Db, anchored_head: Option<String>) -> Result<Verification, DbError> {
    db.run(move |conn| verify(conn, anchored_head.as_deref())).await
}

fn verify_in_snapshot(
    conn: &mut DbConnection,
    anchored_head: Option<&str>,
    skew: std::time::Duration,
) -> Result<Verification, DbError> {
    let mut breaks: Vec<Break> = Vec::new();
    let checkpoints = checkpoint_repo::all(conn)?;
    let known: std::collections::HashSet<i64> = checkpoints.iter().map(|c| c.id).collect();

    // The ordering rule, per checkpoint and for the unsealed tail: each starts after the
    // checkpoint before it (in id order), as the sealer did when it sealed them.
    let mut orders: std::collections::HashMap<Option<i64>, Order> = std::collections::HashMap::new();
    let mut before: Option<&Checkpoint> = None;
    for c in checkpoints.iter().map(Some).chain(std::iter::once(None)) {
        let floor_at = match before {
            Some(p) => checkpoint_repo::latest_at_of(conn, p.id)?,
            None => None,
        };
        orders.insert(
            c.map(|c| c.id),
            Order::after(before.map(|p| p.last_seq), floor_at, skew),
        );
        before = c;
    }

    // 1. Every entry's own hash, in seq order.
    let (mut entries, mut unsealed, mut after) = (0i64, 0i64, i64::MIN);
    loop {
        let page = repo::page_after(conn, after, PAGE)?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for row in &page {
            entries += 1;
            let details: serde_json::Value = serde_json::from_str(&row.details).unwrap_or(serde_json::Value::Null);
            let expected = entry_hash(&AuditEntry {
                at: row.at,
                actor: &row.actor,
                actor_role: &row.actor_role,
                action: &row.action,
                object_type: &row.object_type,
                object_id: &row.object_id,
                request_id: row.request_id.as_deref(),
                details: &details,
            });
            if expected != row.entry_hash {
                breaks.push(Break {
                    kind: "entry_altered",
                    checkpoint: row.checkpoint_id,
                    seq: Some(row.seq),
                    detail: format!("entry {} does not match its hash: a field was edited", row.seq),
                });
            }
            if let Some(reason) = orders
                .get_mut(&row.checkpoint_id)
                .and_then(|o| o.judge(row.seq, row.at))
            {
                breaks.push(Break {
                    kind: "entry_backdated",
                    checkpoint: row.checkpoint_id,
                    seq: Some(row.seq),
                    detail: reason,
                });
            }
            match row.checkpoint_id {
                None => unsealed += 1,
                Some(c) if !known.contains(&c) => breaks.push(Break {
                    kind: "unknown_checkpoint",
                    checkpoint: Some(c),
                    seq: Some(row.seq),
                    detail: format!("entry {} claims checkpoint {c}, which does not exist", row.seq),
                }),
                Some(_) => {}
            }
        }
    }

    // 2. Each checkpoint: its own hash, its link to the previous one, and its Merkle root.
    let mut prev_hash = GENESIS.to_owned();
    for (i, c) in checkpoints.iter().enumerate() {
        let expected_id = i as i64 + 1;
        if c.id != expected_id {
            breaks.push(Break {
                kind: "checkpoint_missing",
                checkpoint: Some(expected_id),
                seq: None,
                detail: format!("checkpoint {expected_id} is missing; the next one is {}", c.id),
            });
        }
        if c.prev_hash != prev_hash {
            breaks.push(Break {
                kind: "chain_broken",
                checkpoint: Some(c.id),
                seq: None,
                detail: format!("checkpoint {} does not link to the checkpoint before it", c.id),
            });
        }
        let recomputed = checkpoint_hash(
            c.id,
            &c.prev_hash,
            &c.merkle_root,
            c.entry_count,
            c.first_seq,
            c.last_seq,
            c.sealed_at,
        );
        if recomputed != c.checkpoint_hash {
            breaks.push(Break {
                kind: "checkpoint_altered",
                checkpoint: Some(c.id),
                seq: None,
                detail: format!("checkpoint {} does not match its hash", c.id),
            });
        }
        let leaves = checkpoint_repo::leaves_of(conn, c.id)?;
        let hashes: Vec<Vec<u8>> = leaves.iter().map(|l| l.1.clone()).collect();
        if merkle::root(&hashes) != c.merkle_root || hashes.len() as i64 != c.entry_count {
            let (first, last) = (leaves.first().map(|l| l.0), leaves.last().map(|l| l.0));
            breaks.push(Break {
                kind: "checkpoint_entries_changed",
                checkpoint: Some(c.id),
                seq: None,
                detail: format!(
                    "checkpoint {} sealed {} entries (seq {}..={}) but now holds {} (seq {:?}..={:?}) or they changed order: entries were deleted, inserted or swapped",
                    c.id,
                    c.entry_count,
                    c.first_seq,
                    c.last_seq,
                    hashes.len(),
                    first,
                    last
                ),
            });
        }
        prev_hash = c.checkpoint_hash.clone();
    }

    // 3. The head saved outside the database must still be in the chain.
    if let Some(anchor) = anchored_head
        && !checkpoints.iter().any(|c| c.checkpoint_hash == anchor)
    {
        breaks.push(Break {
            kind: "anchored_head_missing",
            checkpoint: None,
            seq: None,
            detail: format!("the anchored head {anchor} is no longer in the chain: the log was rewritten or truncated"),
        });
    }

    breaks.sort_by_key(|b| (b.checkpoint.unwrap_or(i64::MAX), b.seq.unwrap_or(i64::MIN)));
    Ok(Verification {
        ok: breaks.is_empty(),
        entries,
        unsealed_entries: unsealed,
        checkpoints: checkpoints.len() as i64,
        head: checkpoints.last().cloned(),
        breaks: breaks.len(),
        first_break: breaks.into_iter().next(),
    })
}
