//! The OpenAPI 3.1 contract, generated from the code with utoipa and served at `GET /openapi.json`,
//! with an interactive page (Swagger UI, vendored: no CDN) at `/docs/`.
//!
//! schemathesis (`.ci/schemathesis`) fuzzes the running server against this document once per
//! role, so the document must say exactly what the server does. To document an endpoint:
//!
//! 1. Put `#[utoipa::path(...)]` on its handler: the method, the full path (with `/v1`), a
//!    `tag`, `params(...)` for path and query parameters (derive `utoipa::IntoParams` on a query
//!    struct), `request_body = T`, `security(("bearer" = []))` for a protected route, and the
//!    success responses plus the errors that are *specific* to the operation (404 for an unknown
//!    id, 409, or a 422 that the body's schema cannot express), each as
//!    `(status = 404, response = Problem)`. The route's roles go in the description.
//! 2. Derive `utoipa::ToSchema` on the request and response types. Write the field rules the
//!    service enforces into the schema (`#[schema(min_length = 1, max_length = 128, pattern = ..)]`)
//!    so that a body valid by the schema is accepted and one that is not is refused: schemathesis
//!    checks both directions. A text field names its shape from `domain::fields`, which the
//!    validator checks with `Checker::check`: an identifier `#[schema(value_type = Ident<64>)]`,
//!    one line of text `Text<200>`, prose (line breaks allowed) `Prose<2000>`, `Option<..>` for an
//!    optional one, and a map of scalars `#[schema(schema_with = domain::fields::scalar_map)]`.
//!    Times in the API are `DateTime<Utc>`; a row's `NaiveDateTime` is converted at the edge, or
//!    serialised with `domain::utc::as_utc`. An integer field also takes `2.0` (JSON Schema calls
//!    it an integer): `#[serde(deserialize_with = "crate::domain::validation::integral::deserialize")]`.
//! 3. Add the handler to `paths(...)` in [`ApiDoc`] below.
//! 4. A rule that JSON Schema cannot state (across fields, by role, against the clock or stored
//!    data) makes schemathesis see a 422 for a schema-valid request: add the operation, with the
//!    reason, to `.ci/schemathesis.toml`. Nothing else belongs there.
//!
//! The errors that every operation of a kind can return are added by [`CommonProblems`], so they
//! are not repeated on each handler:
//! - protected (has `security`): 401, 403, 429 and 503;
//! - with a request body: 400 (malformed JSON), 413, 415 and 422;
//! - with query parameters: 400 (`invalid_query`) and 422.
//!
//! A response declared without `description = ".."` gets one from [`CommonProblems`], made from
//! its status and body (``OK: the `Decision` ``): OpenAPI requires a description on every
//! response, and client generators refuse a document without one. Write your own where the
//! status and the type do not say enough.
//!
//! `tests/api/openapi.rs` fails when a route registered in `src/api/mod.rs` is missing here,
//! when a documented operation is not served, and when a response has no description.
//! `.ci/openapi` validates the served document with openapi-spec-validator and generates a
//! Python client from it.

use serde_json::Value;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, HeaderBuilder, ObjectBuilder, RefOr, Type};
use utoipa::{Modify, OpenApi};

use crate::error::PROBLEM_JSON;

