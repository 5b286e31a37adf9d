//! Property-level authorisation (mass assignment): server-controlled properties (ids, status,
//! reviewer, owner, timestamps) supplied in a body are refused with 422 naming the property,
//! and the database is left exactly as it was. Each operation is then called with the same
//! body minus the injected property and must succeed, which proves that the property was the
//! only reason for the refusal.

use diesel::prelude::*;
use diesel::sql_types::BigInt;
use recourse::domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, appeal_body, assert_problem, decision_body, pointers, review_body, spawn_app_with};

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

const TABLES: &[&str] = &[
    "engines",
    "webhook_endpoints",
    "decisions",
    "appeals",
    "reviews",
    "notices",
    "outbox",
    "audit_log",
    "reviewers",
    "queues",
    "routing_rules",
    "decision_type_policies",
    "model_suspensions",
    "subject_restrictions",
    "subject_objections",
    "rectifications",
    "idempotency_keys",
    "breaches",
    "breach_steps",
];

type AppealState = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    chrono::NaiveDateTime,
    chrono::NaiveDateTime,
    chrono::NaiveDateTime,
);
type DecisionState = (String, String, String, String, String, chrono::NaiveDateTime);

/// Row counts of every table a write can touch, and the server-controlled columns of every
/// decision and appeal.
#[derive(Debug, PartialEq)]
struct Snapshot {
    counts: Vec<(String, i64)>,
    decisions: Vec<DecisionState>,
    appeals: Vec<AppealState>,
}

async fn snapshot(app: &TestApp) -> Snapshot {
    app.with_db(|c| {
        use recourse::db::schema::{appeals::dsl as a, decisions::dsl as d};
        let mut counts = Vec::new();
        for table in TABLES {
            let row: Count = diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}")).get_result(c)?;
            counts.push(((*table).to_owned(), row.n));
        }
        let decisions = d::decisions
            .select((
                d::id,
                d::engine_id,
                d::subject_id,
                d::status,
                d::effective_outcome,
                d::received_at,
            ))
            .order(d::id)
            .load(c)?;
        let appeals = a::appeals
            .select((
                a::id,
                a::subject_id,
                a::status,
                a::filed_by,
                a::reviewer_id,
                a::lease_token,
                a::received_at,
                a::due_at,
                a::updated_at,
            ))
            .order(a::id)
            .load(c)?;
        Ok(Snapshot {
            counts,
            decisions,
            appeals,
        })
    })
    .await
}

