//! `recourse serve --demo`: sample engines and decisions, and a ready token for every role,
//! so that a newcomer can try the API at once. Seeding is idempotent.

use chrono::{Duration, Utc};
use serde_json::json;

use std::collections::HashMap;

use crate::appeals::AppealError;
use crate::appeals::queue::ClaimOptions;
use crate::appeals::routing::{PolicyInput, QueueInput, ReviewerInput, RoutingError};
use crate::auth::TokenMinter;
use crate::calendar::CalendarHandle;
use crate::db::Db;
use crate::domain::appeal::AppealDraft;
use crate::domain::decision::{DecisionDraft, ValidDecision};
use crate::domain::review::{ReviewDraft, ValidReview};
use crate::domain::routing::{RuleInput, RuleMatch};
use crate::domain::{Actor, Role};
use crate::engines::{self, EngineError, NewEngine};
use crate::ingestion::{self, IngestionError};
use crate::sessions::service::login_link_url;

pub const DEMO_PRINCIPALS: [(Role, &str); 7] = [
    (Role::Engine, "acme-credit"),
    (Role::Agent, "agent-ann"),
    (Role::Reviewer, "reviewer-rita"),
    (Role::Supervisor, "supervisor-sam"),
    (Role::Dpo, "dpo-dana"),
    (Role::Admin, "admin-al"),
    (Role::Subject, "cust-1001"),
];

