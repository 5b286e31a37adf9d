//! The web UI, as HTML over HTTP: sessions and their cookies, one-time login links, CSRF on
//! every form, roles exactly as in the API, and each role's pages end to end.

use diesel::prelude::*;
use recourse::db::schema::{appeals, audit_log, notices, web_sessions};
use recourse::domain::Role;
use reqwest::StatusCode;
use reqwest::header::{LOCATION, SET_COOKIE};
use serde_json::json;

use crate::helpers::{RATIONALE, TestApp, review_body, spawn_app, spawn_app_with};

/// A browser: its own cookie jar, redirects shown rather than followed.
struct Web {
    client: reqwest::Client,
    base: String,
    csrf: String,
}

struct Page {
    status: StatusCode,
    location: Option<String>,
    set_cookies: Vec<String>,
    body: String,
}

fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a form with a csrf field") + 19;
    html[at..].split('"').next().unwrap().to_owned()
}

impl Web {
    fn new(app: &TestApp) -> Self {
        Self {
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: app.address.clone(),
            csrf: String::new(),
        }
    }

    async fn page(res: reqwest::Response) -> Page {
        Page {
            status: res.status(),
            location: res.headers().get(LOCATION).map(|v| v.to_str().unwrap().to_owned()),
            set_cookies: res
                .headers()
                .get_all(SET_COOKIE)
                .iter()
                .map(|v| v.to_str().unwrap().to_owned())
                .collect(),
            body: res.text().await.unwrap(),
        }
    }

    async fn get(&self, path: &str) -> Page {
        Self::page(self.client.get(format!("{}{path}", self.base)).send().await.unwrap()).await
    }

    /// Posts a form as sent by a browser, without adding anything.
    async fn post_raw(&self, path: &str, form: &[(&str, &str)]) -> Page {
        let res = self
            .client
            .post(format!("{}{path}", self.base))
            .form(form)
            .send()
            .await
            .unwrap();
        Self::page(res).await
    }

    /// Posts a form with this session's CSRF token.
    async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        let mut fields = vec![("csrf", self.csrf.as_str())];
        fields.extend_from_slice(form);
        self.post_raw(path, &fields).await
    }

    /// Signs in by pasting a bearer token, and picks up the session's CSRF token.
    async fn login(app: &TestApp, role: Role, sub: &str) -> Self {
        let mut web = Self::new(app);
        let form = web.get("/ui/login").await;
        let csrf = csrf_of(&form.body);
        let token = app.token(role, sub);
        let res = web.post_raw("/ui/login", &[("csrf", &csrf), ("token", &token)]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let home = web.get(res.location.as_deref().unwrap()).await;
        assert_eq!(home.status, StatusCode::OK, "{}", home.body);
        web.csrf = csrf_of(&home.body);
        web
    }
}

fn cookie_named<'a>(p: &'a Page, name: &str) -> &'a str {
    p.set_cookies
        .iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie in {:?}", p.set_cookies))
}

async fn queued_for_reviewer(app: &TestApp, reviewer: &str) -> String {
    app.configure_reviewer(reviewer, &["credit_limit"], 5).await;
    app.queued_appeal("a-1", "subject-1").await
}

async fn appeal_status(app: &TestApp, id: &str) -> String {
    let id = id.to_owned();
    app.with_db(move |c| appeals::table.find(id).select(appeals::status).first(c))
        .await
}

async fn audit_actions(app: &TestApp) -> Vec<(String, String)> {
    app.with_db(|c| {
        audit_log::table
            .order(audit_log::seq.asc())
            .select((audit_log::actor, audit_log::action))
            .load(c)
    })
    .await
}

