use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use recourse::auth::JwtKeys;
use recourse::config::{JwtAlgorithm, JwtArgs, Settings};
use recourse::db::{DatabaseUrl, Db, DbError};
use recourse::domain::Role;
use recourse::startup::Application;
use reqwest::{Response, StatusCode};
use secrecy::SecretString;
use serde_json::{Value, json};

pub const TEST_SECRET: &str = "integration-test-secret-0123456789abcdef";

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

pub fn hs256_args() -> JwtArgs {
    JwtArgs {
        algorithm: JwtAlgorithm::Hs256,
        secret: Some(SecretString::from(TEST_SECRET)),
        secret_file: None,
        public_key: None,
        private_key: None,
        issuer: "recourse".into(),
        audience: "recourse".into(),
        leeway_secs: 5,
    }
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: Db,
    /// The database URL as a string, for starting other `recourse` processes on the same data.
    pub database_url: String,
    minter: recourse::auth::TokenMinter,
    _dir: tempfile::TempDir,
    _pg: Option<PgTestDatabase>,
}

/// A uniquely named Postgres database, dropped when the test ends.
struct PgTestDatabase {
    admin_url: String,
    name: String,
}

impl Drop for PgTestDatabase {
    fn drop(&mut self) {
        if let Ok(mut conn) = PgConnection::establish(&self.admin_url) {
            let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name));
        }
    }
}

