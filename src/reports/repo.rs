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
