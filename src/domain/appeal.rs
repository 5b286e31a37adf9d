//! An appeal against a decision: what the filer may say, and the lifecycle it moves through.
//! Transitions are a pure state machine; anything not listed here is refused.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::fields::{IdentityMethod, MAX_SCALAR_ENTRIES, Outcome, Prose, Text, scalar_map_nullable};
use super::validation::{Checker, FieldError};
use super::{Actor, Role};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Ground {
    InaccurateData,
    WrongLogic,
    ChangedCircumstances,
    NotSolelyAutomatedReview,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Web,
    Phone,
    Email,
    Letter,
    Api,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Web => "web",
            Channel::Phone => "phone",
            Channel::Email => "email",
            Channel::Letter => "letter",
            Channel::Api => "api",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IdentityResult {
    Verified,
    Failed,
    Inconclusive,
}

/// How an agent checked a caller's identity (GDPR Art. 12(2),(6)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityCheckInput {
    #[schema(value_type = IdentityMethod)]
    pub method: String,
    pub result: IdentityResult,
}

/// The identity check as stored: the agent who did it is taken from their token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IdentityCheck {
    pub method: String,
    pub checked_by: String,
    pub result: IdentityResult,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    #[schema(value_type = Text<200>)]
    pub name: String,
    #[schema(value_type = Text<100>)]
    pub media_type: String,
    #[serde(deserialize_with = "crate::domain::validation::integral::deserialize")]
    pub size_bytes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^[0-9a-fA-F]{64}$")]
    pub sha256: Option<String>,
}

/// An appeal as filed, before validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppealDraft {
    #[schema(min_items = 1)]
    pub grounds: Vec<Ground>,
    /// The subject's point of view (GDPR Art. 22(3)).
    #[schema(value_type = Statement)]
    pub statement: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = scalar_map_nullable)]
    pub corrected_inputs: Option<BTreeMap<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Outcome>)]
    pub requested_outcome: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 20)]
    pub evidence: Vec<Evidence>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_check: Option<IdentityCheckInput>,
}

pub const MAX_STATEMENT: usize = 10_000;
pub const MAX_EVIDENCE: usize = 20;

/// What the filer says (GDPR Art. 22(3)).
pub type Statement = Prose<MAX_STATEMENT>;

/// A checked appeal, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidAppeal {
    pub grounds: Vec<Ground>,
    pub statement: String,
    pub corrected_inputs: Option<BTreeMap<String, Value>>,
    pub requested_outcome: Option<String>,
    pub evidence: Vec<Evidence>,
    pub channel: Channel,
    pub identity_check: Option<IdentityCheck>,
}

