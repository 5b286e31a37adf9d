//! Every write appends exactly one audit entry, in the same transaction; failed writes none.

use recourse::domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{decision_body, spawn_app};

#[tokio::test]
async fn every_write_appends_exactly_one_audit_entry() {
    let app = spawn_app().await;
    app.register_engine("engine-1").await;
    assert_eq!(app.audit_count("engine-1").await, 1);

    let created = app.seed_decision("a-1", "subject-1").await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(app.audit_count(&id).await, 1);

    // An idempotent replay writes nothing, so it records nothing.
    let res = app.post_decision("engine-1", &decision_body("a-1", "subject-1")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(app.audit_count(&id).await, 1);

    let batch = json!({"decisions": [decision_body("b-1", "subject-1"), decision_body("b-2", "subject-2")]});
    let body: Value = app
        .post_json("/v1/decisions/batch", &app.token(Role::Engine, "engine-1"), &batch)
        .await
        .json()
        .await
        .unwrap();
    for result in body["results"].as_array().unwrap() {
        assert_eq!(app.audit_count(result["id"].as_str().unwrap()).await, 1);
    }
    assert_eq!(app.audit_total().await, 1 + 1 + 2);
}

#[tokio::test]
async fn rejected_writes_leave_no_audit_entry() {
    let app = spawn_app().await;
    app.register_engine("engine-1").await;
    let before = app.audit_total().await;
    let mut bad = decision_body("a-1", "subject-1");
    bad["score"] = json!("x");
    assert_eq!(
        app.post_decision("engine-1", &bad).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        app.post_decision("ghost", &decision_body("a-2", "s")).await.status(),
        StatusCode::FORBIDDEN
    );
    let dup = app
        .post_json(
            "/v1/engines",
            &app.token_for(Role::Admin),
            &json!({"id": "engine-1", "name": "dup"}),
        )
        .await;
    assert_eq!(dup.status(), StatusCode::CONFLICT);
    assert_eq!(app.audit_total().await, before);
}

#[tokio::test]
async fn audit_entries_name_the_actor_and_request_and_hold_no_personal_data() {
    use diesel::prelude::*;
    use recourse::db::schema::audit_log::dsl;

    let app = spawn_app().await;
    app.register_engine("engine-1").await;
    let res = app
        .post_decision("engine-1", &decision_body("a-1", "subject-secret-77"))
        .await;
    let request_id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    let id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let row: (String, String, String, Option<String>, String, String) = app
        .with_db(move |c| {
            dsl::audit_log
                .filter(dsl::object_id.eq(id))
                .select((
                    dsl::actor,
                    dsl::actor_role,
                    dsl::action,
                    dsl::request_id,
                    dsl::details,
                    dsl::entry_hash,
                ))
                .first(c)
        })
        .await;
    assert_eq!(
        (row.0.as_str(), row.1.as_str(), row.2.as_str()),
        ("engine-1", "engine", "decision.created")
    );
    assert_eq!(row.3.as_deref(), Some(request_id.as_str()));
    assert!(
        !row.4.contains("subject-secret-77") && !row.4.contains("28000"),
        "{}",
        row.4
    );
    assert_eq!(row.5.len(), 64);
}
