//! The Python signature-verification example in docs/API.md, run against a real delivery.

use std::io::Write;
use std::process::Command;
use std::sync::{Arc, Mutex};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::helpers::spawn_app_with;

fn python_example() -> String {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/API.md")).unwrap();
    let start = doc
        .find("<!-- verify-example:start -->")
        .expect("start marker in docs/API.md");
    let end = doc
        .find("<!-- verify-example:end -->")
        .expect("end marker in docs/API.md");
    let block = &doc[start..end];
    let code_start = block.find("```python\n").unwrap() + "```python\n".len();
    let code_end = block.rfind("```").unwrap();
    block[code_start..code_end].to_owned()
}

/// A captured request: its head (request line and headers) and its body.
type Captured = Arc<Mutex<Option<(String, Vec<u8>)>>>;

/// Captures one raw request (headers and body) and answers 200.
async fn capture_one(listener: TcpListener, slot: Captured) {
    let (mut sock, _) = listener.accept().await.unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = sock.read(&mut chunk).await.unwrap();
        buf.extend_from_slice(&chunk[..n]);
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..p]).to_string();
            let len: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            while buf.len() < p + 4 + len {
                let n = sock.read(&mut chunk).await.unwrap();
                buf.extend_from_slice(&chunk[..n]);
            }
            *slot.lock().unwrap() = Some((head, buf[p + 4..p + 4 + len].to_vec()));
            let _ = sock
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .await;
            return;
        }
    }
}

#[tokio::test]
async fn the_python_verification_example_accepts_real_deliveries_and_rejects_tampering() {
    let app = spawn_app_with(|s| {
        s.webhooks.allow = vec!["127.0.0.1/32".parse().unwrap()];
        s.webhooks.poll_interval = std::time::Duration::from_millis(20);
    })
    .await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    let slot = Arc::new(Mutex::new(None));
    let server = tokio::spawn(capture_one(listener, slot.clone()));
    app.register_engine("engine-1").await;
    let res = app
        .post_json(
            "/v1/engines/engine-1/endpoints",
            &app.token_for(recourse::domain::Role::Admin),
            &json!({"url": url}),
        )
        .await;
    let secret = res.json::<serde_json::Value>().await.unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    app.queued_appeal("x-1", "subject-1").await;
    tokio::time::timeout(std::time::Duration::from_secs(10), server)
        .await
        .unwrap()
        .unwrap();
    let (head, body) = slot.lock().unwrap().take().unwrap();
    let header = |name: &str| {
        head.lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
            })
            .unwrap()
    };
    let headers = json!({
        "webhook-id": header("webhook-id"),
        "webhook-timestamp": header("webhook-timestamp"),
        "webhook-signature": header("webhook-signature"),
    });

    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("check.py");
    let mut f = std::fs::File::create(&script).unwrap();
    writeln!(f, "{}", python_example()).unwrap();
    writeln!(
        f,
        r#"
import json, sys
case = json.load(open(sys.argv[1]))
body = bytes.fromhex(case["body_hex"])
print("valid" if verify(case["secret"], case["headers"], body, case.get("now")) else "invalid")
"#
    )
    .unwrap();
    let run = |name: &str, secret: &str, headers: &serde_json::Value, body: &[u8], now: Option<i64>| {
        let case = dir.path().join(format!("{name}.json"));
        std::fs::write(
            &case,
            json!({"secret": secret, "headers": headers, "body_hex": hex::encode(body), "now": now}).to_string(),
        )
        .unwrap();
        let out = Command::new("python3")
            .arg(&script)
            .arg(&case)
            .output()
            .expect("python3 runs");
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    assert_eq!(run("genuine", &secret, &headers, &body, None), "valid");
    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    assert_eq!(run("tampered_body", &secret, &headers, &tampered, None), "invalid");
    let other = recourse::webhooks::signing::generate_secret();
    assert_eq!(run("wrong_secret", &other, &headers, &body, None), "invalid");
    let mut replayed = headers.clone();
    replayed["webhook-id"] = json!("another-id");
    assert_eq!(run("other_id", &secret, &replayed, &body, None), "invalid");
    let ts: i64 = headers["webhook-timestamp"].as_str().unwrap().parse().unwrap();
    assert_eq!(run("stale", &secret, &headers, &body, Some(ts + 3600)), "invalid");
}
