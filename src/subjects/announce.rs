//! Engines hear of every right exercised over data they hold (GDPR Art. 19).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::db::{DbConnection, DbError};
use crate::outbox::{self, About, EventKind};

/// Tells each engine holding the subject's decisions, with the engine's own references added to
/// `data`, in the caller's transaction. An announcement reaches the engine even while the subject
/// is restricted; it is still linked to the subject, so erasure finds it.
pub(crate) fn to_engines(
    conn: &mut DbConnection,
    event: EventKind,
    subject_id: &str,
    data: Value,
) -> Result<(), DbError> {
    let mut by_engine: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for d in crate::decisions::repo::all_for_subject(conn, subject_id)? {
        by_engine
            .entry(d.engine_id)
            .or_default()
            .push(json!({"decision_id": d.id, "external_id": d.external_id}));
    }
    for (engine, refs) in by_engine {
        let mut payload = data.clone();
        payload["decisions"] = json!(refs);
        outbox::enqueue(conn, event, Some(&engine), About::Subject(subject_id), payload)?;
    }
    Ok(())
}
