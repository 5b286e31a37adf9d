//! Filing, the legal clock, idempotency, extension, withdrawal, notices and audit per transition.

use chrono::{DateTime, Datelike, Months, Utc};
use recourse::domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::calendar;
use crate::helpers::{RATIONALE, appeal_body, assert_problem, decision_body, pointers, review_body, spawn_app};

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_subject_files_an_appeal_and_gets_a_deadline_and_acknowledgement() {
    let app = spawn_app().await;
    let decision = app.decision_for("a-1", "subject-1").await;
    let res = app.file_appeal_as_subject(&decision, "subject-1").await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let appeal: Value = res.json().await.unwrap();
    assert_eq!(location, format!("/v1/appeals/{}", appeal["id"].as_str().unwrap()));
    assert_eq!(appeal["status"], "queued");
    assert_eq!(appeal["channel"], "web");
    assert_eq!(appeal["queue"], "default");
    // One month in the controller's days (UTC by default): the end of the matching day, moved
    // past a weekend.
    let received = time(&appeal["received_at"]);
    let due = time(&appeal["due_at"]);
    assert_eq!(
        due,
        calendar::expected_due(received, chrono_tz::Tz::UTC, &Default::default())
    );
    assert_eq!(
        due.time(),
        chrono::NaiveTime::from_hms_micro_opt(23, 59, 59, 999_999).unwrap()
    );
    assert!(!matches!(due.weekday(), chrono::Weekday::Sat | chrono::Weekday::Sun));
    assert!(due > received.checked_add_months(Months::new(1)).unwrap());
    assert_eq!(appeal["notices"][0]["kind"], "acknowledgement");
    assert!(
        appeal["notices"][0]["body"]
            .as_str()
            .unwrap()
            .contains("supervisory authority")
    );
    assert!(appeal.get("reviewer_id").is_none() && appeal.get("filed_by").is_none());

    let fetched: Value = app
        .get(
            &format!("/v1/decisions/{decision}"),
            &app.token(Role::Subject, "subject-1"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fetched["status"], "under_appeal");
    assert_eq!(app.outbox_types().await, ["appeal.filed"]);
}

#[tokio::test]
async fn a_subject_cannot_appeal_or_see_someone_elses_decision() {
    let app = spawn_app().await;
    let decision = app.decision_for("a-1", "subject-1").await;
    let res = app.file_appeal_as_subject(&decision, "subject-2").await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let appeal = app.queued_appeal("a-2", "subject-1").await;
    let res = app
        .get(&format!("/v1/appeals/{appeal}"), &app.token(Role::Subject, "subject-2"))
        .await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = app
        .get(
            &format!("/v1/appeals/{appeal}/notices"),
            &app.token(Role::Subject, "subject-1"),
        )
        .await;
    let notices: Value = res.json().await.unwrap();
    assert_eq!(notices["items"].as_array().unwrap().len(), 1);
    for role in [Role::Engine, Role::Admin] {
        let res = app.get(&format!("/v1/appeals/{appeal}"), &app.token_for(role)).await;
        assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    }
}

#[tokio::test]
async fn an_agent_files_for_a_caller_with_a_verified_identity_check() {
    let app = spawn_app().await;
    let decision = app.decision_for("a-1", "subject-1").await;
    let path = format!("/v1/decisions/{decision}/appeals");
    let agent = app.token(Role::Agent, "agent-ann");
    let res = app.post_json(&path, &agent, &appeal_body()).await;
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let pointers = pointers(&body);
    assert_eq!(pointers, ["/channel", "/identity_check"]);

    let mut filed = appeal_body();
    filed["channel"] = json!("phone");
    filed["identity_check"] = json!({"method": "knowledge-based: date of birth and postcode", "result": "verified"});
    let res = app.post_json(&path, &agent, &filed).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let appeal: Value = res.json().await.unwrap();
    assert_eq!(appeal["channel"], "phone");
    assert_eq!(appeal["filed_by_role"], "agent");
    assert_eq!(appeal["identity_check"]["checked_by"], "agent-ann");
    assert_eq!(appeal["identity_check"]["result"], "verified");
}

#[tokio::test]
async fn the_filing_window_is_six_months_by_default_and_configurable() {
    let app = spawn_app().await;
    app.decision_for("warmup", "s").await;
    let mut old = decision_body("old-1", "subject-1");
    old["decided_at"] = json!((Utc::now() - chrono::Duration::days(200)).to_rfc3339());
    let res = app.post_decision("engine-1", &old).await;
    let decision = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let res = app.file_appeal_as_subject(&decision, "subject-1").await;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "filing_window_closed").await;
    // The window closed at the end of the matching day six months on (moved past a weekend).
    let decided: DateTime<Utc> = old["decided_at"].as_str().unwrap().parse().unwrap();
    let last_day = calendar::roll(
        decided.date_naive().checked_add_months(Months::new(6)).unwrap(),
        &Default::default(),
    );
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains(&format!("closed on {last_day}")), "{detail}");
    let closed_at = calendar::end_of_local_day(chrono_tz::Tz::UTC, last_day);
    assert!(
        detail.contains(&closed_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
        "{detail}"
    );

    let res = app
        .put_json(
            "/v1/policies/credit_limit",
            &app.token_for(Role::Admin),
            &json!({"filing_window_months": 12}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        app.file_appeal_as_subject(&decision, "subject-1").await.status(),
        StatusCode::CREATED
    );

    let res = app
        .put_json(
            "/v1/policies/credit_limit",
            &app.token_for(Role::Admin),
            &json!({"filing_window_months": 3}),
        )
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}

#[tokio::test]
async fn a_decision_has_at_most_one_open_appeal() {
    let app = spawn_app().await;
    let decision = app.decision_for("a-1", "subject-1").await;
    let first: Value = app
        .file_appeal_as_subject(&decision, "subject-1")
        .await
        .json()
        .await
        .unwrap();
    let res = app.file_appeal_as_subject(&decision, "subject-1").await;
    let problem = assert_problem(res, StatusCode::CONFLICT, "appeal_already_open").await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains(first["id"].as_str().unwrap())
    );
}

