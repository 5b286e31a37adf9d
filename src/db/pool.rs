//! A small r2d2 manager that picks the backend from the URL scheme itself, instead of letting
//! `MultiConnection::establish` try each backend in turn and hide the real connection error.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use secrecy::{ExposeSecret, SecretString};

use super::connection::{Backend, DbConnection};

pub type DbPool = r2d2::Pool<Manager>;

/// A parsed database URL. The Postgres form may carry a password, so it is kept secret and
/// only its redacted form is ever displayed.
#[derive(Clone)]
pub enum DatabaseUrl {
    Postgres(SecretString),
    Sqlite(PathBuf),
}

impl DatabaseUrl {
    /// Accepts `postgres://…`, `postgresql://…`, `sqlite://path`, `sqlite:path` or a bare file path.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(Self::Postgres(SecretString::from(raw.to_owned())));
        }
        let path = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
            .unwrap_or(raw);
        if path.is_empty() || path == ":memory:" || path.contains("mode=memory") {
            return Err(format!(
                "database URL {raw:?} is not usable: give a postgres:// URL or an SQLite file path (in-memory databases are not shared across the pool)"
            ));
        }
        if raw.contains("://") && !raw.starts_with("sqlite://") {
            return Err(format!(
                "database URL scheme not supported: use postgres://, postgresql:// or sqlite:// (got {})",
                raw.split("://").next().unwrap_or_default()
            ));
        }
        Ok(Self::Sqlite(PathBuf::from(path)))
    }

    pub fn backend(&self) -> Backend {
        match self {
            Self::Postgres(_) => Backend::Postgres,
            Self::Sqlite(_) => Backend::Sqlite,
        }
    }

    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            Self::Sqlite(p) => Some(p),
            Self::Postgres(_) => None,
        }
    }
}

impl fmt::Display for DatabaseUrl {
    /// Shows the scheme, host and database, never the credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(p) => write!(f, "sqlite://{}", p.display()),
            Self::Postgres(url) => {
                let url = url.expose_secret();
                let after_scheme = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
                let host_and_db = after_scheme.rsplit_once('@').map(|(_, r)| r).unwrap_or(after_scheme);
                let host_and_db = host_and_db.split('?').next().unwrap_or_default();
                write!(f, "postgres://***@{host_and_db}")
            }
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

pub struct Manager {
    url: DatabaseUrl,
    health: Arc<Health>,
}

/// What the pool has learnt about the database server by trying to reach it.
#[derive(Debug, Default)]
pub struct Health {
    /// Set when establishing a connection fails, cleared by the next one that succeeds. While it
    /// is set, requests give up on the pool quickly instead of waiting out the whole timeout.
    unreachable: AtomicBool,
}

impl Health {
    pub fn unreachable(&self) -> bool {
        self.unreachable.load(Ordering::Relaxed)
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConnection, Self::Error> {
        let result = self.establish();
        if let Err(e) = &result {
            if !self.health.unreachable.swap(true, Ordering::Relaxed) {
                tracing::warn!(error = %e, "cannot connect to the database; answering 503 until it is back");
            }
        } else if self.health.unreachable.swap(false, Ordering::Relaxed) {
            tracing::info!("connected to the database again");
        }
        result
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), Self::Error> {
        conn.batch_execute("SELECT 1").map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        use diesel::connection::TransactionManager;
        // diesel marks a Postgres connection whose socket is gone (libpq transaction status
        // "unknown") as broken here, so r2d2 discards it rather than handing it out again.
        <DbConnection as Connection>::TransactionManager::is_broken_transaction_manager(conn)
    }
}

impl Manager {
    fn establish(&self) -> Result<DbConnection, diesel::r2d2::Error> {
        match &self.url {
            DatabaseUrl::Postgres(url) => diesel::PgConnection::establish(url.expose_secret())
                .map(DbConnection::Pg)
                .map_err(diesel::r2d2::Error::ConnectionError),
            DatabaseUrl::Sqlite(path) => {
                let path = path.to_str().ok_or_else(|| {
                    diesel::r2d2::Error::ConnectionError(diesel::ConnectionError::InvalidConnectionUrl(
                        "SQLite path is not valid UTF-8".into(),
                    ))
                })?;
                let mut conn =
                    diesel::SqliteConnection::establish(path).map_err(diesel::r2d2::Error::ConnectionError)?;
                // busy_timeout must come before journal_mode=WAL, or parallel pool fills
                // report "database is locked" while the first connection switches the mode.
                conn.batch_execute(
                    "PRAGMA busy_timeout = 10000;
                     PRAGMA journal_mode = WAL;
                     PRAGMA synchronous = NORMAL;
                     PRAGMA foreign_keys = ON;
                     PRAGMA secure_delete = ON;",
                )
                .map_err(diesel::r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }
}

/// Creates a new SQLite file readable by its owner only (it holds personal data; SQLite gives
/// its -wal and -shm files the same mode).
pub fn prepare_sqlite_file(path: &Path) -> std::io::Result<()> {
    if !path.exists() {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        options.open(path)?;
    }
    Ok(())
}

pub(super) fn build(
    url: &DatabaseUrl,
    size: u32,
    timeout: Duration,
    health: Arc<Health>,
) -> Result<DbPool, r2d2::Error> {
    let manager = Manager {
        url: url.clone(),
        health,
    };
    if let DatabaseUrl::Sqlite(path) = url {
        if let Err(e) = prepare_sqlite_file(path) {
            tracing::warn!(error = %e, path = %path.display(), "cannot pre-create the SQLite file");
        }
        // One connection first switches the file to WAL, so that the pool's parallel fill does
        // not race on the journal-mode change ("database is locked").
        if let Err(e) = r2d2::ManageConnection::connect(&manager) {
            tracing::warn!(error = %e, "first SQLite connection failed");
        }
    }
    r2d2::Pool::builder()
        .max_size(size.max(1))
        .connection_timeout(timeout)
        .test_on_check_out(false)
        .build(manager)
}
