//! Slow and silent clients cannot hold connections: a client that dribbles its request headers
//! or its body gets 408 and is disconnected, and idle connections (fresh or kept alive) are
//! closed, in-process and in a `recourse serve` configured through `RECOURSE_*` variables.
//! Timeouts are set short here; the assertions only bound how long the server may wait, generously.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use recourse::domain::Role;

use crate::helpers::{TestApp, spawn_app_with};
use crate::instances::start_instance_with;

/// Far above the 1 s timeouts below, far below "forever".
const BOUND: Duration = Duration::from_secs(10);

async fn app_with_short_timeouts() -> TestApp {
    spawn_app_with(|s| {
        s.server.request_head = Duration::from_secs(1);
        s.server.keep_alive = Duration::from_secs(1);
        s.server.request_body = Duration::from_secs(1);
    })
    .await
}

async fn connect(address: &str) -> TcpStream {
    TcpStream::connect(address.trim_start_matches("http://")).await.unwrap()
}

/// Reads until the server closes the connection (or resets it), or until `deadline`.
/// Returns what was read and whether the server closed the connection in time.
async fn read_until_closed(reader: &mut (impl AsyncReadExt + Unpin), deadline: Instant) -> (Vec<u8>, bool) {
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, reader.read(&mut buf)).await {
            Err(_) => return (received, false),
            Ok(Ok(0)) | Ok(Err(_)) => return (received, true),
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
        }
    }
}

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";

/// Writes the start of a request's headers, then one more byte every 100 ms until `BOUND` has
/// passed since `started` or the server hangs up (the slowloris pattern).
fn dribble_headers_on(mut writer: tokio::net::tcp::OwnedWriteHalf, started: Instant) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if writer
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .is_err()
        {
            return;
        }
        while started.elapsed() < BOUND {
            if writer.write_all(b"a").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
}

/// Reads one complete `/healthz` response (the connection stays open for the next request).
async fn read_healthz_response(reader: &mut (impl AsyncReadExt + Unpin)) -> String {
    let mut response = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&response).contains("\"ok\"") {
        let n = tokio::time::timeout(BOUND, reader.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "closed before the response was complete");
        response.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&response).into_owned()
}

/// Sends request headers one byte every 100 ms, never finishing (the slowloris pattern), and
/// returns what the server answered, whether it closed the connection within `BOUND`, and when.
async fn dribble_headers(address: &str) -> (String, bool, Duration) {
    let (mut reader, writer) = connect(address).await.into_split();
    let started = Instant::now();
    let dribbler = dribble_headers_on(writer, started);
    let (received, closed) = read_until_closed(&mut reader, started + BOUND).await;
    dribbler.abort();
    (
        String::from_utf8_lossy(&received).into_owned(),
        closed,
        started.elapsed(),
    )
}

/// Makes one request on a fresh connection, then stays idle: whether the server closed the
/// connection within `BOUND`, and after how long.
async fn idle_after_one_request(address: &str) -> (bool, Duration) {
    let mut stream = connect(address).await;
    stream.write_all(HEALTHZ).await.unwrap();
    let response = read_healthz_response(&mut stream).await;
    assert!(response.starts_with("HTTP/1.1 200"));
    let idle_since = Instant::now();
    let (rest, closed) = read_until_closed(&mut stream, idle_since + BOUND).await;
    assert!(rest.is_empty(), "unexpected bytes on an idle connection: {rest:?}");
    (closed, idle_since.elapsed())
}

#[tokio::test]
async fn a_client_dribbling_its_headers_gets_408_and_is_disconnected() {
    let app = app_with_short_timeouts().await;
    let (head, closed, elapsed) = dribble_headers(&app.address).await;
    assert!(
        closed,
        "the server still held the dribbling connection after {elapsed:?}"
    );
    assert!(head.starts_with("HTTP/1.1 408"), "expected 408, got {head:?}");
    println!("dribbling client answered 408 and disconnected after {elapsed:?}");
}

