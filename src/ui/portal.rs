//! The subject portal: a person's own decisions explained in plain words, their appeals with the
//! deadline and the letters sent, and the form to appeal. Only their own: the services answer
//! "not found" for anyone else's decision.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::Utc;
use maud::{Markup, html};
use serde::Deserialize;

use super::agent::filing_problem;
use super::error::UiError;
use super::forms::FormErrors;
use super::layout::{self, humanize, page};
use super::session::{Submission, Viewer};
use super::views::{self, AppealForm};
use super::words;
use crate::appeals::casework::{self, DecisionFile};
use crate::calendar::CalendarHandle;
use crate::db::Db;
use crate::domain::Role;

const SUBJECT: &[Role] = &[Role::Subject];

pub async fn show_decisions(viewer: Viewer, db: web::Data<Db>) -> Result<HttpResponse, UiError> {
    viewer.require(SUBJECT)?;
    let files = casework::subject_files(&db, viewer.actor(), viewer.actor.id.clone()).await?;
    let now = Utc::now();
    let tz = viewer.zone;
    let body = html! {
        h1 { "Your decisions" }
        p.lead { "These are the automated decisions made about you. You can see why each was made, and ask for a person to review it." }
        @if files.is_empty() {
            p { "There are no automated decisions about you." }
        }
        ul.cards #decisions {
            @for f in &files {
                @let d = &f.decision;
                li.card {
                    h2 { a href=(format!("/ui/portal/decisions/{}", d.id)) { (words::kind_label(&d.decision_type)) ": " (d.effective_outcome) } }
                    p { "Decided on " (layout::date(d.decided_at, tz)) " by " (d.engine_id) ". " (words::decision_status(d.status)) "." }
                    @if let Some(open) = f.open_appeal() {
                        p { "Your appeal: " span class=(words::appeal_status_class(open.appeal.status)) { (words::appeal_status(open.appeal.status)) } ". We will reply by " (layout::due(open.appeal.due_at, now, tz)) "." }
                    } @else {
                        p { a href=(format!("/ui/portal/decisions/{}", d.id)) { "See why, and appeal" } }
                    }
                }
            }
        }
    };
    Ok(layout::ok(page("Your decisions", Some(&viewer), body)))
}

#[derive(Deserialize)]
pub struct FiledQuery {
    filed: Option<String>,
}

fn decision_page(viewer: &Viewer, file: &DecisionFile, state: &AppealForm, errors: &FormErrors, filed: bool) -> Markup {
    let d = &file.decision;
    let e = &d.explanation;
    let now = Utc::now();
    let tz = viewer.zone;
    html! {
        p.breadcrumbs { a href="/ui/portal" { "Your decisions" } " › " (words::kind_label(&d.decision_type)) }
        h1 { (words::kind_label(&d.decision_type)) ": " (d.effective_outcome) }
        @if filed {
            div.notice role="status" { "We have received your appeal. A person will review it; we sent you a letter confirming the date we will reply by." }
        }
        section aria-labelledby="what-title" {
            h2 #what-title { "What was decided" }
            p { "On " (layout::date(d.decided_at, tz)) ", " (d.engine_id) " used an automated system (" (d.model.name) ", version " (d.model.version) ") to decide: " strong { (d.outcome) } "." }
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
                (views::counterfactual(d, cf))
            }
        }
        section aria-labelledby="used-title" {
            h2 #used-title { "The information used about you" }
            table.data {
                caption.visually-hidden { "Information used" }
                thead { tr { th scope="col" { "Information" } th scope="col" { "Value used" } } }
                tbody {
                    @for (name, v) in &e.inputs {
                        tr { th scope="row" { (humanize(name)) } td { (layout::value(v)) } }
                    }
                }
            }
        }
        @if !file.appeals.is_empty() {
            section aria-labelledby="appeals-title" {
                h2 #appeals-title { "Your appeal" @if file.appeals.len() > 1 { "s" } }
                @for a in file.appeals.iter().rev() {
                    (views::appeal_status(a, &d.outcome, now, tz, false))
                }
            }
        }
        @if file.open_appeal().is_none() {
            section.panel aria-labelledby="appeal-title" {
                h2 #appeal-title { "Ask for a person to review this decision" }
                p { "You have the right to contest an automated decision and to have a person look at it. Tell us what is wrong." }
                (views::appeal_form(&format!("/ui/portal/decisions/{}/appeals", d.id), viewer.csrf(), d, state, errors, false))
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
    viewer.require(SUBJECT)?;
    let file = casework::decision_file(&db, viewer.actor(), id.into_inner()).await?;
    let body = decision_page(
        &viewer,
        &file,
        &AppealForm::default(),
        &FormErrors::default(),
        query.filed.is_some(),
    );
    Ok(layout::ok(page("Your decision", Some(&viewer), body)))
}

#[tracing::instrument(skip_all)]
pub async fn file_appeal(
    submission: Submission,
    db: web::Data<Db>,
    calendar: web::Data<CalendarHandle>,
    id: web::Path<String>,
) -> Result<HttpResponse, UiError> {
    let Submission { viewer, form } = submission;
    viewer.require(SUBJECT)?;
    let id = id.into_inner();
    let file = casework::decision_file(&db, viewer.actor(), id.clone()).await?;
    let state = AppealForm::from_form(&form);
    let (draft, edge) = state.to_draft(&file.decision, false);
    let (status, errors) = if edge.is_empty() {
        match crate::appeals::filing::file(&db, &calendar, viewer.actor(), id.clone(), draft, None).await {
            Ok(_) => return Ok(layout::see_other(&format!("/ui/portal/decisions/{id}?filed=1"))),
            Err(e) => filing_problem(e)?,
        }
    } else {
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            views::all_problems(draft, &viewer.actor, edge),
        )
    };
    let body = decision_page(&viewer, &file, &state, &FormErrors::new("appeal", errors), false);
    Ok(layout::html(status, page("Your decision", Some(&viewer), body)))
}
