//! The command line: `recourse [serve]`, `recourse migrate`, `recourse token`.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::auth::JwtKeys;
use crate::config::{DatabaseArgs, JwtArgs, LogFormat, Settings};
use crate::demo;
use crate::domain::Role;
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
pub enum Command {
    /// Run the HTTP service (the default).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(MigrateArgs),
    /// Mint a development token; prints the token alone on stdout.
    Token(TokenArgs),
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
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub jwt: JwtArgs,
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
    /// Lifetime, e.g. 30m, 8h, 7d.
    #[arg(long, default_value = "8h", value_parser = humantime::parse_duration)]
    pub ttl: Duration,
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
    let app = Application::build(settings).await?;
    if args.demo {
        demo::seed(app.db()).await?;
        demo::print_tokens(app.minter(), app.port());
    } else {
        eprintln!(
            "\nRecourse is serving on http://{}:{}\nGet a token with:  cargo run --release -- token --role admin --sub you\n(or `recourse serve --demo` for sample data and a token per role)\n",
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

fn token(args: TokenArgs) -> Result<(), BoxError> {
    let url = args.database.parse_url()?;
    let keys = JwtKeys::load(&args.jwt, &url)?;
    let minter = keys
        .minter
        .ok_or("this algorithm needs --jwt-private-key (RECOURSE_JWT_PRIVATE_KEY) to mint tokens")?;
    println!("{}", minter.mint(args.role, &args.sub, args.ttl)?);
    Ok(())
}
