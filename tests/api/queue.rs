//! The routing queue: claims, leases and fencing, eligibility, four eyes, the sweeper, and the
//! claim storm.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use recourse::domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{appeal_body, assert_problem, decision_body, review_body, spawn_app, spawn_app_with};

#[tokio::test]
async fn a_claim_returns_the_whole_case_and_204_when_nothing_is_eligible() {
    let app = spawn_app().await;
    app.configure_reviewer("rev-1", &["credit_limit"], 5).await;
    assert!(app.claim("rev-1").await.is_none());
    let appeal = app.queued_appeal("a-1", "subject-1").await;
    let (id, token, body) = app.claim("rev-1").await.unwrap();
    assert_eq!(id, appeal);
    assert_eq!(token.len(), 36);
    let case = &body["appeal"];
    assert_eq!(case["status"], "in_review");
    assert_eq!(case["reviewer_id"], "rev-1");
    assert_eq!(case["statement"], appeal_body()["statement"]);
    assert_eq!(case["corrected_inputs"]["annual_income"], 41000);
    assert_eq!(
        case["decision"]["explanation"],
        decision_body("a-1", "subject-1")["explanation"]
    );
    assert_eq!(case["decision"]["score"], 0.41);
    assert_eq!(case["history"][0]["appeal_id"], appeal.as_str());
    assert!(body["lease"]["expires_at"].is_string());
    assert!(app.claim("rev-1").await.is_none());
}

#[tokio::test]
async fn an_unconfigured_reviewer_is_told_so() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(app.url("/v1/queue/claim"))
        .bearer_auth(app.token(Role::Reviewer, "nobody"))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
}

