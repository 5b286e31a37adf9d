use super::bodies::Items;
use crate::error::Problem;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::auth::require_role;
use crate::db::Db;
use crate::domain::{Actor, Role};
use crate::error::ApiError;
use crate::subjects::restriction::{self, Change};
use crate::subjects::service;

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// Required when an agent exports for a caller: how the caller's identity was verified.
    identity_method: Option<String>,
}

#[utoipa::path(get, path = "/v1/subjects/{subject_id}/export", tag = "subjects", description = "Roles: subject (own), dpo, agent (with `identity_method`).", params(("subject_id" = String, Path), ExportQuery), security(("bearer" = [])), responses((status = 200, body = crate::subjects::service::SubjectExport), (status = 404, response = Problem)))]
#[tracing::instrument(skip_all)]
pub async fn export_subject(
    db: web::Data<Db>,
    actor: Actor,
    subject_id: web::Path<String>,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    require_role(&actor, &[Role::Subject, Role::Dpo, Role::Agent])?;
    let export = service::export(&db, actor, subject_id.into_inner(), query.into_inner().identity_method).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Content-Disposition", "attachment; filename=\"recourse-export.json\""))
        .json(export))
}

#[utoipa::path(post, path = "/v1/subjects/{subject_id}/erasure", tag = "subjects", description = "Roles: dpo. Decisions under a legal hold are kept and listed.", params(("subject_id" = String, Path)), request_body = crate::subjects::erasure::ErasureInput, security(("bearer" = [])), responses((status = 200, body = crate::subjects::erasure::ErasureReport), (status = 404, response = Problem), (status = 409, response = Problem)))]
#[tracing::instrument(skip_all)]
pub async fn erase_subject(
    db: web::Data<Db>,
    actor: Actor,
    subject_id: web::Path<String>,
    body: super::json::ApiJson<crate::subjects::erasure::ErasureInput>,
) -> Result<HttpResponse, ApiError> {
    require_role(&actor, &[Role::Dpo])?;
    let report = crate::subjects::erasure::erase(&db, actor, subject_id.into_inner(), body.0).await?;
    Ok(HttpResponse::Ok().json(report))
}

#[utoipa::path(post, path = "/v1/subjects/{subject_id}/restriction", tag = "subjects", description = "Roles: dpo.", params(("subject_id" = String, Path)), request_body = crate::subjects::restriction::RestrictionInput, security(("bearer" = [])), responses((status = 200, body = crate::subjects::restriction::RestrictionView), (status = 404, response = Problem), (status = 409, response = Problem)))]
#[tracing::instrument(skip_all)]
pub async fn restrict_subject(
    db: web::Data<Db>,
    actor: Actor,
    subject_id: web::Path<String>,
    body: super::json::ApiJson<crate::subjects::restriction::RestrictionInput>,
) -> Result<HttpResponse, ApiError> {
    require_role(&actor, &[Role::Dpo])?;
    let view = restriction::change(&db, actor, subject_id.into_inner(), Change::Restrict, body.0).await?;
    Ok(HttpResponse::Ok().json(view))
}

#[utoipa::path(delete, path = "/v1/subjects/{subject_id}/restriction", tag = "subjects", description = "Roles: dpo.", params(("subject_id" = String, Path)), request_body = crate::subjects::restriction::RestrictionInput, security(("bearer" = [])), responses((status = 200, body = crate::subjects::restriction::RestrictionView), (status = 404, response = Problem), (status = 409, response = Problem)))]
#[tracing::instrument(skip_all)]
pub async fn lift_subject_restriction(
    db: web::Data<Db>,
    actor: Actor,
    subject_id: web::Path<String>,
    body: super::json::ApiJson<crate::subjects::restriction::RestrictionInput>,
) -> Result<HttpResponse, ApiError> {
    require_role(&actor, &[Role::Dpo])?;
    let view = restriction::change(&db, actor, subject_id.into_inner(), Change::Lift, body.0).await?;
    Ok(HttpResponse::Ok().json(view))
}

