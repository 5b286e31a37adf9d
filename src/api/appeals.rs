use super::bodies::Items;
use crate::appeals::detail::AppealDetail;
use crate::error::Problem;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::json::{ApiJson, OptionalJson, from_value};
use crate::appeals::AppealError;
use crate::appeals::approval::{self, ApprovalInput};
use crate::appeals::filing::{self, AssignmentInput, ExtensionInput, Filed, IdempotencyKey, WithdrawalInput};
use crate::appeals::queue::{self, ClaimOptions};
use crate::appeals::review;
use crate::auth::require_role;
use crate::calendar::CalendarHandle;
use crate::config::Workflow;
use crate::db::Db;
use crate::domain::appeal::AppealDraft;
use crate::domain::legal_clock::ExtensionError;
use crate::domain::review::{ReviewDraft, ValidReview};
use crate::domain::{Actor, Role};
use crate::error::ApiError;
use crate::idempotency;

const APPEAL_READERS: &[Role] = &[Role::Subject, Role::Agent, Role::Reviewer, Role::Supervisor, Role::Dpo];

impl From<AppealError> for ApiError {
    fn from(e: AppealError) -> Self {
        match e {
            AppealError::Invalid(errors) => ApiError::validation(errors),
            AppealError::NotFound => ApiError::not_found("no such appeal or decision"),
            AppealError::Forbidden(why) => ApiError::forbidden(why),
            AppealError::FilingWindowClosed { closed_at, closed_on } => ApiError::client(
                StatusCode::UNPROCESSABLE_ENTITY,
                "filing_window_closed",
                format!(
                    "the window for appealing this decision closed on {closed_on}, at the end of that day in the controller's time zone ({})",
                    closed_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
                ),
            ),
            AppealError::AlreadyOpen { appeal_id } => ApiError::conflict(
                "appeal_already_open",
                format!("this decision already has an open appeal: {appeal_id}"),
            ),
            AppealError::IllegalTransition(t) => ApiError::conflict("illegal_transition", t.to_string()),
            AppealError::StaleLease => ApiError::conflict("stale_lease", e.to_string()),
            AppealError::Restricted => ApiError::conflict("processing_restricted", e.to_string()),
            AppealError::AtCapacity { .. } => ApiError::conflict("at_capacity", e.to_string()),
            AppealError::Extension(ExtensionError::InvalidLength) => ApiError::invalid_field("/months", e.to_string()),
            AppealError::Extension(inner) => ApiError::conflict("extension_refused", inner.to_string()),
            AppealError::IdempotencyMismatch => ApiError::client(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                e.to_string(),
            ),
            AppealError::Corrupt(why) => ApiError::Internal(why.into()),
            AppealError::Db(e) => e.into(),
        }
    }
}

fn idempotency_key(req: &HttpRequest, target: &str, body: &Value) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(raw) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let key = raw
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= idempotency::MAX_KEY_LEN && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_idempotency_key",
                format!(
                    "Idempotency-Key must be 1 to {} visible ASCII characters",
                    idempotency::MAX_KEY_LEN
                ),
            )
        })?;
    Ok(Some(IdempotencyKey {
        key: key.to_owned(),
        request_hash: idempotency::request_hash(target, body),
    }))
}

#[utoipa::path(post, path = "/v1/decisions/{id}/appeals", tag = "appeals", description = "Roles: subject (own decisions), agent (with an identity check). Honours `Idempotency-Key`.", params(("id" = String, Path, description = "decision id"), ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = r"^[!-~]+$", description = "1 to 255 visible ASCII characters. A retry with the same key and request gets the first response again")), request_body = AppealDraft, security(("bearer" = [])), responses((status = 201, body = AppealDetail), (status = 400, response = Problem), (status = 404, response = Problem), (status = 409, response = Problem), (status = 422, response = Problem)))]
#[tracing::instrument(skip_all)]
pub async fn file_appeal(
    req: HttpRequest,
    db: web::Data<Db>,
    calendar: web::Data<CalendarHandle>,
    actor: Actor,
    decision_id: web::Path<String>,
    body: ApiJson<Value>,
) -> Result<HttpResponse, ApiError> {
    require_role(&actor, &[Role::Subject, Role::Agent])?;
    let draft: AppealDraft = from_value(&body.0)?;
    let decision_id = decision_id.into_inner();
    let key = idempotency_key(&req, &format!("POST /v1/decisions/{decision_id}/appeals"), &body.0)?;
    let filed = filing::file(&db, &calendar, actor, decision_id, draft, key).await?;
    Ok(match filed {
        Filed::Created(detail) => HttpResponse::Created()
            .insert_header(("Location", format!("/v1/appeals/{}", detail.appeal.id)))
            .json(detail),
        Filed::Replayed { status, body } => {
            let mut response = HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::CREATED));
            if let Some(id) = body["id"].as_str() {
                response.insert_header(("Location", format!("/v1/appeals/{id}")));
            }
            response.json(body)
        }
    })
}

