//! The reviewer's handlers: the queue and "Claim next", the case with its initial view and
//! review, release and lease renewal, and the result of a review.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::appeals::AppealError;
use crate::appeals::casework;
use crate::appeals::queue::{self as queue, ClaimOptions};
use crate::calendar::CalendarHandle;
use crate::config::Workflow;
use crate::db::Db;
use crate::ui::audience::Reviewers;
use crate::ui::error::UiError;
use crate::ui::extract::{SignedIn, Submission};
use crate::ui::forms::errors::FormErrors;
use crate::ui::forms::review::ReviewForm;
use crate::ui::pages::reviewer as page;
use crate::ui::respond;
use crate::ui::viewer::Viewer;

#[derive(Deserialize)]
pub struct NoticeQuery {
    notice: Option<String>,
}

pub async fn show_queues(
    viewer: SignedIn<Reviewers>,
    db: web::Data<Db>,
    query: web::Query<NoticeQuery>,
) -> Result<HttpResponse, UiError> {
    let overview = casework::reviewer_overview(&db, viewer.actor()).await?;
    let message = page::queue_notice(query.notice.as_deref());
    Ok(respond::ok(page::queue(&viewer, &overview, message)))
}

/// Claims the most urgent case the reviewer may decide and opens it. When there is none, or the
/// reviewer may not claim, shows the queue again with why.
#[tracing::instrument(skip_all)]
pub async fn claim_next(
    Submission { viewer, form, .. }: Submission<Reviewers>,
    db: web::Data<Db>,
    workflow: web::Data<Workflow>,
) -> Result<HttpResponse, UiError> {
    let options = ClaimOptions {
        queue: form.opt("queue"),
        appeal_id: None,
        lease: workflow.lease,
    };
    let (status, message) = match queue::claim(&db, viewer.actor(), options).await {
        Ok(Some(claimed)) => {
            return Ok(respond::see_other(&format!(
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
    Ok(respond::html(status, page::queue(&viewer, &overview, Some(&message))))
}

pub async fn show_case(
    viewer: SignedIn<Reviewers>,
    db: web::Data<Db>,
    id: web::Path<String>,
) -> Result<HttpResponse, UiError> {
    let lc = casework::leased_case(&db, viewer.actor(), id.into_inner()).await?;
    Ok(respond::ok(page::case(
        &viewer,
        &lc,
        &ReviewForm::default(),
        &FormErrors::default(),
    )))
}

/// After a refused initial view or review: the case again, with what was typed into `form` and
/// what was wrong with it. Any other refusal fails the request.
async fn refused(
    viewer: &Viewer,
    db: &Db,
    id: String,
    state: &ReviewForm,
    form: &'static str,
    e: AppealError,
) -> Result<HttpResponse, UiError> {
    let AppealError::Invalid(errors) = e else {
        return Err(e.into());
    };
    let lc = casework::leased_case(db, viewer.actor(), id).await?;
    Ok(respond::html(
        StatusCode::UNPROCESSABLE_ENTITY,
        page::case(viewer, &lc, state, &FormErrors::new(form, errors)),
    ))
}

#[tracing::instrument(skip_all)]
pub async fn submit_review(
    Submission { viewer, form, .. }: Submission<Reviewers>,
    db: web::Data<Db>,
    calendar: web::Data<CalendarHandle>,
    id: web::Path<String>,
) -> Result<HttpResponse, UiError> {
    let id = id.into_inner();
    let state = ReviewForm::from_form(&form);
    let result = async {
        let review = state.parse(form.text("lease_token")).map_err(AppealError::Invalid)?;
        casework::submit_review(&db, &calendar, viewer.actor(), id.clone(), review).await
    }
    .await;
    match result {
        Ok(_) => Ok(respond::see_other(&format!("/ui/reviewer/appeals/{id}"))),
        Err(e) => refused(&viewer, &db, id, &state, "review", e).await,
    }
}

#[tracing::instrument(skip_all)]
pub async fn record_initial_view(
    Submission { viewer, form, .. }: Submission<Reviewers>,
    db: web::Data<Db>,
    id: web::Path<String>,
) -> Result<HttpResponse, UiError> {
    let id = id.into_inner();
    let state = ReviewForm::from_form(&form);
    let (leaning, note) = state.initial_view();
    let lease_token = form.text("lease_token");
    match casework::record_initial_view(&db, viewer.actor(), id.clone(), lease_token, leaning, note).await {
        Ok(()) => Ok(respond::see_other(&format!("/ui/reviewer/cases/{id}#review-title"))),
        Err(e) => refused(&viewer, &db, id, &state, "initial", e).await,
    }
}

#[tracing::instrument(skip_all)]
pub async fn release_case(
    Submission { viewer, form, .. }: Submission<Reviewers>,
    db: web::Data<Db>,
    id: web::Path<String>,
) -> Result<HttpResponse, UiError> {
    queue::release(&db, viewer.actor(), id.into_inner(), form.text("lease_token")).await?;
    Ok(respond::see_other("/ui/reviewer?notice=released"))
}

#[tracing::instrument(skip_all)]
pub async fn extend_lease(
    Submission { viewer, form, .. }: Submission<Reviewers>,
    db: web::Data<Db>,
    workflow: web::Data<Workflow>,
    id: web::Path<String>,
) -> Result<HttpResponse, UiError> {
    let id = id.into_inner();
    let lease_token = form.text("lease_token");
    queue::heartbeat(&db, viewer.actor(), id.clone(), lease_token, workflow.lease).await?;
    Ok(respond::see_other(&format!("/ui/reviewer/cases/{id}")))
}

/// After a review: the outcome as recorded, or that it waits for a second person.
pub async fn show_result(
    viewer: SignedIn<Reviewers>,
    db: web::Data<Db>,
    id: web::Path<String>,
) -> Result<HttpResponse, UiError> {
    let detail = crate::appeals::filing::get(&db, viewer.actor(), id.into_inner()).await?;
    let file = casework::decision_file(&db, viewer.actor(), detail.appeal.decision_id.clone()).await?;
    Ok(respond::ok(page::review_recorded(&viewer, &detail, &file)))
}
