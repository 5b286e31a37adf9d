//! The pull feed: an engine's own events, in order, resumable, with no gaps even when
//! transactions commit out of sequence order.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use rand::Rng;
use recourse::db::DbError;
use recourse::domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, review_body, spawn_app};

async fn page(app: &TestApp, token: &str, after: Option<&str>, limit: usize) -> Value {
    let mut path = format!("/v1/feedback?limit={limit}");
    if let Some(after) = after {
        path.push_str(&format!("&after={after}"));
    }
    let res = app.get(&path, token).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

/// On Postgres the feed holds back rows until every transaction that started before them has
/// finished (anywhere in the cluster, including other tests), so a fresh write may take a moment
/// to appear. Waits until `n` events are visible from the start of the feed.
async fn wait_for_events(app: &TestApp, token: &str, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let body = page(app, token, None, 1000).await;
        if body["items"].as_array().unwrap().len() >= n {
            return;
        }
        assert!(Instant::now() < deadline, "the feed never showed {n} events: {body}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn outbox_ids(app: &TestApp, engine: &str) -> Vec<String> {
    use recourse::db::schema::outbox::dsl;
    let engine = engine.to_owned();
    app.with_db(move |c| {
        dsl::outbox
            .filter(dsl::engine_id.eq(engine))
            .order(dsl::seq.asc())
            .select(dsl::id)
            .load(c)
    })
    .await
}

#[tokio::test]
async fn an_engine_reads_its_own_events_in_order_and_resumes() {
    let app = spawn_app().await;
    let appeal = app.queued_appeal("x-1", "subject-1").await;
    let (id, token, _) = {
        app.configure_reviewer("rev-1", &["credit_limit"], 3).await;
        app.claim("rev-1").await.unwrap()
    };
    assert_eq!(id, appeal);
    let res = app.review("rev-1", &appeal, &review_body(&token, "overturn")).await;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());

    let engine = app.token(Role::Engine, "engine-1");
    wait_for_events(&app, &engine, 3).await;
    let first = page(&app, &engine, None, 2).await;
    let types: Vec<_> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].clone())
        .collect();
    assert_eq!(types, [json!("appeal.filed"), json!("appeal.decided")]);
    assert_eq!(first["has_more"], true);
    let event = &first["items"][0];
    assert_eq!(event["version"], 1);
    assert_eq!(event["data"]["appeal_id"], appeal.as_str());
    assert!(event["occurred_at"].is_string() && event["id"].is_string());

    let second = page(&app, &engine, first["next_cursor"].as_str(), 10).await;
    let types: Vec<_> = second["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].clone())
        .collect();
    assert_eq!(types, [json!("decision.overridden")]);
    assert_eq!(second["has_more"], false);
    // An empty page hands the cursor back, so a poller can always resume from next_cursor.
    let third = page(&app, &engine, second["next_cursor"].as_str(), 10).await;
    assert_eq!(third["items"], json!([]));
    assert_eq!(third["next_cursor"], second["next_cursor"]);

    // Another engine sees none of it.
    let other = page(&app, &app.token(Role::Engine, "engine-2"), None, 10).await;
    assert_eq!(other["items"], json!([]));
}

#[tokio::test]
async fn the_feed_is_for_engines_and_rejects_forged_cursors() {
    let app = spawn_app().await;
    for role in [Role::Admin, Role::Reviewer, Role::Subject, Role::Dpo] {
        let res = app.get("/v1/feedback", &app.token_for(role)).await;
        assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    }
    let engine = app.token_for(Role::Engine);
    for bad in ["abc", "1", "1-x", "-1-1"] {
        let res = app.get(&format!("/v1/feedback?after={bad}"), &engine).await;
        assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    }
}

/// Writers whose transactions overlap and commit out of `seq` order, while a reader pages with
/// random page sizes and random restarts from its last saved cursor. The events it consumed must
/// be exactly the table: nothing skipped, nothing twice.
#[tokio::test]
async fn concurrent_writers_and_a_restarting_reader_see_every_event_once() {
    const WRITERS: usize = 8;
    const TXS: usize = 20;
    let app = spawn_app().await;
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let db = app.db.clone();
            tokio::spawn(async move {
                for t in 0..TXS {
                    let (early_write, events, hold_ms) = {
                        let mut rng = rand::rng();
                        (
                            rng.random_bool(0.5),
                            rng.random_range(1..=3),
                            rng.random_range(0..15u64),
                        )
                    };
                    db.write(move |conn| {
                        if early_write {
                            // Takes a transaction id early, then writes the engine's events
                            // later: on Postgres its txid is below later writers' txids
                            // while its seq is above theirs.
                            recourse::outbox::enqueue(
                                conn,
                                recourse::outbox::EventKind::ModelSuspended,
                                Some("engine-x"),
                                recourse::outbox::About::Nobody,
                                json!({}),
                            )?;
                            std::thread::sleep(Duration::from_millis(hold_ms));
                        }
                        for e in 0..events {
                            recourse::outbox::enqueue(
                                conn,
                                recourse::outbox::EventKind::ModelSuspended,
                                Some("engine-1"),
                                recourse::outbox::About::Nobody,
                                json!({"writer": w, "tx": t, "e": e}),
                            )?;
                        }
                        std::thread::sleep(Duration::from_millis(hold_ms));
                        Ok::<_, DbError>(())
                    })
                    .await
                    .unwrap();
                }
            })
        })
        .collect();

    let engine = app.token(Role::Engine, "engine-1");
    let mut saved: Option<String> = None;
    let mut seen: Vec<String> = Vec::new();
    let mut restarts = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let writers_done = writers.iter().all(|w| w.is_finished());
        // A fresh "process": its cursor is whatever was saved last.
        let mut cursor = saved.clone();
        loop {
            let limit = rand::rng().random_range(1..=7);
            let body = page(&app, &engine, cursor.as_deref(), limit).await;
            for item in body["items"].as_array().unwrap() {
                seen.push(item["id"].as_str().unwrap().to_owned());
            }
            cursor = body["next_cursor"].as_str().map(str::to_owned);
            saved = cursor.clone();
            if body["has_more"] == false || rand::rng().random_bool(0.2) {
                break;
            }
        }
        restarts += 1;
        if writers_done {
            let total = outbox_ids(&app, "engine-1").await.len();
            if seen.len() >= total {
                break;
            }
        }
        assert!(Instant::now() < deadline, "reader did not catch up");
        tokio::time::sleep(Duration::from_millis(rand::rng().random_range(0..5))).await;
    }
    for w in writers {
        w.await.unwrap();
    }
    let table = outbox_ids(&app, "engine-1").await;
    let unique: HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no event was served twice");
    let table_set: HashSet<_> = table.iter().collect();
    assert_eq!(unique, table_set, "the pages together are exactly the table");
    assert!(table.len() >= WRITERS * TXS);
    assert!(restarts > 1);
}
