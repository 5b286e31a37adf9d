//! Queries about models: the kill switch's suspensions, the engines that use a model, and the
//! counts behind a model's statistics.
//!
//! Decisions are counted from the covering index `decisions_stats_idx` (an index-only range scan
//! of the window) and, per reason code, from the narrow `decision_reason_codes` table and its
//! covering index, so no explanation JSON is parsed. Appeals and review outcomes are counted from
//! the appeals side (a few percent of decisions), joined to their decision by primary key. Each
//! count is therefore two queries, one per side, added up by key. Review tasks filed by the kill
//! switch are not appeals and are left out.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

use crate::db::schema::{decisions, model_suspensions as ms};
use crate::db::{DbConnection, DbError, MultiBackend};

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = ms)]
pub struct SuspensionRow {
    pub model_name: String,
    pub reason: String,
    pub suspended_by: String,
    pub suspended_at: NaiveDateTime,
}

pub fn find(conn: &mut DbConnection, model: &str) -> Result<Option<SuspensionRow>, DbError> {
    Ok(ms::table.find(model).first(conn).optional()?)
}

pub fn insert(conn: &mut DbConnection, row: &SuspensionRow) -> Result<(), DbError> {
    diesel::insert_into(ms::table).values(row).execute(conn)?;
    Ok(())
}

pub fn delete(conn: &mut DbConnection, model: &str) -> Result<bool, DbError> {
    Ok(diesel::delete(ms::table.find(model)).execute(conn)? == 1)
}

/// Reasons for those of `models` that are suspended.
pub fn suspended_among(conn: &mut DbConnection, models: &[&str]) -> Result<HashMap<String, String>, DbError> {
    if models.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(ms::table
        .filter(ms::model_name.eq_any(models))
        .select((ms::model_name, ms::reason))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}

/// Engines that have posted decisions from this model: they are told about its suspension.
pub fn engines_using(conn: &mut DbConnection, model: &str) -> Result<Vec<String>, DbError> {
    Ok(decisions::table
        .filter(decisions::model_name.eq(model))
        .select(decisions::engine_id)
        .distinct()
        .load(conn)?)
}

/// The decisions a model's statistics cover: one model (and version), a window of decision
/// times, and optionally one engine.
#[derive(Debug, Clone)]
pub struct StatsQuery {
    pub model: String,
    pub version: Option<String>,
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
    /// Only this engine's decisions (an engine reading its own statistics).
    pub engine: Option<String>,
}

/// Decisions, appeals and effective review outcomes counted under one key (a day or a reason
/// code).
#[derive(Debug, Default, Clone, QueryableByName)]
pub struct CountRow {
    #[diesel(sql_type = Text)]
    pub key: String,
    #[diesel(sql_type = BigInt)]
    pub decisions: i64,
    #[diesel(sql_type = BigInt)]
    pub appeals: i64,
    #[diesel(sql_type = BigInt)]
    pub upheld: i64,
    #[diesel(sql_type = BigInt)]
    pub overturned: i64,
    #[diesel(sql_type = BigInt)]
    pub amended: i64,
}

impl CountRow {
    /// Adds `other`'s counts to these (the key stays).
    pub fn add(&mut self, other: &CountRow) {
        self.decisions += other.decisions;
        self.appeals += other.appeals;
        self.upheld += other.upheld;
        self.overturned += other.overturned;
        self.amended += other.amended;
    }
}

#[derive(QueryableByName)]
struct FilingToDecision {
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

/// Runs the decisions side and the appeals side of one count and adds them up by key, in key
/// order.
fn count_both_sides(
    conn: &mut DbConnection,
    q: &StatsQuery,
    decisions_sql: String,
    appeals_sql: String,
) -> Result<Vec<CountRow>, DbError> {
    let mut by_key: BTreeMap<String, CountRow> = BTreeMap::new();
    for sql in [decisions_sql, appeals_sql] {
        for row in bind_scope(sql, q).load::<CountRow>(conn)? {
            by_key
                .entry(row.key.clone())
                .or_insert_with(|| CountRow {
                    key: row.key.clone(),
                    ..CountRow::default()
                })
                .add(&row);
        }
    }
    Ok(by_key.into_values().collect())
}

/// Counts per day of decision (`YYYY-MM-DD`), oldest first.
pub fn counts_by_day(conn: &mut DbConnection, q: &StatsQuery) -> Result<Vec<CountRow>, DbError> {
    let pg = matches!(conn, DbConnection::Pg(_));
    let day = if pg {
        "to_char(d.decided_at, 'YYYY-MM-DD')"
    } else {
        "substr(d.decided_at, 1, 10)"
    };
    count_both_sides(
        conn,
        q,
        format!(
            "SELECT {day} AS key, {DECISION_COUNTS} FROM decisions d WHERE {w} GROUP BY 1",
            w = window(pg, "d")
        ),
        format!(
            "SELECT {day} AS key, {APPEAL_COUNTS} {from} GROUP BY 1",
            from = appeals_side(pg, "")
        ),
    )
}

/// Counts per reason code the decisions gave, in code order.
pub fn counts_by_reason_code(conn: &mut DbConnection, q: &StatsQuery) -> Result<Vec<CountRow>, DbError> {
    let pg = matches!(conn, DbConnection::Pg(_));
    let codes_join = if pg {
        "JOIN decision_reason_codes c ON c.decision_id = d.id"
    } else {
        "CROSS JOIN decision_reason_codes c ON c.decision_id = d.id"
    };
    count_both_sides(
        conn,
        q,
        format!(
            "SELECT c.code AS key, {DECISION_COUNTS} FROM decision_reason_codes c WHERE {w} GROUP BY 1",
            w = window(pg, "c")
        ),
        format!(
            "SELECT c.code AS key, {APPEAL_COUNTS} {from} GROUP BY 1",
            from = appeals_side(pg, codes_join)
        ),
    )
}

/// `(received_at, decided_at)` of every appeal in the window that a review in force decided.
pub fn filing_to_decision_times(
    conn: &mut DbConnection,
    q: &StatsQuery,
) -> Result<Vec<(NaiveDateTime, NaiveDateTime)>, DbError> {
    let pg = matches!(conn, DbConnection::Pg(_));
    let rows: Vec<FilingToDecision> = bind_scope(
        format!(
            "SELECT a.received_at AS received_at, a.decided_at AS decided_at {} AND a.decided_at IS NOT NULL AND r.id IS NOT NULL",
            appeals_side(pg, "")
        ),
        q,
    )
    .load(conn)?;
    Ok(rows.into_iter().map(|r| (r.received_at, r.decided_at)).collect())
}
