//! CPU time of the processes that share the machine during a run (the server, this load
//! generator and PostgreSQL), read from `/proc/<pid>/stat`. The per-operation split is what
//! explains the ratios in docs/BENCHMARKS.md.

/// CPU seconds used so far by the server, this load generator, and PostgreSQL's processes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Cpu {
    server: f64,
    loadgen: f64,
    postgres: f64,
}

fn cpu_seconds(stat: &str) -> Option<(String, f64)> {
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    let (head, rest) = stat.rsplit_once(')')?;
    let comm = head.split_once('(')?.1.to_owned();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some((comm, ticks / 100.0))
}

impl Cpu {
    pub fn now(server_pid: u32) -> Self {
        let read = |pid: &str| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| cpu_seconds(&s))
        };
        let mut postgres = 0.0;
        if let Ok(entries) = std::fs::read_dir("/proc") {
            for entry in entries.flatten() {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if name.chars().all(|c| c.is_ascii_digit())
                    && let Some((comm, secs)) = read(&name)
                    && comm.starts_with("postgres")
                {
                    postgres += secs;
                }
            }
        }
        Self {
            server: read(&server_pid.to_string()).map(|c| c.1).unwrap_or(0.0),
            loadgen: read("self").map(|c| c.1).unwrap_or(0.0),
            postgres,
        }
    }

    /// CPU milliseconds per operation since `before`, as a note.
    pub fn per_op_since(&self, before: &Cpu, ops: usize) -> String {
        let per = |a: f64, b: f64| (a - b) * 1000.0 / ops.max(1) as f64;
        format!(
            "CPU ms/op: server {:.3}, load generator {:.3}, postgres {:.3}",
            per(self.server, before.server),
            per(self.loadgen, before.loadgen),
            per(self.postgres, before.postgres)
        )
    }
}
