//! The authorisation matrix: every protected operation × every role, acting on objects that
//! belong to another principal (another engine's decision, another subject's appeal, another
//! reviewer's lease). The expected status of each cell is declared in `MATRIX`, one line per
//! operation; the test walks it with a fresh object per cell, so cells are independent.
//!
//! Denials (403, 404, and 409 for a lease the actor does not hold) must leak nothing: their
//! body is problem+json and names none of the object's ids or values. They change nothing
//! either: row counts, and appeals and decisions by status, are the same before and after
//! (the audit log is left out, since a denied access may be recorded there).
//!
//! To add an operation: add it to tests/api/routes.rs, add a line here, and, if it needs a
//! body or an object of a new kind, a `Fx` variant and an arm in `body_for`.

use std::collections::BTreeMap;

use recourse::domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{RATIONALE, TestApp, decision_body, review_body, spawn_app_with};
use crate::routes::PROTECTED;

/// Column order of `MATRIX`. Tokens: subject `subject-1`, engine `engine-1`, staff by role name.
const ROLES: [Role; 7] = [
    Role::Subject,
    Role::Agent,
    Role::Reviewer,
    Role::Supervisor,
    Role::Dpo,
    Role::Admin,
    Role::Engine,
];

/// What a cell acts on. Every object belongs to someone other than the acting principal:
/// engine `engine-other`, a fresh subject `victim-N`, reviewer `reviewer-other`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fx {
    /// Nothing exists: path parameters get fresh names (a new engine id, model, queue...).
    Fresh,
    /// `engine-other`; `{endpoint_id}` is its webhook endpoint.
    Engine,
    /// A finished webhook delivery to `engine-other`.
    Delivery,
    /// A model with decisions, suspended when `Fx::Suspended`.
    Model,
    Suspended,
    /// A decision of `engine-other` about a fresh subject, with no appeal.
    Decision,
    /// That decision with a queued appeal filed by its subject.
    Appeal,
    /// That appeal claimed by `reviewer-other` (the lease token goes in bodies).
    Leased,
    /// That appeal overturned by `reviewer-other`, waiting for a second person (four eyes).
    AwaitingApproval,
    /// A subject with a decision and a profiling objection.
    Objection,
    /// A subject with a decision, restricted by a DPO.
    Restricted,
    /// A subject with a decision and a pending rectification (`{id}`).
    Rectification,
    /// A suspected breach reported by `agent-other`.
    Breach,
}

