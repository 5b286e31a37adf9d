//! Settings for every command, from flags and `RECOURSE_*` environment variables.
//! Secrets are wrapped so they never print, in logs or in `--help`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use secrecy::SecretString;

use crate::db::DatabaseUrl;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Pretty when stderr is a terminal, JSON otherwise.
    Auto,
    Pretty,
    Json,
}

/// Which JWT algorithm is accepted. Pinned here; the token's own `alg` header is never trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum JwtAlgorithm {
    #[value(name = "HS256")]
    Hs256,
    #[value(name = "RS256")]
    Rs256,
    #[value(name = "EdDSA")]
    EdDsa,
}

/// Options shared by every subcommand that touches the database.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// postgres://user:pass@host/db, sqlite://path or a plain SQLite file path.
    #[arg(
        long = "database-url",
        env = "DATABASE_URL",
        default_value = "recourse.db",
        hide_env_values = true
    )]
    pub url: String,
    /// Maximum pooled connections per instance.
    #[arg(long = "db-pool-size", env = "RECOURSE_DB_POOL_SIZE", default_value_t = 16)]
    pub pool_size: u32,
    /// How long a request waits for a pooled connection before it gets 503.
    #[arg(long = "db-pool-timeout", env = "RECOURSE_DB_POOL_TIMEOUT", default_value = "5s", value_parser = humantime::parse_duration)]
    pub pool_timeout: Duration,
}

/// Options for verifying (and, for `recourse token`, minting) bearer tokens.
#[derive(Debug, Clone, Args)]
pub struct JwtArgs {
    #[arg(
        long = "jwt-algorithm",
        env = "RECOURSE_JWT_ALGORITHM",
        value_enum,
        default_value = "HS256"
    )]
    pub algorithm: JwtAlgorithm,
    /// HS256 shared secret, at least 32 bytes. When unset on SQLite, a secret is generated on
    /// first run and stored beside the database file with mode 0600.
    #[arg(long = "jwt-secret", env = "RECOURSE_JWT_SECRET", hide_env_values = true)]
    pub secret: Option<SecretString>,
    /// File holding the HS256 secret.
    #[arg(long = "jwt-secret-file", env = "RECOURSE_JWT_SECRET_FILE")]
    pub secret_file: Option<PathBuf>,
    /// PEM public key for RS256 or EdDSA.
    #[arg(long = "jwt-public-key", env = "RECOURSE_JWT_PUBLIC_KEY")]
    pub public_key: Option<PathBuf>,
    /// PEM private key, used only to mint RS256 or EdDSA tokens (`recourse token`, `--demo`).
    #[arg(long = "jwt-private-key", env = "RECOURSE_JWT_PRIVATE_KEY")]
    pub private_key: Option<PathBuf>,
    #[arg(long = "jwt-issuer", env = "RECOURSE_JWT_ISSUER", default_value = "recourse")]
    pub issuer: String,
    #[arg(long = "jwt-audience", env = "RECOURSE_JWT_AUDIENCE", default_value = "recourse")]
    pub audience: String,
    /// Clock skew allowed on exp and nbf, in seconds (at most 60).
    #[arg(long = "jwt-leeway", env = "RECOURSE_JWT_LEEWAY", default_value_t = 30)]
    pub leeway_secs: u64,
}

/// Everything `recourse serve` needs. Tests build it directly; the CLI builds it from flags.
#[derive(Debug, Clone)]
pub struct Settings {
    pub bind: SocketAddr,
    pub database_url: DatabaseUrl,
    pub pool_size: u32,
    pub pool_timeout: Duration,
    pub jwt: JwtArgs,
    /// HTTP worker threads; defaults to the number of cores.
    pub workers: Option<usize>,
    pub limits: Limits,
    pub workflow: Workflow,
    pub webhooks: Webhooks,
    pub ui: UiSettings,
    /// Slow-client and shutdown timeouts of the HTTP server.
    pub server: ServerTimeouts,
    /// The controller's time zone and public holidays, in which legal periods are counted.
    pub calendar: CalendarSettings,
}

