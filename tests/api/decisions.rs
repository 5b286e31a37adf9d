use recourse::domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{assert_problem, decision_body, pointers, spawn_app};

#[tokio::test]
async fn an_engine_posts_a_decision_and_readers_fetch_it() {
    let app = spawn_app().await;
    app.register_engine("engine-1").await;
    let res = app
        .post_decision("engine-1", &decision_body("app-1", "subject-1"))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let created: Value = res.json().await.unwrap();
    assert_eq!(location, format!("/v1/decisions/{}", created["id"].as_str().unwrap()));
    assert_eq!(created["status"], "effective");
    assert_eq!(created["effective_outcome"], "declined");
    assert_eq!(created["engine_id"], "engine-1");
    assert_eq!(created["model"], json!({"name": "limits", "version": "3.2.0"}));
    assert_eq!(
        created["explanation"],
        decision_body("app-1", "subject-1")["explanation"]
    );

    for (role, sub) in [
        (Role::Engine, "engine-1"),
        (Role::Agent, "agent-1"),
        (Role::Reviewer, "rev-1"),
        (Role::Supervisor, "sup-1"),
        (Role::Dpo, "dpo-1"),
        (Role::Subject, "subject-1"),
    ] {
        let res = app.get(&location, &app.token(role, sub)).await;
        assert_eq!(res.status(), StatusCode::OK, "{role}");
        let fetched: Value = res.json().await.unwrap();
        assert_eq!(fetched, created, "{role}");
    }
}

#[tokio::test]
async fn an_identical_repost_returns_the_original_and_a_different_one_conflicts() {
    let app = spawn_app().await;
    app.register_engine("engine-1").await;
    let body = decision_body("app-1", "subject-1");
    let first: Value = app.post_decision("engine-1", &body).await.json().await.unwrap();

    // Same content, written differently: the timestamp offset and key order change nothing.
    let mut same = body.clone();
    same["decided_at"] = json!("2026-11-01T11:00:00+01:00");
    let res = app.post_decision("engine-1", &same).await;
    assert_eq!(res.status(), StatusCode::OK);
    let again: Value = res.json().await.unwrap();
    assert_eq!(again["id"], first["id"]);

    let mut different = body.clone();
    different["outcome"] = json!("approved");
    let res = app.post_decision("engine-1", &different).await;
    let problem = assert_problem(res, StatusCode::CONFLICT, "decision_conflict").await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains(first["id"].as_str().unwrap())
    );
    assert_eq!(app.decision_count().await, 1);
}

#[tokio::test]
async fn the_same_external_id_from_two_engines_is_two_decisions() {
    let app = spawn_app().await;
    app.register_engine("engine-1").await;
    app.register_engine("engine-2").await;
    let body = decision_body("app-1", "subject-1");
    assert_eq!(app.post_decision("engine-1", &body).await.status(), StatusCode::CREATED);
    assert_eq!(app.post_decision("engine-2", &body).await.status(), StatusCode::CREATED);
    assert_eq!(app.decision_count().await, 2);
}

#[tokio::test]
async fn sixteen_concurrent_identical_posts_create_one_row() {
    let app = spawn_app().await;
    app.register_engine("engine-1").await;
    let body = decision_body("app-race", "subject-1");
    let token = app.token(Role::Engine, "engine-1");
    let requests = (0..16).map(|_| {
        let req = app
            .client
            .post(app.url("/v1/decisions"))
            .bearer_auth(&token)
            .json(&body);
        async move {
            let res = req.send().await.unwrap();
            let status = res.status();
            let json: Value = res.json().await.unwrap();
            (status, json["id"].as_str().map(str::to_owned))
        }
    });
    let results = futures_util::future::join_all(requests).await;
    let created = results.iter().filter(|(s, _)| *s == StatusCode::CREATED).count();
    let replayed = results.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    assert_eq!((created, replayed), (1, 15), "{results:?}");
    let ids: std::collections::HashSet<_> = results.iter().map(|(_, id)| id.clone().unwrap()).collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(app.decision_count().await, 1);
    assert_eq!(app.audit_count(ids.iter().next().unwrap()).await, 1);
}

