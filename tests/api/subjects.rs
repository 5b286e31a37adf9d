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

    let reference = recourse::domain::subject::subject_ref("subject-1");
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

mod erasure {
    use std::time::Duration;

    use recourse::domain::Role;
    use reqwest::StatusCode;
    use serde_json::{Value, json};

    use crate::helpers::{RATIONALE, TestApp, appeal_body, assert_problem, decision_body, spawn_app, spawn_app_with};

    const SUBJECT: &str = "canarysubj7f3a";
    const MARKERS: [&str; 10] = [
        SUBJECT,
        "CANARY-INPUT-7f3a",
        "CANARY-CF-7f3a",
        "CANARY-STATEMENT-7f3a",
        "CANARY-CORR-7f3a",
        "CANARY-REQ-7f3a",
        "CANARY-EVID-7f3a",
        "CANARY-IDM-7f3a",
        "CANARY-EXT-7f3a",
        "CANARY-RECT-7f3a",
    ];

    /// One decision about SUBJECT with a marker in every personal-data field, appealed by an
    /// agent, extended, reviewed and exported. Returns the decision id.
    async fn marked_history(app: &TestApp) -> String {
        app.configure_reviewer("rev-1", &["credit_limit"], 5).await;
        let mut decision = decision_body("canary-app", SUBJECT);
        decision["explanation"]["inputs"]["employer"] = json!("CANARY-INPUT-7f3a");
        decision["explanation"]["counterfactual"]["text"] = json!("CANARY-CF-7f3a would have changed it");
        app.decision_for("warmup", "someone-else").await;
        let res = app.post_decision("engine-1", &decision).await;
        let decision_id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
        let mut appeal = appeal_body();
        appeal["statement"] = json!("CANARY-STATEMENT-7f3a: my employer is wrong.");
        appeal["corrected_inputs"] = json!({"employer": "CANARY-CORR-7f3a"});
        appeal["requested_outcome"] = json!("CANARY-REQ-7f3a");
        appeal["evidence"][0]["name"] = json!("CANARY-EVID-7f3a.pdf");
        appeal["channel"] = json!("phone");
        appeal["identity_check"] = json!({"method": "CANARY-IDM-7f3a", "result": "verified"});
        let res = app
            .client
            .post(app.url(&format!("/v1/decisions/{decision_id}/appeals")))
            .bearer_auth(app.token(Role::Agent, "agent-ann"))
            .header("Idempotency-Key", "canary-key")
            .json(&appeal)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let appeal_id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
        let res = app
            .post_json(
                &format!("/v1/appeals/{appeal_id}/extension"),
                &app.token_for(Role::Supervisor),
                &json!({"months": 1, "reason": "CANARY-EXT-7f3a records requested"}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let (claimed, token, _) = app.claim("rev-1").await.unwrap();
        assert_eq!(claimed, appeal_id);
        let review = json!({
            "lease_token": token,
            "outcome": "overturn",
            "new_outcome": "approved",
            "rationale": format!("{RATIONALE} The employer on file, CANARY-RECT-7f3a, was confirmed."),
            "factors_considered": ["input:employer", "statement"],
            "rectified_inputs": {"employer": "CANARY-RECT-7f3a"},
        });
        assert_eq!(app.review("rev-1", &appeal_id, &review).await.status(), StatusCode::OK);
        let res = app
            .get(
                &format!("/v1/subjects/{SUBJECT}/export"),
                &app.token(Role::Subject, SUBJECT),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        decision_id
    }

    /// Every marker still present anywhere: the SQLite file and its WAL byte by byte, or every
    /// row of every table as text on Postgres.
    async fn surviving_markers(app: &TestApp) -> Vec<String> {
        if app.database_url.starts_with("postgres") {
            use diesel::prelude::*;
            let tables: Vec<String> = {
                #[derive(QueryableByName)]
                struct T {
                    #[diesel(sql_type = diesel::sql_types::Text)]
                    tablename: String,
                }
                app.with_db(|c| {
                    diesel::sql_query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").load::<T>(c)
                })
                .await
                .into_iter()
                .map(|t| t.tablename)
                .collect()
            };
            let mut found = Vec::new();
            for table in tables {
                for marker in MARKERS {
                    #[derive(QueryableByName)]
                    struct N {
                        #[diesel(sql_type = diesel::sql_types::BigInt)]
                        n: i64,
                    }
                    let sql = format!("SELECT count(*) AS n FROM \"{table}\" t WHERE t::text LIKE '%{marker}%'");
                    let n = app.with_db(move |c| diesel::sql_query(sql).get_result::<N>(c)).await.n;
                    if n > 0 {
                        found.push(format!("{marker} in {table}"));
                    }
                }
            }
            found
        } else {
            let mut bytes = std::fs::read(&app.database_url).unwrap();
            if let Ok(wal) = std::fs::read(format!("{}-wal", app.database_url)) {
                bytes.extend(wal);
            }
            MARKERS
                .iter()
                .filter(|m| bytes.windows(m.len()).any(|w| w == m.as_bytes()))
                .map(|m| m.to_string())
                .collect()
        }
    }

    #[tokio::test]
    async fn the_canary_markers_are_gone_and_the_audit_log_still_verifies() {
        let app = spawn_app_with(|s| s.workflow.seal_interval = Duration::from_secs(3600)).await;
        let decision_id = marked_history(&app).await;
        app.db.write(recourse::audit::seal::seal_once).await.unwrap();
        assert!(
            !surviving_markers(&app).await.is_empty(),
            "the canary must be present before erasure"
        );
        let labels = app.labels().await;
        assert!(
            labels.contains(&decision_id),
            "a reviewed decision is a label before erasure"
        );

        let report = app.erase_subject(SUBJECT).await;
        assert_eq!(report["decisions_erased"], 1);
        assert_eq!(report["appeals_erased"], 1);
        assert_eq!(report["engines_notified"], json!(["engine-1"]));
        assert_eq!(report["retained"], json!([]));

        let survivors = surviving_markers(&app).await;
        assert!(survivors.is_empty(), "markers survived erasure: {survivors:?}");
        app.db.write(recourse::audit::seal::seal_once).await.unwrap();
        let verification = app.db.run(|c| recourse::audit::verify::verify(c, None)).await.unwrap();
        assert!(verification.ok, "{verification:?}");

        // Reads afterwards find nothing, and the engine hears of it.
        let res = app
            .get(&format!("/v1/subjects/{SUBJECT}/export"), &app.token_for(Role::Dpo))
            .await;
        assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
        let page: Value = app
            .get(&format!("/v1/subjects/{SUBJECT}/decisions"), &app.token_for(Role::Dpo))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(page["items"], json!([]));
        let kept: Value = app
            .get(&format!("/v1/decisions/{decision_id}"), &app.token_for(Role::Dpo))
            .await
            .json()
            .await
            .unwrap();
        assert!(kept["subject_id"].as_str().unwrap().starts_with("erased-"));
        assert!(app.outbox_types().await.contains(&"subject.erased".to_owned()));

        // The retraining export leaves the erased decision out.
        let labels = app.labels().await;
        assert!(!labels.contains(&decision_id), "{labels}");

        // Erasing twice changes nothing.
        let before = app.audit_total().await;
        let again = app.erase_subject(SUBJECT).await;
        assert_eq!(
            (again["decisions_erased"].as_u64(), again.get("tombstone")),
            (Some(0), None)
        );
        assert_eq!(app.audit_total().await, before);
    }

    #[tokio::test]
    async fn a_legal_hold_keeps_the_decision_and_says_why_and_until_when() {
        let app = spawn_app().await;
        let res = app
            .put_json(
                "/v1/policies/credit_limit",
                &app.token_for(Role::Admin),
                &json!({"retention_months": 25}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        app.decision_for("held", SUBJECT).await;
        let report = app.erase_subject(SUBJECT).await;
        assert_eq!(report["decisions_erased"], 0);
        let retained = &report["retained"][0];
        assert!(retained["reason"].as_str().unwrap().contains("25 months"));
        let until: chrono::DateTime<chrono::Utc> = retained["until"].as_str().unwrap().parse().unwrap();
        let decided: chrono::DateTime<chrono::Utc> =
            decision_body("x", "y")["decided_at"].as_str().unwrap().parse().unwrap();
        assert_eq!(until, decided.checked_add_months(chrono::Months::new(25)).unwrap());
        let res = app
            .get(&format!("/v1/subjects/{SUBJECT}/export"), &app.token_for(Role::Dpo))
            .await;
        assert_eq!(res.status(), StatusCode::OK, "held data is still there");
        let held: i64 = {
            use diesel::prelude::*;
            use recourse::db::schema::audit_log;
            app.with_db(|c| {
                audit_log::table
                    .filter(audit_log::action.eq("subject.erasure_held"))
                    .count()
                    .get_result(c)
            })
            .await
        };
        assert_eq!(held, 1, "a request answered only with holds is still recorded");
        let res = app
            .post_json(
                &format!("/v1/subjects/{SUBJECT}/erasure"),
                &app.token_for(Role::Agent),
                &json!({"reason": "x"}),
            )
            .await;
        assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    }
}

#[tokio::test]
async fn erasure_withdraws_open_appeals_so_nobody_reviews_an_empty_case() {
    let app = spawn_app().await;
    app.configure_reviewer("rev-1", &["credit_limit"], 5).await;
    let appeal = app.queued_appeal("open-1", "subject-9").await;
    let res = app
        .post_json(
            "/v1/subjects/subject-9/erasure",
            &app.token_for(Role::Dpo),
            &json!({"reason": "request"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(app.claim("rev-1").await.is_none());
    let detail: Value = app
        .get(&format!("/v1/appeals/{appeal}"), &app.token_for(Role::Dpo))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["status"], "withdrawn");
}

mod restriction {
    use std::collections::HashSet;

    use recourse::domain::Role;
    use reqwest::StatusCode;
    use serde_json::{Value, json};

    use crate::helpers::{assert_problem, spawn_app};

    #[tokio::test]
    async fn restricted_subjects_are_never_claimed_carry_no_data_and_are_told_before_the_lift() {
        let app = spawn_app().await;
        let appeals = app.seed_queued_appeals("r", 30).await;
        let restricted: Vec<String> = (0..5).map(|i| format!("r-s-{i}")).collect();
        for subject in &restricted {
            let res = app
                .post_json(
                    &format!("/v1/subjects/{subject}/restriction"),
                    &app.token_for(Role::Dpo),
                    &json!({"reason": "accuracy contested"}),
                )
                .await;
            assert_eq!(res.status(), StatusCode::OK);
        }
        let reviewers: Vec<String> = (0..8).map(|r| format!("rr-{r}")).collect();
        for r in &reviewers {
            app.configure_reviewer(r, &["credit_limit"], 2).await;
        }
        let drained = app.drain_queue(std::slice::from_ref(&app.address), &reviewers).await;
        let held: HashSet<&String> = appeals[..5].iter().collect();
        assert_eq!(drained.handed_out.len(), 25);
        assert!(
            drained.handed_out.keys().all(|id| !held.contains(id)),
            "a restricted subject's appeal was claimed"
        );

        // The feed keeps their events in place but without data; the announcements go through.
        // On PostgreSQL the feed serves an event once no older transaction in the cluster is
        // still open (see src/feedback/feed.rs), which other tests running at the same time can
        // delay for a moment: read again (for up to 10 s) until the counts settle.
        let counts = |feed: &Value| {
            let items = feed["items"].as_array().unwrap();
            let blank = items
                .iter()
                .filter(|e| e["data"] == json!({"restricted": true}))
                .count();
            (
                blank,
                items.iter().filter(|e| e["type"] == "subject.restricted").count(),
            )
        };
        let mut feed = Value::Null;
        for _ in 0..100 {
            feed = app
                .get("/v1/feedback?limit=1000", &app.token(Role::Engine, "engine-1"))
                .await
                .json()
                .await
                .unwrap();
            if counts(&feed) == (5, 5) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let (blank, announced) = counts(&feed);
        assert_eq!(blank, 5, "the five appeal.filed events about restricted subjects");
        assert_eq!(announced, 5);
        assert!(!feed.to_string().contains("r-s-0\""));

        // A decided subject who becomes restricted drops out of the labels.
        let labels_before = app.labels().await;
        let subject = "r-s-10";
        app.post_json(
            &format!("/v1/subjects/{subject}/restriction"),
            &app.token_for(Role::Dpo),
            &json!({"reason": "objection pending"}),
        )
        .await;
        let labels_after = app.labels().await;
        assert_eq!(labels_after.lines().count() + 1, labels_before.lines().count());

        // Lifting: the notice first, then the appeal is claimable again.
        let res = app
            .delete_json(
                "/v1/subjects/r-s-0/restriction",
                &app.token_for(Role::Dpo),
                &json!({"reason": "the accuracy question was settled"}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let lifted: Value = res.json().await.unwrap();
        assert_eq!(lifted["notice"]["kind"], "restriction_lift");
        assert!(lifted["notice"]["body"].as_str().unwrap().contains("settled"));
        let export: Value = app
            .get("/v1/subjects/r-s-0/export", &app.token(Role::Subject, "r-s-0"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(export["notices"][0]["kind"], "restriction_lift");
        assert_eq!(export["restricted_since"], Value::Null);
        let (claimed, _, _) = app.claim("rr-0").await.unwrap();
        assert_eq!(claimed, appeals[0]);

        let res = app
            .delete_json(
                "/v1/subjects/r-s-0/restriction",
                &app.token_for(Role::Dpo),
                &json!({"reason": "again"}),
            )
            .await;
        assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
        let res = app
            .post_json(
                "/v1/subjects/r-s-1/restriction",
                &app.token_for(Role::Reviewer),
                &json!({"reason": "x"}),
            )
            .await;
        assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    }

    #[tokio::test]
    async fn new_decisions_about_a_restricted_subject_are_stored_and_flagged() {
        let app = spawn_app().await;
        app.decision_for("before", "r-new").await;
        let restrict = app
            .post_json(
                "/v1/subjects/r-new/restriction",
                &app.token_for(Role::Dpo),
                &json!({"reason": "accuracy contested"}),
            )
            .await;
        assert_eq!(restrict.status(), StatusCode::OK);
        let before = app.decision_count().await;
        let res = app
            .post_decision("engine-1", &crate::helpers::decision_body("during", "r-new"))
            .await;
        assert_eq!(res.status(), StatusCode::CREATED, "stored, not refused");
        let created: Value = res.json().await.unwrap();
        assert_eq!(created["processing_restricted"], true);
        let res = app
            .post_json(
                "/v1/decisions/batch",
                &app.token(Role::Engine, "engine-1"),
                &json!({"decisions": [
                    crate::helpers::decision_body("batch-r", "r-new"),
                    crate::helpers::decision_body("batch-free", "r-free"),
                ]}),
            )
            .await;
        let batch: Value = res.json().await.unwrap();
        assert_eq!(batch["results"][0]["processing_restricted"], true, "{batch}");
        assert_eq!(batch["results"][1].get("processing_restricted"), None, "{batch}");
        assert_eq!(app.decision_count().await, before + 3);
        let id = created["id"].as_str().unwrap();
        let read: Value = app
            .get(&format!("/v1/decisions/{id}"), &app.token(Role::Engine, "engine-1"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(read["processing_restricted"], true);
        // The flag is on the audit entry of the ingestion too.
        let id_owned = id.to_owned();
        let details: String = app
            .with_db(move |c| {
                use diesel::prelude::*;
                use recourse::db::schema::audit_log;
                audit_log::table
                    .filter(audit_log::object_id.eq(id_owned))
                    .filter(audit_log::action.eq("decision.created"))
                    .select(audit_log::details)
                    .first(c)
            })
            .await;
        assert_eq!(
            serde_json::from_str::<Value>(&details).unwrap()["processing_restricted"],
            true
        );

        let res = app
            .delete_json(
                "/v1/subjects/r-new/restriction",
                &app.token_for(Role::Dpo),
                &json!({"reason": "the accuracy question was settled"}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let listed: Value = app
            .get("/v1/subjects/r-new/decisions", &app.token_for(Role::Dpo))
            .await
            .json()
            .await
            .unwrap();
        let flags: Vec<&Value> = listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| &d["processing_restricted"])
            .collect();
        assert_eq!(flags, [&json!(false); 3]);
    }
}

mod objection {
    use recourse::domain::Role;
    use reqwest::StatusCode;
    use serde_json::{Value, json};

    use crate::helpers::{assert_problem, decision_body, review_body, spawn_app};

    #[tokio::test]
    async fn a_profiling_objection_stops_new_decisions_until_compelling_grounds_are_recorded() {
        let app = spawn_app().await;
        app.configure_reviewer("rev-1", &["credit_limit"], 5).await;
        let appeal = app.queued_appeal("before", "objector").await;
        let (_, token, _) = app.claim("rev-1").await.unwrap();
        app.review("rev-1", &appeal, &review_body(&token, "overturn")).await;
        assert_eq!(app.labels().await.lines().count(), 1);

        let res = app
            .post_json(
                "/v1/subjects/objector/objection",
                &app.token(Role::Subject, "objector"),
                &json!({"scope": "profiling", "grounds": "I do not want automated credit scoring"}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let res = app.post_decision("engine-1", &decision_body("after", "objector")).await;
        assert_problem(res, StatusCode::CONFLICT, "objection_in_force").await;
        let batch = json!({"decisions": [decision_body("b-1", "objector"), decision_body("b-2", "someone-else")]});
        let body: Value = app
            .post_json("/v1/decisions/batch", &app.token(Role::Engine, "engine-1"), &batch)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(body["results"][0]["status"], "refused");
        assert_eq!(body["results"][1]["status"], "created");
        assert_eq!(
            app.labels().await.lines().count(),
            0,
            "objecting subjects are left out of labels"
        );
        assert!(app.outbox_types().await.contains(&"subject.objected".to_owned()));

        let grounds = "/v1/subjects/objector/objection/compelling-grounds";
        let res = app
            .post_json(
                grounds,
                &app.token_for(Role::Supervisor),
                &json!({"scope": "profiling", "grounds": "x"}),
            )
            .await;
        assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
        let res = app
            .post_json(
                grounds,
                &app.token_for(Role::Dpo),
                &json!({"scope": "profiling", "grounds": "Fraud screening is required by law for this product"}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            app.post_decision("engine-1", &decision_body("after", "objector"))
                .await
                .status(),
            StatusCode::CREATED
        );
        let export: Value = app
            .get("/v1/subjects/objector/export", &app.token(Role::Subject, "objector"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(export["objections"][0]["scope"], "profiling");
        assert!(
            export["objections"][0]["compelling_grounds"]
                .as_str()
                .unwrap()
                .contains("required by law")
        );
    }

    #[tokio::test]
    async fn a_direct_marketing_objection_is_absolute() {
        let app = spawn_app().await;
        app.decision_for("a-1", "subject-1").await;
        let res = app
            .post_json(
                "/v1/subjects/subject-1/objection",
                &app.token(Role::Subject, "subject-1"),
                &json!({"scope": "direct_marketing", "grounds": "No marketing, please"}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let res = app
            .post_json(
                "/v1/subjects/subject-1/objection/compelling-grounds",
                &app.token_for(Role::Dpo),
                &json!({"scope": "direct_marketing", "grounds": "We would like to"}),
            )
            .await;
        let problem = assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
        assert!(problem["detail"].as_str().unwrap().contains("absolute"));
        let res = app
            .post_json(
                "/v1/subjects/subject-1/objection",
                &app.token(Role::Subject, "subject-2"),
                &json!({"scope": "profiling", "grounds": "not mine"}),
            )
            .await;
        assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    }
}

mod rectification {
    use recourse::domain::Role;
    use reqwest::StatusCode;
    use serde_json::{Value, json};

    use crate::helpers::{assert_problem, review_body, spawn_app};

    #[tokio::test]
    async fn a_rectification_restricts_until_resolved_and_then_every_read_shows_the_correction() {
        let app = spawn_app().await;
        app.configure_reviewer("rev-1", &["credit_limit"], 5).await;
        let appeal = app.queued_appeal("r-1", "subject-1").await;
        let decision = app
            .with_db({
                use diesel::prelude::*;
                use recourse::db::schema::appeals;
                let id = appeal.clone();
                move |c| appeals::table.find(id).select(appeals::decision_id).first::<String>(c)
            })
            .await;
        let body =
            json!({"decision_id": decision, "corrected_inputs": {"annual_income": 41000}, "note": "Payslips attached"});
        let res = app
            .post_json(
                "/v1/subjects/subject-1/rectifications",
                &app.token(Role::Subject, "subject-2"),
                &body,
            )
            .await;
        assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
        let res = app
            .post_json(
                "/v1/subjects/subject-1/rectifications",
                &app.token(Role::Subject, "subject-1"),
                &body,
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let rect: Value = res.json().await.unwrap();
        assert_eq!(
            (rect["status"].as_str(), rect["restricted"].as_bool()),
            (Some("pending"), Some(true))
        );

        // While accuracy is contested, processing is restricted: the appeal is not claimable.
        assert!(app.claim("rev-1").await.is_none());
        let types = app.outbox_types().await;
        assert!(
            types.contains(&"decision.rectification_requested".to_owned())
                && types.contains(&"subject.restricted".to_owned())
        );

        let path = format!(
            "/v1/subjects/subject-1/rectifications/{}/resolution",
            rect["id"].as_str().unwrap()
        );
        let res = app
            .post_json(
                &path,
                &app.token_for(Role::Agent),
                &json!({"accept": true, "note": "ok"}),
            )
            .await;
        assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
        let res = app
            .post_json(
                &path,
                &app.token_for(Role::Dpo),
                &json!({"accept": true, "note": "Payslips confirm 41,000"}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
        assert_eq!(res.json::<Value>().await.unwrap()["status"], "accepted");

        let d: Value = app
            .get(
                &format!("/v1/decisions/{decision}"),
                &app.token(Role::Subject, "subject-1"),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(d["explanation"]["inputs"]["annual_income"], 41000);
        assert!(app.outbox_types().await.contains(&"decision.rectified".to_owned()));
        let export: Value = app
            .get("/v1/subjects/subject-1/export", &app.token(Role::Subject, "subject-1"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(export["restricted_since"], Value::Null, "the restriction is lifted");
        assert_eq!(export["notices"][0]["kind"], "restriction_lift");
        assert_eq!(export["rectifications"][0]["status"], "accepted");
        assert_eq!(
            export["decisions"][0]["decision"]["explanation"]["inputs"]["annual_income"],
            41000
        );

        // Claimable again, and the label carries the corrected value.
        let (claimed, token, _) = app.claim("rev-1").await.unwrap();
        assert_eq!(claimed, appeal);
        app.review("rev-1", &appeal, &review_body(&token, "overturn")).await;
        let labels = app.labels().await;
        assert!(labels.contains("41000"), "{labels}");
        let res = app
            .post_json(
                &path,
                &app.token_for(Role::Dpo),
                &json!({"accept": false, "note": "again"}),
            )
            .await;
        assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    }
}
