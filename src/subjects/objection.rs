//! Objection (GDPR Art. 21). A profiling objection stops new automated decisions about the
//! subject (engines get 409) and keeps them out of label exports, until a privacy officer records
//! compelling legitimate grounds. A direct-marketing objection is absolute (Art. 21(3)).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::subject_ref;
use crate::appeals::AppealError;
use crate::audit::{self, repo::Event};
use crate::db::schema::subject_objections;
use crate::db::{self, Db, DbConnection, DbError, write_tx};
use crate::domain::validation::Checker;
use crate::domain::{Actor, Role};
use crate::notices::templates;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Profiling,
    DirectMarketing,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Profiling => "profiling",
            Scope::DirectMarketing => "direct_marketing",
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectionInput {
    pub scope: Scope,
    #[schema(value_type = crate::domain::fields::Prose<2000>)]
    pub grounds: String,
    /// Required when an agent objects for a caller: how the caller's identity was verified.
    #[serde(default)]
    #[schema(value_type = Option<crate::domain::fields::IdentityMethod>)]
    pub identity_method: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompellingGroundsInput {
    pub scope: Scope,
    #[schema(value_type = crate::domain::fields::Prose<2000>)]
    pub grounds: String,
}

#[derive(Debug, Clone, Serialize, Queryable, utoipa::ToSchema)]
pub struct Objection {
    #[serde(skip)]
    pub subject_id: String,
    pub scope: String,
    pub grounds: String,
    #[serde(serialize_with = "crate::domain::utc::as_utc")]
    pub created_at: NaiveDateTime,
    pub compelling_grounds: Option<String>,
    #[serde(skip)]
    pub overridden_by: Option<String>,
    #[serde(serialize_with = "crate::domain::utc::opt_utc")]
    pub overridden_at: Option<NaiveDateTime>,
}

impl Objection {
    /// Whether it still stops processing.
    pub fn in_force(&self) -> bool {
        self.compelling_grounds.is_none()
    }
}

pub fn of_subject(conn: &mut DbConnection, subject_id: &str) -> Result<Vec<Objection>, DbError> {
    Ok(subject_objections::table
        .filter(subject_objections::subject_id.eq(subject_id))
        .order(subject_objections::created_at.asc())
        .load(conn)?)
}

/// Subjects among `subjects` whose profiling objection is in force.
pub fn objecting_to_profiling(conn: &mut DbConnection, subjects: &[&str]) -> Result<Vec<String>, DbError> {
    Ok(subject_objections::table
        .filter(subject_objections::subject_id.eq_any(subjects))
        .filter(subject_objections::scope.eq(Scope::Profiling.as_str()))
        .filter(subject_objections::compelling_grounds.is_null())
        .select(subject_objections::subject_id)
        .load(conn)?)
}

fn check(grounds: &str) -> Result<(), AppealError> {
    let mut c = Checker::default();
    c.prose("/grounds", grounds, 2000);
    c.finish(()).map_err(AppealError::Invalid)
}

/// Records an objection by the subject (or a DPO or agent for them). Objecting again to the same
/// scope puts it back in force.
#[tracing::instrument(skip_all)]
pub async fn object(
    db: &Db,
    actor: Actor,
    subject_id: String,
    input: ObjectionInput,
) -> Result<Vec<Objection>, AppealError> {
    if actor.is(Role::Subject) && actor.id != subject_id {
        return Err(AppealError::NotFound);
    }
    let mut c = Checker::default();
    c.prose("/grounds", &input.grounds, 2000);
    super::check_identity_method(&mut c, &actor, input.identity_method.as_deref());
    c.finish(()).map_err(AppealError::Invalid)?;
    db.maintain(move |conn| {
        write_tx(conn, |conn| {
            let now = db::now();
            super::repo::replace_objection(conn, &subject_id, input.scope.as_str(), &input.grounds, now)?;
            super::announce_to_engines(
                conn,
                crate::outbox::EventKind::SubjectObjected,
                &subject_id,
                json!({"scope": input.scope}),
            )?;
            let reference = subject_ref(&subject_id);
            audit::repo::record(
                conn,
                &actor,
                Event {
                    action: "subject.objected",
                    object_type: "subject",
                    object_id: &reference,
                    details: json!({"scope": input.scope, "identity_checked_by_agent": actor.is(Role::Agent)}),
                },
            )?;
            Ok(of_subject(conn, &subject_id)?)
        })
    })
    .await
}

/// A privacy officer records compelling legitimate grounds that override a profiling objection.
#[tracing::instrument(skip_all)]
pub async fn override_with_compelling_grounds(
    db: &Db,
    actor: Actor,
    subject_id: String,
    input: CompellingGroundsInput,
) -> Result<Vec<Objection>, AppealError> {
    check(&input.grounds)?;
    if input.scope == Scope::DirectMarketing {
        return Err(AppealError::Forbidden(
            "an objection to direct marketing is absolute (GDPR Art. 21(3)); no grounds override it".into(),
        ));
    }
    db.maintain(move |conn| {
        write_tx(conn, |conn| {
            let now = db::now();
            let updated = super::repo::override_objection(
                conn,
                &subject_id,
                input.scope.as_str(),
                &input.grounds,
                &actor.id,
                now,
            )?;
            if updated == 0 {
                return Err(AppealError::NotFound);
            }
            super::announce_to_engines(
                conn,
                crate::outbox::EventKind::SubjectObjectionOverridden,
                &subject_id,
                json!({"scope": input.scope}),
            )?;
            // Art. 12(4) and 21(1): the person is told why processing goes on, and how to
            // challenge that.
            let notice = super::notify_subject(
                conn,
                &actor,
                &subject_id,
                "objection_overridden",
                templates::objection_overridden(&input.grounds),
            )?;
            let reference = subject_ref(&subject_id);
            audit::repo::record(
                conn,
                &actor,
                Event {
                    action: "subject.objection_overridden",
                    object_type: "subject",
                    object_id: &reference,
                    details: json!({"scope": input.scope, "notice_id": notice.id}),
                },
            )?;
            Ok(of_subject(conn, &subject_id)?)
        })
    })
    .await
}
