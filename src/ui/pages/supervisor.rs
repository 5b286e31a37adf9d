//! The supervisor's screens: the dashboard (queue depth, SLA burn-down, approvals waiting,
//! overturn rate by model version, open appeals) and the appeal screen where a supervisor
//! reassigns, extends or approves.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use maud::{Markup, html};

use super::charts;
use super::decision::{appeal_status, decision_facts, inputs_table};
use super::fields::{described_by, error_summary, field_errors, field_id};
use super::format::{self, percent, short};
use super::shell::{notice, page};
use crate::reports::{Dashboard, SupervisorAppeal};
use crate::ui::forms::errors::FormErrors;
use crate::ui::viewer::Viewer;
use crate::ui::words;

pub fn dashboard(viewer: &Viewer, d: &Dashboard) -> Markup {
    let now = d.generated_at;
    let tz = viewer.zone;
    let body = html! {
        h1 { "Dashboard" }
        ul.tiles {
            li.tile { span.tile-number { (d.sla.open()) } span.tile-label { "open appeals" } }
            li.tile.tile-alert[d.sla.overdue > 0] { span.tile-number { (d.sla.overdue) } span.tile-label { "overdue" } }
            li.tile { span.tile-number { (d.sla.within_3_days) } span.tile-label { "due in under 3 days" } }
            li.tile { span.tile-number { (d.approvals.len()) } span.tile-label { "approvals waiting" } }
        }
        (queue_depth(d, now, tz))
        (rates(d))
        (approvals(d, now, tz))
        (open_appeals(d, now, tz))
    };
    page("Dashboard", Some(viewer), body)
}

fn queue_depth(d: &Dashboard, now: DateTime<Utc>, tz: Tz) -> Markup {
    html! {
        section aria-labelledby="queues-title" {
            h2 #queues-title { "Queue depth" }
            table.data #queue-depth {
                thead { tr { th scope="col" { "Queue" } th scope="col" { "Waiting" } th scope="col" { "Nearest reply due" } th scope="col" { "Blind-first" } } }
                tbody {
                    @for q in &d.queues {
                        tr {
                            th scope="row" { (q.name) @if !q.description.is_empty() { br; span.muted { (q.description) } } }
                            td { (q.depth) }
                            td { @if let Some(t) = q.nearest_due_at { (format::due(t, now, tz)) } @else { span.muted { "—" } } }
                            td { @if q.blind_first { "Yes" } @else { "No" } }
                        }
                    }
                }
            }
        }
    }
}

