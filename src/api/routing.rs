use super::bodies::Items;
use crate::error::Problem;
use actix_web::{HttpResponse, web};
use serde_json::json;

use super::json::ApiJson;
use crate::appeals::routing::{self, PolicyInput, QueueInput, ReviewerInput, RoutingError};
use crate::auth::require_role;
use crate::db::Db;
use crate::domain::{Actor, Role};
use crate::error::ApiError;

impl From<RoutingError> for ApiError {
    fn from(e: RoutingError) -> Self {
        match e {
            RoutingError::Invalid(errors) => ApiError::validation(errors),
            RoutingError::Db(e) if e.is_unique_violation() => {
                ApiError::conflict("concurrent_update", "the configuration changed concurrently; retry")
            }
            RoutingError::Db(e) => e.into(),
        }
    }
}

#[utoipa::path(put, path = "/v1/queues/{name}", tag = "configuration", description = "Roles: admin.", params(("name" = crate::domain::fields::Ident<64>, Path, description = "queue name")), request_body = QueueInput, security(("bearer" = [])), responses((status = 200, body = crate::appeals::model::QueueView), (status = 409, response = Problem)))]
#[tracing::instrument(skip_all)]
pub async fn put_queue(
    db: web::Data<Db>,
    actor: Actor,
    name: web::Path<String>,
    body: ApiJson<QueueInput>,
) -> Result<HttpResponse, ApiError> {
    require_role(&actor, &[Role::Admin])?;
    Ok(HttpResponse::Ok().json(routing::put_queue(&db, actor, name.into_inner(), body.0).await?))
}

#[utoipa::path(get, path = "/v1/queues", tag = "configuration", description = "Roles: admin, supervisor, reviewer.", security(("bearer" = [])), responses((status = 200, body = Items<crate::appeals::model::QueueView>)))]
#[tracing::instrument(skip_all)]
pub async fn list_queues(db: web::Data<Db>, actor: Actor) -> Result<HttpResponse, ApiError> {
    require_role(&actor, &[Role::Admin, Role::Supervisor, Role::Reviewer])?;
    Ok(HttpResponse::Ok().json(json!({"items": routing::list_queues(&db).await?})))
}

#[utoipa::path(put, path = "/v1/reviewers/{id}", tag = "configuration", description = "Roles: admin.", params(("id" = crate::domain::fields::Ident<128>, Path, description = "reviewer id")), request_body = ReviewerInput, security(("bearer" = [])), responses((status = 200, body = crate::appeals::model::ReviewerView), (status = 409, response = Problem)))]
#[tracing::instrument(skip_all)]
pub async fn put_reviewer(
    db: web::Data<Db>,
    actor: Actor,
    id: web::Path<String>,
    body: ApiJson<ReviewerInput>,
) -> Result<HttpResponse, ApiError> {
    require_role(&actor, &[Role::Admin])?;
    Ok(HttpResponse::Ok().json(routing::put_reviewer(&db, actor, id.into_inner(), body.0).await?))
}

#[utoipa::path(get, path = "/v1/reviewers", tag = "configuration", description = "Roles: admin, supervisor.", security(("bearer" = [])), responses((status = 200, body = Items<crate::appeals::model::ReviewerView>)))]
#[tracing::instrument(skip_all)]
pub async fn list_reviewers(db: web::Data<Db>, actor: Actor) -> Result<HttpResponse, ApiError> {
    require_role(&actor, &[Role::Admin, Role::Supervisor])?;
    Ok(HttpResponse::Ok().json(json!({"items": routing::list_reviewers(&db).await?})))
}

#[utoipa::path(put, path = "/v1/policies/{decision_type}", tag = "configuration", description = "Roles: admin.", params(("decision_type" = crate::domain::fields::DecisionType, Path)), request_body = PolicyInput, security(("bearer" = [])), responses((status = 200, body = crate::appeals::model::Policy), (status = 409, response = Problem)))]
#[tracing::instrument(skip_all)]
pub async fn put_policy(
    db: web::Data<Db>,
    actor: Actor,
    decision_type: web::Path<String>,
    body: ApiJson<PolicyInput>,
) -> Result<HttpResponse, ApiError> {
    require_role(&actor, &[Role::Admin])?;
    Ok(HttpResponse::Ok().json(routing::put_policy(&db, actor, decision_type.into_inner(), body.0).await?))
}

#[utoipa::path(get, path = "/v1/policies", tag = "configuration", description = "Roles: admin, supervisor.", security(("bearer" = [])), responses((status = 200, body = Items<crate::appeals::model::Policy>)))]
#[tracing::instrument(skip_all)]
pub async fn list_policies(db: web::Data<Db>, actor: Actor) -> Result<HttpResponse, ApiError> {
    require_role(&actor, &[Role::Admin, Role::Supervisor])?;
    Ok(HttpResponse::Ok().json(json!({"items": routing::list_policies(&db).await?})))
}
