//! Text that one backend cannot store (issue 13, finding 2): a NUL in any path, query, body,
//! form or token subject used to reach PostgreSQL and come back as a 500 ("invalid byte sequence
//! for encoding UTF8: 0x00"), while SQLite answered 404 or 200. It is refused at the edge now,
//! with the same 4xx on both backends (400 in a path or query, 422 at its pointer in a body), and
//! nothing is stored.

use recourse::domain::Role;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{appeal_body, assert_problem, decision_body, spawn_app};

#[tokio::test]
async fn a_nul_character_anywhere_is_a_4xx_on_both_backends() {
    let app = spawn_app().await;
    let decision = app.decision_for("n-1", "subject-1").await;
    let (dpo, admin, reviewer, subject) = (
        app.token_for(Role::Dpo),
        app.token_for(Role::Admin),
        app.token(Role::Reviewer, "rev-1"),
        app.token(Role::Subject, "subject-1"),
    );
    let before = (app.decision_count().await, app.audit_total().await);

    let gets = [
        ("/v1/decisions/%00", &dpo),
        ("/v1/decisions/a%00b", &dpo),
        ("/v1/subjects/%00/decisions", &dpo),
        ("/v1/subjects/%00/export", &dpo),
        ("/v1/models/%00/stats", &admin),
        ("/v1/appeals/%00", &dpo),
        ("/v1/feedback?after=%00", &app.token(Role::Engine, "engine-1")),
        ("/v1/subjects/subject-1/decisions?after=%00", &dpo),
        ("/ui/decisions/%00", &dpo),
    ];
    for (path, token) in gets {
        let res = app.get(path, token).await;
        assert_problem(res, StatusCode::BAD_REQUEST, "invalid_character").await;
    }
    let res = app
        .client
        .post(app.url("/v1/queue/claim?appeal_id=%00"))
        .bearer_auth(&reviewer)
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::BAD_REQUEST, "invalid_character").await;

    let mut statement = appeal_body();
    statement["statement"] = json!("My income is wrong\u{0}, see payslips attached here.");
    let mut input_key = appeal_body();
    input_key["corrected_inputs"] = json!({"annual\u{0}income": 41000});
    let mut decision_text = decision_body("n-2", "subject-1");
    decision_text["explanation"]["inputs"]["employer"] = json!("ACME\u{0}");
    let bodies = [
        (
            "PUT",
            "/v1/queues/q1".to_owned(),
            json!({"description": "a\u{0}b"}),
            &admin,
        ),
        ("POST", format!("/v1/decisions/{decision}/appeals"), statement, &subject),
        ("POST", format!("/v1/decisions/{decision}/appeals"), input_key, &subject),
        (
            "POST",
            "/v1/subjects/subject-1/objection".to_owned(),
            json!({"scope": "profiling", "grounds": "\u{0}"}),
            &subject,
        ),
        (
            "POST",
            "/v1/subjects/subject-1/restriction".to_owned(),
            json!({"reason": "x\u{0}"}),
            &dpo,
        ),
        (
            "POST",
            "/v1/decisions".to_owned(),
            decision_text,
            &app.token(Role::Engine, "engine-1"),
        ),
    ];
    for (method, path, body, token) in bodies {
        let request = match method {
            "PUT" => app.client.put(app.url(&path)),
            _ => app.client.post(app.url(&path)),
        };
        let res = request.bearer_auth(token).json(&body).send().await.unwrap();
        // In a body the refusal points at the string or key that holds the NUL.
        let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        let pointer = &crate::helpers::pointers(&problem)[0];
        assert!(
            problem["errors"][0]["detail"].as_str().unwrap().contains("NUL"),
            "{problem}"
        );
        assert!(
            [
                "/description",
                "/statement",
                "/corrected_inputs",
                "/grounds",
                "/reason",
                "/explanation/inputs/employer"
            ]
            .contains(&pointer.as_str()),
            "{path}: {pointer}"
        );
    }
    // A batch item with a NUL is refused with the batch, at its pointer.
    let mut item = decision_body("n-3", "subject-1");
    item["outcome"] = json!("declined\u{0}");
    let res = app
        .post_json(
            "/v1/decisions/batch",
            &app.token(Role::Engine, "engine-1"),
            &json!({"decisions": [item]}),
        )
        .await;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(crate::helpers::pointers(&problem), ["/decisions/0/outcome"]);

    // A token whose subject holds a NUL is not a principal.
    let res = app
        .get("/v1/subjects/x/decisions", &app.token(Role::Subject, "a\u{0}b"))
        .await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "unauthorized").await;

    // A web form with a NUL is refused before it is read.
    let res = app
        .client
        .post(app.url("/ui/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("token=a%00b")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    assert_eq!(
        (app.decision_count().await, app.audit_total().await),
        before,
        "nothing stored"
    );
}

