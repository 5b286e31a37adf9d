//! The kill switch. While a model is suspended, every new decision it makes is put in front of
//! a human: the decision is stored as `under_appeal` and a review task (an appeal filed by
//! `system:kill-switch`, ground `not_solely_automated_review`) waits in the `mandatory_review`
//! queue, where the ordinary claim flow serves it. Suspending and lifting are audited and
//! announced to every engine that uses the model.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::repo::{self, SuspensionRow};
use crate::audit;
use crate::db::{self, Db, DbConnection, DbError};
use crate::domain::validation::Checker;
use crate::domain::{Actor, FieldError};
use crate::outbox;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("invalid request")]
    Invalid(Vec<FieldError>),
    #[error("model {0:?} is already suspended")]
    AlreadySuspended(String),
    #[error("model {0:?} is not suspended")]
    NotSuspended(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuspendRequest {
    #[schema(value_type = crate::domain::fields::Text<2000>)]
    pub reason: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Suspension {
    pub model: String,
    pub suspended: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suspended_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suspended_at: Option<DateTime<Utc>>,
}

impl Suspension {
    fn of(model: String, row: Option<SuspensionRow>) -> Self {
        match row {
            Some(r) => Self {
                model,
                suspended: true,
                reason: Some(r.reason),
                suspended_by: Some(r.suspended_by),
                suspended_at: Some(r.suspended_at.and_utc()),
            },
            None => Self {
                model,
                suspended: false,
                reason: None,
                suspended_by: None,
                suspended_at: None,
            },
        }
    }
}

/// Audits a suspension change and tells every engine that uses the model. Runs in the caller's
/// write transaction.
fn announce(
    conn: &mut DbConnection,
    actor: &Actor,
    kind: outbox::EventKind,
    model: &str,
    data: serde_json::Value,
) -> Result<(), DbError> {
    audit::record(conn, actor, kind.as_str(), "model", model, data.clone())?;
    for engine in repo::engines_using(conn, model)? {
        outbox::enqueue(conn, kind, Some(&engine), outbox::About::Nobody, data.clone())?;
    }
    Ok(())
}

#[tracing::instrument(skip_all, fields(model = %model))]
pub async fn suspend(db: &Db, actor: Actor, model: String, req: SuspendRequest) -> Result<Suspension, ModelError> {
    let mut c = Checker::default();
    // The model name comes from the path: as long as a decision's `model.name` may be.
    c.check::<crate::domain::fields::ModelName>("/name", &model);
    c.check::<crate::domain::fields::Text<2000>>("/reason", &req.reason);
    let req = c.finish(req).map_err(ModelError::Invalid)?;
    db.write(move |conn| {
        if repo::find(conn, &model)?.is_some() {
            return Err(ModelError::AlreadySuspended(model.clone()));
        }
        let row = SuspensionRow {
            model_name: model.clone(),
            reason: req.reason.clone(),
            suspended_by: actor.id.clone(),
            suspended_at: db::now(),
        };
        repo::insert(conn, &row)?;
        announce(
            conn,
            &actor,
            outbox::EventKind::ModelSuspended,
            &model,
            json!({"model": model, "suspended_at": row.suspended_at.and_utc()}),
        )?;
        Ok(Suspension::of(model.clone(), Some(row)))
    })
    .await
}

#[tracing::instrument(skip_all, fields(model = %model))]
pub async fn lift(db: &Db, actor: Actor, model: String) -> Result<Suspension, ModelError> {
    db.write(move |conn| {
        if !repo::delete(conn, &model)? {
            return Err(ModelError::NotSuspended(model.clone()));
        }
        announce(
            conn,
            &actor,
            outbox::EventKind::ModelSuspensionLifted,
            &model,
            json!({"model": model, "lifted_at": db::now().and_utc()}),
        )?;
        Ok(Suspension::of(model.clone(), None))
    })
    .await
}

pub async fn get(db: &Db, model: String) -> Result<Suspension, ModelError> {
    db.run(move |conn| {
        let row = repo::find(conn, &model)?;
        Ok(Suspension::of(model, row))
    })
    .await
}