#[tokio::test]
async fn pages_are_self_contained_accessible_html() {
    let app = spawn_app().await;
    let web = Web::new(&app);
    let root = web.get("/").await;
    assert_eq!(root.location.as_deref(), Some("/ui"));
    let home = web.get("/ui").await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert_eq!(home.location.as_deref(), Some("/ui/login"));

    let res = web.client.get(app.url("/ui/login")).send().await.unwrap();
    let headers = res.headers().clone();
    let body = res.text().await.unwrap();
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/html"));
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(body.starts_with("<!DOCTYPE html><html lang=\"en\">"));
    assert!(body.contains("<label for=\"token\">") && body.contains("id=\"token\""));
    assert!(body.contains("<h1>") && body.contains("Skip to main content"));
    for attr in ["src=\"http", "href=\"http", "src=\"//", "href=\"//", "style="] {
        assert!(!body.contains(attr), "no external assets or inline styles: {attr}");
    }
    let css = web.client.get(app.url("/ui/static/app.css")).send().await.unwrap();
    assert_eq!(css.status(), StatusCode::OK);
    assert!(css.headers()["content-type"].to_str().unwrap().starts_with("text/css"));
    assert!(!css.text().await.unwrap().contains("@import"));
    let js = web.get("/ui/static/app.js").await;
    assert_eq!(js.status, StatusCode::OK);

    let missing = web.get("/ui/no-such-page").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains("<h1>Not found</h1>"));
}

#[tokio::test]
async fn a_pasted_token_opens_a_server_side_session_with_a_strict_cookie() {
    let app = spawn_app().await;
    let web = Web::new(&app);
    let form = web.get("/ui/login").await;
    let login_cookie = cookie_named(&form, "recourse_login");
    assert!(login_cookie.contains("HttpOnly") && login_cookie.contains("SameSite=Strict"));
    let csrf = csrf_of(&form.body);

    let bad = web
        .post_raw("/ui/login", &[("csrf", &csrf), ("token", "not-a-jwt")])
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("not a valid Recourse token"), "{}", bad.body);
    let no_csrf = web
        .post_raw("/ui/login", &[("token", &app.token(Role::Reviewer, "rev-1"))])
        .await;
    assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);

    let token = app.token(Role::Reviewer, "rev-1");
    let ok = web.post_raw("/ui/login", &[("csrf", &csrf), ("token", &token)]).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(ok.location.as_deref(), Some("/ui/reviewer"));
    let cookie = cookie_named(&ok, "recourse_session");
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP by default: {cookie}");
    // Only the hash of the cookie value is stored.
    let value = cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("recourse_session=")
        .to_owned();
    let stored: Vec<(String, String, String)> = app
        .with_db(|c| {
            web_sessions::table
                .select((web_sessions::id_hash, web_sessions::actor_id, web_sessions::role))
                .load(c)
        })
        .await;
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0].0, value);
    assert_eq!((stored[0].1.as_str(), stored[0].2.as_str()), ("rev-1", "reviewer"));
    assert_eq!(web.get("/ui").await.location.as_deref(), Some("/ui/reviewer"));
    assert!(
        audit_actions(&app)
            .await
            .contains(&("rev-1".into(), "session.started".into()))
    );
}

#[tokio::test]
async fn secure_cookies_carry_the_host_prefix() {
    let app = spawn_app_with(|s| s.ui.secure_cookies = true).await;
    let web = Web::new(&app);
    let form = web.get("/ui/login").await;
    let cookie = cookie_named(&form, "__Host-recourse_login");
    assert!(cookie.contains("Secure") && cookie.contains("Path=/"), "{cookie}");
    // The cookie store will not send a Secure cookie over plain HTTP, so send it by hand.
    let csrf = csrf_of(&form.body);
    let res = web
        .client
        .post(app.url("/ui/login"))
        .header("cookie", format!("__Host-recourse_login={csrf}"))
        .form(&[("csrf", csrf.as_str()), ("token", &app.token(Role::Agent, "agent-1"))])
        .send()
        .await
        .unwrap();
    let page = Web::page(res).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let session = cookie_named(&page, "__Host-recourse_session");
    assert!(session.contains("Secure") && session.contains("HttpOnly") && session.contains("SameSite=Strict"));
}

