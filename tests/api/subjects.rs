//! Data-subject rights: access and portability export (GDPR Art. 15/20).

use std::collections::BTreeSet;

use diesel::prelude::*;
use recourse::db::schema::{appeals, audit_log, decisions};
use recourse::domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{assert_problem, decision_body, review_body, spawn_app};

#[tokio::test]
async fn the_export_holds_exactly_the_subjects_data_and_its_recipients() {
    let app = spawn_app().await;
    app.configure_reviewer("rev-1", &["credit_limit"], 10).await;
    app.register_engine("engine-1").await;
    app.register_engine("engine-2").await;
    for i in 0..6 {
        app.seed_decision(&format!("mine-{i}"), "subject-1").await;
        app.seed_decision(&format!("theirs-{i}"), "subject-2").await;
    }
    let mut other_engine = decision_body("mine-e2", "subject-1");
    other_engine["explanation"]["inputs"]["marker"] = json!("only-subject-1");
    app.post_decision("engine-2", &other_engine).await;
    let mut theirs = decision_body("theirs-marked", "subject-2");
    theirs["explanation"]["inputs"]["marker"] = json!("SUBJECT-2-SECRET");
    app.post_decision("engine-1", &theirs).await;
    // Appeals (and reviews) on some of each subject's decisions.
    let ids = |subject: &'static str| {
        app.with_db(move |c| {
            decisions::table
                .filter(decisions::subject_id.eq(subject))
                .select(decisions::id)
                .load::<String>(c)
        })
    };
    let mine = ids("subject-1").await;
    for d in &mine[..3] {
        assert_eq!(
            app.file_appeal_as_subject(d, "subject-1").await.status(),
            StatusCode::CREATED
        );
    }
    let their_ids = ids("subject-2").await;
    app.file_appeal_as_subject(&their_ids[0], "subject-2").await;
    for _ in 0..2 {
        let (appeal, token, _) = app.claim("rev-1").await.unwrap();
        app.review("rev-1", &appeal, &review_body(&token, "overturn")).await;
    }

    let res = app
        .get("/v1/subjects/subject-1/export", &app.token(Role::Subject, "subject-1"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let export: Value = res.json().await.unwrap();
    let text = export.to_string();
    assert!(
        !text.contains("subject-2") && !text.contains("SUBJECT-2-SECRET"),
        "another subject's data leaked"
    );
    assert!(
        !text.contains("rev-1"),
        "staff identities stay out of the subject's export"
    );

    let exported: BTreeSet<String> = export["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["decision"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(exported, mine.iter().cloned().collect::<BTreeSet<_>>());
    let exported_appeals: BTreeSet<String> = export["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| {
            d["appeals"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["id"].as_str().unwrap().to_owned())
        })
        .collect();
    let held_appeals: BTreeSet<String> = app
        .with_db(|c| {
            appeals::table
                .filter(appeals::subject_id.eq("subject-1"))
                .select(appeals::id)
                .load::<String>(c)
        })
        .await
        .into_iter()
        .collect();
    assert_eq!(exported_appeals, held_appeals);
    let reviews: usize = export["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["reviews"].as_array().unwrap().len())
        .sum();
    let notices: usize = export["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| {
            d["appeals"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["notices"].as_array().unwrap().len())
        })
        .sum();
    assert!(reviews >= 1 && notices >= 3, "reviews {reviews}, notices {notices}");
    let recipients: Vec<&str> = export["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["engine_id"].as_str().unwrap())
        .collect();
    assert_eq!(recipients, ["engine-1", "engine-2"]);
    assert!(text.contains("only-subject-1"));
}

#[tokio::test]
async fn who_may_export_and_how_it_is_audited() {
    let app = spawn_app().await;
    app.decision_for("a-1", "subject-1").await;
    let path = "/v1/subjects/subject-1/export";
    let res = app.get(path, &app.token(Role::Subject, "subject-2")).await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    for role in [Role::Reviewer, Role::Engine, Role::Admin, Role::Supervisor] {
        assert_problem(
            app.get(path, &app.token_for(role)).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }
    let res = app.get(path, &app.token(Role::Agent, "agent-ann")).await;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(problem["errors"][0]["pointer"], "/identity_method");
    let res = app
        .get(
            &format!("{path}?identity_method=kba"),
            &app.token(Role::Agent, "agent-ann"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(app.get(path, &app.token_for(Role::Dpo)).await.status(), StatusCode::OK);
    assert_eq!(
        app.get(path, &app.token(Role::Subject, "subject-1")).await.status(),
        StatusCode::OK
    );

    let reference = recourse::subjects::subject_ref("subject-1");
    let entries: Vec<(String, String)> = app
        .with_db(move |c| {
            audit_log::table
                .filter(audit_log::action.eq("subject.exported"))
                .filter(audit_log::object_id.eq(reference))
                .select((audit_log::actor, audit_log::actor_role))
                .load(c)
        })
        .await;
    assert_eq!(entries.len(), 3);
    assert!(
        entries.iter().all(|(actor, _)| !actor.contains("subject-1")),
        "{entries:?}"
    );
    assert!(
        entries
            .iter()
            .any(|(actor, role)| role == "subject" && actor.starts_with("subj_"))
    );
}
