//! The HTTP surface: the route table, thin handlers and the edge-level error conventions.

mod access_audit;
mod appeals;
mod audit;
pub mod bodies;
mod breaches;
mod decisions;
mod engines;
mod feedback;
mod health;
pub mod json;
mod middleware;
mod models;
pub mod openapi;
mod reports;
mod routing;
mod subjects;
pub mod throttle;
mod webhooks;

use actix_web::web;

pub use middleware::{add_request_id_header, problem_for_bare_errors, refuse_nul_in_url};
pub use throttle::{AuthThrottle, throttle_failed_auth};

use crate::config::{Limits, Workflow};
use crate::error::ApiError;

/// Registers every route. Each path is a `resource`, so a known path with the wrong method
/// answers 405 and an unknown path falls through to the 404 default service.
pub fn routes(
    cfg: &mut web::ServiceConfig,
    limits: Limits,
    workflow: Workflow,
    batch_permits: json::BodyPermits,
    contract: web::Data<openapi::Contract>,
) {
    cfg.app_data(web::Data::new(limits))
        .app_data(web::Data::new(workflow))
        .app_data(
            web::QueryConfig::default().error_handler(|e, _| {
                ApiError::bad_request("invalid_query", format!("invalid query string: {e}")).into()
            }),
        )
        .app_data(
            web::PathConfig::default()
                .error_handler(|e, _| ApiError::not_found(format!("no such resource: {e}")).into()),
        )
        // The contract (GET /openapi.json, rendered once per process) and its interactive page,
        // served from the binary.
        .app_data(contract)
        .service(web::resource("/openapi.json").route(web::get().to(openapi::serve_contract)))
        .service(
            utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}")
                // No online validator badge: the page must not call out to another host.
                .config(utoipa_swagger_ui::Config::from("/openapi.json").validator_url("none")),
        )
        .service(web::resource("/healthz").route(web::get().to(health::healthz)))
        .service(web::resource("/readyz").route(web::get().to(health::readyz)))
        .service(
            web::scope("/v1")
                .wrap(actix_web::middleware::from_fn(access_audit::audit_denials))
                .service(
                    web::resource("/engines")
                        .route(web::get().to(engines::list_engines))
                        .route(web::post().to(engines::register_engine)),
                )
                .service(
                    web::resource("/engines/{id}/endpoints")
                        .route(web::get().to(webhooks::list_endpoints))
                        .route(web::post().to(webhooks::register_endpoint)),
                )
                .service(
                    web::resource("/engines/{id}/endpoints/{endpoint_id}/secret")
                        .route(web::post().to(webhooks::rotate_endpoint_secret)),
                )
                .service(web::resource("/webhooks/deliveries").route(web::get().to(webhooks::list_deliveries)))
                .service(
                    web::resource("/webhooks/deliveries/{id}/replay").route(web::post().to(webhooks::replay_delivery)),
                )
                .service(
                    web::resource("/models/{name}/suspension")
                        .route(web::get().to(models::get_suspension))
                        .route(web::post().to(models::suspend_model))
                        .route(web::delete().to(models::lift_suspension)),
                )
                .service(web::resource("/models/{name}/stats").route(web::get().to(models::get_model_stats)))
                .service(web::resource("/feedback/labels.jsonl").route(web::get().to(feedback::export_labels)))
                .service(web::resource("/feedback").route(web::get().to(feedback::get_feedback)))
                .service(web::resource("/decisions").route(web::post().to(decisions::post_decision)))
                .service(
                    web::resource("/decisions/batch")
                        .app_data(json::BodyLimit(limits.batch_body_bytes))
                        .app_data(batch_permits)
                        .route(web::post().to(decisions::post_decision_batch)),
                )
                .service(web::resource("/decisions/{id}").route(web::get().to(decisions::get_decision)))
                .service(
                    web::resource("/subjects/{subject_id}/decisions")
                        .route(web::get().to(decisions::list_subject_decisions)),
                )
                .service(web::resource("/decisions/{id}/appeals").route(web::post().to(appeals::file_appeal)))
                .service(web::resource("/appeals/{id}").route(web::get().to(appeals::get_appeal)))
                .service(web::resource("/appeals/{id}/notices").route(web::get().to(appeals::list_appeal_notices)))
                .service(web::resource("/appeals/{id}/withdrawal").route(web::post().to(appeals::withdraw_appeal)))
                .service(web::resource("/appeals/{id}/extension").route(web::post().to(appeals::extend_appeal)))
                .service(web::resource("/appeals/{id}/assignment").route(web::post().to(appeals::assign_appeal)))
                .service(web::resource("/appeals/{id}/review").route(web::post().to(appeals::review_appeal)))
                .service(web::resource("/appeals/{id}/approval").route(web::post().to(appeals::approve_review)))
                .service(web::resource("/appeals/{id}/lease").route(web::delete().to(appeals::release_lease)))
                .service(web::resource("/appeals/{id}/lease/heartbeat").route(web::post().to(appeals::heartbeat_lease)))
                .service(web::resource("/subjects/{subject_id}/export").route(web::get().to(subjects::export_subject)))
                .service(web::resource("/subjects/{subject_id}/erasure").route(web::post().to(subjects::erase_subject)))
                .service(
                    web::resource("/subjects/{subject_id}/restriction")
                        .route(web::post().to(subjects::restrict_subject))
                        .route(web::delete().to(subjects::lift_subject_restriction)),
                )
                .service(
                    web::resource("/subjects/{subject_id}/objection")
                        .route(web::post().to(subjects::object_to_processing)),
                )
                .service(
                    web::resource("/subjects/{subject_id}/objection/compelling-grounds")
                        .route(web::post().to(subjects::record_compelling_grounds)),
                )
                .service(
                    web::resource("/subjects/{subject_id}/rectifications")
                        .route(web::post().to(subjects::request_rectification)),
                )
                .service(
                    web::resource("/subjects/{subject_id}/rectifications/{id}/resolution")
                        .route(web::post().to(subjects::resolve_rectification)),
                )
                .service(web::resource("/reports/transparency").route(web::get().to(reports::transparency_report)))
                .service(web::resource("/reports/reviewers").route(web::get().to(reports::reviewer_report)))
                .service(web::resource("/audit/verify").route(web::get().to(audit::verify_audit)))
                .service(web::resource("/audit/head").route(web::get().to(audit::audit_head)))
                .service(web::resource("/audit/subjects-accessed").route(web::get().to(breaches::subjects_accessed)))
                .service(
                    web::resource("/breaches")
                        .route(web::get().to(breaches::list_breaches))
                        .route(web::post().to(breaches::report_breach)),
                )
                .service(web::resource("/breaches/{id}").route(web::get().to(breaches::get_breach)))
                .service(web::resource("/breaches/{id}/transitions").route(web::post().to(breaches::advance_breach)))
                .service(web::resource("/queue/claim").route(web::post().to(appeals::claim_next)))
                .service(web::resource("/queues").route(web::get().to(routing::list_queues)))
                .service(web::resource("/queues/{name}").route(web::put().to(routing::put_queue)))
                .service(web::resource("/reviewers").route(web::get().to(routing::list_reviewers)))
                .service(web::resource("/reviewers/{id}").route(web::put().to(routing::put_reviewer)))
                .service(web::resource("/policies").route(web::get().to(routing::list_policies)))
                .service(web::resource("/policies/{decision_type}").route(web::put().to(routing::put_policy))),
        )
        .default_service(web::to(not_found));
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such route")
}

impl actix_web::Responder for ApiError {
    type Body = actix_web::body::BoxBody;

    fn respond_to(self, _: &actix_web::HttpRequest) -> actix_web::HttpResponse {
        actix_web::ResponseError::error_response(&self)
    }
}
