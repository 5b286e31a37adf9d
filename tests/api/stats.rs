//! Model statistics and label export, checked against a seeded set of decisions and reviews.

use std::collections::HashMap;

use recourse::domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, decision_body, review_body, spawn_app};

struct Seed {
    external_id: &'static str,
    day: u32,
    codes: &'static [&'static str],
    version: &'static str,
    model: &'static str,
    /// The review outcome, when the decision is appealed.
    review: Option<&'static str>,
}

const SEEDS: &[Seed] = &[
    Seed {
        external_id: "d1",
        day: 1,
        codes: &["D01", "D07"],
        version: "3.2.0",
        model: "limits",
        review: Some("overturn"),
    },
    Seed {
        external_id: "d2",
        day: 1,
        codes: &["D01"],
        version: "3.2.0",
        model: "limits",
        review: Some("uphold"),
    },
    Seed {
        external_id: "d3",
        day: 2,
        codes: &["D07"],
        version: "3.2.0",
        model: "limits",
        review: Some("amend"),
    },
    Seed {
        external_id: "d4",
        day: 2,
        codes: &["D01"],
        version: "3.2.0",
        model: "limits",
        review: None,
    },
    Seed {
        external_id: "d5",
        day: 2,
        codes: &["D01"],
        version: "3.1.0",
        model: "limits",
        review: Some("uphold"),
    },
    Seed {
        external_id: "d6",
        day: 2,
        codes: &["D01"],
        version: "1",
        model: "fraud",
        review: Some("overturn"),
    },
];

async fn seed(app: &TestApp) {
    app.register_engine("engine-1").await;
    app.configure_reviewer("rev-1", &["credit_limit"], 10).await;
    let mut review_for: HashMap<String, &'static str> = HashMap::new();
    for (i, s) in SEEDS.iter().enumerate() {
        let mut body = decision_body(s.external_id, &format!("subject-{i}"));
        body["decided_at"] = json!(format!("2026-11-0{}T10:00:00Z", s.day));
        body["model"] = json!({"name": s.model, "version": s.version});
        body["explanation"]["reason_codes"] = json!(
            s.codes
                .iter()
                .map(|c| json!({"code": c, "text": format!("Reason {c}")}))
                .collect::<Vec<_>>()
        );
        let res = app.post_decision("engine-1", &body).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
        if let Some(outcome) = s.review {
            let res = app.file_appeal_as_subject(&id, &format!("subject-{i}")).await;
            assert_eq!(res.status(), StatusCode::CREATED);
            review_for.insert(id, outcome);
        }
    }
    while let Some((appeal, token, body)) = app.claim("rev-1").await {
        let outcome = review_for[body["appeal"]["decision_id"].as_str().unwrap()];
        let mut review = review_body(&token, outcome);
        if outcome == "overturn" {
            review["rectified_inputs"] = json!({"annual_income": 41000});
        }
        let res = app.review("rev-1", &appeal, &review).await;
        assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    }
}

