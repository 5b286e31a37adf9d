use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::repo;
use crate::appeals::AppealError;
use crate::appeals::detail::AppealDetail;
use crate::appeals::model::{QueueView, ReviewView, ReviewerView};
use crate::appeals::routing::RoutingError;
use crate::db::{self, Db};
use crate::decisions::model::Decision;
use crate::domain::Actor;
use crate::domain::appeal::AppealStatus;

/// Open appeals by how close their legal deadline is. The buckets do not overlap.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct SlaBuckets {
    pub overdue: i64,
    /// Due in less than 3 days.
    pub within_3_days: i64,
    /// Due in 3 to 7 days.
    pub within_7_days: i64,
    /// Due in 7 days or more.
    pub later: i64,
}

impl SlaBuckets {
    pub fn open(&self) -> i64 {
        self.overdue + self.within_3_days + self.within_7_days + self.later
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct PendingApproval {
    pub appeal_id: String,
    pub decision_type: String,
    pub queue: String,
    pub due_at: DateTime<Utc>,
    pub review: ReviewView,
}

#[derive(Debug, Clone, Serialize)]
pub struct OpenAppeal {
    pub id: String,
    pub decision_type: String,
    pub queue: String,
    pub status: AppealStatus,
    pub due_at: DateTime<Utc>,
    pub reviewer_id: Option<String>,
    pub assigned_to: Option<String>,
    pub escalation_level: i32,
    pub extended: bool,
}

/// How human review treated one model version's decisions.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ModelRate {
    pub model_name: String,
    pub model_version: String,
    pub upheld: i64,
    pub overturned: i64,
    pub amended: i64,
}

impl ModelRate {
    pub fn decided(&self) -> i64 {
        self.upheld + self.overturned + self.amended
    }

    /// Share of reviewed decisions that were overturned, 0.0 to 1.0.
    pub fn overturn_rate(&self) -> f64 {
        ratio(self.overturned, self.decided())
    }

    pub fn amend_rate(&self) -> f64 {
        ratio(self.amended, self.decided())
    }
}

fn ratio(part: i64, whole: i64) -> f64 {
    if whole == 0 { 0.0 } else { part as f64 / whole as f64 }
}

#[derive(Debug, Clone, Serialize)]
pub struct Dashboard {
    pub queues: Vec<QueueView>,
    pub sla: SlaBuckets,
    pub approvals: Vec<PendingApproval>,
    pub open: Vec<OpenAppeal>,
    pub models: Vec<ModelRate>,
    pub generated_at: DateTime<Utc>,
}

/// Most rows a dashboard table shows.
pub const DASHBOARD_ROWS: i64 = 100;

fn routing_error(e: RoutingError) -> AppealError {
    match e {
        RoutingError::Db(e) => AppealError::Db(e),
        RoutingError::Invalid(errors) => AppealError::Invalid(errors),
    }
}

/// Folds (model, version, outcome, count) rows into one rate per model version.
pub fn fold_rates(rows: Vec<(String, String, String, i64)>) -> Vec<ModelRate> {
    let mut by_model: BTreeMap<(String, String), ModelRate> = BTreeMap::new();
    for (name, version, outcome, n) in rows {
        let rate = by_model
            .entry((name.clone(), version.clone()))
            .or_insert_with(|| ModelRate {
                model_name: name,
                model_version: version,
                ..Default::default()
            });
        match outcome.as_str() {
            "overturn" => rate.overturned += n,
            "amend" => rate.amended += n,
            _ => rate.upheld += n,
        }
    }
    by_model.into_values().collect()
}

#[tracing::instrument(skip_all)]
pub async fn dashboard(db: &Db, _actor: Actor) -> Result<Dashboard, AppealError> {
    let queues = crate::appeals::routing::list_queues(db).await.map_err(routing_error)?;
    db.run(move |conn| {
        let now = db::now();
        let in_days = |d: i64| now + chrono::Duration::days(d);
        let sla = SlaBuckets {
            overdue: repo::open_due_between(conn, None, Some(now))?,
            within_3_days: repo::open_due_between(conn, Some(now), Some(in_days(3)))?,
            within_7_days: repo::open_due_between(conn, Some(in_days(3)), Some(in_days(7)))?,
            later: repo::open_due_between(conn, Some(in_days(7)), None)?,
        };
        let approvals = repo::awaiting_approval(conn, DASHBOARD_ROWS)?
            .into_iter()
            .map(|(appeal, review)| PendingApproval {
                appeal_id: appeal.id,
                decision_type: appeal.decision_type,
                queue: appeal.queue,
                due_at: appeal.due_at.and_utc(),
                review: ReviewView::from(review),
            })
            .collect();
        let open = repo::open_appeals(conn, DASHBOARD_ROWS)?
            .into_iter()
            .map(|a| {
                Ok(OpenAppeal {
                    status: a.status()?,
                    extended: a.extension_reason.is_some(),
                    id: a.id,
                    decision_type: a.decision_type,
                    queue: a.queue,
                    due_at: a.due_at.and_utc(),
                    reviewer_id: a.reviewer_id,
                    assigned_to: a.assigned_to,
                    escalation_level: a.escalation_level,
                })
            })
            .collect::<Result<Vec<_>, AppealError>>()?;
        let models = fold_rates(repo::outcomes_by_model(conn)?);
        Ok(Dashboard {
            queues,
            sla,
            approvals,
            open,
            models,
            generated_at: now.and_utc(),
        })
    })
    .await
}

/// One appeal as a supervisor handles it: the detail, the decision, the review waiting for
/// approval (if any) and the reviewers it could be given to.
#[derive(Debug, Serialize)]
pub struct SupervisorAppeal {
    pub detail: AppealDetail,
    pub decision: Decision,
    pub pending: Option<ReviewView>,
    pub reviewers: Vec<ReviewerView>,
}

#[tracing::instrument(skip_all, fields(appeal_id = %id))]
pub async fn supervisor_appeal(db: &Db, actor: Actor, id: String) -> Result<SupervisorAppeal, AppealError> {
    let detail = crate::appeals::filing::get(db, actor.clone(), id.clone()).await?;
    let file = crate::appeals::casework::decision_file(db, actor, detail.appeal.decision_id.clone()).await?;
    let reviewers = crate::appeals::routing::list_reviewers(db)
        .await
        .map_err(routing_error)?;
    let pending = db
        .run(move |conn| Ok::<_, AppealError>(crate::appeals::repo::reviews::pending_for_appeal(conn, &id)?))
        .await?
        .map(ReviewView::from);
    Ok(SupervisorAppeal {
        detail,
        decision: file.decision,
        pending,
        reviewers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_fold_per_model_version() {
        let rows = vec![
            ("m".into(), "1".into(), "uphold".into(), 3),
            ("m".into(), "1".into(), "overturn".into(), 1),
            ("m".into(), "2".into(), "amend".into(), 2),
        ];
        let rates = fold_rates(rows);
        assert_eq!(rates.len(), 2);
        assert_eq!(rates[0].decided(), 4);
        assert!((rates[0].overturn_rate() - 0.25).abs() < 1e-9);
        assert!((rates[1].amend_rate() - 1.0).abs() < 1e-9);
        assert_eq!(ModelRate::default().overturn_rate(), 0.0);
    }
}
