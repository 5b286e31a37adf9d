//! Storage: one diesel connection type over PostgreSQL and SQLite, a pool, migrations,
//! and the rule that blocking database work never runs on an async worker thread.

mod connection;
pub mod maintenance;
mod pool;
pub mod schema;

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::prelude::*;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub use connection::{Backend, DbConnection, MultiBackend};
pub use pool::{DatabaseUrl, DbPool};

const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// Rows per multi-row INSERT on Postgres, well inside its 65,535 bind-parameter limit.
pub const INSERT_CHUNK: usize = 1_000;

/// Arbitrary constant naming the Postgres advisory lock that serialises migrations,
/// so that several instances starting at once do not race.
const MIGRATION_LOCK_KEY: i64 = 0x7265_636f_7572_7365; // "recourse"

/// The current UTC time at the precision both backends store (microseconds), so that a value
/// returned at write time equals the value read back later.
pub fn now() -> chrono::NaiveDateTime {
    use chrono::{DurationRound, TimeDelta};
    let now = chrono::Utc::now().naive_utc();
    now.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(now)
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("the database is unavailable")]
    Unavailable(#[source] r2d2::Error),
    /// Says what diesel says, but not `transparent`: the diesel error stays the `source()` of
    /// this one, so error types that wrap a `DbError` transparently still lead to it
    /// ([`Db::write`]'s retry reads it). `cause_chain` prints the repeated text once.
    #[error("{0}")]
    Query(#[from] diesel::result::Error),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("every database connection stayed busy for the whole pool timeout")]
    Busy,
    #[error("blocking database task failed")]
    Join(#[from] tokio::task::JoinError),
}

/// A query failed because its connection is gone: the server stopped or restarted, or the
/// network dropped. Nothing about the request was wrong, so the client gets 503 and may retry.
/// How many times [`Db::write`] runs a transaction that keeps meeting serialisation failures.
pub const WRITE_ATTEMPTS: u32 = 4;

/// True if `e`, or any error in its cause chain, is a serialisation failure (SQLSTATE 40001):
/// the transaction lost a race with a concurrent one and can simply be run again.
fn is_serialization_failure(e: &(dyn std::error::Error + 'static)) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    let lost_race = |q: &Error| matches!(q, Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _));
    let mut next = Some(e);
    while let Some(err) = next {
        let query = err
            .downcast_ref::<DbError>()
            .and_then(|d| match d {
                DbError::Query(q) => Some(q),
                _ => None,
            })
            .or_else(|| err.downcast_ref::<Error>());
        if query.is_some_and(lost_race) {
            return true;
        }
        next = err.source();
    }
    false
}

pub fn is_connection_lost(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    matches!(
        e,
        Error::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _
        )
    )
}

impl DbError {
    /// The database cannot be reached (or every connection is busy): retrying later may work.
    pub fn is_unavailable(&self) -> bool {
        match self {
            DbError::Unavailable(_) | DbError::Busy => true,
            DbError::Query(e) => is_connection_lost(e),
            DbError::Migration(_) | DbError::Join(_) => false,
        }
    }

    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            DbError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }
}

/// The pool plus the knowledge of which backend it talks to. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: DbPool,
    /// One permit per pooled connection: at most that many blocking threads do database work
    /// at once, and the rest wait here, on the async side, instead of each parking an OS thread.
    permits: std::sync::Arc<tokio::sync::Semaphore>,
    /// SQLite admits one writer at a time. Writers of this process queue here, woken in turn,
    /// instead of polling the file lock under `busy_timeout` (which sleeps and inflates tail
    /// latency). Other processes sharing the file still meet at the file lock.
    sqlite_writer: Option<std::sync::Arc<tokio::sync::Mutex<()>>>,
    timeout: Duration,
    size: u32,
    health: std::sync::Arc<pool::Health>,
}

/// While the database cannot be reached, a request waits this long for a connection (at most the
/// pool timeout) before it gets 503, so that an outage answers quickly instead of holding every
/// request for the whole pool timeout.
const UNREACHABLE_WAIT: Duration = Duration::from_millis(500);

impl Db {
    pub fn connect(url: &DatabaseUrl, pool_size: u32, timeout: Duration) -> Result<Self, DbError> {
        let health = std::sync::Arc::new(pool::Health::default());
        let pool = pool::build(url, pool_size, timeout, health.clone()).map_err(DbError::Unavailable)?;
        Ok(Self {
            pool,
            permits: std::sync::Arc::new(tokio::sync::Semaphore::new(pool_size.max(1) as usize)),
            sqlite_writer: (url.backend() == Backend::Sqlite).then(|| std::sync::Arc::new(tokio::sync::Mutex::new(()))),
            timeout,
            size: pool_size.max(1),
            health,
        })
    }

    /// Waits until no database work of this process is in flight, then refuses new work; for
    /// shutdown. A request future dropped mid-way leaves its blocking task to run to the end (to
    /// commit or roll back); this waits for such tasks too. False if `within` ran out first.
    pub async fn drain(&self, within: Duration) -> bool {
        let drained = tokio::time::timeout(within, self.permits.acquire_many(self.size))
            .await
            .is_ok_and(|permits| permits.is_ok());
        self.permits.close();
        drained
    }

