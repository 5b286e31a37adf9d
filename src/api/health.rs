use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::db::{self, Db};
use crate::error::{ApiError, Problem};

/// The process is up. Deliberately touches nothing else.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = super::bodies::Health)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// The database answers, so this instance can take traffic.
#[utoipa::path(get, path = "/readyz", tag = "health", responses(
    (status = 200, body = super::bodies::Health),
    (status = 503, response = Problem),
))]
pub async fn readyz(db: web::Data<Db>) -> Result<HttpResponse, ApiError> {
    db.run(db::ping).await?;
    Ok(HttpResponse::Ok().json(json!({"status": "ready"})))
}
