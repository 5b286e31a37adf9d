//! Crash safety. Concurrent ingest, appeal, claim and review load runs against a real
//! `recourse serve` process, which is killed with SIGKILL at random moments and restarted on the
//! same database each time. Every write the service acknowledged (a 2xx) must then be present
//! and unchanged; nothing may be half-written (each decided appeal has its review, audit entry,
//! outbox event and notice, and every transaction's parts exist together); leases held by
//! clients that vanished come back to the queue; and `recourse audit verify` passes.
//!
//! The kill schedule comes from a seeded RNG: the seed is printed, and `CRASH_SEED=<n>` replays
//! the same schedule (thread timing still varies).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use recourse::db::schema::{appeals, audit_log, decisions, notices, outbox, reviews};
use recourse::domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{RATIONALE, TestApp, appeal_body, decision_body, spawn_app_with};
use crate::instances::{Instance, start_instance_with};

const KILLS: usize = 12;
const LEASE: &str = "2s";
const REVIEWERS: [&str; 3] = ["crash-rev-0", "crash-rev-1", "crash-rev-2"];

/// What the service acknowledged, and what the clients walked away from.
#[derive(Default)]
struct Ledger {
    /// Decision id → what was acknowledged: the whole response (single ingest) or the fields
    /// sent (batch ingest, whose response carries ids only).
    decisions: HashMap<String, Value>,
    /// Acknowledged decisions not yet appealed by these clients: (decision id, subject).
    to_appeal: Vec<(String, String)>,
    /// Appeal id → (decision id, subject, statement).
    appeals: HashMap<String, (String, String, String)>,
    /// Appeals claimed (acknowledged) and then abandoned without a review.
    abandoned: HashSet<String>,
    /// Claims abandoned over the whole run (some came back and were decided in later rounds).
    abandoned_total: usize,
    /// Abandoned claims handed out again once their lease ran out.
    returned: usize,
    /// Appeal id → (reviewer, outcome, rationale) of each acknowledged review.
    reviews: HashMap<String, (String, String, String)>,
    /// Requests that got no answer because the server died under them.
    unanswered: usize,
    /// 5xx answers (a healthy server under this load has no reason to give any).
    server_errors: Vec<String>,
}

struct Load {
    base: String,
    client: reqwest::Client,
    ledger: Arc<Mutex<Ledger>>,
    stop: Arc<AtomicBool>,
    counter: Arc<AtomicUsize>,
    engine: String,
    round: usize,
}

impl Load {
    fn note(&self, what: &str, res: &Result<reqwest::Response, reqwest::Error>) {
        match res {
            Err(_) => self.ledger.lock().unwrap().unanswered += 1,
            Ok(r) if r.status().is_server_error() => {
                self.ledger
                    .lock()
                    .unwrap()
                    .server_errors
                    .push(format!("{what}: {}", r.status()));
            }
            Ok(_) => {}
        }
    }

