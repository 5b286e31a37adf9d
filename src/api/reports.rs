use super::bodies::Items;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::auth::require_role;
use crate::db::Db;
use crate::domain::{Actor, Role};
use crate::error::ApiError;
use crate::reports::transparency;

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// Start of the window (inclusive); default one year before `to`.
    from: Option<DateTime<Utc>>,
    /// End of the window (exclusive); default now.
    to: Option<DateTime<Utc>>,
    /// `json` (default) or `csv`.
    #[param(inline, value_type = Option<ReportFormat>)]
    format: Option<String>,
}

#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
#[expect(dead_code, reason = "documents the values the handler accepts; it reads a string")]
pub enum ReportFormat {
    Json,
    Csv,
}

#[utoipa::path(get, path = "/v1/reports/transparency", tag = "reports", description = "Roles: dpo, supervisor, admin.", params(ReportQuery), security(("bearer" = [])), responses((status = 200, description = "The report, as JSON or (with `format=csv`) CSV", content((transparency::TransparencyReport = "application/json"), (String = "text/csv")))))]
#[tracing::instrument(skip_all)]
pub async fn transparency_report(
    db: web::Data<Db>,
    actor: Actor,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    require_role(&actor, &[Role::Dpo, Role::Supervisor, Role::Admin])?;
    let ReportQuery { from, to, format } = query.into_inner();
    let report = transparency::transparency(&db, from, to).await?;
    match format.as_deref() {
        None | Some("json") => Ok(HttpResponse::Ok().json(report)),
        Some("csv") => Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .body(report.to_csv())),
        Some(_) => Err(ApiError::invalid_field("/format", "must be json or csv")),
    }
}

#[utoipa::path(get, path = "/v1/reports/reviewers", tag = "reports", description = "Roles: dpo, supervisor, admin.", security(("bearer" = [])), responses((status = 200, body = Items<crate::reports::reviewers::ReviewerLine>)))]
#[tracing::instrument(skip_all)]
pub async fn reviewer_report(db: web::Data<Db>, actor: Actor) -> Result<HttpResponse, ApiError> {
    require_role(&actor, &[Role::Dpo, Role::Supervisor, Role::Admin])?;
    let items = crate::reports::reviewers::reviewers(&db).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items })))
}
