//! Objection (GDPR Art. 21). A profiling objection stops new automated decisions about the
//! subject (engines get 409) and keeps them out of label exports, until a privacy officer records
//! compelling legitimate grounds. A direct-marketing objection is absolute (Art. 21(3)).

use serde::Deserialize;
use serde_json::json;

use super::model::{Objection, Scope};
use super::{announce, intake, repo};
use crate::appeals::AppealError;
use crate::db::{self, Db};
use crate::domain::subject::subject_ref;
use crate::domain::{Actor, Role};
use crate::notices::{self, templates};
use crate::outbox::EventKind;

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

/// Records an objection by the subject (or a DPO or agent for them). Objecting again to the same
/// scope puts it back in force.
#[tracing::instrument(skip_all)]
pub async fn object(
    db: &Db,
    actor: Actor,
    subject_id: String,
    input: ObjectionInput,
) -> Result<Vec<Objection>, AppealError> {
    intake::check_request(&actor, &subject_id, input.identity_method.as_deref(), |c| {
        intake::prose(c, "/grounds", &input.grounds)
    })?;
    db.write(move |conn| {
        repo::replace_objection(conn, &subject_id, input.scope.as_str(), &input.grounds, db::now())?;
        announce::to_engines(
            conn,
            EventKind::SubjectObjected,
            &subject_id,
            json!({"scope": input.scope}),
        )?;
        crate::audit::record(
            conn,
            &actor,
            "subject.objected",
            "subject",
            &subject_ref(&subject_id),
            json!({"scope": input.scope, "identity_checked_by_agent": actor.is(Role::Agent)}),
        )?;
        Ok(repo::objections_of(conn, &subject_id)?)
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
    intake::check_prose("/grounds", &input.grounds)?;
    if input.scope == Scope::DirectMarketing {
        return Err(AppealError::Forbidden(
            "an objection to direct marketing is absolute (GDPR Art. 21(3)); no grounds override it".into(),
        ));
    }
    db.write(move |conn| {
        let updated = repo::override_objection(
            conn,
            &subject_id,
            input.scope.as_str(),
            &input.grounds,
            &actor.id,
            db::now(),
        )?;
        if updated == 0 {
            return Err(AppealError::NotFound);
        }
        announce::to_engines(
            conn,
            EventKind::SubjectObjectionOverridden,
            &subject_id,
            json!({"scope": input.scope}),
        )?;
        // Art. 12(4) and 21(1): the person is told why processing goes on, and how to
        // challenge that.
        let notice = notices::notify_subject(
            conn,
            &actor,
            &subject_id,
            "objection_overridden",
            templates::objection_overridden(&input.grounds),
        )?;
        crate::audit::record(
            conn,
            &actor,
            "subject.objection_overridden",
            "subject",
            &subject_ref(&subject_id),
            json!({"scope": input.scope, "notice_id": notice.id}),
        )?;
        Ok(repo::objections_of(conn, &subject_id)?)
    })
    .await
}
