//! Accountability for access to personal data (GDPR Art. 5(2), 32, 33): reads by anyone other
//! than the subject are audited like writes, and the log answers "whose data did this actor
//! touch in this window", which scopes a breach to the subjects who must be told (Art. 34).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use super::repo::{self, Event};
use crate::db::{Db, DbConnection, DbError};
use crate::domain::subject::{is_tombstone, subject_ref};
use crate::domain::{Actor, Role};

/// Whether reads by this role are recorded: a subject reading their own data is not an access by
/// anyone else, so it is not.
pub fn is_audited(role: Role) -> bool {
    role != Role::Subject
}

/// Records one `<object_type>.viewed` entry per object read. Call inside the transaction that
/// loaded the objects, after the access check passed.
pub fn record_reads(
    conn: &mut DbConnection,
    actor: &Actor,
    object_type: &str,
    ids: &[String],
    via: &str,
) -> Result<(), DbError> {
    if !is_audited(actor.role) || ids.is_empty() {
        return Ok(());
    }
    let action = format!("{object_type}.viewed");
    let events: Vec<Event<'_>> = ids
        .iter()
        .map(|id| Event {
            action: &action,
            object_type,
            object_id: id,
            details: json!({"via": via}),
        })
        .collect();
    repo::record_many(conn, actor, &events)
}

/// Runs a read by someone in `role`. When the read is audited it runs as a write transaction
/// ([`Db::write`]), so that the data and the entry recording its disclosure commit together or
/// not at all; otherwise as a plain read.
pub async fn read<T, E, F>(db: &Db, role: Role, f: F) -> Result<T, E>
where
    F: FnMut(&mut DbConnection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<DbError> + std::error::Error + Send + 'static,
{
    if is_audited(role) {
        db.write(f).await
    } else {
        db.run(f).await
    }
}

/// A request an authenticated caller was refused (403) or sent to a 404 on a known route.
pub struct Denial {
    pub method: String,
    pub status: u16,
    /// The route pattern, e.g. `/v1/appeals/{id}`.
    pub route: String,
    /// The path parameters as asked for.
    pub params: Vec<(String, String)>,
}

/// Records an `access.denied` entry for `denial` in its own transaction. Path ids are recorded
/// as asked for, except a subject id, which is personal data and is recorded under its
/// pseudonym like everywhere else in the log.
pub async fn record_denial(db: &Db, actor: Actor, denial: Denial) -> Result<(), DbError> {
    let params: serde_json::Map<String, serde_json::Value> = denial
        .params
        .into_iter()
        .map(|(name, value)| {
            let value = if name == "subject_id" {
                subject_ref(&value)
            } else {
                value
            };
            (name, serde_json::Value::String(value))
        })
        .collect();
    let details = json!({"method": denial.method, "status": denial.status, "params": params});
    let route = denial.route;
    db.write(move |conn| super::record(conn, &actor, "access.denied", "route", &route, details.clone()))
        .await
}

/// One subject whose data an actor accessed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SubjectAccess {
    pub subject_id: String,
    /// Audit entries touching this subject, by action (`decision.viewed`, `appeal.claimed`, …).
    pub actions: BTreeMap<String, u64>,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
}

/// The answer to "whose data did `actor` access between `from` and `to`".
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccessReport {
    pub actor: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Audit entries by the actor in the window, of any kind.
    pub entries: u64,
    pub subjects: Vec<SubjectAccess>,
    /// Entries about objects that no longer name a subject (erased subjects, whose records now
    /// carry a tombstone) or that are not about one subject (engines, endpoints, sessions).
    pub unattributed_entries: u64,
}

/// Every subject whose decisions, appeals or rights requests `actor` touched in `[from, to)`,
/// from the audit log joined with the records as they are now. Erased subjects cannot be named
/// and are counted in `unattributed_entries`.
pub fn subjects_accessed(
    conn: &mut DbConnection,
    actor: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<AccessReport, DbError> {
    let entries = repo::by_actor(conn, actor, from.naive_utc(), to.naive_utc())?;
    let ids_of = |kind: &str| -> Vec<String> {
        let ids: BTreeSet<&str> = entries
            .iter()
            .filter(|e| e.object_type == kind)
            .map(|e| e.object_id.as_str())
            .collect();
        ids.into_iter().map(str::to_owned).collect()
    };
    let decision_subjects: HashMap<String, String> = crate::decisions::repo::subjects_of(conn, &ids_of("decision"))?
        .into_iter()
        .collect();
    let appeal_subjects: HashMap<String, String> = crate::appeals::repo::appeals::subjects_of(conn, &ids_of("appeal"))?
        .into_iter()
        .collect();
    // Rights requests are audited under the subject's pseudonym; name them by hashing the
    // subjects still on record (a rare DPO query, linear in the number of subjects).
    let refs = ids_of("subject");
    let ref_subjects: HashMap<String, String> = if refs.is_empty() {
        HashMap::new()
    } else {
        let wanted: BTreeSet<&String> = refs.iter().collect();
        crate::decisions::repo::distinct_subjects(conn)?
            .into_iter()
            .map(|s| (subject_ref(&s), s))
            .filter(|(r, _)| wanted.contains(r))
            .collect()
    };

    let mut subjects: BTreeMap<String, SubjectAccess> = BTreeMap::new();
    let mut unattributed = 0;
    for entry in &entries {
        let subject = match entry.object_type.as_str() {
            "decision" => decision_subjects.get(&entry.object_id),
            "appeal" => appeal_subjects.get(&entry.object_id),
            "subject" => ref_subjects.get(&entry.object_id),
            _ => None,
        };
        let Some(subject) = subject.filter(|s| !is_tombstone(s)) else {
            unattributed += 1;
            continue;
        };
        let at = entry.at.and_utc();
        let access = subjects.entry(subject.clone()).or_insert_with(|| SubjectAccess {
            subject_id: subject.clone(),
            actions: BTreeMap::new(),
            first_at: at,
            last_at: at,
        });
        *access.actions.entry(entry.action.clone()).or_default() += 1;
        access.first_at = access.first_at.min(at);
        access.last_at = access.last_at.max(at);
    }
    Ok(AccessReport {
        actor: actor.to_owned(),
        from,
        to,
        entries: entries.len() as u64,
        subjects: subjects.into_values().collect(),
        unattributed_entries: unattributed,
    })
}
