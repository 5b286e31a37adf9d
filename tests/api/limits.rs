//! Request limits (docs/SECURITY.md, "Limits"): body size per route, JSON nesting depth, array
//! and string lengths, page sizes, and the failed-authentication throttle.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use recourse::domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, appeal_body, assert_problem, decision_body, pointers, review_body, spawn_app, spawn_app_with,
};

/// Sends raw bytes and reads until the server has answered with a complete head, giving up
/// (and failing) after 10 s so that a server that waits for the rest of the body is caught.
fn raw_exchange(app: &TestApp, head: &str, body_part: &[u8]) -> String {
    let addr = app.address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    // The server may answer and close before it has read all of this; that is the point.
    let _ = stream.write_all(body_part);
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                answer.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&answer);
                if let Some(end) = text.find("\r\n\r\n")
                    && text[end + 4..].contains('}')
                {
                    break;
                }
            }
            Err(e) => panic!(
                "no answer before the body was sent in full: {e}; got {:?}",
                String::from_utf8_lossy(&answer)
            ),
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn a_body_declared_larger_than_the_limit_is_refused_before_it_is_sent() {
    let app = spawn_app().await;
    app.register_engine("engine-1").await;
    let token = app.token(Role::Engine, "engine-1");
    let head = format!(
        "POST /v1/decisions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n"
    );
    // Only 1 KB of the declared gigabyte is ever sent.
    let answer = tokio::task::spawn_blocking(move || raw_exchange(&app, &head, &[b' '; 1024]))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.contains("application/problem+json") && answer.contains("payload_too_large"),
        "{answer}"
    );
}

