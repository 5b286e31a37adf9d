//! The reviewer's screens: the queue overview with "Claim next", the case screen with the
//! review form (and the initial view first, in a blind-first queue), release and lease renewal.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::Utc;
use maud::{Markup, html};
use serde::Deserialize;

use super::error::UiError;
use super::forms::{FormData, FormErrors};
use super::layout::{self, described_by, field_errors, field_id, humanize, page};
use super::session::{Submission, Viewer};
use super::{views, words};
use crate::appeals::AppealError;
use crate::appeals::casework::{self, Leaning, LeasedCase, ReviewerOverview};
use crate::appeals::queue::{self, ClaimOptions};
use crate::calendar::CalendarHandle;
use crate::config::Workflow;
use crate::db::Db;
use crate::domain::Role;
use crate::domain::review::{ReviewDraft, ReviewOutcome, ValidReview};

const REVIEWER: &[Role] = &[Role::Reviewer];

#[derive(Deserialize)]
pub struct NoticeQuery {
    notice: Option<String>,
}

fn overview_page(viewer: &Viewer, o: &ReviewerOverview, message: Option<&str>) -> Markup {
    let now = Utc::now();
    let tz = viewer.zone;
    let body = html! {
        h1 { "My queue" }
        (layout::notice(message))
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
                            td { (layout::due(c.due_at, now, tz)) }
                            td { @if let Some(t) = c.lease_expires_at { (layout::relative(t, now)) } }
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
                        td { @if let Some(d) = q.nearest_due_at { (layout::due(d, now, tz)) } @else { span.muted { "—" } } }
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

fn short(id: &str) -> &str {
    id.get(id.len().saturating_sub(8)..).unwrap_or(id)
}

pub async fn show_queues(
    viewer: Viewer,
    db: web::Data<Db>,
    query: web::Query<NoticeQuery>,
) -> Result<HttpResponse, UiError> {
    viewer.require(REVIEWER)?;
    let overview = casework::reviewer_overview(&db, viewer.actor()).await?;
    let message = match query.notice.as_deref() {
        Some("released") => Some("The case went back to its queue."),
        _ => None,
    };
    Ok(layout::ok(overview_page(&viewer, &overview, message)))
}

#[tracing::instrument(skip_all)]
pub async fn claim_next(
    submission: Submission,
    db: web::Data<Db>,
    workflow: web::Data<Workflow>,
) -> Result<HttpResponse, UiError> {
    let Submission { viewer, form } = submission;
    viewer.require(REVIEWER)?;
    let options = ClaimOptions {
        queue: form.opt("queue"),
        appeal_id: None,
        lease: workflow.lease,
    };
    let (status, message) = match queue::claim(&db, viewer.actor(), options).await {
        Ok(Some(claimed)) => {
            return Ok(layout::see_other(&format!(
                "/ui/reviewer/cases/{}",
                claimed.appeal.appeal.id
            )));
        }
        Ok(None) => (
            StatusCode::OK,
            "Nothing is waiting that you may decide right now.".to_owned(),
        ),
        Err(e @ (AppealError::AtCapacity { .. } | AppealError::Forbidden(_))) => (StatusCode::CONFLICT, e.to_string()),
        Err(e) => return Err(e.into()),
    };
    let overview = casework::reviewer_overview(&db, viewer.actor()).await?;
    Ok(layout::html(status, overview_page(&viewer, &overview, Some(&message))))
}

/// What was typed into the review form.
#[derive(Debug, Default)]
struct ReviewForm {
    outcome: String,
    new_outcome: String,
    rationale: String,
    factors: Vec<String>,
    leaning: String,
    note: String,
}

impl ReviewForm {
    fn from_form(f: &FormData) -> Self {
        Self {
            outcome: f.text("outcome"),
            new_outcome: f.text("new_outcome"),
            rationale: f.get("rationale").unwrap_or_default().to_owned(),
            factors: f.all("factor"),
            leaning: f.text("leaning"),
            note: f.text("note"),
        }
    }

    /// The validated review, or every problem with it.
    fn parse(&self, lease_token: String) -> Result<ValidReview, Vec<crate::domain::FieldError>> {
        let outcome = ReviewOutcome::parse(&self.outcome);
        let draft = ReviewDraft {
            lease_token,
            outcome: outcome.unwrap_or(ReviewOutcome::Uphold),
            new_outcome: outcome.and(Some(self.new_outcome.clone()).filter(|s| !s.is_empty())),
            rationale: self.rationale.clone(),
            factors_considered: self.factors.clone(),
            rectified_inputs: None,
        };
        match (outcome, ValidReview::parse(draft)) {
            (Some(_), result) => result,
            (None, result) => {
                let mut errors = vec![crate::domain::FieldError::new(
                    "/outcome",
                    "choose uphold, overturn or amend",
                )];
                errors.extend(result.err().unwrap_or_default());
                Err(errors)
            }
        }
    }
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
                "You hold this case until " strong { (layout::datetime(lc.lease.expires_at, tz)) } " ("
                span data-countdown=(lc.lease.expires_at.to_rfc3339()) role="timer" aria-live="off" { (layout::relative(lc.lease.expires_at, now)) }
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
            (layout::error_summary(errors, F))
            (layout::error_summary(errors, "review"))
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
            (layout::error_summary(errors, F))
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

fn case_page(viewer: &Viewer, lc: &LeasedCase, state: &ReviewForm, errors: &FormErrors) -> Markup {
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
        p.lead { "Reply due " (layout::due(a.due_at, now, tz)) ". Queue: " (a.queue) "." }
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
                (views::decision_facts(d, tz, reveal))
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
                p.muted { "Filed " (layout::datetime(a.received_at, tz)) " via " (words::channel_label(a.channel)) "." }
            }
        }
        section aria-labelledby="explanation-title" {
            h2 #explanation-title { "The model's explanation" }
            @if reveal {
                (views::explanation(d))
            } @else {
                p.withheld-box { "The model's score, reasons and contribution chart are hidden until you record your initial view." }
            }
        }
        section aria-labelledby="inputs-title" {
            h2 #inputs-title { "Inputs and the subject's corrections" }
            (views::inputs_table(d, a.corrected_inputs.as_ref()))
        }
        section aria-labelledby="history-title" {
            h2 #history-title { "History of this decision" }
            ol.history {
                @for h in &case.history {
                    li {
                        "Appeal received " (layout::date(h.received_at, tz)) ": " (words::appeal_status(h.status))
                        @if h.appeal_id == id { " (this appeal)" }
                        @for r in &h.reviews {
                            br; "Review by " (r.reviewer_id) " on " (layout::date(r.created_at, tz)) ": " strong { (words::review_outcome_label(&r.outcome)) }
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

pub async fn show_case(viewer: Viewer, db: web::Data<Db>, id: web::Path<String>) -> Result<HttpResponse, UiError> {
    viewer.require(REVIEWER)?;
    let lc = casework::leased_case(&db, viewer.actor(), id.into_inner()).await?;
    Ok(layout::ok(case_page(
        &viewer,
        &lc,
        &ReviewForm::default(),
        &FormErrors::default(),
    )))
}

/// Shows the case again with what was typed and what was wrong with it.
async fn case_with_errors(
    viewer: &Viewer,
    db: &Db,
    id: String,
    state: &ReviewForm,
    errors: FormErrors,
) -> Result<HttpResponse, UiError> {
    let lc = casework::leased_case(db, viewer.actor(), id).await?;
    Ok(layout::html(
        StatusCode::UNPROCESSABLE_ENTITY,
        case_page(viewer, &lc, state, &errors),
    ))
}

#[tracing::instrument(skip_all)]
pub async fn submit_review(
    submission: Submission,
    db: web::Data<Db>,
    calendar: web::Data<CalendarHandle>,
    id: web::Path<String>,
) -> Result<HttpResponse, UiError> {
    let Submission { viewer, form } = submission;
    viewer.require(REVIEWER)?;
    let id = id.into_inner();
    let state = ReviewForm::from_form(&form);
    let review = match state.parse(form.text("lease_token")) {
        Ok(review) => review,
        Err(errors) => return case_with_errors(&viewer, &db, id, &state, FormErrors::new("review", errors)).await,
    };
    match casework::submit_review(&db, &calendar, viewer.actor(), id.clone(), review).await {
        Ok(_) => Ok(layout::see_other(&format!("/ui/reviewer/appeals/{id}"))),
        Err(AppealError::Invalid(errors)) => {
            case_with_errors(&viewer, &db, id, &state, FormErrors::new("review", errors)).await
        }
        Err(e) => Err(e.into()),
    }
}

#[tracing::instrument(skip_all)]
pub async fn record_initial_view(
    submission: Submission,
    db: web::Data<Db>,
    id: web::Path<String>,
) -> Result<HttpResponse, UiError> {
    let Submission { viewer, form } = submission;
    viewer.require(REVIEWER)?;
    let id = id.into_inner();
    let state = ReviewForm::from_form(&form);
    let leaning = Leaning::parse(&state.leaning);
    let note = form.opt("note");
    match casework::record_initial_view(&db, viewer.actor(), id.clone(), form.text("lease_token"), leaning, note).await
    {
        Ok(()) => Ok(layout::see_other(&format!("/ui/reviewer/cases/{id}#review-title"))),
        Err(AppealError::Invalid(errors)) => {
            case_with_errors(&viewer, &db, id, &state, FormErrors::new("initial", errors)).await
        }
        Err(e) => Err(e.into()),
    }
}

#[tracing::instrument(skip_all)]
pub async fn release_case(
    submission: Submission,
    db: web::Data<Db>,
    id: web::Path<String>,
) -> Result<HttpResponse, UiError> {
    let Submission { viewer, form } = submission;
    viewer.require(REVIEWER)?;
    queue::release(&db, viewer.actor(), id.into_inner(), form.text("lease_token")).await?;
    Ok(layout::see_other("/ui/reviewer?notice=released"))
}

#[tracing::instrument(skip_all)]
pub async fn extend_lease(
    submission: Submission,
    db: web::Data<Db>,
    workflow: web::Data<Workflow>,
    id: web::Path<String>,
) -> Result<HttpResponse, UiError> {
    let Submission { viewer, form } = submission;
    viewer.require(REVIEWER)?;
    let id = id.into_inner();
    queue::heartbeat(
        &db,
        viewer.actor(),
        id.clone(),
        form.text("lease_token"),
        workflow.lease,
    )
    .await?;
    Ok(layout::see_other(&format!("/ui/reviewer/cases/{id}")))
}

/// After a review: the outcome as recorded, or that it waits for a second person.
pub async fn show_result(viewer: Viewer, db: web::Data<Db>, id: web::Path<String>) -> Result<HttpResponse, UiError> {
    viewer.require(REVIEWER)?;
    let detail = crate::appeals::filing::get(&db, viewer.actor(), id.into_inner()).await?;
    let file = casework::decision_file(&db, viewer.actor(), detail.appeal.decision_id.clone()).await?;
    let tz = viewer.zone;
    let body = html! {
        p.breadcrumbs { a href="/ui/reviewer" { "My queue" } " › Result" }
        h1 { "Review recorded" }
        @if detail.appeal.status == crate::domain::appeal::AppealStatus::AwaitingApproval {
            div.notice role="status" { "Your review changes the outcome of a high-impact decision, so a second person must approve it before it takes effect." }
        }
        (views::appeal_status(&detail, &file.decision.outcome, Utc::now(), tz, true))
        form method="post" action="/ui/reviewer/claim" {
            input type="hidden" name="csrf" value=(viewer.csrf());
            button.button type="submit" { "Claim next case" }
        }
    };
    Ok(layout::ok(page("Review recorded", Some(&viewer), body)))
}
