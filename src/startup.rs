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
}

pub struct Application {
    port: u16,
    /// Background workers (sweeper, audit sealer), stopped with the server.
    workers: Vec<tokio::task::JoinHandle<()>>,
    server: Server,
    db: Db,
    minter: Option<TokenMinter>,
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
        // Shared by every HTTP worker of this instance.
        let batch_permits = api::json::BodyPermits(std::sync::Arc::new(tokio::sync::Semaphore::new(
            limits.batch_concurrency.max(1),
        )));
        let ui_settings = settings.ui;
        let auth_throttle = web::Data::new(api::AuthThrottle::new(&limits));
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(ErrorHandlers::new().default_handler(api::problem_for_bare_errors))
                .wrap(from_fn(api::throttle_failed_auth))
                .wrap(from_fn(api::add_request_id_header))
                .wrap(TracingLogger::<RequestSpan>::new())
                .app_data(db_data.clone())
                .app_data(verifier.clone())
                .app_data(webhooks_data.clone())
                .app_data(auth_throttle.clone())
                .configure(|cfg| api::routes(cfg, limits, workflow, batch_permits.clone()))
                .configure(|cfg| crate::ui::routes(cfg, ui_settings))
        })
        .listen(listener)?
        .shutdown_timeout(30);
        if let Some(workers) = settings.workers {
            server = server.workers(workers.max(1));
        }
        tracing::info!(
            address = %format!("http://{}:{port}", settings.bind.ip()),
            database = %settings.database_url,
            "recourse is listening"
        );
        let workers = vec![
            tokio::spawn(crate::queue::sweeper::run(db.clone(), workflow.sweep_interval)),
            tokio::spawn(crate::audit::seal::run(db.clone(), workflow.seal_interval)),
            tokio::spawn(crate::webhooks::worker::run(db.clone(), settings.webhooks)),
        ];
        Ok(Self {
            port,
            workers,
            server: server.run(),
            db,
            minter: keys.minter,
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

    /// Serves until SIGINT/SIGTERM, then finishes in-flight requests and returns.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        for worker in &self.workers {
            worker.abort();
        }
        result
    }
}
