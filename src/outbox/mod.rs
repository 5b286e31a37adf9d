//! The transactional outbox: events for scoring engines are written in the same transaction as
//! the change they describe, and delivered later (webhooks, pull feed).

pub mod repo;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::db::{self, DbConnection, DbError};
use repo::NewOutboxRow;

/// A versioned event as engines receive it.
#[derive(Debug, Serialize)]
pub struct EventEnvelope<'a> {
    #[serde(rename = "type")]
    pub event_type: &'a str,
    pub id: &'a str,
    pub occurred_at: DateTime<Utc>,
    pub version: u32,
    pub data: &'a Value,
}

/// Every kind of event engines receive. A new kind must say, here, whose personal data it
/// carries: `tests/api/erasure_events.rs` produces every kind about one subject, erases them and
/// checks that nothing personal is left, so a kind added without a subject link fails there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    AppealFiled,
    AppealExtended,
    AppealWithdrawn,
    AppealDecided,
    DecisionOverridden,
    DecisionReviewRequired,
    DecisionRectificationRequested,
    DecisionRectified,
    SubjectRestricted,
    SubjectRestrictionLifted,
    SubjectObjected,
    SubjectObjectionOverridden,
    SubjectErased,
    ModelSuspended,
    ModelSuspensionLifted,
}

impl EventKind {
    pub const ALL: [EventKind; 15] = [
        EventKind::AppealFiled,
        EventKind::AppealExtended,
        EventKind::AppealWithdrawn,
        EventKind::AppealDecided,
        EventKind::DecisionOverridden,
        EventKind::DecisionReviewRequired,
        EventKind::DecisionRectificationRequested,
        EventKind::DecisionRectified,
        EventKind::SubjectRestricted,
        EventKind::SubjectRestrictionLifted,
        EventKind::SubjectObjected,
        EventKind::SubjectObjectionOverridden,
        EventKind::SubjectErased,
        EventKind::ModelSuspended,
        EventKind::ModelSuspensionLifted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::AppealFiled => "appeal.filed",
            EventKind::AppealExtended => "appeal.extended",
            EventKind::AppealWithdrawn => "appeal.withdrawn",
            EventKind::AppealDecided => "appeal.decided",
            EventKind::DecisionOverridden => "decision.overridden",
            EventKind::DecisionReviewRequired => "decision.review_required",
            EventKind::DecisionRectificationRequested => "decision.rectification_requested",
            EventKind::DecisionRectified => "decision.rectified",
            EventKind::SubjectRestricted => "subject.restricted",
            EventKind::SubjectRestrictionLifted => "subject.restriction_lifted",
            EventKind::SubjectObjected => "subject.objected",
            EventKind::SubjectObjectionOverridden => "subject.objection_overridden",
            EventKind::SubjectErased => "subject.erased",
            EventKind::ModelSuspended => "model.suspended",
            EventKind::ModelSuspensionLifted => "model.suspension_lifted",
        }
    }

    /// Whose data an event of this kind is about, as the kind requires it to be given.
    pub fn subject_link(self) -> SubjectLink {
        match self {
            EventKind::SubjectRestricted
            | EventKind::SubjectRestrictionLifted
            | EventKind::SubjectObjected
            | EventKind::SubjectObjectionOverridden
            | EventKind::DecisionRectificationRequested
            | EventKind::DecisionRectified => SubjectLink::Announcement,
            EventKind::SubjectErased => SubjectLink::Tombstone,
            EventKind::ModelSuspended | EventKind::ModelSuspensionLifted => SubjectLink::None,
            EventKind::AppealFiled
            | EventKind::AppealExtended
            | EventKind::AppealWithdrawn
            | EventKind::AppealDecided
            | EventKind::DecisionOverridden
            | EventKind::DecisionReviewRequired => SubjectLink::Processing,
        }
    }
}

/// How an event relates to a data subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectLink {
    /// Processing of the subject's data: held back while they are restricted (Art. 18).
    Processing,
    /// A rights announcement to the engines (Art. 19): delivered even while the subject is
    /// restricted, since it is what tells the engine of the restriction.
    Announcement,
    /// Sent after an erasure, under the tombstone; holds only the engine's own references.
    Tombstone,
    /// About a model, not a person.
    None,
}

/// Who an event is about. Every event that carries a person's data names them, so that erasure
/// finds it (`outbox.personal_data_of`).
#[derive(Debug, Clone, Copy)]
pub enum About<'a> {
    Subject(&'a str),
    Erased { tombstone: &'a str },
    Nobody,
}

/// The subject an event is not about, or about another way than its kind says.
#[derive(Debug, thiserror::Error)]
#[error("event {kind:?} must be queued with {expected:?}, not {given:?}")]
pub struct WrongSubjectLink {
    kind: EventKind,
    expected: SubjectLink,
    given: String,
}

/// Queues one event for `engine_id`. Call inside the transaction that makes the change. Returns
/// the event id. `about` must match the kind's [`SubjectLink`]: an event that carries a person's
/// data without naming them is refused, so erasure can always find it.
pub fn enqueue(
    conn: &mut DbConnection,
    kind: EventKind,
    engine_id: Option<&str>,
    about: About<'_>,
    data: Value,
) -> Result<String, DbError> {
    let link = kind.subject_link();
    let (subject_id, personal_data_of) = match (link, about) {
        (SubjectLink::Processing, About::Subject(s)) => (Some(s), Some(s)),
        (SubjectLink::Announcement, About::Subject(s)) => (None, Some(s)),
        (SubjectLink::Tombstone, About::Erased { tombstone }) => (Some(tombstone), Some(tombstone)),
        (SubjectLink::None, About::Nobody) => (None, None),
        (expected, given) => {
            let e = WrongSubjectLink {
                kind,
                expected,
                given: format!("{given:?}"),
            };
            return Err(DbError::Query(diesel::result::Error::SerializationError(Box::new(e))));
        }
    };
    let event_type = kind.as_str();
    let id = uuid::Uuid::now_v7().to_string();
    let created_at = db::now();
    let payload = serde_json::to_string(&EventEnvelope {
        event_type,
        id: &id,
        occurred_at: created_at.and_utc(),
        version: 1,
        data: &data,
    })
    .map_err(|e| DbError::Query(diesel::result::Error::SerializationError(Box::new(e))))?;
    repo::insert(
        conn,
        &NewOutboxRow {
            id: &id,
            event_type,
            engine_id,
            subject_id,
            personal_data_of,
            payload,
            created_at,
        },
    )?;
    if let Some(engine) = engine_id {
        repo::fan_out(conn, &id, engine, created_at)?;
    }
    Ok(id)
}
