//! Storage maintenance after erasures. An erasure overwrites or deletes the subject's rows in one
//! transaction, but both engines keep the old bytes for a while:
//!
//! * **PostgreSQL** writes a new row version and leaves the old one in the table's pages until a
//!   vacuum reuses the space; a plain `VACUUM` marks the space free but does not overwrite it,
//!   and indexes and TOAST tables keep their own copies. `VACUUM FULL` rewrites every table and
//!   its indexes into new files and truncates the old ones, so afterwards the erased values are
//!   no longer in the database's data files. The write-ahead log, WAL archives and backups are
//!   outside its reach (see docs/SECURITY.md).
//! * **SQLite** runs with `secure_delete`, so freed space is zeroed, and an erasure checkpoints
//!   the WAL. `VACUUM` also rebuilds the file without free pages, and a final checkpoint
//!   truncates the WAL.
//!
//! `VACUUM FULL` takes an exclusive lock on each table while it rewrites it: run
//! `recourse maintenance compact` in a quiet hour, after erasures (nightly is typical).

use std::time::Instant;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde::Serialize;

use super::{DbConnection, DbError};

#[derive(Debug, Serialize)]
pub struct CompactReport {
    pub backend: &'static str,
    /// Tables rewritten (PostgreSQL) or the database file rebuilt (SQLite: `["*"]`).
    pub rewritten: Vec<String>,
    /// Whether a checkpoint flushed and recycled the log afterwards. On PostgreSQL this needs
    /// the `pg_checkpoint` role (or superuser); without it the server's own checkpoint follows.
    pub checkpointed: bool,
    pub seconds: f64,
}

#[derive(QueryableByName)]
struct Table {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

/// Rewrites the storage so that erased values leave the data files. Runs outside any
/// transaction (`VACUUM` cannot run inside one).
pub fn compact(conn: &mut DbConnection) -> Result<CompactReport, DbError> {
    let started = Instant::now();
    let (backend, rewritten, checkpointed) = match conn {
        DbConnection::Pg(_) => {
            let tables: Vec<Table> = diesel::sql_query(
                "SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'm')
                    AND pg_has_role(c.relowner, 'USAGE')
                  ORDER BY c.relname",
            )
            .load(conn)?;
            let mut rewritten = Vec::with_capacity(tables.len());
            for table in tables {
                let quoted = format!("\"{}\"", table.name.replace('"', "\"\""));
                conn.batch_execute(&format!("VACUUM (FULL, ANALYZE) {quoted}"))?;
                rewritten.push(table.name);
            }
            let checkpointed = match conn.batch_execute("CHECKPOINT") {
                Ok(()) => true,
                Err(e) => {
                    tracing::info!(error = %e, "no CHECKPOINT (needs pg_checkpoint); the server's next one follows");
                    false
                }
            };
            ("postgres", rewritten, checkpointed)
        }
        DbConnection::Sqlite(_) => {
            conn.batch_execute("PRAGMA wal_checkpoint(TRUNCATE); VACUUM; PRAGMA wal_checkpoint(TRUNCATE);")?;
            ("sqlite", vec!["*".to_owned()], true)
        }
    };
    Ok(CompactReport {
        backend,
        rewritten,
        checkpointed,
        seconds: started.elapsed().as_secs_f64(),
    })
}