/// The legal calendar: the controller's time zone and its holiday file (GDPR Art. 12(3) periods
/// are counted in the controller's days, per Regulation 1182/71).
#[derive(Debug, Clone)]
pub struct CalendarSettings {
    pub zone: chrono_tz::Tz,
    /// One `YYYY-MM-DD` per line; `#` comments and blank lines allowed. None: no holidays
    /// (weekends still move a deadline).
    pub holidays_file: Option<PathBuf>,
    /// How often the holiday file's modification time is checked; a change reloads it.
    pub reload_interval: Duration,
}

impl Default for CalendarSettings {
    fn default() -> Self {
        Self {
            zone: chrono_tz::Tz::UTC,
            holidays_file: None,
            reload_interval: Duration::from_secs(60),
        }
    }
}

/// An IANA time zone name, e.g. `Europe/Berlin`.
pub fn parse_time_zone(s: &str) -> Result<chrono_tz::Tz, String> {
    s.parse::<chrono_tz::Tz>()
        .map_err(|_| format!("{s:?} is not a time zone of the IANA database; use a name such as Europe/Berlin or UTC"))
}

/// Flags for [`CalendarSettings`], flattened into `recourse serve`.
#[derive(Debug, Clone, Args)]
pub struct CalendarArgs {
    /// The controller's time zone (IANA name, e.g. Europe/Berlin): legal deadlines end at the
    /// end of a day in this zone, and dates are shown in it.
    #[arg(long = "legal-time-zone", env = "RECOURSE_LEGAL_TIME_ZONE", default_value = "UTC", value_parser = parse_time_zone)]
    pub zone: chrono_tz::Tz,
    /// File of public holidays, one YYYY-MM-DD per line (# comments allowed). A deadline that
    /// falls on one moves to the next working day. Reloaded when it changes and on SIGHUP.
    #[arg(long = "legal-holidays", env = "RECOURSE_LEGAL_HOLIDAYS")]
    pub holidays_file: Option<PathBuf>,
    /// How often the holiday file is checked for changes.
    #[arg(long = "legal-holidays-reload", env = "RECOURSE_LEGAL_HOLIDAYS_RELOAD", default_value = "60s", value_parser = humantime::parse_duration)]
    pub reload_interval: Duration,
}

impl CalendarArgs {
    pub fn settings(&self) -> CalendarSettings {
        CalendarSettings {
            zone: self.zone,
            holidays_file: self.holidays_file.clone(),
            reload_interval: self.reload_interval,
        }
    }
}

/// Webhook delivery: retries, timeouts and the SSRF allow-list.
#[derive(Debug, Clone)]
pub struct Webhooks {
    /// Addresses that may be targeted although they are internal (loopback, private, ...).
    /// Empty in production; tests allow 127.0.0.1.
    pub allow: Vec<ipnet::IpNet>,
    /// How often the worker looks for due deliveries.
    pub poll_interval: Duration,
    /// First retry delay; it doubles per attempt (with jitter) up to `max_backoff`.
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    /// How long after its first attempt a delivery keeps being retried before it is marked
    /// failed (and never before it has had `min_attempts` attempts). Time spent waiting in the
    /// queue, or behind an open circuit breaker, does not count.
    pub horizon: Duration,
    /// Attempts every delivery gets before the horizon may fail it.
    pub min_attempts: i32,
    pub timeout: Duration,
    /// How long a rotated-out secret keeps signing alongside the new one.
    pub secret_grace: Duration,
    /// Deliveries claimed per pass at most.
    pub batch: i64,
    /// Attempts in flight at once, per instance, over all endpoints.
    pub concurrency: usize,
    /// Attempts in flight at once, per instance, to one endpoint: a slow endpoint holds at
    /// most this many of `concurrency`, and the rest keep flowing to the others.
    pub per_endpoint: usize,
    /// Consecutive failed attempts (5xx, 429, timeouts, refused connections) after which an
    /// endpoint's circuit opens: its deliveries are postponed, not failed, for `breaker_cooldown`,
    /// then one probe is sent; success closes the circuit, failure opens it again.
    pub breaker_threshold: u32,
    pub breaker_cooldown: Duration,
}

