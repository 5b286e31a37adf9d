//! Scale-out: two `recourse serve` processes share one database. Claims never hand one appeal
//! out twice, every appeal is decided once, and the background sweepers never do the same work
//! twice. Runs against SQLite (shared WAL file) and, in CI, against Postgres.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use recourse::db::schema::{appeals, audit_log};
use serde_json::Value;

use crate::helpers::{TEST_SECRET, TestApp, spawn_app_with};

/// A `recourse serve` child process, killed when dropped.
pub(crate) struct Instance {
    pub(crate) child: Child,
    pub(crate) address: String,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_instance(database_url: &str) -> Instance {
    start_instance_with(database_url, &[])
}

/// Starts `recourse serve` with extra environment variables.
pub(crate) fn start_instance_with(database_url: &str, env: &[(&str, &str)]) -> Instance {
    let mut child = Command::new(env!("CARGO_BIN_EXE_recourse"))
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--workers",
            "2",
            "--db-pool-size",
            "8",
        ])
        .env("DATABASE_URL", database_url)
        .env("RECOURSE_JWT_SECRET", TEST_SECRET)
        .env("RECOURSE_SWEEP_INTERVAL", "100ms")
        .env("RECOURSE_LOG_FORMAT", "json")
        .env("RECOURSE_LOG", "info")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start recourse serve");
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let address = loop {
        let line = lines.next().expect("recourse exited before listening").unwrap();
        let Ok(event) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        if event["message"] == "recourse is listening" {
            break event["address"].as_str().unwrap().to_owned();
        }
    };
    // Keep draining stderr so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Instance { child, address }
}

async fn audit_actions(app: &TestApp, action: &'static str) -> HashMap<String, i64> {
    app.with_db(move |c| {
        audit_log::table
            .filter(audit_log::action.eq(action))
            .group_by(audit_log::object_id)
            .select((audit_log::object_id, diesel::dsl::count_star()))
            .load::<(String, i64)>(c)
    })
    .await
    .into_iter()
    .collect()
}

#[tokio::test]
async fn two_instances_share_the_queue_and_the_sweeper_work_without_doubles() {
    const APPEALS: usize = 240;
    const SWEPT: usize = 40;
    const REVIEWERS: usize = 16;
    // The in-process app only seeds; its own sweeper ran once at start and then sleeps.
    let app = spawn_app_with(|s| s.workflow.sweep_interval = Duration::from_secs(3600)).await;
    let appeal_ids = app.seed_queued_appeals("two", APPEALS).await;
    let reviewers: Vec<String> = (0..REVIEWERS).map(|r| format!("rev-{r}")).collect();
    for reviewer in &reviewers {
        app.configure_reviewer(reviewer, &["credit_limit"], 2).await;
    }
    // Sweeper work waiting for whichever instance gets there first: expired leases and
    // escalations that are due.
    let expired: Vec<String> = appeal_ids[..SWEPT].to_vec();
    let escalate: Vec<String> = appeal_ids[SWEPT..2 * SWEPT].to_vec();
    let (e1, e2) = (expired.clone(), escalate.clone());
    app.with_db(move |c| {
        let past = (chrono::Utc::now() - chrono::Duration::minutes(5)).naive_utc();
        diesel::update(appeals::table.filter(appeals::id.eq_any(&e1)))
            .set((
                appeals::status.eq("in_review"),
                appeals::reviewer_id.eq("ghost"),
                appeals::lease_token.eq("ghost-token"),
                appeals::lease_expires_at.eq(past),
            ))
            .execute(c)?;
        diesel::update(appeals::table.filter(appeals::id.eq_any(&e2)))
            .set(appeals::escalate_at.eq(past))
            .execute(c)
    })
    .await;

    let a = start_instance(&app.database_url);
    let b = start_instance(&app.database_url);

    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let swept = audit_actions(&app, "appeal.lease_expired").await.len();
        let escalated = audit_actions(&app, "appeal.escalated").await.len();
        if swept == SWEPT && escalated == SWEPT {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "sweepers finished {swept} expiries and {escalated} escalations"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Give both sweepers a few more passes to do anything twice, if they were going to.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let expiries = audit_actions(&app, "appeal.lease_expired").await;
    let escalations = audit_actions(&app, "appeal.escalated").await;
    assert!(expired.iter().all(|id| expiries.get(id) == Some(&1)), "{expiries:?}");
    assert!(
        escalate.iter().all(|id| escalations.get(id) == Some(&1)),
        "{escalations:?}"
    );
    assert_eq!(expiries.len() + escalations.len(), 2 * SWEPT);

    let drained = app
        .drain_queue(&[a.address.clone(), b.address.clone()], &reviewers)
        .await;
    assert_eq!(drained.server_errors, 0);
    assert_eq!(drained.handed_out.len(), APPEALS, "every appeal was handed out");
    assert!(
        drained.handed_out.values().all(|n| *n == 1),
        "no appeal was handed out twice"
    );
    let decided = audit_actions(&app, "appeal.decided").await;
    assert_eq!(decided.len(), APPEALS);
    assert!(decided.values().all(|n| *n == 1), "each appeal decided exactly once");
}