/// `(status = 404, response = Problem)` in a handler's `responses(...)`: a problem+json body.
impl<'s> utoipa::ToResponse<'s> for crate::error::Problem {
    fn response() -> (&'s str, RefOr<utoipa::openapi::Response>) {
        ("Problem", problem_response(0, "An RFC 9457 problem; branch on `code`"))
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Recourse",
        description = "Contest automated decisions: appeals, human review and feedback to scoring engines. \
            Every error is RFC 9457 application/problem+json with a stable `code`; see docs/API.md.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(
        super::health::healthz,
        super::health::readyz,
        serve_contract,
        super::engines::list_engines,
        super::engines::register_engine,
        super::webhooks::list_endpoints,
        super::webhooks::register_endpoint,
        super::webhooks::rotate_endpoint_secret,
        super::webhooks::list_deliveries,
        super::webhooks::replay_delivery,
        super::models::get_suspension,
        super::models::suspend_model,
        super::models::lift_suspension,
        super::models::get_model_stats,
        super::feedback::export_labels,
        super::feedback::get_feedback,
        super::decisions::post_decision,
        super::decisions::post_decision_batch,
        super::decisions::get_decision,
        super::decisions::list_subject_decisions,
        super::appeals::file_appeal,
        super::appeals::get_appeal,
        super::appeals::list_appeal_notices,
        super::appeals::withdraw_appeal,
        super::appeals::extend_appeal,
        super::appeals::assign_appeal,
        super::appeals::review_appeal,
        super::appeals::approve_review,
        super::appeals::release_lease,
        super::appeals::heartbeat_lease,
        super::appeals::claim_next,
        super::subjects::export_subject,
        super::subjects::erase_subject,
        super::subjects::restrict_subject,
        super::subjects::lift_subject_restriction,
        super::subjects::object_to_processing,
        super::subjects::record_compelling_grounds,
        super::subjects::request_rectification,
        super::subjects::resolve_rectification,
        super::reports::transparency_report,
        super::reports::reviewer_report,
        super::audit::verify_audit,
        super::audit::audit_head,
        super::breaches::subjects_accessed,
        super::breaches::report_breach,
        super::breaches::list_breaches,
        super::breaches::get_breach,
        super::breaches::advance_breach,
        super::routing::list_queues,
        super::routing::put_queue,
        super::routing::list_reviewers,
        super::routing::put_reviewer,
        super::routing::list_policies,
        super::routing::put_policy,
    ),
    components(schemas(crate::error::Problem, crate::domain::FieldError), responses(crate::error::Problem)),
    modifiers(&CommonProblems),
    tags(
        (name = "health", description = "Liveness, readiness and this contract; no token needed"),
        (name = "engines", description = "Scoring engines and their webhook endpoints"),
        (name = "decisions", description = "Automated decisions as the engines report them"),
        (name = "appeals", description = "Filing, claiming, reviewing and approving appeals"),
        (name = "subjects", description = "Data-subject rights: export, erasure, restriction, objection, rectification"),
        (name = "models", description = "Model kill switch and statistics"),
        (name = "feedback", description = "Human outcomes fed back to the engines"),
        (name = "configuration", description = "Queues, reviewers and policies"),
        (name = "reports", description = "Transparency and reviewer reports"),
        (name = "audit", description = "The tamper-evident audit log"),
        (name = "breaches", description = "The breach register (GDPR Art. 33/34)"),
    )
)]
pub struct ApiDoc;

/// Adds the bearer scheme, the shared problem response, the errors common to every operation
/// of a kind, and a description to every response that lacks one (see the module docs).
pub struct CommonProblems;

impl Modify for CommonProblems {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("A JWT with `sub`, `role`, `iss`, `aud`, `iat`, `exp` and `nbf`"))
                    .build(),
            ),
        );
        for item in openapi.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                add_common_problems(op);
            }
        }
        describe_every_response(openapi);
    }
}

/// OpenAPI requires a `description` on every response object, and a client generator refuses a
/// document that lacks one. `(status = 200, body = T)` in a handler's `responses(...)` leaves it
/// empty (and utoipa then leaves the field out), so every response that has none gets one here,
/// made from its status and its body: ``OK: the `Decision` ``. A handler that has more to say
/// writes its own `description = ".."`, which is kept.
fn describe_every_response(openapi: &mut utoipa::openapi::OpenApi) {
    let operations = openapi.paths.paths.values_mut().flat_map(|item| {
        [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
            &mut item.query,
        ]
        .into_iter()
        .flatten()
        .chain(item.additional_operations.values_mut())
    });
    let op_responses = operations.flat_map(|op| op.responses.responses.iter_mut());
    let shared = openapi
        .components
        .iter_mut()
        .flat_map(|components| components.responses.iter_mut());
    for (status, response) in op_responses.chain(shared) {
        if let RefOr::T(response) = response
            && response.description.trim().is_empty()
        {
            response.description = default_description(status, response);
        }
    }
}

