//! The call-centre console: find a caller's decisions (the lookup is audited), read out where
//! their appeal stands, and file an appeal for them with the identity check and channel.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::Utc;
use chrono_tz::Tz;
use maud::{Markup, html};
use serde::Deserialize;

use super::error::UiError;
use super::forms::FormErrors;
use super::layout::{self, field_errors, page};
use super::session::{Submission, Viewer};
use super::views::{self, AppealForm};
use super::words;
use crate::appeals::AppealError;
use crate::appeals::casework::{self, DecisionFile};
use crate::calendar::CalendarHandle;
use crate::db::Db;
use crate::domain::validation::Checker;
use crate::domain::{FieldError, Role};

const AGENT: &[Role] = &[Role::Agent];

fn lookup_form(viewer: &Viewer, subject: &str, errors: &FormErrors) -> Markup {
    html! {
        (layout::error_summary(errors, "lookup"))
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

pub async fn show_console(viewer: Viewer) -> Result<HttpResponse, UiError> {
    viewer.require(AGENT)?;
    let body = html! {
        h1 { "Find a caller's decisions" }
        (lookup_form(&viewer, "", &FormErrors::default()))
    };
    Ok(layout::ok(page("Agent console", Some(&viewer), body)))
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
                    p { "Decided " (layout::date(d.decided_at, tz)) " by " (d.engine_id) ". " (words::decision_status(d.status)) "." }
                    @if let Some(open) = f.open_appeal() {
                        p { span class=(words::appeal_status_class(open.appeal.status)) { (words::appeal_status(open.appeal.status)) } " Reply due " (layout::due(open.appeal.due_at, now, tz)) "." }
                    }
                }
            }
        }
    }
}

#[tracing::instrument(skip_all)]
pub async fn look_up_caller(submission: Submission, db: web::Data<Db>) -> Result<HttpResponse, UiError> {
    let Submission { viewer, form } = submission;
    viewer.require(AGENT)?;
    let subject = form.text("subject_id");
    let mut c = Checker::default();
    c.identifier("/subject_id", &subject, 128);
    if let Err(errors) = c.finish(()) {
        let body = html! {
            h1 { "Find a caller's decisions" }
            (lookup_form(&viewer, &subject, &FormErrors::new("lookup", errors)))
        };
        return Ok(layout::html(
            StatusCode::UNPROCESSABLE_ENTITY,
            page("Agent console", Some(&viewer), body),
        ));
    }
    let files = casework::subject_files(&db, viewer.actor(), subject.clone()).await?;
    let body = html! {
        h1 { "Find a caller's decisions" }
        (lookup_form(&viewer, &subject, &FormErrors::default()))
        (results(&subject, &files, viewer.zone))
    };
    Ok(layout::ok(page("Agent console", Some(&viewer), body)))
}

#[derive(Deserialize)]
pub struct FiledQuery {
    filed: Option<String>,
}

fn decision_page(viewer: &Viewer, file: &DecisionFile, state: &AppealForm, errors: &FormErrors, filed: bool) -> Markup {
    let d = &file.decision;
    let now = Utc::now();
    let tz = viewer.zone;
    let open = file.open_appeal();
    html! {
        p.breadcrumbs { a href="/ui/agent" { "Find a caller" } " › " (d.subject_id) }
        h1 { (words::kind_label(&d.decision_type)) " decision for " (d.subject_id) }
        @if filed {
            div.notice role="status" { "The appeal is filed. The caller will get an acknowledgement letter." }
        }
        section.script aria-labelledby="say-title" {
            h2 #say-title { "What to tell the caller" }
            p.say {
                "On " (layout::date(d.decided_at, tz)) ", " (d.engine_id) " made an automated "
                (words::kind_label(&d.decision_type).to_lowercase()) " decision: " strong { (d.outcome) } "."
                @if !d.explanation.reason_codes.is_empty() {
                    " The main reasons were: "
                    (d.explanation.reason_codes.iter().map(|r| r.text.as_str()).collect::<Vec<_>>().join("; ")) "."
                }
            }
            @if let Some(a) = open {
                p.say {
                    "Their appeal was received on " (layout::date(a.appeal.received_at, tz)) ". "
                    (words::appeal_status_said(a.appeal.status)) " "
                    "We will reply by " strong { (layout::date(a.appeal.due_at, tz)) } " (" (layout::relative(a.appeal.due_at, now)) ")."
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
                (views::decision_facts(d, tz, true))
                p { "Status: " (words::decision_status(d.status)) "." }
            }
            section aria-labelledby="inputs-title" {
                h2 #inputs-title { "Information used" }
                (views::inputs_table(d, None))
            }
        }
        @if !file.appeals.is_empty() {
            section aria-labelledby="appeals-title" {
                h2 #appeals-title { "Appeals" }
                @for a in file.appeals.iter().rev() {
                    (views::appeal_status(a, &d.outcome, now, tz, true))
                }
            }
        }
        @if open.is_none() {
            section.panel aria-labelledby="file-title" {
                h2 #file-title { "File an appeal for the caller" }
                (views::appeal_form(&format!("/ui/agent/decisions/{}/appeals", d.id), viewer.csrf(), d, state, errors, true))
            }
        }
    }
}

pub async fn show_decision(
    viewer: Viewer,
    db: web::Data<Db>,
    id: web::Path<String>,
    query: web::Query<FiledQuery>,
) -> Result<HttpResponse, UiError> {
    viewer.require(AGENT)?;
    let file = casework::decision_file(&db, viewer.actor(), id.into_inner()).await?;
    let filed = query.filed.is_some();
    let body = decision_page(&viewer, &file, &AppealForm::default(), &FormErrors::default(), filed);
    Ok(layout::ok(page("Caller's decision", Some(&viewer), body)))
}

/// Maps a refused filing to what the form shows: field problems inline, the rest on top.
pub fn filing_problem(e: AppealError) -> Result<(StatusCode, Vec<FieldError>), UiError> {
    match e {
        AppealError::Invalid(errors) => Ok((StatusCode::UNPROCESSABLE_ENTITY, errors)),
        e @ AppealError::FilingWindowClosed { .. } => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            vec![FieldError::new("", e.to_string())],
        )),
        AppealError::AlreadyOpen { .. } => Ok((
            StatusCode::CONFLICT,
            vec![FieldError::new("", "this decision already has an open appeal")],
        )),
        other => Err(other.into()),
    }
}

#[tracing::instrument(skip_all)]
pub async fn file_appeal(
    submission: Submission,
    db: web::Data<Db>,
    calendar: web::Data<CalendarHandle>,
    id: web::Path<String>,
) -> Result<HttpResponse, UiError> {
    let Submission { viewer, form } = submission;
    viewer.require(AGENT)?;
    let id = id.into_inner();
    let file = casework::decision_file(&db, viewer.actor(), id.clone()).await?;
    let state = AppealForm::from_form(&form);
    let (draft, edge) = state.to_draft(&file.decision, true);
    let mut errors = Vec::new();
    let status = if edge.is_empty() {
        match crate::appeals::filing::file(&db, &calendar, viewer.actor(), id.clone(), draft, None).await {
            Ok(_) => return Ok(layout::see_other(&format!("/ui/agent/decisions/{id}?filed=1"))),
            Err(e) => {
                let (status, problems) = filing_problem(e)?;
                errors.extend(problems);
                status
            }
        }
    } else {
        errors = views::all_problems(draft, &viewer.actor, edge);
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let body = decision_page(&viewer, &file, &state, &FormErrors::new("appeal", errors), false);
    Ok(layout::html(status, page("Caller's decision", Some(&viewer), body)))
}
