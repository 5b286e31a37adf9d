use super::bodies::Items;
use crate::error::Problem;
use actix_web::{HttpResponse, web};
use serde_json::json;

use super::json::ApiJson;
use crate::auth::require_role;
use crate::db::Db;
use crate::domain::{Actor, Role};
use crate::engines::{self, EngineError, NewEngine};
use crate::error::ApiError;

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Invalid(errors) => ApiError::validation(errors),
            EngineError::AlreadyRegistered(id) => {
                ApiError::conflict("engine_exists", format!("engine {id:?} is already registered"))
            }
            EngineError::Db(e) => e.into(),
        }
    }
}

#[utoipa::path(post, path = "/v1/engines", tag = "engines", description = "Roles: admin.", request_body = crate::engines::NewEngine, security(("bearer" = [])), responses((status = 201, body = crate::engines::Engine), (status = 409, response = Problem)))]
#[tracing::instrument(skip_all)]
pub async fn register_engine(
    db: web::Data<Db>,
    actor: Actor,
    body: ApiJson<NewEngine>,
) -> Result<HttpResponse, ApiError> {
    require_role(&actor, &[Role::Admin])?;
    let engine = engines::service::register(&db, actor, body.0).await?;
    Ok(HttpResponse::Created().json(engine))
}

#[utoipa::path(get, path = "/v1/engines", tag = "engines", description = "Roles: admin. Sorted by id, not paged.", security(("bearer" = [])), responses((status = 200, body = Items<crate::engines::Engine>)))]
#[tracing::instrument(skip_all)]
pub async fn list_engines(db: web::Data<Db>, actor: Actor) -> Result<HttpResponse, ApiError> {
    require_role(&actor, &[Role::Admin])?;
    let items = engines::service::list(&db).await?;
    Ok(HttpResponse::Ok().json(json!({ "items": items })))
}
