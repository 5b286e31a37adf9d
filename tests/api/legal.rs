//! Rules of law that the first reviews got wrong (issue 12): one regression test per defect.
//! Each failed on the code before its fix.

use diesel::prelude::*;
use recourse::db::schema::{appeals, audit_log};
use recourse::domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, decision_body, pointers, review_body, spawn_app};

const REASON: &str = "Documented in the case file";

async fn export(app: &TestApp, subject: &str) -> Value {
    let res = app
        .get(&format!("/v1/subjects/{subject}/export"), &app.token_for(Role::Dpo))
        .await;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    res.json().await.unwrap()
}

fn notice_kinds(export: &Value) -> Vec<String> {
    export["notices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap().to_owned())
        .collect()
}

fn notice_of_kind<'a>(notices: &'a Value, kind: &str) -> &'a str {
    notices
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} notice in {notices}"))["body"]
        .as_str()
        .unwrap()
}

async fn actions(app: &TestApp, action: &'static str) -> Vec<Value> {
    app.with_db(move |c| {
        audit_log::table
            .filter(audit_log::action.eq(action))
            .select(audit_log::details)
            .load::<String>(c)
    })
    .await
    .into_iter()
    .map(|d| serde_json::from_str(&d).unwrap())
    .collect()
}

async fn decision_of(app: &TestApp, appeal: &str) -> String {
    let id = appeal.to_owned();
    app.with_db(move |c| appeals::table.find(id).select(appeals::decision_id).first::<String>(c))
        .await
}

