//! `recourse serve --demo`: sample engines and decisions, and a ready token for every role,
//! so that a newcomer can try the API at once. Seeding is idempotent.

use chrono::{Duration, Utc};
use serde_json::json;

use crate::auth::TokenMinter;
use crate::db::Db;
use crate::decisions::{self, DecisionError};
use crate::domain::decision::{DecisionDraft, ValidDecision};
use crate::domain::{Actor, Role};
use crate::engines::{self, EngineError, NewEngine};

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
    Decision(#[from] DecisionError),
    #[error("demo decision is invalid: {0}")]
    Invalid(String),
}

pub async fn seed(db: &Db) -> Result<(), DemoError> {
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
    for (i, (engine, draft)) in sample_decisions(now).into_iter().enumerate() {
        let decision = ValidDecision::parse(draft, now).map_err(|e| DemoError::Invalid(format!("#{i}: {e:?}")))?;
        let actor = Actor {
            id: engine.into(),
            role: Role::Engine,
            request_id: None,
        };
        if let decisions::Ingested::Created(_) = decisions::service::ingest(db, actor, decision).await? {
            created += 1;
        }
    }
    tracing::info!(engines = ENGINES.len(), decisions_created = created, "demo data seeded");
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

/// Prints a curl-ready token per role to stdout.
pub fn print_tokens(minter: Option<&TokenMinter>, port: u16) {
    let Some(minter) = minter else {
        eprintln!("(no private key configured, so no demo tokens can be minted)");
        return;
    };
    println!("\nRecourse demo is serving on http://127.0.0.1:{port}. Tokens (valid 8 h):\n");
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
    println!(
        "Try:  curl -s -H \"Authorization: Bearer $SUBJECT_TOKEN\" http://127.0.0.1:{port}/v1/subjects/cust-1001/decisions\n"
    );
}