/// subject · agent · reviewer · supervisor · dpo · admin · engine.
/// `200`, `201`... expected status. `200-` : 200, but the body holds none of the object's data
/// (the actor sees only its own records). `403`/`404`/`409` : denied, with nothing leaked.
#[rustfmt::skip]
const MATRIX: &[(&str, &str, Fx, &str)] = &[
    //                                                                                   sub agt rev sup dpo adm eng
    ("GET",    "/v1/engines",                                          Fx::Fresh,        "403 403 403 403 403 200 403"),
    ("POST",   "/v1/engines",                                          Fx::Fresh,        "403 403 403 403 403 201 403"),
    ("GET",    "/v1/engines/{id}/endpoints",                           Fx::Engine,       "403 403 403 403 403 200 403"),
    ("POST",   "/v1/engines/{id}/endpoints",                           Fx::Engine,       "403 403 403 403 403 201 403"),
    ("POST",   "/v1/engines/{id}/endpoints/{endpoint_id}/secret",      Fx::Engine,       "403 403 403 403 403 200 403"),
    ("GET",    "/v1/webhooks/deliveries",                              Fx::Delivery,     "403 403 403 403 403 200 403"),
    ("POST",   "/v1/webhooks/deliveries/{id}/replay",                  Fx::Delivery,     "403 403 403 403 403 202 403"),
    ("GET",    "/v1/models/{name}/suspension",                         Fx::Suspended,    "403 403 200 200 403 200 200"),
    ("POST",   "/v1/models/{name}/suspension",                         Fx::Fresh,        "403 403 403 201 403 201 403"),
    ("DELETE", "/v1/models/{name}/suspension",                         Fx::Suspended,    "403 403 403 200 403 200 403"),
    ("GET",    "/v1/models/{name}/stats",                              Fx::Model,        "403 403 403 200 200 200 200-"),
    ("GET",    "/v1/feedback/labels.jsonl",                            Fx::Leased,       "403 403 403 403 200 200 200-"),
    ("GET",    "/v1/feedback",                                         Fx::Appeal,       "403 403 403 403 403 403 200-"),
    ("POST",   "/v1/decisions",                                        Fx::Fresh,        "403 403 403 403 403 403 201"),
    ("POST",   "/v1/decisions/batch",                                  Fx::Fresh,        "403 403 403 403 403 403 200"),
    ("GET",    "/v1/decisions/{id}",                                   Fx::Decision,     "404 200 200 200 200 403 404"),
    ("GET",    "/v1/subjects/{subject_id}/decisions",                  Fx::Decision,     "404 200 200 200 200 403 200-"),
    ("POST",   "/v1/decisions/{id}/appeals",                           Fx::Decision,     "404 201 403 403 403 403 403"),
    ("GET",    "/v1/appeals/{id}",                                     Fx::Appeal,       "404 200 200 200 200 403 403"),
    ("GET",    "/v1/appeals/{id}/notices",                             Fx::Appeal,       "404 200 200 200 200 403 403"),
    ("POST",   "/v1/appeals/{id}/withdrawal",                          Fx::Appeal,       "404 200 403 403 403 403 403"),
    ("POST",   "/v1/appeals/{id}/extension",                           Fx::Appeal,       "403 403 403 200 403 403 403"),
    ("POST",   "/v1/appeals/{id}/assignment",                          Fx::Appeal,       "403 403 403 200 403 403 403"),
    ("POST",   "/v1/appeals/{id}/review",                              Fx::Leased,       "403 403 409 403 403 403 403"),
    ("POST",   "/v1/appeals/{id}/approval",                            Fx::AwaitingApproval, "403 403 200 200 403 403 403"),
    ("DELETE", "/v1/appeals/{id}/lease",                               Fx::Leased,       "403 403 409 403 403 403 403"),
    ("POST",   "/v1/appeals/{id}/lease/heartbeat",                     Fx::Leased,       "403 403 409 403 403 403 403"),
    ("GET",    "/v1/subjects/{subject_id}/export",                     Fx::Decision,     "404 200 403 403 200 403 403"),
    ("POST",   "/v1/subjects/{subject_id}/erasure",                    Fx::Decision,     "403 403 403 403 200 403 403"),
    ("POST",   "/v1/subjects/{subject_id}/restriction",                Fx::Decision,     "403 403 403 403 200 403 403"),
    ("DELETE", "/v1/subjects/{subject_id}/restriction",                Fx::Restricted,   "403 403 403 403 200 403 403"),
    ("POST",   "/v1/subjects/{subject_id}/objection",                  Fx::Decision,     "404 200 403 403 200 403 403"),
    ("POST",   "/v1/subjects/{subject_id}/objection/compelling-grounds", Fx::Objection,  "403 403 403 403 200 403 403"),
    ("POST",   "/v1/subjects/{subject_id}/rectifications",             Fx::Decision,     "404 201 403 403 201 403 403"),
    ("POST",   "/v1/subjects/{subject_id}/rectifications/{id}/resolution", Fx::Rectification, "403 403 403 403 200 403 403"),
    ("GET",    "/v1/reports/transparency",                             Fx::Fresh,        "403 403 403 200 200 200 403"),
    ("GET",    "/v1/reports/reviewers",                                Fx::Fresh,        "403 403 403 200 200 200 403"),
    ("GET",    "/v1/audit/verify",                                     Fx::Fresh,        "403 403 403 403 200 200 403"),
    ("GET",    "/v1/audit/head",                                       Fx::Fresh,        "403 403 403 403 200 200 403"),
    ("GET",    "/v1/audit/subjects-accessed",                          Fx::Fresh,        "403 403 403 403 200 403 403"),
    ("GET",    "/v1/breaches",                                         Fx::Breach,       "403 403 403 403 200 403 403"),
    ("POST",   "/v1/breaches",                                         Fx::Fresh,        "403 201 201 201 201 201 403"),
    ("GET",    "/v1/breaches/{id}",                                    Fx::Breach,       "403 403 403 403 200 403 403"),
    ("POST",   "/v1/breaches/{id}/transitions",                        Fx::Breach,       "403 403 403 403 200 403 403"),
    ("POST",   "/v1/queue/claim",                                      Fx::Appeal,       "403 403 200 403 403 403 403"),
    ("GET",    "/v1/queues",                                           Fx::Fresh,        "403 403 200 200 403 200 403"),
    ("PUT",    "/v1/queues/{name}",                                    Fx::Fresh,        "403 403 403 403 403 200 403"),
    ("GET",    "/v1/reviewers",                                        Fx::Fresh,        "403 403 403 200 403 200 403"),
    ("PUT",    "/v1/reviewers/{id}",                                   Fx::Fresh,        "403 403 403 403 403 200 403"),
    ("GET",    "/v1/policies",                                         Fx::Fresh,        "403 403 403 200 403 200 403"),
    ("PUT",    "/v1/policies/{decision_type}",                         Fx::Fresh,        "403 403 403 403 403 200 403"),
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// Allowed: exactly this status.
    Allowed(u16),
    /// 200, with none of the object's data in the body.
    Blind,
    /// Refused with this status and nothing leaked.
    Denied(u16),
}

