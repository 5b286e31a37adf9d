//! Pieces of pages that several screens share: the decision and its explanation, the inputs
//! table with the subject's corrections, and an appeal's status with its notices.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use maud::{Markup, html};
use serde_json::Value;

use super::charts;
use super::format;
use crate::appeals::detail::AppealDetail;
use crate::decisions::model::Decision;
use crate::ui::words;
use crate::ui::words::humanize;

/// The facts of a decision. `reveal` is false in a blind-first case before the initial view.
pub fn decision_facts(d: &Decision, tz: Tz, reveal: bool) -> Markup {
    html! {
        dl.facts {
            dt { "Decision" } dd { (words::kind_label(&d.decision_type)) }
            dt { "Made by" } dd { (d.engine_id) }
            dt { "Model" } dd { (d.model.name) " version " (d.model.version) }
            dt { "Decided on" } dd { (format::datetime(d.decided_at, tz)) }
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
                    (format::num(score))
                    @if let Some(t) = d.threshold { " against a threshold of " (format::num(t)) }
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
                        (humanize(feature)) ": " strong { (format::value(to)) }
                        @if let Some(was) = d.explanation.inputs.get(feature) {
                            " instead of " (format::value(was))
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
                        td { (format::value(v)) }
                        @if corrected_any {
                            td {
                                @if let Some(f) = fix {
                                    strong { (format::value(f)) } span.visually-hidden { " (corrected by the subject)" }
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
                            td { strong { (format::value(v)) } }
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
                dt { "Received" } dd { (format::datetime(v.received_at, tz)) }
                @if v.status.is_open() {
                    dt { "Reply due by" } dd { (format::due(v.due_at, now, tz)) }
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
                        summary { (humanize(&n.kind)) " notice, " (format::date(n.created_at, tz)) }
                        div.letter { @for para in n.body.split("\n\n") { p { (para) } } }
                    }
                }
            }
        }
    }
}