/// ``Created: the `Engine` ``, ``OK: a list of `Notice` as `{"items": [...]}` ``, `No Content`.
fn default_description(status: &str, response: &utoipa::openapi::Response) -> String {
    let reason = status
        .parse::<u16>()
        .ok()
        .and_then(|code| actix_web::http::StatusCode::from_u16(code).ok())
        .and_then(|code| code.canonical_reason())
        .map_or_else(|| format!("Status {status}"), str::to_owned);
    let schema = response.content.values().find_map(|content| match content {
        RefOr::T(content) => content.schema.as_ref(),
        RefOr::Ref(_) => None,
    });
    let body = match schema {
        Some(RefOr::Ref(r)) => {
            let name = r.ref_location.rsplit('/').next().unwrap_or_default();
            if let Some(item) = name.strip_prefix("Items_") {
                format!("a list of `{item}` as `{{\"items\": [...]}}`")
            } else if let Some(item) = name.strip_prefix("Page_") {
                format!("a page of `{item}`; pass `next_cursor` back as `after` for the next")
            } else if name == "Problem" {
                "an RFC 9457 problem (problem+json); branch on `code`".to_owned()
            } else {
                format!("the `{name}`")
            }
        }
        Some(RefOr::T(_)) => "the body below".to_owned(),
        None if response.content.is_empty() => return reason,
        None => format!(
            "a body of type {}",
            response.content.keys().cloned().collect::<Vec<_>>().join(" or ")
        ),
    };
    format!("{reason}: {body}")
}

fn add_common_problems(op: &mut Operation) {
    let protected = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let has_body = op.request_body.is_some();
    let has_query = op.parameters.iter().flatten().any(|p| match p {
        RefOr::T(p) => p.parameter_in == ParameterIn::Query,
        RefOr::Ref(_) => false,
    });
    let mut codes: Vec<(u16, &str)> = Vec::new();
    if protected {
        codes.extend([
            (
                401,
                "No valid bearer token (`unauthorized`); carries `WWW-Authenticate: Bearer`",
            ),
            (403, "The token's role may not do this (`forbidden`)"),
            (
                429,
                "Too many failed authentications from this client; see `Retry-After`",
            ),
            (
                503,
                "The database is unreachable or no connection came free in time (`unavailable`); retry after `Retry-After`",
            ),
        ]);
    }
    if has_body {
        codes.extend([
            (
                400,
                "The body is not valid JSON (`malformed_json`) or could not be read (`bad_body`)",
            ),
            (
                408,
                "The body did not arrive within the body timeout (`request_timeout`)",
            ),
            (413, "The body is larger than the route's limit (`payload_too_large`)"),
            (415, "The body is not declared as JSON (`unsupported_media_type`)"),
            (
                422,
                "The body has the wrong shape or breaks a rule (`validation_failed`); see `errors`",
            ),
        ]);
    }
    if has_query {
        codes.extend([
            (
                400,
                "Unknown query parameter or a value of the wrong type (`invalid_query`)",
            ),
            (422, "A query parameter breaks a rule (`validation_failed`)"),
        ]);
    }
    for (code, description) in codes {
        op.responses
            .responses
            .entry(code.to_string())
            .or_insert_with(|| problem_response(code, description));
    }
}

fn problem_response(code: u16, description: &str) -> RefOr<utoipa::openapi::Response> {
    let mut response = ResponseBuilder::new().description(description).content(
        PROBLEM_JSON,
        ContentBuilder::new()
            .schema(Some(utoipa::openapi::Ref::from_schema_name("Problem")))
            .build(),
    );
    if code == 429 || code == 503 {
        response = response.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(0))))
                .description(Some("Seconds to wait before retrying"))
                .build(),
        );
    }
    RefOr::T(response.build())
}

/// The document, as served.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The document rendered once per process and shared by every worker: building it per worker
/// and rendering it per request cost memory and time for a document that never changes.
#[derive(Clone)]
pub struct Contract(actix_web::web::Bytes);

impl Contract {
    pub fn render() -> Result<Self, serde_json::Error> {
        let mut document = serde_json::to_value(document())?;
        refuse_nul_in_every_string(&mut document);
        Ok(Self(actix_web::web::Bytes::from(serde_json::to_vec(&document)?)))
    }
}

