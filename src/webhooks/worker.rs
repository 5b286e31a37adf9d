//! The delivery worker, one per `recourse serve`. Several instances share the work safely:
//! each pass claims due deliveries under a lease (`repo::claim_due`), and an attempt's outcome is
//! written only while the lease token still matches. A process killed mid-send leaves a lease
//! that simply runs out; the delivery is then retried, so delivery is at least once and
//! receivers deduplicate on `webhook-id` (the event id, the same across retries).
//!
//! Deliveries proceed independently (issue 13, finding 7): the dispatcher claims what is due and
//! spawns each attempt as its own task, under a global limit (`Webhooks::concurrency`) and a
//! per-endpoint limit (`Webhooks::per_endpoint`). It never waits for a batch: a receiver that
//! hangs holds one of its own endpoint's slots until the timeout, and nothing else. Claims skip
//! endpoints that are busy or whose circuit is open here, and take at most `per_endpoint`
//! deliveries of any one endpoint, so a backlog for a sick endpoint never crowds out the others.
//! Each endpoint has a circuit breaker ([`Breaker`]): after `breaker_threshold` consecutive
//! failures its deliveries are postponed (not failed) for `breaker_cooldown`, then one probe
//! goes out. The limits and breakers are per instance.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{NaiveDateTime, TimeDelta};
use rand::Rng;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION, RETRY_AFTER};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::error::WebhookError;
use super::repo::{self, AttemptResult, DeliveryRow, EndpointRow};
use super::signing;
use super::ssrf::{Guard, GuardedResolver};
use crate::config::Webhooks;
use crate::db::{self, Db};

/// The shortest lease. A lease must outlast the attempt, and an attempt may first wait for its
/// endpoint's slot (at most one timeout, since claims take no more than `per_endpoint` of an
/// endpoint that has a free slot), so the lease is at least four timeouts.
const MIN_LEASE: Duration = Duration::from_secs(60);

fn lease(cfg: &Webhooks) -> Duration {
    MIN_LEASE.max(cfg.timeout.saturating_mul(4))
}

