use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::repo::{self, EngineRow};
use crate::audit;
use crate::db::{self, Db, DbError};
use crate::domain::validation::Checker;
use crate::domain::{Actor, FieldError};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEngine {
    #[schema(value_type = crate::domain::fields::Ident<64>)]
    pub id: String,
    #[schema(value_type = crate::domain::fields::Text<200>)]
    pub name: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Engine {
    pub id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

impl From<EngineRow> for Engine {
    fn from(r: EngineRow) -> Self {
        Self {
            id: r.id,
            name: r.name,
            created_at: r.created_at.and_utc(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("invalid engine")]
    Invalid(Vec<FieldError>),
    #[error("engine {0:?} is already registered")]
    AlreadyRegistered(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl NewEngine {
    fn validate(self) -> Result<Self, Vec<FieldError>> {
        let mut c = Checker::default();
        c.check::<crate::domain::fields::Ident<64>>("/id", &self.id);
        c.check::<crate::domain::fields::Text<200>>("/name", &self.name);
        c.finish(self)
    }
}

#[tracing::instrument(skip_all, fields(engine_id = %new.id))]
pub async fn register(db: &Db, actor: Actor, new: NewEngine) -> Result<Engine, EngineError> {
    let new = new.validate().map_err(EngineError::Invalid)?;
    let id = new.id.clone();
    let registered = db
        .write(move |conn| {
            let row = EngineRow {
                id: new.id.clone(),
                name: new.name.clone(),
                created_at: db::now(),
                created_by: actor.id.clone(),
            };
            repo::insert(conn, &row)?;
            audit::record(conn, &actor, "engine.registered", "engine", &row.id, json!({}))?;
            Ok(Engine::from(row))
        })
        .await;
    match registered {
        Err(EngineError::Db(e)) if e.is_unique_violation() => Err(EngineError::AlreadyRegistered(id)),
        other => other,
    }
}

pub async fn list(db: &Db) -> Result<Vec<Engine>, EngineError> {
    db.run(|conn| Ok(repo::list(conn)?.into_iter().map(Engine::from).collect()))
        .await
}