/// The pattern a string without its own rule gets: anything but NUL.
pub const NO_NUL: &str = r"^[^\x00]*$";

/// Every text that reaches the database is refused with a NUL in it (PostgreSQL cannot store one;
/// see `api::json::parse` and `api::refuse_nul_in_url`). So every string schema in the
/// document that has no pattern, format or fixed values of its own says so with [`NO_NUL`], and
/// a request that is valid by the document is one the service accepts.
fn refuse_nul_in_every_string(node: &mut Value) {
    match node {
        Value::Object(map) => {
            let is_string = match map.get("type") {
                Some(Value::String(t)) => t == "string",
                Some(Value::Array(types)) => types.iter().any(|t| t == "string"),
                _ => false,
            };
            let constrained = ["pattern", "format", "enum", "const"]
                .iter()
                .any(|k| map.contains_key(*k));
            if is_string && !constrained {
                map.insert("pattern".into(), Value::String(NO_NUL.into()));
            }
            for value in map.values_mut() {
                refuse_nul_in_every_string(value);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(refuse_nul_in_every_string),
        _ => {}
    }
}

/// `GET /openapi.json`.
#[utoipa::path(get, path = "/openapi.json", tag = "health", description = "This document. No token needed.", responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json", body = Object)))]
pub async fn serve_contract(contract: actix_web::web::Data<Contract>) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .content_type("application/json")
        .body(contract.0.clone())
}

#[cfg(test)]
mod tests {
    use utoipa::openapi::Ref;

    #[test]
    fn strings_without_a_rule_of_their_own_refuse_nul() {
        let mut doc = serde_json::json!({"properties": {
            "free": {"type": "string"},
            "nullable": {"type": ["string", "null"]},
            "id": {"type": "string", "pattern": "^[a-z]+$"},
            "at": {"type": "string", "format": "date-time"},
            "kind": {"type": "string", "enum": ["a"]},
            "type": {"type": "integer"},
            "list": {"type": "array", "items": {"type": "string"}}
        }});
        super::refuse_nul_in_every_string(&mut doc);
        let p = &doc["properties"];
        for free in [&p["free"], &p["nullable"], &p["list"]["items"]] {
            assert_eq!(free["pattern"], super::NO_NUL);
        }
        assert_eq!(p["id"]["pattern"], "^[a-z]+$");
        for other in [&p["at"], &p["kind"], &p["type"]] {
            assert!(other.get("pattern").is_none());
        }
    }

    use super::*;

    fn with_body(schema: &str) -> utoipa::openapi::Response {
        ResponseBuilder::new()
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name(schema)))
                    .build(),
            )
            .build()
    }

    #[test]
    fn a_default_description_names_the_status_and_the_body() {
        assert_eq!(
            default_description("201", &with_body("Engine")),
            "Created: the `Engine`"
        );
        assert_eq!(
            default_description("200", &with_body("Items_Notice")),
            "OK: a list of `Notice` as `{\"items\": [...]}`"
        );
        assert!(default_description("200", &with_body("Page_Decision")).starts_with("OK: a page of `Decision`"));
        assert_eq!(
            default_description("204", &ResponseBuilder::new().build()),
            "No Content"
        );
        assert_eq!(
            default_description("299", &ResponseBuilder::new().build()),
            "Status 299"
        );
    }

    #[test]
    fn every_response_in_the_document_has_a_description_and_written_ones_are_kept() {
        let doc = document();
        let mut seen = 0;
        for item in doc.paths.paths.values() {
            for op in [&item.get, &item.put, &item.post, &item.delete, &item.patch]
                .into_iter()
                .flatten()
            {
                for response in op.responses.responses.values() {
                    if let RefOr::T(response) = response {
                        assert!(!response.description.trim().is_empty(), "{:?}", op.operation_id);
                        seen += 1;
                    }
                }
            }
        }
        assert!(seen > 0);
        let decisions = &doc.paths.paths["/v1/decisions"]
            .post
            .as_ref()
            .unwrap()
            .responses
            .responses;
        let RefOr::T(replayed) = &decisions["200"] else {
            panic!("200 is inline")
        };
        assert_eq!(replayed.description, "An identical re-post: the stored decision");
    }
}
