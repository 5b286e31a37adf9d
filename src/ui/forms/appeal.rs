//! The appeal form, as the agent console and the subject portal send it: what was typed (kept
//! to show it again beside any errors), and the draft the appeal service parses.

use std::collections::BTreeMap;

use serde_json::Value;

use super::data::FormData;
use crate::decisions::model::Decision;
use crate::domain::appeal::{AppealDraft, Channel, IdentityCheckInput, IdentityResult, ValidAppeal};
use crate::domain::{Actor, FieldError};
use crate::ui::audience::Filer;
use crate::ui::words;

/// What was typed into an appeal form, kept to show it again beside any errors.
#[derive(Debug, Default, Clone)]
pub struct AppealForm {
    pub grounds: Vec<String>,
    pub statement: String,
    pub corrections: BTreeMap<String, String>,
    pub requested_outcome: String,
    pub channel: String,
    pub id_method: String,
    pub id_result: String,
}

impl AppealForm {
    pub fn from_form(f: &FormData) -> Self {
        Self {
            grounds: f.all("grounds"),
            statement: f.get("statement").unwrap_or_default().to_owned(),
            corrections: f.with_prefix("correct.").into_iter().collect(),
            requested_outcome: f.text("requested_outcome"),
            channel: f.text("channel"),
            id_method: f.text("identity_method"),
            id_result: f.text("identity_result"),
        }
    }

    /// The draft the appeal service parses, plus the problems only the form can have (an
    /// unknown ground or channel, a missing identity-check result).
    pub fn to_draft(&self, d: &Decision, filer: Filer) -> (AppealDraft, Vec<FieldError>) {
        let mut errors = Vec::new();
        let mut grounds = Vec::new();
        for g in &self.grounds {
            match words::parse_ground(g) {
                Some(g) => grounds.push(g),
                None => errors.push(FieldError::new("/grounds", format!("{g:?} is not a ground"))),
            }
        }
        let corrected: BTreeMap<String, Value> = self
            .corrections
            .iter()
            .map(|(k, raw)| (k.clone(), typed_like(d.explanation.inputs.get(k), raw)))
            .collect();
        let (channel, identity_check) = if filer == Filer::Agent {
            let channel = words::parse_channel(&self.channel);
            if channel.is_none() && !self.channel.is_empty() {
                errors.push(FieldError::new("/channel", "choose how the caller contacted us"));
            }
            let result = match self.id_result.as_str() {
                "verified" => Some(IdentityResult::Verified),
                "failed" => Some(IdentityResult::Failed),
                "inconclusive" => Some(IdentityResult::Inconclusive),
                _ => None,
            };
            let check = match (self.id_method.is_empty(), result) {
                (true, None) => None,
                (_, Some(result)) => Some(IdentityCheckInput {
                    method: self.id_method.clone(),
                    result,
                }),
                (false, None) => {
                    errors.push(FieldError::new(
                        "/identity_check/result",
                        "say whether the identity check passed",
                    ));
                    None
                }
            };
            (channel, check)
        } else {
            (Some(Channel::Web), None)
        };
        let draft = AppealDraft {
            grounds,
            statement: self.statement.clone(),
            corrected_inputs: (!corrected.is_empty()).then_some(corrected),
            requested_outcome: Some(self.requested_outcome.clone()).filter(|s| !s.is_empty()),
            evidence: Vec::new(),
            channel,
            identity_check,
        };
        (draft, errors)
    }
}

/// A corrected value, typed like the original where it parses: numbers stay numbers.
pub fn typed_like(original: Option<&Value>, raw: &str) -> Value {
    match original {
        Some(Value::Number(_)) => {
            let cleaned: String = raw.chars().filter(|c| !matches!(c, ',' | '_' | ' ')).collect();
            cleaned
                .parse::<i64>()
                .map(Value::from)
                .ok()
                .or_else(|| {
                    cleaned
                        .parse::<f64>()
                        .ok()
                        .and_then(serde_json::Number::from_f64)
                        .map(Value::Number)
                })
                .unwrap_or_else(|| Value::String(raw.to_owned()))
        }
        Some(Value::Bool(_)) => match raw.to_ascii_lowercase().as_str() {
            "yes" | "true" => Value::Bool(true),
            "no" | "false" => Value::Bool(false),
            _ => Value::String(raw.to_owned()),
        },
        _ => Value::String(raw.to_owned()),
    }
}

/// Problems only the form can have, plus the appeal rules' own, so the person sees every
/// problem at once rather than one round trip each.
pub fn all_problems(draft: AppealDraft, filer: &Actor, mut edge: Vec<FieldError>) -> Vec<FieldError> {
    if let Err(rules) = ValidAppeal::parse(draft, filer) {
        let extra: Vec<FieldError> = rules
            .into_iter()
            .filter(|r| !edge.iter().any(|e| e.pointer.starts_with(&r.pointer)))
            .collect();
        edge.extend(extra);
    }
    edge
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn corrections_keep_the_type_of_the_original() {
        assert_eq!(typed_like(Some(&json!(28000)), "41,000"), json!(41000));
        assert_eq!(typed_like(Some(&json!(0.5)), "0.25"), json!(0.25));
        assert_eq!(typed_like(Some(&json!(1)), "about 40k"), json!("about 40k"));
        assert_eq!(typed_like(Some(&json!(false)), "Yes"), json!(true));
        assert_eq!(typed_like(Some(&json!("MT")), "DE"), json!("DE"));
        assert_eq!(typed_like(None, "3"), json!("3"));
    }
}
