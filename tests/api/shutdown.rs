//! Graceful shutdown of a real `recourse serve` process: SIGTERM closes the listener, lets the
//! request in flight finish with its 2xx, closes idle keep-alive connections, stops the
//! background workers and exits 0.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use recourse::domain::Role;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{TEST_SECRET, decision_body, spawn_app_with};

/// A `recourse serve` child whose log lines are kept for assertions. Killed if still running.
struct Logged {
    child: Child,
    address: String,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Drop for Logged {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Logged {
    fn start(database_url: &str, args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_recourse"))
            .args(["serve", "--bind", "127.0.0.1:0", "--workers", "2"])
            .args(args)
            .env("DATABASE_URL", database_url)
            .env("RECOURSE_JWT_SECRET", TEST_SECRET)
            .env("RECOURSE_SWEEP_INTERVAL", "100ms")
            .env("RECOURSE_LOG_FORMAT", "json")
            .env("RECOURSE_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start recourse serve");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let address = loop {
            let line = lines.next().expect("recourse exited before listening").unwrap();
            let Ok(event) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            if event["message"] == "recourse is listening" {
                break event["address"].as_str().unwrap().to_owned();
            }
        };
        let kept = Arc::new(Mutex::new(Vec::new()));
        let sink = kept.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Self {
            child,
            address,
            lines: kept,
        }
    }

    fn logged(&self, message: &str) -> bool {
        let needle = format!("\"message\":\"{message}");
        self.lines.lock().unwrap().iter().any(|l| l.contains(&needle))
    }

    fn host_port(&self) -> String {
        self.address.trim_start_matches("http://").to_owned()
    }
}

#[tokio::test]
async fn sigterm_finishes_the_request_in_flight_refuses_new_ones_and_exits_zero() {
    let app = spawn_app_with(|s| s.workflow.sweep_interval = Duration::from_secs(3600)).await;
    app.register_engine("engine-1").await;
    let mut server = Logged::start(&app.database_url, &["--shutdown-timeout", "20s", "--keep-alive", "60s"]);

    // An idle keep-alive connection (a load balancer's, say) must not hold the shutdown up.
    let mut idle = TcpStream::connect(server.host_port()).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 512];
    let n = idle.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));

    // A request in flight: headers and half the body sent, the rest still to come.
    let body = serde_json::to_vec(&decision_body("in-flight-1", "subject-in-flight")).unwrap();
    let (first, second) = body.split_at(body.len() / 2);
    let mut in_flight = TcpStream::connect(server.host_port()).await.unwrap();
    let head = format!(
        "POST /v1/decisions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        app.token(Role::Engine, "engine-1"),
        body.len()
    );
    in_flight.write_all(head.as_bytes()).await.unwrap();
    in_flight.write_all(first).await.unwrap();
    in_flight.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let pid = server.child.id().to_string();
    let signalled = Instant::now();
    let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(status.success());
    let deadline = signalled + Duration::from_secs(10);
    while !server.logged("shutting down") {
        assert!(Instant::now() < deadline, "no shutdown log line after SIGTERM");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;

    // New connections are refused (or, if the kernel still completes the handshake, never served).
    match TcpStream::connect(server.host_port()).await {
        Err(e) => println!("new connection after SIGTERM refused: {e}"),
        Ok(mut late) => {
            let _ = late.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await;
            let mut buf = [0u8; 64];
            let answer = tokio::time::timeout(Duration::from_secs(2), late.read(&mut buf)).await;
            assert!(
                !matches!(answer, Ok(Ok(n)) if n > 0),
                "a connection opened after SIGTERM was served: {:?}",
                String::from_utf8_lossy(&buf)
            );
        }
    }
    assert!(
        !server.logged("recourse stopped"),
        "stopped before the in-flight request ended"
    );

    // The request in flight completes normally.
    in_flight.write_all(second).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), in_flight.read_to_end(&mut response))
        .await
        .expect("the in-flight request was answered")
        .unwrap();
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");

    // Then the process exits 0, well within its shutdown timeout.
    let exit = loop {
        if let Some(exit) = server.child.try_wait().unwrap() {
            break exit;
        }
        // Well below both the shutdown timeout and the idle connection's keep-alive.
        assert!(
            signalled.elapsed() < Duration::from_secs(10),
            "still running {:?} after SIGTERM",
            signalled.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    println!("exited {exit} {:?} after SIGTERM", signalled.elapsed());
    assert!(exit.success(), "exit status {exit}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(server.logged("recourse stopped"), "{:?}", server.lines.lock().unwrap());
    assert_eq!(app.decision_count().await, 1, "the acknowledged decision is stored");
    drop(idle);
}
