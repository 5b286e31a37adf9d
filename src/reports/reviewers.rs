//! The reviewer report (AI Act Art. 14(4)(b), automation bias): for each reviewer, how often they
//! agreed with the model and how long they spent per case, flagging possible rubber-stamping.

use std::collections::BTreeMap;

use serde::Serialize;

use super::repo;
use crate::appeals::AppealError;
use crate::db::Db;

/// Agreement at or above this share, with the median case under `RUBBER_STAMP_SECONDS` over at
/// least `RUBBER_STAMP_MIN_REVIEWS` reviews, is flagged for a supervisor to look at.
pub const RUBBER_STAMP_AGREEMENT: f64 = 0.95;
pub const RUBBER_STAMP_SECONDS: f64 = 60.0;
pub const RUBBER_STAMP_MIN_REVIEWS: usize = 20;

#[derive(Debug, Serialize, PartialEq, utoipa::ToSchema)]
pub struct ReviewerLine {
    pub reviewer_id: String,
    pub reviews: usize,
    /// Share of reviews that upheld the model's outcome.
    pub agreement_with_model: f64,
    pub median_seconds_per_case: Option<f64>,
    pub possible_rubber_stamping: bool,
}

/// Folds (reviewer, outcome, seconds spent) into one line per reviewer.
pub fn summarize(rows: &[(String, String, Option<i64>)]) -> Vec<ReviewerLine> {
    let mut by: BTreeMap<&str, (usize, usize, Vec<f64>)> = BTreeMap::new();
    for (reviewer, outcome, seconds) in rows {
        let e = by.entry(reviewer.as_str()).or_default();
        e.0 += 1;
        if outcome == "uphold" {
            e.1 += 1;
        }
        if let Some(s) = seconds {
            e.2.push(*s as f64);
        }
    }
    by.into_iter()
        .map(|(reviewer, (n, agreed, mut secs))| {
            secs.sort_by(f64::total_cmp);
            let median = match secs.len() {
                0 => None,
                k if k % 2 == 1 => Some(secs[k / 2]),
                k => Some((secs[k / 2 - 1] + secs[k / 2]) / 2.0),
            };
            let agreement = agreed as f64 / n as f64;
            ReviewerLine {
                reviewer_id: reviewer.to_owned(),
                reviews: n,
                agreement_with_model: agreement,
                median_seconds_per_case: median,
                possible_rubber_stamping: n >= RUBBER_STAMP_MIN_REVIEWS
                    && agreement >= RUBBER_STAMP_AGREEMENT
                    && median.is_some_and(|m| m < RUBBER_STAMP_SECONDS),
            }
        })
        .collect()
}

pub async fn reviewers(db: &Db) -> Result<Vec<ReviewerLine>, AppealError> {
    let rows = db
        .run(|conn| repo::reviewer_outcomes(conn).map_err(AppealError::from))
        .await?;
    Ok(summarize(&rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_near_total_agreement_is_flagged_and_careful_review_is_not() {
        let mut rows: Vec<(String, String, Option<i64>)> =
            (0..20).map(|_| ("fast".into(), "uphold".into(), Some(12))).collect();
        rows.extend((0..20).map(|i| {
            (
                "careful".into(),
                if i % 4 == 0 { "overturn" } else { "uphold" }.into(),
                Some(600),
            )
        }));
        rows.extend((0..5).map(|_| ("new".into(), "uphold".into(), Some(5))));
        let lines = summarize(&rows);
        let line = |id: &str| lines.iter().find(|l| l.reviewer_id == id).unwrap();
        assert!(line("fast").possible_rubber_stamping);
        assert_eq!(line("fast").median_seconds_per_case, Some(12.0));
        assert!(!line("careful").possible_rubber_stamping);
        assert_eq!(line("careful").agreement_with_model, 0.75);
        assert!(!line("new").possible_rubber_stamping, "too few reviews to judge");
    }
}
