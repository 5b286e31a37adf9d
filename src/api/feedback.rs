use actix_web::{HttpResponse, web};
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedQuery {
    after: Option<String>,
    limit: Option<i64>,
}

/// The calling engine's own events, oldest first, from after the cursor.
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