/// The SLA burn-down and the overturn rates, as charts, with the rates also as a table.
fn rates(d: &Dashboard) -> Markup {
    html! {
        div {
            section aria-labelledby="sla-title" {
                h2 #sla-title { "SLA burn-down" }
                p.hint { "Open appeals by time left before the legal deadline (one month from receipt, or as extended)." }
                (charts::sla_burndown("sla-chart", &d.sla))
            }
            section aria-labelledby="overturn-title" {
                h2 #overturn-title { "Overturn rate by model" }
                @if d.models.is_empty() {
                    p { "No decision has been reviewed yet." }
                } @else {
                    (charts::overturn_rates("overturn-chart", &d.models))
                    table.data {
                        caption.visually-hidden { "Review outcomes by model version" }
                        thead { tr { th scope="col" { "Model" } th scope="col" { "Reviewed" } th scope="col" { "Overturned" } th scope="col" { "Amended" } th scope="col" { "Upheld" } } }
                        tbody {
                            @for m in &d.models {
                                tr {
                                    th scope="row" { (m.model_name) " " (m.model_version) }
                                    td { (m.decided()) }
                                    td { (m.overturned) " (" (percent(m.overturn_rate())) ")" }
                                    td { (m.amended) " (" (percent(m.amend_rate())) ")" }
                                    td { (m.upheld) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn approvals(d: &Dashboard, now: DateTime<Utc>, tz: Tz) -> Markup {
    html! {
        section aria-labelledby="approvals-title" {
            h2 #approvals-title { "Approvals waiting" }
            @if d.approvals.is_empty() {
                p { "Nothing waits for a second pair of eyes." }
            } @else {
                table.data #approvals {
                    thead { tr { th scope="col" { "Appeal" } th scope="col" { "Reviewer's proposal" } th scope="col" { "Reply due" } } }
                    tbody {
                        @for p in &d.approvals {
                            tr {
                                td { a href=(format!("/ui/supervisor/appeals/{}", p.appeal_id)) { (words::kind_label(&p.decision_type)) " " code { (short(&p.appeal_id)) } } }
                                td { (words::review_outcome_label(&p.review.outcome)) @if let Some(n) = &p.review.new_outcome { " → " (n) } " by " (p.review.reviewer_id) }
                                td { (format::due(p.due_at, now, tz)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn open_appeals(d: &Dashboard, now: DateTime<Utc>, tz: Tz) -> Markup {
    html! {
        section aria-labelledby="open-title" {
            h2 #open-title { "Open appeals, nearest deadline first" }
            table.data #open-appeals {
                thead {
                    tr {
                        th scope="col" { "Appeal" } th scope="col" { "Queue" } th scope="col" { "Status" }
                        th scope="col" { "Reply due" } th scope="col" { "With" } th scope="col" { span.visually-hidden { "Action" } }
                    }
                }
                tbody {
                    @for a in &d.open {
                        tr {
                            td { (words::kind_label(&a.decision_type)) " " code { (short(&a.id)) } @if a.extended { " " span.tag.tag-muted { "extended" } } @if a.escalation_level > 0 { " " span.tag.tag-progress { "escalated " (a.escalation_level) } } }
                            td { (a.queue) }
                            td { (words::appeal_status(a.status)) }
                            td { (format::due(a.due_at, now, tz)) }
                            td { @if let Some(r) = &a.reviewer_id { (r) } @else if let Some(r) = &a.assigned_to { "assigned to " (r) } @else { span.muted { "nobody yet" } } }
                            td { a href=(format!("/ui/supervisor/appeals/{}", a.id)) { "Manage" span.visually-hidden { " appeal " (short(&a.id)) } } }
                        }
                    }
                }
            }
        }
    }
}

/// The notice after a redirect to an appeal, by the `done` flag in its query.
pub fn appeal_notice(done: Option<&str>) -> Option<&'static str> {
    match done {
        Some("assigned") => Some("Reassigned. The reviewer will find it when they claim their next case."),
        Some("extended") => Some("Deadline extended. The subject has been sent a notice with your reason."),
        Some("approved") => Some("Approved. The outcome has taken effect and the subject has been told."),
        Some("returned") => Some("Returned to the queue for a fresh review."),
        _ => None,
    }
}

/// One appeal, with the problems of the form that was sent (`errors`) and a notice on top.
pub fn appeal(viewer: &Viewer, s: &SupervisorAppeal, errors: &FormErrors, done: Option<&str>) -> Markup {
    let a = &s.detail.appeal;
    let now = Utc::now();
    let tz = viewer.zone;
    let id = a.id.as_str();
    let has = |form: &str, p: &str| !errors.at(form, p).is_empty();
    let body = html! {
        p.breadcrumbs { a href="/ui/supervisor" { "Dashboard" } " › Appeal " code { (short(id)) } }
        h1 { "Appeal against a " (words::kind_label(&s.decision.decision_type).to_lowercase()) " decision" }
        (notice(done))
        (appeal_status(&s.detail, &s.decision.outcome, now, tz, true))
        p { "Queue " strong { (a.queue) } ", priority " (a.priority) "."
            @if let Some(r) = &a.reviewer_id { " Being reviewed by " strong { (r) } "." }
            @if let Some(r) = &a.assigned_to { " Assigned to " strong { (r) } "." } }
        @if let Some(p) = &s.pending {
            section.panel aria-labelledby="approve-title" {
                h2 #approve-title { "Approve or return the review" }
                p { strong { (p.reviewer_id) } " proposes to " strong { (words::review_outcome_label(&p.outcome).to_lowercase()) } " the decision"
                    @if let Some(n) = &p.new_outcome { " to " strong { (n) } } "." }
                blockquote.statement { (p.rationale) }
                (error_summary(errors, "approval"))
                form.stack method="post" action=(format!("/ui/supervisor/appeals/{id}/approval")) {
                    input type="hidden" name="csrf" value=(viewer.csrf());
                    div.field.error[has("approval", "/note")] {
                        label for=(field_id("approval", "/note")) { "Note (required to return it)" }
                        (field_errors(errors, "approval", "/note"))
                        textarea id=(field_id("approval", "/note")) name="note" rows="3" {}
                    }
                    div.actions {
                        button.button name="decision" value="approve" type="submit" { "Approve" }
                        button.button.button-warning name="decision" value="return" type="submit" { "Return for a fresh review" }
                    }
                }
            }
        }
        @if a.status.is_open() {
            div.case-grid {
                section.panel aria-labelledby="assign-title" {
                    h2 #assign-title { "Reassign" }
                    (error_summary(errors, "assign"))
                    form.stack method="post" action=(format!("/ui/supervisor/appeals/{id}/assignment")) novalidate {
                        input type="hidden" name="csrf" value=(viewer.csrf());
                        div.field.error[has("assign", "/reviewer")] {
                            label for=(field_id("assign", "/reviewer")) { "Reviewer" }
                            (field_errors(errors, "assign", "/reviewer"))
                            select id=(field_id("assign", "/reviewer")) name="reviewer" aria-describedby=[described_by(errors, "assign", "/reviewer", None)] {
                                option value="" { "Choose a reviewer" }
                                @for r in &s.reviewers {
                                    option value=(r.id) { (r.id) " (" (r.authorities.join(", ")) ")" }
                                }
                            }
                        }
                        div.field.error[has("assign", "/reason")] {
                            label for=(field_id("assign", "/reason")) { "Reason" }
                            p.hint id="assign-reason-hint" { "Recorded with the assignment. Any current lease is revoked." }
                            (field_errors(errors, "assign", "/reason"))
                            textarea id=(field_id("assign", "/reason")) name="reason" rows="3"
                                aria-describedby=[described_by(errors, "assign", "/reason", Some("assign-reason-hint"))] {}
                        }
                        button.button #reassign type="submit" { "Reassign" }
                    }
                }
                section.panel aria-labelledby="extend-title" {
                    h2 #extend-title { "Extend the deadline" }
                    (error_summary(errors, "extend"))
                    @if a.extended {
                        p { "The deadline was already extended once; it cannot be extended again." }
                    } @else {
                        p.hint { "Once, by up to two further months, before the deadline. The subject is sent a notice with your reason." }
                        form.stack method="post" action=(format!("/ui/supervisor/appeals/{id}/extension")) novalidate {
                            input type="hidden" name="csrf" value=(viewer.csrf());
                            div.field.error[has("extend", "/months")] {
                                label for=(field_id("extend", "/months")) { "Extend by" }
                                (field_errors(errors, "extend", "/months"))
                                select id=(field_id("extend", "/months")) name="months" {
                                    option value="1" { "1 month" }
                                    option value="2" { "2 months" }
                                }
                            }
                            div.field.error[has("extend", "/reason")] {
                                label for=(field_id("extend", "/reason")) { "Reason (the subject will read it)" }
                                (field_errors(errors, "extend", "/reason"))
                                textarea id=(field_id("extend", "/reason")) name="reason" rows="3" {}
                            }
                            button.button type="submit" { "Extend" }
                        }
                    }
                }
            }
        }
        section aria-labelledby="decision-title" {
            h2 #decision-title { "The decision" }
            (decision_facts(&s.decision, tz, true))
            (inputs_table(&s.decision, a.corrected_inputs.as_ref()))
        }
    };
    page("Appeal", Some(viewer), body)
}
