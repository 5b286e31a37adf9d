//! A human review of an appeal. ICO guidance: a meaningful review considers the inputs, the
//! explanation and the appellant's statement, and can change the outcome. So a rationale is
//! mandatory and must say something; boilerplate is refused.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::fields::{MAX_SCALAR_ENTRIES, NotBlank, Outcome, Text, scalar_map_nullable};
use super::validation::{Checker, FieldError};

pub const MIN_RATIONALE_CHARS: usize = 30;
pub const MAX_RATIONALE_CHARS: usize = 10_000;
/// Lease tokens are UUIDs (36 characters); anything much longer is not one.
pub const MAX_LEASE_TOKEN: usize = 128;
/// One thing the reviewer considered: an input, a contribution, a ground, the statement.
pub type Factor = Text<128>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewOutcome {
    Uphold,
    Overturn,
    Amend,
}

impl ReviewOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Uphold => "uphold",
            Self::Overturn => "overturn",
            Self::Amend => "amend",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Uphold, Self::Overturn, Self::Amend]
            .into_iter()
            .find(|v| v.as_str() == s)
    }

    /// The decision status this outcome leads to.
    pub fn decision_status(self) -> super::decision::DecisionStatus {
        use super::decision::DecisionStatus;
        match self {
            Self::Uphold => DecisionStatus::Upheld,
            Self::Overturn => DecisionStatus::Overturned,
            Self::Amend => DecisionStatus::Amended,
        }
    }

    pub fn changes_outcome(self) -> bool {
        !matches!(self, Self::Uphold)
    }
}

/// Phrases that say nothing about the case.
const BOILERPLATE: &[&str] = &[
    "lorem ipsum",
    "n/a",
    "not applicable",
    "no comment",
    "tbd",
    "to be decided",
    "see above",
    "see attached",
    "as per model",
    "model is correct",
    "decision is correct",
    "agree with model",
    "agree with the model",
    "no reason",
    "placeholder",
    "test",
    "asdf",
    "qwerty",
    "ok",
    "fine",
    "approved",
    "denied",
    "rejected",
    "upheld",
];

/// Why a rationale is not acceptable, or `None` when it is.
pub fn rationale_problem(text: &str) -> Option<&'static str> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Some("a rationale is required");
    }
    if trimmed.chars().count() < MIN_RATIONALE_CHARS {
        return Some("the rationale must be at least 30 characters and explain the decision");
    }
    if trimmed.chars().count() > MAX_RATIONALE_CHARS {
        return Some("the rationale must be at most 10000 characters");
    }
    // The subject reads the rationale in their outcome notice: it must read as it displays.
    if trimmed.chars().any(super::validation::deceptive) {
        return Some("the rationale must not contain direction overrides, byte-order marks or noncharacters");
    }
    let letters: HashSet<char> = trimmed
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    if letters.len() < 6 {
        return Some("the rationale is repeated characters, not an explanation");
    }
    let normalized: String = trimmed
        .to_lowercase()
        .chars()
        .map(|c| if c.is_alphanumeric() || c == '/' { c } else { ' ' })
        .collect();
    let words: Vec<&str> = normalized.split_whitespace().collect();
    let distinct: HashSet<&str> = words.iter().copied().collect();
    if distinct.len() < 5 {
        return Some("the rationale repeats a few words; explain what was considered and why");
    }
    // Mostly boilerplate: strip every known phrase and see if anything substantive is left.
    let mut rest = format!(" {} ", words.join(" "));
    for phrase in BOILERPLATE {
        rest = rest.replace(&format!(" {phrase} "), " ");
    }
    let lorem = [
        "lorem",
        "ipsum",
        "dolor",
        "sit",
        "amet",
        "consectetur",
        "adipiscing",
        "elit",
        "sed",
        "do",
    ];
    let substantive = rest
        .split_whitespace()
        .filter(|w| !lorem.contains(w) && w.len() > 2)
        .count();
    if substantive < 4 {
        return Some("the rationale is placeholder or boilerplate text; explain the decision");
    }
    None
}

/// A review as submitted, before validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewDraft {
    #[schema(value_type = NotBlank)]
    pub lease_token: String,
    pub outcome: ReviewOutcome,
    #[serde(default)]
    #[schema(value_type = Option<Outcome>)]
    pub new_outcome: Option<String>,
    #[schema(min_length = 30)]
    pub rationale: String,
    #[schema(min_items = 1, max_items = 100, value_type = Vec<Factor>)]
    pub factors_considered: Vec<String>,
    #[serde(default)]
    #[schema(schema_with = scalar_map_nullable)]
    pub rectified_inputs: Option<BTreeMap<String, Value>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ValidReview {
    pub lease_token: String,
    pub outcome: ReviewOutcome,
    pub new_outcome: Option<String>,
    pub rationale: String,
    pub factors_considered: Vec<String>,
    pub rectified_inputs: Option<BTreeMap<String, Value>>,
}