#[tokio::test]
async fn a_chunked_body_is_cut_off_at_the_limit_without_reading_the_rest() {
    let app = spawn_app().await;
    app.register_engine("engine-1").await;
    let token = app.token(Role::Engine, "engine-1");
    let head = format!(
        "POST /v1/decisions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    // 128 KB in 16 KB chunks, with no terminating chunk: a server that waited for the end of
    // the body would never answer.
    let mut chunks = Vec::new();
    for _ in 0..8 {
        chunks.extend_from_slice(format!("{:x}\r\n", 16 * 1024).as_bytes());
        chunks.extend_from_slice(&[b' '; 16 * 1024]);
        chunks.extend_from_slice(b"\r\n");
    }
    let answer = tokio::task::spawn_blocking(move || raw_exchange(&app, &head, &chunks))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
}

#[tokio::test]
async fn body_limits_are_per_route_and_configurable() {
    let app = spawn_app_with(|s| s.limits.json_body_bytes = 4 * 1024).await;
    app.register_engine("engine-1").await;
    let token = app.token(Role::Engine, "engine-1");
    let mut big = decision_body("big", "subject-1");
    big["explanation"]["counterfactual"]["text"] = json!("x".repeat(5 * 1024));
    let res = app.post_json("/v1/decisions", &token, &big).await;
    assert_problem(res, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    // The batch route has its own, larger limit: eight decisions (about 8 KB) pass.
    let items: Vec<Value> = (0..8).map(|i| decision_body(&format!("b-{i}"), "subject-1")).collect();
    let body = json!({ "decisions": items });
    assert!(body.to_string().len() > 4 * 1024);
    let res = app.post_json("/v1/decisions/batch", &token, &body).await;
    assert_eq!(res.status(), StatusCode::OK);
}

fn nested(depth: usize) -> String {
    format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
}

#[tokio::test]
async fn json_nested_deeper_than_the_limit_is_400_before_parsing() {
    let app = spawn_app().await;
    app.register_engine("engine-1").await;
    let token = app.token(Role::Engine, "engine-1");
    let with_input = |value: &str| {
        let mut body = decision_body("deep", "subject-1").to_string();
        body = body.replacen("\"annual_income\":28000", &format!("\"annual_income\":{value}"), 1);
        assert!(body.contains(value));
        body
    };
    let post = |body: String| {
        app.client
            .post(app.url("/v1/decisions"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    // 3 levels are the decision, its explanation and its inputs.
    let res = post(with_input(&nested(29))).await.unwrap();
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(pointers(&problem), ["/explanation/inputs/annual_income"]);
    let res = post(with_input(&nested(30))).await.unwrap();
    let problem = assert_problem(res, StatusCode::BAD_REQUEST, "json_too_deep").await;
    assert!(problem["detail"].as_str().unwrap().contains("32"), "{problem}");
    // Deeper than serde_json's own recursion limit, and far deeper: still a plain 400.
    for depth in [200, 30_000] {
        let res = post(nested(depth)).await.unwrap();
        assert_problem(res, StatusCode::BAD_REQUEST, "json_too_deep").await;
    }
    // Brackets inside strings are text, not nesting.
    let mut body = decision_body("brackets", "subject-1");
    body["explanation"]["inputs"]["employment"] = json!("[".repeat(500));
    assert_eq!(
        app.post_json("/v1/decisions", &token, &body).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(app.decision_count().await, 1);

    let strict = spawn_app_with(|s| s.limits.json_max_depth = 3).await;
    strict.register_engine("engine-1").await;
    let res = strict
        .post_decision("engine-1", &decision_body("four-levels", "subject-1"))
        .await;
    assert_problem(res, StatusCode::BAD_REQUEST, "json_too_deep").await;
}

/// One oversized array or string per writable field family: 422 naming the field.
#[tokio::test]
async fn oversized_arrays_and_strings_are_422_at_the_field() {
    let app = spawn_app().await;
    app.register_engine("engine-1").await;
    app.configure_reviewer("rev", &["credit_limit"], 5).await;
    let engine = app.token(Role::Engine, "engine-1");
    let admin = app.token_for(Role::Admin);
    let dpo = app.token_for(Role::Dpo);
    let long = |n: usize| "x".repeat(n);

    let mut decision_cases: Vec<(&str, Value)> = Vec::new();
    let mut d = decision_body("a", "subject-1");
    d["external_id"] = json!(long(129));
    decision_cases.push(("/external_id", d));
    let mut d = decision_body("a", "subject-1");
    d["subject_id"] = json!(long(129));
    decision_cases.push(("/subject_id", d));
    let mut d = decision_body("a", "subject-1");
    d["outcome"] = json!(long(65));
    decision_cases.push(("/outcome", d));
    let mut d = decision_body("a", "subject-1");
    d["explanation"]["reason_codes"] = json!(vec![json!({"code": "D01", "text": "Too low"}); 5]);
    decision_cases.push(("/explanation/reason_codes", d));
    let mut d = decision_body("a", "subject-1");
    d["explanation"]["contributions"] = json!(vec![json!({"feature": "f", "weight": 0.1}); 257]);
    decision_cases.push(("/explanation/contributions", d));
    let mut d = decision_body("a", "subject-1");
    d["explanation"]["inputs"] = (0..257).map(|i| (format!("f{i}"), json!(1))).collect();
    decision_cases.push(("/explanation/inputs", d));
    let mut d = decision_body("a", "subject-1");
    d["explanation"]["inputs"]["employment"] = json!(long(1025));
    decision_cases.push(("/explanation/inputs/employment", d));
    let mut d = decision_body("a", "subject-1");
    d["explanation"]["reason_codes"][0]["text"] = json!(long(513));
    decision_cases.push(("/explanation/reason_codes/0/text", d));
    for (pointer, body) in decision_cases {
        let res = app.post_json("/v1/decisions", &engine, &body).await;
        let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert!(pointers(&problem).contains(&pointer.to_owned()), "{pointer}: {problem}");
    }
    let res = app
        .post_json(
            "/v1/decisions/batch",
            &engine,
            &json!({"decisions": vec![json!({}); 1001]}),
        )
        .await;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(pointers(&problem), ["/decisions"]);
    assert_eq!(app.decision_count().await, 0);

    let decision = app.decision_for("d-1", "subject-1").await;
    let subject = app.token(Role::Subject, "subject-1");
    let appeals = format!("/v1/decisions/{decision}/appeals");
    let mut appeal_cases: Vec<(&str, Value)> = Vec::new();
    let mut a = appeal_body();
    a["statement"] = json!(long(10_001));
    appeal_cases.push(("/statement", a));
    let mut a = appeal_body();
    a["evidence"] = json!(vec![
        json!({"name": "p.pdf", "media_type": "application/pdf", "size_bytes": 1});
        21
    ]);
    appeal_cases.push(("/evidence", a));
    let mut a = appeal_body();
    a["requested_outcome"] = json!(long(65));
    appeal_cases.push(("/requested_outcome", a));
    let mut a = appeal_body();
    a["evidence"][0]["name"] = json!(long(201));
    appeal_cases.push(("/evidence/0/name", a));
    for (pointer, body) in appeal_cases {
        let res = app.post_json(&appeals, &subject, &body).await;
        let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert!(pointers(&problem).contains(&pointer.to_owned()), "{pointer}: {problem}");
    }

    let appeal = app.queued_appeal("d-2", "subject-2").await;
    let (_, token, _) = app.claim("rev").await.unwrap();
    let reviewer = app.token(Role::Reviewer, "rev");
    let mut review_cases: Vec<(&str, &str, Value)> = Vec::new();
    let mut r = review_body(&token, "uphold");
    r["rationale"] = json!(format!("{} {}", crate::helpers::RATIONALE, long(10_000)));
    review_cases.push(("review", "/rationale", r));
    let mut r = review_body(&token, "uphold");
    r["factors_considered"] = json!((0..101).map(|i| format!("input:f{i}")).collect::<Vec<_>>());
    review_cases.push(("review", "/factors_considered", r));
    let mut r = review_body(&token, "uphold");
    r["lease_token"] = json!(long(129));
    review_cases.push(("review", "/lease_token", r));
    review_cases.push(("lease/heartbeat", "/lease_token", json!({"lease_token": long(129)})));
    for (op, pointer, body) in review_cases {
        let res = app
            .post_json(&format!("/v1/appeals/{appeal}/{op}"), &reviewer, &body)
            .await;
        let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert!(
            pointers(&problem).contains(&pointer.to_owned()),
            "{op} {pointer}: {problem}"
        );
    }
    let res = app
        .client
        .delete(app.url(&format!("/v1/appeals/{appeal}/lease")))
        .bearer_auth(&reviewer)
        .json(&json!({"lease_token": long(129)}))
        .send()
        .await
        .unwrap();
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(pointers(&problem), ["/lease_token"]);

    let admin_cases: Vec<(&str, String, &str, Value)> = vec![
        (
            "POST",
            "/v1/engines".into(),
            "/id",
            json!({"id": long(65), "name": "n"}),
        ),
        (
            "POST",
            "/v1/engines".into(),
            "/name",
            json!({"id": "e2", "name": long(201)}),
        ),
        (
            "POST",
            "/v1/engines/engine-1/endpoints".into(),
            "/url",
            json!({"url": format!("https://example.com/{}", long(2000))}),
        ),
        (
            "PUT",
            "/v1/queues/q".into(),
            "/description",
            json!({"description": long(501)}),
        ),
        (
            "PUT",
            "/v1/queues/q".into(),
            "/rules",
            json!({"rules": (0..101).map(|i| json!({"position": i})).collect::<Vec<_>>()}),
        ),
        ("PUT", format!("/v1/queues/{}", long(65)), "/name", json!({})),
        (
            "PUT",
            "/v1/reviewers/r".into(),
            "/authorities",
            json!({"authorities": (0..101).map(|i| format!("t{i}")).collect::<Vec<_>>(), "capacity": 1}),
        ),
        (
            "PUT",
            format!("/v1/reviewers/{}", long(129)),
            "/id",
            json!({"authorities": [], "capacity": 1}),
        ),
        ("PUT", format!("/v1/policies/{}", long(65)), "/decision_type", json!({})),
        (
            "POST",
            "/v1/models/limits/suspension".into(),
            "/reason",
            json!({"reason": long(2001)}),
        ),
        (
            "POST",
            format!("/v1/models/{}/suspension", long(129)),
            "/name",
            json!({"reason": "Drift"}),
        ),
    ];
    for (method, path, pointer, body) in admin_cases {
        let req = if method == "PUT" {
            app.client.put(app.url(&path))
        } else {
            app.client.post(app.url(&path))
        };
        let res = req.bearer_auth(&admin).json(&body).send().await.unwrap();
        let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert!(
            pointers(&problem).contains(&pointer.to_owned()),
            "{method} {pointer}: {problem}"
        );
    }

    let reason = json!({"reason": long(2001)});
    for path in ["erasure", "restriction"] {
        let res = app
            .post_json(&format!("/v1/subjects/subject-1/{path}"), &dpo, &reason)
            .await;
        let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(pointers(&problem), ["/reason"], "{path}");
    }
    let res = app
        .post_json(
            "/v1/subjects/subject-1/objection",
            &subject,
            &json!({"scope": "profiling", "grounds": long(2001)}),
        )
        .await;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(pointers(&problem), ["/grounds"]);
}

/// Page sizes are clamped to 1..=500 (decisions and deliveries) rather than refused, so a
/// client asking for "everything" gets the largest page and a cursor.
#[tokio::test]
async fn page_sizes_are_clamped_to_the_maximum_page() {
    let app = spawn_app().await;
    app.register_engine("engine-1").await;
    let engine = app.token(Role::Engine, "engine-1");
    let items: Vec<Value> = (0..501).map(|i| decision_body(&format!("p-{i}"), "pager")).collect();
    let res = app
        .post_json("/v1/decisions/batch", &engine, &json!({ "decisions": items }))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let agent = app.token_for(Role::Agent);
    async fn page(app: &TestApp, agent: &str, limit: &str) -> Value {
        let res = app
            .get(&format!("/v1/subjects/pager/decisions?limit={limit}"), agent)
            .await;
        assert_eq!(res.status(), StatusCode::OK, "limit={limit}");
        res.json::<Value>().await.unwrap()
    }
    for limit in ["1000000", "9223372036854775807"] {
        let body = page(&app, &agent, limit).await;
        assert_eq!(body["items"].as_array().unwrap().len(), 500, "limit={limit}");
        assert!(body["next_cursor"].is_string());
    }
    for limit in ["0", "-5", "-9223372036854775808"] {
        let body = page(&app, &agent, limit).await;
        assert_eq!(body["items"].as_array().unwrap().len(), 1, "limit={limit}");
    }
    let res = app.get("/v1/subjects/pager/decisions?limit=lots", &agent).await;
    assert_problem(res, StatusCode::BAD_REQUEST, "invalid_query").await;
    for path in ["/v1/feedback?limit=99999999999", "/v1/feedback?limit=-1"] {
        assert_eq!(app.get(path, &engine).await.status(), StatusCode::OK, "{path}");
    }
    let res = app
        .get("/v1/webhooks/deliveries?limit=99999999999", &app.token_for(Role::Admin))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

async fn bad_token(app: &TestApp, client: &reqwest::Client) -> reqwest::Response {
    client
        .get(app.url("/v1/engines"))
        .bearer_auth("not.a.token")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn failed_authentication_bursts_get_429_with_retry_after() {
    let app = spawn_app_with(|s| {
        s.limits.auth_failures = 3;
        s.limits.auth_failure_window = Duration::from_secs(60);
    })
    .await;
    let admin = app.token_for(Role::Admin);
    // Successes and authorisation failures (403) do not count.
    for _ in 0..10 {
        assert_eq!(app.get("/v1/engines", &admin).await.status(), StatusCode::OK);
        let res = app.get("/v1/engines", &app.token_for(Role::Reviewer)).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
    for _ in 0..3 {
        let res = bad_token(&app, &app.client).await;
        assert_problem(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
    let res = bad_token(&app, &app.client).await;
    let retry_after: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_problem(res, StatusCode::TOO_MANY_REQUESTS, "too_many_failed_authentications").await;
    // While throttled, the client cannot try tokens at all, good ones included.
    let res = app.get("/v1/engines", &admin).await;
    assert_problem(res, StatusCode::TOO_MANY_REQUESTS, "too_many_failed_authentications").await;
    // Health checks are never throttled.
    assert_eq!(
        app.client.get(app.url("/healthz")).send().await.unwrap().status(),
        StatusCode::OK
    );
    // Another client address (127.0.0.2 is loopback too) is not affected.
    let other = reqwest::Client::builder()
        .local_address("127.0.0.2".parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap();
    let res = other
        .get(app.url("/v1/engines"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = bad_token(&app, &other).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

/// Refused web sign-ins count like API 401s: pasting tokens into the login form is no way
/// around the throttle.
#[tokio::test]
async fn refused_web_sign_ins_count_as_failed_authentications() {
    let app = spawn_app_with(|s| s.limits.auth_failures = 2).await;
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form = browser
        .get(app.url("/ui/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let at = form.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    let csrf = form[at..].split('"').next().unwrap().to_owned();
    let sign_in = |token: &str| {
        browser
            .post(app.url("/ui/login"))
            .form(&[("csrf", csrf.as_str()), ("token", token)])
            .send()
    };
    for _ in 0..2 {
        let res = sign_in("not.a.token").await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    let res = sign_in(&app.token_for(Role::Reviewer)).await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    let res = browser
        .get(app.url("/ui/login/link?t=not.a.token"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_throttle_can_be_turned_off() {
    let app = spawn_app_with(|s| s.limits.auth_failures = 0).await;
    for _ in 0..30 {
        assert_eq!(bad_token(&app, &app.client).await.status(), StatusCode::UNAUTHORIZED);
    }
}

#[test]
fn every_limit_is_a_serve_flag_with_an_environment_variable() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_recourse"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for (flag, env) in [
        ("--max-json-body", "RECOURSE_MAX_JSON_BODY"),
        ("--max-batch-body", "RECOURSE_MAX_BATCH_BODY"),
        ("--max-json-depth", "RECOURSE_MAX_JSON_DEPTH"),
        ("--auth-failure-limit", "RECOURSE_AUTH_FAILURE_LIMIT"),
        ("--auth-failure-window", "RECOURSE_AUTH_FAILURE_WINDOW"),
    ] {
        assert!(
            help.contains(flag) && help.contains(env),
            "{flag} / {env} missing from:\n{help}"
        );
    }
}
