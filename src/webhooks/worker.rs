//! The delivery worker, one per `recourse serve`. Several instances share the work safely:
//! each pass claims due deliveries under a lease (`repo::claim_due`), and an attempt's outcome is
//! written only while the lease token still matches. A process killed mid-send leaves a lease
//! that simply runs out; the delivery is then retried, so delivery is at least once and
//! receivers deduplicate on `webhook-id` (the event id, the same across retries).

use std::collections::HashMap;
use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta};
use rand::Rng;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION, RETRY_AFTER};

use super::WebhookError;
use super::repo::{self, AttemptResult, DeliveryRow, EndpointRow};
use super::signing;
use super::ssrf::{Guard, GuardedResolver};
use crate::config::Webhooks;
use crate::db::{self, Db, write_tx};

/// Longer than the request timeout, so a lease never runs out while its attempt is in flight.
const LEASE: Duration = Duration::from_secs(60);

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

/// Runs until the task is aborted.
pub async fn run(db: Db, cfg: Webhooks) {
    let client = match client(&cfg) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the webhook HTTP client; webhooks are not delivered");
            return;
        }
    };
    let mut ticker = tokio::time::interval(cfg.poll_interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        loop {
            match deliver_due(&db, &client, &cfg).await {
                // A full batch suggests a backlog: go again without waiting.
                Ok(n) if n as i64 >= cfg.batch => continue,
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

/// One pass: claim due deliveries and attempt each. Returns how many were attempted.
pub async fn deliver_due(db: &Db, client: &reqwest::Client, cfg: &Webhooks) -> Result<usize, WebhookError> {
    let token = uuid::Uuid::new_v4().to_string();
    let batch = cfg.batch;
    let claim_token = token.clone();
    let jobs = db
        .run(move |conn| {
            write_tx(conn, |conn| {
                let now = db::now();
                let lease_until = now + TimeDelta::from_std(LEASE).unwrap_or(TimeDelta::seconds(60));
                let deliveries = repo::claim_due(conn, &claim_token, now, lease_until, batch)?;
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
        })
        .await?;
    let n = jobs.len();
    let attempts = jobs.into_iter().map(|job| attempt(db, client, cfg, &token, job));
    for result in futures_util::future::join_all(attempts).await {
        if let Err(e) = result {
            tracing::warn!(error = %crate::error::cause_chain(&e), "recording a webhook attempt failed");
        }
    }
    Ok(n)
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

async fn attempt(db: &Db, client: &reqwest::Client, cfg: &Webhooks, token: &str, job: Job) -> Result<(), WebhookError> {
    let guard = Guard::new(cfg.allow.clone());
    let outcome = send(client, &guard, &job).await?;
    let cfg = cfg.clone();
    let token = token.to_owned();
    db.run(move |conn| {
        write_tx(conn, |conn| {
            let now = db::now();
            let d = &job.delivery;
            let recorded = match outcome {
                Outcome::Delivered(status) => repo::finish_attempt(
                    conn,
                    &d.id,
                    &token,
                    &AttemptResult {
                        status: "delivered",
                        next_attempt_at: now,
                        last_status: Some(i32::from(status)),
                        last_error: None,
                        delivered_at: Some(now),
                    },
                )?,
                Outcome::Gone => {
                    let reason = "the endpoint answered 410 Gone";
                    if repo::disable_endpoint(conn, &d.endpoint_id, reason, now)? {
                        tracing::info!(endpoint_id = %d.endpoint_id, "webhook endpoint disabled after 410 Gone");
                    }
                    repo::finish_attempt(
                        conn,
                        &d.id,
                        &token,
                        &AttemptResult {
                            status: "failed",
                            next_attempt_at: now,
                            last_status: Some(410),
                            last_error: Some("410 Gone: endpoint disabled"),
                            delivered_at: None,
                        },
                    )?
                }
                Outcome::Refused(why) => repo::finish_attempt(
                    conn,
                    &d.id,
                    &token,
                    &AttemptResult {
                        status: "failed",
                        next_attempt_at: now,
                        last_status: None,
                        last_error: Some(&why),
                        delivered_at: None,
                    },
                )?,
                Outcome::Retry {
                    status,
                    error,
                    retry_after,
                } => {
                    let next = next_attempt(&cfg, d.attempts, retry_after, now);
                    let horizon_end = d.window_start + TimeDelta::from_std(cfg.horizon).unwrap_or(TimeDelta::days(3));
                    let exhausted = next > horizon_end;
                    let error = if exhausted {
                        format!("retries exhausted after {} attempts; last: {error}", d.attempts)
                    } else {
                        error
                    };
                    repo::finish_attempt(
                        conn,
                        &d.id,
                        &token,
                        &AttemptResult {
                            status: if exhausted { "failed" } else { "pending" },
                            next_attempt_at: if exhausted { now } else { next },
                            last_status: status.map(i32::from),
                            last_error: Some(&error),
                            delivered_at: None,
                        },
                    )?
                }
            };
            if !recorded {
                tracing::warn!(delivery_id = %d.id, "the delivery lease ran out before its attempt was recorded");
            }
            Ok::<_, WebhookError>(())
        })
    })
    .await
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
