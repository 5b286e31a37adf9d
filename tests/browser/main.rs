//! End-to-end tests in a real headless Chromium, driven through chromedriver with fantoccini.
//! Each scenario starts the real server (as the API suite does), signs in through the web UI
//! like a person would, and saves a screenshot of every page it visits to
//! `target/screenshots/<scenario>-<nn>-<page>.png`.
//!
//! Built and run only with the `browser-tests` feature, so that plain `cargo test` needs no
//! browser:  `cargo test --features browser-tests --test browser`.
//! `CHROMEDRIVER` and `CHROME` override `/usr/bin/chromedriver` and `/usr/bin/chromium`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../api/helpers.rs"]
#[allow(
    dead_code,
    reason = "shared with the API suite, which uses the helpers this suite does not"
)]
mod helpers;

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::LazyLock;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use recourse::domain::Role;
use serde_json::json;

use helpers::{RATIONALE, TestApp, review_body, spawn_app};

/// One browser at a time: two cores do not run several Chromiums and servers well.
static ONE_BROWSER: LazyLock<tokio::sync::Mutex<()>> = LazyLock::new(|| tokio::sync::Mutex::new(()));

/// chromedriver runs in its own process group with the Chromium it starts, so that dropping it
/// (also when a scenario panics before closing the session) ends the browser too.
struct ChromeDriver(Child);

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Browser {
    client: Client,
    base: String,
    scenario: &'static str,
    shots: usize,
    _profile: tempfile::TempDir,
    _driver: ChromeDriver,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn screenshot_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots")
}

