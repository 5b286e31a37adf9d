//! The kill switch (AI Act Art. 26(5)): a suspended model's new decisions wait for a human.

use recourse::domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{assert_problem, decision_body, review_body, spawn_app};

#[tokio::test]
async fn a_suspended_models_decisions_are_queued_for_mandatory_review() {
    let app = spawn_app().await;
    let before = app.decision_for("before", "subject-0").await;
    let supervisor = app.token_for(Role::Supervisor);
    let res = app
        .post_json(
            "/v1/models/limits/suspension",
            &supervisor,
            &json!({"reason": "Drift alarm: approval rate fell 30% overnight"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["suspended"], true);
    let res = app
        .post_json("/v1/models/limits/suspension", &supervisor, &json!({"reason": "again"}))
        .await;
    assert_problem(res, StatusCode::CONFLICT, "already_suspended").await;

    // The decision made during suspension is stored, under review, and queued.
    let res = app
        .post_decision("engine-1", &decision_body("during", "subject-1"))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let decision: Value = res.json().await.unwrap();
    assert_eq!(decision["status"], "under_appeal");
    // Another model is unaffected.
    let mut other = decision_body("other-model", "subject-2");
    other["model"] = json!({"name": "fraud", "version": "1"});
    let res = app.post_decision("engine-1", &other).await;
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "effective");

    app.configure_reviewer("rev-1", &["credit_limit"], 5).await;
    let (appeal_id, token, claimed) = app.claim("rev-1").await.expect("the review task is claimable");
    assert_eq!(claimed["appeal"]["decision_id"], decision["id"]);
    assert_eq!(claimed["appeal"]["queue"], "mandatory_review");
    assert!(
        app.claim("rev-1").await.is_none(),
        "only the suspended model's decision is queued"
    );
    let res = app.review("rev-1", &appeal_id, &review_body(&token, "uphold")).await;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());

    // Lifting: audited, announced, and new decisions are effective again.
    let res = app
        .client
        .delete(app.url("/v1/models/limits/suspension"))
        .bearer_auth(&supervisor)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .post_decision("engine-1", &decision_body("after", "subject-3"))
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "effective");
    assert_eq!(app.audit_count("limits").await, 2);
    let types = app.outbox_types().await;
    for t in ["model.suspended", "decision.review_required", "model.suspension_lifted"] {
        assert_eq!(types.iter().filter(|x| *x == t).count(), 1, "{t}: {types:?}");
    }
    let res = app
        .client
        .delete(app.url("/v1/models/limits/suspension"))
        .bearer_auth(&supervisor)
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let _ = before;
}

#[tokio::test]
async fn only_oversight_roles_suspend_and_a_reason_is_required() {
    let app = spawn_app().await;
    for role in [Role::Engine, Role::Reviewer, Role::Agent, Role::Subject] {
        let res = app
            .post_json(
                "/v1/models/limits/suspension",
                &app.token_for(role),
                &json!({"reason": "x"}),
            )
            .await;
        assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    }
    let res = app
        .post_json(
            "/v1/models/limits/suspension",
            &app.token_for(Role::Admin),
            &json!({"reason": ""}),
        )
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}
