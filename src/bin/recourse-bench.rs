//! `recourse-bench`: measures ingestion and review throughput of a real `recourse serve` process
//! over HTTP, next to a raw-database baseline measured in the same run on the same machine, and
//! prints both with their ratio. Every load loop is bounded by a count and a deadline.
//!
//!     cargo run --release --bin recourse-bench -- [--postgres postgres://…/postgres] [--quick]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use recourse::appeals::repo::queue::{ClaimRequest, claim_next};
use recourse::auth::{JwtKeys, TokenMinter};
use recourse::config::{JwtAlgorithm, JwtArgs};
use recourse::db::{self, DatabaseUrl, Db, DbConnection, DbError, write_tx};
use recourse::decisions::model::DecisionRow;
use recourse::domain::Role;
use recourse::domain::decision::{DecisionDraft, ValidDecision};
use serde::Serialize;
use serde_json::{Value, json};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const SECRET: &str = "recourse-bench-secret-0123456789abcdef0123";
const ENGINE: &str = "bench-engine";

#[derive(Parser)]
#[command(about = "Throughput and latency of Recourse against a raw-database baseline")]
struct Args {
    /// Also benchmark PostgreSQL: an admin URL whose role may CREATE DATABASE.
    #[arg(long, env = "BENCH_POSTGRES_URL")]
    postgres: Option<String>,
    /// Where to write the JSON figures.
    #[arg(long, default_value = "target/bench/results.json")]
    out: PathBuf,
    /// Smaller counts (and 100k instead of 1M queued appeals) for a fast smoke run.
    #[arg(long)]
    quick: bool,
    /// Skip the SQLite backend.
    #[arg(long)]
    no_sqlite: bool,
}

/// Counts and deadlines for every loop.
#[derive(Clone, Copy)]
struct Budget {
    single_requests: usize,
    batches: usize,
    appeals_per_cycle_run: usize,
    large_backlog: usize,
    claim_samples: usize,
    deadline: Duration,
}

#[derive(Debug, Default, Serialize)]
struct Figure {
    name: String,
    unit: &'static str,
    value: f64,
    p50_ms: Option<f64>,
    p99_ms: Option<f64>,
    baseline: Option<f64>,
    ratio: Option<f64>,
    target_ratio: Option<f64>,
    note: Option<String>,
}

impl Figure {
    fn with_baseline(mut self, baseline: f64, target: Option<f64>) -> Self {
        self.baseline = Some(baseline);
        self.ratio = Some(if baseline > 0.0 { self.value / baseline } else { 0.0 });
        self.target_ratio = target;
        self
    }
}

#[derive(Serialize)]
struct BackendReport {
    backend: &'static str,
    figures: Vec<Figure>,
    peak_rss_mb: f64,
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn latency_figure(name: String, unit: &'static str, count: usize, elapsed: Duration, mut lat: Vec<Duration>) -> Figure {
    lat.sort();
    Figure {
        name,
        unit,
        value: count as f64 / elapsed.as_secs_f64(),
        p50_ms: Some(percentile(&lat, 0.5)),
        p99_ms: Some(percentile(&lat, 0.99)),
        ..Default::default()
    }
}

/// CPU seconds used so far by the server, this load generator, and PostgreSQL's processes.
#[derive(Debug, Clone, Copy, Default)]
struct Cpu {
    server: f64,
    loadgen: f64,
    postgres: f64,
}

fn cpu_seconds(stat: &str) -> Option<(String, f64)> {
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    let (head, rest) = stat.rsplit_once(')')?;
    let comm = head.split_once('(')?.1.to_owned();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some((comm, ticks / 100.0))
}

impl Cpu {
    fn now(server_pid: u32) -> Self {
        let read = |pid: &str| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| cpu_seconds(&s))
        };
        let mut postgres = 0.0;
        if let Ok(entries) = std::fs::read_dir("/proc") {
            for entry in entries.flatten() {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if name.chars().all(|c| c.is_ascii_digit())
                    && let Some((comm, secs)) = read(&name)
                    && comm.starts_with("postgres")
                {
                    postgres += secs;
                }
            }
        }
        Self {
            server: read(&server_pid.to_string()).map(|c| c.1).unwrap_or(0.0),
            loadgen: read("self").map(|c| c.1).unwrap_or(0.0),
            postgres,
        }
    }

    /// CPU milliseconds per operation since `before`, as a note.
    fn per_op_since(&self, before: &Cpu, ops: usize) -> String {
        let per = |a: f64, b: f64| (a - b) * 1000.0 / ops.max(1) as f64;
        format!(
            "CPU ms/op: server {:.3}, load generator {:.3}, postgres {:.3}",
            per(self.server, before.server),
            per(self.loadgen, before.loadgen),
            per(self.postgres, before.postgres)
        )
    }
}

