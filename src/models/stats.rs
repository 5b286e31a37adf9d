//! Per-model statistics: decisions, appeals and review outcomes over time and by reason code.
//!
//! Counting and grouping happen in the database (`repo::counts_by_day`,
//! `repo::counts_by_reason_code`); only the filing-to-decision durations of decided appeals come
//! back, for an exact median on both backends. Review tasks filed by the kill switch are not
//! appeals and are left out.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::repo::{self, CountRow, StatsQuery};
use super::service::ModelError;
use crate::db::{Db, DbConnection, DbError};
use crate::domain::{Actor, FieldError, Role};

/// How far back statistics reach when the request names no start.
const DEFAULT_WINDOW_DAYS: i64 = 30;

/// What a caller asks for: a version, a window and a bucket size, each optional.
#[derive(Debug)]
pub struct StatsRequest {
    pub version: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Only `day` is supported.
    pub bucket: Option<String>,
}

#[derive(Debug, Default, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Counts {
    pub decisions: i64,
    pub appeals: i64,
    pub appeal_rate: Option<f64>,
    pub reviewed: i64,
    pub upheld: i64,
    pub overturned: i64,
    pub amended: i64,
    pub upheld_rate: Option<f64>,
    pub overturned_rate: Option<f64>,
    pub amended_rate: Option<f64>,
}

impl Counts {
    fn from_row(r: &CountRow) -> Self {
        let ratio = |n: i64, d: i64| (d > 0).then(|| n as f64 / d as f64);
        let reviewed = r.upheld + r.overturned + r.amended;
        Self {
            decisions: r.decisions,
            appeals: r.appeals,
            appeal_rate: ratio(r.appeals, r.decisions),
            reviewed,
            upheld: r.upheld,
            overturned: r.overturned,
            amended: r.amended,
            upheld_rate: ratio(r.upheld, reviewed),
            overturned_rate: ratio(r.overturned, reviewed),
            amended_rate: ratio(r.amended, reviewed),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Bucket {
    pub start: String,
    #[serde(flatten)]
    pub counts: Counts,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReasonCodeStats {
    pub code: String,
    #[serde(flatten)]
    pub counts: Counts,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ModelStats {
    pub model: String,
    pub version: Option<String>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub bucket: &'static str,
    pub totals: Counts,
    pub median_filing_to_decision_seconds: Option<f64>,
    pub buckets: Vec<Bucket>,
    pub by_reason_code: Vec<ReasonCodeStats>,
}

fn compute(conn: &mut DbConnection, q: &StatsQuery) -> Result<ModelStats, DbError> {
    let buckets = repo::counts_by_day(conn, q)?;
    let codes = repo::counts_by_reason_code(conn, q)?;
    let mut secs: Vec<f64> = repo::filing_to_decision_times(conn, q)?
        .iter()
        .map(|(received_at, decided_at)| (*decided_at - *received_at).num_milliseconds() as f64 / 1000.0)
        .collect();
    let mut total = CountRow::default();
    for b in &buckets {
        total.add(b);
    }
    Ok(ModelStats {
        model: q.model.clone(),
        version: q.version.clone(),
        from: q.from.and_utc(),
        to: q.to.and_utc(),
        bucket: "day",
        totals: Counts::from_row(&total),
        median_filing_to_decision_seconds: median(&mut secs),
        buckets: buckets
            .iter()
            .map(|r| Bucket {
                start: format!("{}T00:00:00Z", r.key),
                counts: Counts::from_row(r),
            })
            .collect(),
        by_reason_code: codes
            .iter()
            .map(|r| ReasonCodeStats {
                code: r.key.clone(),
                counts: Counts::from_row(r),
            })
            .collect(),
    })
}

pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    })
}

/// A model's statistics over the requested window (by default the last 30 days), bucketed by
/// day. An engine sees its own decisions only.
#[tracing::instrument(skip_all, fields(model = %model))]
pub async fn stats(db: &Db, actor: &Actor, model: String, req: StatsRequest) -> Result<ModelStats, ModelError> {
    if req.bucket.as_deref().is_some_and(|b| b != "day") {
        return Err(ModelError::Invalid(vec![FieldError::new(
            "/bucket",
            "only 'day' is supported",
        )]));
    }
    let to = req.to.unwrap_or_else(Utc::now);
    let from = req.from.unwrap_or(to - chrono::Duration::days(DEFAULT_WINDOW_DAYS));
    if from >= to {
        return Err(ModelError::Invalid(vec![FieldError::new(
            "/from",
            "must be before 'to'",
        )]));
    }
    let q = StatsQuery {
        model,
        version: req.version,
        from: from.naive_utc(),
        to: to.naive_utc(),
        engine: actor.is(Role::Engine).then(|| actor.id.clone()),
    };
    Ok(db.run(move |conn| compute(conn, &q)).await?)
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }
}