const ENGINES: [(&str, &str); 3] = [
    ("acme-credit", "Acme Bank credit-limit engine"),
    ("shieldpay-fraud", "ShieldPay transaction fraud screening"),
    ("civic-eligibility", "Civic benefits eligibility checker"),
];

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("seeding engines: {0}")]
    Engine(#[from] EngineError),
    #[error("seeding decisions: {0}")]
    Decision(#[from] IngestionError),
    #[error("demo decision is invalid: {0}")]
    Invalid(String),
    #[error("seeding queues and reviewers: {0}")]
    Routing(String),
    #[error("seeding appeals: {0}")]
    Appeal(String),
}

impl From<RoutingError> for DemoError {
    fn from(e: RoutingError) -> Self {
        Self::Routing(format!("{e:?}"))
    }
}

impl From<AppealError> for DemoError {
    fn from(e: AppealError) -> Self {
        Self::Appeal(format!("{e:?}"))
    }
}

pub async fn seed(db: &Db, calendar: &CalendarHandle) -> Result<(), DemoError> {
    let admin = Actor::system("demo-seed");
    for (id, name) in ENGINES {
        let new = NewEngine {
            id: id.into(),
            name: name.into(),
        };
        match engines::service::register(db, admin.clone(), new).await {
            Ok(_) | Err(EngineError::AlreadyRegistered(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let now = Utc::now();
    let mut created = 0;
    let mut ids = HashMap::new();
    for (i, (engine, draft)) in sample_decisions(now).into_iter().enumerate() {
        let decision = ValidDecision::parse(draft, now).map_err(|e| DemoError::Invalid(format!("#{i}: {e:?}")))?;
        let actor = Actor {
            id: engine.into(),
            role: Role::Engine,
            request_id: None,
        };
        let external_id = decision.external_id.clone();
        let id = match ingestion::service::ingest(db, calendar, actor, decision).await {
            Ok(ingestion::service::Ingested::Created(d)) => {
                created += 1;
                d.id
            }
            Ok(ingestion::service::Ingested::Existing(d)) => d.id,
            // Seeded by an earlier start: the dates are relative to now, so the content differs.
            Err(IngestionError::Conflict { existing_id, .. }) => existing_id,
            Err(e) => return Err(e.into()),
        };
        ids.insert(external_id, id);
    }
    seed_workflow(db, calendar, &admin, &ids).await?;
    tracing::info!(engines = ENGINES.len(), decisions_created = created, "demo data seeded");
    Ok(())
}

/// Reviewers, a blind-first fraud queue with four-eyes approval, one appeal waiting in the
/// queue and one already decided, so that every screen of the web UI has something to show.
async fn seed_workflow(
    db: &Db,
    calendar: &CalendarHandle,
    admin: &Actor,
    ids: &HashMap<String, String>,
) -> Result<(), DemoError> {
    use crate::appeals::routing;
    let all_types = vec![
        "credit_limit".to_owned(),
        "fraud_flag".into(),
        "benefit_eligibility".into(),
    ];
    for reviewer in ["reviewer-rita", "reviewer-raj"] {
        let input = ReviewerInput {
            authorities: all_types.clone(),
            capacity: 5,
        };
        routing::put_reviewer(db, admin.clone(), reviewer.into(), input).await?;
    }
    let fraud = QueueInput {
        description: "Card payments blocked as suspected fraud".into(),
        blind_first: true,
        rules: vec![RuleInput {
            position: 10,
            conditions: RuleMatch {
                decision_type: Some("fraud_flag".into()),
                ..Default::default()
            },
            priority: 10,
        }],
    };
    routing::put_queue(db, admin.clone(), "fraud".into(), fraud).await?;
    let policy = PolicyInput {
        filing_window_months: 6,
        requires_approval: true,
        retention_months: None,
    };
    routing::put_policy(db, admin.clone(), "fraud_flag".into(), policy).await?;

    let subject = |id: &str| Actor {
        id: id.into(),
        role: Role::Subject,
        request_id: None,
    };
    let appeal = |statement: &str, corrected: serde_json::Value| -> Result<AppealDraft, DemoError> {
        serde_json::from_value(
            json!({"grounds": ["inaccurate_data"], "statement": statement, "corrected_inputs": corrected}),
        )
        .map_err(|e| DemoError::Invalid(e.to_string()))
    };
    // Waiting in the default queue.
    if let Some(id) = ids.get("app-2026-0002")
        && !crate::appeals::casework::ever_appealed(db, id.clone()).await?
    {
        let draft = appeal(
            "My card utilisation was high for one month only because of a hospital bill, which is now paid off.",
            json!({"utilisation": 0.35}),
        )?;
        crate::appeals::filing::file(db, calendar, subject("cust-1002"), id.clone(), draft, None).await?;
    }
    // Already decided, so the dashboard has an overturn rate to draw.
    if let Some(id) = ids.get("claim-5531")
        && !crate::appeals::casework::ever_appealed(db, id.clone()).await?
    {
        let draft = appeal(
            "The declared income included a one-off redundancy payment; my regular income is 29,000.",
            json!({"declared_income": 29000}),
        )?;
        let filed = crate::appeals::filing::file(db, calendar, subject("cust-1003"), id.clone(), draft, None).await?;
        let crate::appeals::filing::Filed::Created(detail) = filed else {
            return Ok(());
        };
        let raj = Actor {
            id: "reviewer-raj".into(),
            role: Role::Reviewer,
            request_id: None,
        };
        let options = ClaimOptions {
            queue: None,
            appeal_id: Some(detail.appeal.id.clone()),
            lease: std::time::Duration::from_secs(600),
        };
        if let Some(claimed) = crate::appeals::queue::claim(db, raj.clone(), options).await? {
            let review = ValidReview::parse(ReviewDraft {
                lease_token: claimed.lease.token,
                outcome: crate::domain::review::ReviewOutcome::Overturn,
                new_outcome: Some("eligible".into()),
                rationale: "The payslips show regular income of 29,000; the redundancy payment is a one-off and does \
                            not count as household income under the scheme rules."
                    .into(),
                factors_considered: vec![
                    "input:declared_income".into(),
                    "statement".into(),
                    "reason_code:E02".into(),
                ],
                rectified_inputs: None,
            })
            .map_err(|e| DemoError::Invalid(format!("{e:?}")))?;
            crate::appeals::review::submit(db, calendar, raj, detail.appeal.id.clone(), review).await?;
        }
    }
    Ok(())
}

fn sample_decisions(now: chrono::DateTime<Utc>) -> Vec<(&'static str, DecisionDraft)> {
    let at = |days: i64| (now - Duration::days(days)).to_rfc3339();
    let drafts = [
        (
            "acme-credit",
            json!({
                "external_id": "app-2026-0001", "subject_id": "cust-1001",
                "decision_type": "credit_limit", "outcome": "declined",
                "score": 0.41, "threshold": 0.55,
                "model": {"name": "acme-limits", "version": "3.2.0"},
                "significant_effect": true, "decided_at": at(3),
                "explanation": {
                    "inputs": {"annual_income": 28000, "months_at_address": 4, "missed_payments_12m": 2},
                    "contributions": [
                        {"feature": "missed_payments_12m", "weight": -0.21},
                        {"feature": "months_at_address", "weight": -0.08},
                        {"feature": "annual_income", "weight": 0.05}
                    ],
                    "reason_codes": [
                        {"code": "D01", "text": "Two missed payments in the last 12 months"},
                        {"code": "D07", "text": "Less than 6 months at current address"}
                    ],
                    "counterfactual": {"changes": {"missed_payments_12m": 0}, "text": "With no missed payments in the last 12 months the limit would have been approved."}
                }
            }),
        ),
        (
            "acme-credit",
            json!({
                "external_id": "app-2026-0002", "subject_id": "cust-1002",
                "decision_type": "credit_limit", "outcome": "approved_reduced",
                "score": 0.58, "threshold": 0.55,
                "model": {"name": "acme-limits", "version": "3.2.0"},
                "significant_effect": true, "decided_at": at(10),
                "explanation": {
                    "inputs": {"annual_income": 41000, "utilisation": 0.82},
                    "contributions": [{"feature": "utilisation", "weight": -0.12}],
                    "reason_codes": [{"code": "D12", "text": "Credit utilisation above 80%"}]
                }
            }),
        ),
        (
            "shieldpay-fraud",
            json!({
                "external_id": "txn-88120", "subject_id": "cust-1001",
                "decision_type": "fraud_flag", "outcome": "blocked",
                "score": 0.93, "threshold": 0.9,
                "model": {"name": "shieldpay-txn", "version": "2026.10"},
                "significant_effect": true, "decided_at": at(1),
                "explanation": {
                    "inputs": {"amount_eur": 1850.0, "merchant_country": "MT", "new_device": true},
                    "contributions": [{"feature": "new_device", "weight": 0.31}, {"feature": "merchant_country", "weight": 0.22}],
                    "reason_codes": [{"code": "F03", "text": "Payment from a device not seen before"}, {"code": "F09", "text": "Merchant country unusual for this card"}]
                }
            }),
        ),
        (
            "civic-eligibility",
            json!({
                "external_id": "claim-5531", "subject_id": "cust-1003",
                "decision_type": "benefit_eligibility", "outcome": "ineligible",
                "model": {"name": "civic-rules", "version": "1.4"},
                "significant_effect": true, "decided_at": at(20),
                "explanation": {
                    "inputs": {"household_size": 3, "declared_income": 31000},
                    "reason_codes": [{"code": "E02", "text": "Declared household income above the threshold for 3 people"}],
                    "counterfactual": {"changes": {"declared_income": 29500}}
                }
            }),
        ),
    ];
    drafts
        .into_iter()
        .filter_map(|(engine, value)| serde_json::from_value(value).ok().map(|d| (engine, d)))
        .collect()
}

/// Prints a one-time web login link and a curl-ready token per role to stdout.
pub fn print_tokens(minter: Option<&TokenMinter>, base_url: &str) {
    let Some(minter) = minter else {
        eprintln!("(no private key configured, so no demo tokens can be minted)");
        return;
    };
    let base_url = base_url
        .replace("://0.0.0.0:", "://127.0.0.1:")
        .replace("://[::]:", "://[::1]:");
    println!(
        "\nRecourse demo is serving on {base_url}.\n\nOpen the web UI with a one-time sign-in link (each works once, for 8 h):\n"
    );
    for (role, sub) in DEMO_PRINCIPALS {
        if !matches!(role, Role::Reviewer | Role::Agent | Role::Subject | Role::Supervisor) {
            continue;
        }
        match minter.mint_login_link(role, sub, std::time::Duration::from_secs(8 * 3600)) {
            Ok(token) => println!("  {:<10} {}", role.as_str(), login_link_url(&base_url, &token)),
            Err(e) => eprintln!("cannot mint a {role} login link: {e}"),
        }
    }
    println!("\nAPI tokens (valid 8 h):\n");
    for (role, sub) in DEMO_PRINCIPALS {
        match minter.mint(role, sub, std::time::Duration::from_secs(8 * 3600)) {
            Ok(token) => println!(
                "  {:<10} (sub {sub}):\n    export {}_TOKEN={token}\n",
                role.as_str(),
                role.as_str().to_uppercase()
            ),
            Err(e) => eprintln!("cannot mint a {role} token: {e}"),
        }
    }
    println!("Try:  curl -s -H \"Authorization: Bearer $SUBJECT_TOKEN\" {base_url}/v1/subjects/cust-1001/decisions\n");
}
