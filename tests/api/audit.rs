//! Every write appends exactly one audit entry, in the same transaction; failed writes none.

use recourse::domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{decision_body, spawn_app};

#[tokio::test]
async fn every_write_appends_exactly_one_audit_entry() {
    let app = spawn_app().await;
    app.register_engine("engine-1").await;
    assert_eq!(app.audit_count("engine-1").await, 1);

    let created = app.seed_decision("a-1", "subject-1").await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(app.audit_count(&id).await, 1);

    // An idempotent replay writes nothing, so it records nothing.
    let res = app.post_decision("engine-1", &decision_body("a-1", "subject-1")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(app.audit_count(&id).await, 1);

    let batch = json!({"decisions": [decision_body("b-1", "subject-1"), decision_body("b-2", "subject-2")]});
    let body: Value = app
        .post_json("/v1/decisions/batch", &app.token(Role::Engine, "engine-1"), &batch)
        .await
        .json()
        .await
        .unwrap();
    for result in body["results"].as_array().unwrap() {
        assert_eq!(app.audit_count(result["id"].as_str().unwrap()).await, 1);
    }
    assert_eq!(app.audit_total().await, 1 + 1 + 2);
}

#[tokio::test]
async fn rejected_writes_leave_no_audit_entry() {
    let app = spawn_app().await;
    app.register_engine("engine-1").await;
    let before: i64 = app
        .with_db(|c| {
            use diesel::dsl::max;
            use diesel::prelude::*;
            use recourse::db::schema::audit_log;
            audit_log::table.select(max(audit_log::seq)).first::<Option<i64>>(c)
        })
        .await
        .unwrap();
    let mut bad = decision_body("a-1", "subject-1");
    bad["score"] = json!("x");
    assert_eq!(
        app.post_decision("engine-1", &bad).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        app.post_decision("ghost", &decision_body("a-2", "s")).await.status(),
        StatusCode::FORBIDDEN
    );
    let dup = app
        .post_json(
            "/v1/engines",
            &app.token_for(Role::Admin),
            &json!({"id": "engine-1", "name": "dup"}),
        )
        .await;
    assert_eq!(dup.status(), StatusCode::CONFLICT);
    // No change was recorded; the unregistered engine's refused access was (GDPR Art. 5(2)).
    use diesel::prelude::*;
    use recourse::db::schema::audit_log;
    let new: Vec<(String, String)> = app
        .with_db(move |c| {
            audit_log::table
                .filter(audit_log::seq.gt(before))
                .select((audit_log::action, audit_log::actor))
                .load(c)
        })
        .await;
    assert_eq!(new, [("access.denied".to_owned(), "ghost".to_owned())]);
}

#[tokio::test]
async fn audit_entries_name_the_actor_and_request_and_hold_no_personal_data() {
    use diesel::prelude::*;
    use recourse::db::schema::audit_log::dsl;

    let app = spawn_app().await;
    app.register_engine("engine-1").await;
    let res = app
        .post_decision("engine-1", &decision_body("a-1", "subject-secret-77"))
        .await;
    let request_id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    let id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let row: (String, String, String, Option<String>, String, String) = app
        .with_db(move |c| {
            dsl::audit_log
                .filter(dsl::object_id.eq(id))
                .select((
                    dsl::actor,
                    dsl::actor_role,
                    dsl::action,
                    dsl::request_id,
                    dsl::details,
                    dsl::entry_hash,
                ))
                .first(c)
        })
        .await;
    assert_eq!(
        (row.0.as_str(), row.1.as_str(), row.2.as_str()),
        ("engine-1", "engine", "decision.created")
    );
    assert_eq!(row.3.as_deref(), Some(request_id.as_str()));
    assert!(
        !row.4.contains("subject-secret-77") && !row.4.contains("28000"),
        "{}",
        row.4
    );
    assert_eq!(row.5.len(), 64);
}

mod sealing {
    use std::time::Duration;

    use diesel::prelude::*;
    use recourse::audit::model::Checkpoint;
    use recourse::audit::seal::seal_once;
    use recourse::audit::verify::{Verification, verify};
    use recourse::db::DbConnection;
    use recourse::db::schema::{audit_checkpoints, audit_log};
    use recourse::domain::Role;
    use reqwest::StatusCode;
    use serde_json::Value;

    use crate::helpers::{TestApp, assert_problem, spawn_app_with};

    /// An app whose own sealer stays idle, so each test decides when to seal.
    async fn app() -> TestApp {
        spawn_app_with(|s| s.workflow.seal_interval = Duration::from_secs(3600)).await
    }

    async fn seal(app: &TestApp) -> Option<Checkpoint> {
        app.db.write(seal_once).await.unwrap()
    }

    async fn check(app: &TestApp, head: Option<&str>) -> Verification {
        let head = head.map(str::to_owned);
        app.db.run(move |c| verify(c, head.as_deref())).await.unwrap()
    }

    /// Two checkpoints of several entries each; returns the head after the second.
    async fn sealed_history(app: &TestApp) -> Checkpoint {
        for i in 0..4 {
            app.register_engine(&format!("engine-{i}")).await;
        }
        let first = seal(app).await.unwrap();
        assert_eq!((first.id, first.entry_count), (1, 4));
        for i in 4..8 {
            app.register_engine(&format!("engine-{i}")).await;
        }
        let second = seal(app).await.unwrap();
        assert_eq!(
            (second.id, second.entry_count, second.prev_hash.as_str()),
            (2, 4, first.checkpoint_hash.as_str())
        );
        second
    }

    async fn seqs(app: &TestApp) -> Vec<i64> {
        app.with_db(|c| {
            audit_log::table
                .order(audit_log::seq.asc())
                .select(audit_log::seq)
                .load(c)
        })
        .await
    }

    /// Runs `f` as an attacker with the tables' owner rights (or a DBA) would: with the
    /// append-only triggers switched off (`ALTER TABLE … DISABLE TRIGGER` on Postgres, which
    /// only the owner may do; `DROP TRIGGER` on SQLite). Without that, the application's own
    /// connection is refused: `the_application_connection_cannot_rewrite_the_audit_tables`.
    async fn tamper<T: Send + 'static>(
        app: &TestApp,
        f: impl FnOnce(&mut DbConnection) -> QueryResult<T> + Send + 'static,
    ) -> T {
        app.with_db(move |c| {
            let postgres = matches!(c, DbConnection::Pg(_));
            if postgres {
                for table in ["audit_log", "audit_checkpoints"] {
                    diesel::sql_query(format!("ALTER TABLE {table} DISABLE TRIGGER USER")).execute(c)?;
                }
            } else {
                for trigger in SQLITE_TRIGGERS {
                    diesel::sql_query(format!("DROP TRIGGER IF EXISTS {trigger}")).execute(c)?;
                }
            }
            let out = f(c);
            if postgres {
                for table in ["audit_log", "audit_checkpoints"] {
                    diesel::sql_query(format!("ALTER TABLE {table} ENABLE TRIGGER USER")).execute(c)?;
                }
            }
            out
        })
        .await
    }

    const SQLITE_TRIGGERS: [&str; 5] = [
        "audit_log_insert_unsealed",
        "audit_log_append_only_update",
        "audit_log_append_only_delete",
        "audit_checkpoints_append_only_update",
        "audit_checkpoints_append_only_delete",
    ];

    #[tokio::test]
    async fn a_clean_log_seals_into_a_chain_and_verifies() {
        let app = app().await;
        let head = sealed_history(&app).await;
        assert!(seal(&app).await.is_none(), "nothing new to seal");
        let report = check(&app, Some(&head.checkpoint_hash)).await;
        assert!(report.ok, "{report:?}");
        assert_eq!((report.entries, report.checkpoints, report.unsealed_entries), (8, 2, 0));

        let res = app.get("/v1/audit/verify", &app.token_for(Role::Dpo)).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.json::<Value>().await.unwrap()["ok"], true);
        let res = app.get("/v1/audit/head", &app.token_for(Role::Admin)).await;
        assert_eq!(
            res.json::<Value>().await.unwrap()["checkpoint_hash"],
            head.checkpoint_hash.as_str()
        );
        let res = app.get("/v1/audit/verify", &app.token_for(Role::Reviewer)).await;
        assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    }

    #[tokio::test]
    async fn editing_a_field_names_the_entry() {
        let app = app().await;
        sealed_history(&app).await;
        let target = seqs(&app).await[2];
        tamper(&app, move |c| {
            diesel::update(audit_log::table.find(target))
                .set(audit_log::action.eq("engine.deleted"))
                .execute(c)
        })
        .await;
        let report = check(&app, None).await;
        let first = report.first_break.unwrap();
        assert_eq!((first.kind, first.seq), ("entry_altered", Some(target)));
    }

    #[tokio::test]
    async fn deleting_a_middle_entry_names_its_checkpoint() {
        let app = app().await;
        sealed_history(&app).await;
        let target = seqs(&app).await[1];
        tamper(&app, move |c| diesel::delete(audit_log::table.find(target)).execute(c)).await;
        let first = check(&app, None).await.first_break.unwrap();
        assert_eq!((first.kind, first.checkpoint), ("checkpoint_entries_changed", Some(1)));
    }

    #[tokio::test]
    async fn swapping_two_entries_names_their_checkpoint() {
        let app = app().await;
        sealed_history(&app).await;
        let all = seqs(&app).await;
        let (a, b) = (all[4], all[6]);
        tamper(&app, move |c| {
            type Fields = (String, String, String, String, Option<String>, String, String);
            let read = |c: &mut recourse::db::DbConnection, seq: i64| -> QueryResult<Fields> {
                audit_log::table
                    .find(seq)
                    .select((
                        audit_log::actor,
                        audit_log::action,
                        audit_log::object_type,
                        audit_log::object_id,
                        audit_log::request_id,
                        audit_log::details,
                        audit_log::entry_hash,
                    ))
                    .first(c)
            };
            let (fa, fb) = (read(c, a)?, read(c, b)?);
            for (seq, f) in [(a, fb), (b, fa)] {
                diesel::update(audit_log::table.find(seq))
                    .set((
                        audit_log::actor.eq(f.0),
                        audit_log::action.eq(f.1),
                        audit_log::object_type.eq(f.2),
                        audit_log::object_id.eq(f.3),
                        audit_log::request_id.eq(f.4),
                        audit_log::details.eq(f.5),
                        audit_log::entry_hash.eq(f.6),
                    ))
                    .execute(c)?;
            }
            Ok(())
        })
        .await;
        let first = check(&app, None).await.first_break.unwrap();
        assert_eq!((first.kind, first.checkpoint), ("checkpoint_entries_changed", Some(2)));
    }

    #[tokio::test]
    async fn truncating_the_tail_names_the_last_checkpoint() {
        let app = app().await;
        sealed_history(&app).await;
        let cut = seqs(&app).await[5];
        tamper(&app, move |c| {
            diesel::delete(audit_log::table.filter(audit_log::seq.gt(cut))).execute(c)
        })
        .await;
        let first = check(&app, None).await.first_break.unwrap();
        assert_eq!((first.kind, first.checkpoint), ("checkpoint_entries_changed", Some(2)));
    }

    #[tokio::test]
    async fn a_forged_entry_is_detected_even_with_a_valid_entry_hash() {
        let app = app().await;
        sealed_history(&app).await;
        tamper(&app, |c| {
            let details = serde_json::json!({});
            let at = chrono::Utc::now().naive_utc();
            let forged = recourse::audit::AuditEntry {
                at,
                actor: "mallory",
                actor_role: "admin",
                action: "engine.registered",
                object_type: "engine",
                object_id: "evil",
                request_id: None,
                details: &details,
            };
            let hash = recourse::audit::entry_hash(&forged);
            diesel::insert_into(audit_log::table)
                .values((
                    audit_log::seq.eq(10_000),
                    audit_log::at.eq(at),
                    audit_log::actor.eq("mallory"),
                    audit_log::actor_role.eq("admin"),
                    audit_log::action.eq("engine.registered"),
                    audit_log::object_type.eq("engine"),
                    audit_log::object_id.eq("evil"),
                    audit_log::details.eq("{}"),
                    audit_log::entry_hash.eq(hash),
                    audit_log::checkpoint_id.eq(1),
                ))
                .execute(c)
        })
        .await;
        let first = check(&app, None).await.first_break.unwrap();
        assert_eq!((first.kind, first.checkpoint), ("checkpoint_entries_changed", Some(1)));
    }

    /// Inserts an entry straight into the table, as someone with write access to the database
    /// would, with a correct self-hash; unsealed.
    async fn insert_entry(app: &TestApp, seq: i64, at: chrono::NaiveDateTime) {
        app.with_db(move |c| {
            let details = serde_json::json!({});
            let forged = recourse::audit::AuditEntry {
                at,
                actor: "mallory",
                actor_role: "admin",
                action: "engine.registered",
                object_type: "engine",
                object_id: "backdated",
                request_id: None,
                details: &details,
            };
            let hash = recourse::audit::entry_hash(&forged);
            diesel::insert_into(audit_log::table)
                .values((
                    audit_log::seq.eq(seq),
                    audit_log::at.eq(at),
                    audit_log::actor.eq("mallory"),
                    audit_log::actor_role.eq("admin"),
                    audit_log::action.eq("engine.registered"),
                    audit_log::object_type.eq("engine"),
                    audit_log::object_id.eq("backdated"),
                    audit_log::details.eq("{}"),
                    audit_log::entry_hash.eq(hash),
                ))
                .execute(c)
        })
        .await;
    }

    async fn checkpoint_of(app: &TestApp, seq: i64) -> Option<i64> {
        app.with_db(move |c| audit_log::table.find(seq).select(audit_log::checkpoint_id).first(c))
            .await
    }

    fn months_ago(n: i64) -> chrono::NaiveDateTime {
        recourse::db::now() - chrono::TimeDelta::days(30 * n)
    }

    /// Issue 13, finding 4: an entry with a valid self-hash, `seq` 0 and a time ten months back,
    /// left unsealed, was folded into the next checkpoint and verified cleanly.
    #[tokio::test]
    async fn a_backdated_entry_is_never_sealed_and_verify_names_it() {
        let app = app().await;
        let head = sealed_history(&app).await;
        insert_entry(&app, 0, months_ago(10)).await;
        app.register_engine("engine-after").await;
        let sealed = seal(&app).await.expect("the honest entry is still sealed");
        assert_eq!((sealed.id, sealed.entry_count), (3, 1), "{sealed:?}");
        assert_eq!(
            checkpoint_of(&app, 0).await,
            None,
            "the backdated entry was not folded in"
        );

        let report = check(&app, Some(&head.checkpoint_hash)).await;
        assert!(!report.ok, "{report:?}");
        let first = report.first_break.unwrap();
        assert_eq!(
            (first.kind, first.seq, first.checkpoint),
            ("entry_backdated", Some(0), None)
        );
        // The endpoint the DPO uses, and `recourse audit verify` (same function), agree.
        let res = app
            .get(
                &format!("/v1/audit/verify?head={}", head.checkpoint_hash),
                &app.token_for(Role::Dpo),
            )
            .await;
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["ok"], false, "{body}");
        assert_eq!(body["first_break"]["kind"], "entry_backdated");
        assert_eq!(body["first_break"]["seq"], 0);
        // Later seals leave it out too.
        app.register_engine("engine-later").await;
        assert_eq!(seal(&app).await.unwrap().entry_count, 1);
        assert_eq!(checkpoint_of(&app, 0).await, None);
    }

    /// The two halves of the rule on their own: a `seq` below the sealed ones at the current
    /// time, and a fresh `seq` ten months back.
    #[tokio::test]
    async fn a_seq_going_backwards_or_a_time_far_back_is_refused() {
        for (label, seq, at) in [
            ("seq below the sealed ones", -7, recourse::db::now()),
            ("time ten months back", 1_000, months_ago(10)),
        ] {
            let app = app().await;
            sealed_history(&app).await;
            insert_entry(&app, seq, at).await;
            assert!(seal(&app).await.is_none(), "{label}: nothing else to seal");
            assert_eq!(checkpoint_of(&app, seq).await, None, "{label}");
            let first = check(&app, None).await.first_break.unwrap();
            assert_eq!((first.kind, first.seq), ("entry_backdated", Some(seq)), "{label}");
        }
    }

    /// An entry a few seconds older than the last sealed one (clocks of two instances differing
    /// slightly) is sealed and verifies.
    #[tokio::test]
    async fn small_clock_skew_between_instances_is_tolerated() {
        let app = app().await;
        sealed_history(&app).await;
        let (last_seq, last_at): (i64, chrono::NaiveDateTime) = app
            .with_db(|c| {
                audit_log::table
                    .order(audit_log::seq.desc())
                    .select((audit_log::seq, audit_log::at))
                    .first(c)
            })
            .await;
        insert_entry(&app, last_seq + 1, last_at - chrono::TimeDelta::seconds(3)).await;
        let sealed = seal(&app).await.unwrap();
        assert_eq!(sealed.entry_count, 1);
        let report = check(&app, None).await;
        assert!(report.ok, "{report:?}");
    }

    /// A backdated entry that did get sealed (by an older version, or with a lax skew) is
    /// still named by verification, inside its checkpoint.
    #[tokio::test]
    async fn a_sealed_backdated_entry_is_named_with_its_checkpoint() {
        let app = app().await;
        sealed_history(&app).await;
        insert_entry(&app, 1_000, months_ago(10)).await;
        let lax = app
            .db
            .write(|c| recourse::audit::seal::seal_with(c, Duration::from_secs(400 * 24 * 3600)))
            .await
            .unwrap();
        assert_eq!(lax.checkpoint.unwrap().id, 3);
        let first = check(&app, None).await.first_break.unwrap();
        assert_eq!(
            (first.kind, first.checkpoint, first.seq),
            ("entry_backdated", Some(3), Some(1_000))
        );
    }

    /// Many concurrent writers while the sealer runs every few milliseconds: on Postgres a
    /// transaction may commit a lower `seq` after a higher one is visible, and the sealer must
    /// wait for it rather than seal past it, so that nothing is refused or reported.
    #[tokio::test]
    async fn concurrent_writers_and_a_busy_sealer_verify_cleanly() {
        let app = spawn_app_with(|s| s.workflow.seal_interval = Duration::from_millis(5)).await;
        let writers = (0..16).map(|w| {
            let app = &app;
            async move {
                for i in 0..15 {
                    app.register_engine(&format!("engine-{w}-{i}")).await;
                }
            }
        });
        futures_util::future::join_all(writers).await;
        // The app's own sealer (every 5 ms) seals the rest.
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let report = loop {
            let report = check(&app, None).await;
            if report.unsealed_entries == 0 || std::time::Instant::now() > deadline {
                break report;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert!(report.ok, "{report:?}");
        assert_eq!((report.entries, report.unsealed_entries), (240, 0), "{report:?}");
        println!(
            "{} entries sealed in {} checkpoints while written",
            report.entries, report.checkpoints
        );
    }

    /// Issue 13, finding 5: the application's own database connection could UPDATE, DELETE and
    /// TRUNCATE the audit tables. Now only the sealer's marking of an unsealed entry passes.
    #[tokio::test]
    async fn the_application_connection_cannot_rewrite_the_audit_tables() {
        let app = app().await;
        let head = sealed_history(&app).await;
        app.register_engine("engine-unsealed").await;
        let all = seqs(&app).await;
        let (sealed, unsealed) = (all[0], *all.last().unwrap());
        let mut attempts: Vec<(&str, String)> = vec![
            ("edit a sealed entry", format!("UPDATE audit_log SET action = 'engine.deleted' WHERE seq = {sealed}")),
            ("edit an unsealed entry", format!("UPDATE audit_log SET actor = 'x' WHERE seq = {unsealed}")),
            ("edit an entry while marking it", format!("UPDATE audit_log SET checkpoint_id = 3, actor = 'x' WHERE seq = {unsealed}")),
            ("move a sealed entry", format!("UPDATE audit_log SET checkpoint_id = 2 WHERE seq = {sealed}")),
            ("unseal an entry", format!("UPDATE audit_log SET checkpoint_id = NULL WHERE seq = {sealed}")),
            ("slip an entry into a sealed checkpoint", format!("UPDATE audit_log SET checkpoint_id = 1 WHERE seq = {unsealed}")),
            ("delete an entry", format!("DELETE FROM audit_log WHERE seq = {sealed}")),
            ("delete every entry", "DELETE FROM audit_log".into()),
            (
                "insert an entry already sealed",
                "INSERT INTO audit_log (seq, at, actor, actor_role, action, object_type, object_id, details, entry_hash, checkpoint_id)
                 VALUES (99999, CURRENT_TIMESTAMP, 'm', 'admin', 'a', 'o', 'i', '{}', 'h', 1)"
                    .into(),
            ),
            ("edit a checkpoint", "UPDATE audit_checkpoints SET merkle_root = 'x' WHERE id = 1".into()),
            ("delete a checkpoint", "DELETE FROM audit_checkpoints WHERE id = 2".into()),
            ("delete every checkpoint", "DELETE FROM audit_checkpoints".into()),
        ];
        if app.database_url.starts_with("postgres") {
            attempts.push(("truncate the log", "TRUNCATE audit_log".into()));
            attempts.push(("truncate the checkpoints", "TRUNCATE audit_checkpoints".into()));
            attempts.push(("truncate both", "TRUNCATE audit_log, audit_checkpoints".into()));
        }
        for (what, sql) in attempts {
            let result = app
                .db
                .run(move |c| diesel::sql_query(sql).execute(c).map_err(recourse::db::DbError::from))
                .await;
            let error = result.expect_err(what).to_string();
            assert!(error.contains("append-only"), "{what}: {error}");
        }
        // Nothing changed, and the sealer's own marking still works.
        assert_eq!(seqs(&app).await, all);
        let third = seal(&app).await.unwrap();
        assert_eq!((third.id, third.entry_count), (3, 1));
        let report = check(&app, Some(&head.checkpoint_hash)).await;
        assert!(report.ok, "{report:?}");
    }

    /// Marking an unsealed entry with the next checkpoint id looks like the sealer's update, so
    /// the triggers let it through; the sealer then refuses to seal over it, and verify names it.
    #[tokio::test]
    async fn an_entry_marked_ahead_of_the_sealer_stops_sealing_and_is_named() {
        let app = app().await;
        sealed_history(&app).await;
        app.register_engine("engine-premarked").await;
        let target = *seqs(&app).await.last().unwrap();
        app.with_db(move |c| {
            diesel::update(audit_log::table.find(target))
                .set(audit_log::checkpoint_id.eq(3))
                .execute(c)
        })
        .await;
        app.register_engine("engine-after").await;
        assert!(
            seal(&app).await.is_none(),
            "the sealer does not seal over a premarked entry"
        );
        let first = check(&app, None).await.first_break.unwrap();
        assert_eq!((first.kind, first.seq), ("unknown_checkpoint", Some(target)));
    }

    #[tokio::test]
    async fn a_consistent_rewrite_of_the_tail_is_caught_by_the_anchored_head() {
        let app = app().await;
        let head = sealed_history(&app).await;
        // Rewrite history after checkpoint 1 and re-seal it, so the chain is self-consistent.
        let target = seqs(&app).await[5];
        tamper(&app, move |c| {
            diesel::delete(audit_checkpoints::table.find(2)).execute(c)?;
            diesel::delete(audit_log::table.find(target)).execute(c)?;
            diesel::update(audit_log::table.filter(audit_log::checkpoint_id.eq(2)))
                .set(audit_log::checkpoint_id.eq(None::<i64>))
                .execute(c)
        })
        .await;
        let rewritten = seal(&app).await.unwrap();
        assert_ne!(rewritten.checkpoint_hash, head.checkpoint_hash);
        assert!(
            check(&app, None).await.ok,
            "without an anchor the rewrite is self-consistent"
        );
        let first = check(&app, Some(&head.checkpoint_hash)).await.first_break.unwrap();
        assert_eq!(first.kind, "anchored_head_missing");
    }

    #[tokio::test]
    async fn the_cli_verifies_and_exits_non_zero_on_a_break() {
        let app = app().await;
        let head = sealed_history(&app).await;
        let run = |extra: &[&str]| {
            std::process::Command::new(env!("CARGO_BIN_EXE_recourse"))
                .args(["audit", "verify"])
                .args(extra)
                .env("DATABASE_URL", &app.database_url)
                .output()
                .unwrap()
        };
        let ok = run(&["--head", &head.checkpoint_hash]);
        assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
        let target = seqs(&app).await[0];
        tamper(&app, move |c| {
            diesel::update(audit_log::table.find(target))
                .set(audit_log::actor.eq("x"))
                .execute(c)
        })
        .await;
        let broken = run(&[]);
        assert!(!broken.status.success());
        let report: Value = serde_json::from_slice(&broken.stdout).unwrap();
        assert_eq!(report["first_break"]["kind"], "entry_altered");
        assert_eq!(report["first_break"]["seq"], target);
    }
}
