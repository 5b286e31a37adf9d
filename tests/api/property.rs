//! Arbitrary Unicode through every text field and path parameter of every writing operation
//! (issue 13): NUL, lone surrogates sent as JSON escapes, bidirectional controls, byte-order
//! marks, noncharacters, quotes and backslashes, mixed with ordinary and random text. Whatever is
//! sent, the answer is 2xx or 4xx, never 5xx, on both backends.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use recourse::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, appeal_body, decision_body, review_body, spawn_app};

/// Stands for a lone surrogate: Rust strings cannot hold one, so it is written into the JSON
/// text as the escape `\ud800` after serialising.
const SURROGATE: char = '\u{e000}';

fn hostile_text() -> impl Strategy<Value = String> {
    let visible = prop_oneof![
        4 => any::<char>(),
        4 => proptest::char::range('a', 'z'),
        1 => prop::sample::select(vec!['\u{202a}', '\u{202e}', '\u{2066}', '\u{2069}', '\u{200f}']),
        1 => prop::sample::select(vec!['\u{feff}', '\u{fdd0}', '\u{fffe}', '\u{ffff}', '\u{1fffe}']),
        1 => prop::sample::select(vec!['"', '\\', '/', '%', '\n', '\t', ' ', '\u{85}', '\u{7f}']),
    ];
    let with_unstorable = prop_oneof![8 => visible.clone(), 1 => Just('\0'), 1 => Just(SURROGATE)];
    let text =
        |c: BoxedStrategy<char>| prop::collection::vec(c, 0..48).prop_map(|cs| cs.into_iter().collect::<String>());
    // Most strings can be stored, so the cases get past the edge into the services; some hold a
    // NUL or a lone surrogate, which the edge refuses.
    prop_oneof![2 => text(visible.boxed()), 1 => text(with_unstorable.boxed())]
}

/// One writing operation: who calls it, its path (with `{param}`s) and a valid body.
struct Operation {
    method: &'static str,
    path: String,
    role: Role,
    sub: &'static str,
    body: Value,
}

fn op(method: &'static str, path: impl Into<String>, role: Role, sub: &'static str, body: Value) -> Operation {
    Operation {
        method,
        path: path.into(),
        role,
        sub,
        body,
    }
}

/// The writing operations, each against fixtures that exist.
async fn operations(app: &TestApp) -> Vec<Operation> {
    app.configure_reviewer("rev-p", &["credit_limit"], 50).await;
    let decision = app.decision_for("p-1", "subject-p").await;
    let appeal = app.queued_appeal("p-2", "subject-p").await;
    let (_, token, _) = app.claim("rev-p").await.unwrap();
    let reason = "Documented in the case file";
    vec![
        op(
            "POST",
            "/v1/decisions",
            Role::Engine,
            "engine-1",
            decision_body("{text}", "subject-p"),
        ),
        op(
            "POST",
            format!("/v1/decisions/{decision}/appeals"),
            Role::Subject,
            "subject-p",
            appeal_body(),
        ),
        op(
            "POST",
            "/v1/decisions/{param}/appeals",
            Role::Agent,
            "agent-p",
            json!({"grounds": ["other"], "statement": "The caller disagrees with it.", "channel": "phone",
                   "identity_check": {"method": "knowledge_based", "result": "verified"}}),
        ),
        op(
            "POST",
            format!("/v1/appeals/{appeal}/extension"),
            Role::Supervisor,
            "sup",
            json!({"months": 1, "reason": reason}),
        ),
        op(
            "POST",
            "/v1/appeals/{param}/assignment",
            Role::Supervisor,
            "sup",
            json!({"reviewer": "rev-p", "reason": reason}),
        ),
        op(
            "POST",
            format!("/v1/appeals/{appeal}/review"),
            Role::Reviewer,
            "rev-p",
            review_body(&token, "amend"),
        ),
        op(
            "POST",
            "/v1/appeals/{param}/withdrawal",
            Role::Agent,
            "agent-p",
            json!({"identity_method": "security questions"}),
        ),
        op(
            "POST",
            "/v1/subjects/{param}/objection",
            Role::Dpo,
            "dpo",
            json!({"scope": "profiling", "grounds": reason}),
        ),
        op(
            "POST",
            "/v1/subjects/{param}/restriction",
            Role::Dpo,
            "dpo",
            json!({"reason": reason}),
        ),
        op(
            "POST",
            "/v1/subjects/subject-p/rectifications",
            Role::Subject,
            "subject-p",
            json!({"decision_id": decision, "corrected_inputs": {"annual_income": "41000"}, "note": reason}),
        ),
        op(
            "POST",
            "/v1/subjects/{param}/erasure",
            Role::Dpo,
            "dpo",
            json!({"reason": reason}),
        ),
        op(
            "POST",
            "/v1/breaches",
            Role::Agent,
            "agent-p",
            json!({"description": "A laptop was stolen"}),
        ),
        op(
            "PUT",
            "/v1/queues/{param}",
            Role::Admin,
            "admin",
            json!({"description": "A queue"}),
        ),
        op(
            "PUT",
            "/v1/reviewers/{param}",
            Role::Admin,
            "admin",
            json!({"authorities": ["credit_limit"], "capacity": 1}),
        ),
        op(
            "PUT",
            "/v1/policies/{param}",
            Role::Admin,
            "admin",
            json!({"requires_approval": false}),
        ),
        op(
            "POST",
            "/v1/engines",
            Role::Admin,
            "admin",
            json!({"id": "engine-x", "name": "An engine"}),
        ),
        op(
            "POST",
            "/v1/engines/engine-1/endpoints",
            Role::Admin,
            "admin",
            json!({"url": "http://127.0.0.1:9/hook"}),
        ),
        op(
            "POST",
            "/v1/models/{param}/suspension",
            Role::Supervisor,
            "sup",
            json!({"reason": reason}),
        ),
    ]
}

