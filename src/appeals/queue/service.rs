use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use super::repo::{self, ClaimRequest};
use crate::appeals::model::{AppealRow, AppealUpdate, AppealView};
use crate::appeals::reviews::model::ReviewView;
use crate::appeals::routing::repo as routing_repo;
use crate::appeals::service::{audit_appeal, decision_view, load_appeal, load_decision};
use crate::appeals::{AppealError, repo as appeal_repo};
use crate::db::{self, Db, DbConnection, write_tx};
use crate::decisions::Decision;
use crate::domain::appeal::{Action, AppealStatus};
use crate::domain::{Actor, Role};

/// Everything a reviewer needs to decide: the appeal, the decision with its explanation, and
/// earlier appeals and reviews of the same decision.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Case {
    #[serde(flatten)]
    pub appeal: AppealView,
    pub decision: Decision,
    pub history: Vec<HistoryEntry>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    pub appeal_id: String,
    pub status: AppealStatus,
    pub received_at: DateTime<Utc>,
    pub statement: String,
    pub reviews: Vec<ReviewView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Lease {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

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

pub(crate) fn case_in_tx(conn: &mut DbConnection, row: &AppealRow) -> Result<Case, AppealError> {
    let decision = decision_view(load_decision(conn, &row.decision_id)?)?;
    let reviews = crate::appeals::reviews::repo::for_decision(conn, &row.decision_id)?;
    let history = appeal_repo::for_decision(conn, &row.decision_id)?
        .into_iter()
        .map(|a| {
            Ok(HistoryEntry {
                status: a.status()?,
                reviews: reviews
                    .iter()
                    .filter(|r| r.appeal_id == a.id)
                    .cloned()
                    .map(ReviewView::from)
                    .collect(),
                appeal_id: a.id,
                received_at: a.received_at.and_utc(),
                statement: a.statement,
            })
        })
        .collect::<Result<Vec<_>, AppealError>>()?;
    Ok(Case {
        appeal: AppealView::from_row(row, Role::Reviewer)?,
        decision,
        history,
    })
}

fn lease_expiry(lease: Duration) -> chrono::NaiveDateTime {
    db::now() + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::minutes(15))
}

/// Leases the next eligible appeal to the reviewer, or returns `None` when nothing is eligible.
#[tracing::instrument(skip_all, fields(reviewer = %actor.id))]
pub async fn claim(db: &Db, actor: Actor, options: ClaimOptions) -> Result<Option<Claimed>, AppealError> {
    db.maintain(move |conn| {
        write_tx(conn, |conn| {
            repo::lock_reviewer(conn, &actor.id)?;
            let Some(reviewer) = routing_repo::reviewer(conn, &actor.id)? else {
                return Err(AppealError::Forbidden(format!(
                    "{} is not a configured reviewer: an admin must grant authorities first",
                    actor.id
                )));
            };
            let now = db::now();
            if appeal_repo::live_leases(conn, &actor.id, now)? >= i64::from(reviewer.capacity) {
                return Err(AppealError::AtCapacity {
                    reviewer: actor.id.clone(),
                    capacity: reviewer.capacity,
                });
            }
            let authorities = crate::appeals::routing::service::parse_authorities(&reviewer.authorities);
            let token = uuid::Uuid::new_v4().to_string();
            let expires_at = lease_expiry(options.lease);
            let claimed = repo::claim_next(
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
            let row = load_appeal(conn, &id)?;
            audit_appeal(
                conn,
                &actor,
                "appeal.claimed",
                &id,
                json!({"queue": row.queue, "lease_expires_at": expires_at.and_utc()}),
            )?;
            Ok(Some(Claimed {
                appeal: case_in_tx(conn, &row)?,
                lease: Lease {
                    token,
                    expires_at: expires_at.and_utc(),
                },
            }))
        })
    })
    .await
}

/// Distinguishes "no such appeal" from "you do not hold its lease" after a fenced update failed.
fn stale_or_missing(conn: &mut DbConnection, id: &str) -> AppealError {
    match appeal_repo::find(conn, id) {
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
    db.maintain(move |conn| {
        write_tx(conn, |conn| {
            let now = db::now();
            let expires_at = lease_expiry(lease);
            let update = AppealUpdate {
                lease_expires_at: Some(Some(expires_at)),
                updated_at: Some(now),
                ..Default::default()
            };
            if !appeal_repo::update_if_leased(conn, &id, &actor.id, &token, now, &update)? {
                return Err(stale_or_missing(conn, &id));
            }
            audit_appeal(
                conn,
                &actor,
                "appeal.lease_renewed",
                &id,
                json!({"lease_expires_at": expires_at.and_utc()}),
            )?;
            Ok(Lease {
                token,
                expires_at: expires_at.and_utc(),
            })
        })
    })
    .await
}

#[tracing::instrument(skip_all, fields(appeal_id = %id))]
pub async fn release(db: &Db, actor: Actor, id: String, token: String) -> Result<(), AppealError> {
    db.maintain(move |conn| {
        write_tx(conn, |conn| {
            let now = db::now();
            let to = AppealStatus::InReview.apply(Action::Release)?;
            if !appeal_repo::update_if_leased(
                conn,
                &id,
                &actor.id,
                &token,
                now,
                &AppealUpdate::to_status_unleased(to, now),
            )? {
                return Err(stale_or_missing(conn, &id));
            }
            audit_appeal(conn, &actor, "appeal.released", &id, json!({}))?;
            Ok(())
        })
    })
    .await
}