#[tokio::test]
async fn claims_follow_priority_then_deadline_then_arrival() {
    use diesel::prelude::*;
    use recourse::db::schema::appeals::dsl;
    let app = spawn_app().await;
    app.configure_reviewer("rev-1", &["credit_limit"], 10).await;
    // Borderline scores route to a high-priority queue.
    let res = app
        .put_json(
            "/v1/queues/borderline",
            &app.token_for(Role::Admin),
            &json!({"description": "near the threshold", "rules": [{"position": 1, "match": {"score_min": 0.5, "score_max": 0.6}, "priority": 50}]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    let first = app.queued_appeal("a-1", "s-1").await;
    let second = app.queued_appeal("a-2", "s-2").await;
    let third = app.queued_appeal("a-3", "s-3").await;
    let mut borderline = decision_body("a-4", "s-4");
    borderline["score"] = json!(0.55);
    let d: Value = app.post_decision("engine-1", &borderline).await.json().await.unwrap();
    let urgent: Value = app
        .file_appeal_as_subject(d["id"].as_str().unwrap(), "s-4")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(urgent["queue"], "borderline");
    assert_eq!(urgent["priority"], 50);
    // Make the third appeal due sooner than the first two.
    let (id, soon) = (
        third.clone(),
        (chrono::Utc::now() + chrono::Duration::days(3)).naive_utc(),
    );
    app.with_db(move |c| {
        diesel::update(dsl::appeals.find(id))
            .set(dsl::due_at.eq(soon))
            .execute(c)
    })
    .await;

    let mut order = Vec::new();
    while let Some((id, _, _)) = app.claim("rev-1").await {
        order.push(id);
    }
    assert_eq!(order, [urgent["id"].as_str().unwrap().to_owned(), third, first, second]);
    let queues: Value = app
        .get("/v1/queues", &app.token_for(Role::Supervisor))
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<_> = queues["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["borderline", "default", "escalations"]);
}

#[tokio::test]
async fn twenty_reviewers_racing_for_one_appeal_produce_one_claim() {
    let app = spawn_app().await;
    for i in 0..20 {
        app.configure_reviewer(&format!("rev-{i}"), &["credit_limit"], 1).await;
    }
    let appeal = app.queued_appeal("a-1", "subject-1").await;
    let claims = (0..20).map(|i| {
        let req = app
            .client
            .post(app.url("/v1/queue/claim"))
            .bearer_auth(app.token(Role::Reviewer, &format!("rev-{i}")));
        async move { req.send().await.unwrap().status() }
    });
    let statuses = futures_util::future::join_all(claims).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::NO_CONTENT).count(),
        19,
        "{statuses:?}"
    );
    assert_eq!(app.audit_count(&appeal).await, 2);
}

#[tokio::test]
async fn an_expired_lease_is_fenced_off_and_only_the_new_holders_review_counts() {
    let app = spawn_app_with(|s| {
        s.workflow.lease = Duration::from_millis(700);
        s.workflow.sweep_interval = Duration::from_millis(100);
    })
    .await;
    app.configure_reviewer("alice", &["credit_limit"], 1).await;
    app.configure_reviewer("bob", &["credit_limit"], 1).await;
    let appeal = app.queued_appeal("a-1", "subject-1").await;
    let (_, alice_token, _) = app.claim("alice").await.unwrap();
    assert!(app.claim("bob").await.is_none(), "the lease is still live");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (id, bob_token, _) = app.claim("bob").await.expect("the sweeper returned the expired lease");
    assert_eq!(id, appeal);

    let res = app
        .review("alice", &appeal, &review_body(&alice_token, "overturn"))
        .await;
    assert_problem(res, StatusCode::CONFLICT, "stale_lease").await;
    let res = app.review("bob", &appeal, &review_body(&bob_token, "uphold")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(app.review_count(&appeal).await, 1);
    let detail: Value = app
        .get(&format!("/v1/appeals/{appeal}"), &app.token_for(Role::Supervisor))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["outcome"]["result"], "uphold");
}

#[tokio::test]
async fn heartbeat_and_release_need_the_current_token() {
    let app = spawn_app().await;
    app.configure_reviewer("rev-1", &["credit_limit"], 1).await;
    app.configure_reviewer("rev-2", &["credit_limit"], 1).await;
    let appeal = app.queued_appeal("a-1", "subject-1").await;
    let (_, token, _) = app.claim("rev-1").await.unwrap();
    let heartbeat = format!("/v1/appeals/{appeal}/lease/heartbeat");
    let res = app
        .post_json(
            &heartbeat,
            &app.token(Role::Reviewer, "rev-1"),
            &json!({"lease_token": "wrong"}),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "stale_lease").await;
    let res = app
        .post_json(
            &heartbeat,
            &app.token(Role::Reviewer, "rev-2"),
            &json!({"lease_token": token}),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "stale_lease").await;
    let res = app
        .post_json(
            "/v1/appeals/nope/lease/heartbeat",
            &app.token(Role::Reviewer, "rev-1"),
            &json!({"lease_token": token}),
        )
        .await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = app
        .post_json(
            &heartbeat,
            &app.token(Role::Reviewer, "rev-1"),
            &json!({"lease_token": token}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    let release = |token: &str| {
        app.client
            .delete(app.url(&format!("/v1/appeals/{appeal}/lease")))
            .bearer_auth(app.token(Role::Reviewer, "rev-1"))
            .json(&json!({"lease_token": token}))
            .send()
    };
    assert_eq!(release(&token).await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_problem(release(&token).await.unwrap(), StatusCode::CONFLICT, "stale_lease").await;
    let (again, _, _) = app.claim("rev-2").await.unwrap();
    assert_eq!(again, appeal);
}

#[tokio::test]
async fn eligibility_needs_authority_a_different_person_than_the_filer_and_capacity() {
    let app = spawn_app().await;
    app.configure_reviewer("no-authority", &["fraud_flag"], 5).await;
    app.configure_reviewer("pat", &["credit_limit"], 5).await;
    app.configure_reviewer("cap-1", &["credit_limit"], 1).await;
    let decision = app.decision_for("a-1", "subject-1").await;
    // Pat is also an agent, and files this appeal for a caller.
    let mut body = appeal_body();
    body["channel"] = json!("phone");
    body["identity_check"] = json!({"method": "kba", "result": "verified"});
    let res = app
        .post_json(
            &format!("/v1/decisions/{decision}/appeals"),
            &app.token(Role::Agent, "pat"),
            &body,
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);

    assert!(app.claim("no-authority").await.is_none());
    assert!(app.claim("pat").await.is_none(), "the filing agent may not review");
    app.queued_appeal("a-2", "subject-2").await;
    assert!(app.claim("cap-1").await.is_some());
    let res = app
        .client
        .post(app.url("/v1/queue/claim"))
        .bearer_auth(app.token(Role::Reviewer, "cap-1"))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::CONFLICT, "at_capacity").await;
}

#[tokio::test]
async fn an_earlier_reviewer_of_the_decision_does_not_get_the_re_appeal() {
    let app = spawn_app().await;
    app.configure_reviewer("first", &["credit_limit"], 5).await;
    app.configure_reviewer("second", &["credit_limit"], 5).await;
    let decision = app.decision_for("a-1", "subject-1").await;
    app.file_appeal_as_subject(&decision, "subject-1").await;
    let (appeal, token, _) = app.claim("first").await.unwrap();
    assert_eq!(
        app.review("first", &appeal, &review_body(&token, "uphold"))
            .await
            .status(),
        StatusCode::OK
    );

    let res = app.file_appeal_as_subject(&decision, "subject-1").await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert!(app.claim("first").await.is_none());
    let (reappeal, _, case) = app.claim("second").await.unwrap();
    assert_ne!(reappeal, appeal);
    let history = case["appeal"]["history"].as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["reviews"][0]["reviewer_id"], "first");
}

#[tokio::test]
async fn four_eyes_high_impact_overturns_wait_for_a_second_person() {
    let app = spawn_app().await;
    app.put_json(
        "/v1/policies/credit_limit",
        &app.token_for(Role::Admin),
        &json!({"requires_approval": true}),
    )
    .await;
    app.configure_reviewer("first", &["credit_limit"], 5).await;
    app.configure_reviewer("second", &["credit_limit"], 5).await;
    app.configure_reviewer("outsider", &["fraud_flag"], 5).await;
    let decision = app.decision_for("a-1", "subject-1").await;
    app.file_appeal_as_subject(&decision, "subject-1").await;
    let (appeal, token, _) = app.claim("first").await.unwrap();
    let res = app.review("first", &appeal, &review_body(&token, "overturn")).await;
    let pending: Value = res.json().await.unwrap();
    assert_eq!(pending["status"], "awaiting_approval");
    let d: Value = app
        .get(&format!("/v1/decisions/{decision}"), &app.token_for(Role::Dpo))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(d["status"], "under_appeal");

    let approval = format!("/v1/appeals/{appeal}/approval");
    let res = app
        .post_json(
            &approval,
            &app.token(Role::Reviewer, "first"),
            &json!({"decision": "approve"}),
        )
        .await;
    let body = assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    assert!(body["detail"].as_str().unwrap().contains("own review"));
    let res = app
        .post_json(
            &approval,
            &app.token(Role::Reviewer, "outsider"),
            &json!({"decision": "approve"}),
        )
        .await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let res = app
        .post_json(
            &approval,
            &app.token(Role::Reviewer, "second"),
            &json!({"decision": "approve", "note": "Checked the payslips too."}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "decided");
    let d: Value = app
        .get(&format!("/v1/decisions/{decision}"), &app.token_for(Role::Dpo))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (d["status"].as_str(), d["effective_outcome"].as_str()),
        (Some("overturned"), Some("approved"))
    );
    let res = app
        .post_json(
            &approval,
            &app.token_for(Role::Supervisor),
            &json!({"decision": "approve"}),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "illegal_transition").await;
}

#[tokio::test]
async fn a_supervisor_can_return_a_pending_overturn_for_a_fresh_review() {
    let app = spawn_app().await;
    app.put_json(
        "/v1/policies/credit_limit",
        &app.token_for(Role::Admin),
        &json!({"requires_approval": true}),
    )
    .await;
    app.configure_reviewer("first", &["credit_limit"], 5).await;
    app.configure_reviewer("second", &["credit_limit"], 5).await;
    let appeal = app.queued_appeal("a-1", "subject-1").await;
    let (_, token, _) = app.claim("first").await.unwrap();
    app.review("first", &appeal, &review_body(&token, "amend")).await;
    let approval = format!("/v1/appeals/{appeal}/approval");
    let res = app
        .post_json(
            &approval,
            &app.token_for(Role::Supervisor),
            &json!({"decision": "return"}),
        )
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let res = app
        .post_json(
            &approval,
            &app.token_for(Role::Supervisor),
            &json!({"decision": "return", "note": "The amendment is not supported by the evidence."}),
        )
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "queued");
    assert!(app.claim("first").await.is_none());
    let (again, token, _) = app.claim("second").await.unwrap();
    assert_eq!(again, appeal);
    // An uphold needs no approval.
    let res = app.review("second", &appeal, &review_body(&token, "uphold")).await;
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "decided");
}

#[tokio::test]
async fn bad_rationales_and_reviews_are_422_and_bad_transitions_409() {
    let app = spawn_app().await;
    app.configure_reviewer("rev-1", &["credit_limit"], 5).await;
    let appeal = app.queued_appeal("a-1", "subject-1").await;
    // Reviewing without a claim: there is no current lease to present.
    let res = app.review("rev-1", &appeal, &review_body("no-lease", "uphold")).await;
    assert_problem(res, StatusCode::CONFLICT, "stale_lease").await;
    let res = app
        .post_json(
            &format!("/v1/appeals/{appeal}/approval"),
            &app.token_for(Role::Supervisor),
            &json!({"decision": "approve"}),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "illegal_transition").await;

    let (_, token, _) = app.claim("rev-1").await.unwrap();
    for (rationale, why) in [
        ("", "required"),
        ("Looks fine to me.", "at least 30"),
        ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "repeated"),
        ("test test test test test test test test test", "repeat"),
        (
            "The applicant the applicant the applicant the applicant",
            "repeats a few words",
        ),
        (
            "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do",
            "placeholder",
        ),
        (
            "n/a n/a n/a see above, as per model, agree with the model. ok",
            "placeholder",
        ),
    ] {
        let mut body = review_body(&token, "uphold");
        body["rationale"] = json!(rationale);
        let res = app.review("rev-1", &appeal, &body).await;
        let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(problem["errors"][0]["pointer"], "/rationale", "{rationale:?}");
        assert!(
            problem["errors"][0]["detail"].as_str().unwrap().contains(why),
            "{rationale:?}: {problem}"
        );
    }
    let mut no_new_outcome = review_body(&token, "overturn");
    no_new_outcome.as_object_mut().unwrap().remove("new_outcome");
    let res = app.review("rev-1", &appeal, &no_new_outcome).await;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(problem["errors"][0]["pointer"], "/new_outcome");
    let mut no_factors = review_body(&token, "uphold");
    no_factors["factors_considered"] = json!([]);
    let res = app.review("rev-1", &appeal, &no_factors).await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(app.review_count(&appeal).await, 0);

    assert_eq!(
        app.review("rev-1", &appeal, &review_body(&token, "uphold"))
            .await
            .status(),
        StatusCode::OK
    );
    let res = app.review("rev-1", &appeal, &review_body(&token, "uphold")).await;
    let problem = assert_problem(res, StatusCode::CONFLICT, "illegal_transition").await;
    assert!(problem["detail"].as_str().unwrap().contains("decided"));
    let res = app
        .post_json(
            &format!("/v1/appeals/{appeal}/withdrawal"),
            &app.token(Role::Subject, "subject-1"),
            &json!({}),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "illegal_transition").await;
}

