//! The OpenAPI contract at /openapi.json: version, completeness against the route table,
//! every documented operation served, 405 with `Allow`, times with an offset, and a docs page
//! that loads nothing from outside.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{assert_problem, spawn_app, spawn_app_with};
use crate::routes::route_table;

fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "post", "put", "delete", "patch"] {
            if item.get(method).is_some() {
                ops.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    ops
}

async fn document(app: &crate::helpers::TestApp) -> Value {
    let res = app.client.get(app.url("/openapi.json")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

#[tokio::test]
async fn the_document_is_openapi_3_1_and_covers_the_whole_route_table() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let version = doc["openapi"].as_str().unwrap();
    assert!(version.starts_with("3.1."), "{version}");

    let table = route_table();
    // Guards the source reading itself: the table had 48 operations when this test was written.
    assert!(
        table.len() >= 48,
        "read only {} routes from src/api/mod.rs",
        table.len()
    );
    let ops = documented(&doc);
    let undocumented: Vec<_> = table.difference(&ops).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from /openapi.json: {undocumented:?}"
    );
    let unrouted: Vec<_> = ops.difference(&table).collect();
    assert!(
        unrouted.is_empty(),
        "documented but not in the route table: {unrouted:?}"
    );

    // Every protected operation names the bearer scheme and documents the common problems.
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    for (method, path) in &ops {
        let op = &doc["paths"][path][method.to_lowercase()];
        let responses = op["responses"].as_object().unwrap();
        if path.starts_with("/v1/") {
            assert_eq!(op["security"][0]["bearer"], serde_json::json!([]), "{method} {path}");
            for code in ["401", "403", "429", "503"] {
                assert!(responses.contains_key(code), "{method} {path} does not document {code}");
            }
        }
        if op.get("requestBody").is_some() {
            for code in ["400", "408", "413", "415", "422"] {
                assert!(responses.contains_key(code), "{method} {path} does not document {code}");
            }
        }
    }
}

/// OpenAPI 3.1 requires a `description` on every response object (section 4.8.17), and a
/// client generator (openapi-python-client) refuses the document when one is missing: the 48
/// success responses declared as `(status = 200, body = T)` had none. Every response of every
/// operation, and every shared one in `components.responses`, has a description that says
/// something; a `$ref` in its place names a shared response that exists.
#[tokio::test]
async fn every_response_in_the_document_has_a_description() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let shared = doc["components"]["responses"].as_object().cloned().unwrap_or_default();
    let mut missing = Vec::new();
    let mut checked = 0;
    let mut check = |place: String, response: &Value| {
        checked += 1;
        if let Some(target) = response.get("$ref") {
            let name = target
                .as_str()
                .and_then(|t| t.strip_prefix("#/components/responses/"))
                .unwrap_or_else(|| panic!("{place}: $ref {target} is not a shared response"));
            assert!(shared.contains_key(name), "{place}: $ref to a missing response {name}");
            return;
        }
        match response.get("description").and_then(Value::as_str) {
            Some(text) if !text.trim().is_empty() => {}
            _ => missing.push(place),
        }
    };
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let Some(responses) = op.get("responses") else {
                continue;
            };
            let responses = responses
                .as_object()
                .unwrap_or_else(|| panic!("{method} {path}: responses"));
            assert!(!responses.is_empty(), "{method} {path} documents no response");
            for (status, response) in responses {
                check(format!("{} {path} {status}", method.to_uppercase()), response);
            }
        }
    }
    for (name, response) in &shared {
        check(format!("components.responses.{name}"), response);
    }
    assert!(
        missing.is_empty(),
        "{} responses without a description: {missing:#?}",
        missing.len()
    );
    // Guards the walk itself: 55 operations with several responses each when this was written.
    assert!(checked >= 300, "only {checked} responses found");
}

/// Each documented operation reaches a handler: without a token a `/v1` operation answers
/// 401 (not the 404 of an unknown route, nor 405), and the health checks answer 200.
#[tokio::test]
async fn every_documented_operation_is_served() {
    // Every request here is unauthenticated on purpose: no throttle.
    let app = spawn_app_with(|s| s.limits.auth_failures = 0).await;
    let doc = document(&app).await;
    for (method, path) in documented(&doc) {
        let url = app.url(&path.replace('{', "x").replace('}', ""));
        let res = app
            .client
            .request(Method::from_bytes(method.as_bytes()).unwrap(), url)
            .send()
            .await
            .unwrap();
        let expected = if path.starts_with("/v1/") {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::OK
        };
        assert_eq!(res.status(), expected, "{method} {path}");
    }
}

/// A documented path with a method it does not have answers 405 with `Allow` listing exactly
/// the documented methods (RFC 9110 section 15.5.6), as problem+json.
#[tokio::test]
async fn a_wrong_method_gets_405_with_the_documented_methods_in_allow() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let ops = documented(&doc);
    let paths: BTreeSet<&String> = ops.iter().map(|(_, p)| p).collect();
    for path in paths {
        let allowed: BTreeSet<String> = ops.iter().filter(|(_, p)| p == path).map(|(m, _)| m.clone()).collect();
        let url = app.url(&path.replace('{', "x").replace('}', ""));
        let res = app.client.patch(url).send().await.unwrap();
        let allow: BTreeSet<String> = res
            .headers()
            .get("allow")
            .unwrap_or_else(|| panic!("PATCH {path}: no Allow header"))
            .to_str()
            .unwrap()
            .split(',')
            .map(|m| m.trim().to_owned())
            .collect();
        assert_eq!(allow, allowed, "PATCH {path}");
        assert_problem(res, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
    }
}

/// Times in the API carry an offset: every documented `*_at` property is a `date-time`.
#[tokio::test]
async fn every_timestamp_in_the_contract_is_a_date_time() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let mut checked = 0;
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        for (field, prop) in schema["properties"].as_object().into_iter().flatten() {
            if field.ends_with("_at") {
                assert_eq!(prop["format"], "date-time", "{name}.{field}: {prop}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 20, "only {checked} timestamps found");
}

/// The audit checkpoint was the one time in the API written without an offset.
#[tokio::test]
async fn the_audit_checkpoint_time_carries_an_offset() {
    let app = spawn_app().await;
    app.register_engine("acme").await;
    app.db
        .write(recourse::audit::seal::seal_once)
        .await
        .unwrap()
        .expect("a checkpoint");
    let res = app
        .get("/v1/audit/head", &app.token_for(recourse::domain::Role::Dpo))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let head: Value = res.json().await.unwrap();
    let sealed_at = head["sealed_at"].as_str().unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(sealed_at).is_ok(), "{sealed_at}");
}

/// The docs page is Swagger UI served from the binary: it loads its scripts and styles from
/// this server and points at /openapi.json, never at another host.
#[tokio::test]
async fn the_docs_page_is_served_locally_without_external_urls() {
    let app = spawn_app().await;
    let res = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = res.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    let initializer = app
        .client
        .get(app.url("/docs/swagger-initializer.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(initializer.status(), StatusCode::OK);
    let initializer = initializer.text().await.unwrap();
    assert!(initializer.contains("/openapi.json"), "{initializer}");
    for (name, text) in [("index.html", &html), ("swagger-initializer.js", &initializer)] {
        for scheme in ["http://", "https://", "//cdn", "//unpkg"] {
            assert!(!text.contains(scheme), "{name} refers to {scheme}: {text}");
        }
    }
    // The assets the page names are all served here.
    for asset in [
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
    ] {
        assert!(html.contains(asset), "index.html does not load {asset}");
        let res = app.client.get(app.url(&format!("/docs/{asset}"))).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{asset}");
    }
}
