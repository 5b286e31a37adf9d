use super::bodies::Page;
use crate::decisions::model::Decision;
use crate::error::Problem;
use actix_web::{HttpResponse, web};
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;
use serde_json::value::RawValue;

use super::json::{ApiJson, parse};
use crate::auth::require_role;
use crate::calendar::CalendarHandle;
use crate::config::Limits;
use crate::db::Db;
use crate::decisions::DecisionError;
use crate::decisions::service::{self, DEFAULT_PAGE};
use crate::domain::decision::{DecisionDraft, ValidDecision};
use crate::domain::{Actor, FieldError, Role};
use crate::error::ApiError;
use crate::ingestion::IngestionError;
use crate::ingestion::service::{self as ingestion, BatchItemResult, BatchItemStatus, Ingested};

/// Roles that may read decisions at all; engines and subjects are further limited to their own.
const READERS: &[Role] = &[
    Role::Engine,
    Role::Agent,
    Role::Reviewer,
    Role::Supervisor,
    Role::Dpo,
    Role::Subject,
];

impl From<IngestionError> for ApiError {
    fn from(e: IngestionError) -> Self {
        match e {
            IngestionError::EngineNotRegistered(id) => {
                ApiError::forbidden(format!("the token names engine {id:?}, which is not registered"))
            }
            IngestionError::Conflict {
                external_id,
                existing_id,
            } => ApiError::conflict(
                "decision_conflict",
                format!("external_id {external_id:?} already names decision {existing_id} with different content"),
            ),
            IngestionError::ObjectionInForce => ApiError::conflict(
                "objection_in_force",
                "the subject objected to automated decisions about them (GDPR Art. 21); no compelling grounds are recorded",
            ),
            IngestionError::Corrupt(e) => ApiError::internal(e),
            IngestionError::Db(e) => e.into(),
        }
    }
}

impl From<DecisionError> for ApiError {
    fn from(e: DecisionError) -> Self {
        match e {
            DecisionError::NotFound => ApiError::not_found("no such decision"),
            DecisionError::Corrupt(e) => ApiError::internal(e),
            DecisionError::Db(e) => e.into(),
        }
    }
}

#[utoipa::path(post, path = "/v1/decisions", tag = "decisions", description = "Roles: engine (registered).", request_body = DecisionDraft, security(("bearer" = [])), responses((status = 201, body = Decision, description = "Stored"), (status = 200, body = Decision, description = "An identical re-post: the stored decision"), (status = 409, response = Problem)))]
#[tracing::instrument(skip_all)]
pub async fn post_decision(
    db: web::Data<Db>,
    calendar: web::Data<CalendarHandle>,
    actor: Actor,
    body: ApiJson<DecisionDraft>,
) -> Result<HttpResponse, ApiError> {
    require_role(&actor, &[Role::Engine])?;
    let decision = ValidDecision::parse(body.0, Utc::now()).map_err(ApiError::validation)?;
    Ok(match ingestion::ingest(&db, &calendar, actor, decision).await? {
        Ingested::Created(d) => HttpResponse::Created()
            .insert_header(("Location", format!("/v1/decisions/{}", d.id)))
            .json(d),
        Ingested::Existing(d) => HttpResponse::Ok().json(d),
    })
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// Kept as raw text until each item is parsed on its own: a bad item is reported by index
    /// without failing the batch, and no intermediate `Value` tree is built for 1,000 items.
    ///
    /// Each item is a decision as for `POST /v1/decisions`. An item that is not is reported
    /// as `invalid` in `results`, by index, and the rest of the batch is still stored.
    #[schema(value_type = Vec<serde_json::Value>, min_items = 1, max_items = 1000)]
    decisions: Vec<Box<RawValue>>,
}

/// The answer to a batch: counts, and one result per item in the order posted.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct BatchResponse {
    pub created: usize,
    pub existing: usize,
    pub conflict: usize,
    pub invalid: usize,
    pub results: Vec<BatchItemResult>,
}

#[utoipa::path(post, path = "/v1/decisions/batch", tag = "decisions", description = "Roles: engine (registered). 1 to the configured number of decisions; each is reported by index.", request_body = BatchRequest, security(("bearer" = [])), responses((status = 200, body = BatchResponse)))]
#[tracing::instrument(skip_all)]
pub async fn post_decision_batch(
    db: web::Data<Db>,
    calendar: web::Data<CalendarHandle>,
    limits: web::Data<Limits>,
    actor: Actor,
    body: ApiJson<BatchRequest>,
) -> Result<HttpResponse, ApiError> {
    require_role(&actor, &[Role::Engine])?;
    let items = body.0.decisions;
    if items.is_empty() || items.len() > limits.batch_items {
        return Err(ApiError::invalid_field(
            "/decisions",
            format!("must hold between 1 and {} decisions", limits.batch_items),
        ));
    }
    let now = Utc::now();
    let parsed: Vec<Result<ValidDecision, Vec<FieldError>>> = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let prefix = format!("/decisions/{i}");
            let draft: DecisionDraft = parse(item.get().as_bytes()).map_err(|e| match e {
                ApiError::Validation(errors) => errors.into_iter().map(|e| e.under(&prefix)).collect(),
                other => vec![FieldError::new(prefix.clone(), other.to_string())],
            })?;
            ValidDecision::parse(draft, now).map_err(|errors| errors.into_iter().map(|e| e.under(&prefix)).collect())
        })
        .collect();
    drop(items);
    let results = ingestion::ingest_batch(&db, &calendar, actor, parsed).await?;
    let count = |s: BatchItemStatus| results.iter().filter(|r| r.status == s).count();
    Ok(HttpResponse::Ok().json(BatchResponse {
        created: count(BatchItemStatus::Created),
        existing: count(BatchItemStatus::Existing),
        conflict: count(BatchItemStatus::Conflict),
        invalid: count(BatchItemStatus::Invalid),
        results,
    }))
}

#[utoipa::path(get, path = "/v1/decisions/{id}", tag = "decisions", description = "Roles: engine (own), agent, reviewer, supervisor, dpo, subject (own).", params(("id" = String, Path, description = "decision id")), security(("bearer" = [])), responses((status = 200, body = Decision), (status = 404, response = Problem)))]
#[tracing::instrument(skip_all)]
pub async fn get_decision(db: web::Data<Db>, actor: Actor, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    require_role(&actor, READERS)?;
    let decision = service::get(&db, actor, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(decision))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    after: Option<String>,
    limit: Option<i64>,
}

#[utoipa::path(get, path = "/v1/subjects/{subject_id}/decisions", tag = "decisions", description = "Roles: engine (own), agent, reviewer, supervisor, dpo, subject (own).", params(("subject_id" = String, Path), PageQuery), security(("bearer" = [])), responses((status = 200, body = Page<Decision>), (status = 404, response = Problem)))]
#[tracing::instrument(skip_all)]
pub async fn list_subject_decisions(
    db: web::Data<Db>,
    actor: Actor,
    subject_id: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    require_role(&actor, READERS)?;
    let PageQuery { after, limit } = query.into_inner();
    let page = service::list_for_subject(
        &db,
        actor,
        subject_id.into_inner(),
        after,
        limit.unwrap_or(DEFAULT_PAGE),
    )
    .await?;
    Ok(HttpResponse::Ok().json(json!({
        "items": page.items,
        "next_cursor": page.next_cursor,
    })))
}
