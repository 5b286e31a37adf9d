//! Builds the application: database, migrations, keys, the HTTP server bound to its port.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::{ErrorHandlers, from_fn};
use actix_web::{App, HttpServer, web};
use tracing_actix_web::TracingLogger;

use crate::api;
use crate::auth::jwt::KeyError;
use crate::auth::{JwtKeys, TokenMinter};
use crate::calendar::CalendarHandle;
use crate::config::Settings;
use crate::db::{DatabaseUrl, Db, DbError};
use crate::telemetry::RequestSpan;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("database: {0}")]
    Db(#[from] DbError),
    #[error("JWT configuration: {0}")]
    Keys(#[from] KeyError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("start-up task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
    #[error("rendering the OpenAPI document: {0}")]
    Contract(#[from] serde_json::Error),
    #[error("legal calendar")]
    Calendar(#[from] crate::calendar::CalendarError),
}

pub struct Application {
    port: u16,
    /// Background workers (sweeper, audit sealer, webhook deliveries), stopped after the server.
    workers: Vec<tokio::task::JoinHandle<()>>,
    stop_workers: tokio::sync::watch::Sender<bool>,
    server: Server,
    db: Db,
    minter: Option<TokenMinter>,
    calendar: CalendarHandle,
    shutdown_timeout: Duration,
}

/// Runs a background worker until it ends or `stop` turns true. The worker is dropped at its
/// next await point: database work it had started runs on to its commit or rollback on the
/// blocking pool (see [`Db::drain`]), and each worker's unit of work is one transaction, so
/// stopping between two awaits leaves nothing half-done.
fn spawn_worker(
    name: &'static str,
    mut stop: tokio::sync::watch::Receiver<bool>,
    work: impl std::future::Future<Output = ()> + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        tokio::select! {
            () = work => tracing::warn!(worker = name, "background worker ended by itself"),
            _ = stop.wait_for(|stop| *stop) => tracing::debug!(worker = name, "background worker stopped"),
        }
    })
}

/// Resolves with the name of the first SIGTERM or SIGINT. Both mean a graceful stop (actix's own
/// handling would stop abruptly on SIGINT, so it is turned off).
async fn shutdown_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
            (Ok(mut term), Ok(mut int)) => tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            },
            (Err(e), _) | (_, Err(e)) => {
                tracing::error!(error = %e, "cannot listen for shutdown signals");
                std::future::pending().await
            }
        }
    }
    #[cfg(not(unix))]
    {
        match tokio::signal::ctrl_c().await {
            Ok(()) => "Ctrl-C",
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for Ctrl-C");
                std::future::pending().await
            }
        }
    }
}

