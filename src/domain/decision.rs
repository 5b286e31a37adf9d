//! An automated decision as a scoring engine reports it, and the rules its explanation must meet
//! (GDPR Art. 15(1)(h) meaningful information about the logic; Reg B: at most 4 specific reasons).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::fields::{DecisionType, Ident, MAX_SCALAR_ENTRIES, ModelName, Outcome, SubjectId, Text, scalar_map};
use super::validation::{Checker, FieldError};

pub const MAX_REASON_CODES: usize = 4;
pub const MAX_CONTRIBUTIONS: usize = 256;

/// A decision as posted by an engine, before validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionDraft {
    #[schema(value_type = Ident<128>)]
    pub external_id: String,
    #[schema(value_type = SubjectId)]
    pub subject_id: String,
    #[schema(value_type = DecisionType)]
    pub decision_type: String,
    #[schema(value_type = Outcome)]
    pub outcome: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    pub model: ModelRef,
    pub significant_effect: bool,
    pub decided_at: DateTime<Utc>,
    pub explanation: Explanation,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelRef {
    #[schema(value_type = ModelName)]
    pub name: String,
    #[schema(value_type = Text<64>)]
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Explanation {
    /// Feature values the model used. These are personal data. A posted decision names at
    /// least one (422 otherwise); an erased decision has none left.
    #[schema(schema_with = scalar_map)]
    pub inputs: BTreeMap<String, Value>,
    #[serde(default)]
    #[schema(max_items = 256)]
    pub contributions: Vec<Contribution>,
    #[serde(default)]
    #[schema(max_items = 4)]
    pub reason_codes: Vec<ReasonCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counterfactual: Option<Counterfactual>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Contribution {
    #[schema(value_type = Text<128>)]
    pub feature: String,
    pub weight: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonCode {
    #[schema(value_type = Ident<64>)]
    pub code: String,
    #[schema(value_type = Text<512>)]
    pub text: String,
}

/// What change to the inputs would have altered the outcome (CJEU C-203/22).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Counterfactual {
    #[serde(default)]
    #[schema(schema_with = scalar_map)]
    pub changes: BTreeMap<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Text<1024>>)]
    pub text: Option<String>,
}

/// A decision whose every field has been checked. Only [`ValidDecision::parse`] makes one.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidDecision(DecisionDraft);

impl std::ops::Deref for ValidDecision {
    type Target = DecisionDraft;

    fn deref(&self) -> &DecisionDraft {
        &self.0
    }
}

impl ValidDecision {
    /// Checks a draft against every rule, reporting all violations with JSON pointers.
    /// `decided_at` is truncated to microseconds, the precision both backends store.
    pub fn parse(mut draft: DecisionDraft, now: DateTime<Utc>) -> Result<Self, Vec<FieldError>> {
        let mut c = Checker::default();
        c.check::<Ident<128>>("/external_id", &draft.external_id);
        c.check::<SubjectId>("/subject_id", &draft.subject_id);
        c.check::<DecisionType>("/decision_type", &draft.decision_type);
        c.check::<Outcome>("/outcome", &draft.outcome);
        if let Some(score) = draft.score {
            c.finite("/score", score);
        }
        if let Some(threshold) = draft.threshold {
            c.finite("/threshold", threshold);
        }
        c.check::<ModelName>("/model/name", &draft.model.name);
        c.check::<Text<64>>("/model/version", &draft.model.version);
        c.happened("/decided_at", draft.decided_at, now);
        check_explanation(&mut c, &draft.explanation);
        draft.decided_at = draft
            .decided_at
            .duration_trunc(Duration::microseconds(1))
            .unwrap_or(draft.decided_at);
        c.finish(Self(draft))
    }

    /// A stable fingerprint of the validated content, so that a re-post of the same decision
    /// can be told apart from a different decision under the same `external_id`.
    pub fn fingerprint(&self) -> String {
        // Serialising a struct of BTreeMaps is deterministic.
        let bytes = serde_json::to_vec(&self.0).unwrap_or_default();
        hex::encode(Sha256::digest(bytes))
    }

    pub fn into_inner(self) -> DecisionDraft {
        self.0
    }
}

