use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::auth::require_role;
use crate::db::Db;
use crate::domain::{Actor, Role};
use crate::error::ApiError;

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VerifyQuery {
    /// A checkpoint hash saved earlier: it must still be in the chain.
    head: Option<String>,
}

/// Recomputes the whole log. 200 with `ok: true`, or 200 with `ok: false` and the first break.
#[utoipa::path(get, path = "/v1/audit/verify", tag = "audit", description = "Roles: dpo, admin. `ok: false` names the first break.", params(VerifyQuery), security(("bearer" = [])), responses((status = 200, body = crate::audit::verify::Verification)))]
#[tracing::instrument(skip_all)]
pub async fn verify_audit(
    db: web::Data<Db>,
    actor: Actor,
    query: web::Query<VerifyQuery>,
) -> Result<HttpResponse, ApiError> {
    require_role(&actor, &[Role::Dpo, Role::Admin])?;
    let report = crate::audit::verify::verify_log(&db, query.into_inner().head).await?;
    Ok(HttpResponse::Ok().json(report))
}

/// The latest checkpoint, to be anchored outside the database.
#[utoipa::path(get, path = "/v1/audit/head", tag = "audit", description = "Roles: dpo, admin.", security(("bearer" = [])), responses((status = 200, body = Option<crate::audit::model::Checkpoint>, description = "The latest checkpoint, or null before the first")))]
#[tracing::instrument(skip_all)]
pub async fn audit_head(db: web::Data<Db>, actor: Actor) -> Result<HttpResponse, ApiError> {
    require_role(&actor, &[Role::Dpo, Role::Admin])?;
    let head = crate::audit::seal::head(&db).await?;
    Ok(HttpResponse::Ok().json(head))
}
