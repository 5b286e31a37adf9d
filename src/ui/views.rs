//! Pieces of pages that several screens share: the decision and its explanation, the inputs
//! table with the subject's corrections, an appeal's status with its notices, and the appeal
//! form that both the subject portal and the agent console use.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use maud::{Markup, html};
use serde_json::Value;

use super::charts;
use super::forms::{FormData, FormErrors};
use super::layout::{self, described_by, field_errors, field_id, humanize};
use super::words;
use crate::appeals::detail::AppealDetail;
use crate::decisions::model::Decision;
use crate::domain::FieldError;
use crate::domain::appeal::{AppealDraft, Channel, IdentityCheckInput, IdentityResult};

/// The facts of a decision. `reveal` is false in a blind-first case before the initial view.
pub fn decision_facts(d: &Decision, tz: Tz, reveal: bool) -> Markup {
    html! {
        dl.facts {
            dt { "Decision" } dd { (words::kind_label(&d.decision_type)) }
            dt { "Made by" } dd { (d.engine_id) }
            dt { "Model" } dd { (d.model.name) " version " (d.model.version) }
            dt { "Decided on" } dd { (layout::datetime(d.decided_at, tz)) }
            dt { "Legal or similarly significant effect" } dd { @if d.significant_effect { "Yes" } @else { "No" } }
            dt { "Outcome" }
            dd {
                @if reveal {
                    strong { (d.outcome) }
                    @if d.effective_outcome != d.outcome { " (now: " (d.effective_outcome) ")" }
                } @else {
                    span.withheld { "Hidden until you record your initial view" }
                }
            }
            dt { "Score" }
            dd {
                @if !reveal {
                    span.withheld { "Hidden until you record your initial view" }
                } @else if let Some(score) = d.score {
                    (layout::num(score))
                    @if let Some(t) = d.threshold { " against a threshold of " (layout::num(t)) }
                } @else {
                    "No score was given"
                }
            }
            dt { "Reference" } dd { code { (d.external_id) } }
        }
    }
}

/// The model's explanation for staff: score gauge, contribution chart, reason codes.
pub fn explanation(d: &Decision) -> Markup {
    let e = &d.explanation;
    html! {
        @if let Some(score) = d.score {
            (charts::score_gauge("score-gauge", score, d.threshold))
        }
        @if !e.contributions.is_empty() {
            h3 { "What counted, and how much" }
            (charts::contributions("contributions-chart", &e.contributions))
        }
        @if !e.reason_codes.is_empty() {
            h3 { "Principal reasons given" }
            ul.reasons {
                @for r in &e.reason_codes {
                    li { code { (r.code) } " " (r.text) }
                }
            }
        }
        @if let Some(cf) = &e.counterfactual {
            h3 { "What would have changed the outcome" }
            (counterfactual(d, cf))
        }
    }
}

pub fn counterfactual(d: &Decision, cf: &crate::domain::decision::Counterfactual) -> Markup {
    html! {
        @if let Some(text) = &cf.text {
            p { (text) }
        }
        @if !cf.changes.is_empty() {
            ul {
                @for (feature, to) in &cf.changes {
                    li {
                        (humanize(feature)) ": " strong { (layout::value(to)) }
                        @if let Some(was) = d.explanation.inputs.get(feature) {
                            " instead of " (layout::value(was))
                        }
                    }
                }
            }
        }
    }
}