fn create_pg_database(admin_url: &str) -> (PgTestDatabase, String) {
    let name = format!("recourse_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = PgConnection::establish(admin_url).expect("TEST_DATABASE_URL must accept connections");
    conn.batch_execute(&format!("CREATE DATABASE \"{name}\""))
        .expect("create test database");
    let base = admin_url.split('?').next().unwrap();
    let (server, _) = base.rsplit_once('/').expect("TEST_DATABASE_URL needs a /database path");
    let url = format!("{server}/{name}");
    (
        PgTestDatabase {
            admin_url: admin_url.to_owned(),
            name,
        },
        url,
    )
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Spawns the application with test settings, after `adjust` has had its say.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let (pg, raw_url) = match std::env::var("TEST_DATABASE_URL") {
        Ok(admin_url) if !admin_url.is_empty() => {
            let (pg, url) = tokio::task::spawn_blocking(move || create_pg_database(&admin_url))
                .await
                .unwrap();
            (Some(pg), url)
        }
        _ => (None, dir.path().join("recourse.db").to_str().unwrap().to_owned()),
    };
    let database_url = DatabaseUrl::parse(&raw_url).unwrap();
    let mut settings = Settings::for_database(database_url.clone(), hs256_args());
    settings.bind = "127.0.0.1:0".parse().unwrap();
    settings.workers = Some(2);
    settings.pool_size = 8;
    adjust(&mut settings);
    let jwt = settings.jwt.clone();
    let app = Application::build(settings).await.expect("application starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let db = app.db().clone();
    let minter = match JwtKeys::load(&jwt, &database_url).unwrap().minter {
        Some(m) => m,
        None => {
            // RS256/EdDSA apps verify with a public key; tests mint with the matching private key.
            let mut with_private = jwt.clone();
            with_private.private_key = Some(match jwt.algorithm {
                JwtAlgorithm::Rs256 => fixture("rsa_private.pem"),
                _ => fixture("ed25519_private.pem"),
            });
            JwtKeys::load(&with_private, &database_url).unwrap().minter.unwrap()
        }
    };
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::new(),
        db,
        database_url: raw_url,
        minter,
        _dir: dir,
        _pg: pg,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub fn token(&self, role: Role, sub: &str) -> String {
        self.minter
            .mint(role, sub, std::time::Duration::from_secs(600))
            .unwrap()
    }

    pub fn token_for(&self, role: Role) -> String {
        let sub = match role {
            Role::Engine => "engine-1",
            Role::Subject => "subject-1",
            other => other.as_str(),
        };
        self.token(role, sub)
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.client.get(self.url(path)).bearer_auth(token).send().await.unwrap()
    }

    pub async fn post_json(&self, path: &str, token: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Registers an engine as admin.
    pub async fn register_engine(&self, id: &str) {
        let admin = self.token_for(Role::Admin);
        let res = self
            .post_json(
                "/v1/engines",
                &admin,
                &json!({"id": id, "name": format!("{id} engine")}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
    }

    /// Posts a decision as `engine`, returning the response.
    pub async fn post_decision(&self, engine: &str, body: &Value) -> Response {
        let token = self.token(Role::Engine, engine);
        self.post_json("/v1/decisions", &token, body).await
    }

    /// Registers `engine-1` and posts one decision for `subject`, returning its JSON.
    pub async fn seed_decision(&self, external_id: &str, subject: &str) -> Value {
        let res = self
            .post_decision("engine-1", &decision_body(external_id, subject))
            .await;
        assert!(res.status().is_success(), "{}", res.status());
        res.json().await.unwrap()
    }

    /// Runs SQL against the app's database, for assertions and for breaking things on purpose.
    pub async fn with_db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut recourse::db::DbConnection) -> QueryResult<T> + Send + 'static,
    ) -> T {
        self.db.run(move |conn| f(conn).map_err(DbError::from)).await.unwrap()
    }

    pub async fn audit_count(&self, object_id: &str) -> i64 {
        use recourse::db::schema::audit_log::dsl;
        let id = object_id.to_owned();
        self.with_db(move |c| dsl::audit_log.filter(dsl::object_id.eq(id)).count().get_result(c))
            .await
    }

    pub async fn audit_total(&self) -> i64 {
        use recourse::db::schema::audit_log::dsl;
        self.with_db(|c| dsl::audit_log.count().get_result(c)).await
    }

    pub async fn decision_count(&self) -> i64 {
        use recourse::db::schema::decisions::dsl;
        self.with_db(|c| dsl::decisions.count().get_result(c)).await
    }
}

/// A realistic, valid decision body.
pub fn decision_body(external_id: &str, subject: &str) -> Value {
    json!({
        "external_id": external_id,
        "subject_id": subject,
        "decision_type": "credit_limit",
        "outcome": "declined",
        "score": 0.41,
        "threshold": 0.55,
        "model": {"name": "limits", "version": "3.2.0"},
        "significant_effect": true,
        "decided_at": "2026-11-01T10:00:00Z",
        "explanation": {
            "inputs": {"annual_income": 28000, "months_at_address": 4, "employment": "part_time", "homeowner": false},
            "contributions": [
                {"feature": "annual_income", "weight": -0.21},
                {"feature": "months_at_address", "weight": -0.08}
            ],
            "reason_codes": [
                {"code": "D01", "text": "Income too low for the requested limit"},
                {"code": "D07", "text": "Less than 6 months at current address"}
            ],
            "counterfactual": {"changes": {"annual_income": 35000}, "text": "An income of 35,000 would have been approved."}
        }
    })
}

/// Asserts a problem+json response with the status and code, returning the body.
pub async fn assert_problem(res: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(res.status(), status);
    let content_type = res.headers().get("content-type").unwrap().to_str().unwrap().to_owned();
    assert!(content_type.starts_with("application/problem+json"), "{content_type}");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status.as_u16());
    body
}

/// A substantive rationale that passes validation.
pub const RATIONALE: &str = "Payslips supplied with the appeal show the applicant's income is 41,000, not 28,000; with that income the score clears the threshold.";

impl TestApp {
    pub async fn put_json(&self, path: &str, token: &str, body: &Value) -> Response {
        self.client
            .put(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn delete_json(&self, path: &str, token: &str, body: &Value) -> Response {
        self.client
            .delete(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// A DPO erases `subject`; returns the erasure report.
    pub async fn erase_subject(&self, subject: &str) -> Value {
        let res = self
            .post_json(
                &format!("/v1/subjects/{subject}/erasure"),
                &self.token_for(Role::Dpo),
                &json!({"reason": "Art. 17 request by phone"}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
        res.json().await.unwrap()
    }

    /// Grants a reviewer authorities and capacity.
    pub async fn configure_reviewer(&self, id: &str, authorities: &[&str], capacity: i32) {
        let res = self
            .put_json(
                &format!("/v1/reviewers/{id}"),
                &self.token_for(Role::Admin),
                &json!({"authorities": authorities, "capacity": capacity}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    }

    /// Registers `engine-1` if needed and posts a decision for `subject`; returns its id.
    pub async fn decision_for(&self, external_id: &str, subject: &str) -> String {
        let _ = self
            .post_json(
                "/v1/engines",
                &self.token_for(Role::Admin),
                &json!({"id": "engine-1", "name": "engine"}),
            )
            .await;
        self.seed_decision(external_id, subject).await["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Files an appeal as the subject; returns the response.
    pub async fn file_appeal_as_subject(&self, decision_id: &str, subject: &str) -> Response {
        self.post_json(
            &format!("/v1/decisions/{decision_id}/appeals"),
            &self.token(Role::Subject, subject),
            &appeal_body(),
        )
        .await
    }

    /// A queued appeal on a fresh decision for `subject`; returns the appeal id.
    pub async fn queued_appeal(&self, external_id: &str, subject: &str) -> String {
        let decision = self.decision_for(external_id, subject).await;
        let res = self.file_appeal_as_subject(&decision, subject).await;
        assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
        res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
    }

    /// Claims as `reviewer`: `Some((appeal id, lease token, body))` or `None` on 204.
    pub async fn claim(&self, reviewer: &str) -> Option<(String, String, Value)> {
        let res = self
            .client
            .post(self.url("/v1/queue/claim"))
            .bearer_auth(self.token(Role::Reviewer, reviewer))
            .send()
            .await
            .unwrap();
        match res.status() {
            StatusCode::NO_CONTENT => None,
            StatusCode::OK => {
                let body: Value = res.json().await.unwrap();
                Some((
                    body["appeal"]["id"].as_str().unwrap().to_owned(),
                    body["lease"]["token"].as_str().unwrap().to_owned(),
                    body,
                ))
            }
            other => panic!("claim answered {other}: {}", res.text().await.unwrap()),
        }
    }

    pub async fn review(&self, reviewer: &str, appeal_id: &str, body: &Value) -> Response {
        self.post_json(
            &format!("/v1/appeals/{appeal_id}/review"),
            &self.token(Role::Reviewer, reviewer),
            body,
        )
        .await
    }

    pub async fn outbox_types(&self) -> Vec<String> {
        use recourse::db::schema::outbox::dsl;
        self.with_db(|c| dsl::outbox.order(dsl::seq.asc()).select(dsl::event_type).load(c))
            .await
    }

    pub async fn review_count(&self, appeal_id: &str) -> i64 {
        use recourse::db::schema::reviews::dsl;
        let id = appeal_id.to_owned();
        self.with_db(move |c| dsl::reviews.filter(dsl::appeal_id.eq(id)).count().get_result(c))
            .await
    }
}

pub fn appeal_body() -> Value {
    json!({
        "grounds": ["inaccurate_data"],
        "statement": "My income is 41,000 a year, not 28,000. I attach my last three payslips.",
        "corrected_inputs": {"annual_income": 41000},
        "requested_outcome": "approved",
        "evidence": [{"name": "payslips.pdf", "media_type": "application/pdf", "size_bytes": 183211}]
    })
}

pub fn review_body(token: &str, outcome: &str) -> Value {
    let mut body = json!({
        "lease_token": token,
        "outcome": outcome,
        "rationale": RATIONALE,
        "factors_considered": ["input:annual_income", "statement", "reason_code:D01"]
    });
    if outcome != "uphold" {
        body["new_outcome"] = json!("approved");
    }
    body
}

/// The JSON pointers a validation problem names, in order.
pub fn pointers(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["pointer"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// What draining the queue with concurrent reviewers observed.
pub struct Drained {
    /// How many times each appeal was handed out.
    pub handed_out: std::collections::HashMap<String, usize>,
    pub server_errors: usize,
}

impl TestApp {
    /// Posts `count` decisions in one batch and files an appeal on each; returns the appeal ids.
    pub async fn seed_queued_appeals(&self, prefix: &str, count: usize) -> Vec<String> {
        self.decision_for(&format!("{prefix}-warmup"), "warmup-subject").await;
        let items: Vec<Value> = (0..count)
            .map(|i| decision_body(&format!("{prefix}-{i}"), &format!("{prefix}-s-{i}")))
            .collect();
        let batch: Value = self
            .post_json(
                "/v1/decisions/batch",
                &self.token(Role::Engine, "engine-1"),
                &json!({"decisions": items}),
            )
            .await
            .json()
            .await
            .unwrap();
        let results = batch["results"].as_array().unwrap().clone();
        let mut appeals = Vec::with_capacity(count);
        for (i, chunk) in results.chunks(25).enumerate() {
            let filings = chunk.iter().enumerate().map(|(j, r)| {
                let subject = format!("{prefix}-s-{}", i * 25 + j);
                let decision = r["id"].as_str().unwrap().to_owned();
                async move { self.file_appeal_as_subject(&decision, &subject).await }
            });
            for res in futures_util::future::join_all(filings).await {
                assert_eq!(res.status(), StatusCode::CREATED);
                appeals.push(res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned());
            }
        }
        appeals
    }

    /// Each reviewer claims and decides (a third overturned, the rest upheld) until the queue is
    /// empty, against the instances at `bases` in turn.
    pub async fn drain_queue(&self, bases: &[String], reviewers: &[String]) -> Drained {
        let workers = reviewers.iter().enumerate().map(|(r, reviewer)| {
            let base = bases[r % bases.len()].clone();
            let token = self.token(Role::Reviewer, reviewer);
            let client = self.client.clone();
            async move {
                let (mut claimed, mut server_errors) = (Vec::new(), 0);
                loop {
                    let res = client
                        .post(format!("{base}/v1/queue/claim"))
                        .bearer_auth(&token)
                        .send()
                        .await
                        .unwrap();
                    match res.status() {
                        StatusCode::NO_CONTENT => break,
                        StatusCode::OK => {}
                        s if s.is_server_error() => {
                            server_errors += 1;
                            continue;
                        }
                        s => panic!("claim answered {s}: {}", res.text().await.unwrap()),
                    }
                    let body: Value = res.json().await.unwrap();
                    let id = body["appeal"]["id"].as_str().unwrap().to_owned();
                    let outcome = if claimed.len() % 3 == 0 { "overturn" } else { "uphold" };
                    let res = client
                        .post(format!("{base}/v1/appeals/{id}/review"))
                        .bearer_auth(&token)
                        .json(&review_body(body["lease"]["token"].as_str().unwrap(), outcome))
                        .send()
                        .await
                        .unwrap();
                    if res.status().is_server_error() {
                        server_errors += 1;
                    }
                    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
                    claimed.push(id);
                }
                (claimed, server_errors)
            }
        });
        let mut drained = Drained {
            handed_out: std::collections::HashMap::new(),
            server_errors: 0,
        };
        for (claimed, errors) in futures_util::future::join_all(workers).await {
            drained.server_errors += errors;
            for id in claimed {
                *drained.handed_out.entry(id).or_default() += 1;
            }
        }
        drained
    }

    /// The label export for retraining, as a DPO sees it.
    pub async fn labels(&self) -> String {
        self.get("/v1/feedback/labels.jsonl", &self.token_for(Role::Dpo))
            .await
            .text()
            .await
            .unwrap()
    }

    /// The token of a one-time web login link (`/ui/login/link?t=…`).
    pub fn login_link_token(&self, role: Role, sub: &str) -> String {
        self.minter
            .mint_login_link(role, sub, std::time::Duration::from_secs(600))
            .unwrap()
    }
}
