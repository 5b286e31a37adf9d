use diesel::connection::SimpleConnection;
use recourse::domain::Role;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{assert_problem, decision_body, spawn_app};

#[tokio::test]
async fn unknown_routes_are_404_and_wrong_methods_405_as_problems() {
    let app = spawn_app().await;
    let res = app.client.get(app.url("/no/such/route")).send().await.unwrap();
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = app.client.delete(app.url("/v1/decisions")).send().await.unwrap();
    assert_problem(res, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
    let res = app.client.post(app.url("/healthz")).send().await.unwrap();
    assert_problem(res, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
}

#[tokio::test]
async fn malformed_json_is_400_and_says_where() {
    let app = spawn_app().await;
    app.register_engine("engine-1").await;
    let res = app
        .client
        .post(app.url("/v1/decisions"))
        .bearer_auth(app.token(Role::Engine, "engine-1"))
        .header("content-type", "application/json")
        .body("{\n  \"external_id\": \"a\",\n  oops\n}")
        .send()
        .await
        .unwrap();
    let body = assert_problem(res, StatusCode::BAD_REQUEST, "malformed_json").await;
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("line 3 column"), "{detail}");
}

/// serde reads a struct from an array of its fields in order; the contract says object.
#[tokio::test]
async fn an_array_or_a_scalar_where_an_object_belongs_is_422_and_changes_nothing() {
    let app = spawn_app().await;
    let admin = app.token(Role::Admin, "admin-1");
    for body in [
        serde_json::json!([]),
        serde_json::json!(["described", true, []]),
        serde_json::json!("x"),
    ] {
        let res = app.put_json("/v1/queues/fraud", &admin, &body).await;
        let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(problem["errors"][0]["pointer"], "", "{body}: {problem}");
        let res = app
            .post_json("/v1/engines", &admin, &serde_json::json!(["acme", "Acme"]))
            .await;
        assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    }
    let queues: Value = app.get("/v1/queues", &admin).await.json().await.unwrap();
    assert!(
        queues["items"].as_array().unwrap().iter().all(|q| q["name"] != "fraud"),
        "{queues}"
    );
    let engines: Value = app.get("/v1/engines", &admin).await.json().await.unwrap();
    assert_eq!(engines["items"].as_array().map(Vec::len), Some(0), "{engines}");
}

#[tokio::test]
async fn a_huge_body_is_413_before_it_is_read() {
    let app = spawn_app().await;
    app.register_engine("engine-1").await;
    let mut body = decision_body("big", "subject-1");
    body["explanation"]["inputs"]["blob"] = Value::String("x".repeat(200 * 1024));
    let res = app.post_decision("engine-1", &body).await;
    assert_problem(res, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    assert_eq!(app.decision_count().await, 0);
}

#[tokio::test]
async fn a_huge_chunked_body_is_413_too() {
    let app = spawn_app().await;
    app.register_engine("engine-1").await;
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = (0..100).map(|_| Ok(vec![b' '; 1024])).collect();
    let res = app
        .client
        .post(app.url("/v1/decisions"))
        .bearer_auth(app.token(Role::Engine, "engine-1"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
}

#[tokio::test]
async fn a_wrong_content_type_is_415() {
    let app = spawn_app().await;
    app.register_engine("engine-1").await;
    for content_type in [None, Some("text/plain"), Some("application/x-www-form-urlencoded")] {
        let mut req = app
            .client
            .post(app.url("/v1/decisions"))
            .bearer_auth(app.token(Role::Engine, "engine-1"))
            .body(decision_body("a", "s").to_string());
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let res = req.send().await.unwrap();
        assert_problem(res, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type").await;
    }
    assert_eq!(app.decision_count().await, 0);
}

#[tokio::test]
async fn a_broken_database_gives_an_opaque_500() {
    let app = spawn_app().await;
    app.register_engine("engine-1").await;
    let decision = app.seed_decision("a-1", "subject-1").await;
    app.with_db(|c| c.batch_execute("ALTER TABLE decisions RENAME TO decisions_broken"))
        .await;
    let res = app
        .get(
            &format!("/v1/decisions/{}", decision["id"].as_str().unwrap()),
            &app.token_for(Role::Dpo),
        )
        .await;
    let body = assert_problem(res, StatusCode::INTERNAL_SERVER_ERROR, "internal_error").await;
    assert!(body.get("detail").is_none(), "{body}");
    let text = body.to_string();
    assert!(!text.contains("decisions") && !text.contains("table"), "{text}");
}