async fn send(app: &TestApp, method: &str, path: &str, token: &str, body: &Value) -> reqwest::Response {
    app.client
        .request(Method::from_bytes(method.as_bytes()).unwrap(), app.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// Sends `body` with each of `injected` added in turn (422 at that property, database
/// unchanged), then `body` itself, which must answer `success`. Returns the success body.
async fn refused_then_accepted(
    app: &TestApp,
    (method, path): (&str, &str),
    token: &str,
    body: Value,
    injected: &[(&str, Value)],
    success: StatusCode,
) -> Value {
    let before = snapshot(app).await;
    for (field, value) in injected {
        let mut forged = body.clone();
        forged[*field] = value.clone();
        let res = send(app, method, path, token, &forged).await;
        let status = res.status();
        let problem: Value = res.json().await.unwrap();
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{method} {path} with {field}: {problem}"
        );
        assert_eq!(problem["code"], "validation_failed");
        assert_eq!(pointers(&problem), [format!("/{field}")], "{method} {path}: {problem}");
        assert_eq!(
            snapshot(app).await,
            before,
            "{method} {path} with {field} changed the database"
        );
    }
    let res = send(app, method, path, token, &body).await;
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, success, "{method} {path} without injected fields: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

fn at() -> Value {
    json!("2020-01-01T00:00:00Z")
}

#[tokio::test]
async fn server_controlled_properties_in_bodies_are_refused_and_change_nothing() {
    let app = spawn_app_with(|s| {
        s.webhooks.allow = vec!["127.0.0.1/32".parse().unwrap()];
        s.webhooks.poll_interval = std::time::Duration::from_secs(3600);
    })
    .await;
    let admin = app.token_for(Role::Admin);
    let supervisor = app.token_for(Role::Supervisor);
    let dpo = app.token_for(Role::Dpo);
    let engine = app.token(Role::Engine, "engine-1");
    let subject = app.token(Role::Subject, "subject-1");
    let reviewer = app.token(Role::Reviewer, "rev");

    refused_then_accepted(
        &app,
        ("POST", "/v1/engines"),
        &admin,
        json!({"id": "engine-1", "name": "Scoring"}),
        &[
            ("status", json!("active")),
            ("created_at", at()),
            ("secret", json!("s")),
        ],
        StatusCode::CREATED,
    )
    .await;
    refused_then_accepted(
        &app,
        ("POST", "/v1/engines/engine-1/endpoints"),
        &admin,
        json!({"url": "http://127.0.0.1:9/hook"}),
        &[
            ("id", json!("ep-1")),
            ("engine_id", json!("engine-2")),
            ("secret", json!("whsec_chosen")),
            ("status", json!("active")),
        ],
        StatusCode::CREATED,
    )
    .await;
    for (path, body, fields) in [
        (
            "/v1/reviewers/rev",
            json!({"authorities": ["credit_limit"], "capacity": 5}),
            vec![("id", json!("boss")), ("created_at", at()), ("active_leases", json!(0))],
        ),
        (
            "/v1/queues/fast",
            json!({"description": "Fast lane"}),
            vec![("name", json!("other")), ("updated_at", at())],
        ),
        (
            "/v1/policies/credit_limit",
            json!({"requires_approval": true}),
            vec![("decision_type", json!("fraud_flag")), ("updated_at", at())],
        ),
    ] {
        refused_then_accepted(&app, ("PUT", path), &admin, body, &fields, StatusCode::OK).await;
    }
    app.configure_reviewer("rev-2", &["credit_limit"], 5).await;
    refused_then_accepted(
        &app,
        ("POST", "/v1/models/other-model/suspension"),
        &admin,
        json!({"reason": "Drift on the March cohort"}),
        &[
            ("suspended_by", json!("someone")),
            ("suspended_at", at()),
            ("model", json!("limits")),
        ],
        StatusCode::CREATED,
    )
    .await;

    let decision = refused_then_accepted(
        &app,
        ("POST", "/v1/decisions"),
        &engine,
        decision_body("d-1", "subject-1"),
        &[
            ("id", json!("0190c8b2-0000-7000-8000-000000000000")),
            ("status", json!("overturned")),
            ("effective_outcome", json!("approved")),
            ("engine_id", json!("engine-2")),
            ("received_at", at()),
            ("created_at", at()),
            ("payload_hash", json!("00")),
        ],
        StatusCode::CREATED,
    )
    .await;
    let decision = decision["id"].as_str().unwrap().to_owned();
    // Nested: the explanation is checked as strictly as the top level.
    let before = snapshot(&app).await;
    for (parent, field) in [
        ("explanation", "status"),
        ("model", "approved_by"),
        ("model", "suspended"),
    ] {
        let mut nested = decision_body("d-nested", "subject-1");
        nested[parent][field] = json!("x");
        let res = send(&app, "POST", "/v1/decisions", &engine, &nested).await;
        let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(pointers(&problem), [format!("/{parent}/{field}")], "{problem}");
        assert_eq!(snapshot(&app).await, before);
    }

    refused_then_accepted(
        &app,
        ("POST", "/v1/decisions/batch"),
        &engine,
        json!({"decisions": [decision_body("d-2", "subject-2")]}),
        &[("engine_id", json!("engine-2")), ("received_at", at())],
        StatusCode::OK,
    )
    .await;
    // Inside a batch, an item with a forged property is reported by index and not stored.
    let before = snapshot(&app).await;
    let mut item = decision_body("d-3", "subject-3");
    item["status"] = json!("overturned");
    let res = send(
        &app,
        "POST",
        "/v1/decisions/batch",
        &engine,
        &json!({"decisions": [item]}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        (body["invalid"].as_u64(), body["created"].as_u64()),
        (Some(1), Some(0)),
        "{body}"
    );
    assert_eq!(snapshot(&app).await, before);

    let appeal = refused_then_accepted(
        &app,
        ("POST", &format!("/v1/decisions/{decision}/appeals")),
        &subject,
        appeal_body(),
        &[
            ("id", json!("0190c8b2-0000-7000-8000-000000000001")),
            ("status", json!("decided")),
            ("subject_id", json!("subject-2")),
            ("decision_id", json!("another")),
            ("filed_by", json!("agent")),
            ("filed_by_role", json!("agent")),
            ("reviewer", json!("rev")),
            ("reviewer_id", json!("rev")),
            ("queue", json!("fast")),
            ("priority", json!(100)),
            ("received_at", at()),
            ("due_at", json!("2099-01-01T00:00:00Z")),
            ("created_at", at()),
        ],
        StatusCode::CREATED,
    )
    .await;
    let appeal = appeal["id"].as_str().unwrap().to_owned();
    let appeal_path = format!("/v1/appeals/{appeal}");
    refused_then_accepted(
        &app,
        ("POST", &format!("{appeal_path}/extension")),
        &supervisor,
        json!({"months": 1, "reason": "Awaiting the employer's reply"}),
        &[
            ("due_at", json!("2099-01-01T00:00:00Z")),
            ("status", json!("queued")),
            ("received_at", at()),
        ],
        StatusCode::OK,
    )
    .await;

    let (claimed, token, _) = app.claim("rev").await.unwrap();
    assert_eq!(claimed, appeal);
    refused_then_accepted(
        &app,
        ("POST", &format!("{appeal_path}/lease/heartbeat")),
        &reviewer,
        json!({"lease_token": token}),
        &[
            ("lease_expires_at", json!("2099-01-01T00:00:00Z")),
            ("reviewer_id", json!("rev-2")),
        ],
        StatusCode::OK,
    )
    .await;
    let reviewed = refused_then_accepted(
        &app,
        ("POST", &format!("{appeal_path}/review")),
        &reviewer,
        review_body(&token, "overturn"),
        &[
            ("reviewer", json!("rev-2")),
            ("reviewer_id", json!("rev-2")),
            ("status", json!("decided")),
            ("decided_at", at()),
            ("appeal_id", json!("another")),
            ("id", json!("r-1")),
            ("approved_by", json!("supervisor")),
        ],
        StatusCode::OK,
    )
    .await;
    assert_eq!(reviewed["status"], "awaiting_approval");
    refused_then_accepted(
        &app,
        ("POST", &format!("{appeal_path}/approval")),
        &supervisor,
        json!({"decision": "approve"}),
        &[
            ("reviewer", json!("supervisor")),
            ("status", json!("decided")),
            ("approved_at", at()),
        ],
        StatusCode::OK,
    )
    .await;
    // The stored review names the reviewer from the token, not from any body.
    let reviewers: Vec<String> = app
        .with_db(|c| {
            use recourse::db::schema::reviews::dsl as r;
            r::reviews.select(r::reviewer_id).load(c)
        })
        .await;
    assert_eq!(reviewers, ["rev"]);

    let subject_path = "/v1/subjects/subject-1";
    refused_then_accepted(
        &app,
        ("POST", &format!("{subject_path}/objection")),
        &subject,
        json!({"scope": "profiling", "grounds": "I do not want automated credit scoring"}),
        &[
            ("subject_id", json!("subject-2")),
            ("status", json!("overridden")),
            ("compelling_grounds", json!("none")),
            ("created_at", at()),
        ],
        StatusCode::OK,
    )
    .await;
    refused_then_accepted(
        &app,
        ("POST", &format!("{subject_path}/objection/compelling-grounds")),
        &dpo,
        json!({"scope": "profiling", "grounds": "Legal obligation to assess affordability"}),
        &[("overridden_by", json!("admin")), ("overridden_at", at())],
        StatusCode::OK,
    )
    .await;
    let rect = refused_then_accepted(
        &app,
        ("POST", &format!("{subject_path}/rectifications")),
        &subject,
        json!({"decision_id": decision, "corrected_inputs": {"annual_income": 41000}, "note": "Payslips attached"}),
        &[
            ("id", json!("rect-1")),
            ("status", json!("accepted")),
            ("subject_id", json!("subject-2")),
            ("resolved_by", json!("dpo")),
        ],
        StatusCode::CREATED,
    )
    .await;
    refused_then_accepted(
        &app,
        (
            "POST",
            &format!(
                "{subject_path}/rectifications/{}/resolution",
                rect["id"].as_str().unwrap()
            ),
        ),
        &dpo,
        json!({"accept": false, "note": "The payslips are for another person"}),
        &[
            ("status", json!("accepted")),
            ("resolved_by", json!("someone")),
            ("resolved_at", at()),
        ],
        StatusCode::OK,
    )
    .await;
    refused_then_accepted(
        &app,
        ("POST", "/v1/subjects/subject-2/restriction"),
        &dpo,
        json!({"reason": "Accuracy contested by phone"}),
        &[
            ("subject_id", json!("subject-1")),
            ("restricted_at", at()),
            ("restricted_by", json!("x")),
        ],
        StatusCode::OK,
    )
    .await;
    refused_then_accepted(
        &app,
        ("POST", "/v1/subjects/subject-2/erasure"),
        &dpo,
        json!({"reason": "Art. 17 request by letter"}),
        &[("subject_id", json!("subject-1")), ("erased_at", at())],
        StatusCode::OK,
    )
    .await;
    refused_then_accepted(
        &app,
        ("POST", "/v1/breaches"),
        &app.token_for(Role::Agent),
        json!({"description": "Case notes were emailed to the wrong customer"}),
        &[
            ("id", json!("breach-1")),
            ("status", json!("dismissed")),
            ("reported_by", json!("someone-else")),
            ("reported_at", at()),
            ("notify_authority_by", at()),
            ("overdue", json!(false)),
        ],
        StatusCode::CREATED,
    )
    .await;
    let listed: Value = app
        .client
        .get(app.url("/v1/breaches"))
        .bearer_auth(&dpo)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let breach = listed["items"][0]["id"].as_str().unwrap().to_owned();
    refused_then_accepted(
        &app,
        ("POST", &format!("/v1/breaches/{breach}/transitions")),
        &dpo,
        json!({"to": "confirmed", "note": "Confirmed with the sender"}),
        &[
            ("from", json!("authority_notified")),
            ("status", json!("subjects_notified")),
            ("at", at()),
            ("authority_notified_at", at()),
            ("by", json!("someone-else")),
        ],
        StatusCode::OK,
    )
    .await;
}

#[tokio::test]
async fn server_controlled_properties_in_query_strings_are_refused() {
    let app = spawn_app_with(|_| {}).await;
    app.configure_reviewer("rev", &["credit_limit"], 5).await;
    let appeal = app.queued_appeal("q-1", "subject-1").await;
    let before = snapshot(&app).await;
    for query in [
        "reviewer=rev-2",
        "reviewer_id=rev-2",
        "status=decided",
        "lease_expires_at=2099-01-01",
    ] {
        let res = app
            .client
            .post(app.url(&format!("/v1/queue/claim?appeal_id={appeal}&{query}")))
            .bearer_auth(app.token(Role::Reviewer, "rev"))
            .send()
            .await
            .unwrap();
        assert_problem(res, StatusCode::BAD_REQUEST, "invalid_query").await;
        assert_eq!(snapshot(&app).await, before, "{query}");
    }
}
