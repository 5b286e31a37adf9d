//! What the bench sends and how much of it: the decision every ingest uses (as JSON for the
//! server, as a row for the baseline), the engine it comes from, and the counts and deadline
//! that bound every loop.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use recourse::db;
use recourse::decisions::model::DecisionRow;
use recourse::domain::decision::{DecisionDraft, ValidDecision};
use serde_json::{Value, json};

use crate::error::BoxError;

/// The engine every benchmark decision comes from.
pub const ENGINE: &str = "bench-engine";

/// Counts and deadlines for every loop.
#[derive(Clone, Copy)]
pub struct Budget {
    pub single_requests: usize,
    pub batches: usize,
    pub appeals_per_cycle_run: usize,
    pub large_backlog: usize,
    pub claim_samples: usize,
    pub deadline: Duration,
}

impl Budget {
    /// The run docs/BENCHMARKS.md reports.
    pub const FULL: Self = Self {
        single_requests: 4_000,
        batches: 40,
        appeals_per_cycle_run: 3_000,
        large_backlog: 1_000_000,
        claim_samples: 300,
        deadline: Duration::from_secs(30),
    };

    /// Smaller counts (and 100k instead of 1M queued appeals) for a fast smoke run.
    pub const QUICK: Self = Self {
        single_requests: 600,
        batches: 6,
        appeals_per_cycle_run: 600,
        large_backlog: 100_000,
        claim_samples: 100,
        deadline: Duration::from_secs(15),
    };
}

/// Hands out step numbers to concurrent loops until `total` steps are taken or the deadline has
/// passed, whichever comes first: the bound on every load loop, HTTP and baseline alike.
pub struct Steps {
    next: AtomicUsize,
    total: usize,
    deadline: Instant,
}

impl Steps {
    pub fn new(total: usize, within: Duration) -> Self {
        Self {
            next: AtomicUsize::new(0),
            total,
            deadline: Instant::now() + within,
        }
    }

    /// The next step's number, or `None` when the loop should stop.
    pub fn next(&self) -> Option<usize> {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        (i < self.total && Instant::now() <= self.deadline).then_some(i)
    }
}

/// A realistic decision with an explanation of about 1.5 KB.
pub fn decision(external_id: &str, subject: &str) -> Value {
    let mut inputs = serde_json::Map::new();
    let mut contributions = Vec::new();
    for i in 0..24 {
        inputs.insert(format!("feature_{i:02}_value"), json!(1000.5 + i as f64));
        if i < 12 {
            contributions.push(json!({"feature": format!("feature_{i:02}_value"), "weight": -0.01 * i as f64}));
        }
    }
    json!({
        "external_id": external_id,
        "subject_id": subject,
        "decision_type": "credit_limit",
        "outcome": "declined",
        "score": 0.41,
        "threshold": 0.55,
        "model": {"name": "limits", "version": "3.2.0"},
        "significant_effect": true,
        "decided_at": chrono::Utc::now().to_rfc3339(),
        "explanation": {
            "inputs": inputs,
            "contributions": contributions,
            "reason_codes": [
                {"code": "D01", "text": "Income too low for the requested limit"},
                {"code": "D07", "text": "Less than 6 months at current address"},
                {"code": "D12", "text": "Credit utilisation above 80% across revolving accounts"}
            ],
            "counterfactual": {"changes": {"feature_00_value": 35000}, "text": "An income of 35,000 would have been approved."}
        }
    })
}

/// The row the server would store for [`decision`], parsed and validated the same way.
pub fn decision_row(external_id: &str, subject: &str) -> Result<DecisionRow, BoxError> {
    let draft: DecisionDraft = serde_json::from_value(decision(external_id, subject))?;
    let valid = ValidDecision::parse(draft, chrono::Utc::now()).map_err(|e| format!("{e:?}"))?;
    Ok(DecisionRow::new(ENGINE, &valid, db::now()))
}
