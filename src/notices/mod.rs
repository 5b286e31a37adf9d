//! Notices to the subject: acknowledgement, extension and outcome of an appeal, and the notices
//! that belong to no appeal (a refusal with its reasons, a restriction lift, a breach), rendered
//! from templates and stored, so the subject can read them in the portal and in their export,
//! and the audit can show they were sent.

pub mod model;
pub mod repo;
pub mod templates;

use chrono::NaiveDateTime;
use serde_json::json;

pub use model::Notice;

use crate::db::{self, DbConnection, DbError};
use crate::domain::Actor;
use crate::domain::subject::subject_ref;
use model::SubjectNotice;

/// Stores a notice about an appeal, in the caller's transaction.
pub fn insert(
    conn: &mut DbConnection,
    appeal_id: &str,
    subject_id: &str,
    kind: &str,
    body: String,
    at: NaiveDateTime,
) -> Result<Notice, DbError> {
    let row = model::NoticeRow {
        id: uuid::Uuid::now_v7().to_string(),
        appeal_id: appeal_id.to_owned(),
        subject_id: subject_id.to_owned(),
        kind: kind.to_owned(),
        body,
        created_at: at,
    };
    repo::insert(conn, &row)?;
    Ok(row.into())
}

/// An appeal's notices, oldest first.
pub fn for_appeal(conn: &mut DbConnection, appeal_id: &str) -> Result<Vec<Notice>, DbError> {
    Ok(repo::for_appeal(conn, appeal_id)?
        .into_iter()
        .map(Notice::from)
        .collect())
}

/// Stores a notice to a subject that belongs to no appeal (a restriction lift, a breach), in the
/// caller's transaction. The step that sends it records it in the audit log in its own entry.
pub fn send_to_subject(
    conn: &mut DbConnection,
    subject_id: &str,
    kind: &str,
    body: String,
) -> Result<SubjectNotice, DbError> {
    let notice = SubjectNotice {
        id: uuid::Uuid::now_v7().to_string(),
        subject_id: subject_id.to_owned(),
        kind: kind.to_owned(),
        body,
        created_at: db::now(),
    };
    repo::insert_subject_notice(conn, &notice)?;
    Ok(notice)
}

/// Tells the subject something that belongs to no appeal (a refusal with its reasons, a lift of a
/// restriction, a breach), and records in the audit log that they were told, in the caller's
/// transaction.
pub fn notify_subject(
    conn: &mut DbConnection,
    actor: &Actor,
    subject_id: &str,
    kind: &str,
    body: String,
) -> Result<SubjectNotice, DbError> {
    let notice = send_to_subject(conn, subject_id, kind, body)?;
    crate::audit::record(
        conn,
        actor,
        "subject.notified",
        "subject",
        &subject_ref(subject_id),
        json!({"kind": kind, "notice_id": notice.id}),
    )?;
    Ok(notice)
}