#[tokio::test]
async fn a_supervisor_assigns_an_appeal_to_a_named_eligible_reviewer() {
    let app = spawn_app().await;
    app.configure_reviewer("alice", &["credit_limit"], 5).await;
    app.configure_reviewer("bob", &["credit_limit"], 5).await;
    app.configure_reviewer("fraud-only", &["fraud_flag"], 5).await;
    let appeal = app.queued_appeal("a-1", "subject-1").await;
    let (_, alice_token, _) = app.claim("alice").await.unwrap();
    let path = format!("/v1/appeals/{appeal}/assignment");
    let res = app
        .post_json(
            &path,
            &app.token_for(Role::Supervisor),
            &json!({"reviewer": "fraud-only", "reason": "Specialist"}),
        )
        .await;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(problem["errors"][0]["pointer"], "/reviewer");
    let res = app
        .post_json(
            &path,
            &app.token_for(Role::Reviewer),
            &json!({"reviewer": "bob", "reason": "x"}),
        )
        .await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;

    let res = app
        .post_json(
            &path,
            &app.token_for(Role::Supervisor),
            &json!({"reviewer": "bob", "reason": "Alice is out today"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        (body["status"].as_str(), body["assigned_to"].as_str()),
        (Some("queued"), Some("bob"))
    );
    assert_problem(
        app.review("alice", &appeal, &review_body(&alice_token, "uphold")).await,
        StatusCode::CONFLICT,
        "stale_lease",
    )
    .await;
    assert!(app.claim("alice").await.is_none(), "assigned to bob only");
    let (id, token, _) = app.claim("bob").await.unwrap();
    assert_eq!(id, appeal);
    assert_eq!(
        app.review("bob", &appeal, &review_body(&token, "uphold"))
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_sweeper_raises_priority_at_half_and_eighty_percent_and_escalates_overdue() {
    use diesel::prelude::*;
    use recourse::db::schema::appeals::dsl;
    let app = spawn_app_with(|s| s.workflow.sweep_interval = Duration::from_secs(3600)).await;
    let appeal = app.queued_appeal("a-1", "subject-1").await;
    let level = || {
        let id = appeal.clone();
        app.with_db(move |c| {
            dsl::appeals
                .find(id)
                .select((dsl::escalation_level, dsl::priority, dsl::queue))
                .first::<(i32, i32, String)>(c)
        })
    };
    let shift = |days: i64| {
        let id = appeal.clone();
        move |c: &mut recourse::db::DbConnection| {
            let received = (chrono::Utc::now() - chrono::Duration::days(days)).naive_utc();
            let due = (chrono::Utc::now() - chrono::Duration::days(days) + chrono::Duration::days(30)).naive_utc();
            diesel::update(dsl::appeals.find(id))
                .set((
                    dsl::received_at.eq(received),
                    dsl::due_at.eq(due),
                    dsl::escalate_at.eq(received + chrono::Duration::days(15)),
                ))
                .execute(c)
        }
    };
    let sweep = || recourse::appeals::sweeper::sweep_once(&app.db, Default::default());

    assert_eq!(sweep().await.unwrap().escalated, 0);
    app.with_db(shift(16)).await;
    assert_eq!(sweep().await.unwrap().escalated, 1);
    assert_eq!(level().await, (1, 10, "default".to_owned()));
    assert_eq!(sweep().await.unwrap().escalated, 0, "nothing twice");
    let id = appeal.clone();
    app.with_db(move |c| {
        let received = (chrono::Utc::now() - chrono::Duration::days(31)).naive_utc();
        diesel::update(dsl::appeals.find(id))
            .set((
                dsl::received_at.eq(received),
                dsl::due_at.eq(received + chrono::Duration::days(30)),
                dsl::escalate_at.eq(received),
            ))
            .execute(c)
    })
    .await;
    assert_eq!(sweep().await.unwrap().escalated, 1);
    assert_eq!(level().await, (3, 10 + 10 + 50, "escalations".to_owned()));
    assert_eq!(app.audit_count(&appeal).await, 1 + 2);
}

/// The claim storm from the issue: 500 appeals, 32 concurrent reviewers over HTTP.
#[tokio::test]
async fn claim_storm_500_appeals_32_reviewers_each_decided_exactly_once() {
    const APPEALS: usize = 500;
    const REVIEWERS: usize = 32;
    let app = spawn_app_with(|s| {
        s.workers = Some(4);
        s.pool_size = 16;
    })
    .await;
    let appeals = app.seed_queued_appeals("storm", APPEALS).await;
    let reviewers: Vec<String> = (0..REVIEWERS).map(|r| format!("storm-rev-{r}")).collect();
    for reviewer in &reviewers {
        app.configure_reviewer(reviewer, &["credit_limit"], 2).await;
    }

    let started = Instant::now();
    let drained = app.drain_queue(std::slice::from_ref(&app.address), &reviewers).await;
    let elapsed = started.elapsed();

    assert_eq!(drained.server_errors, 0);
    assert_eq!(drained.handed_out.len(), APPEALS, "every appeal was handed out");
    assert!(
        drained.handed_out.values().all(|n| *n == 1),
        "no appeal was handed out twice"
    );
    let reviewed: Vec<String> = {
        use diesel::prelude::*;
        use recourse::db::schema::reviews::dsl;
        app.with_db(|c| dsl::reviews.select(dsl::appeal_id).load::<String>(c))
            .await
    };
    assert_eq!(reviewed.len(), APPEALS, "each appeal decided exactly once");
    let distinct: HashSet<&String> = reviewed.iter().collect();
    assert_eq!(distinct, appeals.iter().collect::<HashSet<_>>());
    eprintln!(
        "claim storm [{}]: {APPEALS} appeals, {REVIEWERS} reviewers, {:.2} s, {:.0} claim+review cycles/s",
        if std::env::var("TEST_DATABASE_URL").is_ok() {
            "postgres"
        } else {
            "sqlite"
        },
        elapsed.as_secs_f64(),
        APPEALS as f64 / elapsed.as_secs_f64()
    );
}