#[tokio::test]
async fn a_login_link_works_once_and_is_not_an_api_token() {
    let app = spawn_app().await;
    let link = app.login_link_token(Role::Supervisor, "sup-1");
    let web = Web::new(&app);
    let confirm = web.get(&format!("/ui/login/link?t={link}")).await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(confirm.body.contains("sup-1") && confirm.body.contains("supervisor"));
    // Opening the link spent nothing: it can be opened again before continuing.
    assert_eq!(
        web.get(&format!("/ui/login/link?t={link}")).await.status,
        StatusCode::OK
    );
    let csrf = csrf_of(&confirm.body);
    let used = web.post_raw("/ui/login/link", &[("csrf", &csrf), ("t", &link)]).await;
    assert_eq!(used.status, StatusCode::SEE_OTHER, "{}", used.body);
    assert_eq!(used.location.as_deref(), Some("/ui/supervisor"));
    assert_eq!(web.get("/ui/supervisor").await.status, StatusCode::OK);

    let other = Web::new(&app);
    let again = other.get(&format!("/ui/login/link?t={link}")).await;
    assert_eq!(again.status, StatusCode::FORBIDDEN);
    assert!(again.body.contains("already been used"));
    let form = other.get("/ui/login").await;
    let replay = other
        .post_raw("/ui/login/link", &[("csrf", &csrf_of(&form.body)), ("t", &link)])
        .await;
    assert_eq!(replay.status, StatusCode::FORBIDDEN);

    // A link is not a bearer token, and a bearer token is not a link.
    assert_eq!(app.get("/v1/queues", &link).await.status(), StatusCode::UNAUTHORIZED);
    let api_token = app.token(Role::Supervisor, "sup-1");
    let refused = other.get(&format!("/ui/login/link?t={api_token}")).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused.body.contains("not issued for Recourse sign-in"),
        "{}",
        refused.body
    );
}

