//! The authentication suite: one table of forged and unacceptable tokens, each sent to every
//! protected operation of an RS256 service. Every answer must be 401 problem+json; none 5xx.
//! The failed-authentication throttle is off here (it would turn these 401s into 429s); it
//! has its own tests in tests/api/limits.rs.

use std::net::TcpListener;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use recourse::config::JwtAlgorithm;
use recourse::domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, fixture, spawn_app_with};
use crate::routes::{PROTECTED, fill};

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn claims() -> Value {
    json!({"sub": "admin-1", "role": "admin", "iss": "recourse", "aud": "recourse",
           "iat": now(), "nbf": now(), "exp": now() + 600})
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn without(mut claims: Value, key: &str) -> Value {
    claims.as_object_mut().unwrap().remove(key);
    claims
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

/// Signs `header.payload` exactly as given, so headers can carry anything an attacker likes.
fn signed(header: &Value, claims: &Value, key: &EncodingKey, alg: Algorithm) -> String {
    let message = format!("{}.{}", b64(header), b64(claims));
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), key, alg).unwrap();
    format!("{message}.{signature}")
}

fn rsa_key() -> EncodingKey {
    EncodingKey::from_rsa_pem(&std::fs::read(fixture("rsa_private.pem")).unwrap()).unwrap()
}

/// A key the attacker holds; its public half is `attacker_rsa_jwk.json`.
fn attacker_rsa_key() -> EncodingKey {
    EncodingKey::from_rsa_pem(&std::fs::read(fixture("attacker_rsa_private.pem")).unwrap()).unwrap()
}

fn ed_key() -> EncodingKey {
    EncodingKey::from_ed_pem(&std::fs::read(fixture("ed25519_private.pem")).unwrap()).unwrap()
}

fn hmac_key(secret: &[u8]) -> EncodingKey {
    EncodingKey::from_secret(secret).unwrap()
}