async fn stats(app: &TestApp, query: &str) -> Value {
    let res = app
        .get(
            &format!("/v1/models/limits/stats?{query}"),
            &app.token_for(Role::Supervisor),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    res.json().await.unwrap()
}

#[tokio::test]
async fn statistics_match_the_seeded_data() {
    let app = spawn_app().await;
    seed(&app).await;
    let s = stats(
        &app,
        "version=3.2.0&from=2026-11-01T00:00:00Z&to=2026-11-03T00:00:00Z&bucket=day",
    )
    .await;
    let t = &s["totals"];
    assert_eq!(
        (
            t["decisions"].clone(),
            t["appeals"].clone(),
            t["upheld"].clone(),
            t["overturned"].clone(),
            t["amended"].clone()
        ),
        (json!(4), json!(3), json!(1), json!(1), json!(1))
    );
    assert_eq!(t["appeal_rate"], 0.75);
    assert!((t["overturned_rate"].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-9);
    assert!(s["median_filing_to_decision_seconds"].as_f64().unwrap() >= 0.0);

    let buckets = s["buckets"].as_array().unwrap();
    assert_eq!(buckets.len(), 2);
    assert_eq!(buckets[0]["start"], "2026-11-01T00:00:00Z");
    assert_eq!(
        (buckets[0]["decisions"].clone(), buckets[0]["appeals"].clone()),
        (json!(2), json!(2))
    );
    assert_eq!(
        (buckets[0]["upheld"].clone(), buckets[0]["overturned"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(buckets[1]["start"], "2026-11-02T00:00:00Z");
    assert_eq!(
        (buckets[1]["decisions"].clone(), buckets[1]["amended"].clone()),
        (json!(2), json!(1))
    );

    let codes: HashMap<String, Value> = s["by_reason_code"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["code"].as_str().unwrap().to_owned(), c.clone()))
        .collect();
    assert_eq!(codes.len(), 2);
    assert_eq!(
        (codes["D01"]["decisions"].clone(), codes["D01"]["appeals"].clone()),
        (json!(3), json!(2))
    );
    assert_eq!(
        (codes["D01"]["upheld"].clone(), codes["D01"]["overturned"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(
        (codes["D07"]["decisions"].clone(), codes["D07"]["amended"].clone()),
        (json!(2), json!(1))
    );

    // All versions; and a window that excludes day 1.
    let all = stats(&app, "from=2026-11-01T00:00:00Z&to=2026-11-03T00:00:00Z").await;
    assert_eq!(
        (all["totals"]["decisions"].clone(), all["totals"]["upheld"].clone()),
        (json!(5), json!(2))
    );
    let day2 = stats(&app, "version=3.2.0&from=2026-11-02T00:00:00Z&to=2026-11-03T00:00:00Z").await;
    assert_eq!(day2["totals"]["decisions"], 2);
    let empty = stats(&app, "version=9&from=2026-11-01T00:00:00Z&to=2026-11-03T00:00:00Z").await;
    assert_eq!(empty["totals"]["decisions"], 0);
    assert_eq!(empty["totals"]["appeal_rate"], Value::Null);

    let res = app
        .get("/v1/models/limits/stats?bucket=week", &app.token_for(Role::Admin))
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let res = app.get("/v1/models/limits/stats", &app.token_for(Role::Subject)).await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    // An engine sees only its own decisions.
    let res = app
        .get(
            "/v1/models/limits/stats?from=2026-11-01T00:00:00Z&to=2026-11-03T00:00:00Z",
            &app.token(Role::Engine, "other"),
        )
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["totals"]["decisions"], 0);
}

#[tokio::test]
async fn labels_stream_one_line_per_reviewed_decision() {
    let app = spawn_app().await;
    seed(&app).await;
    let res = app
        .get(
            "/v1/feedback/labels.jsonl?model=limits",
            &app.token(Role::Engine, "engine-1"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/x-ndjson");
    let text = res.text().await.unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(
        lines.len(),
        4,
        "d1, d2, d3, d5 were reviewed; d4 was not; d6 is another model"
    );
    let by_id: HashMap<&str, &Value> = lines.iter().map(|l| (l["external_id"].as_str().unwrap(), l)).collect();
    let d1 = by_id["d1"];
    assert_eq!(d1["original_outcome"], "declined");
    assert_eq!(d1["human_outcome"], "approved");
    assert_eq!(d1["review_outcome"], "overturn");
    assert_eq!(d1["inputs"]["annual_income"], 41000, "rectified value applied");
    assert_eq!(d1["inputs"]["months_at_address"], 4);
    assert_eq!(d1["rectified"], json!(["annual_income"]));
    assert_eq!(d1["model"], json!({"name": "limits", "version": "3.2.0"}));
    assert!(d1["reason"].as_str().unwrap().starts_with("Payslips"));
    let d2 = by_id["d2"];
    assert_eq!(
        (d2["human_outcome"].clone(), d2["inputs"]["annual_income"].clone()),
        (json!("declined"), json!(28000))
    );
    assert_eq!(by_id["d3"]["review_outcome"], "amend");
    assert_eq!(by_id["d5"]["model"]["version"], "3.1.0");

    // since: nothing reviewed in the future; another engine sees nothing; subjects may not export.
    let res = app
        .get(
            "/v1/feedback/labels.jsonl?since=2099-01-01T00:00:00Z",
            &app.token_for(Role::Admin),
        )
        .await;
    assert_eq!(res.text().await.unwrap(), "");
    let res = app
        .get("/v1/feedback/labels.jsonl", &app.token(Role::Engine, "other"))
        .await;
    assert_eq!(res.text().await.unwrap(), "");
    let res = app.get("/v1/feedback/labels.jsonl", &app.token_for(Role::Admin)).await;
    assert_eq!(res.text().await.unwrap().lines().count(), 5);
    let res = app
        .get("/v1/feedback/labels.jsonl", &app.token_for(Role::Subject))
        .await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
}