/// The inputs the model used, with what the subject says the true values are beside them.
pub fn inputs_table(d: &Decision, corrected: Option<&BTreeMap<String, Value>>) -> Markup {
    let corrected_any = corrected.is_some_and(|c| !c.is_empty());
    html! {
        table.data {
            caption { "Information the model used" }
            thead {
                tr {
                    th scope="col" { "Input" }
                    th scope="col" { "Value used" }
                    @if corrected_any { th scope="col" { "Subject says" } }
                }
            }
            tbody {
                @for (name, v) in &d.explanation.inputs {
                    @let fix = corrected.and_then(|c| c.get(name));
                    tr.corrected[fix.is_some()] {
                        th scope="row" { (humanize(name)) }
                        td { (layout::value(v)) }
                        @if corrected_any {
                            td {
                                @if let Some(f) = fix {
                                    strong { (layout::value(f)) } span.visually-hidden { " (corrected by the subject)" }
                                } @else { span.muted { "no change" } }
                            }
                        }
                    }
                }
                @if let Some(c) = corrected {
                    @for (name, v) in c.iter().filter(|(n, _)| !d.explanation.inputs.contains_key(*n)) {
                        tr.corrected {
                            th scope="row" { (humanize(name)) }
                            td { span.muted { "not used" } }
                            td { strong { (layout::value(v)) } }
                        }
                    }
                }
            }
        }
    }
}

