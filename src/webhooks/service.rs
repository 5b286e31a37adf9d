//! Admin use cases: register and list endpoints, rotate a secret, list and replay deliveries.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::error::WebhookError;
use super::repo::{self, DeliveryRow, EndpointRow};
use super::signing;
use super::ssrf::Guard;
use crate::audit;
use crate::config::Webhooks;
use crate::db::{self, Db};
use crate::domain::{Actor, FieldError};
use crate::engines::repo as engine_repo;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEndpoint {
    #[schema(format = "uri")]
    pub url: String,
}

/// An endpoint as listed. The secret is shown once, when created or rotated.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Endpoint {
    pub id: String,
    pub engine_id: String,
    pub url: String,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl Endpoint {
    fn from_row(r: EndpointRow, with_secret: bool) -> Self {
        Self {
            id: r.id,
            engine_id: r.engine_id,
            url: r.url,
            status: r.status,
            disabled_reason: r.disabled_reason,
            secret: with_secret.then_some(r.secret),
            previous_secret_expires_at: r.previous_secret_expires_at.map(|t| t.and_utc()),
            created_at: r.created_at.and_utc(),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Delivery {
    pub id: String,
    pub event_id: String,
    pub endpoint_id: String,
    pub engine_id: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

impl From<DeliveryRow> for Delivery {
    fn from(r: DeliveryRow) -> Self {
        Self {
            next_attempt_at: (r.status == "pending").then(|| r.next_attempt_at.and_utc()),
            id: r.id,
            event_id: r.event_id,
            endpoint_id: r.endpoint_id,
            engine_id: r.engine_id,
            status: r.status,
            attempts: r.attempts,
            last_attempt_at: r.last_attempt_at.map(|t| t.and_utc()),
            last_status: r.last_status,
            last_error: r.last_error,
            created_at: r.created_at.and_utc(),
            delivered_at: r.delivered_at.map(|t| t.and_utc()),
        }
    }
}

/// Registers an endpoint after the SSRF guard has accepted its URL (and every address it
/// resolves to). Returns it with its secret, which is shown only here.
#[tracing::instrument(skip_all, fields(engine_id = %engine_id))]
pub async fn register(
    db: &Db,
    cfg: &Webhooks,
    actor: Actor,
    engine_id: String,
    new: NewEndpoint,
) -> Result<Endpoint, WebhookError> {
    if new.url.len() > 2_000 {
        return Err(WebhookError::Invalid(vec![FieldError::new(
            "/url",
            "must be at most 2000 characters",
        )]));
    }
    let url = Guard::new(cfg.allow.clone())
        .check(&new.url)
        .await
        .map_err(|e| WebhookError::Invalid(vec![FieldError::new("/url", e.to_string())]))?;
    db.write(move |conn| {
        if !engine_repo::exists(conn, &engine_id)? {
            return Err(WebhookError::NotFound("engine"));
        }
        let now = db::now();
        let row = EndpointRow {
            id: uuid::Uuid::now_v7().to_string(),
            engine_id: engine_id.clone(),
            url: url.to_string(),
            secret: signing::generate_secret(),
            previous_secret: None,
            previous_secret_expires_at: None,
            status: "active".into(),
            disabled_reason: None,
            created_at: now,
            updated_at: now,
        };
        repo::insert_endpoint(conn, &row)?;
        audit::record(
            conn,
            &actor,
            "webhook_endpoint.registered",
            "webhook_endpoint",
            &row.id,
            json!({"engine_id": row.engine_id}),
        )?;
        Ok(Endpoint::from_row(row, true))
    })
    .await
}

pub async fn list(db: &Db, engine_id: String) -> Result<Vec<Endpoint>, WebhookError> {
    db.run(move |conn| {
        if !engine_repo::exists(conn, &engine_id)? {
            return Err(WebhookError::NotFound("engine"));
        }
        Ok(repo::endpoints_for(conn, &engine_id)?
            .into_iter()
            .map(|r| Endpoint::from_row(r, false))
            .collect())
    })
    .await
}

/// Issues a new secret. The old one keeps signing, alongside the new, for the grace period.
#[tracing::instrument(skip_all, fields(endpoint_id = %endpoint_id))]
pub async fn rotate(
    db: &Db,
    cfg: &Webhooks,
    actor: Actor,
    engine_id: String,
    endpoint_id: String,
) -> Result<Endpoint, WebhookError> {
    let grace = chrono::Duration::from_std(cfg.secret_grace).unwrap_or(chrono::Duration::hours(24));
    db.write(move |conn| {
        let row = repo::find_endpoint(conn, &endpoint_id)?
            .filter(|r| r.engine_id == engine_id)
            .ok_or(WebhookError::NotFound("endpoint"))?;
        let now = db::now();
        let new = signing::generate_secret();
        let expires = now + grace;
        if !repo::rotate_secret(conn, &row.id, &row.secret, &new, expires, now)? {
            return Err(WebhookError::Conflict(
                "the secret was rotated concurrently; retry".into(),
            ));
        }
        audit::record(
            conn,
            &actor,
            "webhook_endpoint.secret_rotated",
            "webhook_endpoint",
            &row.id,
            json!({"previous_valid_until": expires.and_utc()}),
        )?;
        let row = repo::find_endpoint(conn, &row.id)?.ok_or(WebhookError::NotFound("endpoint"))?;
        Ok(Endpoint::from_row(row, true))
    })
    .await
}

/// How many deliveries a listing shows unless it asks for another number, and at most.
pub const DEFAULT_DELIVERIES: i64 = 100;
pub const MAX_DELIVERIES: i64 = 500;

pub async fn deliveries(
    db: &Db,
    engine_id: Option<String>,
    status: Option<String>,
    limit: Option<i64>,
) -> Result<Vec<Delivery>, WebhookError> {
    if let Some(s) = &status
        && !matches!(s.as_str(), "pending" | "delivered" | "failed")
    {
        return Err(WebhookError::Invalid(vec![FieldError::new(
            "/status",
            "must be pending, delivered or failed",
        )]));
    }
    let limit = limit.unwrap_or(DEFAULT_DELIVERIES).clamp(1, MAX_DELIVERIES);
    db.run(move |conn| {
        Ok(
            repo::list_deliveries(conn, engine_id.as_deref(), status.as_deref(), limit)?
                .into_iter()
                .map(Delivery::from)
                .collect(),
        )
    })
    .await
}

/// Sends a finished (failed or delivered) delivery again, with a fresh retry window.
#[tracing::instrument(skip_all, fields(delivery_id = %id))]
pub async fn replay(db: &Db, actor: Actor, id: String) -> Result<Delivery, WebhookError> {
    db.write(move |conn| {
        let row = repo::find_delivery(conn, &id)?.ok_or(WebhookError::NotFound("delivery"))?;
        if !repo::replay(conn, &row.id, db::now())? {
            return Err(WebhookError::Conflict(format!("delivery {id} is still pending")));
        }
        audit::record(
            conn,
            &actor,
            "webhook_delivery.replayed",
            "webhook_delivery",
            &row.id,
            json!({"previous_status": row.status, "attempts": row.attempts}),
        )?;
        let row = repo::find_delivery(conn, &id)?.ok_or(WebhookError::NotFound("delivery"))?;
        Ok(Delivery::from(row))
    })
    .await
}
