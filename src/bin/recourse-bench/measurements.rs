//! The measurements of docs/BENCHMARKS.md (its table, rows 1 to 4): each runs its baseline and
//! its HTTP load against one backend, samples the CPU time around both, and turns them into
//! figures with their ratio.

use std::time::Instant;

use recourse::db::Db;
use recourse::domain::Role;

use crate::baseline::Baseline;
use crate::cpu::Cpu;
use crate::error::BoxError;
use crate::load::{Load, PER_BATCH};
use crate::repo;
use crate::report::{Figure, latency_figure, rate, target_for};
use crate::workload::{Budget, ENGINE, decision_row};

/// One backend's server, its load, its baseline and its database.
pub struct Measurements {
    backend: &'static str,
    load: Load,
    baseline: Baseline,
    db: Db,
    server_pid: u32,
    budget: Budget,
    /// Tags every id this run creates, so that runs never collide.
    tag: String,
    /// Appeals seeded so far, so that the next seed numbers its rows after them.
    seeded: usize,
}

impl Measurements {
    pub fn new(backend: &'static str, load: Load, db: Db, server_pid: u32, budget: Budget) -> Self {
        Self {
            backend,
            load,
            baseline: Baseline::new(db.clone(), budget.deadline),
            db,
            server_pid,
            budget,
            tag: format!("{:x}", chrono::Utc::now().timestamp_millis()),
            seeded: 0,
        }
    }

    fn cpu(&self) -> Cpu {
        Cpu::now(self.server_pid)
    }

    /// This backend's ratio target for a figure (0 where the issue set none).
    fn target(&self, figure: &str) -> Option<f64> {
        Some(target_for(self.backend, figure))
    }

    /// Seeds `count` queued appeals of `decision_type` straight into the database.
    fn seed(&mut self, count: usize, decision_type: &str) -> Result<(), BoxError> {
        repo::seed_appeals(&mut *self.db.get()?, &self.tag, self.seeded, count, decision_type)?;
        self.seeded += count;
        Ok(())
    }

    /// 1: single-decision ingest at 1, 8 and 32 clients, against single-row inserts from 32 threads.
    pub async fn single_ingest(&self) -> Result<Vec<Figure>, BoxError> {
        let total = self.budget.single_requests;
        let baseline = {
            let tag = format!("{}-base", self.tag);
            let rows = (0..total)
                .map(|i| decision_row(&format!("{tag}-{i}"), &format!("s-{i}")))
                .collect::<Result<_, _>>()?;
            let before = self.cpu();
            let (n, elapsed) = self.baseline.insert_one_per_transaction(32, rows)?;
            eprintln!("    baseline {}", self.cpu().per_op_since(&before, n));
            rate(n, elapsed)
        };
        let mut figures = Vec::new();
        for clients in [1, 8, 32] {
            let token = self.load.token(Role::Engine, ENGINE)?;
            let tag = format!("{}-c{clients}", self.tag);
            let before = self.cpu();
            let (n, elapsed, lat) = self.load.single_ingest(clients, total, token, tag).await?;
            let name = format!("single ingest, {clients} clients");
            let target = if clients == 32 { self.target(&name) } else { None };
            let mut figure = latency_figure(name, "decisions/s", n, elapsed, lat).with_baseline(baseline, target);
            figure.note = Some(self.cpu().per_op_since(&before, n));
            figures.push(figure);
        }
        Ok(figures)
    }

    /// 2: batch ingest, 4 clients of 1,000 decisions per request, against 1,000-row transactions
    /// from 4 threads.
    pub async fn batch_ingest(&self) -> Result<Figure, BoxError> {
        const CLIENTS: usize = 4;
        let batches = self.budget.batches;
        let (n, elapsed) = self
            .baseline
            .insert_batches(CLIENTS, batches, PER_BATCH, format!("{}-bbase", self.tag))?;
        let baseline = rate(n * PER_BATCH, elapsed);
        let token = self.load.token(Role::Engine, ENGINE)?;
        let tag = format!("{}-batch", self.tag);
        let before = self.cpu();
        let (n, elapsed, lat) = self.load.batch_ingest(CLIENTS, batches, token, tag).await?;
        let name = format!("batch ingest, {CLIENTS} clients × 1000");
        let target = self.target(&name);
        let mut figure = latency_figure(name, "rows/s", n * PER_BATCH, elapsed, lat).with_baseline(baseline, target);
        figure.note = Some(format!("{} (per row)", self.cpu().per_op_since(&before, n * PER_BATCH)));
        Ok(figure)
    }