/// The server under test, as a child process.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(database_url: &str) -> Result<Self, BoxError> {
        let exe = std::env::current_exe()?.with_file_name("recourse");
        let mut child = Command::new(&exe)
            .args(["serve", "--bind", "127.0.0.1:0"])
            .env("DATABASE_URL", database_url)
            .env("RECOURSE_JWT_SECRET", SECRET)
            .env("RECOURSE_LOG_FORMAT", "json")
            .env("RECOURSE_LOG", "warn,recourse::startup=info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot start {}: {e} (build it with `cargo build --release`)",
                    exe.display()
                )
            })?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        let mut lines = BufReader::new(stderr).lines();
        let base = loop {
            let line = lines.next().ok_or("recourse exited before listening")??;
            if let Ok(event) = serde_json::from_str::<Value>(&line)
                && event["message"] == "recourse is listening"
            {
                break event["address"].as_str().ok_or("no address")?.to_owned();
            }
        };
        std::thread::spawn(move || lines.for_each(drop));
        Ok(Self { child, base })
    }

    /// Peak resident set size so far (VmHWM), in MB.
    fn peak_rss_mb(&self) -> f64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmHWM:"))
                    .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
            })
            .map(|kb| kb / 1024.0)
            .unwrap_or(0.0)
    }
}