impl Default for Webhooks {
    fn default() -> Self {
        Self {
            allow: Vec::new(),
            poll_interval: Duration::from_secs(1),
            base_backoff: Duration::from_secs(5),
            max_backoff: Duration::from_secs(60 * 60),
            horizon: Duration::from_secs(3 * 24 * 60 * 60),
            min_attempts: 5,
            timeout: Duration::from_secs(15),
            secret_grace: Duration::from_secs(24 * 60 * 60),
            batch: 100,
            concurrency: 64,
            per_endpoint: 8,
            breaker_threshold: 10,
            breaker_cooldown: Duration::from_secs(30),
        }
    }
}

/// Browser sessions of the web UI.
#[derive(Debug, Clone, Copy)]
pub struct UiSettings {
    /// Mark the session cookie `Secure` (and name it with the `__Host-` prefix). Turn on whenever
    /// browsers reach Recourse over HTTPS, including behind a TLS-terminating proxy.
    pub secure_cookies: bool,
    /// How long a browser session lasts at most; a session from a pasted token also ends when
    /// that token expires.
    pub session_ttl: Duration,
}

impl Default for UiSettings {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            session_ttl: Duration::from_secs(8 * 3600),
        }
    }
}

/// How long the HTTP server waits for clients, and for itself when it stops. Each bound keeps a
/// slow or silent client from holding a connection (and its memory) indefinitely.
#[derive(Debug, Clone, Copy)]
pub struct ServerTimeouts {
    /// Time from a connection's first byte to the end of the request line and headers. A client
    /// that dribbles its headers (slowloris) gets 408 and is disconnected.
    pub request_head: Duration,
    /// Time from the handler starting to the end of the request body. A client that dribbles
    /// its body (or goes silent half-way) gets 408 and is disconnected.
    pub request_body: Duration,
    /// How long an idle keep-alive connection stays open between requests.
    pub keep_alive: Duration,
    /// Time allowed to a client to acknowledge the connection's closing before it is dropped.
    pub client_disconnect: Duration,
    /// On SIGTERM/SIGINT: how long in-flight requests may take to finish before their
    /// connections are closed.
    pub shutdown: Duration,
    /// Longest life of a client connection; past it the connection is closed once the request
    /// in flight is answered. Bounds a client that keeps a connection alive and then dribbles
    /// the headers of a later request (actix times only a connection's first request head).
    pub max_connection_age: Duration,
}

impl Default for ServerTimeouts {
    fn default() -> Self {
        Self {
            request_head: Duration::from_secs(5),
            request_body: Duration::from_secs(60),
            keep_alive: Duration::from_secs(15),
            client_disconnect: Duration::from_secs(2),
            shutdown: Duration::from_secs(30),
            max_connection_age: Duration::from_secs(120),
        }
    }
}

/// Timings of the appeals workflow.
#[derive(Debug, Clone, Copy)]
pub struct Workflow {
    /// How long a claim holds an appeal before it returns to the queue, unless heartbeated.
    pub lease: Duration,
    /// How often the sweeper returns expired leases and escalates appeals near their deadline.
    pub sweep_interval: Duration,
    /// How often the sealer folds new audit entries into a checkpoint.
    pub seal_interval: Duration,
}

impl Default for Workflow {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(15 * 60),
            sweep_interval: Duration::from_secs(5),
            seal_interval: Duration::from_secs(1),
        }
    }
}

