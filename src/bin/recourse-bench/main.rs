//! `recourse-bench`: measures ingestion and review throughput of a real `recourse serve` process
//! over HTTP, next to a raw-database baseline measured in the same run on the same machine, and
//! prints both with their ratio. Every load loop is bounded by a count and a deadline.
//!
//!     cargo run --release --bin recourse-bench -- [--postgres postgres://…/postgres] [--quick]
//!
//! This file reads the flags and runs the backends in turn. The parts, one job each:
//! - [`server`]: the `recourse serve` child process under test;
//! - [`load`]: the HTTP clients that drive it;
//! - [`baseline`]: the same database work done in-process, the yardstick;
//! - [`measurements`]: each measurement of docs/BENCHMARKS.md, a load next to its baseline;
//! - [`report`]: the figures, printed and written as JSON and Markdown;
//! - [`workload`]: what is sent and how much; [`repo`]: the bench's own SQL;
//!   [`cpu`]: CPU time per process; [`error`]: the error type.

mod baseline;
mod cpu;
mod error;
mod load;
mod measurements;
mod repo;
mod report;
mod server;
mod workload;

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use recourse::db::{DatabaseUrl, Db};

use error::BoxError;
use load::Load;
use measurements::Measurements;
use report::BackendReport;
use server::Server;
use workload::Budget;

#[derive(Parser)]
#[command(about = "Throughput and latency of Recourse against a raw-database baseline")]
struct Args {
    /// Also benchmark PostgreSQL: an admin URL whose role may CREATE DATABASE.
    #[arg(long, env = "BENCH_POSTGRES_URL")]
    postgres: Option<String>,
    /// Where to write the JSON figures.
    #[arg(long, default_value = "target/bench/results.json")]
    out: PathBuf,
    /// Smaller counts (and 100k instead of 1M queued appeals) for a fast smoke run.
    #[arg(long)]
    quick: bool,
    /// Skip the SQLite backend.
    #[arg(long)]
    no_sqlite: bool,
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args = Args::parse();
    let budget = if args.quick { Budget::QUICK } else { Budget::FULL };
    let mut reports = Vec::new();
    if !args.no_sqlite {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("bench.db");
        reports.push(run_backend("sqlite", path.to_str().ok_or("path")?, budget).await?);
    }
    if let Some(admin_url) = &args.postgres {
        let (url, name) = repo::create_pg_database(admin_url)?;
        let result = run_backend("postgres", &url, budget).await;
        repo::drop_pg_database(admin_url, &name);
        reports.push(result?);
    }
    report::publish(&reports, &args.out, args.quick)
}

/// One backend, start to finish: its own server on a fresh database, then the measurements in
/// the order docs/BENCHMARKS.md numbers them, the peak RSS taken after the first three.
async fn run_backend(backend: &'static str, database_url: &str, budget: Budget) -> Result<BackendReport, BoxError> {
    eprintln!("== {backend}");
    let server = Server::start(database_url)?;
    let url = DatabaseUrl::parse(database_url)?;
    let db = Db::connect(&url, 16, Duration::from_secs(30))?;
    let load = Load::new(server.base(), server::token_minter(&url)?, budget.deadline)?;
    load.register_engine().await?;
    let mut bench = Measurements::new(backend, load, db, server.pid(), budget);
    let mut figures = Vec::new();
    eprintln!("  single ingest");
    figures.extend(bench.single_ingest().await?);
    eprintln!("  peak RSS so far {:.1} MB; batch ingest", server.peak_rss_mb());
    figures.push(bench.batch_ingest().await?);
    eprintln!("  peak RSS so far {:.1} MB; review cycles", server.peak_rss_mb());
    figures.extend(bench.review_cycles().await?);
    let peak_rss_mb = server.peak_rss_mb();
    eprintln!("  scale");
    figures.extend(bench.claim_latency_at_scale().await?);
    Ok(BackendReport {
        backend,
        figures,
        peak_rss_mb,
    })
}