fn check_explanation(c: &mut Checker, e: &Explanation) {
    if e.inputs.is_empty() {
        c.fail("/explanation/inputs", "must name at least one input the model used");
    }
    c.scalar_map("/explanation/inputs", &e.inputs, MAX_SCALAR_ENTRIES);

    if e.contributions.len() > MAX_CONTRIBUTIONS {
        c.fail(
            "/explanation/contributions",
            format!("must have at most {MAX_CONTRIBUTIONS} entries"),
        );
    }
    for (i, contribution) in e.contributions.iter().enumerate() {
        c.check::<Text<128>>(
            &format!("/explanation/contributions/{i}/feature"),
            &contribution.feature,
        );
        c.finite(&format!("/explanation/contributions/{i}/weight"), contribution.weight);
    }

    if e.reason_codes.len() > MAX_REASON_CODES {
        c.fail(
            "/explanation/reason_codes",
            format!("must have at most {MAX_REASON_CODES} principal reasons"),
        );
    }
    for (i, reason) in e.reason_codes.iter().enumerate() {
        c.check::<Ident<64>>(&format!("/explanation/reason_codes/{i}/code"), &reason.code);
        c.check::<Text<512>>(&format!("/explanation/reason_codes/{i}/text"), &reason.text);
    }

    if let Some(cf) = &e.counterfactual {
        if cf.changes.is_empty() && cf.text.is_none() {
            c.fail("/explanation/counterfactual", "must give changes or text");
        }
        c.scalar_map("/explanation/counterfactual/changes", &cf.changes, MAX_SCALAR_ENTRIES);
        if let Some(text) = &cf.text {
            c.check::<Text<1024>>("/explanation/counterfactual/text", text);
        }
    }
}

/// Where a decision stands after any appeals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionStatus {
    Effective,
    UnderAppeal,
    Upheld,
    Overturned,
    Amended,
}

impl DecisionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Effective => "effective",
            Self::UnderAppeal => "under_appeal",
            Self::Upheld => "upheld",
            Self::Overturned => "overturned",
            Self::Amended => "amended",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Effective,
            Self::UnderAppeal,
            Self::Upheld,
            Self::Overturned,
            Self::Amended,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::validation::REPORTING_CLOCK_SKEW;
    use serde_json::json;

    fn draft() -> DecisionDraft {
        serde_json::from_value(json!({
            "external_id": "app-1",
            "subject_id": "cust-1",
            "decision_type": "credit_limit",
            "outcome": "declined",
            "score": 0.42,
            "threshold": 0.5,
            "model": {"name": "limits", "version": "3.1.0"},
            "significant_effect": true,
            "decided_at": "2026-11-01T10:00:00.123456789Z",
            "explanation": {
                "inputs": {"income": 42000, "employment": "part_time"},
                "contributions": [{"feature": "income", "weight": -0.3}],
                "reason_codes": [{"code": "R01", "text": "Income too low for requested limit"}]
            }
        }))
        .unwrap()
    }

    fn now() -> DateTime<Utc> {
        "2026-11-02T00:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_complete_draft_is_valid_and_truncated_to_microseconds() {
        let valid = ValidDecision::parse(draft(), now()).unwrap();
        assert_eq!(valid.decided_at.timestamp_subsec_nanos(), 123_456_000);
    }

    #[test]
    fn more_than_four_reasons_is_rejected() {
        let mut d = draft();
        d.explanation.reason_codes = (0..5)
            .map(|i| ReasonCode {
                code: format!("R{i}"),
                text: "specific reason".into(),
            })
            .collect();
        let errors = ValidDecision::parse(d, now()).unwrap_err();
        assert_eq!(errors[0].pointer, "/explanation/reason_codes");
    }

    #[test]
    fn non_scalar_inputs_and_non_finite_numbers_are_pointed_at() {
        let mut d = draft();
        d.explanation.inputs.insert("a/b".into(), json!({"nested": 1}));
        d.score = Some(f64::INFINITY);
        d.explanation.contributions[0].weight = f64::NAN;
        let pointers: Vec<_> = ValidDecision::parse(d, now())
            .unwrap_err()
            .into_iter()
            .map(|e| e.pointer)
            .collect();
        assert_eq!(
            pointers,
            [
                "/score",
                "/explanation/inputs/a~1b",
                "/explanation/contributions/0/weight"
            ]
        );
    }

    #[test]
    fn future_decisions_beyond_skew_are_rejected_but_small_skew_is_allowed() {
        let mut d = draft();
        d.decided_at = now() + REPORTING_CLOCK_SKEW - Duration::seconds(1);
        assert!(ValidDecision::parse(d.clone(), now()).is_ok());
        d.decided_at = now() + REPORTING_CLOCK_SKEW + Duration::seconds(1);
        assert_eq!(ValidDecision::parse(d, now()).unwrap_err()[0].pointer, "/decided_at");
    }

    #[test]
    fn fingerprint_ignores_representation_but_not_content() {
        let a = ValidDecision::parse(draft(), now()).unwrap();
        let b = ValidDecision::parse(draft(), now()).unwrap();
        assert_eq!(a.fingerprint(), b.fingerprint());
        let mut changed = draft();
        changed.outcome = "approved".into();
        let c = ValidDecision::parse(changed, now()).unwrap();
        assert_ne!(a.fingerprint(), c.fingerprint());
    }
}