#[tokio::test]
async fn a_batch_stores_valid_items_and_reports_invalid_ones_by_index() {
    let app = spawn_app().await;
    app.register_engine("engine-1").await;
    app.seed_decision("existing", "subject-9").await;
    let mut bad_score = decision_body("b-2", "subject-2");
    bad_score["score"] = json!("high");
    let mut conflicting = decision_body("existing", "subject-9");
    conflicting["outcome"] = json!("approved");
    let batch = json!({"decisions": [
        decision_body("b-0", "subject-1"),
        {"external_id": "b-1"},
        bad_score,
        decision_body("existing", "subject-9"),
        conflicting,
        decision_body("b-5", "subject-2"),
    ]});
    let res = app
        .post_json("/v1/decisions/batch", &app.token(Role::Engine, "engine-1"), &batch)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        (
            body["created"].as_u64(),
            body["existing"].as_u64(),
            body["conflict"].as_u64(),
            body["invalid"].as_u64()
        ),
        (Some(2), Some(1), Some(1), Some(2))
    );
    let statuses: Vec<_> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["created", "invalid", "invalid", "existing", "conflict", "created"]
    );
    assert_eq!(body["results"][1]["errors"][0]["pointer"], "/decisions/1/subject_id");
    assert_eq!(body["results"][2]["errors"][0]["pointer"], "/decisions/2/score");
    assert_eq!(app.decision_count().await, 3);
    for index in [0, 5] {
        let id = body["results"][index]["id"].as_str().unwrap();
        let res = app.get(&format!("/v1/decisions/{id}"), &app.token_for(Role::Dpo)).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn a_batch_must_hold_one_to_a_thousand_items() {
    let app = spawn_app().await;
    app.register_engine("engine-1").await;
    let token = app.token(Role::Engine, "engine-1");
    let res = app
        .post_json("/v1/decisions/batch", &token, &json!({"decisions": []}))
        .await;
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["errors"][0]["pointer"], "/decisions");
    let many: Vec<Value> = (0..1001).map(|i| json!({"external_id": format!("x{i}")})).collect();
    let res = app
        .post_json("/v1/decisions/batch", &token, &json!({"decisions": many}))
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(app.decision_count().await, 0);
}

#[tokio::test]
async fn a_full_batch_of_a_thousand_is_stored() {
    let app = spawn_app().await;
    app.register_engine("engine-1").await;
    let items: Vec<Value> = (0..1000)
        .map(|i| decision_body(&format!("bulk-{i}"), &format!("s-{}", i % 50)))
        .collect();
    let res = app
        .post_json(
            "/v1/decisions/batch",
            &app.token(Role::Engine, "engine-1"),
            &json!({"decisions": items}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["created"], 1000);
    assert_eq!(app.decision_count().await, 1000);
    assert_eq!(app.audit_total().await, 1 + 1000);
}

/// Each row: how to break a valid body, and the pointer the 422 must name.
#[tokio::test]
async fn every_validation_rule_answers_422_with_a_pointer() {
    let app = spawn_app().await;
    app.register_engine("engine-1").await;
    type Breaker = fn(&mut Value);
    let cases: Vec<(&str, Breaker)> = vec![
        ("/external_id", |b| {
            b.as_object_mut().unwrap().remove("external_id").map(drop).unwrap()
        }),
        ("/subject_id", |b| b["subject_id"] = json!("")),
        ("/subject_id", |b| b["subject_id"] = json!("x".repeat(129))),
        ("/decision_type", |b| b["decision_type"] = json!("credit limit!")),
        ("/outcome", |b| b["outcome"] = json!("  ")),
        ("/score", |b| b["score"] = json!("0.4")),
        ("/threshold", |b| b["threshold"] = json!([1])),
        ("/model/name", |b| b["model"]["name"] = json!("")),
        ("/model/version", |b| {
            b["model"].as_object_mut().unwrap().remove("version").map(drop).unwrap()
        }),
        ("/significant_effect", |b| b["significant_effect"] = json!("yes")),
        ("/decided_at", |b| b["decided_at"] = json!("yesterday")),
        ("/decided_at", |b| b["decided_at"] = json!("2999-01-01T00:00:00Z")),
        // Issue 13: impossible dates.
        ("/decided_at", |b| b["decided_at"] = json!("-0001-01-01T00:00:00Z")),
        ("/decided_at", |b| b["decided_at"] = json!("1969-12-31T23:59:59Z")),
        ("/decided_at", |b| b["decided_at"] = json!("+275000-01-01T00:00:00Z")),
        ("/explanation/inputs", |b| b["explanation"]["inputs"] = json!({})),
        ("/explanation/inputs/address", |b| {
            b["explanation"]["inputs"]["address"] = json!({"street": "x"})
        }),
        ("/explanation/inputs/notes", |b| {
            b["explanation"]["inputs"]["notes"] = json!("n".repeat(1025))
        }),
        ("/explanation/contributions/1/weight", |b| {
            b["explanation"]["contributions"][1]["weight"] = json!(null)
        }),
        ("/explanation/contributions/0/feature", |b| {
            b["explanation"]["contributions"][0]["feature"] = json!("")
        }),
        ("/explanation/reason_codes", |b| {
            b["explanation"]["reason_codes"] = json!(
                (0..5)
                    .map(|i| json!({"code": format!("R{i}"), "text": "specific"}))
                    .collect::<Vec<_>>()
            )
        }),
        ("/explanation/reason_codes/1/text", |b| {
            b["explanation"]["reason_codes"][1]["text"] = json!("")
        }),
        ("/explanation/reason_codes/0/code", |b| {
            b["explanation"]["reason_codes"][0]["code"] = json!("")
        }),
        ("/explanation/counterfactual", |b| {
            b["explanation"]["counterfactual"] = json!({})
        }),
        ("/explanation/surprise", |b| b["explanation"]["surprise"] = json!(1)),
        ("/unexpected", |b| b["unexpected"] = json!(true)),
    ];
    for (pointer, breaker) in cases {
        let mut body = decision_body("v-1", "subject-1");
        breaker(&mut body);
        let res = app.post_decision("engine-1", &body).await;
        let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        let pointers = pointers(&problem);
        assert!(
            pointers.iter().any(|p| p == pointer),
            "expected {pointer}, got {pointers:?}"
        );
    }
    assert_eq!(app.decision_count().await, 0);
}

#[tokio::test]
async fn a_score_too_large_for_a_double_is_a_422_at_the_field() {
    let app = spawn_app().await;
    app.register_engine("engine-1").await;
    let raw = decision_body("v-1", "subject-1")
        .to_string()
        .replace("\"score\":0.41", "\"score\":1e999");
    assert!(raw.contains("1e999"));
    let res = app
        .client
        .post(app.url("/v1/decisions"))
        .bearer_auth(app.token(Role::Engine, "engine-1"))
        .header("content-type", "application/json")
        .body(raw)
        .send()
        .await
        .unwrap();
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(problem["errors"][0]["pointer"], "/score");
}

#[tokio::test]
async fn subjects_see_only_their_own_decisions() {
    let app = spawn_app().await;
    app.register_engine("engine-1").await;
    let mine = app.seed_decision("a-1", "subject-1").await;
    let theirs = app.seed_decision("a-2", "subject-2").await;
    let me = app.token(Role::Subject, "subject-1");

    let res = app
        .get(&format!("/v1/decisions/{}", mine["id"].as_str().unwrap()), &me)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .get(&format!("/v1/decisions/{}", theirs["id"].as_str().unwrap()), &me)
        .await;
    let body = assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    assert!(!body.to_string().contains("subject-2"));

    let res = app.get("/v1/subjects/subject-2/decisions", &me).await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = app.get("/v1/subjects/subject-1/decisions", &me).await;
    let page: Value = res.json().await.unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["id"], mine["id"]);
}

