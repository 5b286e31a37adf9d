//! The one list of protected operations that the authentication suite and the authorisation
//! matrix walk, and a check that it matches the route table in src/api/mod.rs.

use std::collections::BTreeSet;

/// Every operation under `/v1`, as (method, path template). Each one requires a bearer token.
pub const PROTECTED: &[(&str, &str)] = &[
    ("GET", "/v1/engines"),
    ("POST", "/v1/engines"),
    ("GET", "/v1/engines/{id}/endpoints"),
    ("POST", "/v1/engines/{id}/endpoints"),
    ("POST", "/v1/engines/{id}/endpoints/{endpoint_id}/secret"),
    ("GET", "/v1/webhooks/deliveries"),
    ("POST", "/v1/webhooks/deliveries/{id}/replay"),
    ("GET", "/v1/models/{name}/suspension"),
    ("POST", "/v1/models/{name}/suspension"),
    ("DELETE", "/v1/models/{name}/suspension"),
    ("GET", "/v1/models/{name}/stats"),
    ("GET", "/v1/feedback/labels.jsonl"),
    ("GET", "/v1/feedback"),
    ("POST", "/v1/decisions"),
    ("POST", "/v1/decisions/batch"),
    ("GET", "/v1/decisions/{id}"),
    ("GET", "/v1/subjects/{subject_id}/decisions"),
    ("POST", "/v1/decisions/{id}/appeals"),
    ("GET", "/v1/appeals/{id}"),
    ("GET", "/v1/appeals/{id}/notices"),
    ("POST", "/v1/appeals/{id}/withdrawal"),
    ("POST", "/v1/appeals/{id}/extension"),
    ("POST", "/v1/appeals/{id}/assignment"),
    ("POST", "/v1/appeals/{id}/review"),
    ("POST", "/v1/appeals/{id}/approval"),
    ("DELETE", "/v1/appeals/{id}/lease"),
    ("POST", "/v1/appeals/{id}/lease/heartbeat"),
    ("GET", "/v1/subjects/{subject_id}/export"),
    ("POST", "/v1/subjects/{subject_id}/erasure"),
    ("POST", "/v1/subjects/{subject_id}/restriction"),
    ("DELETE", "/v1/subjects/{subject_id}/restriction"),
    ("POST", "/v1/subjects/{subject_id}/objection"),
    ("POST", "/v1/subjects/{subject_id}/objection/compelling-grounds"),
    ("POST", "/v1/subjects/{subject_id}/rectifications"),
    ("POST", "/v1/subjects/{subject_id}/rectifications/{id}/resolution"),
    ("GET", "/v1/reports/transparency"),
    ("GET", "/v1/reports/reviewers"),
    ("GET", "/v1/audit/verify"),
    ("GET", "/v1/audit/head"),
    ("GET", "/v1/audit/subjects-accessed"),
    ("GET", "/v1/breaches"),
    ("POST", "/v1/breaches"),
    ("GET", "/v1/breaches/{id}"),
    ("POST", "/v1/breaches/{id}/transitions"),
    ("POST", "/v1/queue/claim"),
    ("GET", "/v1/queues"),
    ("PUT", "/v1/queues/{name}"),
    ("GET", "/v1/reviewers"),
    ("PUT", "/v1/reviewers/{id}"),
    ("GET", "/v1/policies"),
    ("PUT", "/v1/policies/{decision_type}"),
];

/// A template with every `{param}` replaced by `value`.
pub fn fill(template: &str, value: &str) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').map_or(rest.len(), |c| open + c + 1);
        out.push_str(value);
        rest = &rest[close..];
    }
    out.push_str(rest);
    out
}

/// The route table, read from its source: every `web::resource("...")` in `src/api/mod.rs` with
/// the methods of its `.route(web::METHOD()...)` calls, under `/v1` once `web::scope("/v1")` has
/// opened. Reading the source keeps this list from being a second copy that someone must
/// remember to update. The HTML web UI (`src/ui`) is not part of the JSON API.
pub fn route_table() -> BTreeSet<(String, String)> {
    let source = include_str!("../../src/api/mod.rs");
    let scope_at = source.find(r#"web::scope("/v1")"#).expect("the /v1 scope");
    let mut routes = BTreeSet::new();
    let mut chunks = source.match_indices("web::resource(\"").peekable();
    while let Some((at, _)) = chunks.next() {
        let end = chunks.peek().map_or(source.len(), |(next, _)| *next);
        let chunk = &source[at + "web::resource(\"".len()..end];
        let path = &chunk[..chunk.find('"').expect("closing quote")];
        let path = if at > scope_at {
            format!("/v1{path}")
        } else {
            path.to_owned()
        };
        for method in ["get", "post", "put", "delete", "patch"] {
            if chunk.contains(&format!(".route(web::{method}()")) {
                routes.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    routes
}

#[test]
fn the_protected_list_is_the_route_table() {
    let registered: Vec<(String, String)> = route_table()
        .into_iter()
        .filter(|(_, p)| p.starts_with("/v1/"))
        .collect();
    let mut listed: Vec<(String, String)> = PROTECTED.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    listed.sort();
    assert!(registered.len() > 40, "{registered:?}");
    assert_eq!(
        listed, registered,
        "tests/api/routes.rs PROTECTED must list every operation of src/api/mod.rs"
    );
}

#[test]
fn fill_replaces_every_parameter() {
    assert_eq!(fill("/v1/a/{id}/b/{x}", "z"), "/v1/a/z/b/z");
    assert_eq!(fill("/v1/a", "z"), "/v1/a");
}