pub fn client(cfg: &Webhooks) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(cfg.timeout)
        .connect_timeout(cfg.timeout)
        .dns_resolver(GuardedResolver(Guard::new(cfg.allow.clone())))
        .user_agent(concat!("Recourse-Webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// A circuit breaker for one endpoint, on this instance.
#[derive(Debug, Default, Clone)]
pub struct Breaker {
    failures: u32,
    open_until: Option<Instant>,
    probing: bool,
}

/// What to do with a claimed delivery, as its endpoint's breaker says.
#[derive(Debug, PartialEq, Eq)]
pub enum Gate {
    Send,
    /// The circuit was open and its cool-down is over: this attempt is the one probe.
    Probe,
    /// Hand the delivery back unattempted, due again after this long.
    Postpone(Duration),
}

impl Breaker {
    /// Whether claims should leave this endpoint out: open, or half-open with its probe out.
    pub fn blocks_claims(&self, now: Instant) -> bool {
        self.open_until.is_some_and(|until| now < until || self.probing)
    }

    pub fn gate(&mut self, now: Instant, retry_soon: Duration) -> Gate {
        match self.open_until {
            None => Gate::Send,
            Some(until) if now < until => Gate::Postpone(until - now),
            Some(_) if self.probing => Gate::Postpone(retry_soon),
            Some(_) => {
                self.probing = true;
                Gate::Probe
            }
        }
    }

    /// Records an attempt's result. Returns `Some(true)` when the circuit just opened (or
    /// reopened after a failed probe) and `Some(false)` when it just closed.
    pub fn record(&mut self, ok: bool, now: Instant, threshold: u32, cooldown: Duration) -> Option<bool> {
        let was_open = self.open_until.is_some();
        if ok {
            *self = Self::default();
            return was_open.then_some(false);
        }
        self.failures = self.failures.saturating_add(1);
        if self.probing || (!was_open && self.failures >= threshold.max(1)) {
            self.probing = false;
            self.open_until = Some(now + cooldown);
            return Some(true);
        }
        None
    }

    /// An attempt that says nothing about the receiver's health (SSRF refusal, 410, disabled)
    /// frees the probe slot without changing the state.
    pub fn abandon_probe(&mut self) {
        self.probing = false;
    }
}

struct EndpointState {
    slots: Arc<Semaphore>,
    breaker: Breaker,
}

struct Worker {
    db: Db,
    client: reqwest::Client,
    cfg: Webhooks,
    global: Arc<Semaphore>,
    endpoints: Mutex<HashMap<String, EndpointState>>,
}

impl Worker {
    fn with_endpoint<T>(&self, id: &str, f: impl FnOnce(&mut EndpointState) -> T) -> T {
        let mut map = self.endpoints.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let state = map.entry(id.to_owned()).or_insert_with(|| EndpointState {
            slots: Arc::new(Semaphore::new(self.cfg.per_endpoint.max(1))),
            breaker: Breaker::default(),
        });
        f(state)
    }

    /// Endpoints to leave out of the next claim: every slot taken, or the circuit open.
    fn skipped(&self) -> Vec<String> {
        let now = Instant::now();
        let mut map = self.endpoints.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Forget idle, healthy endpoints so the map does not grow with every endpoint ever seen.
        let per_endpoint = self.cfg.per_endpoint.max(1);
        map.retain(|_, s| {
            s.slots.available_permits() < per_endpoint || s.breaker.open_until.is_some() || s.breaker.failures > 0
        });
        map.iter()
            .filter(|(_, s)| s.slots.available_permits() == 0 || s.breaker.blocks_claims(now))
            .map(|(id, _)| id.clone())
            .collect()
    }
}

/// Runs until the task is aborted; aborting it also aborts the attempts in flight (their
/// leases run out and they are retried).
pub async fn run(db: Db, cfg: Webhooks) {
    let client = match client(&cfg) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the webhook HTTP client; webhooks are not delivered");
            return;
        }
    };
    let worker = Arc::new(Worker {
        global: Arc::new(Semaphore::new(cfg.concurrency.max(1))),
        endpoints: Mutex::new(HashMap::new()),
        db,
        client,
        cfg,
    });
    let mut tasks = JoinSet::new();
    let mut ticker = tokio::time::interval(worker.cfg.poll_interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        while tasks.try_join_next().is_some() {}
        loop {
            match dispatch(&worker, &mut tasks).await {
                // A full claim with room left suggests a backlog: go again without waiting.
                Ok(again) if again => continue,
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %crate::error::cause_chain(&e), "webhook pass failed; will retry");
                    break;
                }
            }
        }
    }
}

struct Job {
    delivery: DeliveryRow,
    endpoint: EndpointRow,
    payload: String,
}

/// Claims due deliveries, as many as there are free slots, and spawns one task per attempt.
/// Returns whether to claim again at once (the claim was full and slots are still free).
async fn dispatch(worker: &Arc<Worker>, tasks: &mut JoinSet<()>) -> Result<bool, WebhookError> {
    let free = worker.global.available_permits();
    if free == 0 {
        return Ok(false);
    }
    let limit = (free as i64).min(worker.cfg.batch.max(1));
    let skip = worker.skipped();
    let token = uuid::Uuid::new_v4().to_string();
    let jobs = claim(&worker.db, &worker.cfg, &token, limit, skip).await?;
    let n = jobs.len();
    for job in jobs {
        let Ok(global) = worker.global.clone().acquire_owned().await else {
            break;
        };
        let slots = worker.with_endpoint(&job.endpoint.id, |s| s.slots.clone());
        let worker = worker.clone();
        let token = token.clone();
        tasks.spawn(async move {
            let _global = global;
            let Ok(_slot) = slots.acquire_owned().await else {
                return;
            };
            if let Err(e) = attempt(&worker, &token, job).await {
                tracing::warn!(error = %crate::error::cause_chain(&e), "recording a webhook attempt failed");
            }
        });
    }
    Ok(n as i64 >= limit && worker.global.available_permits() > 0)
}

