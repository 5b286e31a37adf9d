//! Erasure finds every event about the subject (issue 13, finding 1). Six kinds used to be stored
//! without a subject link, so the corrected input values and the engines' `external_id`s stayed
//! in the outbox and the feed after an erasure. This test produces every event kind there is
//! about one subject, erases the subject, and checks that nothing personal is left; a new kind
//! that this scenario does not produce fails the coverage check, and one stored without its
//! subject link fails the canary.

use std::collections::BTreeSet;

use diesel::prelude::*;
use recourse::db::schema::outbox;
use recourse::domain::Role;
use recourse::outbox::EventKind;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, appeal_body, decision_body, review_body, spawn_app};

const SUBJECT: &str = "events-subject-5e1d";
const MARKERS: [&str; 5] = [SUBJECT, "EXTID-A-5e1d", "EXTID-B-5e1d", "EXTID-C-5e1d", "RECTVAL-5e1d"];

async fn ok(app: &TestApp, path: &str, token: &str, body: &Value) -> Value {
    let res = app.post_json(path, token, body).await;
    assert!(res.status().is_success(), "{path}: {}", res.text().await.unwrap());
    res.json().await.unwrap()
}

async fn decision(app: &TestApp, external_id: &str) -> String {
    let res = app
        .post_decision("engine-1", &decision_body(external_id, SUBJECT))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
}

/// Every event kind, about SUBJECT where a kind is about a person.
async fn every_kind_of_event(app: &TestApp) {
    app.register_engine("engine-1").await;
    app.configure_reviewer("rev-1", &["credit_limit"], 5).await;
    let (subject, dpo, supervisor) = (
        app.token(Role::Subject, SUBJECT),
        app.token_for(Role::Dpo),
        app.token_for(Role::Supervisor),
    );
    let a = decision(app, "EXTID-A-5e1d").await;
    let b = decision(app, "EXTID-B-5e1d").await;

    // appeal.filed, appeal.extended, appeal.withdrawn
    let filed = ok(app, &format!("/v1/decisions/{a}/appeals"), &subject, &appeal_body()).await;
    let appeal = filed["id"].as_str().unwrap();
    ok(
        app,
        &format!("/v1/appeals/{appeal}/extension"),
        &supervisor,
        &json!({"months": 1, "reason": "Records"}),
    )
    .await;
    ok(app, &format!("/v1/appeals/{appeal}/withdrawal"), &subject, &json!({})).await;
    // appeal.decided, decision.overridden
    let filed = ok(app, &format!("/v1/decisions/{a}/appeals"), &subject, &appeal_body()).await;
    let appeal = filed["id"].as_str().unwrap();
    let (_, token, _) = app.claim("rev-1").await.unwrap();
    assert_eq!(
        app.review("rev-1", appeal, &review_body(&token, "overturn"))
            .await
            .status(),
        StatusCode::OK
    );
    // decision.review_required, model.suspended, model.suspension_lifted
    ok(
        app,
        "/v1/models/limits/suspension",
        &supervisor,
        &json!({"reason": "Drift alarm"}),
    )
    .await;
    decision(app, "EXTID-C-5e1d").await;
    let res = app
        .client
        .delete(app.url("/v1/models/limits/suspension"))
        .bearer_auth(&supervisor)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // decision.rectification_requested, subject.restricted, decision.rectified,
    // subject.restriction_lifted
    let rect = ok(
        app,
        &format!("/v1/subjects/{SUBJECT}/rectifications"),
        &subject,
        &json!({"decision_id": b, "corrected_inputs": {"employer": "RECTVAL-5e1d"}, "note": "Payslips"}),
    )
    .await;
    let path = format!(
        "/v1/subjects/{SUBJECT}/rectifications/{}/resolution",
        rect["id"].as_str().unwrap()
    );
    ok(
        app,
        &path,
        &dpo,
        &json!({"accept": true, "note": "Payslips confirm it"}),
    )
    .await;
    // subject.objected, subject.objection_overridden
    ok(
        app,
        &format!("/v1/subjects/{SUBJECT}/objection"),
        &subject,
        &json!({"scope": "profiling", "grounds": "No profiling"}),
    )
    .await;
    ok(
        app,
        &format!("/v1/subjects/{SUBJECT}/objection/compelling-grounds"),
        &dpo,
        &json!({"scope": "profiling", "grounds": "Fraud screening is required by law"}),
    )
    .await;
    // subject.erased
    ok(
        app,
        &format!("/v1/subjects/{SUBJECT}/erasure"),
        &dpo,
        &json!({"reason": "Asked by letter"}),
    )
    .await;
}

fn markers_in(text: &str) -> Vec<&'static str> {
    MARKERS.iter().copied().filter(|m| text.contains(m)).collect()
}

#[tokio::test]
async fn erasure_leaves_no_personal_data_in_any_kind_of_event() {
    let app = spawn_app().await;
    every_kind_of_event(&app).await;

    let rows: Vec<(String, String, Option<String>, Option<String>)> = app
        .with_db(|c| {
            outbox::table
                .select((
                    outbox::event_type,
                    outbox::payload,
                    outbox::subject_id,
                    outbox::personal_data_of,
                ))
                .load(c)
        })
        .await;
    let produced: BTreeSet<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    let every: BTreeSet<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(
        produced, every,
        "the scenario produces every kind of event, and only those"
    );

    for (kind, payload, subject_id, personal_data_of) in &rows {
        let found = markers_in(payload);
        if kind == "subject.erased" {
            // The engine is told which of its own records to erase, and nothing more.
            assert!(
                !found.contains(&"RECTVAL-5e1d") && !found.contains(&SUBJECT),
                "{kind}: {payload}"
            );
        } else {
            assert!(found.is_empty(), "{kind} still holds {found:?}: {payload}");
        }
        for link in [subject_id, personal_data_of] {
            assert_ne!(link.as_deref(), Some(SUBJECT), "{kind} is still linked to the subject");
        }
    }

    // The engine's feed serves nothing personal either (once every event is visible).
    let engine = app.token(Role::Engine, "engine-1");
    let mut feed = Value::Null;
    for _ in 0..100 {
        feed = app.get("/v1/feedback?limit=1000", &engine).await.json().await.unwrap();
        if feed["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "subject.erased")
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let items = feed["items"].as_array().unwrap();
    assert!(items.iter().any(|e| e["type"] == "subject.erased"), "{feed}");
    for item in items.iter().filter(|e| e["type"] != "subject.erased") {
        assert!(markers_in(&item.to_string()).is_empty(), "{item}");
    }
}

/// `outbox::enqueue` refuses an event about a person that does not name them, so a new call site
/// cannot forget the link.
#[tokio::test]
async fn an_event_without_its_subject_link_is_refused() {
    use recourse::outbox::{About, enqueue};
    let app = spawn_app().await;
    for (kind, about) in [
        (EventKind::DecisionRectified, About::Nobody),
        (EventKind::AppealFiled, About::Nobody),
        (EventKind::SubjectErased, About::Subject("someone")),
        (EventKind::ModelSuspended, About::Subject("someone")),
    ] {
        let refused = app.db.run(move |c| enqueue(c, kind, None, about, json!({}))).await;
        assert!(refused.is_err(), "{kind:?} with {about:?}");
    }
}