impl ValidAppeal {
    /// Subjects file for themselves (channel web or api). Agents file for a caller and must
    /// say how they verified the caller's identity, and over which channel the caller came.
    pub fn parse(draft: AppealDraft, filer: &Actor) -> Result<Self, Vec<FieldError>> {
        let mut c = Checker::default();
        let mut grounds = draft.grounds;
        grounds.sort();
        grounds.dedup();
        if grounds.is_empty() {
            c.fail("/grounds", "name at least one ground");
        }
        c.check::<Statement>("/statement", &draft.statement);
        if let Some(corrected) = &draft.corrected_inputs {
            c.scalar_map("/corrected_inputs", corrected, MAX_SCALAR_ENTRIES);
        }
        if let Some(outcome) = &draft.requested_outcome {
            c.check::<Outcome>("/requested_outcome", outcome);
        }
        if draft.evidence.len() > MAX_EVIDENCE {
            c.fail("/evidence", format!("at most {MAX_EVIDENCE} documents"));
        }
        for (i, e) in draft.evidence.iter().enumerate() {
            c.check::<Text<200>>(&format!("/evidence/{i}/name"), &e.name);
            c.check::<Text<100>>(&format!("/evidence/{i}/media_type"), &e.media_type);
            if let Some(hash) = &e.sha256
                && (hash.len() != 64 || !hash.chars().all(|ch| ch.is_ascii_hexdigit()))
            {
                c.fail(format!("/evidence/{i}/sha256"), "must be 64 hexadecimal characters");
            }
        }
        let (channel, identity_check) = match filer.role {
            Role::Agent => {
                let channel = draft.channel.unwrap_or(Channel::Api);
                if draft.channel.is_none() {
                    c.fail(
                        "/channel",
                        "is required when an agent files: phone, email, letter, web or api",
                    );
                }
                let check = match draft.identity_check {
                    None => {
                        c.fail("/identity_check", "is required when an agent files for a caller");
                        None
                    }
                    Some(check) => {
                        c.check::<IdentityMethod>("/identity_check/method", &check.method);
                        if check.result != IdentityResult::Verified {
                            c.fail(
                                "/identity_check/result",
                                "the caller's identity must be verified before an appeal is filed for them",
                            );
                        }
                        Some(IdentityCheck {
                            method: check.method,
                            checked_by: filer.id.clone(),
                            result: check.result,
                        })
                    }
                };
                (channel, check)
            }
            _ => {
                if draft.identity_check.is_some() {
                    c.fail(
                        "/identity_check",
                        "only an agent filing for a caller records an identity check",
                    );
                }
                let channel = draft.channel.unwrap_or(Channel::Web);
                if !matches!(channel, Channel::Web | Channel::Api) {
                    c.fail("/channel", "a subject files over web or api");
                }
                (channel, None)
            }
        };
        c.finish(Self {
            grounds,
            statement: draft.statement,
            corrected_inputs: draft.corrected_inputs,
            requested_outcome: draft.requested_outcome,
            evidence: draft.evidence,
            channel,
            identity_check,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AppealStatus {
    Queued,
    InReview,
    AwaitingApproval,
    Decided,
    Withdrawn,
}

impl AppealStatus {
    pub const ALL: [AppealStatus; 5] = [
        Self::Queued,
        Self::InReview,
        Self::AwaitingApproval,
        Self::Decided,
        Self::Withdrawn,
    ];
    /// Statuses in which an appeal is still open (at most one per decision).
    pub const OPEN: [AppealStatus; 3] = [Self::Queued, Self::InReview, Self::AwaitingApproval];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::InReview => "in_review",
            Self::AwaitingApproval => "awaiting_approval",
            Self::Decided => "decided",
            Self::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    pub fn is_open(self) -> bool {
        Self::OPEN.contains(&self)
    }

    /// The state after `action`, or the refusal naming where the appeal stands.
    pub fn apply(self, action: Action) -> Result<AppealStatus, IllegalTransition> {
        use AppealStatus::*;
        let next = match (self, action) {
            (Queued, Action::Claim) => InReview,
            (Queued | InReview, Action::Assign) => Queued,
            (InReview, Action::Release | Action::ExpireLease) => Queued,
            (InReview, Action::SubmitReview { needs_approval: false }) => Decided,
            (InReview, Action::SubmitReview { needs_approval: true }) => AwaitingApproval,
            (AwaitingApproval, Action::Approve) => Decided,
            (AwaitingApproval, Action::ReturnForReview) => Queued,
            (Queued | InReview, Action::Withdraw) => Withdrawn,
            (Queued | InReview | AwaitingApproval, Action::Extend | Action::Escalate) => self,
            (from, action) => return Err(IllegalTransition { from, action }),
        };
        Ok(next)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Claim,
    Release,
    ExpireLease,
    Assign,
    SubmitReview { needs_approval: bool },
    Approve,
    ReturnForReview,
    Withdraw,
    Extend,
    Escalate,
}

impl Action {
    pub fn describe(self) -> &'static str {
        match self {
            Action::Claim => "claim",
            Action::Release => "release",
            Action::ExpireLease => "expire the lease of",
            Action::Assign => "assign",
            Action::SubmitReview { .. } => "review",
            Action::Approve => "approve",
            Action::ReturnForReview => "return",
            Action::Withdraw => "withdraw",
            Action::Extend => "extend",
            Action::Escalate => "escalate",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot {} an appeal that is {}", action.describe(), from.as_str())]
pub struct IllegalTransition {
    pub from: AppealStatus,
    pub action: Action,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn actor(role: Role) -> Actor {
        Actor {
            id: "filer-1".into(),
            role,
            request_id: None,
        }
    }

    fn draft(v: Value) -> AppealDraft {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn the_happy_path_through_the_state_machine() {
        let s = AppealStatus::Queued.apply(Action::Claim).unwrap();
        assert_eq!(s, AppealStatus::InReview);
        let s = s.apply(Action::SubmitReview { needs_approval: true }).unwrap();
        assert_eq!(s, AppealStatus::AwaitingApproval);
        assert_eq!(s.apply(Action::Approve), Ok(AppealStatus::Decided));
        assert_eq!(s.apply(Action::ReturnForReview), Ok(AppealStatus::Queued));
    }

    #[test]
    fn illegal_moves_name_the_current_state() {
        for (from, action) in [
            (AppealStatus::Decided, Action::Claim),
            (AppealStatus::Decided, Action::Withdraw),
            (AppealStatus::Withdrawn, Action::SubmitReview { needs_approval: false }),
            (AppealStatus::Queued, Action::SubmitReview { needs_approval: false }),
            (AppealStatus::Queued, Action::Approve),
            (AppealStatus::AwaitingApproval, Action::Withdraw),
            (AppealStatus::InReview, Action::Claim),
            (AppealStatus::Decided, Action::Extend),
        ] {
            let err = from.apply(action).unwrap_err();
            assert_eq!(err.from, from);
            assert!(err.to_string().contains(from.as_str()));
        }
    }

    #[test]
    fn an_agent_must_record_a_verified_identity_check_and_channel() {
        let agent = actor(Role::Agent);
        let errors = ValidAppeal::parse(draft(json!({"grounds": ["other"], "statement": "x"})), &agent).unwrap_err();
        let pointers: Vec<_> = errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(pointers, ["/channel", "/identity_check"]);

        let failed = json!({"grounds": ["other"], "statement": "x", "channel": "phone",
                            "identity_check": {"method": "kba", "result": "failed"}});
        assert_eq!(
            ValidAppeal::parse(draft(failed), &agent).unwrap_err()[0].pointer,
            "/identity_check/result"
        );

        let ok = json!({"grounds": ["other", "other", "wrong_logic"], "statement": "x", "channel": "phone",
                        "identity_check": {"method": "kba", "result": "verified"}});
        let valid = ValidAppeal::parse(draft(ok), &agent).unwrap();
        assert_eq!(valid.grounds, [Ground::WrongLogic, Ground::Other]);
        assert_eq!(valid.identity_check.unwrap().checked_by, "filer-1");
    }

    #[test]
    fn a_subject_files_over_web_without_an_identity_check() {
        let subject = actor(Role::Subject);
        let valid = ValidAppeal::parse(
            draft(json!({"grounds": ["inaccurate_data"], "statement": "My income is wrong"})),
            &subject,
        )
        .unwrap();
        assert_eq!(valid.channel, Channel::Web);
        let with_check =
            json!({"grounds": ["other"], "statement": "x", "identity_check": {"method": "m", "result": "verified"}});
        assert_eq!(
            ValidAppeal::parse(draft(with_check), &subject).unwrap_err()[0].pointer,
            "/identity_check"
        );
        let empty = json!({"grounds": [], "statement": " "});
        assert_eq!(ValidAppeal::parse(draft(empty), &subject).unwrap_err().len(), 2);
    }
}