async fn claim(db: &Db, cfg: &Webhooks, token: &str, limit: i64, skip: Vec<String>) -> Result<Vec<Job>, WebhookError> {
    let claim_token = token.to_owned();
    let lease = TimeDelta::from_std(lease(cfg)).unwrap_or(TimeDelta::seconds(60));
    let per_endpoint = i64::try_from(cfg.per_endpoint.max(1)).unwrap_or(i64::MAX);
    db.write(move |conn| {
        let now = db::now();
        let deliveries = repo::claim_due(conn, &claim_token, now, now + lease, limit, per_endpoint, &skip)?;
        if deliveries.is_empty() {
            return Ok(Vec::new());
        }
        let endpoint_ids: Vec<String> = deliveries.iter().map(|d| d.endpoint_id.clone()).collect();
        let event_ids: Vec<String> = deliveries.iter().map(|d| d.event_id.clone()).collect();
        let endpoints: HashMap<String, EndpointRow> = repo::endpoints_by_ids(conn, &endpoint_ids)?
            .into_iter()
            .map(|e| (e.id.clone(), e))
            .collect();
        let payloads: HashMap<String, String> = repo::payloads(conn, &event_ids)?.into_iter().collect();
        Ok::<_, WebhookError>(
            deliveries
                .into_iter()
                .filter_map(|d| {
                    let endpoint = endpoints.get(&d.endpoint_id)?.clone();
                    let payload = payloads.get(&d.event_id)?.clone();
                    Some(Job {
                        delivery: d,
                        endpoint,
                        payload,
                    })
                })
                .collect::<Vec<_>>(),
        )
    })
    .await
}

/// What the receiver did, classified.
enum Outcome {
    Delivered(u16),
    Gone,
    Retry {
        status: Option<u16>,
        error: String,
        retry_after: Option<Duration>,
    },
    Refused(String),
}

