//! The audit log's queries: appending entries, and reading them back for the access report and
//! for verification. The checkpoints the sealer writes are in [`checkpoints`].

pub mod checkpoints;

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::prelude::*;
use serde_json::Value;

use crate::db::schema::audit_log;
use crate::db::{self, DbConnection, DbError, INSERT_CHUNK};
use crate::domain::Actor;
use crate::domain::audit_entry::{AuditEntry, entry_hash};
use crate::domain::subject::subject_ref;

#[derive(Insertable)]
#[diesel(table_name = audit_log, treat_none_as_null = true)]
struct NewAuditRow<'a> {
    at: chrono::NaiveDateTime,
    actor: &'a str,
    actor_role: &'a str,
    action: &'a str,
    object_type: &'a str,
    object_id: &'a str,
    request_id: Option<&'a str>,
    details: String,
    entry_hash: String,
}

impl<'a> NewAuditRow<'a> {
    fn new(entry: &AuditEntry<'a>) -> Self {
        Self {
            at: entry.at,
            actor: entry.actor,
            actor_role: entry.actor_role,
            action: entry.action,
            object_type: entry.object_type,
            object_id: entry.object_id,
            request_id: entry.request_id,
            details: entry.details.to_string(),
            entry_hash: entry_hash(entry),
        }
    }
}

/// What is being recorded: the action, the object and PII-free details.
pub struct Event<'a> {
    pub action: &'a str,
    pub object_type: &'a str,
    pub object_id: &'a str,
    pub details: Value,
}

/// Appends one entry. Call inside the transaction that makes the change.
pub fn record(conn: &mut DbConnection, actor: &Actor, event: Event<'_>) -> Result<(), DbError> {
    record_many(conn, actor, std::slice::from_ref(&event))
}

/// Appends one entry per event in a single statement.
pub fn record_many(conn: &mut DbConnection, actor: &Actor, events: &[Event<'_>]) -> Result<(), DbError> {
    if events.is_empty() {
        return Ok(());
    }
    let at = db::now();
    let role = actor.role.as_str();
    // A subject acting for themselves is recorded under a pseudonym: audit entries hold no
    // personal data, so erasing a subject never has to touch (and break) the log.
    let actor_id = if actor.is(crate::domain::Role::Subject) {
        subject_ref(&actor.id)
    } else {
        actor.id.clone()
    };
    let rows: Vec<NewAuditRow<'_>> = events
        .iter()
        .map(|e| {
            NewAuditRow::new(&AuditEntry {
                at,
                actor: &actor_id,
                actor_role: role,
                action: e.action,
                object_type: e.object_type,
                object_id: e.object_id,
                request_id: actor.request_id.as_deref(),
                details: &e.details,
            })
        })
        .collect();
    match conn {
        DbConnection::Pg(c) => {
            // Take a transaction id before the sequence hands out a `seq`, so that the sealer,
            // which waits for the transactions in flight when it looks, also waits for this one
            // (`seal::settled_horizon`).
            diesel::sql_query("SELECT pg_current_xact_id()").execute(c)?;
            for chunk in rows.chunks(INSERT_CHUNK) {
                diesel::insert_into(audit_log::table).values(chunk).execute(c)?;
            }
        }
        DbConnection::Sqlite(c) => {
            for row in &rows {
                diesel::insert_into(audit_log::table).values(row).execute(c)?;
            }
        }
    }
    Ok(())
}

/// The parts of an entry that say what was touched and when.
#[derive(Debug, Queryable)]
pub struct Touch {
    pub at: chrono::NaiveDateTime,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
}

/// Every entry by one actor in `[from, to)`, oldest first.
pub fn by_actor(
    conn: &mut DbConnection,
    actor: &str,
    from: chrono::NaiveDateTime,
    to: chrono::NaiveDateTime,
) -> Result<Vec<Touch>, DbError> {
    Ok(audit_log::table
        .filter(audit_log::actor.eq(actor))
        .filter(audit_log::at.ge(from))
        .filter(audit_log::at.lt(to))
        .order(audit_log::seq.asc())
        .select((
            audit_log::at,
            audit_log::action,
            audit_log::object_type,
            audit_log::object_id,
        ))
        .load(conn)?)
}

/// An entry as stored, with its hash and the checkpoint that sealed it (if any).
#[derive(Debug, Queryable)]
pub struct StoredEntry {
    pub seq: i64,
    pub at: chrono::NaiveDateTime,
    pub actor: String,
    pub actor_role: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub request_id: Option<String>,
    pub details: String,
    pub entry_hash: String,
    pub checkpoint_id: Option<i64>,
}

/// Up to `limit` entries after `seq`, in `seq` order: the log a page at a time.
pub fn page_after(conn: &mut DbConnection, seq: i64, limit: i64) -> Result<Vec<StoredEntry>, DbError> {
    Ok(audit_log::table
        .filter(audit_log::seq.gt(seq))
        .order(audit_log::seq.asc())
        .limit(limit)
        .select((
            audit_log::seq,
            audit_log::at,
            audit_log::actor,
            audit_log::actor_role,
            audit_log::action,
            audit_log::object_type,
            audit_log::object_id,
            audit_log::request_id,
            audit_log::details,
            audit_log::entry_hash,
            audit_log::checkpoint_id,
        ))
        .load(conn)?)
}

/// Runs `read` in one read-only snapshot, so that every read sees the same log: a sealer
/// committing a checkpoint halfway through would otherwise show entries claiming a checkpoint
/// not yet read. Read-only, so it is ended by a rollback either way.
pub fn in_snapshot<T>(
    conn: &mut DbConnection,
    read: impl FnOnce(&mut DbConnection) -> Result<T, DbError>,
) -> Result<T, DbError> {
    let begun = match conn {
        DbConnection::Pg(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        }
        DbConnection::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN DEFERRED"),
    };
    begun.map_err(DbError::Query)?;
    let result = read(conn);
    let ended = <DbConnection as Connection>::TransactionManager::rollback_transaction(conn);
    let value = result?;
    ended.map_err(DbError::Query)?;
    Ok(value)
}