#[tokio::test]
async fn concurrent_filings_on_one_decision_open_one_appeal() {
    let app = spawn_app().await;
    let decision = app.decision_for("a-1", "subject-1").await;
    let token = app.token(Role::Subject, "subject-1");
    let path = app.url(&format!("/v1/decisions/{decision}/appeals"));
    let requests = (0..8).map(|_| app.client.post(&path).bearer_auth(&token).json(&appeal_body()).send());
    let statuses: Vec<_> = futures_util::future::join_all(requests)
        .await
        .into_iter()
        .map(|r| r.unwrap().status())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::CREATED).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count(),
        7,
        "{statuses:?}"
    );
}

/// Issue 13, finding 8: ten identical filings with one `Idempotency-Key`, sent at once, for 100
/// keys. Every request gets the first response; on PostgreSQL some used to get 409
/// `appeal_already_open`, because the open-appeal check saw the winner's commit before the key.
#[tokio::test]
async fn racing_filings_with_one_idempotency_key_all_get_the_first_response() {
    const KEYS: usize = 100;
    const RACERS: usize = 10;
    let app = crate::helpers::spawn_app_with(|s| {
        s.workers = Some(4);
        s.pool_size = 16;
    })
    .await;
    let mut decisions = Vec::new();
    for k in 0..KEYS {
        decisions.push(app.decision_for(&format!("race-{k}"), &format!("racer-{k}")).await);
    }
    let client = &app.client;
    let requests = decisions.iter().enumerate().flat_map(|(k, decision)| {
        let path = app.url(&format!("/v1/decisions/{decision}/appeals"));
        let token = app.token(Role::Subject, &format!("racer-{k}"));
        (0..RACERS).map(move |_| {
            let request = client
                .post(&path)
                .bearer_auth(&token)
                .header("Idempotency-Key", format!("key-{k}"))
                .json(&appeal_body());
            async move {
                let res = request.send().await.unwrap();
                (k, res.status(), res.json::<Value>().await.unwrap())
            }
        })
    });
    let answers = futures_util::future::join_all(requests).await;
    let mut first_ids = std::collections::HashMap::new();
    for (k, status, body) in &answers {
        assert_eq!(*status, StatusCode::CREATED, "key {k}: {body}");
        let id = body["id"].as_str().unwrap().to_owned();
        assert_eq!(first_ids.entry(*k).or_insert_with(|| id.clone()), &id, "key {k}");
    }
    assert_eq!(first_ids.len(), KEYS);
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_response_and_refuses_a_different_body() {
    let app = spawn_app().await;
    let decision = app.decision_for("a-1", "subject-1").await;
    let path = app.url(&format!("/v1/decisions/{decision}/appeals"));
    let token = app.token(Role::Subject, "subject-1");
    let send = |body: Value| {
        app.client
            .post(&path)
            .bearer_auth(&token)
            .header("Idempotency-Key", "k-123")
            .json(&body)
            .send()
    };
    let first = send(appeal_body()).await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let again = send(appeal_body()).await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    let mut other = appeal_body();
    other["statement"] = json!("A different statement entirely.");
    let res = send(other).await.unwrap();
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused").await;
    assert_eq!(app.audit_count(first["id"].as_str().unwrap()).await, 1);
}

#[tokio::test]
async fn a_supervisor_extends_once_before_the_deadline_with_a_notice() {
    let app = spawn_app().await;
    let appeal = app.queued_appeal("a-1", "subject-1").await;
    let path = format!("/v1/appeals/{appeal}/extension");
    let supervisor = app.token_for(Role::Supervisor);
    let before: Value = app
        .get(&format!("/v1/appeals/{appeal}"), &supervisor)
        .await
        .json()
        .await
        .unwrap();

    let res = app
        .post_json(
            &path,
            &app.token_for(Role::Reviewer),
            &json!({"months": 1, "reason": "x"}),
        )
        .await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let res = app
        .post_json(&path, &supervisor, &json!({"months": 3, "reason": "Awaiting records"}))
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;

    let res = app
        .post_json(
            &path,
            &supervisor,
            &json!({"months": 2, "reason": "Awaiting bank records"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let after: Value = res.json().await.unwrap();
    let received = time(&before["received_at"]);
    assert_eq!(
        time(&after["due_at"]),
        calendar::expected_extended(received, chrono_tz::Tz::UTC, &Default::default(), 2)
    );
    assert_eq!(after["extended"], true);
    let kinds: Vec<_> = after["notices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["acknowledgement", "extension"]);
    assert!(
        after["notices"][1]["body"]
            .as_str()
            .unwrap()
            .contains("Awaiting bank records")
    );

    let res = app
        .post_json(&path, &supervisor, &json!({"months": 1, "reason": "again"}))
        .await;
    assert_problem(res, StatusCode::CONFLICT, "extension_refused").await;
}

#[tokio::test]
async fn an_extension_after_the_deadline_is_refused() {
    use diesel::prelude::*;
    use recourse::db::schema::appeals::dsl;
    let app = spawn_app().await;
    let appeal = app.queued_appeal("a-1", "subject-1").await;
    let past = (Utc::now() - chrono::Duration::hours(1)).naive_utc();
    let id = appeal.clone();
    app.with_db(move |c| {
        diesel::update(dsl::appeals.find(id))
            .set(dsl::due_at.eq(past))
            .execute(c)
    })
    .await;
    let res = app
        .post_json(
            &format!("/v1/appeals/{appeal}/extension"),
            &app.token_for(Role::Supervisor),
            &json!({"months": 1, "reason": "late"}),
        )
        .await;
    let problem = assert_problem(res, StatusCode::CONFLICT, "extension_refused").await;
    assert!(problem["detail"].as_str().unwrap().contains("deadline has passed"));
}

#[tokio::test]
async fn the_filer_withdraws_before_a_decision_and_the_decision_stands_again() {
    let app = spawn_app().await;
    let decision = app.decision_for("a-1", "subject-1").await;
    let appeal: Value = app
        .file_appeal_as_subject(&decision, "subject-1")
        .await
        .json()
        .await
        .unwrap();
    let id = appeal["id"].as_str().unwrap();
    let path = format!("/v1/appeals/{id}/withdrawal");
    let res = app
        .post_json(&path, &app.token(Role::Subject, "subject-2"), &json!({}))
        .await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = app
        .post_json(&path, &app.token(Role::Agent, "agent-x"), &json!({}))
        .await;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(
        pointers(&problem),
        ["/identity_method"],
        "an agent says how the caller was identified"
    );

    let res = app
        .post_json(&path, &app.token(Role::Subject, "subject-1"), &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "withdrawn");
    let d: Value = app
        .get(&format!("/v1/decisions/{decision}"), &app.token_for(Role::Dpo))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(d["status"], "effective");
    let res = app
        .post_json(&path, &app.token(Role::Subject, "subject-1"), &json!({}))
        .await;
    let problem = assert_problem(res, StatusCode::CONFLICT, "illegal_transition").await;
    assert!(problem["detail"].as_str().unwrap().contains("withdrawn"));
    // A withdrawn appeal does not block a new one.
    assert_eq!(
        app.file_appeal_as_subject(&decision, "subject-1").await.status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn filing_validation_points_at_each_bad_field() {
    let app = spawn_app().await;
    let decision = app.decision_for("a-1", "subject-1").await;
    type Breaker = fn(&mut Value);
    let cases: Vec<(&str, Breaker)> = vec![
        ("/grounds", |b| b["grounds"] = json!([])),
        ("/grounds/0", |b| b["grounds"] = json!(["because"])),
        ("/statement", |b| b["statement"] = json!("  ")),
        ("/corrected_inputs/annual_income", |b| {
            b["corrected_inputs"]["annual_income"] = json!([1])
        }),
        ("/evidence/0/sha256", |b| b["evidence"][0]["sha256"] = json!("zz")),
        ("/channel", |b| b["channel"] = json!("phone")),
        ("/identity_check", |b| {
            b["identity_check"] = json!({"method": "m", "result": "verified"})
        }),
        ("/status", |b| b["status"] = json!("decided")),
    ];
    for (pointer, breaker) in cases {
        let mut body = appeal_body();
        breaker(&mut body);
        let res = app
            .post_json(
                &format!("/v1/decisions/{decision}/appeals"),
                &app.token(Role::Subject, "subject-1"),
                &body,
            )
            .await;
        let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        let pointers = pointers(&problem);
        assert!(
            pointers.iter().any(|p| p == pointer),
            "expected {pointer}, got {pointers:?}"
        );
    }
}

/// Walks one appeal through its life and checks each transition's audit entry and event.
#[tokio::test]
async fn every_transition_writes_one_audit_entry_and_its_event() {
    let app = spawn_app().await;
    app.configure_reviewer("rev-1", &["credit_limit"], 5).await;
    let appeal = app.queued_appeal("a-1", "subject-1").await;
    assert_eq!(app.audit_count(&appeal).await, 1);
    assert_eq!(app.outbox_types().await, ["appeal.filed"]);

    let (_, token, _) = app.claim("rev-1").await.unwrap();
    assert_eq!(app.audit_count(&appeal).await, 2);
    let res = app
        .post_json(
            &format!("/v1/appeals/{appeal}/lease/heartbeat"),
            &app.token(Role::Reviewer, "rev-1"),
            &json!({"lease_token": token}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(app.audit_count(&appeal).await, 3);
    let res = app
        .client
        .delete(app.url(&format!("/v1/appeals/{appeal}/lease")))
        .bearer_auth(app.token(Role::Reviewer, "rev-1"))
        .json(&json!({"lease_token": token}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.audit_count(&appeal).await, 4);

    let res = app
        .post_json(
            &format!("/v1/appeals/{appeal}/extension"),
            &app.token_for(Role::Supervisor),
            &json!({"months": 1, "reason": "More time needed for records"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(app.audit_count(&appeal).await, 5);
    assert_eq!(app.outbox_types().await, ["appeal.filed", "appeal.extended"]);

    let (_, token, _) = app.claim("rev-1").await.unwrap();
    let res = app.review("rev-1", &appeal, &review_body(&token, "overturn")).await;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    assert_eq!(app.audit_count(&appeal).await, 7);
    assert_eq!(
        app.outbox_types().await,
        [
            "appeal.filed",
            "appeal.extended",
            "appeal.decided",
            "decision.overridden"
        ]
    );
}

#[tokio::test]
async fn an_overturn_changes_the_effective_outcome_and_sends_an_outcome_notice() {
    let app = spawn_app().await;
    app.configure_reviewer("rev-1", &["credit_limit"], 5).await;
    let decision = app.decision_for("a-1", "subject-1").await;
    let appeal: Value = app
        .file_appeal_as_subject(&decision, "subject-1")
        .await
        .json()
        .await
        .unwrap();
    let id = appeal["id"].as_str().unwrap();
    let (claimed, token, _) = app.claim("rev-1").await.unwrap();
    assert_eq!(claimed, id);
    let res = app.review("rev-1", id, &review_body(&token, "overturn")).await;
    let decided: Value = res.json().await.unwrap();
    assert_eq!(decided["status"], "decided");
    assert_eq!(decided["outcome"]["result"], "overturn");
    assert_eq!(decided["outcome"]["rationale"], RATIONALE);
    let outcome_notice = decided["notices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["kind"] == "outcome")
        .unwrap();
    let text = outcome_notice["body"].as_str().unwrap();
    assert!(
        text.contains("overturned") && text.contains(RATIONALE) && text.contains("courts"),
        "{text}"
    );

    let d: Value = app
        .get(
            &format!("/v1/decisions/{decision}"),
            &app.token(Role::Subject, "subject-1"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(d["status"], "overturned");
    assert_eq!(d["outcome"], "declined");
    assert_eq!(d["effective_outcome"], "approved");
}

#[tokio::test]
async fn upholding_a_re_appeal_keeps_the_outcome_in_force_after_an_earlier_overturn() {
    let app = spawn_app().await;
    app.configure_reviewer("first", &["credit_limit"], 5).await;
    app.configure_reviewer("second", &["credit_limit"], 5).await;
    let decision = app.decision_for("a-1", "subject-1").await;
    app.file_appeal_as_subject(&decision, "subject-1").await;
    let (appeal, token, _) = app.claim("first").await.unwrap();
    app.review("first", &appeal, &review_body(&token, "overturn")).await;
    app.file_appeal_as_subject(&decision, "subject-1").await;
    let (again, token, _) = app.claim("second").await.unwrap();
    let decided: Value = app
        .review("second", &again, &review_body(&token, "uphold"))
        .await
        .json()
        .await
        .unwrap();
    let d: Value = app
        .get(&format!("/v1/decisions/{decision}"), &app.token_for(Role::Dpo))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (d["status"].as_str(), d["effective_outcome"].as_str()),
        (Some("upheld"), Some("approved"))
    );
    let notice = decided["notices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["kind"] == "outcome")
        .unwrap();
    assert!(
        notice["body"].as_str().unwrap().contains("remains: approved"),
        "{notice}"
    );
}

#[tokio::test]
async fn subjects_do_not_see_staff_identities_and_approvers_see_the_pending_review() {
    let app = spawn_app().await;
    app.put_json(
        "/v1/policies/credit_limit",
        &app.token_for(Role::Admin),
        &json!({"requires_approval": true}),
    )
    .await;
    app.configure_reviewer("first", &["credit_limit"], 5).await;
    let decision = app.decision_for("a-1", "subject-1").await;
    let mut body = appeal_body();
    body["channel"] = json!("phone");
    body["identity_check"] = json!({"method": "kba", "result": "verified"});
    let filed = app
        .post_json(
            &format!("/v1/decisions/{decision}/appeals"),
            &app.token(Role::Agent, "agent-ann"),
            &body,
        )
        .await;
    let id = filed.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let (_, token, _) = app.claim("first").await.unwrap();
    app.review("first", &id, &review_body(&token, "overturn")).await;

    let as_subject: Value = app
        .get(&format!("/v1/appeals/{id}"), &app.token(Role::Subject, "subject-1"))
        .await
        .json()
        .await
        .unwrap();
    let text = as_subject.to_string();
    assert!(!text.contains("agent-ann") && !text.contains("\"first\""), "{text}");
    assert!(as_subject.get("pending_review").is_none());
    let as_supervisor: Value = app
        .get(&format!("/v1/appeals/{id}"), &app.token_for(Role::Supervisor))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(as_supervisor["identity_check"]["checked_by"], "agent-ann");
    assert_eq!(as_supervisor["pending_review"]["outcome"], "overturn");
    assert_eq!(as_supervisor["pending_review"]["reviewer_id"], "first");
}

#[tokio::test]
async fn a_replayed_filing_carries_its_location_too() {
    let app = spawn_app().await;
    let decision = app.decision_for("a-1", "subject-1").await;
    let send = || {
        app.client
            .post(app.url(&format!("/v1/decisions/{decision}/appeals")))
            .bearer_auth(app.token(Role::Subject, "subject-1"))
            .header("Idempotency-Key", "same")
            .json(&appeal_body())
            .send()
    };
    let first = send().await.unwrap().headers()["location"].clone();
    assert_eq!(send().await.unwrap().headers()["location"], first);
}