async fn send(client: &reqwest::Client, guard: &Guard, job: &Job) -> Result<Outcome, WebhookError> {
    if job.endpoint.status != "active" {
        return Ok(Outcome::Refused("the endpoint is disabled".into()));
    }
    if let Err(refusal) = guard.check(&job.endpoint.url).await {
        return Ok(Outcome::Refused(format!("refused by the SSRF guard: {refusal}")));
    }
    let now = db::now();
    let mut secrets = vec![job.endpoint.secret.as_str()];
    if let (Some(old), Some(until)) = (&job.endpoint.previous_secret, job.endpoint.previous_secret_expires_at)
        && until > now
    {
        secrets.push(old.as_str());
    }
    let timestamp = chrono::Utc::now().timestamp();
    let id = &job.delivery.event_id;
    let signature = signing::signature_header(&secrets, id, timestamp, job.payload.as_bytes())?;
    let response = client
        .post(&job.endpoint.url)
        .header("content-type", "application/json")
        .header("webhook-id", id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(job.payload.clone())
        .send()
        .await;
    Ok(match response {
        Ok(res) => {
            let status = res.status();
            if status.is_success() {
                Outcome::Delivered(status.as_u16())
            } else if status == StatusCode::GONE {
                Outcome::Gone
            } else {
                let error = if status.is_redirection() {
                    let location = res.headers().get(LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("?");
                    format!("HTTP {status}: redirect to {location} not followed")
                } else {
                    format!("HTTP {status}")
                };
                Outcome::Retry {
                    status: Some(status.as_u16()),
                    error,
                    retry_after: retry_after(res.headers()),
                }
            }
        }
        Err(e) => Outcome::Retry {
            status: None,
            error: crate::error::cause_chain(&e),
            retry_after: None,
        },
    })
}

async fn attempt(worker: &Worker, token: &str, job: Job) -> Result<(), WebhookError> {
    let cfg = &worker.cfg;
    let endpoint_id = job.endpoint.id.clone();
    let gate = worker.with_endpoint(&endpoint_id, |s| s.breaker.gate(Instant::now(), cfg.poll_interval));
    if let Gate::Postpone(wait) = gate {
        let (id, token) = (job.delivery.id.clone(), token.to_owned());
        let until = db::now() + TimeDelta::from_std(wait).unwrap_or(TimeDelta::seconds(30));
        worker
            .db
            .write(move |conn| repo::release(conn, &id, &token, until))
            .await?;
        return Ok(());
    }
    let guard = Guard::new(cfg.allow.clone());
    let outcome = send(&worker.client, &guard, &job).await?;
    let healthy = match &outcome {
        Outcome::Delivered(_) => Some(true),
        Outcome::Retry { .. } => Some(false),
        Outcome::Gone | Outcome::Refused(_) => None,
    };
    let change = worker.with_endpoint(&endpoint_id, |s| match healthy {
        Some(ok) => s
            .breaker
            .record(ok, Instant::now(), cfg.breaker_threshold, cfg.breaker_cooldown),
        None => {
            s.breaker.abandon_probe();
            None
        }
    });
    match change {
        Some(true) => tracing::warn!(
            endpoint_id = %endpoint_id,
            cooldown_ms = cfg.breaker_cooldown.as_millis() as u64,
            "webhook endpoint keeps failing: circuit open, its deliveries are postponed"
        ),
        Some(false) => tracing::info!(endpoint_id = %endpoint_id, "webhook endpoint recovered: circuit closed"),
        None => {}
    }
    let cfg = cfg.clone();
    let token = token.to_owned();
    worker
        .db
        .write(move |conn| {
            let now = db::now();
            let d = &job.delivery;
            if matches!(outcome, Outcome::Gone)
                && repo::disable_endpoint(conn, &d.endpoint_id, "the endpoint answered 410 Gone", now)?
            {
                tracing::info!(endpoint_id = %d.endpoint_id, "webhook endpoint disabled after 410 Gone");
            }
            if !repo::finish_attempt(conn, &d.id, &token, &settle(&cfg, d, &outcome, now))? {
                tracing::warn!(delivery_id = %d.id, "the delivery lease ran out before its attempt was recorded");
            }
            Ok::<_, WebhookError>(())
        })
        .await
}

/// What an attempt's outcome writes on its delivery: delivered, failed for good (410, refused,
/// or retries exhausted) or due again after a backoff.
fn settle(cfg: &Webhooks, d: &DeliveryRow, outcome: &Outcome, now: NaiveDateTime) -> AttemptResult {
    let failed = |last_status: Option<i32>, error: String| AttemptResult {
        status: "failed",
        next_attempt_at: now,
        last_status,
        last_error: Some(error),
        delivered_at: None,
    };
    match outcome {
        Outcome::Delivered(status) => AttemptResult {
            status: "delivered",
            next_attempt_at: now,
            last_status: Some(i32::from(*status)),
            last_error: None,
            delivered_at: Some(now),
        },
        Outcome::Gone => failed(Some(410), "410 Gone: endpoint disabled".into()),
        Outcome::Refused(why) => failed(None, why.clone()),
        Outcome::Retry {
            status,
            error,
            retry_after,
        } => {
            let last_status = status.map(i32::from);
            let next = next_attempt(cfg, d.attempts, *retry_after, now);
            // `window_start` is the first attempt (set by the claim), so time spent queued does
            // not count; and every delivery gets `min_attempts` attempts.
            let horizon_end = d.window_start + TimeDelta::from_std(cfg.horizon).unwrap_or(TimeDelta::days(3));
            if next > horizon_end && d.attempts >= cfg.min_attempts {
                failed(
                    last_status,
                    format!("retries exhausted after {} attempts; last: {error}", d.attempts),
                )
            } else {
                AttemptResult {
                    status: "pending",
                    next_attempt_at: next,
                    last_status,
                    last_error: Some(error.clone()),
                    delivered_at: None,
                }
            }
        }
    }
}

/// Exponential backoff with "equal jitter": the n-th retry waits between half and all of
/// `base * 2^(n-1)` (capped), so spacing grows while instances don't retry in lockstep.
/// A `Retry-After` longer than that wins.
pub fn backoff(cfg: &Webhooks, attempts: i32) -> Duration {
    let exp = u32::try_from(attempts.saturating_sub(1)).unwrap_or(0).min(30);
    let full = cfg.base_backoff.saturating_mul(1u32 << exp).min(cfg.max_backoff);
    let half = full / 2;
    half + half.mul_f64(rand::rng().random_range(0.0..=1.0))
}

fn next_attempt(cfg: &Webhooks, attempts: i32, retry_after: Option<Duration>, now: NaiveDateTime) -> NaiveDateTime {
    let mut wait = backoff(cfg, attempts);
    if let Some(ra) = retry_after {
        wait = wait.max(ra.min(cfg.horizon));
    }
    now + TimeDelta::from_std(wait).unwrap_or(TimeDelta::hours(1))
}

/// `Retry-After` as delay-seconds or an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    (at.with_timezone(&chrono::Utc) - chrono::Utc::now()).to_std().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_within_jitter_bounds_and_is_capped() {
        let cfg = Webhooks {
            base_backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(60),
            ..Webhooks::default()
        };
        for attempt in 1..=10 {
            let full = (Duration::from_secs(2) * (1 << (attempt - 1))).min(Duration::from_secs(60));
            let d = backoff(&cfg, attempt);
            assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d:?}");
        }
    }

    #[test]
    fn the_breaker_opens_after_consecutive_failures_and_probes_after_the_cooldown() {
        let (threshold, cooldown, soon) = (3, Duration::from_secs(30), Duration::from_millis(50));
        let t0 = Instant::now();
        let mut b = Breaker::default();
        assert_eq!(b.record(false, t0, threshold, cooldown), None);
        assert_eq!(
            b.record(true, t0, threshold, cooldown),
            None,
            "a success resets the count"
        );
        assert_eq!(b.record(false, t0, threshold, cooldown), None);
        assert_eq!(b.record(false, t0, threshold, cooldown), None);
        assert!(!b.blocks_claims(t0));
        assert_eq!(b.gate(t0, soon), Gate::Send);
        assert_eq!(
            b.record(false, t0, threshold, cooldown),
            Some(true),
            "third in a row opens it"
        );
        assert!(b.blocks_claims(t0));
        let t1 = t0 + Duration::from_secs(10);
        assert_eq!(
            b.gate(t1, soon),
            Gate::Postpone(Duration::from_secs(20)),
            "postponed, not failed"
        );
        // After the cool-down: one probe; others wait for it.
        let t2 = t0 + Duration::from_secs(31);
        assert!(!b.blocks_claims(t2));
        assert_eq!(b.gate(t2, soon), Gate::Probe);
        assert!(b.blocks_claims(t2), "no more claims while the probe is out");
        assert_eq!(b.gate(t2, soon), Gate::Postpone(soon));
        // A failed probe opens it again for a full cool-down.
        assert_eq!(b.record(false, t2, threshold, cooldown), Some(true));
        assert_eq!(
            b.gate(t2 + Duration::from_secs(1), soon),
            Gate::Postpone(Duration::from_secs(29))
        );
        // A successful probe closes it.
        let t3 = t2 + Duration::from_secs(31);
        assert_eq!(b.gate(t3, soon), Gate::Probe);
        assert_eq!(b.record(true, t3, threshold, cooldown), Some(false));
        assert_eq!(b.gate(t3, soon), Gate::Send);
        assert!(!b.blocks_claims(t3));
    }

    #[test]
    fn a_probe_that_says_nothing_about_health_frees_the_probe_slot() {
        let t0 = Instant::now();
        let mut b = Breaker::default();
        b.record(false, t0, 1, Duration::from_secs(1));
        let t1 = t0 + Duration::from_secs(2);
        assert_eq!(b.gate(t1, Duration::ZERO), Gate::Probe);
        b.abandon_probe();
        assert_eq!(b.gate(t1, Duration::ZERO), Gate::Probe);
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        let later = (chrono::Utc::now() + chrono::Duration::seconds(120)).to_rfc2822();
        h.insert(RETRY_AFTER, later.parse().unwrap());
        let d = retry_after(&h).unwrap();
        assert!(d > Duration::from_secs(100) && d <= Duration::from_secs(120));
        h.insert(RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }
}