// ---- Request limits and failed-authentication throttling (docs/SECURITY.md) ----

/// Deepest nesting of JSON arrays and objects a body may have; see [`Limits::json_max_depth`].
pub const DEFAULT_JSON_MAX_DEPTH: usize = 32;

/// Request limits. Anything larger gets 413 before it is buffered; anything deeper gets 400
/// before it is parsed; too many failed authentications get 429.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub json_body_bytes: usize,
    pub batch_body_bytes: usize,
    pub batch_items: usize,
    /// Batch bodies buffered at once per instance; further batches wait their turn.
    pub batch_concurrency: usize,
    /// Nesting depth of JSON bodies. The deepest legitimate body (a decision's counterfactual
    /// changes) nests 4 levels; serde_json's own limit of 128 would be the only guard otherwise.
    pub json_max_depth: usize,
    /// Failed authentications (401 answers) one client address may cause per
    /// `auth_failure_window` before it is refused with 429. 0 turns the throttle off.
    pub auth_failures: u32,
    pub auth_failure_window: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            json_body_bytes: 64 * 1024,
            batch_body_bytes: 8 * 1024 * 1024,
            batch_items: 1_000,
            batch_concurrency: 2,
            json_max_depth: DEFAULT_JSON_MAX_DEPTH,
            auth_failures: 20,
            auth_failure_window: Duration::from_secs(60),
        }
    }
}

/// Flags for [`Limits`], flattened into `recourse serve`.
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Largest JSON body, in bytes, except batch ingestion.
    #[arg(long = "max-json-body", env = "RECOURSE_MAX_JSON_BODY", default_value_t = 64 * 1024)]
    pub json_body_bytes: usize,
    /// Largest body of POST /v1/decisions/batch, in bytes.
    #[arg(long = "max-batch-body", env = "RECOURSE_MAX_BATCH_BODY", default_value_t = 8 * 1024 * 1024)]
    pub batch_body_bytes: usize,
    /// Deepest nesting of arrays and objects in a JSON body.
    #[arg(long = "max-json-depth", env = "RECOURSE_MAX_JSON_DEPTH", default_value_t = DEFAULT_JSON_MAX_DEPTH)]
    pub json_max_depth: usize,
    /// Failed authentications per client address per window before 429 (0 = no throttle).
    #[arg(
        long = "auth-failure-limit",
        env = "RECOURSE_AUTH_FAILURE_LIMIT",
        default_value_t = 20
    )]
    pub auth_failures: u32,
    /// The window of --auth-failure-limit.
    #[arg(long = "auth-failure-window", env = "RECOURSE_AUTH_FAILURE_WINDOW", default_value = "1m", value_parser = humantime::parse_duration)]
    pub auth_failure_window: Duration,
}

impl LimitArgs {
    pub fn apply(&self, limits: &mut Limits) {
        limits.json_body_bytes = self.json_body_bytes;
        limits.batch_body_bytes = self.batch_body_bytes;
        limits.json_max_depth = self.json_max_depth.max(1);
        limits.auth_failures = self.auth_failures;
        limits.auth_failure_window = self.auth_failure_window.max(Duration::from_secs(1));
    }
}

// ---- end of request limits ----

impl Settings {
    /// Settings for an embedded SQLite database with defaults everywhere else.
    pub fn for_database(database_url: DatabaseUrl, jwt: JwtArgs) -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url,
            pool_size: 16,
            pool_timeout: Duration::from_secs(5),
            jwt,
            workers: None,
            limits: Limits::default(),
            workflow: Workflow::default(),
            webhooks: Webhooks::default(),
            ui: UiSettings::default(),
            server: ServerTimeouts::default(),
            calendar: CalendarSettings::default(),
        }
    }
}

impl DatabaseArgs {
    pub fn parse_url(&self) -> Result<DatabaseUrl, String> {
        DatabaseUrl::parse(&self.url)
    }
}
