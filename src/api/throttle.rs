//! Failed-authentication throttle: each client address has a bucket of `auth_failures` tokens
//! that refills over `auth_failure_window`. Every 401 answer (and every refused web sign-in)
//! takes a token; a client with no
//! token left is answered 429 with `Retry-After` before its request reaches any handler, so it
//! cannot go on guessing tokens. Successful requests never take a token.
//!
//! The client is the TCP peer address (IPv6 by /64, since one host usually holds a whole /64).
//! `Forwarded`/`X-Forwarded-For` are not trusted: anyone can write them. Behind a reverse proxy
//! every client shares the proxy's address, so throttle there instead (see docs/SECURITY.md).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, web};

use crate::config::Limits;
use crate::error::Problem;

/// Most client addresses tracked at once. Past it, buckets that have refilled are forgotten
/// first; a flood of fresh addresses can then only reset buckets, never grow memory.
const MAX_TRACKED: usize = 65_536;

/// Shared by every HTTP worker of an instance (held in app data).
pub struct AuthThrottle {
    capacity: f64,
    refill_per_sec: f64,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl AuthThrottle {
    /// A throttle that does nothing when `auth_failures` is 0.
    pub fn new(limits: &Limits) -> Self {
        let capacity = f64::from(limits.auth_failures);
        let window = limits.auth_failure_window.as_secs_f64().max(1.0);
        Self {
            capacity,
            refill_per_sec: capacity / window,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub fn enabled(&self) -> bool {
        self.capacity >= 1.0
    }

    fn refilled(&self, bucket: Bucket, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        (bucket.tokens + elapsed * self.refill_per_sec).min(self.capacity)
    }

    /// How long the client must wait, if it has no failed attempt left.
    pub fn blocked(&self, client: IpAddr, now: Instant) -> Option<Duration> {
        let buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let tokens = self.refilled(*buckets.get(&key(client))?, now);
        (tokens < 1.0).then(|| Duration::from_secs_f64(((1.0 - tokens) / self.refill_per_sec).ceil().max(1.0)))
    }

    /// Takes one token from the client's bucket.
    pub fn record_failure(&self, client: IpAddr, now: Instant) {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let client = key(client);
        if !buckets.contains_key(&client) && buckets.len() >= MAX_TRACKED {
            buckets.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * self.refill_per_sec < self.capacity
            });
            if buckets.len() >= MAX_TRACKED {
                buckets.clear();
            }
        }
        let tokens = match buckets.get(&client) {
            Some(b) => self.refilled(*b, now),
            None => self.capacity,
        };
        let bucket = Bucket {
            tokens: (tokens - 1.0).max(0.0),
            at: now,
        };
        if bucket.tokens < 1.0 {
            tracing::warn!("a client ran out of failed authentications; answering 429 until its bucket refills");
        }
        buckets.insert(client, bucket);
    }
}

/// IPv4 addresses as they are; IPv6 addresses by their /64 network.
fn key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
    }
}

/// Middleware: refuses a throttled client with 429 and counts every 401 answer. Health checks
/// are never throttled, so a load balancer behind the same address keeps working.
pub async fn throttle_failed_auth(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let throttle = req.app_data::<web::Data<AuthThrottle>>().cloned();
    let client = req.peer_addr().map(|a| a.ip());
    let exempt = matches!(req.path(), "/healthz" | "/readyz");
    let Some((throttle, client)) = throttle.zip(client).filter(|(t, _)| t.enabled() && !exempt) else {
        return next.call(req).await.map(ServiceResponse::map_into_left_body);
    };
    if let Some(wait) = throttle.blocked(client, Instant::now()) {
        let secs = wait.as_secs().max(1);
        let mut response = Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_failed_authentications",
            Some(format!(
                "too many failed authentications from this address; retry in {secs} s"
            )),
        )
        .into_response();
        if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return Ok(req.into_response(response).map_into_right_body());
    }
    let is_post = req.method() == actix_web::http::Method::POST;
    let path = req.path().to_owned();
    let result = next.call(req).await;
    let status = match &result {
        Ok(res) => res.status(),
        Err(e) => e.as_response_error().status_code(),
    };
    if is_failed_authentication(is_post, &path, status) {
        throttle.record_failure(client, Instant::now());
    }
    result.map(ServiceResponse::map_into_left_body)
}

/// A 401 from the API, or a refused web sign-in: a pasted token refused by `POST /ui/login`
/// (422, the form is shown again) or a login link refused by `/ui/login/link` (403).
fn is_failed_authentication(is_post: bool, path: &str, status: StatusCode) -> bool {
    status == StatusCode::UNAUTHORIZED
        || (is_post && path == "/ui/login" && status == StatusCode::UNPROCESSABLE_ENTITY)
        || (path == "/ui/login/link" && status == StatusCode::FORBIDDEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle(failures: u32, window_secs: u64) -> AuthThrottle {
        AuthThrottle::new(&Limits {
            auth_failures: failures,
            auth_failure_window: Duration::from_secs(window_secs),
            ..Limits::default()
        })
    }

    #[test]
    fn a_client_is_blocked_after_its_failures_and_recovers_as_the_bucket_refills() {
        let t = throttle(3, 30);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        let start = Instant::now();
        for _ in 0..3 {
            assert!(t.blocked(ip, start).is_none());
            t.record_failure(ip, start);
        }
        assert_eq!(t.blocked(ip, start), Some(Duration::from_secs(10)));
        assert!(t.blocked(other, start).is_none(), "other clients are unaffected");
        assert!(t.blocked(ip, start + Duration::from_secs(9)).is_some());
        assert!(t.blocked(ip, start + Duration::from_secs(10)).is_none());
    }

    #[test]
    fn ipv6_clients_share_a_bucket_per_slash_64() {
        let t = throttle(1, 60);
        let now = Instant::now();
        t.record_failure("2001:db8::1".parse().unwrap(), now);
        assert!(t.blocked("2001:db8::ffff".parse().unwrap(), now).is_some());
        assert!(t.blocked("2001:db8:0:1::1".parse().unwrap(), now).is_none());
    }

    #[test]
    fn zero_turns_the_throttle_off() {
        let t = AuthThrottle::new(&Limits {
            auth_failures: 0,
            ..Limits::default()
        });
        assert!(!t.enabled());
    }
}