fn parse_cells(cells: &str) -> Vec<Expect> {
    cells
        .split_whitespace()
        .map(|c| match c {
            "200-" => Expect::Blind,
            c => {
                let status: u16 = c.parse().unwrap();
                if status < 300 {
                    Expect::Allowed(status)
                } else {
                    Expect::Denied(status)
                }
            }
        })
        .collect()
}

/// One cell's object: what fills the path, what bodies need, and what must never leak.
#[derive(Debug, Default)]
struct Target {
    params: BTreeMap<&'static str, String>,
    query: String,
    decision_id: String,
    lease_token: String,
    /// Ids and values of the object that a denial must not reveal.
    secrets: Vec<String>,
}

struct World {
    app: TestApp,
    endpoint_id: String,
    n: std::sync::atomic::AtomicUsize,
}

impl World {
    async fn new() -> Self {
        let app = spawn_app_with(|s| {
            s.limits.auth_failures = 0;
            s.webhooks.allow = vec!["127.0.0.1/32".parse().unwrap()];
            // The delivery worker stays idle after its first pass, so deliveries keep the status
            // a cell gives them.
            s.webhooks.poll_interval = std::time::Duration::from_secs(3600);
        })
        .await;
        app.register_engine("engine-1").await;
        app.register_engine("engine-other").await;
        app.configure_reviewer("reviewer", &["credit_limit"], 1000).await;
        app.configure_reviewer("reviewer-other", &["credit_limit"], 1000).await;
        let admin = app.token_for(Role::Admin);
        let res = app
            .put_json("/v1/policies/credit_limit", &admin, &json!({"requires_approval": true}))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        // Port 9 (discard) on loopback: nothing listens, so every delivery fails.
        let res = app
            .post_json(
                "/v1/engines/engine-other/endpoints",
                &admin,
                &json!({"url": "http://127.0.0.1:9/hook"}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let endpoint_id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
        Self {
            app,
            endpoint_id,
            n: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    fn fresh(&self, what: &str) -> String {
        format!("{what}-{}", self.n.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    }

    /// A decision of engine-other about a fresh subject: (decision id, subject id).
    async fn decision(&self) -> (String, String) {
        let subject = self.fresh("victim");
        let res = self
            .app
            .post_decision("engine-other", &decision_body(&self.fresh("ext"), &subject))
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
        (id, subject)
    }

    async fn appeal(&self, decision: &str, subject: &str) -> String {
        let res = self.app.file_appeal_as_subject(decision, subject).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
    }

    async fn lease(&self, appeal: &str) -> String {
        let res = self
            .app
            .client
            .post(self.app.url(&format!("/v1/queue/claim?appeal_id={appeal}")))
            .bearer_auth(self.app.token(Role::Reviewer, "reviewer-other"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        res.json::<Value>().await.unwrap()["lease"]["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn dpo_post(&self, path: &str, body: Value, expected: StatusCode) -> Value {
        let res = self.app.post_json(path, &self.app.token_for(Role::Dpo), &body).await;
        assert_eq!(res.status(), expected, "{path}");
        res.json().await.unwrap()
    }

    async fn target(&self, fx: Fx) -> Target {
        let mut t = Target::default();
        let fresh = self.fresh("fresh");
        for p in ["id", "name", "decision_type", "subject_id"] {
            t.params.insert(p, fresh.clone());
        }
        match fx {
            Fx::Fresh => {}
            Fx::Breach => {
                let description = format!("Case notes left on a shared drive {}", self.fresh("marker"));
                let res = self
                    .app
                    .post_json(
                        "/v1/breaches",
                        &self.app.token(Role::Agent, "agent-other"),
                        &json!({"description": description}),
                    )
                    .await;
                assert_eq!(res.status(), StatusCode::CREATED);
                let id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
                t.params.insert("id", id.clone());
                t.secrets.extend([id, description]);
            }
            Fx::Engine => {
                t.params.insert("id", "engine-other".into());
                t.params.insert("endpoint_id", self.endpoint_id.clone());
                t.secrets.push(self.endpoint_id.clone());
            }
            Fx::Delivery => {
                use diesel::prelude::*;
                use recourse::db::schema::webhook_deliveries::dsl as wd;
                let (decision, subject) = self.decision().await;
                self.appeal(&decision, &subject).await;
                let id: String = self
                    .app
                    .with_db(|c| {
                        let id: String = wd::webhook_deliveries
                            .select(wd::id)
                            .order(wd::created_at.desc())
                            .first(c)?;
                        diesel::update(wd::webhook_deliveries.filter(wd::id.eq(&id)))
                            .set(wd::status.eq("failed"))
                            .execute(c)?;
                        Ok(id)
                    })
                    .await;
                t.params.insert("id", id.clone());
                t.secrets.push(id);
            }
            Fx::Model | Fx::Suspended => {
                let (decision, _) = self.decision().await;
                t.params.insert("name", "limits".into());
                if fx == Fx::Suspended {
                    let model = self.fresh("model");
                    let res = self
                        .app
                        .post_json(
                            &format!("/v1/models/{model}/suspension"),
                            &self.app.token_for(Role::Admin),
                            &json!({"reason": "Overturn rate far above the others"}),
                        )
                        .await;
                    assert_eq!(res.status(), StatusCode::CREATED);
                    t.params.insert("name", model);
                }
                t.secrets.push(decision);
            }
            Fx::Decision
            | Fx::Appeal
            | Fx::Leased
            | Fx::AwaitingApproval
            | Fx::Objection
            | Fx::Restricted
            | Fx::Rectification => {
                let (decision, subject) = self.decision().await;
                t.params.insert("id", decision.clone());
                t.params.insert("subject_id", subject.clone());
                t.decision_id = decision.clone();
                t.secrets.extend([decision.clone(), subject.clone(), "28000".into()]);
                let subject_path = format!("/v1/subjects/{subject}");
                match fx {
                    Fx::Appeal | Fx::Leased | Fx::AwaitingApproval => {
                        let appeal = self.appeal(&decision, &subject).await;
                        t.params.insert("id", appeal.clone());
                        t.query = format!("?appeal_id={appeal}");
                        t.secrets.extend([appeal.clone(), "payslips".into()]);
                        if fx != Fx::Appeal {
                            t.lease_token = self.lease(&appeal).await;
                            t.secrets.push(t.lease_token.clone());
                        }
                        if fx == Fx::AwaitingApproval {
                            let res = self
                                .app
                                .review("reviewer-other", &appeal, &review_body(&t.lease_token, "overturn"))
                                .await;
                            let body: Value = res.json().await.unwrap();
                            assert_eq!(body["status"], "awaiting_approval", "{body}");
                        }
                    }
                    Fx::Objection => {
                        let body = json!({"scope": "profiling", "grounds": "No automated scoring of me, please"});
                        self.dpo_post(&format!("{subject_path}/objection"), body, StatusCode::OK)
                            .await;
                    }
                    Fx::Restricted => {
                        let body = json!({"reason": "Accuracy contested by phone"});
                        self.dpo_post(&format!("{subject_path}/restriction"), body, StatusCode::OK)
                            .await;
                    }
                    Fx::Rectification => {
                        let body = json!({"decision_id": decision, "corrected_inputs": {"annual_income": 41000},
                                          "note": "Payslips attached"});
                        let rect = self
                            .dpo_post(&format!("{subject_path}/rectifications"), body, StatusCode::CREATED)
                            .await;
                        let id = rect["id"].as_str().unwrap().to_owned();
                        t.params.insert("id", id.clone());
                        t.secrets.push(id);
                    }
                    _ => t.query = "?identity_method=knowledge_based".into(),
                }
            }
        }
        t
    }
}

/// The body an operation needs to reach its authorisation check with a valid request.
fn body_for(method: &str, template: &str, role: Role, t: &Target, w: &World) -> Option<Value> {
    let reason = "Documented in the case file";
    let mut body = match (method, template) {
        ("POST", "/v1/engines") => json!({"id": w.fresh("engine"), "name": "Another engine"}),
        ("POST", "/v1/engines/{id}/endpoints") => json!({"url": "http://127.0.0.1:9/other"}),
        ("POST", "/v1/models/{name}/suspension") => json!({"reason": reason}),
        ("POST", "/v1/decisions") => decision_body(&w.fresh("ext"), &w.fresh("someone")),
        ("POST", "/v1/decisions/batch") => json!({"decisions": [decision_body(&w.fresh("ext"), "someone")]}),
        ("POST", "/v1/decisions/{id}/appeals") => {
            let mut body = crate::helpers::appeal_body();
            if role == Role::Agent {
                body["channel"] = json!("phone");
                body["identity_check"] = json!({"method": "knowledge_based", "result": "verified"});
            }
            body
        }
        ("POST", "/v1/appeals/{id}/withdrawal") => json!({}),
        ("POST", "/v1/appeals/{id}/extension") => json!({"months": 1, "reason": reason}),
        ("POST", "/v1/appeals/{id}/assignment") => json!({"reviewer": "reviewer-other", "reason": reason}),
        ("POST", "/v1/appeals/{id}/review") => review_body(&t.lease_token, "uphold"),
        ("POST", "/v1/appeals/{id}/approval") => json!({"decision": "approve", "note": RATIONALE}),
        (_, "/v1/appeals/{id}/lease" | "/v1/appeals/{id}/lease/heartbeat") => json!({"lease_token": t.lease_token}),
        (_, "/v1/subjects/{subject_id}/erasure" | "/v1/subjects/{subject_id}/restriction") => json!({"reason": reason}),
        (_, "/v1/subjects/{subject_id}/objection" | "/v1/subjects/{subject_id}/objection/compelling-grounds") => {
            json!({"scope": "profiling", "grounds": reason})
        }
        ("POST", "/v1/subjects/{subject_id}/rectifications") => json!({"decision_id": t.decision_id,
            "corrected_inputs": {"annual_income": 41000}, "note": reason}),
        ("POST", "/v1/subjects/{subject_id}/rectifications/{id}/resolution") => json!({"accept": true, "note": reason}),
        ("POST", "/v1/breaches") => json!({"description": "A reviewer's laptop was stolen"}),
        ("POST", "/v1/breaches/{id}/transitions") => json!({"to": "confirmed", "note": reason}),
        ("PUT", "/v1/queues/{name}") => json!({"description": "Another queue"}),
        ("PUT", "/v1/reviewers/{id}") => json!({"authorities": ["credit_limit"], "capacity": 1}),
        ("PUT", "/v1/policies/{decision_type}") => json!({"requires_approval": false}),
        _ => return None,
    };
    let for_a_caller = [
        "/v1/appeals/{id}/withdrawal",
        "/v1/subjects/{subject_id}/objection",
        "/v1/subjects/{subject_id}/rectifications",
    ];
    if role == Role::Agent && for_a_caller.contains(&template) {
        body["identity_method"] = json!("knowledge_based");
    }
    Some(body)
}

fn path_for(template: &str, t: &Target) -> String {
    let mut path = template.to_owned();
    for (name, value) in &t.params {
        path = path.replace(&format!("{{{name}}}"), value);
    }
    assert!(!path.contains('{'), "{template} has a parameter no fixture fills");
    if template == "/v1/audit/subjects-accessed" {
        return format!("{path}?actor=agent-other&from=2026-01-01T00:00:00Z&to=2026-12-01T00:00:00Z");
    }
    let with_query = template.ends_with("/claim") || template.ends_with("/export");
    if with_query { format!("{path}{}", t.query) } else { path }
}

fn token(app: &TestApp, role: Role) -> String {
    app.token_for(role)
}

#[derive(diesel::QueryableByName, Debug, PartialEq)]
struct Tally {
    #[diesel(sql_type = diesel::sql_types::Text)]
    k: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// What a write would change: row counts of the written tables, appeals and decisions by status.
async fn tallies(app: &TestApp) -> Vec<Tally> {
    use diesel::RunQueryDsl;
    let mut sql = String::from(
        "SELECT 'appeals:' || status AS k, COUNT(*) AS n FROM appeals GROUP BY status \
         UNION ALL SELECT 'decisions:' || status, COUNT(*) FROM decisions GROUP BY status",
    );
    for table in [
        "engines",
        "webhook_endpoints",
        "reviews",
        "notices",
        "outbox",
        "reviewers",
        "queues",
        "decision_type_policies",
        "model_suspensions",
        "subject_restrictions",
        "subject_objections",
        "rectifications",
        "breaches",
        "breach_steps",
    ] {
        sql.push_str(&format!(" UNION ALL SELECT '{table}', COUNT(*) FROM {table}"));
    }
    sql.push_str(" ORDER BY k");
    app.with_db(move |c| diesel::sql_query(sql).load(c)).await
}

#[tokio::test]
async fn the_matrix_covers_every_protected_operation_once() {
    let mut listed: Vec<(&str, &str)> = MATRIX.iter().map(|(m, p, _, _)| (*m, *p)).collect();
    let mut protected = PROTECTED.to_vec();
    listed.sort();
    protected.sort();
    assert_eq!(listed, protected);
    for (method, path, _, cells) in MATRIX {
        assert_eq!(parse_cells(cells).len(), ROLES.len(), "{method} {path}");
    }
}

#[tokio::test]
async fn every_role_gets_exactly_the_declared_status_on_another_principals_objects() {
    let world = World::new().await;
    let app = &world.app;
    let mut failures = Vec::new();
    for (method, template, fx, cells) in MATRIX {
        for (role, expect) in ROLES.into_iter().zip(parse_cells(cells)) {
            let target = world.target(*fx).await;
            let before = match expect {
                Expect::Denied(_) => Some(tallies(app).await),
                _ => None,
            };
            let path = path_for(template, &target);
            let mut req = app
                .client
                .request(Method::from_bytes(method.as_bytes()).unwrap(), app.url(&path))
                .bearer_auth(token(app, role));
            if let Some(body) = body_for(method, template, role, &target, &world) {
                req = req.json(&body);
            }
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            let content_type = res
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            let body = res.text().await.unwrap();
            let cell = format!("{method} {template} as {role}");
            let leaked: Vec<&String> = target.secrets.iter().filter(|s| body.contains(s.as_str())).collect();
            match expect {
                Expect::Allowed(want) if status != want => {
                    failures.push(format!("{cell}: expected {want}, got {status}: {body}"));
                }
                Expect::Blind if status != 200 || !leaked.is_empty() => {
                    failures.push(format!(
                        "{cell}: expected 200 without the object's data, got {status}: {body}"
                    ));
                }
                Expect::Denied(want) => {
                    if status != want {
                        failures.push(format!("{cell}: expected {want}, got {status}: {body}"));
                    } else if !content_type.starts_with("application/problem+json") {
                        failures.push(format!("{cell}: a denial must be problem+json, got {content_type}"));
                    } else if !leaked.is_empty() {
                        failures.push(format!("{cell}: the denial leaks {leaked:?}: {body}"));
                    } else if before.as_ref() != Some(&tallies(app).await) {
                        failures.push(format!("{cell}: the denial changed the database"));
                    }
                }
                _ => {}
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} cells differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// An agent may act for any caller, but only after checking who the caller is: as with filing
/// an appeal and exporting, an objection or a rectification by an agent says how the caller's
/// identity was verified, and the audit entry records that it was.
#[tokio::test]
async fn an_agent_acting_for_a_caller_must_say_how_their_identity_was_verified() {
    use diesel::prelude::*;
    use recourse::db::schema::audit_log::dsl as log;

    let app = spawn_app_with(|_| {}).await;
    let decision = app.decision_for("d-1", "caller").await;
    let agent = app.token_for(Role::Agent);
    let subject = app.token(Role::Subject, "caller");
    let cases = [
        (
            "/v1/subjects/caller/objection",
            json!({"scope": "profiling", "grounds": "Called in to object"}),
            "subject.objected",
        ),
        (
            "/v1/subjects/caller/rectifications",
            json!({"decision_id": decision, "corrected_inputs": {"annual_income": 41000}, "note": "By phone"}),
            "subject.rectification_requested",
        ),
    ];
    for (path, body, action) in cases {
        let res = app.post_json(path, &agent, &body).await;
        let problem = crate::helpers::assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(crate::helpers::pointers(&problem), ["/identity_method"], "{path}");
        let mut with_method = body.clone();
        with_method["identity_method"] = json!("security questions");
        let res = app.post_json(path, &subject, &with_method).await;
        let problem = crate::helpers::assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(crate::helpers::pointers(&problem), ["/identity_method"], "{path}");
        let refused: i64 = app
            .with_db(move |c| log::audit_log.filter(log::action.eq(action)).count().get_result(c))
            .await;
        assert_eq!(refused, 0, "{path}: a refused request records nothing");

        let res = app.post_json(path, &agent, &with_method).await;
        assert!(res.status().is_success(), "{path}: {}", res.text().await.unwrap());
        let details: Vec<String> = app
            .with_db(move |c| {
                log::audit_log
                    .filter(log::action.eq(action))
                    .select(log::details)
                    .load(c)
            })
            .await;
        assert_eq!(details.len(), 1);
        let details: Value = serde_json::from_str(&details[0]).unwrap();
        assert_eq!(details["identity_checked_by_agent"], true, "{details}");
        assert!(
            !details.to_string().contains("security questions"),
            "free text stays out of the log"
        );
    }
}
