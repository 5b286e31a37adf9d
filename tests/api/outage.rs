//! Database outage. PostgreSQL is stopped under load and started again, while one
//! `recourse serve` keeps running: during the outage every request gets a quick 503
//! problem+json with `Retry-After` (never a 500, never a hang for the whole pool timeout),
//! `/readyz` says not ready, and once the database is back the same process serves 2xx again.
//!
//! Stopping a database is not something to do to a shared cluster, so the test is `#[ignore]`d
//! (plain `cargo test` lists it as ignored, with the reason) and needs `OUTAGE_PG_CLUSTER` (e.g.
//! `15/recourse_outage`, stopped and started with `pg_ctlcluster`) and `OUTAGE_DATABASE_URL` (an
//! admin URL on that cluster). `.ci/outage` creates such a private cluster, runs this test with
//! `--ignored` and drops the cluster; `.ci/run` calls it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use recourse::auth::JwtKeys;
use recourse::db::DatabaseUrl;
use recourse::domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{decision_body, hs256_args};
use crate::instances::start_instance_with;

/// What one request saw.
#[derive(Debug, Clone)]
struct Sample {
    started: Instant,
    latency: Duration,
    what: &'static str,
    /// The status, or None when the request itself failed (connection refused, timeout).
    status: Option<StatusCode>,
    problem_json: bool,
    retry_after: bool,
    code: Option<String>,
}

fn pg_ctlcluster(cluster: &str, action: &str) {
    let (version, name) = cluster.split_once('/').expect("OUTAGE_PG_CLUSTER is <version>/<name>");
    let mut command = std::process::Command::new("pg_ctlcluster");
    command.args([version, name, action]);
    if action == "stop" {
        // Fast shutdown: sessions are terminated mid-transaction, as in a failover or a crash.
        command.args(["-m", "fast"]);
    }
    let status = command.status().expect("run pg_ctlcluster");
    assert!(status.success(), "pg_ctlcluster {cluster} {action}: {status}");
}