/// JSON pointers of every string in `v` (values and object keys), the targets of a mutation.
fn text_leaves(v: &Value, at: String, out: &mut Vec<(String, bool)>) {
    match v {
        Value::String(_) => out.push((at, false)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(i, x)| text_leaves(x, format!("{at}/{i}"), out)),
        Value::Object(map) => {
            for (k, x) in map {
                let child = format!("{at}/{k}");
                out.push((child.clone(), true));
                text_leaves(x, child, out);
            }
        }
        _ => {}
    }
}

/// The body with the string at `pointer` (or the key there) replaced by `text`, as JSON text.
fn mutated(body: &Value, pointer: &str, is_key: bool, text: &str) -> String {
    let mut body = body.clone();
    if is_key {
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let map = body.pointer_mut(parent).and_then(Value::as_object_mut).unwrap();
        let value = map.remove(key).unwrap();
        map.insert(text.to_owned(), value);
    } else {
        *body.pointer_mut(pointer).unwrap() = Value::String(text.to_owned());
    }
    // serde_json writes U+E000 as is; a lone surrogate escape is what a hostile client sends.
    body.to_string().replace(SURROGATE, "\\ud800")
}

fn percent_encoded(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn arbitrary_unicode_in_any_text_field_is_never_a_server_error() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let app = runtime.block_on(spawn_app());
    let operations = runtime.block_on(operations(&app));
    let targets: Vec<(usize, Option<(String, bool)>)> = operations
        .iter()
        .enumerate()
        .flat_map(|(i, op)| {
            let mut leaves = Vec::new();
            text_leaves(&op.body, String::new(), &mut leaves);
            let mut targets: Vec<_> = leaves.into_iter().map(|l| (i, Some(l))).collect();
            if op.path.contains("{param}") {
                targets.push((i, None));
            }
            targets
        })
        .collect();
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (0..targets.len(), hostile_text());
    let statuses = std::sync::Mutex::new(std::collections::BTreeMap::<u16, usize>::new());
    let result = runner.run(&strategy, |(target, text)| {
        let (i, leaf) = &targets[target];
        let op = &operations[*i];
        let (path, body) = match leaf {
            Some((pointer, is_key)) => (
                op.path.replace("{param}", "subject-p"),
                mutated(&op.body, pointer, *is_key, &text),
            ),
            None => (op.path.replace("{param}", &percent_encoded(&text)), op.body.to_string()),
        };
        let token = app.token(op.role, op.sub);
        let status = runtime.block_on(async {
            let request = match op.method {
                "PUT" => app.client.put(app.url(&path)),
                _ => app.client.post(app.url(&path)),
            };
            request
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await
                .map(|r| r.status())
        });
        let status = status.map_err(|e| TestCaseError::fail(format!("{} {path}: {e}", op.method)))?;
        *statuses.lock().unwrap().entry(status.as_u16()).or_default() += 1;
        prop_assert!(
            status.is_success() || status.is_client_error(),
            "{} {path} with {body} answered {status}",
            op.method
        );
        Ok(())
    });
    drop(app);
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    if let Err(e) = result {
        panic!("{e}");
    }
    // The cases reach the services: some are accepted, and refusals are about the text, not
    // about who is asking.
    let statuses = statuses.into_inner().unwrap();
    eprintln!("statuses: {statuses:?}");
    let count = |range: std::ops::Range<u16>| statuses.range(range).map(|(_, n)| n).sum::<usize>();
    assert!(count(200..300) > 0, "{statuses:?}");
    assert!(count(400..401) + count(422..423) > 0, "{statuses:?}");
    assert_eq!(count(401..402), 0, "{statuses:?}");
}