#[utoipa::path(get, path = "/v1/appeals/{id}", tag = "appeals", description = "Roles: subject (own), agent, reviewer, supervisor, dpo.", params(("id" = String, Path, description = "appeal id")), security(("bearer" = [])), responses((status = 200, body = AppealDetail), (status = 404, response = Problem)))]
#[tracing::instrument(skip_all)]
pub async fn get_appeal(db: web::Data<Db>, actor: Actor, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    require_role(&actor, APPEAL_READERS)?;
    Ok(HttpResponse::Ok().json(filing::get(&db, actor, id.into_inner()).await?))
}

#[utoipa::path(get, path = "/v1/appeals/{id}/notices", tag = "appeals", description = "Roles: subject (own), agent, reviewer, supervisor, dpo.", params(("id" = String, Path, description = "appeal id")), security(("bearer" = [])), responses((status = 200, body = Items<crate::notices::Notice>), (status = 404, response = Problem)))]
#[tracing::instrument(skip_all)]
pub async fn list_appeal_notices(
    db: web::Data<Db>,
    actor: Actor,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    require_role(&actor, APPEAL_READERS)?;
    let detail = filing::get(&db, actor, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(json!({"items": detail.notices})))
}

#[utoipa::path(post, path = "/v1/appeals/{id}/withdrawal", tag = "appeals", description = "Roles: subject (own), agent (for a caller, stating how their identity was verified). The body may be left out by a subject.", params(("id" = String, Path, description = "appeal id")), request_body(content = Option<WithdrawalInput>, description = "Optional for a subject; an agent states `identity_method`."), security(("bearer" = [])), responses((status = 200, body = AppealDetail), (status = 403, response = Problem), (status = 404, response = Problem), (status = 409, response = Problem), (status = 422, response = Problem)))]
#[tracing::instrument(skip_all)]
pub async fn withdraw_appeal(
    db: web::Data<Db>,
    actor: Actor,
    id: web::Path<String>,
    body: OptionalJson<WithdrawalInput>,
) -> Result<HttpResponse, ApiError> {
    require_role(&actor, &[Role::Subject, Role::Agent])?;
    Ok(HttpResponse::Ok().json(filing::withdraw(&db, actor, id.into_inner(), body.0).await?))
}

#[utoipa::path(post, path = "/v1/appeals/{id}/extension", tag = "appeals", description = "Roles: supervisor. Once, by 1 or 2 months.", params(("id" = String, Path, description = "appeal id")), request_body = ExtensionInput, security(("bearer" = [])), responses((status = 200, body = AppealDetail), (status = 404, response = Problem), (status = 409, response = Problem)))]
#[tracing::instrument(skip_all)]
pub async fn extend_appeal(
    db: web::Data<Db>,
    calendar: web::Data<CalendarHandle>,
    actor: Actor,
    id: web::Path<String>,
    body: ApiJson<ExtensionInput>,
) -> Result<HttpResponse, ApiError> {
    require_role(&actor, &[Role::Supervisor])?;
    Ok(HttpResponse::Ok().json(filing::extend(&db, &calendar, actor, id.into_inner(), body.0).await?))
}