    /// Runs `f` with a pooled connection on tokio's blocking thread pool.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let permit = tokio::time::timeout(self.timeout, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| E::from(DbError::Busy))?
            .map_err(|_| E::from(DbError::Busy))?;
        let pool = self.pool.clone();
        let wait = if self.health.unreachable() {
            self.timeout.min(UNREACHABLE_WAIT)
        } else {
            self.timeout
        };
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let mut conn = pool.get_timeout(wait).map_err(|e| E::from(DbError::Unavailable(e)))?;
            f(&mut conn)
        })
        .await
        .map_err(|e| E::from(DbError::Join(e)))?
    }

    /// The one way to change data. `f` runs inside one write transaction (see [`write_tx`]):
    /// everything it does commits together or not at all. On SQLite this process's writers take
    /// turns first, woken in order, instead of polling the file lock. A serialisation failure
    /// (SQLSTATE 40001, PostgreSQL) rolls the transaction back and runs `f` again, up to
    /// [`WRITE_ATTEMPTS`] times, so every use case meets a concurrent writer the same way.
    pub async fn write<T, E, F>(&self, mut f: F) -> Result<T, E>
    where
        F: FnMut(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + std::error::Error + Send + 'static,
    {
        let turn = self.writer_turn::<E>().await?;
        self.run(move |conn| {
            let _turn = turn;
            let mut attempt = 1;
            loop {
                match write_tx(conn, &mut f) {
                    Err(e) if attempt < WRITE_ATTEMPTS && is_serialization_failure(&e) => {
                        tracing::debug!(attempt, "serialisation failure; running the transaction again");
                        std::thread::sleep(Duration::from_millis(5 << attempt));
                        attempt += 1;
                    }
                    done => return done,
                }
            }
        })
        .await
    }

    /// For maintenance that cannot run inside a transaction (`VACUUM`, a WAL checkpoint): the
    /// writer's turn, no transaction. Data changes go through [`Db::write`]; the architecture
    /// test allows `maintain` only here and in the CLI's maintenance commands.
    pub async fn maintain<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let turn = self.writer_turn::<E>().await?;
        self.run(move |conn| {
            let _turn = turn;
            f(conn)
        })
        .await
    }

    /// SQLite: moves every page out of the WAL and truncates it, so no old version of a row that
    /// was just overwritten or deleted (an erasure) survives there (`secure_delete` zeroes what
    /// the updates and deletes freed). Cannot run inside a transaction. Nothing on PostgreSQL.
    pub async fn checkpoint_wal(&self) -> Result<(), DbError> {
        if self.sqlite_writer.is_none() {
            return Ok(());
        }
        use diesel::connection::SimpleConnection;
        self.maintain(|conn| {
            conn.batch_execute("PRAGMA wal_checkpoint(TRUNCATE);")
                .map_err(DbError::from)
        })
        .await
    }

    /// On SQLite, waits for this process's writer turn (one writer at a time); nothing on PostgreSQL.
    async fn writer_turn<E: From<DbError>>(&self) -> Result<Option<tokio::sync::OwnedMutexGuard<()>>, E> {
        match &self.sqlite_writer {
            Some(writer) => tokio::time::timeout(self.timeout, writer.clone().lock_owned())
                .await
                .map(Some)
                .map_err(|_| E::from(DbError::Busy)),
            None => Ok(None),
        }
    }

    /// Synchronous access for the CLI and start-up, where no async runtime is serving requests.
    pub fn get(&self) -> Result<r2d2::PooledConnection<pool::Manager>, DbError> {
        self.pool.get().map_err(DbError::Unavailable)
    }

    /// Applies pending migrations for this backend. Returns the versions applied.
    pub fn migrate(&self) -> Result<Vec<String>, DbError> {
        let mut conn = self.get()?;
        run_migrations(&mut conn)
    }
}

/// The cheapest round trip to the database, for readiness checks: it proves the server answers
/// on a pooled connection and touches no table.
pub fn ping(conn: &mut DbConnection) -> Result<(), DbError> {
    use diesel::connection::SimpleConnection;
    Ok(conn.batch_execute("SELECT 1")?)
}

fn run_migrations(conn: &mut DbConnection) -> Result<Vec<String>, DbError> {
    let describe = |r: Result<Vec<diesel::migration::MigrationVersion<'_>>, _>| {
        r.map(|v| v.iter().map(ToString::to_string).collect::<Vec<_>>())
            .map_err(|e: Box<dyn std::error::Error + Send + Sync>| DbError::Migration(e.to_string()))
    };
    if matches!(conn, DbConnection::Pg(_)) && pg_up_to_date(conn) {
        return Ok(Vec::new());
    }
    match conn {
        DbConnection::Pg(_) => {
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})")).execute(conn)?;
            let applied = describe(conn.run_pending_migrations(PG_MIGRATIONS));
            diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})")).execute(conn)?;
            applied
        }
        DbConnection::Sqlite(_) => describe(conn.run_pending_migrations(SQLITE_MIGRATIONS)),
    }
}

