use actix_web::{HttpResponse, web};

use super::json::ApiJson;
use crate::auth::require_role;
use crate::db::Db;
use crate::domain::{Actor, Role};
use crate::error::ApiError;
use crate::error::Problem;
use crate::models::ModelError;
use crate::models::service::{self, SuspendRequest};
use crate::models::stats::{self, StatsRequest};

/// Who may pull the kill switch: the deployer's oversight staff.
const OVERSIGHT: &[Role] = &[Role::Admin, Role::Supervisor];

impl From<ModelError> for ApiError {
    fn from(e: ModelError) -> Self {
        match e {
            ModelError::Invalid(errors) => ApiError::validation(errors),
            e @ ModelError::AlreadySuspended(_) => ApiError::conflict("already_suspended", e.to_string()),
            e @ ModelError::NotSuspended(_) => ApiError::not_found(e.to_string()),
            ModelError::Db(e) => e.into(),
        }
    }
}

#[utoipa::path(post, path = "/v1/models/{name}/suspension", tag = "models", description = "Roles: admin, supervisor.", params(("name" = String, Path, description = "model name")), request_body = SuspendRequest, security(("bearer" = [])), responses((status = 201, body = crate::models::service::Suspension), (status = 409, response = Problem)))]
#[tracing::instrument(skip_all)]
pub async fn suspend_model(
    db: web::Data<Db>,
    actor: Actor,
    model: web::Path<String>,
    body: ApiJson<SuspendRequest>,
) -> Result<HttpResponse, ApiError> {
    require_role(&actor, OVERSIGHT)?;
    let s = service::suspend(&db, actor, model.into_inner(), body.0).await?;
    Ok(HttpResponse::Created().json(s))
}

#[utoipa::path(delete, path = "/v1/models/{name}/suspension", tag = "models", description = "Roles: admin, supervisor.", params(("name" = String, Path, description = "model name")), security(("bearer" = [])), responses((status = 200, body = crate::models::service::Suspension), (status = 404, response = Problem)))]
#[tracing::instrument(skip_all)]
pub async fn lift_suspension(
    db: web::Data<Db>,
    actor: Actor,
    model: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    require_role(&actor, OVERSIGHT)?;
    let s = service::lift(&db, actor, model.into_inner()).await?;
    Ok(HttpResponse::Ok().json(s))
}

#[utoipa::path(get, path = "/v1/models/{name}/suspension", tag = "models", description = "Roles: admin, supervisor, engine, reviewer.", params(("name" = String, Path, description = "model name")), security(("bearer" = [])), responses((status = 200, body = crate::models::service::Suspension)))]
#[tracing::instrument(skip_all)]
pub async fn get_suspension(
    db: web::Data<Db>,
    actor: Actor,
    model: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    require_role(&actor, &[Role::Admin, Role::Supervisor, Role::Engine, Role::Reviewer])?;
    let s = service::get(&db, model.into_inner()).await?;
    Ok(HttpResponse::Ok().json(s))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatsParams {
    version: Option<String>,
    from: Option<chrono::DateTime<chrono::Utc>>,
    to: Option<chrono::DateTime<chrono::Utc>>,
    #[param(inline, value_type = Option<Bucket>)]
    bucket: Option<String>,
}

/// Statistics are bucketed by day; no other size yet.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
#[expect(dead_code, reason = "documents the values the handler accepts; it reads a string")]
pub enum Bucket {
    Day,
}

/// Appeal and override statistics for a model. Engines see their own decisions only.
#[utoipa::path(get, path = "/v1/models/{name}/stats", tag = "models", description = "Roles: admin, supervisor, dpo, engine (own decisions only).", params(("name" = String, Path, description = "model name"), StatsParams), security(("bearer" = [])), responses((status = 200, body = crate::models::stats::ModelStats)))]
#[tracing::instrument(skip_all)]
pub async fn get_model_stats(
    db: web::Data<Db>,
    actor: Actor,
    model: web::Path<String>,
    query: web::Query<StatsParams>,
) -> Result<HttpResponse, ApiError> {
    require_role(&actor, &[Role::Admin, Role::Supervisor, Role::Dpo, Role::Engine])?;
    let StatsParams {
        version,
        from,
        to,
        bucket,
    } = query.into_inner();
    let req = StatsRequest {
        version,
        from,
        to,
        bucket,
    };
    Ok(HttpResponse::Ok().json(stats::stats(&db, &actor, model.into_inner(), req).await?))
}