#[tokio::test]
async fn engines_see_only_their_own_decisions() {
    let app = spawn_app().await;
    app.register_engine("engine-1").await;
    app.register_engine("engine-2").await;
    let decision = app.seed_decision("a-1", "subject-1").await;
    let other = app.token(Role::Engine, "engine-2");
    let res = app
        .get(&format!("/v1/decisions/{}", decision["id"].as_str().unwrap()), &other)
        .await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let page: Value = app
        .get("/v1/subjects/subject-1/decisions", &other)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"], json!([]));
}

#[tokio::test]
async fn admins_do_not_read_decisions() {
    let app = spawn_app().await;
    app.register_engine("engine-1").await;
    let decision = app.seed_decision("a-1", "subject-1").await;
    let res = app
        .get(
            &format!("/v1/decisions/{}", decision["id"].as_str().unwrap()),
            &app.token_for(Role::Admin),
        )
        .await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
}

#[tokio::test]
async fn a_subjects_decisions_page_by_cursor_without_gaps() {
    let app = spawn_app().await;
    app.register_engine("engine-1").await;
    let mut expected = Vec::new();
    for i in 0..7 {
        expected.push(
            app.seed_decision(&format!("p-{i}"), "subject-1").await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    app.seed_decision("other", "subject-2").await;
    let agent = app.token_for(Role::Agent);
    let mut seen = Vec::new();
    let mut path = "/v1/subjects/subject-1/decisions?limit=3".to_owned();
    loop {
        let page: Value = app.get(&path, &agent).await.json().await.unwrap();
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["id"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/subjects/subject-1/decisions?limit=3&after={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn an_unknown_decision_is_404() {
    let app = spawn_app().await;
    let res = app.get("/v1/decisions/does-not-exist", &app.token_for(Role::Dpo)).await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
}
