use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use recourse::auth::JwtKeys;
use recourse::config::JwtAlgorithm;
use recourse::db::DatabaseUrl;
use recourse::domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TEST_SECRET, TestApp, assert_problem, fixture, hs256_args, spawn_app, spawn_app_with};

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn claims() -> Value {
    json!({"sub": "admin-1", "role": "admin", "iss": "recourse", "aud": "recourse",
           "iat": now(), "nbf": now(), "exp": now() + 600})
}

fn hs256(claims: &Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret).unwrap(),
    )
    .unwrap()
}

fn rs256(claims: &Value) -> String {
    let pem = std::fs::read(fixture("rsa_private.pem")).unwrap();
    jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        claims,
        &EncodingKey::from_rsa_pem(&pem).unwrap(),
    )
    .unwrap()
}

fn unsigned(alg: &str, claims: &Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(json!({"alg": alg, "typ": "JWT"}).to_string());
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{header}.{payload}.")
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn without(mut claims: Value, key: &str) -> Value {
    claims.as_object_mut().unwrap().remove(key);
    claims
}

async fn status_with_header(app: &TestApp, header: Option<String>) -> reqwest::Response {
    let mut req = app.client.get(app.url("/v1/engines"));
    if let Some(h) = header {
        req = req.header("authorization", h);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn a_valid_token_is_accepted() {
    let app = spawn_app().await;
    let res = status_with_header(
        &app,
        Some(format!("Bearer {}", hs256(&claims(), TEST_SECRET.as_bytes()))),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn forged_expired_and_misaddressed_tokens_are_401() {
    let app = spawn_app().await;
    let secret = TEST_SECRET.as_bytes();
    let cases: Vec<(&str, Option<String>)> = vec![
        ("no header", None),
        ("not bearer", Some(format!("Basic {}", hs256(&claims(), secret)))),
        ("empty bearer", Some("Bearer ".into())),
        ("garbage", Some("Bearer not.a.jwt".into())),
        (
            "bad signature",
            Some(format!(
                "Bearer {}",
                hs256(&claims(), b"another-secret-that-is-32-bytes-long!!")
            )),
        ),
        ("alg none", Some(format!("Bearer {}", unsigned("none", &claims())))),
        ("alg None", Some(format!("Bearer {}", unsigned("None", &claims())))),
        (
            "RS256 to an HS256 service",
            Some(format!("Bearer {}", rs256(&claims()))),
        ),
        (
            "expired",
            Some(format!(
                "Bearer {}",
                hs256(&with(claims(), "exp", json!(now() - 120)), secret)
            )),
        ),
        (
            "nbf in the future",
            Some(format!(
                "Bearer {}",
                hs256(&with(claims(), "nbf", json!(now() + 120)), secret)
            )),
        ),
        (
            "wrong audience",
            Some(format!(
                "Bearer {}",
                hs256(&with(claims(), "aud", json!("elsewhere")), secret)
            )),
        ),
        (
            "wrong issuer",
            Some(format!(
                "Bearer {}",
                hs256(&with(claims(), "iss", json!("mallory")), secret)
            )),
        ),
        (
            "missing exp",
            Some(format!("Bearer {}", hs256(&without(claims(), "exp"), secret))),
        ),
        // Issue 13: docs/API.md lists `iat` as required, and a token cannot be issued later
        // than it is used.
        (
            "missing iat",
            Some(format!("Bearer {}", hs256(&without(claims(), "iat"), secret))),
        ),
        (
            "iat in the future",
            Some(format!(
                "Bearer {}",
                hs256(&with(claims(), "iat", json!(now() + 3600)), secret)
            )),
        ),
        (
            "iat far in the future",
            Some(format!(
                "Bearer {}",
                hs256(&with(claims(), "iat", json!(now() + 10 * 365 * 86_400)), secret)
            )),
        ),
        (
            "missing nbf",
            Some(format!("Bearer {}", hs256(&without(claims(), "nbf"), secret))),
        ),
        (
            "missing aud",
            Some(format!("Bearer {}", hs256(&without(claims(), "aud"), secret))),
        ),
        (
            "unknown role",
            Some(format!(
                "Bearer {}",
                hs256(&with(claims(), "role", json!("root")), secret)
            )),
        ),
        (
            "empty subject",
            Some(format!("Bearer {}", hs256(&with(claims(), "sub", json!("")), secret))),
        ),
    ];
    for (name, header) in cases {
        let res = status_with_header(&app, header).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{name}");
        assert_eq!(res.headers()["www-authenticate"], "Bearer", "{name}");
        assert_problem(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
}

#[tokio::test]
async fn tokens_in_the_query_string_are_not_accepted() {
    let app = spawn_app().await;
    let token = app.token_for(Role::Admin);
    let res = app
        .client
        .get(app.url(&format!("/v1/engines?access_token={token}")))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

#[tokio::test]
async fn a_role_that_is_not_allowed_is_403() {
    let app = spawn_app().await;
    let res = app.get("/v1/engines", &app.token_for(Role::Reviewer)).await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
}

#[tokio::test]
async fn rs256_service_accepts_rs256_and_refuses_hs256_signed_with_its_public_key() {
    let app = spawn_app_with(|s| {
        s.jwt.algorithm = JwtAlgorithm::Rs256;
        s.jwt.secret = None;
        s.jwt.public_key = Some(fixture("rsa_public.pem"));
    })
    .await;
    let res = status_with_header(&app, Some(format!("Bearer {}", rs256(&claims())))).await;
    assert_eq!(res.status(), StatusCode::OK);
    // The classic confusion attack: HS256 keyed with the public key the attacker can read.
    let public_pem = std::fs::read(fixture("rsa_public.pem")).unwrap();
    let forged = hs256(&claims(), &public_pem);
    let res = status_with_header(&app, Some(format!("Bearer {forged}"))).await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

#[tokio::test]
async fn eddsa_service_accepts_eddsa_tokens() {
    let app = spawn_app_with(|s| {
        s.jwt.algorithm = JwtAlgorithm::EdDsa;
        s.jwt.secret = None;
        s.jwt.public_key = Some(fixture("ed25519_public.pem"));
    })
    .await;
    let res = app.get("/v1/engines", &app.token_for(Role::Admin)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = status_with_header(&app, Some(format!("Bearer {}", rs256(&claims())))).await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

#[test]
fn a_short_secret_or_a_large_leeway_stops_start_up() {
    let url = DatabaseUrl::Sqlite("unused.db".into());
    let mut args = hs256_args();
    args.secret = Some("x".repeat(31).into());
    let err = JwtKeys::load(&args, &url).err().unwrap().to_string();
    assert!(err.contains("31 bytes") && err.contains("at least 32"), "{err}");

    let mut args = hs256_args();
    args.leeway_secs = 61;
    assert!(JwtKeys::load(&args, &url).is_err());
}

#[tokio::test]
async fn start_up_with_a_short_secret_fails_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = recourse::config::Settings::for_database(
        DatabaseUrl::Sqlite(dir.path().join("r.db")),
        recourse::config::JwtArgs {
            secret: Some("too-short".to_owned().into()),
            ..hs256_args()
        },
    );
    settings.bind = "127.0.0.1:0".parse().unwrap();
    let err = recourse::startup::Application::build(settings)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("at least 32 bytes"), "{err}");
}

#[test]
fn the_development_secret_is_generated_once_with_mode_0600() {
    let dir = tempfile::tempdir().unwrap();
    let url = DatabaseUrl::Sqlite(dir.path().join("recourse.db"));
    let mut args = hs256_args();
    args.secret = None;
    let first = JwtKeys::load(&args, &url).unwrap();
    let path = dir.path().join("recourse.db.jwt-secret");
    assert_eq!(first.generated_secret_at.as_deref(), Some(path.as_path()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    assert!(std::fs::read_to_string(&path).unwrap().len() >= 32);
    let second = JwtKeys::load(&args, &url).unwrap();
    assert!(second.generated_secret_at.is_none());
    let token = first
        .minter
        .unwrap()
        .mint(Role::Agent, "a", std::time::Duration::from_secs(60))
        .unwrap();
    assert_eq!(second.verifier.verify(&token).unwrap().role, Role::Agent);
}

#[test]
fn without_a_secret_postgres_refuses_to_invent_one() {
    let url = DatabaseUrl::parse("postgres://u:p@localhost/db").unwrap();
    let mut args = hs256_args();
    args.secret = None;
    assert!(
        JwtKeys::load(&args, &url)
            .err()
            .unwrap()
            .to_string()
            .contains("RECOURSE_JWT_SECRET")
    );
}

#[test]
fn the_token_command_prints_only_a_token_that_serve_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("recourse.db");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_recourse"))
        .args(["token", "--role", "reviewer", "--sub", "alice", "--ttl", "1h"])
        .env("DATABASE_URL", &db_path)
        .env_remove("RECOURSE_JWT_SECRET")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8(output.stdout).unwrap();
    let token = stdout.trim_end_matches('\n');
    assert_eq!(token.lines().count(), 1);
    assert_eq!(token.split('.').count(), 3);

    let mut args = hs256_args();
    args.secret = None;
    let keys = JwtKeys::load(&args, &DatabaseUrl::Sqlite(db_path)).unwrap();
    let claims = keys.verifier.verify(token).unwrap();
    assert_eq!((claims.role, claims.sub.as_str()), (Role::Reviewer, "alice"));
    assert!((claims.exp - claims.iat - 3600).abs() <= 1);
}

#[test]
fn a_new_sqlite_database_file_is_private_to_its_owner() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("private.db");
    let db =
        recourse::db::Db::connect(&DatabaseUrl::Sqlite(path.clone()), 2, std::time::Duration::from_secs(5)).unwrap();
    db.migrate().unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let wal = dir.path().join("private.db-wal");
        assert_eq!(std::fs::metadata(&wal).unwrap().permissions().mode() & 0o777, 0o600);
    }
}

#[tokio::test]
async fn the_internal_system_role_is_never_accepted_from_a_token() {
    let app = spawn_app().await;
    let token = hs256(&with(claims(), "role", json!("system")), TEST_SECRET.as_bytes());
    let res = status_with_header(&app, Some(format!("Bearer {token}"))).await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
}
