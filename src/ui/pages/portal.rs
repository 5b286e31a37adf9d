//! The subject portal's start page: a person's own decisions and where each appeal stands.

use chrono::Utc;
use maud::{Markup, html};

use super::format;
use super::shell::page;
use crate::appeals::casework::DecisionFile;
use crate::ui::viewer::Viewer;
use crate::ui::words;

pub fn decisions(viewer: &Viewer, files: &[DecisionFile]) -> Markup {
    let now = Utc::now();
    let tz = viewer.zone;
    let body = html! {
        h1 { "Your decisions" }
        p.lead { "These are the automated decisions made about you. You can see why each was made, and ask for a person to review it." }
        @if files.is_empty() {
            p { "There are no automated decisions about you." }
        }
        ul.cards #decisions {
            @for f in files {
                @let d = &f.decision;
                li.card {
                    h2 { a href=(format!("/ui/portal/decisions/{}", d.id)) { (words::kind_label(&d.decision_type)) ": " (d.effective_outcome) } }
                    p { "Decided on " (format::date(d.decided_at, tz)) " by " (d.engine_id) ". " (words::decision_status(d.status)) "." }
                    @if let Some(open) = f.open_appeal() {
                        p { "Your appeal: " span class=(words::appeal_status_class(open.appeal.status)) { (words::appeal_status(open.appeal.status)) } ". We will reply by " (format::due(open.appeal.due_at, now, tz)) "." }
                    } @else {
                        p { a href=(format!("/ui/portal/decisions/{}", d.id)) { "See why, and appeal" } }
                    }
                }
            }
        }
    };
    page("Your decisions", Some(viewer), body)
}
