use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::audit_checkpoints;
use crate::domain::utc::as_utc;

// A sealed run of audit entries: their Merkle root, chained to the checkpoint before it.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = audit_checkpoints)]
pub struct Checkpoint {
    pub id: i64,
    pub prev_hash: String,
    pub merkle_root: String,
    pub entry_count: i64,
    pub first_seq: i64,
    pub last_seq: i64,
    /// UTC. Stored without an offset; written with `Z` in JSON.
    #[serde(serialize_with = "as_utc")]
    pub sealed_at: NaiveDateTime,
    pub checkpoint_hash: String,
}
