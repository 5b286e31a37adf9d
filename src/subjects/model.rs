//! The rights' records as stored and as the subject reads them in their export: objections,
//! rectifications and legal holds.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::utc::{as_utc, opt_utc};

// What an objection is to (GDPR Art. 21(1) and 21(2)).
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

#[derive(Debug, Clone, Serialize, Queryable, utoipa::ToSchema)]
pub struct Objection {
    #[serde(skip)]
    pub subject_id: String,
    pub scope: String,
    pub grounds: String,
    #[serde(serialize_with = "as_utc")]
    pub created_at: NaiveDateTime,
    pub compelling_grounds: Option<String>,
    #[serde(skip)]
    pub overridden_by: Option<String>,
    #[serde(serialize_with = "opt_utc")]
    pub overridden_at: Option<NaiveDateTime>,
}

impl Objection {
    /// Whether it still stops processing.
    pub fn in_force(&self) -> bool {
        self.compelling_grounds.is_none()
    }
}

/// The status of a rectification nobody has resolved yet.
pub const PENDING: &str = "pending";

#[derive(Debug, Clone, Serialize, Queryable, utoipa::ToSchema)]
pub struct Rectification {
    pub id: String,
    #[serde(skip)]
    pub subject_id: String,
    pub decision_id: String,
    #[serde(serialize_with = "as_json")]
    pub corrected_inputs: String,
    pub note: String,
    pub status: String,
    /// Whether this rectification put the restriction in place.
    pub restricted: bool,
    #[serde(serialize_with = "as_utc")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "opt_utc")]
    pub resolved_at: Option<NaiveDateTime>,
    pub resolution_note: Option<String>,
}

fn as_json<S: serde::Serializer>(raw: &str, s: S) -> Result<S::Ok, S::Error> {
    serde_json::from_str::<Value>(raw).unwrap_or(Value::Null).serialize(s)
}

/// A decision kept, after an erasure request, only because the law requires it (Art. 17(3)(b)).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LegalHold {
    pub decision_id: String,
    pub reason: String,
    pub held_until: DateTime<Utc>,
}
