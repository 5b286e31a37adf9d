use actix_web::{HttpResponse, web};

use super::json::ApiJson;
use crate::auth::require_role;
use crate::db::Db;
use crate::domain::{Actor, Role};
use crate::error::ApiError;
use crate::models::ModelError;
use crate::models::service::{self, SuspendRequest};

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
