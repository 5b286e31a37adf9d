//! The load generator: concurrent HTTP clients that drive the server the way engines, admins
//! and reviewers do, each loop bounded by a count and a deadline. It measures (counts and
//! latencies) and leaves the figures to the caller.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use recourse::auth::TokenMinter;
use recourse::domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::error::BoxError;
use crate::workload::{ENGINE, Steps, decision};

/// Steps done, the time they took in all, and each step's latency.
pub type Sample = (usize, Duration, Vec<Duration>);

/// Decisions in one batch request.
pub const PER_BATCH: usize = 1000;

/// HTTP clients of one server.
pub struct Load {
    client: reqwest::Client,
    base: String,
    minter: TokenMinter,
    within: Duration,
}

impl Load {
    /// Clients of the server at `base`, with tokens from `minter`; every loop stops after `within`.
    pub fn new(base: &str, minter: TokenMinter, within: Duration) -> Result<Self, BoxError> {
        Ok(Self {
            client: reqwest::Client::builder().pool_max_idle_per_host(128).build()?,
            base: base.to_owned(),
            minter,
            within,
        })
    }

    /// A bearer token for `role` and subject `sub`, valid for an hour.
    pub fn token(&self, role: Role, sub: &str) -> Result<String, BoxError> {
        Ok(self.minter.mint(role, sub, Duration::from_secs(3600))?)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Registers the engine every decision comes from.
    pub async fn register_engine(&self) -> Result<(), BoxError> {
        let admin = self.token(Role::Admin, "bench-admin")?;
        self.client
            .post(self.url("/v1/engines"))
            .bearer_auth(&admin)
            .json(&json!({"id": ENGINE, "name": "benchmark engine"}))
            .send()
            .await?;
        Ok(())
    }

    /// Creates reviewers `{prefix}-0` … `{prefix}-{count - 1}`, each with authority over
    /// `decision_type` only.
    pub async fn configure_reviewers(&self, prefix: &str, count: usize, decision_type: &str) -> Result<(), BoxError> {
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

    /// `clients` engines post single decisions (external ids tagged `tag`), `total` in all.
    pub async fn single_ingest(
        &self,
        clients: usize,
        total: usize,
        engine_token: String,
        tag: String,
    ) -> Result<Sample, BoxError> {
        self.post_each(
            clients,
            total,
            "/v1/decisions",
            engine_token,
            move |i| decision(&format!("{tag}-{i}"), &format!("s-{i}")),
            |res| async move {
                if res.status() != StatusCode::CREATED {
                    return Err(format!("ingest answered {}", res.status()).into());
                }
                Ok(())
            },
        )
        .await
    }

    /// `clients` engines post batches of [`PER_BATCH`] decisions (external ids tagged `tag`),
    /// `batches` in all. Each step is one batch.
    pub async fn batch_ingest(
        &self,
        clients: usize,
        batches: usize,
        engine_token: String,
        tag: String,
    ) -> Result<Sample, BoxError> {
        self.post_each(
            clients,
            batches,
            "/v1/decisions/batch",
            engine_token,
            move |b| {
                let items: Vec<Value> = (0..PER_BATCH)
                    .map(|i| decision(&format!("{tag}-{b}-{i}"), &format!("s-{i}")))
                    .collect();
                json!({"decisions": items})
            },
            |res| async move {
                let body: Value = res.json().await?;
                if body["created"] != PER_BATCH {
                    return Err(format!("batch created {}", body["created"]).into());
                }
                Ok(())
            },
        )
        .await
    }

    /// `clients` reviewers (one token each from `tokens`, shared round-robin) claim and review
    /// appeals, `total` cycles or until the queue is empty; a quarter are overturned with a
    /// rationale. Also returns how many appeals were served more than once (must be 0).
    pub async fn review_cycles(
        &self,
        clients: usize,
        total: usize,
        tokens: Vec<String>,
    ) -> Result<(Sample, usize), BoxError> {
        let served = Arc::new(Mutex::new(HashMap::<String, usize>::new()));
        let tokens = Arc::new(tokens);
        let (client, base, seen) = (self.client.clone(), self.base.clone(), served.clone());
        let sample = self
            .run(clients, total, move |i| {
                let (client, base, seen) = (client.clone(), base.clone(), seen.clone());
                let token = tokens[i % tokens.len()].clone();
                async move {
                    let res = client.post(format!("{base}/v1/queue/claim")).bearer_auth(&token).send().await?;
                    if res.status() == StatusCode::NO_CONTENT {
                        return Ok(false);
                    }
                    if res.status() != StatusCode::OK {
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
                    if res.status() != StatusCode::OK {
                        return Err(format!("review answered {}", res.status()).into());
                    }
                    Ok(true)
                }
            })
            .await?;
        let twice = served
            .lock()
            .map_err(|_| "poisoned")?
            .values()
            .filter(|c| **c > 1)
            .count();
        Ok((sample, twice))
    }

    /// One reviewer claims and releases an appeal, `samples` times in sequence. Returns the
    /// latency of each claim (the release is not timed).
    pub async fn claim_and_release(&self, token: &str, samples: usize) -> Result<Vec<Duration>, BoxError> {
        let mut lat = Vec::new();
        let deadline = Instant::now() + self.within;
        for _ in 0..samples {
            if Instant::now() > deadline {
                break;
            }
            let t = Instant::now();
            let res = self
                .client
                .post(self.url("/v1/queue/claim"))
                .bearer_auth(token)
                .send()
                .await?;
            let took = t.elapsed();
            if res.status() != StatusCode::OK {
                return Err(format!("scale claim answered {}", res.status()).into());
            }
            lat.push(took);
            let body: Value = res.json().await?;
            let id = body["appeal"]["id"].as_str().ok_or("no id")?;
            let res = self
                .client
                .delete(self.url(&format!("/v1/appeals/{id}/lease")))
                .bearer_auth(token)
                .json(&json!({"lease_token": body["lease"]["token"]}))
                .send()
                .await?;
            if res.status() != StatusCode::NO_CONTENT {
                return Err(format!("release answered {}", res.status()).into());
            }
        }
        Ok(lat)
    }

    /// `clients` concurrent loops post `body(i)` to `path` as `token` and `check` each answer.
    async fn post_each<B, C, Checked>(
        &self,
        clients: usize,
        total: usize,
        path: &str,
        token: String,
        body: B,
        check: C,
    ) -> Result<Sample, BoxError>
    where
        B: Fn(usize) -> Value + Clone + Send + 'static,
        C: Fn(reqwest::Response) -> Checked + Clone + Send + Sync + 'static,
        Checked: Future<Output = Result<(), BoxError>> + Send,
    {
        let (client, url) = (self.client.clone(), self.url(path));
        self.run(clients, total, move |i| {
            let req = client.post(&url).bearer_auth(&token).json(&body(i));
            let check = check.clone();
            async move {
                check(req.send().await?).await?;
                Ok(true)
            }
        })
        .await
    }

    /// Runs `clients` concurrent loops of `step` until `total` steps or the deadline, or until a
    /// step says there is nothing left (false).
    async fn run<F, Fut>(&self, clients: usize, total: usize, step: F) -> Result<Sample, BoxError>
    where
        F: Fn(usize) -> Fut + Clone + Send + 'static,
        Fut: Future<Output = Result<bool, BoxError>> + Send,
    {
        let steps = Arc::new(Steps::new(total, self.within));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..clients {
            let (steps, step) = (steps.clone(), step.clone());
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                while let Some(i) = steps.next() {
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
}
