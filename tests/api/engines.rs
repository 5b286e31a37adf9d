use recourse::domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{assert_problem, pointers, spawn_app};

#[tokio::test]
async fn admin_registers_and_lists_engines() {
    let app = spawn_app().await;
    app.register_engine("acme-credit").await;
    app.register_engine("fraud-shield").await;
    let res = app.get("/v1/engines", &app.token_for(Role::Admin)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    let ids: Vec<_> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["acme-credit", "fraud-shield"]);
}

#[tokio::test]
async fn registering_an_engine_twice_is_a_conflict() {
    let app = spawn_app().await;
    app.register_engine("acme").await;
    let res = app
        .post_json(
            "/v1/engines",
            &app.token_for(Role::Admin),
            &json!({"id": "acme", "name": "again"}),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "engine_exists").await;
}

#[tokio::test]
async fn only_admins_manage_engines() {
    let app = spawn_app().await;
    for role in [
        Role::Engine,
        Role::Agent,
        Role::Reviewer,
        Role::Supervisor,
        Role::Dpo,
        Role::Subject,
    ] {
        let token = app.token_for(role);
        let res = app
            .post_json("/v1/engines", &token, &json!({"id": "x", "name": "x"}))
            .await;
        assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
        let res = app.get("/v1/engines", &token).await;
        assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    }
}

#[tokio::test]
async fn an_engine_token_for_an_unregistered_engine_is_refused() {
    let app = spawn_app().await;
    let res = app
        .post_decision("ghost-engine", &crate::helpers::decision_body("a-1", "s-1"))
        .await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    assert_eq!(app.decision_count().await, 0);
}

#[tokio::test]
async fn invalid_engine_ids_are_rejected_with_pointers() {
    let app = spawn_app().await;
    let res = app
        .post_json(
            "/v1/engines",
            &app.token_for(Role::Admin),
            &json!({"id": "has space", "name": ""}),
        )
        .await;
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let pointers = pointers(&body);
    assert_eq!(pointers, ["/id", "/name"]);
}