/// Whether every embedded Postgres migration is already recorded. Checked with a plain read
/// first because the migration harness starts with `CREATE TABLE IF NOT EXISTS
/// __diesel_schema_migrations`, which needs CREATE on the schema: without this, a runtime role
/// that owns nothing (docs/SECURITY.md, "Database roles") could not start the service even
/// when the owner has already migrated. Any doubt (no table yet, a read error) says no.
fn pg_up_to_date(conn: &mut DbConnection) -> bool {
    use diesel::migration::MigrationSource;
    #[derive(QueryableByName)]
    struct Applied {
        #[diesel(sql_type = diesel::sql_types::Text)]
        version: String,
    }
    let Ok(applied) = diesel::sql_query("SELECT version FROM __diesel_schema_migrations").load::<Applied>(conn) else {
        return false;
    };
    let applied: std::collections::HashSet<String> = applied.into_iter().map(|a| a.version).collect();
    let Ok(embedded) = MigrationSource::<diesel::pg::Pg>::migrations(&PG_MIGRATIONS) else {
        return false;
    };
    embedded
        .iter()
        .all(|m| applied.contains(&m.name().version().to_string()))
}

/// Runs `f` in a write transaction. On SQLite the transaction starts with `BEGIN IMMEDIATE`,
/// so it takes the write lock up front (waiting under `busy_timeout`) instead of failing with
/// `SQLITE_BUSY` when a read would later have to be upgraded to a write.
fn write_tx<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<DbError>,
{
    let begun = match conn {
        DbConnection::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE"),
        DbConnection::Pg(_) => <DbConnection as Connection>::TransactionManager::begin_transaction(conn),
    };
    begun.map_err(|e| E::from(DbError::Query(e)))?;
    match f(conn) {
        Ok(value) => {
            <DbConnection as Connection>::TransactionManager::commit_transaction(conn)
                .map_err(|e| E::from(DbError::Query(e)))?;
            Ok(value)
        }
        Err(err) => {
            if let Err(rollback) = <DbConnection as Connection>::TransactionManager::rollback_transaction(conn) {
                tracing::error!(error = %rollback, "rollback failed");
            }
            Err(err)
        }
    }
}

#[cfg(test)]
mod tests {
    use diesel::result::{DatabaseErrorKind, Error};

    use super::*;

    /// An error of a use case that wraps `DbError` the way every capability's error enum does.
    #[derive(Debug, thiserror::Error)]
    enum UseCaseError {
        #[error(transparent)]
        Db(#[from] DbError),
    }

    fn lost_race() -> Error {
        Error::DatabaseError(
            DatabaseErrorKind::SerializationFailure,
            Box::new(String::from("could not serialize access due to concurrent update")),
        )
    }

    #[test]
    fn a_serialisation_failure_is_recognised_through_the_wrappers() {
        assert!(is_serialization_failure(&UseCaseError::from(
            DbError::from(lost_race())
        )));
        assert!(is_serialization_failure(&DbError::from(lost_race())));
        let unique = Error::DatabaseError(DatabaseErrorKind::UniqueViolation, Box::new(String::from("dup")));
        assert!(!is_serialization_failure(&UseCaseError::from(DbError::from(unique))));
        assert!(!is_serialization_failure(&UseCaseError::from(DbError::Busy)));
    }

    #[test]
    fn a_query_error_says_what_diesel_says_once() {
        let e = UseCaseError::from(DbError::from(lost_race()));
        assert_eq!(e.to_string(), "could not serialize access due to concurrent update");
        assert_eq!(
            crate::error::cause_chain(&e),
            "could not serialize access due to concurrent update"
        );
    }

    fn sqlite_db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let url = DatabaseUrl::parse(&format!("sqlite://{}", dir.path().join("t.db").display())).unwrap();
        let db = Db::connect(&url, 2, Duration::from_secs(5)).unwrap();
        db.migrate().unwrap();
        (dir, db)
    }

    #[tokio::test]
    async fn a_write_that_lost_a_race_runs_again_and_one_that_keeps_losing_gives_up() {
        let (_dir, db) = sqlite_db();
        let tries = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        let counted = tries.clone();
        let done: Result<u32, UseCaseError> = db
            .write(move |_conn| {
                let n = counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                if n < 3 {
                    Err(DbError::from(lost_race()).into())
                } else {
                    Ok(n)
                }
            })
            .await;
        assert_eq!(done.unwrap(), 3);

        let tries_again = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        let counted = tries_again.clone();
        let failed: Result<(), UseCaseError> = db
            .write(move |_conn| {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                Err(DbError::from(lost_race()).into())
            })
            .await;
        assert!(failed.is_err());
        assert_eq!(tries_again.load(std::sync::atomic::Ordering::SeqCst), WRITE_ATTEMPTS);
        assert_eq!(tries.load(std::sync::atomic::Ordering::SeqCst), 3);
    }
}
