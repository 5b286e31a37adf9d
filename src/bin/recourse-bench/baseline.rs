//! The yardstick: the bare database work of each HTTP measurement (the decision insert, the bare
//! job queue's claim and completion), done in-process on OS threads through the same kind of pool
//! the server uses (one connection checked out per step, as a request handler does).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use recourse::db::{Db, DbConnection};
use recourse::decisions::model::DecisionRow;

use crate::error::BoxError;
use crate::repo;
use crate::workload::{Steps, decision_row};

/// Runs baseline loops against one database, each bounded by a count and `within`.
pub struct Baseline {
    db: Db,
    within: Duration,
}

impl Baseline {
    pub fn new(db: Db, within: Duration) -> Self {
        Self { db, within }
    }

    /// Inserts `rows`, one per transaction, from `threads` threads. Returns the rows inserted
    /// and the time taken.
    pub fn insert_one_per_transaction(
        &self,
        threads: usize,
        rows: Vec<DecisionRow>,
    ) -> Result<(usize, Duration), BoxError> {
        let total = rows.len();
        self.run(threads, total, move |conn, i| {
            repo::insert_decisions(conn, std::slice::from_ref(&rows[i]))?;
            Ok(true)
        })
    }

    /// Builds and inserts `batches` batches of `per_batch` decisions (ids tagged `tag`), a batch
    /// per transaction, from `threads` threads. Returns the batches inserted and the time taken.
    pub fn insert_batches(
        &self,
        threads: usize,
        batches: usize,
        per_batch: usize,
        tag: String,
    ) -> Result<(usize, Duration), BoxError> {
        self.run(threads, batches, move |conn, b| {
            let rows: Vec<DecisionRow> = (0..per_batch)
                .map(|i| decision_row(&format!("{tag}-{b}-{i}"), &format!("s-{i}")))
                .collect::<Result<_, _>>()?;
            repo::insert_decisions(conn, &rows)?;
            Ok(true)
        })
    }

    /// The bare job queue: `threads` threads claim an appeal the reviewer may take (from
    /// `authorities`) and complete it, `total` times or until the queue is empty. Returns the
    /// cycles completed and the time taken.
    pub fn claim_and_complete(
        &self,
        threads: usize,
        total: usize,
        authorities: Vec<String>,
    ) -> Result<(usize, Duration), BoxError> {
        self.run(threads, total, move |conn, i| {
            let reviewer = format!("base-rev-{}", i % 64);
            let token = uuid::Uuid::new_v4().to_string();
            let Some(id) = repo::claim(conn, &reviewer, &authorities, &token)? else {
                return Ok(false);
            };
            repo::complete(conn, &id, &token)?;
            Ok(true)
        })
    }

    /// Runs `threads` OS threads of a blocking database `step` until `total` or the deadline, or
    /// until a step says there is nothing left (false). Returns the steps done and the time taken.
    fn run<F>(&self, threads: usize, total: usize, step: F) -> Result<(usize, Duration), BoxError>
    where
        F: Fn(&mut DbConnection, usize) -> Result<bool, BoxError> + Send + Sync + 'static,
    {
        let steps = Arc::new(Steps::new(total, self.within));
        let done = Arc::new(AtomicUsize::new(0));
        let step = Arc::new(step);
        let started = Instant::now();
        std::thread::scope(|scope| -> Result<(), BoxError> {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    let (steps, done, step, db) = (steps.clone(), done.clone(), step.clone(), self.db.clone());
                    scope.spawn(move || -> Result<(), BoxError> {
                        while let Some(i) = steps.next() {
                            // A connection per step, as a request handler takes one.
                            let mut conn = db.get()?;
                            if !step(&mut conn, i)? {
                                return Ok(());
                            }
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(())
                    })
                })
                .collect();
            for h in handles {
                h.join().map_err(|_| "baseline thread panicked")??;
            }
            Ok(())
        })?;
        Ok((done.load(Ordering::Relaxed), started.elapsed()))
    }
}