/// An appeal's status, deadline, outcome and notices, in words that can be read out.
pub fn appeal_status(a: &AppealDetail, original_outcome: &str, now: DateTime<Utc>, tz: Tz, staff: bool) -> Markup {
    let v = &a.appeal;
    html! {
        div.appeal-status {
            p {
                span class=(words::appeal_status_class(v.status)) { (words::appeal_status(v.status)) }
            }
            dl.facts {
                dt { "Received" } dd { (layout::datetime(v.received_at, tz)) }
                @if v.status.is_open() {
                    dt { "Reply due by" } dd { (layout::due(v.due_at, now, tz)) }
                }
                @if v.extended {
                    dt { "Deadline extended" } dd { @if let Some(r) = &v.extension_reason { (r) } @else { "Yes" } }
                }
                dt { "Grounds" }
                dd { ul.plain { @for g in &v.grounds { li { (words::ground_label(*g)) } } } }
                @if staff {
                    dt { "Filed" } dd { "by " (v.filed_by.as_deref().unwrap_or("?")) " (" (v.filed_by_role) ") via " (words::channel_label(v.channel)) }
                    @if let Some(check) = &v.identity_check {
                        dt { "Identity check" } dd { (check.method) " by " (check.checked_by) }
                    }
                }
            }
            @if let Some(o) = &a.outcome {
                div.outcome {
                    h4 { "Result" }
                    p.lead { (words::outcome_sentence(o, original_outcome)) }
                    p { "Reasons: " (o.rationale) }
                }
            }
            @if !a.notices.is_empty() {
                h4 { "Letters sent (" (a.notices.len()) ")" }
                @for n in &a.notices {
                    details.notice-letter {
                        summary { (humanize(&n.kind)) " notice, " (layout::date(n.created_at, tz)) }
                        div.letter { @for para in n.body.split("\n\n") { p { (para) } } }
                    }
                }
            }
        }
    }
}

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
    pub fn to_draft(&self, d: &Decision, by_agent: bool) -> (AppealDraft, Vec<FieldError>) {
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
        let (channel, identity_check) = if by_agent {
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

const FORM: &str = "appeal";

/// The appeal form. Agents also record the channel and how they checked the caller's identity.
pub fn appeal_form(
    action: &str,
    csrf: &str,
    d: &Decision,
    state: &AppealForm,
    errors: &FormErrors,
    by_agent: bool,
) -> Markup {
    let err = |p: &str| field_errors(errors, FORM, p);
    let has = |p: &str| !errors.at(FORM, p).is_empty();
    html! {
        (layout::error_summary(errors, FORM))
        form.stack method="post" action=(action) novalidate {
            input type="hidden" name="csrf" value=(csrf);
            @if by_agent {
                div.field.error[has("/channel")] {
                    label for=(field_id(FORM, "/channel")) { "How did the caller contact us?" }
                    (err("/channel"))
                    select id=(field_id(FORM, "/channel")) name="channel" aria-describedby=[described_by(errors, FORM, "/channel", None)] {
                        @for c in words::CHANNELS {
                            option value=(c.as_str()) selected[state.channel == c.as_str() || (state.channel.is_empty() && c == Channel::Phone)] { (words::channel_label(c)) }
                        }
                    }
                }
                fieldset.field.error[has("/identity_check")] id=(field_id(FORM, "/identity_check")) {
                    legend { "Identity check" }
                    p.hint { "Check who the caller is before you file for them. Only a verified caller can appeal." }
                    (err("/identity_check"))
                    label for="identity_method" { "How did you check?" }
                    select #identity_method name="identity_method" {
                        option value="" { "Choose a method" }
                        @for m in ["Security questions", "One-time code to the registered phone", "Account number and date of birth", "Photo ID in branch"] {
                            option value=(m) selected[state.id_method == m] { (m) }
                        }
                    }
                    div.radios role="radiogroup" aria-label="Result of the identity check" {
                        @for (value, label) in [("verified", "Verified"), ("failed", "Failed"), ("inconclusive", "Inconclusive")] {
                            div.radio {
                                input type="radio" id=(format!("identity-{value}")) name="identity_result" value=(value) checked[state.id_result == value];
                                label for=(format!("identity-{value}")) { (label) }
                            }
                        }
                    }
                }
            }
            fieldset.field.error[has("/grounds")] id=(field_id(FORM, "/grounds")) {
                legend { "Why is the decision wrong?" }
                p.hint { "Choose all that apply." }
                (err("/grounds"))
                @for g in words::GROUNDS {
                    @let v = words::ground_value(g);
                    div.checkbox {
                        input type="checkbox" id=(format!("ground-{v}")) name="grounds" value=(v) checked[state.grounds.iter().any(|s| s == v)];
                        label for=(format!("ground-{v}")) { (words::ground_label(g)) }
                    }
                }
            }
            div.field.error[has("/statement")] {
                label for=(field_id(FORM, "/statement")) { @if by_agent { "The caller's account, in their words" } @else { "Your side of the story" } }
                p.hint id="statement-hint" { "A person will read this. Say what is wrong and what you would like to happen." }
                (err("/statement"))
                textarea id=(field_id(FORM, "/statement")) name="statement" rows="6"
                    aria-describedby=[described_by(errors, FORM, "/statement", Some("statement-hint"))] { (state.statement) }
            }
            fieldset.field.error[has("/corrected_inputs")] id=(field_id(FORM, "/corrected_inputs")) {
                legend { "Correct any information that was wrong" }
                p.hint { "Leave a box empty if the value is right." }
                (err("/corrected_inputs"))
                table.data.inputs-form {
                    thead { tr { th scope="col" { "Information" } th scope="col" { "Value used" } th scope="col" { "Correct value" } } }
                    tbody {
                        @for (name, v) in &d.explanation.inputs {
                            @let id = field_id("correct", &format!("/{name}"));
                            tr {
                                th scope="row" { label for=(id) { (humanize(name)) } }
                                td { (layout::value(v)) }
                                td { input type="text" id=(id) name=(format!("correct.{name}")) value=(state.corrections.get(name).map(String::as_str).unwrap_or_default()); }
                            }
                        }
                    }
                }
            }
            div.field.error[has("/requested_outcome")] {
                label for=(field_id(FORM, "/requested_outcome")) { "What outcome is being asked for? (optional)" }
                (err("/requested_outcome"))
                input type="text" id=(field_id(FORM, "/requested_outcome")) name="requested_outcome" value=(state.requested_outcome);
            }
            button.button type="submit" { @if by_agent { "File the appeal for the caller" } @else { "Send my appeal" } }
        }
    }
}

/// Problems only the form can have, plus the appeal rules' own, so the person sees every
/// problem at once rather than one round trip each.
pub fn all_problems(draft: AppealDraft, filer: &crate::domain::Actor, mut edge: Vec<FieldError>) -> Vec<FieldError> {
    if let Err(rules) = crate::domain::appeal::ValidAppeal::parse(draft, filer) {
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