    async fn ingest(&self, mut rng: StdRng) {
        while !self.stop.load(Ordering::Relaxed) {
            let n = self.counter.fetch_add(1, Ordering::Relaxed);
            let batch = rng.random_range(0..5) == 0;
            let items: Vec<(String, String, f64)> = (0..if batch { 5 } else { 1 })
                .map(|i| {
                    let score = f64::from(rng.random_range(0..10_000u32)) / 10_000.0;
                    (
                        format!("crash-{}-{n}-{i}", self.round),
                        format!("crash-subject-{n}-{i}"),
                        score,
                    )
                })
                .collect();
            let bodies: Vec<Value> = items
                .iter()
                .map(|(external, subject, score)| {
                    let mut body = decision_body(external, subject);
                    body["score"] = json!(score);
                    body
                })
                .collect();
            let (path, payload) = if batch {
                ("/v1/decisions/batch", json!({"decisions": bodies}))
            } else {
                ("/v1/decisions", bodies[0].clone())
            };
            let res = self
                .client
                .post(format!("{}{path}", self.base))
                .bearer_auth(&self.engine)
                .json(&payload)
                .send()
                .await;
            self.note(path, &res);
            let Ok(res) = res else { continue };
            let status = res.status();
            let Ok(body) = res.json::<Value>().await else {
                self.ledger.lock().unwrap().unanswered += 1;
                continue;
            };
            let mut ledger = self.ledger.lock().unwrap();
            match (batch, status) {
                (false, StatusCode::CREATED) => {
                    let id = body["id"].as_str().unwrap().to_owned();
                    ledger.to_appeal.push((id.clone(), items[0].1.clone()));
                    ledger.decisions.insert(id, body);
                }
                (true, StatusCode::OK) => {
                    for result in body["results"].as_array().unwrap() {
                        assert_eq!(result["status"], "created", "{body}");
                        let (external, subject, score) = &items[result["index"].as_u64().unwrap() as usize];
                        let id = result["id"].as_str().unwrap().to_owned();
                        ledger.to_appeal.push((id.clone(), subject.clone()));
                        ledger.decisions.insert(
                            id,
                            json!({"external_id": external, "subject_id": subject, "score": score}),
                        );
                    }
                }
                (_, s) if s.is_server_error() => {}
                (_, s) => panic!("ingest answered {s}: {body}"),
            }
        }
    }

    async fn file(&self, app: &TestApp) {
        while !self.stop.load(Ordering::Relaxed) {
            let next = self.ledger.lock().unwrap().to_appeal.pop();
            let Some((decision, subject)) = next else {
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            };
            let statement = format!("My income is 41,000 a year, not 28,000. Payslips attached. Reference {decision}.");
            let mut body = appeal_body();
            body["statement"] = json!(statement);
            let res = self
                .client
                .post(format!("{}/v1/decisions/{decision}/appeals", self.base))
                .bearer_auth(app.token(Role::Subject, &subject))
                .json(&body)
                .send()
                .await;
            self.note("file appeal", &res);
            let Ok(res) = res else { continue };
            match res.status() {
                StatusCode::CREATED => {
                    let Ok(body) = res.json::<Value>().await else {
                        self.ledger.lock().unwrap().unanswered += 1;
                        continue;
                    };
                    let id = body["id"].as_str().unwrap().to_owned();
                    self.ledger
                        .lock()
                        .unwrap()
                        .appeals
                        .insert(id, (decision, subject, statement));
                }
                // An earlier filing whose answer was lost in a kill already opened an appeal.
                StatusCode::CONFLICT => {}
                s if s.is_server_error() => {}
                s => panic!("filing answered {s}: {}", res.text().await.unwrap_or_default()),
            }
        }
    }

    async fn review(&self, app: &TestApp, reviewer: &str, mut rng: StdRng) {
        let token = app.token(Role::Reviewer, reviewer);
        while !self.stop.load(Ordering::Relaxed) {
            let res = self
                .client
                .post(format!("{}/v1/queue/claim", self.base))
                .bearer_auth(&token)
                .send()
                .await;
            self.note("claim", &res);
            let Ok(res) = res else { continue };
            match res.status() {
                StatusCode::OK => {}
                StatusCode::NO_CONTENT => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
                s if s.is_server_error() => continue,
                s => panic!("claim answered {s}: {}", res.text().await.unwrap_or_default()),
            }
            let Ok(claimed) = res.json::<Value>().await else {
                self.ledger.lock().unwrap().unanswered += 1;
                continue;
            };
            let id = claimed["appeal"]["id"].as_str().unwrap().to_owned();
            {
                // A claim handed out again after its first holder vanished: the lease came back.
                let mut ledger = self.ledger.lock().unwrap();
                if ledger.abandoned.remove(&id) {
                    ledger.returned += 1;
                }
            }
            if rng.random_range(0..4) == 0 {
                // The reviewer's browser is closed: the lease must run out and come back.
                let mut ledger = self.ledger.lock().unwrap();
                ledger.abandoned.insert(id);
                ledger.abandoned_total += 1;
                continue;
            }
            let outcome = if rng.random_range(0..3) == 0 {
                "overturn"
            } else {
                "uphold"
            };
            let rationale = format!("{RATIONALE} Case {id}.");
            let res = self
                .client
                .post(format!("{}/v1/appeals/{id}/review", self.base))
                .bearer_auth(&token)
                .json(&review_body(
                    claimed["lease"]["token"].as_str().unwrap(),
                    outcome,
                    &rationale,
                ))
                .send()
                .await;
            self.note("review", &res);
            let Ok(res) = res else { continue };
            match res.status() {
                StatusCode::OK => {
                    self.ledger
                        .lock()
                        .unwrap()
                        .reviews
                        .insert(id, (reviewer.to_owned(), outcome.to_owned(), rationale));
                }
                s if s.is_server_error() => {}
                s => panic!("review answered {s}: {}", res.text().await.unwrap_or_default()),
            }
        }
    }
}