/// HS256 over `header.payload` with any key, the empty one included (jsonwebtoken refuses it).
fn hs256_raw(header: &Value, claims: &Value, key: &[u8]) -> String {
    use hmac::{KeyInit, Mac};
    let message = format!("{}.{}", b64(header), b64(claims));
    let mut mac = hmac::Hmac::<sha2_011::Sha256>::new_from_slice(key).unwrap();
    mac.update(message.as_bytes());
    format!("{message}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

/// A token the service accepts: RS256 with the fixture key.
fn genuine(claims: &Value) -> String {
    signed(
        &json!({"alg": "RS256", "typ": "JWT"}),
        claims,
        &rsa_key(),
        Algorithm::RS256,
    )
}

fn unsigned(alg: &str) -> String {
    format!("{}.{}.", b64(&json!({"alg": alg, "typ": "JWT"})), b64(&claims()))
}

/// The token with one bit flipped at `at` (a fraction of its length) in part `part`.
fn flipped(token: &str, part: usize, at: f64) -> String {
    let mut parts: Vec<Vec<u8>> = token.split('.').map(|p| URL_SAFE_NO_PAD.decode(p).unwrap()).collect();
    let bytes = &mut parts[part];
    let i = ((bytes.len() - 1) as f64 * at) as usize;
    bytes[i] ^= 0x01;
    parts
        .iter()
        .map(|p| URL_SAFE_NO_PAD.encode(p))
        .collect::<Vec<_>>()
        .join(".")
}

/// Every forged, tampered or unacceptable token, by name. `listener` is where `jku`/`x5u`
/// point: the service must never connect to it.
fn bad_tokens(listener: &str) -> Vec<(String, String)> {
    let public_pem = std::fs::read(fixture("rsa_public.pem")).unwrap();
    let public_der_ish: Vec<u8> = public_pem
        .split(|b| *b == b'\n')
        .filter(|l| !l.starts_with(b"-----"))
        .flatten()
        .copied()
        .collect();
    let mut t: Vec<(String, String)> = Vec::new();
    for alg in ["none", "None", "NONE", "nOnE"] {
        t.push((format!("alg {alg}, unsigned"), unsigned(alg)));
        // Unsigned but with a genuine signature pasted on: still not RS256.
        let real_sig = genuine(&claims()).rsplit('.').next().unwrap().to_owned();
        t.push((
            format!("alg {alg} with a pasted signature"),
            format!("{}{real_sig}", unsigned(alg)),
        ));
    }
    let hs = json!({"alg": "HS256", "typ": "JWT"});
    t.push((
        "HS256 keyed with the RS public key (PEM)".into(),
        signed(&hs, &claims(), &hmac_key(&public_pem), Algorithm::HS256),
    ));
    t.push((
        "HS256 keyed with the RS public key (base64 body)".into(),
        signed(&hs, &claims(), &hmac_key(&public_der_ish), Algorithm::HS256),
    ));
    t.push((
        "HS512 keyed with the RS public key".into(),
        signed(
            &json!({"alg": "HS512"}),
            &claims(),
            &hmac_key(&public_pem),
            Algorithm::HS512,
        ),
    ));
    t.push((
        "RS256 by another RSA key".into(),
        signed(
            &json!({"alg": "RS256", "typ": "JWT"}),
            &claims(),
            &attacker_rsa_key(),
            Algorithm::RS256,
        ),
    ));
    t.push((
        "EdDSA by another key".into(),
        signed(&json!({"alg": "EdDSA"}), &claims(), &ed_key(), Algorithm::EdDSA),
    ));
    let long_kid = "k".repeat(10 * 1024);
    let kids: [(&str, &str, &[u8]); 6] = [
        (
            "path /dev/null, HMAC with an empty key",
            "../../../../../../dev/null",
            b"",
        ),
        ("absolute path", "/etc/passwd", b"root:x:0:0:root:/root:/bin/bash"),
        ("path to the public key", "tests/fixtures/rsa_public.pem", &public_pem),
        ("SQL injection", "' UNION SELECT 'attacker-key' --", b"attacker-key"),
        ("SQL with a quote and NUL", "x'; DROP TABLE decisions; --\u{0}", b"x"),
        ("10 KB long", &long_kid, b"k"),
    ];
    for (name, kid, key) in kids {
        t.push((
            format!("kid {name} (HS256)"),
            hs256_raw(&json!({"alg": "HS256", "kid": kid}), &claims(), key),
        ));
        t.push((
            format!("kid {name} (EdDSA by another key)"),
            signed(
                &json!({"alg": "EdDSA", "kid": kid}),
                &claims(),
                &ed_key(),
                Algorithm::EdDSA,
            ),
        ));
    }
    // Keys offered by the token itself: an attacker-held key, by URL or inline (the Ed25519
    // one is the public half of ed25519_private.pem, which signs those tokens).
    let attacker_ed = json!({"kty": "OKP", "crv": "Ed25519",
        "x": "4OV1LQWV2eG0W4YdKxtOwTYIxoS5I_oHk9LfKhL_FuM"});
    let attacker_rsa_jwk: Value =
        serde_json::from_slice(&std::fs::read(fixture("attacker_rsa_jwk.json")).unwrap()).unwrap();
    let jku = format!("http://{listener}/.well-known/jwks.json");
    let offered: [(&str, Value); 6] = [
        ("jku", json!({"alg": "RS256", "jku": jku, "kid": "attacker"})),
        (
            "x5u",
            json!({"alg": "RS256", "x5u": format!("http://{listener}/cert.pem")}),
        ),
        ("jwk (RSA)", json!({"alg": "RS256", "jwk": attacker_rsa_jwk})),
        ("jku with EdDSA", json!({"alg": "EdDSA", "jku": jku})),
        ("jwk (Ed25519)", json!({"alg": "EdDSA", "jwk": attacker_ed})),
        (
            "x5c",
            json!({"alg": "EdDSA", "x5c": ["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"]}),
        ),
    ];
    for (name, header) in offered {
        // Each token is validly signed by the key its header offers (or points to): only the
        // configured key may count.
        let token = if header["alg"] == "EdDSA" {
            signed(&header, &claims(), &ed_key(), Algorithm::EdDSA)
        } else {
            signed(&header, &claims(), &attacker_rsa_key(), Algorithm::RS256)
        };
        t.push((format!("{name} header"), token));
    }
    let good = genuine(&claims());
    for (part, name) in [(0, "header"), (1, "payload"), (2, "signature")] {
        for at in [0.0, 0.5, 1.0] {
            t.push((format!("bit flip in the {name} at {at}"), flipped(&good, part, at)));
        }
    }
    t.push(("truncated signature".into(), good[..good.len() - 4].to_owned()));
    t.push((
        "signature removed".into(),
        format!("{}.", good.rsplit_once('.').unwrap().0),
    ));
    t.push(("two parts only".into(), good.rsplit_once('.').unwrap().0.to_owned()));
    t.push(("expired".into(), genuine(&with(claims(), "exp", json!(now() - 120)))));
    t.push((
        "not yet valid".into(),
        genuine(&with(claims(), "nbf", json!(now() + 120))),
    ));
    t.push(("missing exp".into(), genuine(&without(claims(), "exp"))));
    t.push(("missing nbf".into(), genuine(&without(claims(), "nbf"))));
    t.push(("missing sub".into(), genuine(&without(claims(), "sub"))));
    t.push((
        "exp as a string".into(),
        genuine(&with(claims(), "exp", json!("never"))),
    ));
    t.push(("wrong iss".into(), genuine(&with(claims(), "iss", json!("mallory")))));
    t.push(("wrong aud".into(), genuine(&with(claims(), "aud", json!("elsewhere")))));
    t.push((
        "aud of a web login link".into(),
        genuine(&with(claims(), "aud", json!("recourse:ui-login-link"))),
    ));
    t.push(("role system".into(), genuine(&with(claims(), "role", json!("system")))));
    t.push(("unknown role".into(), genuine(&with(claims(), "role", json!("root")))));
    t
}

async fn send(app: &TestApp, method: &str, path: &str, authorization: Option<&str>) -> reqwest::Response {
    let mut req = app
        .client
        .request(Method::from_bytes(method.as_bytes()).unwrap(), app.url(path));
    if let Some(value) = authorization {
        req = req.header("authorization", value);
    }
    if matches!(method, "POST" | "PUT" | "DELETE") {
        req = req.json(&json!({}));
    }
    req.send().await.unwrap()
}

async fn rs256_app() -> TestApp {
    spawn_app_with(|s| {
        s.jwt.algorithm = JwtAlgorithm::Rs256;
        s.jwt.secret = None;
        s.jwt.public_key = Some(fixture("rsa_public.pem"));
        s.limits.auth_failures = 0;
    })
    .await
}

#[tokio::test]
async fn every_forged_or_unacceptable_token_is_401_on_every_protected_operation() {
    let app = rs256_app().await;
    let trap = TcpListener::bind("127.0.0.1:0").unwrap();
    trap.set_nonblocking(true).unwrap();
    let tokens = bad_tokens(&trap.local_addr().unwrap().to_string());
    assert!(tokens.len() > 50, "{}", tokens.len());

    let mut headers: Vec<(String, Option<String>)> = vec![
        ("no Authorization header".into(), None),
        ("Basic scheme".into(), Some(format!("Basic {}", genuine(&claims())))),
        ("empty bearer".into(), Some("Bearer ".into())),
        ("garbage".into(), Some("Bearer not.a.jwt".into())),
    ];
    headers.extend(tokens.into_iter().map(|(name, t)| (name, Some(format!("Bearer {t}")))));

    let mut failures = Vec::new();
    for (method, template) in PROTECTED {
        let path = fill(template, "x");
        for (name, header) in &headers {
            let res = send(&app, method, &path, header.as_deref()).await;
            let status = res.status();
            let content_type = res
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_owned());
            let challenge = res.headers().get("www-authenticate").is_some();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            if status != StatusCode::UNAUTHORIZED
                || !content_type.is_some_and(|c| c.starts_with("application/problem+json"))
                || !challenge
                || body["code"] != "unauthorized"
            {
                failures.push(format!("{method} {template} with {name}: {status} {body}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        matches!(trap.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the service connected to a URL named in a token header"
    );
}

/// The control: the same requests with a genuine token get past authentication (never 401,
/// never 5xx), so the suite above can tell a forged token from a broken service.
#[tokio::test]
async fn a_genuine_token_passes_authentication_on_every_protected_operation() {
    let app = rs256_app().await;
    let token = format!("Bearer {}", genuine(&claims()));
    assert_eq!(
        send(&app, "GET", "/v1/engines", Some(&token)).await.status(),
        StatusCode::OK
    );
    for (method, template) in PROTECTED {
        let path = fill(template, "x");
        let status = send(&app, method, &path, Some(&token)).await.status();
        assert!(
            status != StatusCode::UNAUTHORIZED && !status.is_server_error(),
            "{method} {template}: {status}"
        );
    }
    // Each role's own token, minted by the test helper, is accepted too.
    for role in Role::ALL {
        let status = app.get("/v1/decisions/x", &app.token_for(role)).await.status();
        assert_ne!(status, StatusCode::UNAUTHORIZED, "{role}");
    }
}
