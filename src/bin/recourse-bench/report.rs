//! The figures and how they are published: a table on stdout, and the same figures in
//! `results.json` and `results.md` (the tables docs/BENCHMARKS.md quotes).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use serde_json::json;

use crate::error::BoxError;

/// One measured figure, with its baseline and ratio target where it has them.
#[derive(Debug, Default, Serialize)]
pub struct Figure {
    pub name: String,
    pub unit: &'static str,
    pub value: f64,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub baseline: Option<f64>,
    pub ratio: Option<f64>,
    pub target_ratio: Option<f64>,
    pub note: Option<String>,
}

impl Figure {
    pub fn with_baseline(mut self, baseline: f64, target: Option<f64>) -> Self {
        self.baseline = Some(baseline);
        self.ratio = Some(if baseline > 0.0 { self.value / baseline } else { 0.0 });
        self.target_ratio = target;
        self
    }
}

/// Everything measured on one database backend.
#[derive(Serialize)]
pub struct BackendReport {
    pub backend: &'static str,
    pub figures: Vec<Figure>,
    pub peak_rss_mb: f64,
}

/// Operations per second.
pub fn rate(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64()
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// A throughput figure with the p50 and p99 of its latencies.
pub fn latency_figure(
    name: String,
    unit: &'static str,
    count: usize,
    elapsed: Duration,
    mut lat: Vec<Duration>,
) -> Figure {
    lat.sort();
    Figure {
        name,
        unit,
        value: rate(count, elapsed),
        p50_ms: Some(percentile(&lat, 0.5)),
        p99_ms: Some(percentile(&lat, 0.99)),
        ..Default::default()
    }
}

/// Ratio targets from the benchmark issue.
pub fn target_for(backend: &str, figure: &str) -> f64 {
    match (backend, figure.split(',').next().unwrap_or_default()) {
        ("postgres", "single ingest") => 0.6,
        ("sqlite", "single ingest") => 0.3,
        ("postgres", "batch ingest") => 0.5,
        ("sqlite", "batch ingest") => 0.3,
        ("postgres", "review cycle") => 0.5,
        _ => 0.0,
    }
}

/// Prints the tables, writes the figures to `out` (JSON) and beside it (Markdown), and says where.
pub fn publish(reports: &[BackendReport], out: &Path, quick: bool) -> Result<(), BoxError> {
    for report in reports {
        print_table(report);
    }
    let machine = json!({
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "os": std::env::consts::OS,
        "arch": std::env::consts::ARCH,
        "taken_at": chrono::Utc::now().to_rfc3339(),
        "quick": quick,
    });
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(
        out,
        serde_json::to_string_pretty(&json!({"machine": machine, "backends": reports}))?,
    )?;
    let md_path: PathBuf = out.with_extension("md");
    std::fs::write(&md_path, reports.iter().map(markdown).collect::<Vec<_>>().join("\n"))?;
    println!("\nfigures written to {} and {}", out.display(), md_path.display());
    Ok(())
}

/// A figure's optional columns (p50, p99, baseline, ratio, target), with `absent` where a figure
/// has none; a target of 0 means none was set for this backend.
fn optional_cells(f: &Figure, absent: &str) -> [String; 5] {
    let opt = |v: Option<f64>, prec: usize| v.map(|v| format!("{v:.prec$}")).unwrap_or_else(|| absent.into());
    [
        opt(f.p50_ms, 2),
        opt(f.p99_ms, 2),
        opt(f.baseline, 1),
        opt(f.ratio, 2),
        opt(f.target_ratio.filter(|t| *t > 0.0), 2),
    ]
}

fn print_table(report: &BackendReport) {
    println!(
        "\n{} (server peak RSS during runs 1-3: {:.1} MB, target ≤ 100 MB)",
        report.backend, report.peak_rss_mb
    );
    println!(
        "{:<36} {:>12} {:>12} {:>9} {:>9} {:>12} {:>7} {:>7}",
        "measurement", "value", "unit", "p50 ms", "p99 ms", "baseline", "ratio", "target"
    );
    for f in &report.figures {
        let [p50, p99, baseline, ratio, target] = optional_cells(f, "-");
        println!(
            "{:<36} {:>12.1} {:>12} {:>9} {:>9} {:>12} {:>7} {:>7}",
            f.name, f.value, f.unit, p50, p99, baseline, ratio, target,
        );
        if let Some(note) = &f.note {
            println!("{:<36} {note}", "");
        }
    }
}

/// The same figures as a Markdown table, for docs/BENCHMARKS.md.
fn markdown(report: &BackendReport) -> String {
    let mut out = format!(
        "### {}\n\nServer peak RSS during runs 1–3: **{:.1} MB** (target ≤ 100 MB).\n\n\
         | measurement | value | unit | p50 ms | p99 ms | baseline | ratio | target |\n|---|---:|---|---:|---:|---:|---:|---:|\n",
        report.backend, report.peak_rss_mb
    );
    for f in &report.figures {
        let [p50, p99, baseline, ratio, target] = optional_cells(f, "–");
        out.push_str(&format!(
            "| {} | {:.1} | {} | {p50} | {p99} | {baseline} | {ratio} | {target} |\n",
            f.name, f.value, f.unit,
        ));
    }
    let notes: Vec<String> = report
        .figures
        .iter()
        .filter_map(|f| f.note.as_ref().map(|n| format!("- {}: {n}", f.name)))
        .collect();
    if !notes.is_empty() {
        out.push_str(&format!("\n{}\n", notes.join("\n")));
    }
    out
}
