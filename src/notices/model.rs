//! Notices as stored: those that belong to an appeal, and those sent to a subject outside any
//! appeal (a restriction lift, a refusal with its reasons, a breach).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::{notices, subject_notices};
use crate::domain::utc::as_utc;

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

// A notice about an appeal as the parties read it.
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

// A notice to a subject that belongs to no appeal; part of their export (Art. 15).
#[derive(Debug, Clone, Serialize, Queryable, Insertable, utoipa::ToSchema)]
#[diesel(table_name = subject_notices)]
pub struct SubjectNotice {
    pub id: String,
    #[serde(skip)]
    pub subject_id: String,
    pub kind: String,
    pub body: String,
    #[serde(serialize_with = "as_utc")]
    pub created_at: NaiveDateTime,
}