impl Browser {
    async fn start(app: &TestApp, scenario: &'static str) -> Self {
        let driver_bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let chrome_bin = std::env::var("CHROME").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let port = free_port();
        let child = Command::new(&driver_bin)
            .process_group(0)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {driver_bin}: {e}; install it with `apt-get install -y chromium chromium-driver`")
            });
        let driver = ChromeDriver(child);
        let status = format!("http://127.0.0.1:{port}/status");
        let probe = reqwest::Client::new();
        let mut ready = false;
        for _ in 0..100 {
            if probe.get(&status).send().await.is_ok_and(|r| r.status().is_success()) {
                ready = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(ready, "chromedriver did not come up on port {port}");
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chrome_bin,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run",
                    "--disable-dev-shm-usage", "--window-size=1280,1800",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        });
        let serde_json::Value::Object(caps) = caps else {
            unreachable!()
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("chromium starts under chromedriver");
        std::fs::create_dir_all(screenshot_dir()).unwrap();
        Self {
            client,
            base: app.address.clone(),
            scenario,
            shots: 0,
            _profile: profile,
            _driver: driver,
        }
    }

    async fn goto(&self, path: &str) {
        self.client.goto(&format!("{}{path}", self.base)).await.unwrap();
    }

    /// Saves what the browser shows now as `<scenario>-<nn>-<page>.png`.
    async fn shot(&mut self, page: &str) -> PathBuf {
        self.shots += 1;
        let png = self.client.screenshot().await.unwrap();
        let path = screenshot_dir().join(format!("{}-{:02}-{page}.png", self.scenario, self.shots));
        std::fs::write(&path, png).unwrap();
        println!("screenshot: {}", path.display());
        path
    }

    async fn source(&self) -> String {
        self.client.source().await.unwrap()
    }

    async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_owned()
    }

    /// Waits for a navigation to land on `want` (clicks return before the next page loads).
    async fn wait_path(&self, want: &str) {
        for _ in 0..100 {
            if self.path().await == want
                && self.client.execute("return document.readyState", vec![]).await.unwrap() == "complete"
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "expected {want}, still at {}: {}",
            self.path().await,
            self.source().await
        );
    }

    /// Clicks a submit button and waits for the page it leads to.
    async fn submit(&self, css: &str, then: &str) {
        let before = self.client.find(Locator::Css("html")).await.unwrap();
        self.click(css).await;
        for _ in 0..100 {
            // The old document's root goes stale once the next page has replaced it.
            if before.tag_name().await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.wait_path(then).await;
    }

    async fn click(&self, css: &str) {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .click()
            .await
            .unwrap();
    }

    async fn type_into(&self, css: &str, text: &str) {
        let field = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"));
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    async fn choose(&self, css: &str, value: &str) {
        let select = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"));
        select.select_by_value(value).await.unwrap();
    }

    async fn text_of(&self, css: &str) -> String {
        self.client.find(Locator::Css(css)).await.unwrap().text().await.unwrap()
    }

    /// Signs in the way a person pastes a token into the login form.
    async fn sign_in_with_token(&mut self, app: &TestApp, role: Role, sub: &str, home: &str) {
        self.goto("/ui").await;
        assert_eq!(self.path().await, "/ui/login");
        self.type_into("#token", &app.token(role, sub)).await;
        self.shot("login").await;
        self.submit("button[type=submit]", home).await;
    }

    async fn close(self) {
        self.client.close().await.unwrap();
    }
}

#[tokio::test]
async fn a_reviewer_signs_in_with_a_link_claims_reviews_and_sees_the_outcome() {
    let _one = ONE_BROWSER.lock().await;
    let app = spawn_app().await;
    app.configure_reviewer("reviewer-rita", &["credit_limit"], 3).await;
    let appeal = app.queued_appeal("app-1", "cust-1001").await;
    let mut b = Browser::start(&app, "reviewer").await;

    let link = app.login_link_token(Role::Reviewer, "reviewer-rita");
    b.goto(&format!("/ui/login/link?t={link}")).await;
    assert!(b.source().await.contains("reviewer-rita"));
    b.shot("login-link").await;
    b.submit("#continue", "/ui/reviewer").await;
    assert!(b.text_of("#queues").await.contains("default"));
    b.shot("queue").await;

    b.submit("#claim-next", &format!("/ui/reviewer/cases/{appeal}")).await;
    let case = b.source().await;
    assert!(case.contains("Income too low for the requested limit") && case.contains("contributions-chart"));
    // The optional script replaced the server-rendered "in 15 minutes" with a live countdown.
    let countdown = b.text_of("[data-countdown]").await;
    assert!(countdown.contains("s left"), "countdown shows {countdown:?}");
    b.shot("case").await;

    b.click("#outcome-overturn").await;
    b.type_into("#review-rationale", "Looks fine to me.").await;
    b.submit("#submit-review", &format!("/ui/reviewer/cases/{appeal}/review"))
        .await;
    let errors = b.source().await;
    for expected in [
        "There is a problem",
        "is required to overturn or amend",
        "name what was considered",
    ] {
        assert!(errors.contains(expected), "{expected}");
    }
    b.shot("review-errors").await;

    b.type_into("#review-new-outcome", "approved").await;
    b.type_into("#review-rationale", RATIONALE).await;
    b.click("#factor-0").await;
    b.submit("#submit-review", &format!("/ui/reviewer/appeals/{appeal}"))
        .await;
    assert!(
        b.source()
            .await
            .contains("The decision was overturned. The outcome is now: approved.")
    );
    b.shot("outcome").await;
    b.close().await;
}

#[tokio::test]
async fn an_agent_finds_a_caller_and_files_an_appeal_for_them() {
    let _one = ONE_BROWSER.lock().await;
    let app = spawn_app().await;
    let decision = app.decision_for("app-1", "cust-1001").await;
    let mut b = Browser::start(&app, "agent").await;
    b.sign_in_with_token(&app, Role::Agent, "agent-ann", "/ui/agent").await;
    b.shot("console").await;

    b.type_into("#lookup-subject_id", "cust-1001").await;
    b.submit("form[role=search] button[type=submit]", "/ui/agent/lookup")
        .await;
    assert!(b.text_of("#results").await.contains("cust-1001"));
    b.shot("lookup").await;

    let page = format!("/ui/agent/decisions/{decision}");
    b.submit(&format!("a[href='{page}']"), &page).await;
    assert!(b.source().await.contains("What to tell the caller"));
    b.shot("decision").await;

    b.choose("#appeal-channel", "phone").await;
    b.choose("#identity_method", "Security questions").await;
    b.click("#identity-verified").await;
    b.click("#ground-inaccurate_data").await;
    b.type_into(
        "#appeal-statement",
        "The caller says her income is 41,000, not 28,000; she will post payslips.",
    )
    .await;
    b.type_into("#correct-annual-income", "41000").await;
    b.shot("appeal-form").await;
    b.submit("#file-title ~ form button[type=submit]", &page).await;
    let filed = b.source().await;
    assert!(
        filed.contains("The appeal is filed") && filed.contains("We will reply by"),
        "{filed}"
    );
    b.shot("filed").await;
    b.close().await;
}

#[tokio::test]
async fn a_subject_sees_only_their_own_decisions_and_files_an_appeal() {
    let _one = ONE_BROWSER.lock().await;
    let app = spawn_app().await;
    let mine = app.decision_for("app-1", "cust-1001").await;
    let theirs = app.decision_for("app-2", "cust-2002").await;
    let mut b = Browser::start(&app, "subject").await;
    b.sign_in_with_token(&app, Role::Subject, "cust-1001", "/ui/portal")
        .await;
    let list = b.source().await;
    assert!(list.contains(&mine) && !list.contains(&theirs) && !list.contains("cust-2002"));
    b.shot("decisions").await;

    b.goto(&format!("/ui/portal/decisions/{theirs}")).await;
    assert!(b.source().await.contains("Not found"));
    b.shot("not-yours").await;

    b.goto("/ui/portal").await;
    let page = format!("/ui/portal/decisions/{mine}");
    b.submit(&format!("#decisions a[href='{page}']"), &page).await;
    assert!(b.source().await.contains("What could change the outcome"));
    b.shot("decision").await;

    b.click("#ground-inaccurate_data").await;
    b.type_into(
        "#appeal-statement",
        "My income is 41,000 a year, not 28,000. I can send my payslips.",
    )
    .await;
    b.type_into("#correct-annual-income", "41000").await;
    b.submit("#appeal-title ~ form button[type=submit]", &page).await;
    let after = b.source().await;
    assert!(after.contains("We have received your appeal") && after.contains("Received, waiting for a reviewer"));
    b.shot("appeal-filed").await;

    b.submit(".whoami button", "/ui/login").await;
    assert!(b.source().await.contains("You have signed out."));
    b.shot("signed-out").await;
    b.close().await;
}

#[tokio::test]
async fn a_supervisor_sees_the_dashboard_and_reassigns_a_case() {
    let _one = ONE_BROWSER.lock().await;
    let app = spawn_app().await;
    app.configure_reviewer("reviewer-rita", &["credit_limit"], 5).await;
    app.configure_reviewer("reviewer-raj", &["credit_limit"], 5).await;
    // One decided overturn, so the overturn chart has a bar.
    let decided = app.queued_appeal("app-0", "cust-0999").await;
    let (_, token, _) = app.claim("reviewer-raj").await.unwrap();
    assert_eq!(
        app.review("reviewer-raj", &decided, &review_body(&token, "overturn"))
            .await
            .status(),
        200
    );
    let appeal = app.queued_appeal("app-1", "cust-1001").await;
    app.claim("reviewer-rita").await.unwrap();

    let mut b = Browser::start(&app, "supervisor").await;
    b.sign_in_with_token(&app, Role::Supervisor, "supervisor-sam", "/ui/supervisor")
        .await;
    let dash = b.source().await;
    assert!(dash.contains("sla-chart") && dash.contains("overturn-chart") && dash.contains("queue-depth"));
    b.shot("dashboard").await;

    let page = format!("/ui/supervisor/appeals/{appeal}");
    b.submit(&format!("a[href='{page}']"), &page).await;
    b.shot("appeal").await;
    b.choose("#assign-reviewer", "reviewer-raj").await;
    b.type_into(
        "#assign-reason",
        "Rita is on leave from tomorrow; Raj knows this engine well.",
    )
    .await;
    b.submit("#reassign", &page).await;
    let after = b.source().await;
    assert!(
        after.contains("Reassigned.") && after.contains("Assigned to"),
        "{after}"
    );
    b.shot("reassigned").await;
    b.close().await;
}