/// Sends one request and notes what came back (and the JSON body, if any).
async fn one(what: &'static str, request: reqwest::RequestBuilder) -> (Sample, Value) {
    let started = Instant::now();
    let mut sample = Sample {
        started,
        latency: Duration::ZERO,
        what,
        status: None,
        problem_json: false,
        retry_after: false,
        code: None,
    };
    let mut body = Value::Null;
    if let Ok(res) = request.send().await {
        sample.status = Some(res.status());
        sample.problem_json = res
            .headers()
            .get("content-type")
            .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
        sample.retry_after = res.headers().get("retry-after").is_some();
        body = res.json().await.unwrap_or(Value::Null);
        sample.code = body["code"].as_str().map(str::to_owned);
    }
    sample.latency = started.elapsed();
    (sample, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "stops PostgreSQL, so it needs a private cluster: run .ci/outage"]
async fn postgres_stopped_under_load_gives_quick_503s_and_the_service_recovers_by_itself() {
    let (Ok(cluster), Ok(admin_url)) = (std::env::var("OUTAGE_PG_CLUSTER"), std::env::var("OUTAGE_DATABASE_URL"))
    else {
        panic!(
            "set OUTAGE_PG_CLUSTER (<version>/<name>) and OUTAGE_DATABASE_URL to a private cluster this \
             test may stop; .ci/outage creates one and runs this test"
        );
    };
    // A fresh database on the private cluster.
    let name = format!("recourse_outage_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::establish(&admin_url).expect("OUTAGE_DATABASE_URL accepts connections");
    admin.batch_execute(&format!("CREATE DATABASE \"{name}\"")).unwrap();
    drop(admin);
    let (server, _) = admin_url.rsplit_once('/').unwrap();
    let database_url = format!("{server}/{name}");

    let mut instance = start_instance_with(&database_url, &[]);
    let base = instance.address.clone();
    let minter = JwtKeys::load(&hs256_args(), &DatabaseUrl::parse(&database_url).unwrap())
        .unwrap()
        .minter
        .unwrap();
    let ttl = Duration::from_secs(600);
    let admin_token = minter.mint(Role::Admin, "admin", ttl).unwrap();
    let engine = minter.mint(Role::Engine, "engine-1", ttl).unwrap();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let res = client
        .post(format!("{base}/v1/engines"))
        .bearer_auth(&admin_token)
        .json(&json!({"id": "engine-1", "name": "engine"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);

    // Load: writers, readers and a readiness probe, each in a loop until told to stop.
    let samples = Arc::new(Mutex::new(Vec::<Sample>::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    for worker in 0..6usize {
        let (client, base, engine, samples, stop) = (
            client.clone(),
            base.clone(),
            engine.clone(),
            samples.clone(),
            stop.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut n = 0usize;
            let mut last_id: Option<String> = None;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                n += 1;
                let sample = match (worker % 3, &last_id) {
                    (0, _) | (1, None) => {
                        let body = decision_body(&format!("outage-{worker}-{n}"), &format!("subject-{worker}"));
                        let request = client
                            .post(format!("{base}/v1/decisions"))
                            .bearer_auth(&engine)
                            .json(&body);
                        let (sample, body) = one("ingest", request).await;
                        if sample.status == Some(StatusCode::CREATED) {
                            last_id = body["id"].as_str().map(str::to_owned);
                        }
                        sample
                    }
                    (1, Some(id)) => {
                        let request = client.get(format!("{base}/v1/decisions/{id}")).bearer_auth(&engine);
                        one("read", request).await.0
                    }
                    _ => one("readyz", client.get(format!("{base}/readyz"))).await.0,
                };
                samples.lock().unwrap().push(sample);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }

    let healthy_until = Instant::now() + Duration::from_millis(1500);
    tokio::time::sleep_until(healthy_until.into()).await;
    let stopping = Instant::now();
    let c = cluster.clone();
    tokio::task::spawn_blocking(move || pg_ctlcluster(&c, "stop"))
        .await
        .unwrap();
    let stopped = Instant::now();
    println!("outage: PostgreSQL stopped in {:?}", stopped - stopping);
    tokio::time::sleep(Duration::from_secs(6)).await;
    let restarting = Instant::now();
    let c = cluster.clone();
    tokio::task::spawn_blocking(move || pg_ctlcluster(&c, "start"))
        .await
        .unwrap();
    let restarted = Instant::now();
    println!("outage: PostgreSQL started again in {:?}", restarted - restarting);

    // Recovery: ingest and readiness answer 2xx again, from the same process.
    let recovered = loop {
        let s = samples.lock().unwrap().clone();
        let ok_after = |what: &str| {
            s.iter()
                .any(|x| x.what == what && x.started >= restarted && x.status.is_some_and(|st| st.is_success()))
        };
        if ok_after("ingest") && ok_after("readyz") && ok_after("read") {
            break Instant::now();
        }
        assert!(
            restarted.elapsed() < Duration::from_secs(30),
            "no recovery 30 s after PostgreSQL came back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        instance.child.try_wait().unwrap().is_none(),
        "recourse exited during the outage"
    );
    // Keep going a little: once recovered, everything succeeds.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let steady_from = Instant::now();
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for task in tasks {
        task.await.unwrap();
    }
    let samples = samples.lock().unwrap().clone();

    // Before the outage: all 2xx.
    let before: Vec<&Sample> = samples.iter().filter(|s| s.started + s.latency < stopping).collect();
    assert!(before.len() > 20, "too little load before the outage");
    assert!(
        before.iter().all(|s| s.status.is_some_and(|st| st.is_success())),
        "{before:?}"
    );
    // No 500 ever, and no request without an answer.
    let bad: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.status.is_none_or(|st| st == StatusCode::INTERNAL_SERVER_ERROR))
        .collect();
    assert!(bad.is_empty(), "500s or unanswered requests: {bad:?}");
    // Sent during the outage: each answered quickly. The pool timeout is 5 s; while the database
    // is known to be unreachable a request waits 0.5 s for a connection. The bound is generous,
    // but well below the pool timeout, let alone "hanging".
    let sent_during: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.started >= stopped && s.started < restarting)
        .collect();
    let mut latencies: Vec<Duration> = sent_during.iter().map(|s| s.latency).collect();
    latencies.sort();
    let (median, worst) = (latencies[latencies.len() / 2], latencies[latencies.len() - 1]);
    assert!(
        worst < Duration::from_secs(3),
        "slowest answer during the outage took {worst:?}"
    );
    // Answered before the database came back: 503 problem+json with Retry-After.
    let during: Vec<&Sample> = sent_during
        .into_iter()
        .filter(|s| s.started + s.latency <= restarting)
        .collect();
    assert!(during.len() > 20, "too little load during the outage: {}", during.len());
    for s in &during {
        assert_eq!(s.status, Some(StatusCode::SERVICE_UNAVAILABLE), "{s:?}");
        assert!(s.problem_json && s.retry_after, "{s:?}");
        assert_eq!(s.code.as_deref(), Some("unavailable"), "{s:?}");
    }
    assert!(
        during.iter().any(|s| s.what == "readyz"),
        "readiness was not probed during the outage"
    );
    // After recovery: all 2xx.
    let after: Vec<&Sample> = samples.iter().filter(|s| s.started >= steady_from).collect();
    assert!(!after.is_empty());
    assert!(
        after.iter().all(|s| s.status.is_some_and(|st| st.is_success())),
        "{after:?}"
    );
    println!(
        "outage: {} requests during the outage, all 503 (median {median:?}, slowest {worst:?}); \
         recovered {:?} after PostgreSQL was back, without a restart; {} requests in all",
        during.len(),
        recovered - restarted,
        samples.len()
    );

    drop(instance);
    if let Ok(mut admin) = PgConnection::establish(&admin_url) {
        let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
    }
}