/// A realistic decision with an explanation of about 1.5 KB.
fn decision(external_id: &str, subject: &str) -> Value {
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

fn decision_row(external_id: &str, subject: &str) -> Result<DecisionRow, BoxError> {
    let draft: DecisionDraft = serde_json::from_value(decision(external_id, subject))?;
    let valid = ValidDecision::parse(draft, chrono::Utc::now()).map_err(|e| format!("{e:?}"))?;
    Ok(DecisionRow::new(ENGINE, &valid, db::now()))
}

struct Harness {
    client: reqwest::Client,
    server_pid: u32,
    server: Server,
    db: Db,
    minter: TokenMinter,
    budget: Budget,
    tag: String,
}

impl Harness {
    fn token(&self, role: Role, sub: &str) -> Result<String, BoxError> {
        Ok(self.minter.mint(role, sub, Duration::from_secs(3600))?)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base)
    }

    /// Runs `clients` concurrent loops of `step` until `total` steps or the deadline.
    async fn load<F, Fut>(
        &self,
        clients: usize,
        total: usize,
        step: F,
    ) -> Result<(usize, Duration, Vec<Duration>), BoxError>
    where
        F: Fn(usize) -> Fut + Clone + Send + 'static,
        Fut: std::future::Future<Output = Result<bool, BoxError>> + Send,
    {
        let next = Arc::new(AtomicUsize::new(0));
        let deadline = Instant::now() + self.budget.deadline;
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..clients {
            let (next, step) = (next.clone(), step.clone());
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total || Instant::now() > deadline {
                        break;
                    }
                    let t = Instant::now();
                    if !step(i).await? {
                        break;
                    }
                    latencies.push(t.elapsed());
                }
                Ok::<_, BoxError>(latencies)
            }));
        }
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await??);
        }
        Ok((all.len(), started.elapsed(), all))
    }

    /// Runs `threads` OS threads of a blocking database `step` until `total` or the deadline.
    fn load_blocking<F>(&self, threads: usize, total: usize, step: F) -> Result<(usize, Duration), BoxError>
    where
        F: Fn(&mut DbConnection, usize) -> Result<bool, DbError> + Send + Sync + 'static,
    {
        let next = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(AtomicUsize::new(0));
        let step = Arc::new(step);
        let deadline = Instant::now() + self.budget.deadline;
        let started = Instant::now();
        std::thread::scope(|scope| -> Result<(), BoxError> {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    let (next, done, step, db) = (next.clone(), done.clone(), step.clone(), self.db.clone());
                    scope.spawn(move || -> Result<(), String> {
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            if i >= total || Instant::now() > deadline {
                                return Ok(());
                            }
                            // A connection per step, as a request handler takes one.
                            let mut conn = db.get().map_err(|e| e.to_string())?;
                            if !step(&mut conn, i).map_err(|e| e.to_string())? {
                                return Ok(());
                            }
                            done.fetch_add(1, Ordering::Relaxed);
                        }
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

    async fn single_ingest(&self, figures: &mut Vec<Figure>) -> Result<(), BoxError> {
        let total = self.budget.single_requests;
        let baseline = {
            let tag = format!("{}-base", self.tag);
            let rows: Arc<Vec<DecisionRow>> = Arc::new(
                (0..total)
                    .map(|i| decision_row(&format!("{tag}-{i}"), &format!("s-{i}")))
                    .collect::<Result<_, _>>()?,
            );
            let before = Cpu::now(self.server_pid);
            let (n, elapsed) = self.load_blocking(32, total, move |conn, i| {
                write_tx(conn, |conn| {
                    recourse::decisions::repo::insert_many(conn, std::slice::from_ref(&rows[i]))
                })?;
                Ok(true)
            })?;
            eprintln!("    baseline {}", Cpu::now(self.server_pid).per_op_since(&before, n));
            n as f64 / elapsed.as_secs_f64()
        };
        for clients in [1, 8, 32] {
            let token = self.token(Role::Engine, ENGINE)?;
            let (client, url, tag) = (
                self.client.clone(),
                self.url("/v1/decisions"),
                format!("{}-c{clients}", self.tag),
            );
            let before = Cpu::now(self.server_pid);
            let (n, elapsed, lat) = self
                .load(clients, total, move |i| {
                    let req = client
                        .post(&url)
                        .bearer_auth(&token)
                        .json(&decision(&format!("{tag}-{i}"), &format!("s-{i}")));
                    async move {
                        let res = req.send().await?;
                        if res.status() != reqwest::StatusCode::CREATED {
                            return Err(format!("ingest answered {}", res.status()).into());
                        }
                        Ok(true)
                    }
                })
                .await?;
            let target = (clients == 32).then_some(0.0);
            let mut figure = latency_figure(
                format!("single ingest, {clients} clients"),
                "decisions/s",
                n,
                elapsed,
                lat,
            )
            .with_baseline(baseline, target);
            if clients != 32 {
                figure.target_ratio = None;
            }
            figure.note = Some(Cpu::now(self.server_pid).per_op_since(&before, n));
            figures.push(figure);
        }
        Ok(())
    }

    async fn batch_ingest(&self, figures: &mut Vec<Figure>) -> Result<(), BoxError> {
        const PER_BATCH: usize = 1000;
        const CLIENTS: usize = 4;
        let batches = self.budget.batches;
        let baseline = {
            let tag = format!("{}-bbase", self.tag);
            let (n, elapsed) = self.load_blocking(CLIENTS, batches, move |conn, b| {
                let rows: Vec<DecisionRow> = (0..PER_BATCH)
                    .map(|i| decision_row(&format!("{tag}-{b}-{i}"), &format!("s-{i}")))
                    .collect::<Result<_, _>>()
                    .map_err(|e| DbError::Migration(e.to_string()))?;
                write_tx(conn, |conn| recourse::decisions::repo::insert_many(conn, &rows))?;
                Ok(true)
            })?;
            (n * PER_BATCH) as f64 / elapsed.as_secs_f64()
        };
        let token = self.token(Role::Engine, ENGINE)?;
        let (client, url, tag) = (
            self.client.clone(),
            self.url("/v1/decisions/batch"),
            format!("{}-batch", self.tag),
        );
        let before = Cpu::now(self.server_pid);
        let (n, elapsed, lat) = self
            .load(CLIENTS, batches, move |b| {
                let items: Vec<Value> = (0..PER_BATCH)
                    .map(|i| decision(&format!("{tag}-{b}-{i}"), &format!("s-{i}")))
                    .collect();
                let req = client.post(&url).bearer_auth(&token).json(&json!({"decisions": items}));
                async move {
                    let res = req.send().await?;
                    let body: Value = res.json().await?;
                    if body["created"] != PER_BATCH {
                        return Err(format!("batch created {}", body["created"]).into());
                    }
                    Ok(true)
                }
            })
            .await?;
        let mut figure = latency_figure(
            format!("batch ingest, {CLIENTS} clients × 1000"),
            "rows/s",
            n * PER_BATCH,
            elapsed,
            lat,
        );
        figure = figure.with_baseline(baseline, Some(0.0));
        figure.note = Some(format!(
            "{} (per row)",
            Cpu::now(self.server_pid).per_op_since(&before, n * PER_BATCH)
        ));
        figures.push(figure);
        Ok(())
    }

    /// Inserts `count` decisions with one queued appeal each, in bulk SQL. Returns nothing; the
    /// appeals carry `decision_type` so that only the intended reviewers can take them.
    fn seed_appeals(&self, from: usize, count: usize, decision_type: &str) -> Result<(), BoxError> {
        let mut conn = self.db.get()?;
        let tag = &self.tag;
        let (first, last) = (from + 1, from + count);
        let now = db::now().format("%Y-%m-%d %H:%M:%S%.6f").to_string();
        let due = (db::now() + chrono::Duration::days(30))
            .format("%Y-%m-%d %H:%M:%S%.6f")
            .to_string();
        let explanation = r#"{"inputs":{"x":1},"contributions":[],"reason_codes":[]}"#;
        let sql = match &mut *conn {
            DbConnection::Sqlite(_) => format!(
                "WITH RECURSIVE seq(n) AS (SELECT {first} UNION ALL SELECT n + 1 FROM seq WHERE n < {last})
                 INSERT INTO decisions SELECT printf('d-{tag}-%d', n), '{ENGINE}', printf('x-{tag}-%d', n), printf('s-%d', n % 100000),
                   '{decision_type}', 'declined', 0.4, 0.5, 'limits', '3.2.0', 1, '{now}', '{explanation}', 'bulk',
                   'under_appeal', 'declined', '{now}' FROM seq;
                 WITH RECURSIVE seq(n) AS (SELECT {first} UNION ALL SELECT n + 1 FROM seq WHERE n < {last})
                 INSERT INTO appeals SELECT printf('a-{tag}-%d', n), printf('d-{tag}-%d', n), printf('s-%d', n % 100000),
                   '{decision_type}', 'queued', 'default', n % 10, 0, NULL, printf('s-%d', n % 100000), 'subject', 'web', NULL,
                   '[\"other\"]', 'bulk statement', NULL, NULL, NULL, '{now}', '{due}', NULL, NULL, NULL, NULL, NULL, NULL,
                   NULL, NULL, '{now}' FROM seq;"
            ),
            DbConnection::Pg(_) => format!(
                "INSERT INTO decisions SELECT 'd-{tag}-' || n, '{ENGINE}', 'x-{tag}-' || n, 's-' || (n % 100000),
                   '{decision_type}', 'declined', 0.4, 0.5, 'limits', '3.2.0', true, '{now}'::timestamp, '{explanation}', 'bulk',
                   'under_appeal', 'declined', '{now}'::timestamp FROM generate_series({first}, {last}) AS n;
                 INSERT INTO appeals SELECT 'a-{tag}-' || n, 'd-{tag}-' || n, 's-' || (n % 100000),
                   '{decision_type}', 'queued', 'default', n % 10, 0, NULL, 's-' || (n % 100000), 'subject', 'web', NULL,
                   '[\"other\"]', 'bulk statement', NULL, NULL, NULL, '{now}'::timestamp, '{due}'::timestamp, NULL, NULL, NULL,
                   NULL, NULL, NULL, NULL, NULL, '{now}'::timestamp FROM generate_series({first}, {last}) AS n;
                 ANALYZE appeals; ANALYZE decisions;"
            ),
        };
        conn.batch_execute(&sql)?;
        Ok(())
    }

    async fn configure_reviewers(&self, prefix: &str, count: usize, decision_type: &str) -> Result<(), BoxError> {
        let admin = self.token(Role::Admin, "bench-admin")?;
        for r in 0..count {
            let res = self
                .client
                .put(self.url(&format!("/v1/reviewers/{prefix}-{r}")))
                .bearer_auth(&admin)
                .json(&json!({"authorities": [decision_type], "capacity": 1000}))
                .send()
                .await?;
            if !res.status().is_success() {
                return Err(format!("configuring reviewer answered {}", res.status()).into());
            }
        }
        Ok(())
    }

    async fn review_cycles(&self, figures: &mut Vec<Figure>, seeded: &mut usize) -> Result<(), BoxError> {
        let per_run = self.budget.appeals_per_cycle_run;
        for clients in [8, 32, 64] {
            // Baseline: bare claim + completing UPDATE through the pool, at the same concurrency.
            let base_type = format!("cycle_base_{clients}");
            self.seed_appeals(*seeded, per_run, &base_type)?;
            *seeded += per_run;
            let authorities = Arc::new(vec![base_type.clone()]);
            let base_before = Cpu::now(self.server_pid);
            let (n, elapsed) = self.load_blocking(clients, per_run, move |conn, i| {
                let reviewer = format!("base-rev-{}", i % 64);
                let token = uuid::Uuid::new_v4().to_string();
                let now = db::now();
                let claimed = write_tx(conn, |conn| {
                    claim_next(
                        conn,
                        &ClaimRequest {
                            reviewer: &reviewer,
                            authorities: &authorities,
                            queue: None,
                            appeal_id: None,
                            token: &token,
                            now,
                            expires_at: now + chrono::Duration::minutes(15),
                        },
                    )
                })?;
                let Some(id) = claimed else { return Ok(false) };
                write_tx(conn, |conn| {
                    use recourse::db::schema::appeals::dsl;
                    diesel::update(dsl::appeals.find(&id).filter(dsl::lease_token.eq(&token)))
                        .set((dsl::status.eq("decided"), dsl::decided_at.eq(db::now())))
                        .execute(conn)
                        .map_err(DbError::from)
                })?;
                Ok(true)
            })?;
            let baseline = n as f64 / elapsed.as_secs_f64();
            let base_cpu = Cpu::now(self.server_pid).per_op_since(&base_before, n);

            let cycle_type = format!("cycle_http_{clients}");
            self.seed_appeals(*seeded, per_run, &cycle_type)?;
            *seeded += per_run;
            self.configure_reviewers(&format!("rev{clients}"), clients, &cycle_type)
                .await?;
            let served_twice = Arc::new(std::sync::Mutex::new(std::collections::HashMap::<String, usize>::new()));
            let tokens: Arc<Vec<String>> = Arc::new(
                (0..clients)
                    .map(|r| self.token(Role::Reviewer, &format!("rev{clients}-{r}")))
                    .collect::<Result<_, _>>()?,
            );
            let (client, base, seen) = (self.client.clone(), self.server.base.clone(), served_twice.clone());
            let before = Cpu::now(self.server_pid);
            let (n, elapsed, lat) = self
                .load(clients, per_run, move |i| {
                    let (client, base, seen) = (client.clone(), base.clone(), seen.clone());
                    let token = tokens[i % tokens.len()].clone();
                    async move {
                        let res = client.post(format!("{base}/v1/queue/claim")).bearer_auth(&token).send().await?;
                        if res.status() == reqwest::StatusCode::NO_CONTENT {
                            return Ok(false);
                        }
                        if res.status() != reqwest::StatusCode::OK {
                            return Err(format!("claim answered {}", res.status()).into());
                        }
                        let body: Value = res.json().await?;
                        let id = body["appeal"]["id"].as_str().ok_or("no id")?.to_owned();
                        *seen.lock().map_err(|_| "poisoned")?.entry(id.clone()).or_default() += 1;
                        let outcome = if i % 4 == 0 { "overturn" } else { "uphold" };
                        let mut review = json!({
                            "lease_token": body["lease"]["token"],
                            "outcome": outcome,
                            "rationale": "The applicant's payslips show a higher income than the model used, which changes the assessment.",
                            "factors_considered": ["input:income", "statement"],
                        });
                        if outcome == "overturn" {
                            review["new_outcome"] = json!("approved");
                        }
                        let res = client.post(format!("{base}/v1/appeals/{id}/review")).bearer_auth(&token).json(&review).send().await?;
                        if res.status() != reqwest::StatusCode::OK {
                            return Err(format!("review answered {}", res.status()).into());
                        }
                        Ok(true)
                    }
                })
                .await?;
            let twice = served_twice
                .lock()
                .map_err(|_| "poisoned")?
                .values()
                .filter(|c| **c > 1)
                .count();
            let mut figure = latency_figure(
                format!("review cycle, {clients} reviewers"),
                "cycles/s",
                n,
                elapsed,
                lat,
            )
            .with_baseline(baseline, (clients == 32).then_some(0.0));
            figure.note = Some(format!(
                "appeals served twice: {twice}; {}; baseline {base_cpu}",
                Cpu::now(self.server_pid).per_op_since(&before, n)
            ));
            if twice > 0 {
                return Err(format!("{twice} appeals were served twice").into());
            }
            figures.push(figure);
        }
        Ok(())
    }

    async fn claim_latency(&self, label: &str) -> Result<Figure, BoxError> {
        let token = self.token(Role::Reviewer, "scale-rev-0")?;
        let mut lat = Vec::new();
        let deadline = Instant::now() + self.budget.deadline;
        for _ in 0..self.budget.claim_samples {
            if Instant::now() > deadline {
                break;
            }
            let t = Instant::now();
            let res = self
                .client
                .post(self.url("/v1/queue/claim"))
                .bearer_auth(&token)
                .send()
                .await?;
            let took = t.elapsed();
            if res.status() != reqwest::StatusCode::OK {
                return Err(format!("scale claim answered {}", res.status()).into());
            }
            lat.push(took);
            let body: Value = res.json().await?;
            let id = body["appeal"]["id"].as_str().ok_or("no id")?;
            let res = self
                .client
                .delete(self.url(&format!("/v1/appeals/{id}/lease")))
                .bearer_auth(&token)
                .json(&json!({"lease_token": body["lease"]["token"]}))
                .send()
                .await?;
            if res.status() != reqwest::StatusCode::NO_CONTENT {
                return Err(format!("release answered {}", res.status()).into());
            }
        }
        let n = lat.len();
        let total: Duration = lat.iter().sum();
        Ok(latency_figure(
            format!("claim latency, {label} queued"),
            "claims/s",
            n,
            total,
            lat,
        ))
    }

    async fn scale(&self, figures: &mut Vec<Figure>, seeded: &mut usize) -> Result<(), BoxError> {
        self.configure_reviewers("scale-rev", 1, "scale_type").await?;
        let small = 10_000;
        self.seed_appeals(*seeded, small, "scale_type")?;
        *seeded += small;
        let at_small = self.claim_latency("10k").await?;
        let started = Instant::now();
        let large = self.budget.large_backlog;
        self.seed_appeals(*seeded, large - small, "scale_type")?;
        *seeded += large - small;
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
        figures.push(at_small);
        figures.push(at_large);
        Ok(())
    }
}

async fn run_backend(name: &'static str, raw_url: &str, budget: Budget) -> Result<BackendReport, BoxError> {
    eprintln!("== {name}");
    let server = Server::start(raw_url)?;
    let url = DatabaseUrl::parse(raw_url)?;
    let db = Db::connect(&url, 16, Duration::from_secs(30))?;
    let jwt = JwtArgs {
        algorithm: JwtAlgorithm::Hs256,
        secret: Some(SECRET.to_owned().into()),
        secret_file: None,
        public_key: None,
        private_key: None,
        issuer: "recourse".into(),
        audience: "recourse".into(),
        leeway_secs: 30,
    };
    let minter = JwtKeys::load(&jwt, &url)?.minter.ok_or("no minter")?;
    let harness = Harness {
        client: reqwest::Client::builder().pool_max_idle_per_host(128).build()?,
        server_pid: server.child.id(),
        server,
        db,
        minter,
        budget,
        tag: format!("{:x}", chrono::Utc::now().timestamp_millis()),
    };
    let admin = harness.token(Role::Admin, "bench-admin")?;
    harness
        .client
        .post(harness.url("/v1/engines"))
        .bearer_auth(&admin)
        .json(&json!({"id": ENGINE, "name": "benchmark engine"}))
        .send()
        .await?;
    let mut figures = Vec::new();
    let mut seeded = 0;
    eprintln!("  single ingest");
    harness.single_ingest(&mut figures).await?;
    eprintln!("  peak RSS so far {:.1} MB; batch ingest", harness.server.peak_rss_mb());
    harness.batch_ingest(&mut figures).await?;
    eprintln!(
        "  peak RSS so far {:.1} MB; review cycles",
        harness.server.peak_rss_mb()
    );
    harness.review_cycles(&mut figures, &mut seeded).await?;
    let peak_rss_mb = harness.server.peak_rss_mb();
    eprintln!("  scale");
    harness.scale(&mut figures, &mut seeded).await?;
    for f in &mut figures {
        if f.target_ratio == Some(0.0) {
            f.target_ratio = Some(target_for(name, &f.name));
        }
    }
    Ok(BackendReport {
        backend: name,
        figures,
        peak_rss_mb,
    })
}

/// Ratio targets from the benchmark issue.
fn target_for(backend: &str, figure: &str) -> f64 {
    match (backend, figure.split(',').next().unwrap_or_default()) {
        ("postgres", "single ingest") => 0.6,
        ("sqlite", "single ingest") => 0.3,
        ("postgres", "batch ingest") => 0.5,
        ("sqlite", "batch ingest") => 0.3,
        ("postgres", "review cycle") => 0.5,
        _ => 0.0,
    }
}

fn print_table(report: &BackendReport) {
    println!(
        "\n{} (server peak RSS during runs 1-3: {:.1} MB, target ≤ 100 MB)",
        report.backend, report.peak_rss_mb
    );
    println!(
        "{:<36} {:>12} {:>12} {:>9} {:>9} {:>12} {:>7} {:>7}",
        "measurement", "value", "unit", "p50 ms", "p99 ms", "baseline", "ratio", "target"
    );
    for f in &report.figures {
        let opt = |v: Option<f64>, prec: usize| v.map(|v| format!("{v:.prec$}")).unwrap_or_else(|| "-".into());
        println!(
            "{:<36} {:>12.1} {:>12} {:>9} {:>9} {:>12} {:>7} {:>7}",
            f.name,
            f.value,
            f.unit,
            opt(f.p50_ms, 2),
            opt(f.p99_ms, 2),
            opt(f.baseline, 1),
            opt(f.ratio, 2),
            opt(f.target_ratio.filter(|t| *t > 0.0), 2),
        );
        if let Some(note) = &f.note {
            println!("{:<36} {note}", "");
        }
    }
}

/// The same figures as a Markdown table, for docs/BENCHMARKS.md.
fn markdown(report: &BackendReport) -> String {
    let opt = |v: Option<f64>, prec: usize| v.map(|v| format!("{v:.prec$}")).unwrap_or_else(|| "–".into());
    let mut out = format!(
        "### {}\n\nServer peak RSS during runs 1–3: **{:.1} MB** (target ≤ 100 MB).\n\n\
         | measurement | value | unit | p50 ms | p99 ms | baseline | ratio | target |\n|---|---:|---|---:|---:|---:|---:|---:|\n",
        report.backend, report.peak_rss_mb
    );
    for f in &report.figures {
        out.push_str(&format!(
            "| {} | {:.1} | {} | {} | {} | {} | {} | {} |\n",
            f.name,
            f.value,
            f.unit,
            opt(f.p50_ms, 2),
            opt(f.p99_ms, 2),
            opt(f.baseline, 1),
            opt(f.ratio, 2),
            opt(f.target_ratio.filter(|t| *t > 0.0), 2),
        ));
    }
    let notes: Vec<String> = report
        .figures
        .iter()
        .filter_map(|f| f.note.as_ref().map(|n| format!("- {}: {n}", f.name)))
        .collect();
    if !notes.is_empty() {
        out.push_str(&format!("\n{}\n", notes.join("\n")));
    }
    out
}

fn create_pg_database(admin_url: &str) -> Result<(String, String), BoxError> {
    let name = format!("recourse_bench_{}", uuid::Uuid::new_v4().simple());
    let mut conn = PgConnection::establish(admin_url)?;
    conn.batch_execute(&format!("CREATE DATABASE \"{name}\""))?;
    let base = admin_url.split('?').next().unwrap_or(admin_url);
    let (server, _) = base.rsplit_once('/').ok_or("the Postgres URL needs a /database path")?;
    Ok((format!("{server}/{name}"), name))
}

fn drop_pg_database(admin_url: &str, name: &str) {
    if let Ok(mut conn) = PgConnection::establish(admin_url) {
        let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
    }
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args = Args::parse();
    let budget = if args.quick {
        Budget {
            single_requests: 600,
            batches: 6,
            appeals_per_cycle_run: 600,
            large_backlog: 100_000,
            claim_samples: 100,
            deadline: Duration::from_secs(15),
        }
    } else {
        Budget {
            single_requests: 4_000,
            batches: 40,
            appeals_per_cycle_run: 3_000,
            large_backlog: 1_000_000,
            claim_samples: 300,
            deadline: Duration::from_secs(30),
        }
    };
    let mut reports = Vec::new();
    if !args.no_sqlite {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("bench.db");
        reports.push(run_backend("sqlite", path.to_str().ok_or("path")?, budget).await?);
    }
    if let Some(admin_url) = &args.postgres {
        let (url, name) = create_pg_database(admin_url)?;
        let result = run_backend("postgres", &url, budget).await;
        drop_pg_database(admin_url, &name);
        reports.push(result?);
    }
    for report in &reports {
        print_table(report);
    }
    let machine = json!({
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "os": std::env::consts::OS,
        "arch": std::env::consts::ARCH,
        "taken_at": chrono::Utc::now().to_rfc3339(),
        "quick": args.quick,
    });
    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(
        &args.out,
        serde_json::to_string_pretty(&json!({"machine": machine, "backends": reports}))?,
    )?;
    let md_path = args.out.with_extension("md");
    std::fs::write(&md_path, reports.iter().map(markdown).collect::<Vec<_>>().join("\n"))?;
    println!("\nfigures written to {} and {}", args.out.display(), md_path.display());
    Ok(())
}