/// Keeps `credit_limit` decisions for 25 months (Reg B); other types have no hold.
async fn hold_credit_decisions(app: &TestApp) {
    let res = app
        .put_json(
            "/v1/policies/credit_limit",
            &app.token_for(Role::Admin),
            &json!({"retention_months": 25}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

async fn post_json_ok(app: &TestApp, path: &str, token: &str, body: &Value) -> Value {
    let res = app.post_json(path, token, body).await;
    assert!(res.status().is_success(), "{path}: {}", res.text().await.unwrap());
    res.json().await.unwrap()
}

async fn suspend_limits(app: &TestApp) {
    let res = app
        .post_json(
            "/v1/models/limits/suspension",
            &app.token_for(Role::Supervisor),
            &json!({"reason": "Drift alarm: approval rate fell overnight"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

/// Defect 1: a partial erasure kept the held decisions under the real subject id but wiped the
/// objection, the restriction (without notice) and so made held appeals claimable.
#[tokio::test]
async fn a_partial_erasure_keeps_the_safeguards_around_the_data_it_keeps() {
    let app = spawn_app().await;
    hold_credit_decisions(&app).await;
    app.configure_reviewer("rev-1", &["credit_limit"], 5).await;
    let held_appeal = app.queued_appeal("held", "s-1").await;
    let mut offer = decision_body("erasable", "s-1");
    offer["decision_type"] = json!("marketing_offer");
    assert_eq!(
        app.post_decision("engine-1", &offer).await.status(),
        StatusCode::CREATED
    );
    let subject = app.token(Role::Subject, "s-1");
    for scope in ["direct_marketing", "profiling"] {
        post_json_ok(
            &app,
            "/v1/subjects/s-1/objection",
            &subject,
            &json!({"scope": scope, "grounds": "No automated profiling or marketing, please"}),
        )
        .await;
    }
    post_json_ok(
        &app,
        "/v1/subjects/s-1/restriction",
        &app.token_for(Role::Dpo),
        &json!({"reason": "Accuracy contested by phone"}),
    )
    .await;

    let report = app.erase_subject("s-1").await;
    assert_eq!(
        (
            report["decisions_erased"].as_u64(),
            report["retained"].as_array().unwrap().len()
        ),
        (Some(1), 1)
    );

    let after = export(&app, "s-1").await;
    assert_eq!(after["objections"].as_array().unwrap().len(), 2, "{after}");
    assert!(after["restricted_since"].is_string(), "the restriction stays: {after}");
    assert_eq!(
        after["legal_holds"][0]["decision_id"],
        decision_of(&app, &held_appeal).await
    );
    assert!(
        !app.outbox_types()
            .await
            .contains(&"subject.restriction_lifted".to_owned())
    );
    let res = app.post_decision("engine-1", &decision_body("after", "s-1")).await;
    assert_problem(res, StatusCode::CONFLICT, "objection_in_force").await;
    assert!(app.claim("rev-1").await.is_none(), "held appeals stay restricted");
}

/// Defect 2: the export answered 404 when the subject had no decision, although objections,
/// restrictions and notices can exist without one.
#[tokio::test]
async fn the_export_gives_what_is_held_about_a_subject_without_decisions() {
    let app = spawn_app().await;
    post_json_ok(
        &app,
        "/v1/subjects/no-decisions/objection",
        &app.token(Role::Subject, "no-decisions"),
        &json!({"scope": "direct_marketing", "grounds": "No marketing, please"}),
    )
    .await;
    let res = app
        .get(
            "/v1/subjects/no-decisions/export",
            &app.token(Role::Subject, "no-decisions"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["objections"][0]["scope"], "direct_marketing");
    assert_eq!(body["decisions"], json!([]));
    let res = app.get("/v1/subjects/nobody/export", &app.token_for(Role::Dpo)).await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
}

/// Defect 3: the restriction was lifted only when the rectification that set it was the last one
/// resolved; resolving R1 before R2 left it for ever.
#[tokio::test]
async fn a_rectification_restriction_ends_whatever_order_the_rectifications_are_resolved() {
    let app = spawn_app().await;
    app.configure_reviewer("rev-1", &["credit_limit"], 5).await;
    let appeal = app.queued_appeal("r-1", "s-1").await;
    let first = decision_of(&app, &appeal).await;
    let second = app.decision_for("r-2", "s-1").await;
    let subject = app.token(Role::Subject, "s-1");
    let mut ids = Vec::new();
    for decision in [&first, &second] {
        let body = json!({"decision_id": decision, "corrected_inputs": {"annual_income": 41000}, "note": "Payslips"});
        let rect = post_json_ok(&app, "/v1/subjects/s-1/rectifications", &subject, &body).await;
        ids.push(rect["id"].as_str().unwrap().to_owned());
    }
    let dpo = app.token_for(Role::Dpo);
    for id in &ids {
        let path = format!("/v1/subjects/s-1/rectifications/{id}/resolution");
        post_json_ok(
            &app,
            &path,
            &dpo,
            &json!({"accept": true, "note": "Payslips confirm it"}),
        )
        .await;
    }
    let after = export(&app, "s-1").await;
    assert_eq!(after["restricted_since"], Value::Null, "{after}");
    assert!(notice_kinds(&after).contains(&"restriction_lift".to_owned()));
    assert!(app.claim("rev-1").await.is_some(), "the appeal is claimable again");
}

/// Defect 4: decisions kept under a legal hold after an erasure still went into retraining labels.
#[tokio::test]
async fn data_kept_under_a_legal_hold_is_not_reused_for_training() {
    let app = spawn_app().await;
    hold_credit_decisions(&app).await;
    app.configure_reviewer("rev-1", &["credit_limit"], 5).await;
    let appeal = app.queued_appeal("held", "s-1").await;
    let (_, token, _) = app.claim("rev-1").await.unwrap();
    let res = app.review("rev-1", &appeal, &review_body(&token, "overturn")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(app.labels().await.lines().count(), 1);
    let report = app.erase_subject("s-1").await;
    assert_eq!(report["retained"].as_array().unwrap().len(), 1);
    assert_eq!(app.labels().await.lines().count(), 0, "held data leaves the labels");
}

/// Defect 5: review tasks the kill switch files counted as complaints in the DSA report.
#[tokio::test]
async fn kill_switch_reviews_are_not_counted_as_complaints() {
    let app = spawn_app().await;
    app.queued_appeal("complaint", "s-1").await;
    suspend_limits(&app).await;
    let res = app.post_decision("engine-1", &decision_body("during", "s-2")).await;
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "under_appeal");
    let report: Value = app
        .get("/v1/reports/transparency", &app.token_for(Role::Dpo))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["appeals_received"], 1, "{report}");
    assert_eq!(report["by_ground"], json!({"inaccurate_data": 1}));
}

/// Defect 6: an overturn to the outcome already in force was counted as a reversal and told to
/// the subject as one; notices showed raw outcome codes.
#[tokio::test]
async fn an_overturn_must_change_the_outcome_and_notices_say_it_in_words() {
    let app = spawn_app().await;
    app.configure_reviewer("rev-1", &["credit_limit"], 5).await;
    let appeal = app.queued_appeal("a-1", "s-1").await;
    let (_, token, _) = app.claim("rev-1").await.unwrap();
    for outcome in ["overturn", "amend"] {
        let mut same = review_body(&token, outcome);
        same["new_outcome"] = json!("declined");
        let res = app.review("rev-1", &appeal, &same).await;
        let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(pointers(&problem), ["/new_outcome"]);
        assert!(
            problem["errors"][0]["detail"]
                .as_str()
                .unwrap()
                .contains("already the outcome in force")
        );
    }
    assert!(app.outbox_types().await.iter().all(|t| t != "decision.overridden"));
    let mut amend = review_body(&token, "amend");
    amend["new_outcome"] = json!("approved_reduced");
    let detail: Value = app.review("rev-1", &appeal, &amend).await.json().await.unwrap();
    let body = notice_of_kind(&detail["notices"], "outcome");
    assert!(body.contains("The outcome is now: approved reduced."), "{body}");
    assert!(!body.contains("approved_reduced"), "{body}");
}

/// Defect 7: an open kill-switch review blocked the subject's own appeal (409), and the subject
/// was then told "A person has reviewed your appeal" for an appeal they never filed.
#[tokio::test]
async fn a_subject_appeals_while_a_kill_switch_review_is_open_and_notices_tell_the_truth() {
    let app = spawn_app().await;
    app.configure_reviewer("rev-1", &["credit_limit"], 5).await;
    app.register_engine("engine-1").await;
    suspend_limits(&app).await;
    let decision: Value = app
        .post_decision("engine-1", &decision_body("contested", "s-1"))
        .await
        .json()
        .await
        .unwrap();
    let decision_id = decision["id"].as_str().unwrap();
    // The reviewer has the task when the subject's appeal arrives: it goes back to the queue so
    // that the review considers the subject's statement.
    let (task, stale_token, _) = app.claim("rev-1").await.unwrap();
    let res = app.file_appeal_as_subject(decision_id, "s-1").await;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
    let appeal: Value = res.json().await.unwrap();
    assert_eq!(appeal["id"], task.as_str(), "the appeal joins the open task");
    assert_eq!(appeal["status"], "queued");
    assert!(appeal["statement"].as_str().unwrap().contains("41,000"));
    assert!(!notice_of_kind(&appeal["notices"], "acknowledgement").is_empty());
    let res = app.review("rev-1", &task, &review_body(&stale_token, "uphold")).await;
    assert_problem(res, StatusCode::CONFLICT, "stale_lease").await;
    let (claimed, token, case) = app.claim("rev-1").await.unwrap();
    assert_eq!(claimed, task);
    assert!(case.to_string().contains("41,000"), "the reviewer sees the statement");
    let detail: Value = app
        .review("rev-1", &task, &review_body(&token, "uphold"))
        .await
        .json()
        .await
        .unwrap();
    assert!(notice_of_kind(&detail["notices"], "outcome").contains("reviewed your appeal"));

    // A task nobody appealed: the notice says why a person looked at it.
    app.post_decision("engine-1", &decision_body("unappealed", "s-2")).await;
    let (task, token, _) = app.claim("rev-1").await.unwrap();
    let detail: Value = app
        .review("rev-1", &task, &review_body(&token, "uphold"))
        .await
        .json()
        .await
        .unwrap();
    let body = notice_of_kind(&detail["notices"], "outcome");
    assert!(
        body.contains("was suspended") && !body.contains("your appeal"),
        "{body}"
    );
    // The subject cannot end a mandatory review by withdrawing.
    let res = app
        .post_json(
            &format!("/v1/appeals/{}/withdrawal", appeal["id"].as_str().unwrap()),
            &app.token(Role::Subject, "s-1"),
            &json!({}),
        )
        .await;
    assert!(res.status().is_client_error());
}

/// Defect 10 (Art. 12(4)): every request that is not acted on is answered with the reasons and
/// the routes to redress, in the transaction that refuses it, and audited.
#[tokio::test]
async fn requests_not_acted_on_are_answered_with_reasons_and_redress() {
    let app = spawn_app().await;
    let dpo = app.token_for(Role::Dpo);

    // A filing whose window closed.
    app.register_engine("engine-1").await;
    let mut old = decision_body("old", "s-late");
    old["decided_at"] = json!("2024-01-10T10:00:00Z");
    let old: Value = app.post_decision("engine-1", &old).await.json().await.unwrap();
    let res = app.file_appeal_as_subject(old["id"].as_str().unwrap(), "s-late").await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "filing_window_closed").await;
    let body = export(&app, "s-late").await;
    let notice = notice_of_kind(&body["notices"], "appeal_refused");
    assert!(
        notice.contains("supervisory authority") && notice.contains("2024"),
        "{notice}"
    );
    assert_eq!(actions(&app, "appeal.refused").await.len(), 1);

    // A rejected rectification.
    let decision = app.decision_for("r-1", "s-rect").await;
    let rect = post_json_ok(
        &app,
        "/v1/subjects/s-rect/rectifications",
        &app.token(Role::Subject, "s-rect"),
        &json!({"decision_id": decision, "corrected_inputs": {"annual_income": 99000}, "note": "Payslips"}),
    )
    .await;
    let path = format!(
        "/v1/subjects/s-rect/rectifications/{}/resolution",
        rect["id"].as_str().unwrap()
    );
    post_json_ok(
        &app,
        &path,
        &dpo,
        &json!({"accept": false, "note": "The payslips are for another person"}),
    )
    .await;
    let notice_text = notice_of_kind(&export(&app, "s-rect").await["notices"], "rectification_rejected").to_owned();
    assert!(notice_text.contains("another person") && notice_text.contains("courts"));

    // Compelling grounds override an objection.
    app.decision_for("o-1", "s-obj").await;
    post_json_ok(
        &app,
        "/v1/subjects/s-obj/objection",
        &app.token(Role::Subject, "s-obj"),
        &json!({"scope": "profiling", "grounds": "No profiling"}),
    )
    .await;
    post_json_ok(
        &app,
        "/v1/subjects/s-obj/objection/compelling-grounds",
        &dpo,
        &json!({"scope": "profiling", "grounds": "Fraud screening is required by law"}),
    )
    .await;
    let notice_text = notice_of_kind(&export(&app, "s-obj").await["notices"], "objection_overridden").to_owned();
    assert!(notice_text.contains("required by law") && notice_text.contains("supervisory authority"));

    // A hold refuses an erasure.
    hold_credit_decisions(&app).await;
    app.decision_for("h-1", "s-held").await;
    app.erase_subject("s-held").await;
    let notice_text = notice_of_kind(&export(&app, "s-held").await["notices"], "erasure_refused").to_owned();
    assert!(
        notice_text.contains("25 months") && notice_text.contains("courts"),
        "{notice_text}"
    );

    // An appeal that goes overdue.
    let appeal = app.queued_appeal("late", "s-overdue").await;
    let id = appeal.clone();
    app.with_db(move |c| {
        let received = (chrono::Utc::now() - chrono::Duration::days(40)).naive_utc();
        diesel::update(appeals::table.find(id))
            .set((
                appeals::received_at.eq(received),
                appeals::due_at.eq(received + chrono::Duration::days(30)),
                appeals::escalate_at.eq(received),
            ))
            .execute(c)
    })
    .await;
    recourse::appeals::sweeper::sweep_once(&app.db, Default::default())
        .await
        .unwrap();
    let detail: Value = app
        .get(&format!("/v1/appeals/{appeal}"), &dpo)
        .await
        .json()
        .await
        .unwrap();
    assert!(notice_of_kind(&detail["notices"], "overdue").contains("supervisory authority"));
    let overdue = actions(&app, "appeal.overdue").await;
    assert!(overdue[0]["notice_id"].is_string(), "{overdue:?}");

    let told: Vec<String> = actions(&app, "subject.notified")
        .await
        .iter()
        .map(|d| d["kind"].as_str().unwrap().to_owned())
        .collect();
    for kind in [
        "appeal_refused",
        "rectification_rejected",
        "objection_overridden",
        "erasure_refused",
    ] {
        assert!(told.contains(&kind.to_owned()), "{kind} is audited: {told:?}");
    }
}

/// A caller who rings back and reaches another agent can withdraw, after an identity check that
/// is recorded; without one the agent is refused.
#[tokio::test]
async fn another_agent_withdraws_for_a_caller_after_an_identity_check() {
    let app = spawn_app().await;
    let appeal = app.queued_appeal("a-1", "s-1").await;
    let path = format!("/v1/appeals/{appeal}/withdrawal");
    let agent = app.token(Role::Agent, "agent-2");
    let res = app.post_json(&path, &agent, &json!({})).await;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(pointers(&problem), ["/identity_method"]);
    let res = app
        .post_json(&path, &agent, &json!({"identity_method": "security questions"}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let audited = actions(&app, "appeal.withdrawn").await;
    assert_eq!(audited[0]["identity_checked_by_agent"], true);
    assert_eq!(audited[0]["identity_method"], "security questions");
}

/// A lease taken before a restriction cannot decide the review while the restriction holds.
#[tokio::test]
async fn a_review_leased_before_a_restriction_waits_for_its_lift() {
    let app = spawn_app().await;
    app.configure_reviewer("rev-1", &["credit_limit"], 5).await;
    let appeal = app.queued_appeal("a-1", "s-1").await;
    let (_, token, _) = app.claim("rev-1").await.unwrap();
    post_json_ok(
        &app,
        "/v1/subjects/s-1/restriction",
        &app.token_for(Role::Dpo),
        &json!({"reason": REASON}),
    )
    .await;
    let res = app.review("rev-1", &appeal, &review_body(&token, "overturn")).await;
    assert_problem(res, StatusCode::CONFLICT, "processing_restricted").await;
    assert_eq!(app.review_count(&appeal).await, 0);
}