#[utoipa::path(post, path = "/v1/appeals/{id}/assignment", tag = "appeals", description = "Roles: supervisor.", params(("id" = String, Path, description = "appeal id")), request_body = AssignmentInput, security(("bearer" = [])), responses((status = 200, body = AppealDetail), (status = 404, response = Problem), (status = 409, response = Problem)))]
#[tracing::instrument(skip_all)]
pub async fn assign_appeal(
    db: web::Data<Db>,
    actor: Actor,
    id: web::Path<String>,
    body: ApiJson<AssignmentInput>,
) -> Result<HttpResponse, ApiError> {
    require_role(&actor, &[Role::Supervisor])?;
    Ok(HttpResponse::Ok().json(filing::assign(&db, actor, id.into_inner(), body.0).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ClaimQuery {
    queue: Option<String>,
    appeal_id: Option<String>,
}

#[utoipa::path(post, path = "/v1/queue/claim", tag = "appeals", description = "Roles: reviewer (configured). 204 when nothing is waiting.", params(ClaimQuery), security(("bearer" = [])), responses((status = 200, body = crate::appeals::queue::Claimed), (status = 204, description = "Nothing to claim"), (status = 404, response = Problem), (status = 409, response = Problem)))]
#[tracing::instrument(skip_all)]
pub async fn claim_next(
    db: web::Data<Db>,
    workflow: web::Data<Workflow>,
    actor: Actor,
    query: web::Query<ClaimQuery>,
) -> Result<HttpResponse, ApiError> {
    require_role(&actor, &[Role::Reviewer])?;
    let ClaimQuery { queue, appeal_id } = query.into_inner();
    let options = ClaimOptions {
        queue,
        appeal_id,
        lease: workflow.lease,
    };
    Ok(match queue::claim(&db, actor, options).await? {
        Some(claimed) => HttpResponse::Ok().json(claimed),
        None => HttpResponse::NoContent().finish(),
    })
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeaseBody {
    lease_token: String,
}

impl LeaseBody {
    fn token(self) -> Result<String, ApiError> {
        use crate::domain::review::MAX_LEASE_TOKEN;
        if self.lease_token.len() > MAX_LEASE_TOKEN {
            return Err(ApiError::invalid_field(
                "/lease_token",
                format!("must be at most {MAX_LEASE_TOKEN} characters"),
            ));
        }
        Ok(self.lease_token)
    }
}

#[utoipa::path(post, path = "/v1/appeals/{id}/lease/heartbeat", tag = "appeals", description = "Roles: reviewer holding the lease.", params(("id" = String, Path, description = "appeal id")), request_body = LeaseBody, security(("bearer" = [])), responses((status = 200, body = crate::appeals::model::Lease), (status = 404, response = Problem), (status = 409, response = Problem)))]
#[tracing::instrument(skip_all)]
pub async fn heartbeat_lease(
    db: web::Data<Db>,
    workflow: web::Data<Workflow>,
    actor: Actor,
    id: web::Path<String>,
    body: ApiJson<LeaseBody>,
) -> Result<HttpResponse, ApiError> {
    require_role(&actor, &[Role::Reviewer])?;
    let lease = queue::heartbeat(&db, actor, id.into_inner(), body.0.token()?, workflow.lease).await?;
    Ok(HttpResponse::Ok().json(lease))
}

#[utoipa::path(delete, path = "/v1/appeals/{id}/lease", tag = "appeals", description = "Roles: reviewer holding the lease.", params(("id" = String, Path, description = "appeal id")), request_body = LeaseBody, security(("bearer" = [])), responses((status = 204, description = "Released"), (status = 404, response = Problem), (status = 409, response = Problem)))]
#[tracing::instrument(skip_all)]
pub async fn release_lease(
    db: web::Data<Db>,
    actor: Actor,
    id: web::Path<String>,
    body: ApiJson<LeaseBody>,
) -> Result<HttpResponse, ApiError> {
    require_role(&actor, &[Role::Reviewer])?;
    queue::release(&db, actor, id.into_inner(), body.0.token()?).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(post, path = "/v1/appeals/{id}/review", tag = "appeals", description = "Roles: reviewer holding the lease.", params(("id" = String, Path, description = "appeal id")), request_body = ReviewDraft, security(("bearer" = [])), responses((status = 200, body = AppealDetail), (status = 404, response = Problem), (status = 409, response = Problem)))]
#[tracing::instrument(skip_all)]
pub async fn review_appeal(
    db: web::Data<Db>,
    calendar: web::Data<CalendarHandle>,
    actor: Actor,
    id: web::Path<String>,
    body: ApiJson<ReviewDraft>,
) -> Result<HttpResponse, ApiError> {
    require_role(&actor, &[Role::Reviewer])?;
    let review = ValidReview::parse(body.0).map_err(ApiError::validation)?;
    Ok(HttpResponse::Ok().json(review::submit(&db, &calendar, actor, id.into_inner(), review).await?))
}

#[utoipa::path(post, path = "/v1/appeals/{id}/approval", tag = "appeals", description = "Roles: supervisor, or an eligible reviewer other than the first.", params(("id" = String, Path, description = "appeal id")), request_body = ApprovalInput, security(("bearer" = [])), responses((status = 200, body = AppealDetail), (status = 404, response = Problem), (status = 409, response = Problem)))]
#[tracing::instrument(skip_all)]
pub async fn approve_review(
    db: web::Data<Db>,
    calendar: web::Data<CalendarHandle>,
    actor: Actor,
    id: web::Path<String>,
    body: ApiJson<ApprovalInput>,
) -> Result<HttpResponse, ApiError> {
    require_role(&actor, &[Role::Supervisor, Role::Reviewer])?;
    Ok(HttpResponse::Ok().json(approval::approve(&db, &calendar, actor, id.into_inner(), body.0).await?))
}
