//! The reviewer's screens: the queue overview with "Claim next", the case screen with the lease
//! box and the review form (and the initial view first, in a blind-first queue), and the result.

use chrono::Utc;
use maud::{Markup, html};

use super::decision::{appeal_status, decision_facts, explanation, inputs_table};
use super::fields::{described_by, error_summary, field_errors, field_id};
use super::format::{self, short};
use super::shell::{notice, page};
use crate::appeals::casework::{DecisionFile, Leaning, LeasedCase, ReviewerOverview};
use crate::appeals::detail::AppealDetail;
use crate::domain::appeal::AppealStatus;
use crate::ui::forms::errors::FormErrors;
use crate::ui::forms::review::ReviewForm;
use crate::ui::viewer::Viewer;
use crate::ui::words;
use crate::ui::words::humanize;

/// The notice after a redirect to the queue, by the flag in its query.
pub fn queue_notice(flag: Option<&str>) -> Option<&'static str> {
    match flag {
        Some("released") => Some("The case went back to its queue."),
        _ => None,
    }
}

/// The queue overview, with `message` on top (after a redirect, or when nothing can be claimed).
pub fn queue(viewer: &Viewer, o: &ReviewerOverview, message: Option<&str>) -> Markup {
    let now = Utc::now();
    let tz = viewer.zone;
    let body = html! {
        h1 { "My queue" }
        (notice(message))
        @if !o.configured {
            div.error-summary role="alert" {
                h2 { "You cannot claim cases yet" }
                p { "An administrator has to give " strong { (viewer.actor.id) } " authority over decision types first." }
            }
        } @else {
            p.lead {
                "You may decide: " (o.authorities.iter().map(|a| humanize(a)).collect::<Vec<_>>().join(", "))
                ". You can hold " (o.capacity) " case" @if o.capacity != 1 { "s" } " at a time."
            }
        }
        @if !o.cases.is_empty() {
            h2 { "Cases you hold" }
            table.data {
                thead { tr { th scope="col" { "Case" } th scope="col" { "Queue" } th scope="col" { "Reply due" } th scope="col" { "Your lease ends" } } }
                tbody {
                    @for c in &o.cases {
                        tr {
                            td { a href=(format!("/ui/reviewer/cases/{}", c.appeal_id)) { (words::kind_label(&c.decision_type)) " appeal " code { (short(&c.appeal_id)) } } }
                            td { (c.queue) }
                            td { (format::due(c.due_at, now, tz)) }
                            td { @if let Some(t) = c.lease_expires_at { (format::relative(t, now)) } }
                        }
                    }
                }
            }
        }
        h2 { "Queues" }
        form method="post" action="/ui/reviewer/claim" {
            input type="hidden" name="csrf" value=(viewer.csrf());
            button.button.button-large #claim-next type="submit" { "Claim next case" }
            p.hint { "Takes the most urgent case you may decide, from any queue." }
        }
        table.data #queues {
            caption { "Queues and what waits there for you" }
            thead {
                tr {
                    th scope="col" { "Queue" }
                    th scope="col" { "Waiting for you" }
                    th scope="col" { "Waiting in total" }
                    th scope="col" { "Nearest reply due" }
                    th scope="col" { span.visually-hidden { "Action" } }
                }
            }
            tbody {
                @for q in &o.queues {
                    tr {
                        th scope="row" {
                            (q.name)
                            @if q.blind_first { " " span.tag.tag-muted title="The model's outcome stays hidden until you record your own view" { "blind-first" } }
                            @if !q.description.is_empty() { br; span.muted { (q.description) } }
                        }
                        td { (q.eligible) }
                        td { (q.depth) }
                        td { @if let Some(d) = q.nearest_due_at { (format::due(d, now, tz)) } @else { span.muted { "—" } } }
                        td {
                            @if q.eligible > 0 {
                                form method="post" action="/ui/reviewer/claim" {
                                    input type="hidden" name="csrf" value=(viewer.csrf());
                                    input type="hidden" name="queue" value=(q.name);
                                    button.button.button-secondary type="submit" { "Claim from " (q.name) }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    page("My queue", Some(viewer), body)
}

/// The factors a reviewer can tick: the statement, each input, each reason and each ground.
fn factor_choices(lc: &LeasedCase) -> Vec<(String, String)> {
    let case = &lc.case;
    let mut out = vec![("statement".to_owned(), "The subject's statement".to_owned())];
    if case.appeal.corrected_inputs.as_ref().is_some_and(|c| !c.is_empty()) {
        out.push(("corrected_inputs".into(), "The corrected information".into()));
    }
    for g in &case.appeal.grounds {
        out.push((
            format!("ground:{}", words::ground_value(*g)),
            format!("Ground: {}", words::ground_label(*g)),
        ));
    }
    for name in case.decision.explanation.inputs.keys() {
        out.push((format!("input:{name}"), format!("Input: {}", humanize(name))));
    }
    for r in &case.decision.explanation.reason_codes {
        out.push((
            format!("reason_code:{}", r.code),
            format!("Reason {}: {}", r.code, r.text),
        ));
    }
    if !case.decision.explanation.contributions.is_empty() {
        out.push(("contributions".into(), "How much each input counted".into()));
    }
    if !case.appeal.evidence.is_empty() {
        out.push(("evidence".into(), "The documents supplied".into()));
    }
    if !case.history.iter().all(|h| h.reviews.is_empty()) {
        out.push(("history".into(), "Earlier reviews of this decision".into()));
    }
    out
}

fn lease_box(viewer: &Viewer, lc: &LeasedCase, id: &str) -> Markup {
    let now = Utc::now();
    let tz = viewer.zone;
    html! {
        div.lease-box aria-label="Your lease on this case" role="region" {
            p {
                "You hold this case until " strong { (format::datetime(lc.lease.expires_at, tz)) } " ("
                span data-countdown=(lc.lease.expires_at.to_rfc3339()) role="timer" aria-live="off" { (format::relative(lc.lease.expires_at, now)) }
                "). After that it goes back to the queue."
            }
            div.actions {
                form method="post" action=(format!("/ui/reviewer/cases/{id}/heartbeat")) {
                    input type="hidden" name="csrf" value=(viewer.csrf());
                    input type="hidden" name="lease_token" value=(lc.lease.token);
                    button.button.button-secondary type="submit" { "I need more time" }
                }
                form method="post" action=(format!("/ui/reviewer/cases/{id}/release")) {
                    input type="hidden" name="csrf" value=(viewer.csrf());
                    input type="hidden" name="lease_token" value=(lc.lease.token);
                    button.button.button-warning #release type="submit" { "Release back to the queue" }
                }
            }
        }
    }
}

fn initial_view_form(viewer: &Viewer, lc: &LeasedCase, id: &str, state: &ReviewForm, errors: &FormErrors) -> Markup {
    const F: &str = "initial";
    html! {
        section.panel aria-labelledby="initial-title" {
            h2 #initial-title { "Your initial view" }
            p { "This queue is " strong { "blind-first" } ": the model's outcome, score and reasons stay hidden until you say what the facts above seem to support. This guards against simply agreeing with the model." }
            (error_summary(errors, F))
            (error_summary(errors, "review"))
            form.stack method="post" action=(format!("/ui/reviewer/cases/{id}/initial-view")) {
                input type="hidden" name="csrf" value=(viewer.csrf());
                input type="hidden" name="lease_token" value=(lc.lease.token);
                fieldset.field id=(field_id(F, "/leaning")) {
                    legend { "On these facts, the subject's request seems" }
                    (field_errors(errors, F, "/leaning"))
                    @for (l, label) in [(Leaning::Favourable, "Justified"), (Leaning::Unfavourable, "Not justified"), (Leaning::Unsure, "Unclear so far")] {
                        div.radio {
                            input type="radio" id=(format!("leaning-{}", l.as_str())) name="leaning" value=(l.as_str()) checked[state.leaning == l.as_str()];
                            label for=(format!("leaning-{}", l.as_str())) { (label) }
                        }
                    }
                }
                div.field {
                    label for=(field_id(F, "/note")) { "Note to yourself (optional)" }
                    (field_errors(errors, F, "/note"))
                    textarea id=(field_id(F, "/note")) name="note" rows="2" { (state.note) }
                }
                button.button #record-initial-view type="submit" { "Record my view and show the model's decision" }
            }
        }
    }
}

fn review_form(viewer: &Viewer, lc: &LeasedCase, id: &str, state: &ReviewForm, errors: &FormErrors) -> Markup {
    const F: &str = "review";
    let has = |p: &str| !errors.at(F, p).is_empty();
    html! {
        section.panel aria-labelledby="review-title" {
            h2 #review-title { "Your review" }
            (error_summary(errors, F))
            form.stack method="post" action=(format!("/ui/reviewer/cases/{id}/review")) novalidate {
                input type="hidden" name="csrf" value=(viewer.csrf());
                input type="hidden" name="lease_token" value=(lc.lease.token);
                fieldset.field.error[has("/outcome")] id=(field_id(F, "/outcome")) {
                    legend { "Outcome" }
                    (field_errors(errors, F, "/outcome"))
                    @for (value, label, hint) in [
                        ("uphold", "Uphold", "The decision stands."),
                        ("overturn", "Overturn", "The decision was wrong; give the outcome it should have been."),
                        ("amend", "Amend", "Change part of the decision; give the new outcome."),
                    ] {
                        div.radio {
                            input type="radio" id=(format!("outcome-{value}")) name="outcome" value=(value) checked[state.outcome == value]
                                aria-describedby=(format!("outcome-{value}-hint"));
                            label for=(format!("outcome-{value}")) { (label) }
                            span.hint id=(format!("outcome-{value}-hint")) { (hint) }
                        }
                    }
                }
                div.field.error[has("/new_outcome")] {
                    label for=(field_id(F, "/new_outcome")) { "New outcome (to overturn or amend)" }
                    p.hint id="new-outcome-hint" { "For example: approved, or approved with a limit of 2,000." }
                    (field_errors(errors, F, "/new_outcome"))
                    input type="text" id=(field_id(F, "/new_outcome")) name="new_outcome" value=(state.new_outcome)
                        aria-describedby=[described_by(errors, F, "/new_outcome", Some("new-outcome-hint"))];
                }
                div.field.error[has("/rationale")] {
                    label for=(field_id(F, "/rationale")) { "Rationale" }
                    p.hint id="rationale-hint" { "Explain the decision in your own words: what you looked at and why it leads to this outcome. The subject will read it." }
                    (field_errors(errors, F, "/rationale"))
                    textarea id=(field_id(F, "/rationale")) name="rationale" rows="6"
                        aria-describedby=[described_by(errors, F, "/rationale", Some("rationale-hint"))] { (state.rationale) }
                }
                fieldset.field.error[has("/factors_considered")] id=(field_id(F, "/factors_considered")) {
                    legend { "What you considered" }
                    (field_errors(errors, F, "/factors_considered"))
                    div.checkbox-columns {
                        @for (i, (value, label)) in factor_choices(lc).iter().enumerate() {
                            div.checkbox {
                                input type="checkbox" id=(format!("factor-{i}")) name="factor" value=(value) checked[state.factors.contains(value)];
                                label for=(format!("factor-{i}")) { (label) }
                            }
                        }
                    }
                }
                (field_errors(errors, F, "/initial_view"))
                (field_errors(errors, F, "/lease_token"))
                button.button #submit-review type="submit" { "Submit review" }
            }
        }
    }
}

/// The case screen. `state` and `errors` are what was typed into the form shown, and what
/// was wrong with it.
pub fn case(viewer: &Viewer, lc: &LeasedCase, state: &ReviewForm, errors: &FormErrors) -> Markup {
    let case = &lc.case;
    let a = &case.appeal;
    let d = &case.decision;
    let id = a.id.as_str();
    let reveal = lc.revealed();
    let now = Utc::now();
    let tz = viewer.zone;
    let body = html! {
        p.breadcrumbs { a href="/ui/reviewer" { "My queue" } " › Case " code { (short(id)) } }
        h1 { "Appeal against a " (words::kind_label(&d.decision_type).to_lowercase()) " decision" }
        p.lead { "Reply due " (format::due(a.due_at, now, tz)) ". Queue: " (a.queue) "." }
        @if !errors.errors.is_empty() {
            p.field-error role="alert" {
                "Your " @if errors.form == "initial" { "initial view" } @else { "review" } " was not recorded. "
                a href=(if errors.form == "initial" { "#initial-title" } else { "#review-title" }) { "See what needs changing" }
            }
        }
        (lease_box(viewer, lc, id))
        div.case-grid {
            section aria-labelledby="decision-title" {
                h2 #decision-title { "The decision" }
                (decision_facts(d, tz, reveal))
            }
            section aria-labelledby="appeal-title" {
                h2 #appeal-title { "The appeal" }
                h3 { "Grounds" }
                ul { @for g in &a.grounds { li { (words::ground_label(*g)) } } }
                h3 { "Statement" }
                blockquote.statement { @for para in a.statement.split("\n\n") { p { (para) } } }
                @if let Some(r) = &a.requested_outcome { p { "Asks for: " strong { (r) } } }
                @if !a.evidence.is_empty() {
                    h3 { "Documents" }
                    ul { @for e in &a.evidence { li { (e.name) " (" (e.media_type) ", " (e.size_bytes / 1024) " KiB)" } } }
                }
                p.muted { "Filed " (format::datetime(a.received_at, tz)) " via " (words::channel_label(a.channel)) "." }
            }
        }
        section aria-labelledby="explanation-title" {
            h2 #explanation-title { "The model's explanation" }
            @if reveal {
                (explanation(d))
            } @else {
                p.withheld-box { "The model's score, reasons and contribution chart are hidden until you record your initial view." }
            }
        }
        section aria-labelledby="inputs-title" {
            h2 #inputs-title { "Inputs and the subject's corrections" }
            (inputs_table(d, a.corrected_inputs.as_ref()))
        }
        section aria-labelledby="history-title" {
            h2 #history-title { "History of this decision" }
            ol.history {
                @for h in &case.history {
                    li {
                        "Appeal received " (format::date(h.received_at, tz)) ": " (words::appeal_status(h.status))
                        @if h.appeal_id == id { " (this appeal)" }
                        @for r in &h.reviews {
                            br; "Review by " (r.reviewer_id) " on " (format::date(r.created_at, tz)) ": " strong { (words::review_outcome_label(&r.outcome)) }
                            @if let Some(n) = &r.new_outcome { " → " (n) } " (" (r.status) "). " (r.rationale)
                        }
                    }
                }
            }
        }
        @if reveal {
            (review_form(viewer, lc, id, state, errors))
        } @else {
            (initial_view_form(viewer, lc, id, state, errors))
        }
    };
    page("Case", Some(viewer), body)
}

/// After a review: the outcome as recorded, or that it waits for a second person.
pub fn review_recorded(viewer: &Viewer, detail: &AppealDetail, file: &DecisionFile) -> Markup {
    let tz = viewer.zone;
    let body = html! {
        p.breadcrumbs { a href="/ui/reviewer" { "My queue" } " › Result" }
        h1 { "Review recorded" }
        @if detail.appeal.status == AppealStatus::AwaitingApproval {
            div.notice role="status" { "Your review changes the outcome of a high-impact decision, so a second person must approve it before it takes effect." }
        }
        (appeal_status(detail, &file.decision.outcome, Utc::now(), tz, true))
        form method="post" action="/ui/reviewer/claim" {
            input type="hidden" name="csrf" value=(viewer.csrf());
            button.button type="submit" { "Claim next case" }
        }
    };
    page("Review recorded", Some(viewer), body)
}
