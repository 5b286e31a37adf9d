//! The breach register (GDPR Art. 33/34) and the audit query that scopes a breach.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, TimeDelta, Utc};
use serde::Deserialize;
use serde_json::json;

use super::bodies::Items;
use super::json::ApiJson;
use crate::auth::require_role;
use crate::breaches::{BreachError, service};
use crate::db::Db;
use crate::domain::breach::{BreachReport, BreachStatus, TransitionRequest, ValidReport};
use crate::domain::{Actor, Role};
use crate::error::{ApiError, Problem};

/// Any member of staff may report a suspected breach.
const REPORTERS: &[Role] = &[Role::Agent, Role::Reviewer, Role::Supervisor, Role::Dpo, Role::Admin];
/// The longest window one subjects-accessed query may cover.
const MAX_WINDOW: TimeDelta = TimeDelta::days(366);

impl From<BreachError> for ApiError {
    fn from(e: BreachError) -> Self {
        match e {
            BreachError::Invalid(errors) => ApiError::validation(errors),
            BreachError::NotFound => ApiError::not_found("no such breach"),
            e @ BreachError::Illegal { .. } => ApiError::conflict("illegal_transition", e.to_string()),
            BreachError::Corrupt(e) => ApiError::Internal(e.into()),
            BreachError::Db(e) => e.into(),
        }
    }
}

#[utoipa::path(post, path = "/v1/breaches", tag = "breaches", description = "Roles: agent, reviewer, supervisor, dpo, admin. Opens a suspected breach; `aware_at` defaults to now and may not be in the future.", request_body = BreachReport, security(("bearer" = [])), responses((status = 201, body = crate::breaches::BreachView)))]
#[tracing::instrument(skip_all)]
pub async fn report_breach(
    db: web::Data<Db>,
    actor: Actor,
    body: ApiJson<BreachReport>,
) -> Result<HttpResponse, ApiError> {
    require_role(&actor, REPORTERS)?;
    let report = ValidReport::parse(body.0, Utc::now()).map_err(ApiError::validation)?;
    let breach = service::report(&db, actor, report).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/v1/breaches/{}", breach.id)))
        .json(breach))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only breaches in this status.
    status: Option<BreachStatus>,
    /// Only breaches whose authority notification is overdue.
    #[serde(default)]
    overdue: bool,
}

#[utoipa::path(get, path = "/v1/breaches", tag = "breaches", description = "Roles: dpo. Oldest awareness first, at most 1,000.", params(ListQuery), security(("bearer" = [])), responses((status = 200, body = Items<crate::breaches::BreachView>)))]
#[tracing::instrument(skip_all)]
pub async fn list_breaches(
    db: web::Data<Db>,
    actor: Actor,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    require_role(&actor, &[Role::Dpo])?;
    let ListQuery { status, overdue } = query.into_inner();
    let items = service::list(&db, status.into_iter().collect(), overdue).await?;
    Ok(HttpResponse::Ok().json(json!({"items": items})))
}

#[utoipa::path(get, path = "/v1/breaches/{id}", tag = "breaches", description = "Roles: dpo.", params(("id" = String, Path, description = "breach id")), security(("bearer" = [])), responses((status = 200, body = crate::breaches::BreachView), (status = 404, response = Problem)))]
#[tracing::instrument(skip_all)]
pub async fn get_breach(db: web::Data<Db>, actor: Actor, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    require_role(&actor, &[Role::Dpo])?;
    Ok(HttpResponse::Ok().json(service::get(&db, id.into_inner()).await?))
}

#[utoipa::path(post, path = "/v1/breaches/{id}/transitions", tag = "breaches", description = "Roles: dpo. suspected → confirmed → authority_notified → subjects_notified, or dismissed from suspected or confirmed.", params(("id" = String, Path, description = "breach id")), request_body = TransitionRequest, security(("bearer" = [])), responses((status = 200, body = crate::breaches::BreachView), (status = 404, response = Problem), (status = 409, response = Problem)))]
#[tracing::instrument(skip_all)]
pub async fn advance_breach(
    db: web::Data<Db>,
    actor: Actor,
    id: web::Path<String>,
    body: ApiJson<TransitionRequest>,
) -> Result<HttpResponse, ApiError> {
    require_role(&actor, &[Role::Dpo])?;
    Ok(HttpResponse::Ok().json(service::advance(&db, actor, id.into_inner(), body.0).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AccessQuery {
    /// The actor id as the audit log records it (a staff member's or engine's token subject).
    #[param(value_type = crate::domain::fields::NotBlank)]
    actor: String,
    /// Start of the window, inclusive.
    from: DateTime<Utc>,
    /// End of the window, exclusive; after `from`, by at most 366 days.
    to: DateTime<Utc>,
}

/// Whose data an actor touched in a window: the subjects a breach through that actor may affect.
#[utoipa::path(get, path = "/v1/audit/subjects-accessed", tag = "audit", description = "Roles: dpo. Whose decisions, appeals or rights requests the actor touched in the window.", params(AccessQuery), security(("bearer" = [])), responses((status = 200, body = crate::audit::access::AccessReport)))]
#[tracing::instrument(skip_all)]
pub async fn subjects_accessed(
    db: web::Data<Db>,
    actor: Actor,
    query: web::Query<AccessQuery>,
) -> Result<HttpResponse, ApiError> {
    require_role(&actor, &[Role::Dpo])?;
    let AccessQuery { actor: whom, from, to } = query.into_inner();
    if whom.trim().is_empty() {
        return Err(ApiError::invalid_field("/actor", "must name an actor"));
    }
    if to <= from || to - from > MAX_WINDOW {
        return Err(ApiError::invalid_field(
            "/to",
            format!("must be after `from`, by at most {} days", MAX_WINDOW.num_days()),
        ));
    }
    let report = service::subjects_accessed(&db, whom, from, to).await?;
    Ok(HttpResponse::Ok().json(report))
}
