//! The server under test: `recourse serve`, started as a child process next to this binary, so
//! the figures include everything a deployment runs (HTTP, middleware, its own pool and threads).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use recourse::auth::{JwtKeys, TokenMinter};
use recourse::config::{JwtAlgorithm, JwtArgs};
use recourse::db::DatabaseUrl;
use serde_json::Value;

use crate::error::BoxError;

/// The HS256 secret the server is started with; [`token_minter`] signs with the same one.
const SECRET: &str = "recourse-bench-secret-0123456789abcdef0123";

/// The running server. Dropping it stops the process.
pub struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts `recourse serve` on `127.0.0.1:0` against `database_url` and waits until its log
    /// says where it listens.
    pub fn start(database_url: &str) -> Result<Self, BoxError> {
        let exe = std::env::current_exe()?.with_file_name("recourse");
        let mut child = Command::new(&exe)
            .args(["serve", "--bind", "127.0.0.1:0"])
            .env("DATABASE_URL", database_url)
            .env("RECOURSE_JWT_SECRET", SECRET)
            .env("RECOURSE_LOG_FORMAT", "json")
            .env("RECOURSE_LOG", "warn,recourse::startup=info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot start {}: {e} (build it with `cargo build --release`)",
                    exe.display()
                )
            })?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        let mut lines = BufReader::new(stderr).lines();
        let base = loop {
            let line = lines.next().ok_or("recourse exited before listening")??;
            if let Ok(event) = serde_json::from_str::<Value>(&line)
                && event["message"] == "recourse is listening"
            {
                break event["address"].as_str().ok_or("no address")?.to_owned();
            }
        };
        std::thread::spawn(move || lines.for_each(drop));
        Ok(Self { child, base })
    }

    /// The server's base URL, `http://127.0.0.1:<port>`.
    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Peak resident set size so far (VmHWM), in MB.
    pub fn peak_rss_mb(&self) -> f64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmHWM:"))
                    .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
            })
            .map(|kb| kb / 1024.0)
            .unwrap_or(0.0)
    }
}

/// Mints tokens the server accepts: HS256 with the secret it was started with.
pub fn token_minter(database: &DatabaseUrl) -> Result<TokenMinter, BoxError> {
    let jwt = JwtArgs {
        algorithm: JwtAlgorithm::Hs256,
        secret: Some(SECRET.to_owned().into()),
        secret_file: None,
        public_key: None,
        private_key: None,
        issuer: "recourse".into(),
        audience: "recourse".into(),
        leeway_secs: 30,
    };
    Ok(JwtKeys::load(&jwt, database)?.minter.ok_or("no minter")?)
}
