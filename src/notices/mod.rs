//! Notices to the subject: acknowledgement, extension and outcome, rendered from templates and
//! stored, so the subject can read them in the portal and the audit can show they were sent.

pub mod templates;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::notices;
use crate::db::{DbConnection, DbError};

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = notices)]
pub struct NoticeRow {
    pub id: String,
    pub appeal_id: String,
    pub subject_id: String,
    pub kind: String,
    pub body: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Notice {
    pub id: String,
    pub kind: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

impl From<NoticeRow> for Notice {
    fn from(r: NoticeRow) -> Self {
        Self {
            id: r.id,
            kind: r.kind,
            body: r.body,
            created_at: r.created_at.and_utc(),
        }
    }
}

pub fn insert(
    conn: &mut DbConnection,
    appeal_id: &str,
    subject_id: &str,
    kind: &str,
    body: String,
    at: NaiveDateTime,
) -> Result<Notice, DbError> {
    let row = NoticeRow {
        id: uuid::Uuid::now_v7().to_string(),
        appeal_id: appeal_id.to_owned(),
        subject_id: subject_id.to_owned(),
        kind: kind.to_owned(),
        body,
        created_at: at,
    };
    diesel::insert_into(notices::table).values(&row).execute(conn)?;
    Ok(row.into())
}

pub fn for_appeal(conn: &mut DbConnection, appeal_id: &str) -> Result<Vec<Notice>, DbError> {
    Ok(notices::table
        .filter(notices::appeal_id.eq(appeal_id))
        .order((notices::created_at.asc(), notices::id.asc()))
        .load::<NoticeRow>(conn)?
        .into_iter()
        .map(Notice::from)
        .collect())
}
