use clap::Parser;
use recourse::cli::{self, Cli};

/// glibc gives each thread that allocates its own arena (up to 8 per core) and keeps each
/// arena's high-water mark resident. With HTTP workers and blocking database threads each
/// parsing 1,000-decision batches, that multiplied the peak RSS (233 MB measured; see
/// docs/BENCHMARKS.md). Two arenas keep contention low and the peak bounded.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn limit_malloc_arenas() {
    // SAFETY: mallopt only adjusts allocator parameters, and runs before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_malloc_arenas() {}

fn main() -> std::process::ExitCode {
    limit_malloc_arenas();
    match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime.block_on(run()),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> std::process::ExitCode {
    let cli = Cli::parse();
    recourse::telemetry::init(cli.log_format);
    match cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %recourse::error::cause_chain(e.as_ref()), "recourse stopped");
            eprintln!("error: {}", recourse::error::cause_chain(e.as_ref()));
            std::process::ExitCode::FAILURE
        }
    }
}