#[tokio::test]
async fn logout_deletes_the_session() {
    let app = spawn_app().await;
    let web = Web::login(&app, Role::Agent, "agent-1").await;
    let refused = web.post_raw("/ui/logout", &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let out = web.post("/ui/logout", &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location.as_deref(), Some("/ui/login?signed_out=1"));
    assert!(cookie_named(&out, "recourse_session").contains("Max-Age=0"));
    let rows: i64 = app.with_db(|c| web_sessions::table.count().get_result(c)).await;
    assert_eq!(rows, 0);
    let after = web.get("/ui/agent").await;
    assert_eq!(after.location.as_deref(), Some("/ui/login"));
    assert!(
        web.get("/ui/login?signed_out=1")
            .await
            .body
            .contains("You have signed out.")
    );
}

#[tokio::test]
async fn a_form_without_the_sessions_csrf_token_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let appeal = queued_for_reviewer(&app, "rev-1").await;
    let web = Web::login(&app, Role::Reviewer, "rev-1").await;
    let other = Web::login(&app, Role::Reviewer, "rev-1").await;
    assert_ne!(web.csrf, other.csrf, "each session has its own token");
    for form in [
        vec![],
        vec![("csrf", "")],
        vec![("csrf", "0123")],
        vec![("csrf", other.csrf.as_str())],
    ] {
        let res = web.post_raw("/ui/reviewer/claim", &form).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{form:?}");
        assert!(res.body.contains("security token"));
    }
    assert_eq!(appeal_status(&app, &appeal).await, "queued");
    let res = web.post("/ui/reviewer/claim", &[]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(appeal_status(&app, &appeal).await, "in_review");
}

#[tokio::test]
async fn every_page_admits_exactly_the_roles_the_api_does() {
    let app = spawn_app().await;
    let anonymous = Web::new(&app);
    let pages = [
        ("/ui/reviewer", Role::Reviewer),
        ("/ui/agent", Role::Agent),
        ("/ui/portal", Role::Subject),
        ("/ui/supervisor", Role::Supervisor),
    ];
    for (path, _) in pages {
        assert_eq!(
            anonymous.get(path).await.location.as_deref(),
            Some("/ui/login"),
            "{path}"
        );
    }
    for role in [
        Role::Reviewer,
        Role::Agent,
        Role::Subject,
        Role::Supervisor,
        Role::Admin,
        Role::Dpo,
    ] {
        let web = Web::login(&app, role, &format!("{role}-1")).await;
        for (path, allowed) in pages {
            let page = web.get(path).await;
            let expected = if role == allowed {
                StatusCode::OK
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(page.status, expected, "{role} on {path}");
        }
        let claim = web.post("/ui/reviewer/claim", &[]).await;
        if role != Role::Reviewer {
            assert_eq!(claim.status, StatusCode::FORBIDDEN, "{role} claiming");
        }
        let lookup = web.post("/ui/agent/lookup", &[("subject_id", "subject-1")]).await;
        if role != Role::Agent {
            assert_eq!(lookup.status, StatusCode::FORBIDDEN, "{role} looking up");
        }
    }
    // Staff pages of a specific appeal are refused the same way.
    let appeal = app.queued_appeal("a-1", "subject-1").await;
    let agent = Web::login(&app, Role::Agent, "agent-1").await;
    let res = agent
        .post(
            &format!("/ui/supervisor/appeals/{appeal}/assignment"),
            &[("reviewer", "x"), ("reason", "because")],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_reviewer_claims_reviews_with_a_rationale_and_sees_the_outcome() {
    let app = spawn_app().await;
    let appeal = queued_for_reviewer(&app, "rev-1").await;
    let web = Web::login(&app, Role::Reviewer, "rev-1").await;
    let queue = web.get("/ui/reviewer").await;
    assert!(queue.body.contains("Credit limit") && queue.body.contains("Claim next case"));
    assert!(
        queue
            .body
            .contains("<th scope=\"row\">default</th><td>1</td><td>1</td>"),
        "{}",
        queue.body
    );

    let claimed = web.post("/ui/reviewer/claim", &[]).await;
    assert_eq!(claimed.location, Some(format!("/ui/reviewer/cases/{appeal}")));
    let case = web.get(&format!("/ui/reviewer/cases/{appeal}")).await;
    assert_eq!(case.status, StatusCode::OK);
    for expected in [
        "limits version 3.2.0",
        "Score 0.41 is below the threshold 0.55.",
        "id=\"contributions-chart\"",
        "Income too low for the requested limit",
        "My income is 41,000 a year, not 28,000.",
        "<td>28000</td><td><strong>41000</strong>",
        "data-countdown=",
        "Some of the information used about me was wrong",
        "payslips.pdf",
    ] {
        assert!(case.body.contains(expected), "case screen lacks {expected:?}");
    }
    let token = case
        .body
        .split("name=\"lease_token\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();

    let invalid = web
        .post(
            &format!("/ui/reviewer/cases/{appeal}/review"),
            &[("lease_token", &token), ("rationale", "Looks fine to me.")],
        )
        .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    for expected in [
        "There is a problem",
        "choose uphold, overturn or amend",
        "name what was considered",
        "Looks fine to me.",
    ] {
        assert!(invalid.body.contains(expected), "{expected}");
    }
    assert!(
        invalid
            .body
            .contains("aria-describedby=\"rationale-hint review-rationale-error\"")
    );
    assert_eq!(app.review_count(&appeal).await, 0);

    let done = web
        .post(
            &format!("/ui/reviewer/cases/{appeal}/review"),
            &[
                ("lease_token", &token),
                ("outcome", "overturn"),
                ("new_outcome", "approved"),
                ("rationale", RATIONALE),
                ("factor", "statement"),
                ("factor", "input:annual_income"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location, Some(format!("/ui/reviewer/appeals/{appeal}")));
    let result = web.get(&format!("/ui/reviewer/appeals/{appeal}")).await;
    assert!(
        result
            .body
            .contains("The decision was overturned. The outcome is now: approved.")
    );
    assert_eq!(appeal_status(&app, &appeal).await, "decided");
    let detail: serde_json::Value = app
        .get(&format!("/v1/appeals/{appeal}"), &app.token_for(Role::Supervisor))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["outcome"]["result"], "overturn");
    // The lease is gone: the case screen now says so.
    assert_eq!(
        web.get(&format!("/ui/reviewer/cases/{appeal}")).await.status,
        StatusCode::CONFLICT
    );
}

#[tokio::test]
async fn a_reviewer_releases_a_case_and_renews_a_lease() {
    let app = spawn_app().await;
    let appeal = queued_for_reviewer(&app, "rev-1").await;
    let web = Web::login(&app, Role::Reviewer, "rev-1").await;
    web.post("/ui/reviewer/claim", &[]).await;
    let case = web.get(&format!("/ui/reviewer/cases/{appeal}")).await;
    let token = case
        .body
        .split("name=\"lease_token\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let renewed = web
        .post(
            &format!("/ui/reviewer/cases/{appeal}/heartbeat"),
            &[("lease_token", &token)],
        )
        .await;
    assert_eq!(renewed.status, StatusCode::SEE_OTHER);
    let stale = web
        .post(
            &format!("/ui/reviewer/cases/{appeal}/release"),
            &[("lease_token", "wrong")],
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    let released = web
        .post(
            &format!("/ui/reviewer/cases/{appeal}/release"),
            &[("lease_token", &token)],
        )
        .await;
    assert_eq!(released.location.as_deref(), Some("/ui/reviewer?notice=released"));
    assert_eq!(appeal_status(&app, &appeal).await, "queued");
    assert!(
        web.get("/ui/reviewer?notice=released")
            .await
            .body
            .contains("went back to its queue")
    );
}

#[tokio::test]
async fn a_blind_first_queue_hides_the_model_until_the_initial_view() {
    let app = spawn_app().await;
    let res = app
        .put_json(
            "/v1/queues/blind",
            &app.token_for(Role::Admin),
            &json!({"blind_first": true, "rules": [{"position": 1, "match": {"decision_type": "credit_limit"}}]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let appeal = queued_for_reviewer(&app, "rev-1").await;
    let web = Web::login(&app, Role::Reviewer, "rev-1").await;
    assert!(web.get("/ui/reviewer").await.body.contains("blind-first"));
    web.post("/ui/reviewer/claim", &[]).await;
    let path = format!("/ui/reviewer/cases/{appeal}");
    let blind = web.get(&path).await;
    // Score and threshold as the page writes them ("Score 0.41 …"); bare "0.41" can occur
    // inside a timestamp such as 02:31:30.412.
    for hidden in [
        "declined",
        "Score 0.41",
        "threshold 0.55",
        "score-gauge",
        "Income too low",
        "contributions-chart",
        "submit-review",
    ] {
        assert!(!blind.body.contains(hidden), "{hidden} must stay hidden");
    }
    assert!(blind.body.contains("record-initial-view") && blind.body.contains("28000"));
    let token = blind
        .body
        .split("name=\"lease_token\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();

    let early = web
        .post(
            &format!("{path}/review"),
            &[
                ("lease_token", &token),
                ("outcome", "uphold"),
                ("rationale", RATIONALE),
                ("factor", "statement"),
            ],
        )
        .await;
    assert_eq!(early.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(early.body.contains("record your initial view before reviewing"));
    assert_eq!(app.review_count(&appeal).await, 0);

    let no_choice = web
        .post(&format!("{path}/initial-view"), &[("lease_token", &token)])
        .await;
    assert_eq!(no_choice.status, StatusCode::UNPROCESSABLE_ENTITY);
    let recorded = web
        .post(
            &format!("{path}/initial-view"),
            &[
                ("lease_token", &token),
                ("leaning", "favourable"),
                ("note", "payslips look genuine"),
            ],
        )
        .await;
    assert_eq!(recorded.status, StatusCode::SEE_OTHER, "{}", recorded.body);
    let revealed = web.get(&path).await;
    for shown in [
        "declined",
        "Score 0.41 is below the threshold 0.55.",
        "contributions-chart",
        "submit-review",
    ] {
        assert!(revealed.body.contains(shown), "{shown} is shown after the initial view");
    }
    assert!(
        audit_actions(&app)
            .await
            .contains(&("rev-1".into(), "appeal.initial_view_recorded".into()))
    );
}

#[tokio::test]
async fn an_agent_finds_a_callers_decisions_and_files_for_them() {
    let app = spawn_app().await;
    let decision = app.decision_for("a-1", "subject-1").await;
    app.decision_for("b-1", "subject-2").await;
    let web = Web::login(&app, Role::Agent, "agent-1").await;
    let bad = web.post("/ui/agent/lookup", &[("subject_id", "has space")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("may contain only ASCII letters"));

    let found = web.post("/ui/agent/lookup", &[("subject_id", "subject-1")]).await;
    assert_eq!(found.status, StatusCode::OK);
    assert!(found.body.contains(&format!("/ui/agent/decisions/{decision}")));
    assert!(found.body.contains("Credit limit: declined"));
    let reads: Vec<(String, String)> = app
        .with_db(|c| {
            audit_log::table
                .filter(audit_log::action.eq("decision.viewed"))
                .select((audit_log::actor, audit_log::object_id))
                .load(c)
        })
        .await;
    assert_eq!(
        reads,
        [("agent-1".to_owned(), decision.clone())],
        "the lookup is audited"
    );

    let path = format!("/ui/agent/decisions/{decision}");
    let page = web.get(&path).await;
    assert!(page.body.contains("What to tell the caller") && page.body.contains("identity_result"));
    let statement = "Caller says the income figure is out of date; she now earns 41,000.";
    let unverified = web
        .post(
            &format!("{path}/appeals"),
            &[
                ("channel", "phone"),
                ("identity_method", "Security questions"),
                ("grounds", "inaccurate_data"),
                ("statement", statement),
            ],
        )
        .await;
    assert_eq!(unverified.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unverified.body.contains("say whether the identity check passed"));
    assert!(unverified.body.contains(statement), "what was typed is kept");
    let failed = web
        .post(
            &format!("{path}/appeals"),
            &[
                ("channel", "phone"),
                ("identity_method", "Security questions"),
                ("identity_result", "failed"),
                ("grounds", "inaccurate_data"),
                ("statement", statement),
            ],
        )
        .await;
    assert_eq!(failed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(failed.body.contains("must be verified before an appeal is filed"));

    let filed = web
        .post(
            &format!("{path}/appeals"),
            &[
                ("channel", "phone"),
                ("identity_method", "Security questions"),
                ("identity_result", "verified"),
                ("grounds", "inaccurate_data"),
                ("grounds", "changed_circumstances"),
                ("statement", statement),
                ("correct.annual_income", "41,000"),
            ],
        )
        .await;
    assert_eq!(filed.status, StatusCode::SEE_OTHER, "{}", filed.body);
    let after = web.get(filed.location.as_deref().unwrap()).await;
    for expected in [
        "The appeal is filed",
        "Received, waiting for a reviewer",
        "We will reply by",
        "Acknowledgement notice",
    ] {
        assert!(after.body.contains(expected), "{expected}");
    }
    let (channel, identity, corrected): (String, Option<String>, Option<String>) = app
        .with_db(|c| {
            appeals::table
                .select((appeals::channel, appeals::identity_check, appeals::corrected_inputs))
                .first(c)
        })
        .await;
    assert_eq!(channel, "phone");
    assert!(identity.unwrap().contains("\"checked_by\":\"agent-1\""));
    assert_eq!(corrected.as_deref(), Some("{\"annual_income\":41000}"));
}

#[tokio::test]
async fn a_subject_sees_only_their_own_decisions_and_files_an_appeal() {
    let app = spawn_app().await;
    let mine = app.decision_for("a-1", "subject-1").await;
    let theirs = app.decision_for("b-1", "subject-2").await;
    let web = Web::login(&app, Role::Subject, "subject-1").await;
    let list = web.get("/ui/portal").await;
    assert!(list.body.contains(&mine));
    assert!(!list.body.contains(&theirs) && !list.body.contains("subject-2"));

    assert_eq!(
        web.get(&format!("/ui/portal/decisions/{theirs}")).await.status,
        StatusCode::NOT_FOUND
    );
    let sneaky = web
        .post(
            &format!("/ui/portal/decisions/{theirs}/appeals"),
            &[("grounds", "other"), ("statement", "not mine")],
        )
        .await;
    assert_eq!(sneaky.status, StatusCode::NOT_FOUND);
    assert_eq!(app.with_db(|c| appeals::table.count().get_result::<i64>(c)).await, 0);

    let path = format!("/ui/portal/decisions/{mine}");
    let page = web.get(&path).await;
    for expected in [
        "Income too low for the requested limit",
        "An income of 35,000 would have been approved.",
        "What could change the outcome",
        "Ask for a person to review this decision",
    ] {
        assert!(page.body.contains(expected), "{expected}");
    }
    assert!(
        !page.body.contains("identity_result"),
        "subjects do not record identity checks"
    );
    let empty = web.post(&format!("{path}/appeals"), &[("statement", " ")]).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.body.contains("name at least one ground") && empty.body.contains("must not be empty"));

    let filed = web
        .post(
            &format!("{path}/appeals"),
            &[
                ("grounds", "inaccurate_data"),
                ("statement", "My income is 41,000 a year, not 28,000."),
                ("correct.annual_income", "41000"),
                ("requested_outcome", "approved"),
            ],
        )
        .await;
    assert_eq!(filed.status, StatusCode::SEE_OTHER, "{}", filed.body);
    let after = web.get(&format!("{path}?filed=1")).await;
    for expected in [
        "We have received your appeal",
        "Received, waiting for a reviewer",
        "Reply due by",
        "Acknowledgement notice",
        "We will reply by",
    ] {
        assert!(after.body.contains(expected), "{expected}");
    }
    assert!(
        !after.body.contains("Ask for a person to review"),
        "one open appeal at a time"
    );
    let notice_subjects: Vec<String> = app
        .with_db(|c| notices::table.select(notices::subject_id).load(c))
        .await;
    assert_eq!(notice_subjects, ["subject-1"]);
    assert!(web.get("/ui/portal").await.body.contains("Your appeal:"));
}

async fn decided_overturn(app: &TestApp, external_id: &str, reviewer: &str) {
    let appeal = app.queued_appeal(external_id, &format!("s-{external_id}")).await;
    let (id, token, _) = app.claim(reviewer).await.unwrap();
    assert_eq!(id, appeal);
    let res = app.review(reviewer, &appeal, &review_body(&token, "overturn")).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_supervisor_watches_the_dashboard_reassigns_and_extends() {
    let app = spawn_app().await;
    app.configure_reviewer("rev-1", &["credit_limit"], 5).await;
    app.configure_reviewer("rev-2", &["credit_limit"], 5).await;
    decided_overturn(&app, "d-1", "rev-2").await;
    let appeal = app.queued_appeal("a-1", "subject-1").await;
    let (_, rev1_token, _) = app.claim("rev-1").await.unwrap();

    let web = Web::login(&app, Role::Supervisor, "sup-1").await;
    let dash = web.get("/ui/supervisor").await;
    for expected in [
        "id=\"sla-chart\"",
        "Due in 7 days or more: 1",
        "id=\"overturn-chart\"",
        "limits 3.2.0: 100% overturned",
        "id=\"queue-depth\"",
        &format!("/ui/supervisor/appeals/{appeal}"),
        "rev-1",
    ] {
        assert!(dash.body.contains(expected), "dashboard lacks {expected:?}");
    }

    let path = format!("/ui/supervisor/appeals/{appeal}");
    let page = web.get(&path).await;
    assert!(page.body.contains("Reassign") && page.body.contains("<option value=\"rev-2\">"));
    let no_reason = web
        .post(&format!("{path}/assignment"), &[("reviewer", "rev-2"), ("reason", "")])
        .await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        no_reason.body.contains("id=\"assign-reason-error\""),
        "{}",
        no_reason.body
    );
    let moved = web
        .post(
            &format!("{path}/assignment"),
            &[("reviewer", "rev-2"), ("reason", "rev-1 is on leave from tomorrow")],
        )
        .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
    let assigned: Option<String> = app
        .with_db({
            let id = appeal.clone();
            move |c| appeals::table.find(id).select(appeals::assigned_to).first(c)
        })
        .await;
    assert_eq!(assigned.as_deref(), Some("rev-2"));
    let res = app.review("rev-1", &appeal, &review_body(&rev1_token, "uphold")).await;
    assert_eq!(res.status(), StatusCode::CONFLICT, "rev-1's lease was revoked");

    let extended = web
        .post(
            &format!("{path}/extension"),
            &[
                ("months", "2"),
                (
                    "reason",
                    "We are waiting for the bank's records of the disputed payments.",
                ),
            ],
        )
        .await;
    assert_eq!(extended.status, StatusCode::SEE_OTHER, "{}", extended.body);
    let after = web.get(extended.location.as_deref().unwrap()).await;
    assert!(after.body.contains("Deadline extended") && after.body.contains("already extended once"));
    assert!(after.body.contains("Extension notice"));
    let twice = web
        .post(&format!("{path}/extension"), &[("months", "1"), ("reason", "again")])
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert!(twice.body.contains("already been extended once"));
}

#[tokio::test]
async fn a_supervisor_approves_a_high_impact_overturn() {
    let app = spawn_app().await;
    let res = app
        .put_json(
            "/v1/policies/credit_limit",
            &app.token_for(Role::Admin),
            &json!({"requires_approval": true}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    app.configure_reviewer("rev-1", &["credit_limit"], 5).await;
    decided_overturn(&app, "a-1", "rev-1").await;
    let web = Web::login(&app, Role::Supervisor, "sup-1").await;
    let dash = web.get("/ui/supervisor").await;
    assert!(dash.body.contains("id=\"approvals\"") && dash.body.contains("Overturn → approved by rev-1"));
    let appeal: String = app.with_db(|c| appeals::table.select(appeals::id).first(c)).await;
    let path = format!("/ui/supervisor/appeals/{appeal}");
    let page = web.get(&path).await;
    assert!(page.body.contains("Approve or return the review") && page.body.contains(RATIONALE));
    let returned_without_note = web.post(&format!("{path}/approval"), &[("decision", "return")]).await;
    assert_eq!(returned_without_note.status, StatusCode::UNPROCESSABLE_ENTITY);
    let approved = web.post(&format!("{path}/approval"), &[("decision", "approve")]).await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER, "{}", approved.body);
    assert_eq!(appeal_status(&app, &appeal).await, "decided");
    assert!(
        web.get(approved.location.as_deref().unwrap())
            .await
            .body
            .contains("The decision was overturned")
    );
}

#[tokio::test]
async fn pages_show_deadlines_on_the_controllers_calendar() {
    // In New York a deadline ends at 23:59:59 local time, 04:59:59 UTC the next day: the page
    // must show the New York date.
    let new_york = chrono_tz::America::New_York;
    let app = spawn_app_with(move |s| s.calendar.zone = new_york).await;
    let appeal = app.queued_appeal("ny-1", "subject-1").await;
    let detail: serde_json::Value = app
        .get(&format!("/v1/appeals/{appeal}"), &app.token_for(Role::Supervisor))
        .await
        .json()
        .await
        .unwrap();
    let due: chrono::DateTime<chrono::Utc> = detail["due_at"].as_str().unwrap().parse().unwrap();
    let local = due.with_timezone(&new_york).date_naive();
    assert_ne!(local, due.date_naive());
    let shown = |d: chrono::NaiveDate| format!(">{}</time>", d.format("%-d %B %Y"));
    let web = Web::login(&app, Role::Subject, "subject-1").await;
    let page = web.get("/ui/portal").await;
    assert!(page.body.contains(&shown(local)), "{}", page.body);
    assert!(!page.body.contains(&shown(due.date_naive())));
    let web = Web::login(&app, Role::Supervisor, "supervisor").await;
    let page = web.get(&format!("/ui/supervisor/appeals/{appeal}")).await;
    assert!(page.body.contains(&shown(local)), "{}", page.body);
    assert!(
        page.body
            .contains(&format!("We will reply by {}.", local.format("%-d %B %Y")))
    );
}
