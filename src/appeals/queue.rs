//! The queue: a reviewer claims the next eligible appeal as a lease with a fencing token, keeps
//! it alive with heartbeats, or releases it back to the queue. Every step on a leased case
//! presents the token, so a lease that expired or was reassigned cannot be acted on.

use std::time::Duration;

use serde::Serialize;
use serde_json::json;

use super::AppealError;
use super::casework::Case;
use super::model::{AppealUpdate, Lease};
use super::repo;
use super::repo::queue::ClaimRequest;
use crate::audit;
use crate::db::{self, Db, DbConnection};
use crate::domain::Actor;
use crate::domain::appeal::{Action, AppealStatus};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Claimed {
    pub appeal: Case,
    pub lease: Lease,
}

pub struct ClaimOptions {
    pub queue: Option<String>,
    pub appeal_id: Option<String>,
    pub lease: Duration,
}

fn lease_expiry(lease: Duration) -> chrono::NaiveDateTime {
    db::now() + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::minutes(15))
}

/// Leases the next eligible appeal to the reviewer, or returns `None` when nothing is eligible.
#[tracing::instrument(skip_all, fields(reviewer = %actor.id))]
pub async fn claim(db: &Db, actor: Actor, options: ClaimOptions) -> Result<Option<Claimed>, AppealError> {
    db.write(move |conn| {
        repo::queue::lock_reviewer(conn, &actor.id)?;
        let Some(reviewer) = repo::routing::reviewer(conn, &actor.id)? else {
            return Err(AppealError::Forbidden(format!(
                "{} is not a configured reviewer: an admin must grant authorities first",
                actor.id
            )));
        };
        let now = db::now();
        if repo::appeals::live_leases(conn, &actor.id, now)? >= i64::from(reviewer.capacity) {
            return Err(AppealError::AtCapacity {
                reviewer: actor.id.clone(),
                capacity: reviewer.capacity,
            });
        }
        let authorities = reviewer.decision_types();
        let token = uuid::Uuid::new_v4().to_string();
        let expires_at = lease_expiry(options.lease);
        let claimed = repo::queue::claim_next(
            conn,
            &ClaimRequest {
                reviewer: &actor.id,
                authorities: &authorities,
                queue: options.queue.as_deref(),
                appeal_id: options.appeal_id.as_deref(),
                token: &token,
                now,
                expires_at,
            },
        )?;
        let Some(id) = claimed else { return Ok(None) };
        let row = repo::appeals::find(conn, &id)?.ok_or(AppealError::NotFound)?;
        audit::record(
            conn,
            &actor,
            "appeal.claimed",
            "appeal",
            &id,
            json!({"queue": row.queue, "lease_expires_at": expires_at.and_utc()}),
        )?;
        Ok(Some(Claimed {
            appeal: Case::load(conn, &row)?,
            lease: Lease {
                token,
                expires_at: expires_at.and_utc(),
            },
        }))
    })
    .await
}

/// Distinguishes "no such appeal" from "you do not hold its lease" after a fenced update failed.
fn stale_or_missing(conn: &mut DbConnection, id: &str) -> AppealError {
    match repo::appeals::find(conn, id) {
        Ok(Some(_)) => AppealError::StaleLease,
        Ok(None) => AppealError::NotFound,
        Err(e) => e.into(),
    }
}

#[tracing::instrument(skip_all, fields(appeal_id = %id))]
pub async fn heartbeat(
    db: &Db,
    actor: Actor,
    id: String,
    token: String,
    lease: Duration,
) -> Result<Lease, AppealError> {
    db.write(move |conn| {
        let now = db::now();
        let expires_at = lease_expiry(lease);
        let update = AppealUpdate {
            lease_expires_at: Some(Some(expires_at)),
            updated_at: Some(now),
            ..Default::default()
        };
        if !repo::appeals::update_if_leased(conn, &id, &actor.id, &token, now, &update)? {
            return Err(stale_or_missing(conn, &id));
        }
        audit::record(
            conn,
            &actor,
            "appeal.lease_renewed",
            "appeal",
            &id,
            json!({"lease_expires_at": expires_at.and_utc()}),
        )?;
        Ok(Lease {
            token: token.clone(),
            expires_at: expires_at.and_utc(),
        })
    })
    .await
}

#[tracing::instrument(skip_all, fields(appeal_id = %id))]
pub async fn release(db: &Db, actor: Actor, id: String, token: String) -> Result<(), AppealError> {
    db.write(move |conn| {
        let now = db::now();
        let to = AppealStatus::InReview.apply(Action::Release)?;
        if !repo::appeals::update_if_leased(
            conn,
            &id,
            &actor.id,
            &token,
            now,
            &AppealUpdate::to_status_unleased(to, now),
        )? {
            return Err(stale_or_missing(conn, &id));
        }
        audit::record(conn, &actor, "appeal.released", "appeal", &id, json!({}))?;
        Ok(())
    })
    .await
}
