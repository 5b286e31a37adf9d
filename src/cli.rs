//! The command line: `recourse [serve]`, `recourse migrate`, `recourse token`.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::auth::JwtKeys;
use crate::config::{DatabaseArgs, JwtArgs, LogFormat, Settings};
use crate::demo;
use crate::domain::Role;
use crate::sessions::service::login_link_url;
use crate::startup::{Application, connect_and_migrate};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, Parser)]
#[command(
    name = "recourse",
    version,
    about = "Contest automated decisions: appeals, human review and feedback to scoring engines",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// Log format on stderr.
    #[arg(long, env = "RECOURSE_LOG_FORMAT", value_enum, default_value = "auto", global = true)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
#[expect(clippy::large_enum_variant, reason = "parsed once at start-up; boxing buys nothing")]
pub enum Command {
    /// Run the HTTP service (the default).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(MigrateArgs),
    /// Mint a development token; prints the token alone on stdout.
    Token(TokenArgs),
    /// Verify the audit log, or print its latest checkpoint for anchoring elsewhere.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Storage maintenance.
    #[command(subcommand)]
    Maintenance(MaintenanceCommand),
}

#[derive(Debug, Subcommand)]
pub enum MaintenanceCommand {
    /// Rewrite the storage so that erased values leave the data files (PostgreSQL: VACUUM FULL of
    /// every table, then CHECKPOINT; SQLite: VACUUM and a WAL checkpoint). Locks each table while
    /// it is rewritten: run it in a quiet hour after erasures. Prints a JSON report.
    Compact {
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute every entry hash, Merkle root and checkpoint link; exit 1 on the first break.
    Verify {
        /// A checkpoint hash saved earlier with `recourse audit head`: it must still be in the chain.
        #[arg(long)]
        head: Option<String>,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Seal what is committed and print the latest checkpoint as JSON.
    Head {
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "RECOURSE_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "RECOURSE_WORKERS")]
    pub workers: Option<usize>,
    /// Seed demo engines and decisions, and print a token for every role.
    #[arg(long)]
    pub demo: bool,
    /// How long a reviewer's claim lasts without a heartbeat.
    #[arg(long, env = "RECOURSE_LEASE", default_value = "15m", value_parser = humantime::parse_duration)]
    pub lease: Duration,
    /// How often the sweeper runs (expired leases, escalation near deadlines).
    #[arg(long, env = "RECOURSE_SWEEP_INTERVAL", default_value = "5s", value_parser = humantime::parse_duration)]
    pub sweep_interval: Duration,
    /// Internal addresses or CIDR ranges webhooks may target anyway (comma-separated), e.g. 127.0.0.1.
    #[arg(long, env = "RECOURSE_WEBHOOK_ALLOW", value_delimiter = ',', value_parser = parse_net)]
    pub webhook_allow: Vec<ipnet::IpNet>,
    /// How often the webhook worker looks for due deliveries.
    #[arg(long, env = "RECOURSE_WEBHOOK_POLL_INTERVAL", default_value = "1s", value_parser = humantime::parse_duration)]
    pub webhook_poll_interval: Duration,
    /// First webhook retry delay; doubles per attempt, with jitter.
    #[arg(long, env = "RECOURSE_WEBHOOK_BACKOFF", default_value = "5s", value_parser = humantime::parse_duration)]
    pub webhook_backoff: Duration,
    /// Longest delay between two webhook attempts.
    #[arg(long, env = "RECOURSE_WEBHOOK_MAX_BACKOFF", default_value = "1h", value_parser = humantime::parse_duration)]
    pub webhook_max_backoff: Duration,
    /// How long a webhook delivery is retried before it is marked failed.
    #[arg(long, env = "RECOURSE_WEBHOOK_HORIZON", default_value = "3days", value_parser = humantime::parse_duration)]
    pub webhook_horizon: Duration,
    /// How long a rotated-out webhook secret keeps signing alongside the new one.
    #[arg(long, env = "RECOURSE_WEBHOOK_SECRET_GRACE", default_value = "24h", value_parser = humantime::parse_duration)]
    pub webhook_secret_grace: Duration,
    /// Attempts every webhook delivery gets before the horizon may fail it.
    #[arg(long, env = "RECOURSE_WEBHOOK_MIN_ATTEMPTS", default_value_t = 5, value_parser = clap::value_parser!(i32).range(1..=1000))]
    pub webhook_min_attempts: i32,
    /// Webhook attempts in flight at once, per instance, over all endpoints.
    #[arg(long, env = "RECOURSE_WEBHOOK_CONCURRENCY", default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..))]
    pub webhook_concurrency: u16,
    /// Webhook attempts in flight at once, per instance, to one endpoint.
    #[arg(long, env = "RECOURSE_WEBHOOK_PER_ENDPOINT", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..))]
    pub webhook_per_endpoint: u16,
    /// Consecutive failures after which an endpoint's circuit opens (its deliveries wait).
    #[arg(long, env = "RECOURSE_WEBHOOK_BREAKER_THRESHOLD", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub webhook_breaker_threshold: u32,
    /// How long an open circuit waits before one probe is sent.
    #[arg(long, env = "RECOURSE_WEBHOOK_BREAKER_COOLDOWN", default_value = "30s", value_parser = humantime::parse_duration)]
    pub webhook_breaker_cooldown: Duration,
    /// How often new audit entries are sealed into a hash-chained checkpoint.
    #[arg(long, env = "RECOURSE_SEAL_INTERVAL", default_value = "1s", value_parser = humantime::parse_duration)]
    pub seal_interval: Duration,
    /// Mark web UI session cookies Secure (and __Host- prefixed). Turn on whenever browsers
    /// reach Recourse over HTTPS, including through a TLS-terminating proxy.
    #[arg(long, env = "RECOURSE_UI_SECURE_COOKIES")]
    pub ui_secure_cookies: bool,
    /// How long a web UI session lasts at most.
    #[arg(long, env = "RECOURSE_UI_SESSION_TTL", default_value = "8h", value_parser = humantime::parse_duration)]
    pub ui_session_ttl: Duration,
    #[command(flatten)]
    pub timeouts: TimeoutArgs,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub jwt: JwtArgs,
    #[command(flatten)]
    pub limits: crate::config::LimitArgs,
    #[command(flatten)]
    pub calendar: crate::config::CalendarArgs,
}

/// Slow-client and shutdown timeouts of the HTTP server (see docs/OPERATIONS.md).
#[derive(Debug, Clone, Args)]
pub struct TimeoutArgs {
    /// How long a client has to send the request line and headers; slower clients get 408.
    #[arg(long, env = "RECOURSE_REQUEST_TIMEOUT", default_value = "5s", value_parser = humantime::parse_duration)]
    pub request_timeout: Duration,
    /// How long a client has to send the request body once its headers are in; slower clients
    /// get 408.
    #[arg(long, env = "RECOURSE_BODY_TIMEOUT", default_value = "60s", value_parser = humantime::parse_duration)]
    pub body_timeout: Duration,
    /// How long an idle keep-alive connection stays open (0s: close after each response).
    #[arg(long, env = "RECOURSE_KEEP_ALIVE", default_value = "15s", value_parser = humantime::parse_duration)]
    pub keep_alive: Duration,
    /// How long a closing connection waits for the client before it is dropped.
    #[arg(long, env = "RECOURSE_CLIENT_DISCONNECT_TIMEOUT", default_value = "2s", value_parser = humantime::parse_duration)]
    pub client_disconnect_timeout: Duration,
    /// On SIGTERM/SIGINT, how long in-flight requests may take before connections are closed
    /// (whole seconds).
    #[arg(long, env = "RECOURSE_SHUTDOWN_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration)]
    pub shutdown_timeout: Duration,
    /// Longest life of a client connection: past it, the connection closes once the request in
    /// flight is answered, and the client reconnects. Bounds a client that dribbles a later
    /// request on a kept-alive connection.
    #[arg(long, env = "RECOURSE_MAX_CONNECTION_AGE", default_value = "2m", value_parser = humantime::parse_duration)]
    pub max_connection_age: Duration,
}

/// An IP address (a one-address range) or a CIDR range.
fn parse_net(s: &str) -> Result<ipnet::IpNet, String> {
    s.parse::<ipnet::IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{s:?} is neither an IP address nor a CIDR range"))
}

#[derive(Debug, Clone, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// engine, agent, reviewer, supervisor, dpo, admin or subject.
    #[arg(long)]
    pub role: Role,
    /// The principal: an engine id, a staff id or a subject id.
    #[arg(long)]
    pub sub: String,
    /// Lifetime, e.g. 30m, 8h, 7d (default 8h for a token, 15m for a login link).
    #[arg(long, value_parser = humantime::parse_duration)]
    pub ttl: Option<Duration>,
    /// Print a one-time web login link instead of a bearer token. The link is exchanged once
    /// for a browser session; it is not accepted as a bearer token by the API.
    #[arg(long)]
    pub login_link: bool,
    /// Where browsers reach this Recourse, for the login link.
    #[arg(long, env = "RECOURSE_PUBLIC_URL", default_value = "http://127.0.0.1:8080")]
    pub base_url: String,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub jwt: JwtArgs,
}

pub async fn run(cli: Cli) -> Result<(), BoxError> {
    match cli.command {
        None => serve(cli.serve).await,
        Some(Command::Serve(args)) => serve(args).await,
        Some(Command::Migrate(args)) => migrate(args).await,
        Some(Command::Token(args)) => token(args),
        Some(Command::Audit(command)) => audit(command).await,
        Some(Command::Maintenance(MaintenanceCommand::Compact { database })) => compact(database).await,
    }
}

async fn serve(args: ServeArgs) -> Result<(), BoxError> {
    let mut settings = Settings::for_database(args.database.parse_url()?, args.jwt);
    settings.bind = args.bind;
    settings.pool_size = args.database.pool_size;
    settings.pool_timeout = args.database.pool_timeout;
    settings.workers = args.workers;
    settings.workflow.lease = args.lease;
    settings.workflow.sweep_interval = args.sweep_interval;
    settings.webhooks.allow = args.webhook_allow;
    settings.webhooks.poll_interval = args.webhook_poll_interval;
    settings.webhooks.base_backoff = args.webhook_backoff;
    settings.webhooks.max_backoff = args.webhook_max_backoff;
    settings.webhooks.horizon = args.webhook_horizon;
    settings.webhooks.secret_grace = args.webhook_secret_grace;
    settings.webhooks.min_attempts = args.webhook_min_attempts;
    settings.webhooks.concurrency = usize::from(args.webhook_concurrency);
    settings.webhooks.per_endpoint = usize::from(args.webhook_per_endpoint);
    settings.webhooks.breaker_threshold = args.webhook_breaker_threshold;
    settings.webhooks.breaker_cooldown = args.webhook_breaker_cooldown;
    settings.workflow.seal_interval = args.seal_interval;
    settings.ui.secure_cookies = args.ui_secure_cookies;
    settings.ui.session_ttl = args.ui_session_ttl;
    args.limits.apply(&mut settings.limits);
    settings.calendar = args.calendar.settings();
    settings.server = crate::config::ServerTimeouts {
        request_head: args.timeouts.request_timeout,
        request_body: args.timeouts.body_timeout,
        keep_alive: args.timeouts.keep_alive,
        client_disconnect: args.timeouts.client_disconnect_timeout,
        shutdown: args.timeouts.shutdown_timeout,
        max_connection_age: args.timeouts.max_connection_age,
    };
    let app = Application::build(settings).await?;
    if args.demo {
        demo::seed(app.db(), app.calendar()).await?;
        demo::print_tokens(app.minter(), &format!("http://{}:{}", args.bind.ip(), app.port()));
    } else {
        eprintln!(
            "\nRecourse is serving on http://{}:{}  (web UI at /ui)\nGet a token with:  cargo run --release -- token --role admin --sub you\nor a browser sign-in link with:  cargo run --release -- token --login-link --role reviewer --sub you\n(or `recourse serve --demo` for sample data and a token per role)\n",
            args.bind.ip(),
            app.port()
        );
    }
    app.run_until_stopped().await?;
    Ok(())
}

async fn migrate(args: MigrateArgs) -> Result<(), BoxError> {
    let url = args.database.parse_url()?;
    connect_and_migrate(&url, 1, args.database.pool_timeout).await?;
    tracing::info!("database is up to date");
    Ok(())
}

async fn audit(command: AuditCommand) -> Result<(), BoxError> {
    let (database, head) = match &command {
        AuditCommand::Verify { database, head } => (database, head.clone()),
        AuditCommand::Head { database } => (database, None),
    };
    let url = database.parse_url()?;
    // Verifying a mistyped path must not create an empty database that "verifies".
    if let Some(path) = url.sqlite_path()
        && !path.exists()
    {
        return Err(format!("no database at {}", path.display()).into());
    }
    let db = connect_and_migrate(&url, 1, database.pool_timeout).await?;
    match command {
        AuditCommand::Verify { .. } => {
            let report = db
                .run(move |conn| crate::audit::verify::verify(conn, head.as_deref()))
                .await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            if !report.ok {
                return Err("the audit log does not verify; see first_break".into());
            }
        }
        AuditCommand::Head { .. } => {
            db.write(crate::audit::seal::seal_once).await?;
            let head = crate::audit::seal::head(&db).await?;
            println!("{}", serde_json::to_string_pretty(&head)?);
        }
    }
    Ok(())
}

async fn compact(database: DatabaseArgs) -> Result<(), BoxError> {
    let url = database.parse_url()?;
    if let Some(path) = url.sqlite_path()
        && !path.exists()
    {
        return Err(format!("no database at {}", path.display()).into());
    }
    let db = connect_and_migrate(&url, 1, database.pool_timeout).await?;
    let report = db.maintain(crate::db::maintenance::compact).await?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

fn token(args: TokenArgs) -> Result<(), BoxError> {
    let url = args.database.parse_url()?;
    let keys = JwtKeys::load(&args.jwt, &url)?;
    let minter = keys
        .minter
        .ok_or("this algorithm needs --jwt-private-key (RECOURSE_JWT_PRIVATE_KEY) to mint tokens")?;
    if args.login_link {
        let ttl = args.ttl.unwrap_or(Duration::from_secs(15 * 60));
        let token = minter.mint_login_link(args.role, &args.sub, ttl)?;
        println!("{}", login_link_url(&args.base_url, &token));
    } else {
        let ttl = args.ttl.unwrap_or(Duration::from_secs(8 * 3600));
        println!("{}", minter.mint(args.role, &args.sub, ttl)?);
    }
    Ok(())
}
