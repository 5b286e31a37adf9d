//! The transparency report, checked against seeded appeals.

use recourse::domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{assert_problem, review_body, spawn_app};

#[tokio::test]
async fn the_transparency_report_counts_what_happened_to_appeals() {
    let app = spawn_app().await;
    app.configure_reviewer("rev-1", &["credit_limit"], 5).await;
    let first = app.queued_appeal("t-1", "s-1").await;
    let second = app.queued_appeal("t-2", "s-2").await;
    app.queued_appeal("t-3", "s-3").await;
    let res = app
        .post_json(
            &format!("/v1/appeals/{second}/extension"),
            &app.token_for(Role::Supervisor),
            &json!({"months": 1, "reason": "records"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    for (appeal, outcome) in [(&first, "overturn"), (&second, "uphold")] {
        let res = app
            .client
            .post(app.url(&format!("/v1/queue/claim?appeal_id={appeal}")))
            .bearer_auth(app.token(Role::Reviewer, "rev-1"))
            .send()
            .await
            .unwrap();
        let claimed: Value = res.json().await.unwrap();
        assert_eq!(claimed["appeal"]["id"], appeal.as_str());
        let token = claimed["lease"]["token"].as_str().unwrap();
        assert_eq!(
            app.review("rev-1", appeal, &review_body(token, outcome)).await.status(),
            StatusCode::OK
        );
    }

    let report: Value = app
        .get("/v1/reports/transparency", &app.token_for(Role::Dpo))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["appeals_received"], 3);
    assert_eq!(report["by_decision_type"]["credit_limit"], 3);
    assert_eq!(report["by_ground"]["inaccurate_data"], 3);
    assert_eq!(report["outcomes"], json!({"overturn": 1, "uphold": 1, "pending": 1}));
    assert_eq!(report["reversed"], 1);
    assert_eq!(report["reversal_rate"], 0.5);
    assert_eq!(report["decided_within_deadline"], 1.0);
    assert_eq!(report["extensions_used"], 1);
    assert!(report["median_handling_hours"].as_f64().unwrap() < 1.0);

    let csv = app
        .get("/v1/reports/transparency?format=csv", &app.token_for(Role::Supervisor))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        csv.starts_with("metric,value\n") && csv.contains("appeals_received,3\n") && csv.contains("reversed,1\n"),
        "{csv}"
    );
    let empty: Value = app
        .get(
            "/v1/reports/transparency?from=2020-01-01T00:00:00Z&to=2020-02-01T00:00:00Z",
            &app.token_for(Role::Admin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(empty["appeals_received"], 0);
    assert_problem(
        app.get("/v1/reports/transparency", &app.token_for(Role::Reviewer))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_problem(
        app.get("/v1/reports/transparency?format=xml", &app.token_for(Role::Dpo))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn the_reviewer_report_shows_agreement_and_time_per_case() {
    let app = spawn_app().await;
    app.configure_reviewer("rev-1", &["credit_limit"], 5).await;
    for (i, outcome) in ["uphold", "overturn", "uphold"].iter().enumerate() {
        let appeal = app.queued_appeal(&format!("rr-{i}"), &format!("s-{i}")).await;
        let (claimed, token, _) = app.claim("rev-1").await.unwrap();
        assert_eq!(claimed, appeal);
        app.review("rev-1", &appeal, &review_body(&token, outcome)).await;
    }
    let report: Value = app
        .get("/v1/reports/reviewers", &app.token_for(Role::Supervisor))
        .await
        .json()
        .await
        .unwrap();
    let line = &report["items"][0];
    assert_eq!(line["reviewer_id"], "rev-1");
    assert_eq!(line["reviews"], 3);
    assert!((line["agreement_with_model"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-9);
    assert!(line["median_seconds_per_case"].as_f64().unwrap() < 60.0);
    assert_eq!(
        line["possible_rubber_stamping"], false,
        "three reviews are too few to judge"
    );
    assert_problem(
        app.get("/v1/reports/reviewers", &app.token_for(Role::Reviewer)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}
