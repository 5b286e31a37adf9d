//! Queries behind the reports: the supervisor dashboard's figures, the reviewer report's
//! outcomes and the transparency report's appeals.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::appeals::model::AppealRow;
use crate::appeals::model::{ReviewRow, review_status as status};
use crate::db::schema::{appeals, decisions, reviews};
use crate::db::{DbConnection, DbError};
use crate::domain::appeal::AppealStatus;

diesel::allow_columns_to_appear_in_same_group_by_clause!(
    decisions::model_name,
    decisions::model_version,
    reviews::outcome
);

fn open_statuses() -> [&'static str; 3] {
    AppealStatus::OPEN.map(AppealStatus::as_str)
}

/// Open appeals due before `before` (and at or after `from`, when given).
pub fn open_due_between(
    conn: &mut DbConnection,
    from: Option<NaiveDateTime>,
    before: Option<NaiveDateTime>,
) -> Result<i64, DbError> {
    let mut query = appeals::table
        .filter(appeals::status.eq_any(open_statuses()))
        .into_boxed();
    if let Some(from) = from {
        query = query.filter(appeals::due_at.ge(from));
    }
    if let Some(before) = before {
        query = query.filter(appeals::due_at.lt(before));
    }
    Ok(query.count().get_result(conn)?)
}

/// Open appeals, the nearest deadline first.
pub fn open_appeals(conn: &mut DbConnection, limit: i64) -> Result<Vec<AppealRow>, DbError> {
    Ok(appeals::table
        .filter(appeals::status.eq_any(open_statuses()))
        .order((appeals::due_at.asc(), appeals::id.asc()))
        .limit(limit)
        .load(conn)?)
}

/// Appeals awaiting a second person's approval, with the review that waits.
pub fn awaiting_approval(conn: &mut DbConnection, limit: i64) -> Result<Vec<(AppealRow, ReviewRow)>, DbError> {
    Ok(appeals::table
        .inner_join(reviews::table)
        .filter(appeals::status.eq(AppealStatus::AwaitingApproval.as_str()))
        .filter(reviews::status.eq(status::PENDING_APPROVAL))
        .order((appeals::due_at.asc(), appeals::id.asc()))
        .limit(limit)
        .select((appeals::all_columns, reviews::all_columns))
        .load(conn)?)
}

/// Reviews in force, counted by the model version of the decision and the review's outcome.
pub fn outcomes_by_model(conn: &mut DbConnection) -> Result<Vec<(String, String, String, i64)>, DbError> {
    Ok(reviews::table
        .inner_join(decisions::table.on(decisions::id.eq(reviews::decision_id)))
        .filter(reviews::status.eq_any(status::EFFECTIVE))
        .group_by((decisions::model_name, decisions::model_version, reviews::outcome))
        .select((
            decisions::model_name,
            decisions::model_version,
            reviews::outcome,
            diesel::dsl::count_star(),
        ))
        .order((decisions::model_name.asc(), decisions::model_version.asc()))
        .load(conn)?)
}

/// Every review: `(reviewer, outcome, seconds spent)`.
pub fn reviewer_outcomes(conn: &mut DbConnection) -> Result<Vec<(String, String, Option<i64>)>, DbError> {
    Ok(reviews::table
        .select((reviews::reviewer_id, reviews::outcome, reviews::seconds_spent))
        .load(conn)?)
}

/// What the transparency report needs to know about one appeal.
#[derive(Debug, Clone)]
pub struct AppealFacts {
    pub decision_type: String,
    pub grounds: Vec<String>,
    pub status: String,
    pub received_at: NaiveDateTime,
    pub due_at: NaiveDateTime,
    pub decided_at: Option<NaiveDateTime>,
    pub extended: bool,
    /// `uphold`, `overturn` or `amend` once a human outcome is in force.
    pub outcome: Option<String>,
}

type FactsRow = (
    String,
    String,
    String,
    NaiveDateTime,
    NaiveDateTime,
    Option<NaiveDateTime>,
    Option<String>,
    String,
);

/// The complaints received in `[from, to)`, with the outcome in force for each. Complaints are
/// what people filed: review tasks the system files itself (a suspended model's decisions, AI
/// Act Art. 26(5)) are nobody's complaint and are left out.
pub fn complaints_received(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<AppealFacts>, DbError> {
    let rows: Vec<FactsRow> = appeals::table
        .filter(appeals::filed_by_role.ne(crate::domain::Role::System.as_str()))
        .filter(appeals::received_at.ge(from))
        .filter(appeals::received_at.lt(to))
        .select((
            appeals::decision_type,
            appeals::grounds,
            appeals::status,
            appeals::received_at,
            appeals::due_at,
            appeals::decided_at,
            appeals::extension_reason,
            appeals::id,
        ))
        .load(conn)?;
    let ids: Vec<&str> = rows.iter().map(|r| r.7.as_str()).collect();
    let outcomes: BTreeMap<String, String> = reviews::table
        .filter(reviews::appeal_id.eq_any(&ids))
        .filter(reviews::status.eq_any(status::EFFECTIVE))
        .select((reviews::appeal_id, reviews::outcome))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    Ok(rows
        .into_iter()
        .map(
            |(decision_type, grounds, status, received_at, due_at, decided_at, extension, id)| AppealFacts {
                decision_type,
                grounds: serde_json::from_str(&grounds).unwrap_or_default(),
                status,
                received_at,
                due_at,
                decided_at,
                extended: extension.is_some(),
                outcome: outcomes.get(&id).cloned(),
            },
        )
        .collect())
}