#[utoipa::path(post, path = "/v1/subjects/{subject_id}/objection", tag = "subjects", description = "Roles: subject (own), dpo, agent.", params(("subject_id" = String, Path)), request_body = crate::subjects::objection::ObjectionInput, security(("bearer" = [])), responses((status = 200, body = Items<crate::subjects::model::Objection>), (status = 404, response = Problem), (status = 409, response = Problem)))]
#[tracing::instrument(skip_all)]
pub async fn object_to_processing(
    db: web::Data<Db>,
    actor: Actor,
    subject_id: web::Path<String>,
    body: super::json::ApiJson<crate::subjects::objection::ObjectionInput>,
) -> Result<HttpResponse, ApiError> {
    require_role(&actor, &[Role::Subject, Role::Dpo, Role::Agent])?;
    let items = crate::subjects::objection::object(&db, actor, subject_id.into_inner(), body.0).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"items": items})))
}

#[utoipa::path(post, path = "/v1/subjects/{subject_id}/objection/compelling-grounds", tag = "subjects", description = "Roles: dpo.", params(("subject_id" = String, Path)), request_body = crate::subjects::objection::CompellingGroundsInput, security(("bearer" = [])), responses((status = 200, body = Items<crate::subjects::model::Objection>), (status = 404, response = Problem), (status = 409, response = Problem)))]
#[tracing::instrument(skip_all)]
pub async fn record_compelling_grounds(
    db: web::Data<Db>,
    actor: Actor,
    subject_id: web::Path<String>,
    body: super::json::ApiJson<crate::subjects::objection::CompellingGroundsInput>,
) -> Result<HttpResponse, ApiError> {
    require_role(&actor, &[Role::Dpo])?;
    let items =
        crate::subjects::objection::override_with_compelling_grounds(&db, actor, subject_id.into_inner(), body.0)
            .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"items": items})))
}

#[utoipa::path(post, path = "/v1/subjects/{subject_id}/rectifications", tag = "subjects", description = "Roles: subject (own), agent, dpo.", params(("subject_id" = String, Path)), request_body = crate::subjects::rectification::RectificationInput, security(("bearer" = [])), responses((status = 201, body = crate::subjects::model::Rectification), (status = 404, response = Problem), (status = 409, response = Problem)))]
#[tracing::instrument(skip_all)]
pub async fn request_rectification(
    db: web::Data<Db>,
    actor: Actor,
    subject_id: web::Path<String>,
    body: super::json::ApiJson<crate::subjects::rectification::RectificationInput>,
) -> Result<HttpResponse, ApiError> {
    require_role(&actor, &[Role::Subject, Role::Agent, Role::Dpo])?;
    let row = crate::subjects::rectification::request(&db, actor, subject_id.into_inner(), body.0).await?;
    Ok(HttpResponse::Created().json(row))
}

#[utoipa::path(post, path = "/v1/subjects/{subject_id}/rectifications/{id}/resolution", tag = "subjects", description = "Roles: dpo.", params(("subject_id" = String, Path), ("id" = String, Path, description = "rectification id")), request_body = crate::subjects::rectification::ResolutionInput, security(("bearer" = [])), responses((status = 200, body = crate::subjects::model::Rectification), (status = 404, response = Problem), (status = 409, response = Problem)))]
#[tracing::instrument(skip_all)]
pub async fn resolve_rectification(
    db: web::Data<Db>,
    actor: Actor,
    path: web::Path<(String, String)>,
    body: super::json::ApiJson<crate::subjects::rectification::ResolutionInput>,
) -> Result<HttpResponse, ApiError> {
    require_role(&actor, &[Role::Dpo])?;
    let (subject_id, id) = path.into_inner();
    let row = crate::subjects::rectification::resolve(&db, actor, subject_id, id, body.0).await?;
    Ok(HttpResponse::Ok().json(row))
}
