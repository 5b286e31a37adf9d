//! The supervisor's handlers: the dashboard, one appeal, and its three forms (reassign, extend
//! the deadline, approve or return a pending review).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::appeals::AppealError;
use crate::appeals::approval::ApprovalChoice;
use crate::calendar::CalendarHandle;
use crate::db::Db;
use crate::domain::FieldError;
use crate::reports;
use crate::ui::audience::Supervisors;
use crate::ui::error::UiError;
use crate::ui::extract::{SignedIn, Submission};
use crate::ui::forms::errors::FormErrors;
use crate::ui::forms::supervision;
use crate::ui::pages::supervisor as page;
use crate::ui::respond;
use crate::ui::viewer::Viewer;

pub async fn show_dashboard(viewer: SignedIn<Supervisors>, db: web::Data<Db>) -> Result<HttpResponse, UiError> {
    let d = reports::service::dashboard(&db, viewer.actor()).await?;
    Ok(respond::ok(page::dashboard(&viewer, &d)))
}

#[derive(Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

pub async fn show_appeal(
    viewer: SignedIn<Supervisors>,
    db: web::Data<Db>,
    id: web::Path<String>,
    query: web::Query<DoneQuery>,
) -> Result<HttpResponse, UiError> {
    let s = reports::service::supervisor_appeal(&db, viewer.actor(), id.into_inner()).await?;
    let done = page::appeal_notice(query.done.as_deref());
    Ok(respond::ok(page::appeal(&viewer, &s, &FormErrors::default(), done)))
}

/// After one of the appeal's forms: back to the appeal saying what was `done`, or the appeal
/// again with the problems of `form`. A refusal the form cannot show fails the request.
async fn answer(
    viewer: &Viewer,
    db: &Db,
    id: String,
    form: &'static str,
    result: Result<&str, AppealError>,
) -> Result<HttpResponse, UiError> {
    let (status, errors) = match result {
        Ok(done) => return Ok(respond::see_other(&format!("/ui/supervisor/appeals/{id}?done={done}"))),
        Err(AppealError::Invalid(errors)) => (StatusCode::UNPROCESSABLE_ENTITY, errors),
        Err(e @ (AppealError::Extension(_) | AppealError::IllegalTransition(_) | AppealError::Forbidden(_))) => {
            (StatusCode::CONFLICT, vec![FieldError::new("", e.to_string())])
        }
        Err(other) => return Err(other.into()),
    };
    let s = reports::service::supervisor_appeal(db, viewer.actor(), id).await?;
    Ok(respond::html(
        status,
        page::appeal(viewer, &s, &FormErrors::new(form, errors), None),
    ))
}

#[tracing::instrument(skip_all)]
pub async fn reassign(
    Submission { viewer, form, .. }: Submission<Supervisors>,
    db: web::Data<Db>,
    id: web::Path<String>,
) -> Result<HttpResponse, UiError> {
    let id = id.into_inner();
    let input = supervision::assignment(&form);
    let result = crate::appeals::filing::assign(&db, viewer.actor(), id.clone(), input).await;
    answer(&viewer, &db, id, "assign", result.map(|_| "assigned")).await
}

#[tracing::instrument(skip_all)]
pub async fn extend_deadline(
    Submission { viewer, form, .. }: Submission<Supervisors>,
    db: web::Data<Db>,
    calendar: web::Data<CalendarHandle>,
    id: web::Path<String>,
) -> Result<HttpResponse, UiError> {
    let id = id.into_inner();
    let result = async {
        let input = supervision::extension(&form)?;
        crate::appeals::filing::extend(&db, &calendar, viewer.actor(), id.clone(), input).await
    }
    .await;
    answer(&viewer, &db, id, "extend", result.map(|_| "extended")).await
}

#[tracing::instrument(skip_all)]
pub async fn approve_review(
    Submission { viewer, form, .. }: Submission<Supervisors>,
    db: web::Data<Db>,
    calendar: web::Data<CalendarHandle>,
    id: web::Path<String>,
) -> Result<HttpResponse, UiError> {
    let id = id.into_inner();
    let result = async {
        let input = supervision::approval(&form)?;
        let done = match input.decision {
            ApprovalChoice::Approve => "approved",
            ApprovalChoice::Return => "returned",
        };
        let approved = crate::appeals::approval::approve(&db, &calendar, viewer.actor(), id.clone(), input);
        approved.await.map(|_| done)
    }
    .await;
    answer(&viewer, &db, id, "approval", result).await
}