    /// 3: claim → review cycles at 8, 32 and 64 reviewers, against the bare claim and a
    /// completing update at the same concurrency. Fails if any appeal was served twice.
    pub async fn review_cycles(&mut self) -> Result<Vec<Figure>, BoxError> {
        let per_run = self.budget.appeals_per_cycle_run;
        let mut figures = Vec::new();
        for clients in [8, 32, 64] {
            let base_type = format!("cycle_base_{clients}");
            self.seed(per_run, &base_type)?;
            let base_before = self.cpu();
            let (n, elapsed) = self.baseline.claim_and_complete(clients, per_run, vec![base_type])?;
            let baseline = rate(n, elapsed);
            let base_cpu = self.cpu().per_op_since(&base_before, n);

            let cycle_type = format!("cycle_http_{clients}");
            self.seed(per_run, &cycle_type)?;
            let reviewers = format!("rev{clients}");
            self.load.configure_reviewers(&reviewers, clients, &cycle_type).await?;
            let tokens = (0..clients)
                .map(|r| self.load.token(Role::Reviewer, &format!("{reviewers}-{r}")))
                .collect::<Result<_, _>>()?;
            let before = self.cpu();
            let ((n, elapsed, lat), twice) = self.load.review_cycles(clients, per_run, tokens).await?;
            let name = format!("review cycle, {clients} reviewers");
            let target = if clients == 32 { self.target(&name) } else { None };
            let mut figure = latency_figure(name, "cycles/s", n, elapsed, lat).with_baseline(baseline, target);
            figure.note = Some(format!(
                "appeals served twice: {twice}; {}; baseline {base_cpu}",
                self.cpu().per_op_since(&before, n)
            ));
            if twice > 0 {
                return Err(format!("{twice} appeals were served twice").into());
            }
            figures.push(figure);
        }
        Ok(figures)
    }

    /// 4: sequential claim (and release) latency with 10,000 queued appeals and with the
    /// budget's large backlog; the claim must not slow down with the backlog.
    pub async fn claim_latency_at_scale(&mut self) -> Result<Vec<Figure>, BoxError> {
        self.load.configure_reviewers("scale-rev", 1, "scale_type").await?;
        let small = 10_000;
        self.seed(small, "scale_type")?;
        let at_small = self.claim_latency("10k").await?;
        let started = Instant::now();
        let large = self.budget.large_backlog;
        self.seed(large - small, "scale_type")?;
        eprintln!(
            "  seeded {} more appeals in {:.1} s",
            large - small,
            started.elapsed().as_secs_f64()
        );
        let mut at_large = self.claim_latency(&format!("{}k", large / 1000)).await?;
        let (p50_small, p50_large) = (at_small.p50_ms.unwrap_or(0.0), at_large.p50_ms.unwrap_or(0.0));
        at_large.note = Some(format!(
            "p50 {p50_large:.2} ms vs {p50_small:.2} ms at 10k: {:.2}× (target ≤ 1.5×)",
            p50_large / p50_small.max(1e-9)
        ));
        Ok(vec![at_small, at_large])
    }

    async fn claim_latency(&self, label: &str) -> Result<Figure, BoxError> {
        let token = self.load.token(Role::Reviewer, "scale-rev-0")?;
        let lat = self.load.claim_and_release(&token, self.budget.claim_samples).await?;
        let total = lat.iter().sum();
        Ok(latency_figure(
            format!("claim latency, {label} queued"),
            "claims/s",
            lat.len(),
            total,
            lat,
        ))
    }
}
