use super::bodies::Items;
use crate::error::Problem;
use crate::webhooks::service::Endpoint;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::json::ApiJson;
use crate::auth::require_role;
use crate::config::Webhooks;
use crate::db::Db;
use crate::domain::{Actor, Role};
use crate::error::ApiError;
use crate::webhooks::WebhookError;
use crate::webhooks::service::{self, NewEndpoint};

impl From<WebhookError> for ApiError {
    fn from(e: WebhookError) -> Self {
        match e {
            WebhookError::Invalid(errors) => ApiError::validation(errors),
            WebhookError::NotFound(what) => ApiError::not_found(format!("no such {what}")),
            WebhookError::Conflict(detail) => ApiError::conflict("conflict", detail),
            WebhookError::Secret(e) => ApiError::internal(e),
            WebhookError::Db(e) => e.into(),
        }
    }
}

#[utoipa::path(post, path = "/v1/engines/{id}/endpoints", tag = "engines", description = "Roles: admin. The secret is shown once.", params(("id" = String, Path, description = "engine id")), request_body = NewEndpoint, security(("bearer" = [])), responses((status = 201, body = Endpoint), (status = 404, response = Problem), (status = 409, response = Problem)))]
#[tracing::instrument(skip_all)]
pub async fn register_endpoint(
    db: web::Data<Db>,
    cfg: web::Data<Webhooks>,
    actor: Actor,
    engine_id: web::Path<String>,
    body: ApiJson<NewEndpoint>,
) -> Result<HttpResponse, ApiError> {
    require_role(&actor, &[Role::Admin])?;
    let endpoint = service::register(&db, &cfg, actor, engine_id.into_inner(), body.0).await?;
    Ok(HttpResponse::Created().json(endpoint))
}

#[utoipa::path(get, path = "/v1/engines/{id}/endpoints", tag = "engines", description = "Roles: admin.", params(("id" = String, Path, description = "engine id")), security(("bearer" = [])), responses((status = 200, body = Items<Endpoint>), (status = 404, response = Problem)))]
#[tracing::instrument(skip_all)]
pub async fn list_endpoints(
    db: web::Data<Db>,
    actor: Actor,
    engine_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    require_role(&actor, &[Role::Admin])?;
    let items = service::list(&db, engine_id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(json!({ "items": items })))
}

#[utoipa::path(post, path = "/v1/engines/{id}/endpoints/{endpoint_id}/secret", tag = "engines", description = "Roles: admin. The previous secret stays valid for a grace period.", params(("id" = String, Path, description = "engine id"), ("endpoint_id" = String, Path)), security(("bearer" = [])), responses((status = 200, body = Endpoint), (status = 404, response = Problem), (status = 409, response = Problem)))]
#[tracing::instrument(skip_all)]
pub async fn rotate_endpoint_secret(
    db: web::Data<Db>,
    cfg: web::Data<Webhooks>,
    actor: Actor,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    require_role(&actor, &[Role::Admin])?;
    let (engine_id, endpoint_id) = path.into_inner();
    let endpoint = service::rotate(&db, &cfg, actor, engine_id, endpoint_id).await?;
    Ok(HttpResponse::Ok().json(endpoint))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    engine: Option<String>,
    #[param(inline, value_type = Option<DeliveryStatus>)]
    status: Option<String>,
    limit: Option<i64>,
}

#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
#[expect(dead_code, reason = "documents the values the handler accepts; it reads a string")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
}

#[utoipa::path(get, path = "/v1/webhooks/deliveries", tag = "engines", description = "Roles: admin.", params(DeliveryQuery), security(("bearer" = [])), responses((status = 200, body = Items<crate::webhooks::service::Delivery>)))]
#[tracing::instrument(skip_all)]
pub async fn list_deliveries(
    db: web::Data<Db>,
    actor: Actor,
    query: web::Query<DeliveryQuery>,
) -> Result<HttpResponse, ApiError> {
    require_role(&actor, &[Role::Admin])?;
    let DeliveryQuery { engine, status, limit } = query.into_inner();
    let items = service::deliveries(&db, engine, status, limit).await?;
    Ok(HttpResponse::Ok().json(json!({ "items": items })))
}

#[utoipa::path(post, path = "/v1/webhooks/deliveries/{id}/replay", tag = "engines", description = "Roles: admin.", params(("id" = String, Path, description = "delivery id")), security(("bearer" = [])), responses((status = 202, body = crate::webhooks::service::Delivery), (status = 404, response = Problem), (status = 409, response = Problem)))]
#[tracing::instrument(skip_all)]
pub async fn replay_delivery(db: web::Data<Db>, actor: Actor, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    require_role(&actor, &[Role::Admin])?;
    let delivery = service::replay(&db, actor, id.into_inner()).await?;
    Ok(HttpResponse::Accepted().json(delivery))
}