fn review_body(lease_token: &str, outcome: &str, rationale: &str) -> Value {
    let mut body = json!({
        "lease_token": lease_token,
        "outcome": outcome,
        "rationale": rationale,
        "factors_considered": ["input:annual_income", "statement", "reason_code:D01"]
    });
    if outcome != "uphold" {
        body["new_outcome"] = json!("approved");
    }
    body
}

fn start(app: &TestApp) -> Instance {
    start_instance_with(&app.database_url, &[("RECOURSE_LEASE", LEASE)])
}

/// Runs the load against `instance` for `run_for`, then SIGKILLs it mid-flight.
async fn round(
    app: &TestApp,
    instance: &mut Instance,
    run_for: Duration,
    seed: u64,
    round: usize,
    ledger: &Arc<Mutex<Ledger>>,
) {
    let load = Load {
        base: instance.address.clone(),
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap(),
        ledger: ledger.clone(),
        stop: Arc::new(AtomicBool::new(false)),
        counter: Arc::new(AtomicUsize::new(0)),
        engine: app.token(Role::Engine, "engine-1"),
        round,
    };
    let rng = |task: u64| StdRng::seed_from_u64(seed ^ ((round as u64) << 16) ^ task);
    let kill = async {
        tokio::time::sleep(run_for).await;
        instance.child.kill().unwrap();
        instance.child.wait().unwrap();
        load.stop.store(true, Ordering::Relaxed);
    };
    tokio::join!(
        kill,
        load.ingest(rng(1)),
        load.ingest(rng(2)),
        load.file(app),
        load.file(app),
        load.review(app, REVIEWERS[0], rng(3)),
        load.review(app, REVIEWERS[1], rng(4)),
        load.review(app, REVIEWERS[2], rng(5)),
    );
}

