//! Per-model statistics: decisions, appeals and review outcomes over time and by reason code.
//!
//! Every query starts from `decisions_model_idx (model_name, model_version, decided_at)`, then
//! reaches appeals through `appeals_decision_idx` and reviews through `reviews_appeal_idx`, so
//! the cost follows the size of the requested window, not of the table. Counting and grouping
//! happen in the database; only the filing-to-decision durations of decided appeals (a small
//! fraction of decisions) come back, for an exact median on both backends.
//! Review tasks filed by the kill switch are not appeals and are left out.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};
use serde::Serialize;

use crate::db::{Db, DbConnection, DbError, MultiBackend};

#[derive(Debug, Clone)]
pub struct StatsQuery {
    pub model: String,
    pub version: Option<String>,
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
    /// Only this engine's decisions (an engine reading its own statistics).
    pub engine: Option<String>,
}

#[derive(Debug, Default, Clone, Serialize, PartialEq)]
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

#[derive(Debug, Serialize)]
pub struct Bucket {
    pub start: String,
    #[serde(flatten)]
    pub counts: Counts,
}

#[derive(Debug, Serialize)]
pub struct ReasonCodeStats {
    pub code: String,
    #[serde(flatten)]
    pub counts: Counts,
}

#[derive(Debug, Serialize)]
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

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = BigInt)]
    decisions: i64,
    #[diesel(sql_type = BigInt)]
    appeals: i64,
    #[diesel(sql_type = BigInt)]
    upheld: i64,
    #[diesel(sql_type = BigInt)]
    overturned: i64,
    #[diesel(sql_type = BigInt)]
    amended: i64,
}

#[derive(QueryableByName)]
struct Duration {
    #[diesel(sql_type = Timestamp)]
    received_at: NaiveDateTime,
    #[diesel(sql_type = Timestamp)]
    decided_at: NaiveDateTime,
}

/// `FROM … WHERE …` over the requested decisions, their appeals and effective reviews, with
/// numbered parameters: 1 model, 2 version (or NULL), 3 from, 4 to, 5 engine (or NULL).
fn scope(pg: bool, extra_from: &str) -> String {
    let p = |n: usize| if pg { format!("${n}") } else { format!("?{n}") };
    format!(
        "FROM decisions d {extra_from}
         LEFT JOIN appeals a ON a.decision_id = d.id AND a.filed_by_role <> 'system'
         LEFT JOIN reviews r ON r.appeal_id = a.id AND r.status IN ('final', 'approved')
         WHERE d.model_name = {m} AND ({v} IS NULL OR d.model_version = {v})
           AND d.decided_at >= {f} AND d.decided_at < {t}
           AND ({e} IS NULL OR d.engine_id = {e})",
        m = p(1),
        v = p(2),
        f = p(3),
        t = p(4),
        e = p(5),
    )
}

const COUNTS: &str = "COUNT(DISTINCT d.id) AS decisions, COUNT(DISTINCT a.id) AS appeals,
    COUNT(DISTINCT CASE WHEN r.outcome = 'uphold' THEN r.id END) AS upheld,
    COUNT(DISTINCT CASE WHEN r.outcome = 'overturn' THEN r.id END) AS overturned,
    COUNT(DISTINCT CASE WHEN r.outcome = 'amend' THEN r.id END) AS amended";

fn bind_scope(
    sql: String,
    q: &StatsQuery,
) -> diesel::query_builder::BoxedSqlQuery<'static, MultiBackend, diesel::query_builder::SqlQuery> {
    diesel::sql_query(sql)
        .into_boxed::<MultiBackend>()
        .bind::<Text, _>(q.model.clone())
        .bind::<Nullable<Text>, _>(q.version.clone())
        .bind::<Timestamp, _>(q.from)
        .bind::<Timestamp, _>(q.to)
        .bind::<Nullable<Text>, _>(q.engine.clone())
}

pub fn compute(conn: &mut DbConnection, q: &StatsQuery) -> Result<ModelStats, DbError> {
    let pg = matches!(conn, DbConnection::Pg(_));
    let day = if pg {
        "to_char(d.decided_at, 'YYYY-MM-DD')"
    } else {
        "substr(d.decided_at, 1, 10)"
    };
    let totals: Vec<CountRow> = bind_scope(format!("SELECT 'all' AS key, {COUNTS} {}", scope(pg, "")), q).load(conn)?;
    let buckets: Vec<CountRow> = bind_scope(
        format!("SELECT {day} AS key, {COUNTS} {} GROUP BY 1 ORDER BY 1", scope(pg, "")),
        q,
    )
    .load(conn)?;
    let (codes_from, code) = if pg {
        (
            "CROSS JOIN LATERAL jsonb_array_elements(d.explanation::jsonb -> 'reason_codes') rc",
            "rc.value ->> 'code'",
        )
    } else {
        (
            "CROSS JOIN json_each(d.explanation, '$.reason_codes') rc",
            "json_extract(rc.value, '$.code')",
        )
    };
    let codes: Vec<CountRow> = bind_scope(
        format!(
            "SELECT {code} AS key, {COUNTS} {} GROUP BY 1 ORDER BY 1",
            scope(pg, codes_from)
        ),
        q,
    )
    .load(conn)?;
    let durations: Vec<Duration> = bind_scope(
        format!(
            "SELECT a.received_at AS received_at, a.decided_at AS decided_at {} AND a.decided_at IS NOT NULL AND r.id IS NOT NULL",
            scope(pg, "")
        ),
        q,
    )
    .load(conn)?;
    let mut secs: Vec<f64> = durations
        .iter()
        .map(|d| (d.decided_at - d.received_at).num_milliseconds() as f64 / 1000.0)
        .collect();
    Ok(ModelStats {
        model: q.model.clone(),
        version: q.version.clone(),
        from: q.from.and_utc(),
        to: q.to.and_utc(),
        bucket: "day",
        totals: totals.first().map(Counts::from_row).unwrap_or_default(),
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

#[tracing::instrument(skip_all, fields(model = %q.model))]
pub async fn stats(db: &Db, q: StatsQuery) -> Result<ModelStats, DbError> {
    db.run(move |conn| compute(conn, &q)).await
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
