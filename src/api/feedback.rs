use actix_web::{HttpResponse, web};
use futures_util::StreamExt;
use serde::Deserialize;

use crate::auth::require_role;
use crate::db::Db;
use crate::domain::{Actor, Role};
use crate::error::ApiError;
use crate::feedback::{self, FeedError};

impl From<FeedError> for ApiError {
    fn from(e: FeedError) -> Self {
        match e {
            FeedError::BadCursor => ApiError::invalid_field("/after", "is not a cursor this feed returned"),
            FeedError::Db(e) => e.into(),
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    after: Option<String>,
    limit: Option<i64>,
}

/// The calling engine's own events, oldest first, from after the cursor.
#[utoipa::path(get, path = "/v1/feedback", tag = "feedback", description = "Roles: engine. The calling engine's own events, oldest first.", params(FeedQuery), security(("bearer" = [])), responses((status = 200, body = crate::feedback::feed::FeedPage)))]
#[tracing::instrument(skip_all)]
pub async fn get_feedback(
    db: web::Data<Db>,
    actor: Actor,
    query: web::Query<FeedQuery>,
) -> Result<HttpResponse, ApiError> {
    require_role(&actor, &[Role::Engine])?;
    let FeedQuery { after, limit } = query.into_inner();
    let page = feedback::feed::page(&db, actor.id, after, limit).await?;
    Ok(HttpResponse::Ok().json(page))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LabelParams {
    model: Option<String>,
    since: Option<chrono::DateTime<chrono::Utc>>,
}

/// Streams one JSON line per human-reviewed decision. Engines get their own decisions only.
#[utoipa::path(get, path = "/v1/feedback/labels.jsonl", tag = "feedback", description = "Roles: engine (own decisions), admin, dpo. One JSON object per line.", params(LabelParams), security(("bearer" = [])), responses((status = 200, description = "One JSON line per human-reviewed decision", content_type = "application/x-ndjson", body = String)))]
#[tracing::instrument(skip_all)]
pub async fn export_labels(
    db: web::Data<Db>,
    actor: Actor,
    query: web::Query<LabelParams>,
) -> Result<HttpResponse, ApiError> {
    require_role(&actor, &[Role::Engine, Role::Admin, Role::Dpo])?;
    let LabelParams { model, since } = query.into_inner();
    let lines = feedback::labels::export(db.get_ref().clone(), &actor, model, since)
        .map(|chunk| chunk.map(web::Bytes::from).map_err(ApiError::from));
    Ok(HttpResponse::Ok().content_type("application/x-ndjson").streaming(lines))
}
