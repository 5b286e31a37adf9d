use clap::Parser;
use recourse::cli::{self, Cli};

#[tokio::main]
async fn main() -> std::process::ExitCode {
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