impl ValidReview {
    pub fn parse(draft: ReviewDraft) -> Result<Self, Vec<FieldError>> {
        let mut c = Checker::default();
        if draft.lease_token.trim().is_empty() {
            c.fail("/lease_token", "is required: present the token from your claim");
        } else if draft.lease_token.len() > MAX_LEASE_TOKEN {
            c.fail("/lease_token", format!("must be at most {MAX_LEASE_TOKEN} characters"));
        }
        match (&draft.new_outcome, draft.outcome) {
            (None, ReviewOutcome::Overturn | ReviewOutcome::Amend) => {
                c.fail("/new_outcome", "is required to overturn or amend");
            }
            (Some(_), ReviewOutcome::Uphold) => {
                c.fail("/new_outcome", "must be absent when the decision is upheld");
            }
            (Some(outcome), _) => c.check::<Outcome>("/new_outcome", outcome),
            (None, ReviewOutcome::Uphold) => {}
        }
        if let Some(problem) = rationale_problem(&draft.rationale) {
            c.fail("/rationale", problem);
        }
        if draft.factors_considered.is_empty() {
            c.fail(
                "/factors_considered",
                "name what was considered: inputs, contributions, grounds, the statement",
            );
        }
        if draft.factors_considered.len() > 100 {
            c.fail("/factors_considered", "at most 100 factors");
        }
        for (i, factor) in draft.factors_considered.iter().enumerate() {
            c.check::<Factor>(&format!("/factors_considered/{i}"), factor);
        }
        if let Some(rectified) = &draft.rectified_inputs {
            c.scalar_map("/rectified_inputs", rectified, MAX_SCALAR_ENTRIES);
        }
        c.finish(Self {
            lease_token: draft.lease_token,
            outcome: draft.outcome,
            new_outcome: draft.new_outcome,
            rationale: draft.rationale.trim().to_owned(),
            factors_considered: draft.factors_considered,
            rectified_inputs: draft.rectified_inputs,
        })
    }

    /// An overturn or amend must change the outcome in force; one that names that same outcome
    /// would be counted and told as a reversal that reverses nothing (DSA Art. 20, GDPR
    /// Art. 12(4)).
    pub fn check_against(&self, outcome_in_force: &str) -> Result<(), FieldError> {
        if self.outcome.changes_outcome() && self.new_outcome.as_deref() == Some(outcome_in_force) {
            return Err(FieldError::new(
                "/new_outcome",
                format!(
                    "{outcome_in_force:?} is already the outcome in force, so nothing would be overturned or \
amended; record an uphold instead"
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_overturn_or_amend_must_change_the_outcome_in_force() {
        let review = |outcome, new: Option<&str>| ValidReview {
            lease_token: "t".into(),
            outcome,
            new_outcome: new.map(str::to_owned),
            rationale: String::new(),
            factors_considered: Vec::new(),
            rectified_inputs: None,
        };
        for outcome in [ReviewOutcome::Overturn, ReviewOutcome::Amend] {
            assert!(review(outcome, Some("declined")).check_against("declined").is_err());
            assert!(review(outcome, Some("approved")).check_against("declined").is_ok());
        }
        assert!(review(ReviewOutcome::Uphold, None).check_against("declined").is_ok());
    }

    #[test]
    fn substantive_rationales_pass() {
        for text in [
            "The applicant's payslips show income of 41,000, not 28,000; with the corrected income the score clears the threshold.",
            "Two missed payments were caused by the bank's own direct-debit outage in March, so they should not count against her.",
        ] {
            assert_eq!(rationale_problem(text), None, "{text}");
        }
    }

    #[test]
    fn empty_short_repeated_and_boilerplate_rationales_fail() {
        for text in [
            "",
            "   ",
            "Looks fine to me.",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "ababababababababababababababababababab",
            "test test test test test test test test test",
            "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do",
            "n/a n/a n/a see above, as per model, agree with the model. ok",
            "..........................................",
        ] {
            assert!(rationale_problem(text).is_some(), "{text:?} should be refused");
        }
    }
}
