//! Routing: which queue an appeal goes to and with what base priority. Rules are tried in
//! order; the first whose every set condition matches wins; otherwise the default queue.

use serde::{Deserialize, Serialize};

use super::fields::{DecisionType, ModelName};
use super::validation::{Checker, FieldError};

pub const DEFAULT_QUEUE: &str = "default";
/// Overdue appeals are moved here for supervisors.
pub const ESCALATION_QUEUE: &str = "escalations";
/// Where decisions of a suspended model wait for their mandatory human review (AI Act Art. 26(5)).
pub const MANDATORY_REVIEW_QUEUE: &str = "mandatory_review";
/// Above routed appeals: a suspended model's decisions are acted on while nobody checked them.
pub const MANDATORY_REVIEW_PRIORITY: i32 = 50;
pub const DEFAULT_PRIORITY: i32 = 0;

/// A rule's conditions. An absent condition matches anything.
///
/// `remote = "Self"`: the derives write inherent functions, and the trait impls below accept
/// only a JSON object. A derived struct would also take an array (`[null, null]`), which the
/// contract does not allow.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct RuleMatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<DecisionType>)]
    pub decision_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<ModelName>)]
    pub model_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub significant_effect: Option<bool>,
    /// Inclusive lower bound on the decision's score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score_min: Option<f64>,
    /// Exclusive upper bound on the decision's score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score_max: Option<f64>,
}

impl Serialize for RuleMatch {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        RuleMatch::serialize(self, s)
    }
}

impl<'de> Deserialize<'de> for RuleMatch {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ObjectOnly;
        impl<'de> serde::de::Visitor<'de> for ObjectOnly {
            type Value = RuleMatch;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of match conditions")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<RuleMatch, A::Error> {
                RuleMatch::deserialize(serde::de::value::MapAccessDeserializer::new(map))
            }
        }
        d.deserialize_map(ObjectOnly)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleInput {
    /// Rules across all queues are tried in ascending position.
    #[serde(deserialize_with = "crate::domain::validation::integral::deserialize")]
    pub position: i32,
    #[serde(rename = "match", default)]
    pub conditions: RuleMatch,
    #[serde(default)]
    #[serde(deserialize_with = "crate::domain::validation::integral::deserialize")]
    #[schema(minimum = -1000, maximum = 1000)]
    pub priority: i32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RoutingRule {
    pub queue: String,
    pub position: i32,
    pub conditions: RuleMatch,
    pub priority: i32,
}

/// The facts about a decision that routing looks at.
#[derive(Debug, Clone, Copy)]
pub struct RoutingFacts<'a> {
    pub decision_type: &'a str,
    pub model_name: &'a str,
    pub significant_effect: bool,
    pub score: Option<f64>,
}

impl RuleMatch {
    pub fn matches(&self, f: &RoutingFacts<'_>) -> bool {
        let score_ok = |bound: Option<f64>, ok: fn(f64, f64) -> bool| match bound {
            None => true,
            Some(b) => f.score.is_some_and(|s| ok(s, b)),
        };
        self.decision_type.as_deref().is_none_or(|t| t == f.decision_type)
            && self.model_name.as_deref().is_none_or(|m| m == f.model_name)
            && self.significant_effect.is_none_or(|s| s == f.significant_effect)
            && score_ok(self.score_min, |s, b| s >= b)
            && score_ok(self.score_max, |s, b| s < b)
    }
}

/// The queue and base priority for an appeal. `rules` must be in evaluation order.
pub fn route(rules: &[RoutingRule], facts: &RoutingFacts<'_>) -> (String, i32) {
    rules
        .iter()
        .find(|r| r.conditions.matches(facts))
        .map(|r| (r.queue.clone(), r.priority))
        .unwrap_or_else(|| (DEFAULT_QUEUE.to_owned(), DEFAULT_PRIORITY))
}

pub fn validate_rules(rules: &[RuleInput]) -> Result<(), Vec<FieldError>> {
    let mut c = Checker::default();
    if rules.len() > 100 {
        c.fail("/rules", "at most 100 rules per queue");
    }
    for (i, rule) in rules.iter().enumerate() {
        let at = format!("/rules/{i}/match");
        if let Some(t) = &rule.conditions.decision_type {
            c.check::<DecisionType>(&format!("{at}/decision_type"), t);
        }
        if let Some(m) = &rule.conditions.model_name {
            c.check::<ModelName>(&format!("{at}/model_name"), m);
        }
        if let (Some(lo), Some(hi)) = (rule.conditions.score_min, rule.conditions.score_max)
            && lo >= hi
        {
            c.fail(format!("{at}/score_max"), "must be greater than score_min");
        }
        if !(-1000..=1000).contains(&rule.priority) {
            c.fail(format!("/rules/{i}/priority"), "must be between -1000 and 1000");
        }
    }
    c.finish(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(queue: &str, position: i32, conditions: RuleMatch, priority: i32) -> RoutingRule {
        RoutingRule {
            queue: queue.into(),
            position,
            conditions,
            priority,
        }
    }

    fn facts(score: Option<f64>) -> RoutingFacts<'static> {
        RoutingFacts {
            decision_type: "credit_limit",
            model_name: "limits",
            significant_effect: true,
            score,
        }
    }

    #[test]
    fn the_first_matching_rule_wins_and_the_default_catches_the_rest() {
        let rules = vec![
            rule(
                "fraud",
                1,
                RuleMatch {
                    decision_type: Some("fraud_flag".into()),
                    ..Default::default()
                },
                5,
            ),
            rule(
                "borderline",
                2,
                RuleMatch {
                    score_min: Some(0.4),
                    score_max: Some(0.6),
                    ..Default::default()
                },
                20,
            ),
            rule(
                "credit",
                3,
                RuleMatch {
                    decision_type: Some("credit_limit".into()),
                    ..Default::default()
                },
                10,
            ),
        ];
        assert_eq!(route(&rules, &facts(Some(0.5))), ("borderline".into(), 20));
        assert_eq!(route(&rules, &facts(Some(0.6))), ("credit".into(), 10));
        assert_eq!(route(&rules, &facts(None)), ("credit".into(), 10));
        let other = RoutingFacts {
            decision_type: "benefit",
            ..facts(None)
        };
        assert_eq!(route(&rules, &other), (DEFAULT_QUEUE.into(), DEFAULT_PRIORITY));
    }

    #[test]
    fn model_and_significance_conditions_must_all_hold() {
        let conditions = RuleMatch {
            model_name: Some("limits".into()),
            significant_effect: Some(false),
            ..Default::default()
        };
        assert!(!conditions.matches(&facts(None)));
        assert!(conditions.matches(&RoutingFacts {
            significant_effect: false,
            ..facts(None)
        }));
    }
}
