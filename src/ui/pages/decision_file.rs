//! A decision's screen, shared by the agent console and the subject portal: the decision told
//! in the filer's words, its appeals with their letters, and the appeal form while no appeal is
//! open. An agent reads it out to a caller and sees what staff see; a subject reads their own.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use maud::{Markup, html};

use super::appeal_form::appeal_form;
use super::decision::{appeal_status, counterfactual, decision_facts, inputs_table};
use super::format;
use super::shell::{notice, page};
use crate::appeals::casework::DecisionFile;
use crate::ui::audience::Filer;
use crate::ui::forms::appeal::AppealForm;
use crate::ui::forms::errors::FormErrors;
use crate::ui::viewer::Viewer;
use crate::ui::words;
use crate::ui::words::humanize;

/// What the agent's and the subject's screens of a decision say differently around the same
/// parts.
struct Wording {
    title: &'static str,
    home: (&'static str, &'static str),
    crumb: String,
    heading: String,
    filed: &'static str,
    appeals: String,
    form_id: &'static str,
    form_title: &'static str,
    form_intro: Option<&'static str>,
}

fn wording(filer: Filer, file: &DecisionFile) -> Wording {
    let d = &file.decision;
    let kind = words::kind_label(&d.decision_type);
    match filer {
        Filer::Agent => Wording {
            title: "Caller's decision",
            home: ("/ui/agent", "Find a caller"),
            crumb: d.subject_id.clone(),
            heading: format!("{kind} decision for {}", d.subject_id),
            filed: "The appeal is filed. The caller will get an acknowledgement letter.",
            appeals: "Appeals".into(),
            form_id: "file-title",
            form_title: "File an appeal for the caller",
            form_intro: None,
        },
        Filer::Subject => Wording {
            title: "Your decision",
            home: ("/ui/portal", "Your decisions"),
            heading: format!("{kind}: {}", d.effective_outcome),
            crumb: kind,
            filed: "We have received your appeal. A person will review it; we sent you a letter confirming the \
                    date we will reply by.",
            appeals: if file.appeals.len() > 1 {
                "Your appeals"
            } else {
                "Your appeal"
            }
            .into(),
            form_id: "appeal-title",
            form_title: "Ask for a person to review this decision",
            form_intro: Some(
                "You have the right to contest an automated decision and to have a person look at it. Tell us \
                 what is wrong.",
            ),
        },
    }
}

/// The screen of one decision for `filer`. `state` and `errors` are what was typed into the
/// appeal form and what was wrong with it; `filed` says an appeal was just filed.
pub fn decision_file(
    viewer: &Viewer,
    filer: Filer,
    file: &DecisionFile,
    state: &AppealForm,
    errors: &FormErrors,
    filed: bool,
) -> Markup {
    let d = &file.decision;
    let now = Utc::now();
    let tz = viewer.zone;
    let w = wording(filer, file);
    let body = html! {
        p.breadcrumbs { a href=(w.home.0) { (w.home.1) } " › " (w.crumb) }
        h1 { (w.heading) }
        (notice(filed.then_some(w.filed)))
        @match filer {
            Filer::Agent => (told_to_caller(file, now, tz)),
            Filer::Subject => (explained_to_subject(file, tz)),
        }
        @if !file.appeals.is_empty() {
            section aria-labelledby="appeals-title" {
                h2 #appeals-title { (w.appeals) }
                @for a in file.appeals.iter().rev() {
                    (appeal_status(a, &d.outcome, now, tz, filer == Filer::Agent))
                }
            }
        }
        @if file.open_appeal().is_none() {
            section.panel aria-labelledby=(w.form_id) {
                h2 id=(w.form_id) { (w.form_title) }
                @if let Some(intro) = w.form_intro { p { (intro) } }
                (appeal_form(filer, viewer.csrf(), d, state, errors))
            }
        }
    };
    page(w.title, Some(viewer), body)
}

/// For the agent: what to tell the caller, then the decision's facts and the information used.
fn told_to_caller(file: &DecisionFile, now: DateTime<Utc>, tz: Tz) -> Markup {
    let d = &file.decision;
    html! {
        section.script aria-labelledby="say-title" {
            h2 #say-title { "What to tell the caller" }
            p.say {
                "On " (format::date(d.decided_at, tz)) ", " (d.engine_id) " made an automated "
                (words::kind_label(&d.decision_type).to_lowercase()) " decision: " strong { (d.outcome) } "."
                @if !d.explanation.reason_codes.is_empty() {
                    " The main reasons were: "
                    (d.explanation.reason_codes.iter().map(|r| r.text.as_str()).collect::<Vec<_>>().join("; ")) "."
                }
            }
            @if let Some(a) = file.open_appeal() {
                p.say {
                    "Their appeal was received on " (format::date(a.appeal.received_at, tz)) ". "
                    (words::appeal_status_said(a.appeal.status)) " "
                    "We will reply by " strong { (format::date(a.appeal.due_at, tz)) } " (" (format::relative(a.appeal.due_at, now)) ")."
                }
            } @else if let Some(latest) = file.appeals.last() {
                @if let Some(o) = &latest.outcome {
                    p.say { (words::outcome_sentence(o, &d.outcome)) " The reviewer's reasons: " (o.rationale) }
                }
            }
        }
        div.case-grid {
            section aria-labelledby="decision-title" {
                h2 #decision-title { "The decision" }
                (decision_facts(d, tz, true))
                p { "Status: " (words::decision_status(d.status)) "." }
            }
            section aria-labelledby="inputs-title" {
                h2 #inputs-title { "Information used" }
                (inputs_table(d, None))
            }
        }
    }
}

/// For the subject: what was decided, why, what could change it and the information used, in
/// plain words.
fn explained_to_subject(file: &DecisionFile, tz: Tz) -> Markup {
    let d = &file.decision;
    let e = &d.explanation;
    html! {
        section aria-labelledby="what-title" {
            h2 #what-title { "What was decided" }
            p { "On " (format::date(d.decided_at, tz)) ", " (d.engine_id) " used an automated system (" (d.model.name) ", version " (d.model.version) ") to decide: " strong { (d.outcome) } "." }
            p { "Where it stands now: " (words::decision_status(d.status)) "." }
        }
        section aria-labelledby="why-title" {
            h2 #why-title { "Why" }
            @if e.reason_codes.is_empty() {
                p { "No specific reasons were given." }
            } @else {
                p { "The main reasons were:" }
                ul.reasons { @for r in &e.reason_codes { li { (r.text) } } }
            }
        }
        @if let Some(cf) = &e.counterfactual {
            section aria-labelledby="change-title" {
                h2 #change-title { "What could change the outcome" }
                (counterfactual(d, cf))
            }
        }
        section aria-labelledby="used-title" {
            h2 #used-title { "The information used about you" }
            table.data {
                caption.visually-hidden { "Information used" }
                thead { tr { th scope="col" { "Information" } th scope="col" { "Value used" } } }
                tbody {
                    @for (name, v) in &e.inputs {
                        tr { th scope="row" { (humanize(name)) } td { (format::value(v)) } }
                    }
                }
            }
        }
    }
}