#[tokio::test]
async fn kill_9_under_load_loses_no_acknowledged_write_and_leaves_nothing_half_written() {
    let started = Instant::now();
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random::<u64>);
    println!("crash test seed: {seed} (replay with CRASH_SEED={seed})");
    let mut rng = StdRng::seed_from_u64(seed);

    // The in-process app only sets up and inspects; its own sweeper stays out of the way.
    let app = spawn_app_with(|s| s.workflow.sweep_interval = Duration::from_secs(3600)).await;
    app.register_engine("engine-1").await;
    for reviewer in REVIEWERS {
        app.configure_reviewer(reviewer, &["credit_limit"], 100).await;
    }
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    for r in 0..KILLS {
        let mut instance = start(&app);
        let run_for = Duration::from_millis(rng.random_range(20..1_000));
        round(&app, &mut instance, run_for, seed, r, &ledger).await;
    }
    let load_done = started.elapsed();

    // Restart once more, with no clients: leases held by vanished clients (and claims whose
    // answer was lost in a kill) run out and the sweeper puts the appeals back in the queue.
    let last = start(&app);
    let wait_started = Instant::now();
    loop {
        let in_review: i64 = app
            .with_db(|c| {
                appeals::table
                    .filter(appeals::status.eq("in_review"))
                    .count()
                    .get_result(c)
            })
            .await;
        if in_review == 0 {
            break;
        }
        assert!(
            wait_started.elapsed() < Duration::from_secs(20),
            "{in_review} appeals still in review {:?} after the last restart (lease {LEASE})",
            wait_started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let leases_back_after = wait_started.elapsed();
    let (abandoned, abandoned_total) = {
        let l = ledger.lock().unwrap();
        (l.abandoned.len(), l.abandoned_total)
    };

    // Every returned appeal can be claimed again, and is decided now.
    let drain = Load {
        base: last.address.clone(),
        client: reqwest::Client::new(),
        ledger: ledger.clone(),
        stop: Arc::new(AtomicBool::new(false)),
        counter: Arc::new(AtomicUsize::new(0)),
        engine: app.token(Role::Engine, "engine-1"),
        round: KILLS,
    };
    let mut reclaimed = HashSet::new();
    let token = app.token(Role::Reviewer, REVIEWERS[0]);
    while let Some((id, lease, _)) = claim(&drain, &token).await {
        let rationale = format!("{RATIONALE} Case {id}.");
        let res = drain
            .client
            .post(format!("{}/v1/appeals/{id}/review", drain.base))
            .bearer_auth(&token)
            .json(&review_body(&lease, "uphold", &rationale))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
        let mut l = ledger.lock().unwrap();
        if l.abandoned.remove(&id) {
            l.returned += 1;
        }
        l.reviews
            .insert(id.clone(), (REVIEWERS[0].to_owned(), "uphold".to_owned(), rationale));
        reclaimed.insert(id);
    }

    let ledger = std::mem::take(&mut *ledger.lock().unwrap());
    assert!(
        ledger.server_errors.is_empty(),
        "5xx answers: {:?}",
        ledger.server_errors
    );
    assert!(
        ledger.abandoned.is_empty(),
        "abandoned leases never came back: {:?}",
        ledger.abandoned
    );
    check_acknowledged(&app, &drain, &ledger).await;
    let checked = check_nothing_half_written(&app).await;

    // A clean stop, then the audit log verifies end to end.
    let pid = last.child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let mut last = last;
    let exit = last.child.wait().unwrap();
    assert!(exit.success(), "{exit}");
    let verify = std::process::Command::new(env!("CARGO_BIN_EXE_recourse"))
        .args(["audit", "verify", "--database-url", &app.database_url])
        .env("RECOURSE_LOG", "warn")
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&verify.stdout);
    assert!(
        verify.status.success(),
        "audit verify failed: {report} {}",
        String::from_utf8_lossy(&verify.stderr)
    );
    let report: Value = serde_json::from_str(&report).unwrap();
    assert_eq!(report["ok"], true, "{report}");

    println!(
        "crash test: {KILLS} kills in {load_done:?}; acknowledged {} decisions, {} appeals, {} reviews; \
         {} requests unanswered by a dying server; {abandoned_total} claims abandoned and {} handed out again after their lease ran out (the last \
         {abandoned} back in the queue
         {leases_back_after:?} after the restart), {} appeals claimed in the final drain; {checked}; \
         audit verify: {} entries, {} checkpoints, ok; total {:?}",
        ledger.decisions.len(),
        ledger.appeals.len(),
        ledger.reviews.len(),
        ledger.unanswered,
        ledger.returned,
        reclaimed.len(),
        report["entries"],
        report["checkpoints"],
        started.elapsed()
    );
    assert!(ledger.decisions.len() >= KILLS, "too little load to prove anything");
    assert!(
        !ledger.appeals.is_empty() && !ledger.reviews.is_empty(),
        "too little load to prove anything"
    );
    assert!(
        abandoned_total > 0,
        "no claim was abandoned, so no lease was shown to come back"
    );
}

