//! The breach register (GDPR Art. 33/34), audited reads and denied accesses (Art. 5(2)), and
//! the audit query that scopes a breach to the subjects it affects.

use std::collections::BTreeMap;

use chrono::{SecondsFormat, TimeDelta, Utc};
use diesel::prelude::*;
use recourse::db::schema::audit_log;
use recourse::domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, pointers, spawn_app};

fn stamp(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

async fn report(app: &TestApp, role: Role, body: &Value) -> reqwest::Response {
    app.post_json("/v1/breaches", &app.token_for(role), body).await
}

async fn step(app: &TestApp, id: &str, body: &Value) -> reqwest::Response {
    app.post_json(
        &format!("/v1/breaches/{id}/transitions"),
        &app.token(Role::Dpo, "dpo-dana"),
        body,
    )
    .await
}

/// `(action, actor)` of every audit entry about `object_id`, oldest first.
async fn audit_of(app: &TestApp, object_id: &str) -> Vec<(String, String)> {
    let id = object_id.to_owned();
    app.with_db(move |c| {
        audit_log::table
            .filter(audit_log::object_id.eq(id))
            .order(audit_log::seq.asc())
            .select((audit_log::action, audit_log::actor))
            .load(c)
    })
    .await
}

#[tokio::test]
async fn any_staff_member_reports_and_only_the_dpo_manages_the_register() {
    let app = spawn_app().await;
    let body = json!({"description": "An export file was emailed to the wrong address."});
    for role in [Role::Agent, Role::Reviewer, Role::Supervisor, Role::Dpo, Role::Admin] {
        let res = report(&app, role, &body).await;
        assert_eq!(res.status(), StatusCode::CREATED, "{role}");
        let breach: Value = res.json().await.unwrap();
        assert_eq!(breach["status"], "suspected");
        assert_eq!(breach["reported_by_role"], role.as_str());
        assert_eq!(breach["overdue"], false);
    }
    for role in [Role::Subject, Role::Engine] {
        assert_problem(report(&app, role, &body).await, StatusCode::FORBIDDEN, "forbidden").await;
    }
    for role in [
        Role::Agent,
        Role::Reviewer,
        Role::Supervisor,
        Role::Admin,
        Role::Engine,
        Role::Subject,
    ] {
        let res = app.get("/v1/breaches", &app.token_for(role)).await;
        assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    }
    let listed: Value = app
        .get("/v1/breaches", &app.token_for(Role::Dpo))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 5);
    let id = listed["items"][0]["id"].as_str().unwrap().to_owned();
    let res = app
        .post_json(
            &format!("/v1/breaches/{id}/transitions"),
            &app.token_for(Role::Supervisor),
            &json!({"to": "confirmed", "note": "I think so"}),
        )
        .await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;

    // Bad reports lose nothing and say what is wrong.
    let future = stamp(Utc::now() + TimeDelta::hours(2));
    let res = report(&app, Role::Agent, &json!({"description": " ", "aware_at": future})).await;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(pointers(&problem), ["/description", "/aware_at"]);
    let res = report(&app, Role::Agent, &json!({"description": "x", "status": "dismissed"})).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(listed["items"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn the_dpo_walks_a_breach_to_subjects_notified_with_the_72_hour_clock() {
    let app = spawn_app().await;
    app.decision_for("b-1", "cust-anna").await;
    app.decision_for("b-2", "cust-ben").await;
    let aware = Utc::now() - TimeDelta::hours(80);
    let late: Value = report(
        &app,
        Role::Agent,
        &json!({"description": "A call-centre laptop with case notes was stolen.", "aware_at": stamp(aware)}),
    )
    .await
    .json()
    .await
    .unwrap();
    let fresh: Value = report(
        &app,
        Role::Reviewer,
        &json!({"description": "Odd logins on a reviewer account."}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(late["overdue"], true, "80 hours since awareness: {late}");
    assert_eq!(fresh["overdue"], false);
    let id = late["id"].as_str().unwrap().to_owned();
    let overdue: Value = app
        .get("/v1/breaches?overdue=true", &app.token_for(Role::Dpo))
        .await
        .json()
        .await
        .unwrap();
    let overdue_ids: Vec<&str> = overdue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap())
        .collect();
    assert_eq!(overdue_ids, [id.as_str()]);

    // Only the documented steps, in order.
    let res = step(
        &app,
        &id,
        &json!({"to": "authority_notified", "note": "Filed with the regulator"}),
    )
    .await;
    assert_problem(res, StatusCode::CONFLICT, "illegal_transition").await;
    let res = step(
        &app,
        &id,
        &json!({"to": "confirmed", "note": "The laptop was not encrypted."}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    // Late: the reasons for the delay are required (Art. 33(1)).
    let res = step(
        &app,
        &id,
        &json!({"to": "authority_notified", "note": "Filed with the regulator"}),
    )
    .await;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(pointers(&problem), ["/delay_reason"]);
    let res = step(
        &app,
        &id,
        &json!({
            "to": "authority_notified",
            "note": "Filed with the regulator's online form",
            "delay_reason": "The theft was reported to us by the courier only on day four.",
            "authority_reference": "ICO-2026-0042"
        }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let notified: Value = res.json().await.unwrap();
    assert_eq!(notified["status"], "authority_notified");
    assert_eq!(notified["overdue"], false);
    assert_eq!(notified["authority_reference"], "ICO-2026-0042");
    assert!(notified["authority_notified_at"].is_string());

    // Subjects: each must be on record; the notice lands in their export.
    let notice = "Your case notes were on a stolen laptop. Contact dpo@example.org. We have reset access.";
    let res = step(
        &app,
        &id,
        &json!({"to": "subjects_notified", "note": "Letters sent", "subjects": ["cust-anna", "nobody-here"], "subject_notice": notice}),
    )
    .await;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(pointers(&problem), ["/subjects/1"]);
    let res = step(
        &app,
        &id,
        &json!({"to": "subjects_notified", "note": "Letters sent", "subjects": ["cust-anna", "cust-ben"], "subject_notice": notice}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let done: Value = res.json().await.unwrap();
    assert_eq!(done["subjects_notified"], 2);
    let steps: Vec<&str> = done["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["to"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["confirmed", "authority_notified", "subjects_notified"]);
    assert_eq!(done["steps"][0]["by"], "dpo-dana");
    for subject in ["cust-anna", "cust-ben"] {
        let export: Value = app
            .get(
                &format!("/v1/subjects/{subject}/export"),
                &app.token(Role::Subject, subject),
            )
            .await
            .json()
            .await
            .unwrap();
        let breach_notices: Vec<&Value> = export["notices"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["kind"] == "breach")
            .collect();
        assert_eq!(breach_notices.len(), 1, "{subject}: {export}");
        assert_eq!(breach_notices[0]["body"], notice);
    }
    // Terminal, and every step audited.
    let res = step(&app, &id, &json!({"to": "dismissed", "note": "Never mind"})).await;
    assert_problem(res, StatusCode::CONFLICT, "illegal_transition").await;
    let actions: Vec<String> = audit_of(&app, &id).await.into_iter().map(|(a, _)| a).collect();
    assert_eq!(
        actions,
        [
            "breach.reported",
            "breach.confirmed",
            "breach.authority_notified",
            "breach.subjects_notified"
        ]
    );

    // A suspicion can be dismissed.
    let fresh_id = fresh["id"].as_str().unwrap();
    let res = step(
        &app,
        fresh_id,
        &json!({"to": "dismissed", "note": "The logins were the reviewer's own."}),
    )
    .await;
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "dismissed");
    let res = app.get("/v1/breaches/no-such-breach", &app.token_for(Role::Dpo)).await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn the_dpo_lists_whose_data_an_actor_read_in_a_window() {
    let app = spawn_app().await;
    let a1 = app.decision_for("r-a1", "cust-a").await;
    app.decision_for("r-a2", "cust-a").await;
    let b1 = app.decision_for("r-b1", "cust-b").await;
    let c1 = app.decision_for("r-c1", "cust-c").await;
    let res = app.file_appeal_as_subject(&b1, "cust-b").await;
    let appeal_b: String = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    // The subject reading their own data is not an access by anyone else.
    assert_eq!(
        app.get(&format!("/v1/appeals/{appeal_b}"), &app.token(Role::Subject, "cust-b"))
            .await
            .status(),
        StatusCode::OK
    );

    let from = Utc::now();
    let agent_x = app.token(Role::Agent, "agent-x");
    for path in [
        format!("/v1/decisions/{a1}"),
        "/v1/subjects/cust-a/decisions".to_owned(),
        format!("/v1/appeals/{appeal_b}"),
        format!("/v1/appeals/{appeal_b}/notices"),
    ] {
        assert_eq!(app.get(&path, &agent_x).await.status(), StatusCode::OK, "{path}");
    }
    let res = app
        .get(&format!("/v1/decisions/{c1}"), &app.token(Role::Agent, "agent-y"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let to = Utc::now() + TimeDelta::seconds(1);

    let query = |actor: &str, from: chrono::DateTime<Utc>, to: chrono::DateTime<Utc>| {
        format!(
            "/v1/audit/subjects-accessed?actor={actor}&from={}&to={}",
            stamp(from),
            stamp(to)
        )
    };
    let dpo = app.token_for(Role::Dpo);
    let report: Value = app.get(&query("agent-x", from, to), &dpo).await.json().await.unwrap();
    let found: BTreeMap<String, Value> = report["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["subject_id"].as_str().unwrap().to_owned(), s["actions"].clone()))
        .collect();
    assert_eq!(found.keys().collect::<Vec<_>>(), ["cust-a", "cust-b"], "{report}");
    // One direct read of a1, then a1 and a2 in the list; the appeal read twice.
    assert_eq!(found["cust-a"], json!({"decision.viewed": 3}));
    assert_eq!(found["cust-b"], json!({"appeal.viewed": 2}));
    let report: Value = app.get(&query("agent-y", from, to), &dpo).await.json().await.unwrap();
    assert_eq!(report["subjects"][0]["subject_id"], "cust-c");
    assert_eq!(report["subjects"].as_array().unwrap().len(), 1);
    // Outside the window: nothing.
    let before = from - TimeDelta::hours(1);
    let report: Value = app
        .get(&query("agent-x", before, from), &dpo)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["subjects"], json!([]));
    // No subject's own reads were recorded as someone else's access.
    let subject_reads = app
        .with_db(|c| {
            audit_log::table
                .filter(audit_log::actor_role.eq("subject"))
                .filter(audit_log::action.like("%.viewed"))
                .count()
                .get_result::<i64>(c)
        })
        .await;
    assert_eq!(subject_reads, 0);

    // Only the dpo asks, and the window must make sense.
    let res = app.get(&query("agent-x", from, to), &app.token_for(Role::Admin)).await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let res = app.get(&query("agent-x", to, from), &dpo).await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;

    // After erasure the subject cannot be named any more; the entries still count.
    let res = app
        .post_json(
            "/v1/subjects/cust-a/erasure",
            &dpo,
            &json!({"reason": "The customer asked us to erase their data."}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    let report: Value = app.get(&query("agent-x", from, to), &dpo).await.json().await.unwrap();
    let names: Vec<&str> = report["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["subject_id"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["cust-b"]);
    assert_eq!(report["unattributed_entries"], 3);
}

#[tokio::test]
async fn denied_accesses_are_audited_without_raw_subject_ids() {
    let app = spawn_app().await;
    let theirs = app.decision_for("d-1", "cust-victim").await;
    let nosy = app.token(Role::Subject, "cust-nosy");
    let res = app.get(&format!("/v1/decisions/{theirs}"), &nosy).await;
    let problem = assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    assert!(!problem.to_string().contains("cust-victim"));
    let res = app.get("/v1/subjects/cust-victim/decisions", &nosy).await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = app.get("/v1/breaches", &app.token(Role::Reviewer, "rev-r")).await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    // Not denials of an object: a wrong URL, and a request without credentials.
    let before = app.audit_total().await;
    assert_eq!(
        app.get("/v1/no-such-route", &nosy).await.status(),
        StatusCode::NOT_FOUND
    );
    let res = app
        .client
        .get(app.url(&format!("/v1/decisions/{theirs}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.audit_total().await, before);

    let denied: Vec<(String, String, String, String)> = app
        .with_db(|c| {
            audit_log::table
                .filter(audit_log::action.eq("access.denied"))
                .order(audit_log::seq.asc())
                .select((
                    audit_log::actor,
                    audit_log::actor_role,
                    audit_log::object_id,
                    audit_log::details,
                ))
                .load(c)
        })
        .await;
    assert_eq!(denied.len(), 3, "{denied:?}");
    let nosy_ref = recourse::domain::subject::subject_ref("cust-nosy");
    assert_eq!(denied[0].0, nosy_ref);
    assert_eq!(denied[0].2, "/v1/decisions/{id}");
    let details: Value = serde_json::from_str(&denied[0].3).unwrap();
    assert_eq!(
        details,
        json!({"method": "GET", "status": 404, "params": {"id": theirs}})
    );
    let details: Value = serde_json::from_str(&denied[1].3).unwrap();
    assert_eq!(
        details["params"]["subject_id"],
        recourse::domain::subject::subject_ref("cust-victim")
    );
    assert_eq!((denied[2].0.as_str(), denied[2].1.as_str()), ("rev-r", "reviewer"));
    assert_eq!(serde_json::from_str::<Value>(&denied[2].3).unwrap()["status"], 403);
    assert!(
        denied
            .iter()
            .all(|d| !format!("{d:?}").contains("cust-victim") && !format!("{d:?}").contains("cust-nosy"))
    );

    let verify: Value = app
        .get("/v1/audit/verify", &app.token_for(Role::Dpo))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(verify["ok"], true, "{verify}");
}