/// actix takes its shutdown timeout in whole seconds; round up so a short timeout is not zero.
fn whole_seconds(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// Connects to the database and applies pending migrations, off the async threads.
pub async fn connect_and_migrate(url: &DatabaseUrl, size: u32, timeout: Duration) -> Result<Db, StartupError> {
    let url = url.clone();
    let db = tokio::task::spawn_blocking(move || -> Result<Db, DbError> {
        let db = Db::connect(&url, size, timeout)?;
        let applied = db.migrate()?;
        if !applied.is_empty() {
            tracing::info!(migrations = ?applied, "applied database migrations");
        }
        Ok(db)
    })
    .await??;
    Ok(db)
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        // Before the database: a bad zone or holiday file should stop start-up at once.
        let calendar_settings = settings.calendar.clone();
        let calendar =
            CalendarHandle::new(tokio::task::spawn_blocking(move || crate::calendar::load(&calendar_settings)).await??);
        tracing::info!(
            zone = %settings.calendar.zone,
            holidays = calendar.current().holidays().len(),
            "legal calendar loaded"
        );
        let db = connect_and_migrate(&settings.database_url, settings.pool_size, settings.pool_timeout).await?;
        let keys = JwtKeys::load(&settings.jwt, &settings.database_url)?;
        if let Some(path) = &keys.generated_secret_at {
            tracing::info!(path = %path.display(), "generated a development JWT secret (mode 0600)");
        }
        let listener = TcpListener::bind(settings.bind).map_err(|source| StartupError::Bind {
            addr: settings.bind,
            source,
        })?;
        let port = listener.local_addr()?.port();
        let verifier = web::Data::new(keys.verifier);
        let db_data = web::Data::new(db.clone());
        let limits = settings.limits;
        let workflow = settings.workflow;
        let webhooks_data = web::Data::new(settings.webhooks.clone());
        let calendar_data = web::Data::new(calendar.clone());
        // Shared by every HTTP worker of this instance.
        let batch_permits = api::json::BodyPermits(std::sync::Arc::new(tokio::sync::Semaphore::new(
            limits.batch_concurrency.max(1),
        )));
        let ui_settings = settings.ui;
        let auth_throttle = web::Data::new(api::AuthThrottle::new(&limits));
        let contract = web::Data::new(api::openapi::Contract::render()?);
        let body_timeout = settings.server.request_body;
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(ErrorHandlers::new().default_handler(api::problem_for_bare_errors))
                .wrap(from_fn(api::refuse_nul_in_url))
                .wrap(from_fn(api::throttle_failed_auth))
                .wrap(from_fn(move |req, next| {
                    crate::body_timeout::limit(body_timeout, req, next)
                }))
                .wrap(from_fn(api::add_request_id_header))
                .wrap(from_fn(crate::connection_age::close_when_old))
                .wrap(TracingLogger::<RequestSpan>::new())
                .app_data(db_data.clone())
                .app_data(verifier.clone())
                .app_data(webhooks_data.clone())
                .app_data(auth_throttle.clone())
                .app_data(calendar_data.clone())
                .configure(|cfg| api::routes(cfg, limits, workflow, batch_permits.clone(), contract.clone()))
                .configure(|cfg| crate::ui::routes(cfg, ui_settings))
        })
        .client_request_timeout(settings.server.request_head)
        .keep_alive(settings.server.keep_alive)
        .client_disconnect_timeout(settings.server.client_disconnect)
        .shutdown_timeout(whole_seconds(settings.server.shutdown))
        .on_connect(crate::connection_age::watch(settings.server.max_connection_age))
        .disable_signals()
        .listen(listener)?;
        if let Some(workers) = settings.workers {
            server = server.workers(workers.max(1));
        }
        tracing::info!(
            address = %format!("http://{}:{port}", settings.bind.ip()),
            database = %settings.database_url,
            "recourse is listening"
        );
        let (stop_workers, stop) = tokio::sync::watch::channel(false);
        let workers = vec![
            spawn_worker(
                "sweeper",
                stop.clone(),
                crate::appeals::sweeper::run(db.clone(), workflow.sweep_interval, calendar.clone()),
            ),
            spawn_worker(
                "audit sealer",
                stop.clone(),
                crate::audit::seal::run(db.clone(), workflow.seal_interval),
            ),
            spawn_worker(
                "webhooks",
                stop.clone(),
                crate::webhooks::worker::run(db.clone(), settings.webhooks),
            ),
            spawn_worker(
                "legal calendar",
                stop,
                crate::calendar::watch(calendar.clone(), settings.calendar),
            ),
        ];
        Ok(Self {
            port,
            workers,
            stop_workers,
            server: server.run(),
            db,
            minter: keys.minter,
            calendar,
            shutdown_timeout: settings.server.shutdown,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn minter(&self) -> Option<&TokenMinter> {
        self.minter.as_ref()
    }

    /// The legal calendar in force, as the handlers see it.
    pub fn calendar(&self) -> &CalendarHandle {
        &self.calendar
    }

    /// Serves until SIGTERM or SIGINT, then stops gracefully: the listener closes at once (new
    /// connections are refused), in-flight requests finish within the shutdown timeout, the
    /// background workers stop, and database work already started commits or rolls back before
    /// this returns.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let signals = tokio::spawn(async move {
            let signal = shutdown_signal().await;
            tracing::info!(
                signal,
                "shutting down: no new connections; finishing in-flight requests"
            );
            handle.stop(true).await;
        });
        let result = self.server.await;
        let started = std::time::Instant::now();
        signals.abort();
        self.stop_workers.send_replace(true);
        for worker in self.workers {
            if let Err(e) = worker.await
                && e.is_panic()
            {
                tracing::error!(error = %e, "a background worker panicked");
            }
        }
        if !self.db.drain(self.shutdown_timeout).await {
            tracing::warn!("database work was still running when the shutdown timeout ran out");
        }
        tracing::info!(
            workers_and_db_ms = started.elapsed().as_millis() as u64,
            "recourse stopped"
        );
        result
    }
}