async fn claim(load: &Load, token: &str) -> Option<(String, String, Value)> {
    let res = load
        .client
        .post(format!("{}/v1/queue/claim", load.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    match res.status() {
        StatusCode::NO_CONTENT => None,
        StatusCode::OK => {
            let body: Value = res.json().await.unwrap();
            Some((
                body["appeal"]["id"].as_str().unwrap().to_owned(),
                body["lease"]["token"].as_str().unwrap().to_owned(),
                body,
            ))
        }
        s => panic!("claim answered {s}: {}", res.text().await.unwrap()),
    }
}

/// Every acknowledged write is in the database, with the content that was acknowledged.
async fn check_acknowledged(app: &TestApp, load: &Load, ledger: &Ledger) {
    let stored: HashMap<String, (String, String, Option<f64>)> = app
        .with_db(|c| {
            decisions::table
                .select((
                    decisions::id,
                    decisions::external_id,
                    decisions::subject_id,
                    decisions::score,
                ))
                .load::<(String, String, String, Option<f64>)>(c)
        })
        .await
        .into_iter()
        .map(|(id, e, s, score)| (id, (e, s, score)))
        .collect();
    for (id, acked) in &ledger.decisions {
        let (external, subject, score) = stored
            .get(id)
            .unwrap_or_else(|| panic!("acknowledged decision {id} is missing"));
        assert_eq!(acked["external_id"], json!(external), "decision {id}");
        assert_eq!(acked["subject_id"], json!(subject), "decision {id}");
        assert_eq!(acked["score"].as_f64(), *score, "decision {id}");
        if acked.get("explanation").is_some() {
            // A single ingest acknowledged the whole decision: it reads back the same.
            let now: Value = load
                .client
                .get(format!("{}/v1/decisions/{id}", load.base))
                .bearer_auth(&load.engine)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            for field in [
                "id",
                "engine_id",
                "external_id",
                "subject_id",
                "decision_type",
                "outcome",
                "score",
                "threshold",
                "model",
                "significant_effect",
                "decided_at",
                "received_at",
                "explanation",
            ] {
                assert_eq!(now[field], acked[field], "decision {id}: {field} changed");
            }
        }
    }
    let stored_appeals: HashMap<String, (String, String, String, String)> = app
        .with_db(|c| {
            appeals::table
                .select((
                    appeals::id,
                    appeals::decision_id,
                    appeals::subject_id,
                    appeals::statement,
                    appeals::status,
                ))
                .load::<(String, String, String, String, String)>(c)
        })
        .await
        .into_iter()
        .map(|(id, d, s, st, status)| (id, (d, s, st, status)))
        .collect();
    for (id, (decision, subject, statement)) in &ledger.appeals {
        let (d, s, st, _) = stored_appeals
            .get(id)
            .unwrap_or_else(|| panic!("acknowledged appeal {id} is missing"));
        assert_eq!((d, s, st), (decision, subject, statement), "appeal {id}");
    }
    let stored_reviews: Vec<(String, String, String, String, String)> = app
        .with_db(|c| {
            reviews::table
                .select((
                    reviews::appeal_id,
                    reviews::reviewer_id,
                    reviews::outcome,
                    reviews::rationale,
                    reviews::status,
                ))
                .load(c)
        })
        .await;
    for (appeal, (reviewer, outcome, rationale)) in &ledger.reviews {
        let found: Vec<_> = stored_reviews.iter().filter(|r| &r.0 == appeal).collect();
        assert_eq!(found.len(), 1, "appeal {appeal} has {} reviews", found.len());
        let (_, r, o, ra, status) = found[0];
        assert_eq!((r, o, ra), (reviewer, outcome, rationale), "review of {appeal}");
        assert_eq!(status, "final", "review of {appeal}");
        assert_eq!(stored_appeals[appeal].3, "decided", "appeal {appeal}");
    }
}

/// Whole-database invariants: every transaction's parts exist together, or none do.
/// Returns a summary of what was checked.
async fn check_nothing_half_written(app: &TestApp) -> String {
    type Rows = (
        Vec<(String, String, String)>,
        Vec<(String, String, String, String)>,
        Vec<(String, String, String)>,
        Vec<(String, String)>,
        Vec<(String, String)>,
        Vec<(String, String)>,
    );
    let (decision_rows, appeal_rows, review_rows, audit_rows, outbox_rows, notice_rows): Rows = app
        .with_db(|c| {
            Ok((
                decisions::table
                    .select((decisions::id, decisions::status, decisions::effective_outcome))
                    .load(c)?,
                appeals::table
                    .select((appeals::id, appeals::decision_id, appeals::status, appeals::statement))
                    .load(c)?,
                reviews::table
                    .filter(reviews::status.eq("final"))
                    .select((reviews::appeal_id, reviews::outcome, reviews::decision_id))
                    .load(c)?,
                audit_log::table
                    .select((audit_log::action, audit_log::object_id))
                    .load(c)?,
                outbox::table.select((outbox::event_type, outbox::payload)).load(c)?,
                notices::table.select((notices::kind, notices::appeal_id)).load(c)?,
            ))
        })
        .await;
    let count =
        |pairs: &[(String, String)], kind: &str, id: &str| pairs.iter().filter(|(k, i)| k == kind && i == id).count();
    let outbox_events: Vec<(String, String)> = outbox_rows
        .iter()
        .filter_map(|(kind, payload)| {
            let payload: Value = serde_json::from_str(payload).ok()?;
            let data = &payload["data"];
            let id = data["appeal_id"].as_str().or(data["id"].as_str())?.to_owned();
            Some((kind.clone(), id))
        })
        .collect();
    let decision_status: HashMap<&str, (&str, &str)> = decision_rows
        .iter()
        .map(|(id, s, e)| (id.as_str(), (s.as_str(), e.as_str())))
        .collect();
    for (id, _, _) in &decision_rows {
        assert_eq!(
            count(&audit_rows, "decision.created", id),
            1,
            "decision {id}: audit entry"
        );
    }
    let mut decided = 0;
    for (id, decision, status, _) in &appeal_rows {
        assert_eq!(
            count(&audit_rows, "appeal.filed", id),
            1,
            "appeal {id}: filing audit entry"
        );
        assert_eq!(
            count(&outbox_events, "appeal.filed", id),
            1,
            "appeal {id}: filing event"
        );
        assert_eq!(
            count(&notice_rows, "acknowledgement", id),
            1,
            "appeal {id}: acknowledgement"
        );
        let finals: Vec<_> = review_rows.iter().filter(|r| &r.0 == id).collect();
        let (decision_now, effective) = decision_status[decision.as_str()];
        match status.as_str() {
            "decided" => {
                decided += 1;
                assert_eq!(
                    finals.len(),
                    1,
                    "decided appeal {id} has {} final reviews",
                    finals.len()
                );
                assert_eq!(
                    count(&audit_rows, "appeal.decided", id),
                    1,
                    "appeal {id}: decision audit entry"
                );
                assert_eq!(
                    count(&outbox_events, "appeal.decided", id),
                    1,
                    "appeal {id}: decided event"
                );
                assert_eq!(count(&notice_rows, "outcome", id), 1, "appeal {id}: outcome notice");
                let (expected_status, expected_outcome) = match finals[0].1.as_str() {
                    "uphold" => ("upheld", "declined"),
                    _ => ("overturned", "approved"),
                };
                assert_eq!(
                    count(&outbox_events, "decision.overridden", id),
                    usize::from(expected_status == "overturned"),
                    "appeal {id}: override event"
                );
                assert_eq!(
                    (decision_now, effective),
                    (expected_status, expected_outcome),
                    "decision of appeal {id}"
                );
            }
            other => {
                assert!(finals.is_empty(), "appeal {id} is {other} but has a final review");
                assert_eq!(count(&audit_rows, "appeal.decided", id), 0, "appeal {id} is {other}");
                assert_eq!(decision_now, "under_appeal", "decision of open appeal {id}");
            }
        }
    }
    for (appeal, _, _) in &review_rows {
        assert!(
            appeal_rows
                .iter()
                .any(|(id, _, status, _)| id == appeal && status == "decided"),
            "final review of appeal {appeal}, which is not decided"
        );
    }
    let open = appeal_rows.len() - decided;
    assert_eq!(open, 0, "appeals left undecided after the drain");
    format!(
        "checked {} decisions, {} appeals ({decided} decided), {} final reviews, {} audit entries, {} outbox events",
        decision_rows.len(),
        appeal_rows.len(),
        review_rows.len(),
        audit_rows.len(),
        outbox_rows.len()
    )
}
