//! Per-model statistics: decisions, appeals and review outcomes over time and by reason code.
//!
//! Decisions are counted per day from the covering index `decisions_stats_idx` (an index-only
//! range scan of the window) and per reason code from the narrow `decision_reason_codes` table
//! and its covering index, so no explanation JSON is parsed. Appeals and review outcomes are
//! counted from the appeals side (a few percent of decisions), joined to their decision by
//! primary key. Counting and grouping happen in the database; only the filing-to-decision
//! durations of decided appeals come back, for an exact median on both backends.
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

/// The window filter on a table with `model_name`, `model_version`, `decided_at` and
/// `engine_id` columns, with numbered parameters: 1 model, 2 version (or NULL), 3 from, 4 to,
/// 5 engine (or NULL).
fn window(pg: bool, t: &str) -> String {
    let p = |n: usize| if pg { format!("${n}") } else { format!("?{n}") };
    format!(
        "{t}.model_name = {m} AND ({v} IS NULL OR {t}.model_version = {v})
           AND {t}.decided_at >= {f} AND {t}.decided_at < {to}
           AND ({e} IS NULL OR {t}.engine_id = {e})",
        m = p(1),
        v = p(2),
        f = p(3),
        to = p(4),
        e = p(5),
    )
}

/// Appeals (not kill-switch review tasks) of the windowed decisions, with their effective
/// reviews. Driven from `appeals`, the small side: on SQLite `CROSS JOIN` pins that join order.
fn appeals_side(pg: bool, extra: &str) -> String {
    let join = if pg { "JOIN" } else { "CROSS JOIN" };
    format!(
        "FROM appeals a {join} decisions d ON d.id = a.decision_id {extra}
         LEFT JOIN reviews r ON r.appeal_id = a.id AND r.status IN ('final', 'approved')
         WHERE a.filed_by_role <> 'system' AND {w}",
        w = window(pg, "d")
    )
}

const APPEAL_COUNTS: &str = "CAST(0 AS BIGINT) AS decisions, COUNT(DISTINCT a.id) AS appeals,
    COUNT(DISTINCT CASE WHEN r.outcome = 'uphold' THEN r.id END) AS upheld,
    COUNT(DISTINCT CASE WHEN r.outcome = 'overturn' THEN r.id END) AS overturned,
    COUNT(DISTINCT CASE WHEN r.outcome = 'amend' THEN r.id END) AS amended";

const DECISION_COUNTS: &str = "COUNT(*) AS decisions, CAST(0 AS BIGINT) AS appeals, CAST(0 AS BIGINT) AS upheld,
    CAST(0 AS BIGINT) AS overturned, CAST(0 AS BIGINT) AS amended";

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

/// Adds the rows of both sides up by key, in key order.
fn merge(sides: [Vec<CountRow>; 2]) -> Vec<CountRow> {
    let mut by_key: std::collections::BTreeMap<String, CountRow> = std::collections::BTreeMap::new();
    for row in sides.into_iter().flatten() {
        let e = by_key.entry(row.key.clone()).or_insert_with(|| CountRow {
            key: row.key.clone(),
            decisions: 0,
            appeals: 0,
            upheld: 0,
            overturned: 0,
            amended: 0,
        });
        e.decisions += row.decisions;
        e.appeals += row.appeals;
        e.upheld += row.upheld;
        e.overturned += row.overturned;
        e.amended += row.amended;
    }
    by_key.into_values().collect()
}

pub fn compute(conn: &mut DbConnection, q: &StatsQuery) -> Result<ModelStats, DbError> {
    let pg = matches!(conn, DbConnection::Pg(_));
    let day = |t: &str| {
        if pg {
            format!("to_char({t}.decided_at, 'YYYY-MM-DD')")
        } else {
            format!("substr({t}.decided_at, 1, 10)")
        }
    };
    let decisions_by_day: Vec<CountRow> = bind_scope(
        format!(
            "SELECT {k} AS key, {DECISION_COUNTS} FROM decisions d WHERE {w} GROUP BY 1",
            k = day("d"),
            w = window(pg, "d")
        ),
        q,
    )
    .load(conn)?;
    let appeals_by_day: Vec<CountRow> = bind_scope(
        format!(
            "SELECT {k} AS key, {APPEAL_COUNTS} {from} GROUP BY 1",
            k = day("d"),
            from = appeals_side(pg, "")
        ),
        q,
    )
    .load(conn)?;
    let buckets = merge([decisions_by_day, appeals_by_day]);
    let decisions_by_code: Vec<CountRow> = bind_scope(
        format!(
            "SELECT c.code AS key, {DECISION_COUNTS} FROM decision_reason_codes c WHERE {w} GROUP BY 1",
            w = window(pg, "c")
        ),
        q,
    )
    .load(conn)?;
    let codes_join = if pg {
        "JOIN decision_reason_codes c ON c.decision_id = d.id"
    } else {
        "CROSS JOIN decision_reason_codes c ON c.decision_id = d.id"
    };
    let appeals_by_code: Vec<CountRow> = bind_scope(
        format!(
            "SELECT c.code AS key, {APPEAL_COUNTS} {from} GROUP BY 1",
            from = appeals_side(pg, codes_join)
        ),
        q,
    )
    .load(conn)?;
    let codes = merge([decisions_by_code, appeals_by_code]);
    let durations: Vec<Duration> = bind_scope(
        format!(
            "SELECT a.received_at AS received_at, a.decided_at AS decided_at {} AND a.decided_at IS NOT NULL AND r.id IS NOT NULL",
            appeals_side(pg, "")
        ),
        q,
    )
    .load(conn)?;
    let mut secs: Vec<f64> = durations
        .iter()
        .map(|d| (d.decided_at - d.received_at).num_milliseconds() as f64 / 1000.0)
        .collect();
    let mut total = CountRow {
        key: String::new(),
        decisions: 0,
        appeals: 0,
        upheld: 0,
        overturned: 0,
        amended: 0,
    };
    for b in &buckets {
        total.decisions += b.decisions;
        total.appeals += b.appeals;
        total.upheld += b.upheld;
        total.overturned += b.overturned;
        total.amended += b.amended;
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