/// Issue 13: a truncated body is malformed JSON (400), even when its first key is unknown; a key
/// sent twice is refused wherever it is, not silently replaced; JSON in another charset is 415.
#[tokio::test]
async fn syntax_errors_win_repeated_keys_are_refused_and_only_utf8_is_json() {
    let app = spawn_app().await;
    let decision = app.decision_for("d-1", "subject-1").await;
    let subject = app.token(Role::Subject, "subject-1");
    let path = format!("/v1/decisions/{decision}/appeals");
    let raw = |body: &'static str, content_type: &'static str| {
        app.client
            .post(app.url(&path))
            .bearer_auth(&subject)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let res = raw(r#"{"broken":"#, "application/json").await.unwrap();
    assert_problem(res, StatusCode::BAD_REQUEST, "malformed_json").await;
    let res = app
        .client
        .put(app.url("/v1/queues/q1"))
        .bearer_auth(app.token_for(Role::Admin))
        .header("content-type", "application/json")
        .body(r#"{"broken":"#)
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::BAD_REQUEST, "malformed_json").await;

    let twice =
        r#"{"grounds":["other"],"statement":"The first statement of my view here.","statement":"A second one."}"#;
    let res = raw(twice, "application/json").await.unwrap();
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(crate::helpers::pointers(&problem), ["/statement"]);
    let in_inputs = r#"{"grounds":["inaccurate_data"],"statement":"My income is wrong, see the payslips.","corrected_inputs":{"annual_income":41000,"annual_income":1}}"#;
    let res = raw(in_inputs, "application/json").await.unwrap();
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(crate::helpers::pointers(&problem), ["/corrected_inputs/annual_income"]);

    let res = raw(r#"{}"#, "application/json; charset=utf-16").await.unwrap();
    assert_problem(res, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type").await;
    let ok = r#"{"grounds":["other"],"statement":"I would like a person to look at this decision."}"#;
    let res = raw(ok, "application/json; charset=UTF-8").await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
}

/// Issue 13: text that would display other than it reads (a right-to-left override, a byte-order
/// mark, a noncharacter) is refused in outcomes, statements and names.
#[tokio::test]
async fn text_that_would_display_other_than_it_reads_is_refused() {
    let app = spawn_app().await;
    let decision = app.decision_for("d-1", "subject-1").await;
    let mut outcome = decision_body("d-2", "subject-1");
    outcome["outcome"] = json!("declined\u{202e}devorppa");
    let res = app.post_decision("engine-1", &outcome).await;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(crate::helpers::pointers(&problem), ["/outcome"]);
    for text in [
        "My view\u{202e}weiv ym",
        "\u{feff}My view on the decision",
        "My view\u{fdd0} on it",
    ] {
        let mut body = appeal_body();
        body["statement"] = json!(text);
        let res = app
            .post_json(
                &format!("/v1/decisions/{decision}/appeals"),
                &app.token(Role::Subject, "subject-1"),
                &body,
            )
            .await;
        let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(crate::helpers::pointers(&problem), ["/statement"], "{text:?}");
    }
    let res = app
        .post_json(
            "/v1/engines",
            &app.token_for(Role::Admin),
            &json!({"id": "engine-2", "name": "Scoring\u{2066} engine"}),
        )
        .await;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(crate::helpers::pointers(&problem), ["/name"]);
}
