//! The call-centre console: the lookup form and the caller's decisions it finds.

use chrono::Utc;
use chrono_tz::Tz;
use maud::{Markup, html};

use super::fields::{error_summary, field_errors};
use super::format;
use super::shell::page;
use crate::appeals::casework::DecisionFile;
use crate::ui::forms::errors::FormErrors;
use crate::ui::viewer::Viewer;
use crate::ui::words;

fn lookup_form(viewer: &Viewer, subject: &str, errors: &FormErrors) -> Markup {
    html! {
        (error_summary(errors, "lookup"))
        form.inline-form method="post" action="/ui/agent/lookup" role="search" {
            input type="hidden" name="csrf" value=(viewer.csrf());
            div.field {
                label for="lookup-subject_id" { "Customer reference" }
                p.hint id="subject-hint" { "As it appears on the customer's letter, e.g. cust-1001. Looking someone up is recorded." }
                (field_errors(errors, "lookup", "/subject_id"))
                input #lookup-subject_id type="text" name="subject_id" value=(subject) autocomplete="off" spellcheck="false" aria-describedby="subject-hint";
            }
            button.button type="submit" { "Find decisions" }
        }
    }
}

fn results(subject: &str, files: &[DecisionFile], tz: Tz) -> Markup {
    let now = Utc::now();
    html! {
        h2 #results { "Decisions about " (subject) }
        @if files.is_empty() {
            p { "No decisions are recorded for this reference. Check it with the caller." }
        }
        ul.cards {
            @for f in files {
                @let d = &f.decision;
                li.card {
                    h3 { a href=(format!("/ui/agent/decisions/{}", d.id)) { (words::kind_label(&d.decision_type)) ": " (d.effective_outcome) } }
                    p { "Decided " (format::date(d.decided_at, tz)) " by " (d.engine_id) ". " (words::decision_status(d.status)) "." }
                    @if let Some(open) = f.open_appeal() {
                        p { span class=(words::appeal_status_class(open.appeal.status)) { (words::appeal_status(open.appeal.status)) } " Reply due " (format::due(open.appeal.due_at, now, tz)) "." }
                    }
                }
            }
        }
    }
}

/// The console: the lookup form with the reference as typed and any problems with it, and the
/// decisions `found` for it once it was looked up.
pub fn console(viewer: &Viewer, subject: &str, errors: &FormErrors, found: Option<&[DecisionFile]>) -> Markup {
    let body = html! {
        h1 { "Find a caller's decisions" }
        (lookup_form(viewer, subject, errors))
        @if let Some(files) = found {
            (results(subject, files, viewer.zone))
        }
    };
    page("Agent console", Some(viewer), body)
}