#[tokio::test]
async fn a_connection_that_never_sends_anything_is_closed() {
    let app = app_with_short_timeouts().await;
    let mut stream = connect(&app.address).await;
    let started = Instant::now();
    let (_, closed) = read_until_closed(&mut stream, started + BOUND).await;
    assert!(closed, "a silent connection was still open after {BOUND:?}");
    println!("silent connection closed after {:?}", started.elapsed());
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_its_response() {
    let app = app_with_short_timeouts().await;
    let (closed, after) = idle_after_one_request(&app.address).await;
    assert!(closed, "an idle keep-alive connection was still open after {after:?}");
    println!("idle keep-alive connection closed after {after:?}");
}

#[tokio::test]
async fn recourse_serve_takes_its_timeouts_from_the_environment() {
    let app = spawn_app_with(|_| {}).await;
    let server = start_instance_with(
        &app.database_url,
        &[("RECOURSE_REQUEST_TIMEOUT", "1s"), ("RECOURSE_KEEP_ALIVE", "1s")],
    );
    let (head, closed, elapsed) = dribble_headers(&server.address).await;
    assert!(closed && head.starts_with("HTTP/1.1 408"), "{head:?} after {elapsed:?}");
    let (closed, after) = idle_after_one_request(&server.address).await;
    assert!(closed, "an idle keep-alive connection was still open after {after:?}");
}

#[tokio::test]
async fn a_client_dribbling_its_body_gets_408_and_is_disconnected() {
    let app = app_with_short_timeouts().await;
    app.register_engine("engine-1").await;
    let (mut reader, mut writer) = connect(&app.address).await.into_split();
    let head = format!(
        "POST /v1/decisions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n",
        app.token(Role::Engine, "engine-1")
    );
    let started = Instant::now();
    // Headers at once, then one body byte every 100 ms: the request head timeout does not apply.
    let dribbler = tokio::spawn(async move {
        if writer.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        while started.elapsed() < BOUND {
            if writer.write_all(b" ").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let (received, closed) = read_until_closed(&mut reader, started + BOUND).await;
    let elapsed = started.elapsed();
    dribbler.abort();
    assert!(
        closed,
        "the server still held the dribbling connection after {elapsed:?}"
    );
    let response = String::from_utf8_lossy(&received);
    assert!(response.starts_with("HTTP/1.1 408"), "expected 408, got {response:?}");
    assert!(response.contains("application/problem+json"), "{response}");
    assert!(response.contains("request_timeout"), "{response}");
    assert_eq!(app.decision_count().await, 0);
    println!("body-dribbling client answered 408 and disconnected after {elapsed:?}");
}

/// actix times only a connection's first request head: a client that makes one quick request
/// and then dribbles the next request's headers on the kept-alive connection is bounded by the
/// connection's maximum age instead.
#[tokio::test]
async fn a_slow_second_request_on_a_kept_alive_connection_is_cut_off_at_the_maximum_age() {
    let app = spawn_app_with(|s| {
        s.server.request_head = Duration::from_secs(1);
        // Long enough that neither the keep-alive timer nor the first-request head timer can be
        // what closes the connection.
        s.server.keep_alive = Duration::from_secs(60);
        // Shut down at 2 s: the age, plus a grace as long as the age for short ages.
        s.server.max_connection_age = Duration::from_secs(1);
    })
    .await;
    let started = Instant::now();
    let (mut reader, mut writer) = connect(&app.address).await.into_split();
    writer.write_all(HEALTHZ).await.unwrap();
    assert!(read_healthz_response(&mut reader).await.starts_with("HTTP/1.1 200"));
    let dribbler = dribble_headers_on(writer, started);
    let (rest, closed) = read_until_closed(&mut reader, started + BOUND).await;
    dribbler.abort();
    assert!(
        closed,
        "the dribbling second request still held the connection after {:?}",
        started.elapsed()
    );
    assert!(
        !String::from_utf8_lossy(&rest).contains("200 OK"),
        "the dribbled request was answered: {rest:?}"
    );
    println!(
        "kept-alive connection with a dribbled second request closed after {:?}",
        started.elapsed()
    );
}

/// A well-behaved client is told to reconnect: the first response after the connection's
/// maximum age says `Connection: close`, and the server closes once it is sent.
#[tokio::test]
async fn past_its_maximum_age_a_connection_is_closed_after_its_next_response() {
    let app = spawn_app_with(|s| {
        s.server.keep_alive = Duration::from_secs(60);
        s.server.max_connection_age = Duration::from_secs(1);
    })
    .await;
    let mut stream = connect(&app.address).await;
    stream.write_all(HEALTHZ).await.unwrap();
    let young = read_healthz_response(&mut stream).await.to_lowercase();
    assert!(!young.contains("connection: close"), "{young}");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    stream.write_all(HEALTHZ).await.unwrap();
    let old = read_healthz_response(&mut stream).await.to_lowercase();
    assert!(old.starts_with("http/1.1 200"), "{old}");
    assert!(old.contains("connection: close"), "{old}");
    let (rest, closed) = read_until_closed(&mut stream, Instant::now() + BOUND).await;
    assert!(
        closed && rest.is_empty(),
        "the connection stayed open after `Connection: close`"
    );
}
