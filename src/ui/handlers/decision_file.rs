//! A decision's screen and its filing flow, shared by the agent console and the subject portal.
//! The route table picks the audience (`show_decision::<Agents>`, `file_appeal::<Subjects>`):
//! it decides who is admitted, what the screen says and what the appeal form asks.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::appeals::AppealError;
use crate::appeals::casework;
use crate::calendar::CalendarHandle;
use crate::db::Db;
use crate::domain::FieldError;
use crate::ui::audience::Filing;
use crate::ui::error::UiError;
use crate::ui::extract::{SignedIn, Submission};
use crate::ui::forms::appeal::{AppealForm, all_problems};
use crate::ui::forms::errors::FormErrors;
use crate::ui::pages::decision_file as page;
use crate::ui::respond;

#[derive(Deserialize)]
pub struct FiledQuery {
    filed: Option<String>,
}

pub async fn show_decision<A: Filing>(
    viewer: SignedIn<A>,
    db: web::Data<Db>,
    id: web::Path<String>,
    query: web::Query<FiledQuery>,
) -> Result<HttpResponse, UiError> {
    let file = casework::decision_file(&db, viewer.actor(), id.into_inner()).await?;
    let filed = query.filed.is_some();
    let (state, errors) = (AppealForm::default(), FormErrors::default());
    Ok(respond::ok(page::decision_file(
        &viewer,
        A::FILER,
        &file,
        &state,
        &errors,
        filed,
    )))
}

/// Maps a refused filing to what the form shows: field problems inline, the rest on top.
fn filing_problem(e: AppealError) -> Result<(StatusCode, Vec<FieldError>), UiError> {
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

/// Files the appeal and goes back to the decision, or shows the decision again with what was
/// typed and every problem with it.
#[tracing::instrument(skip_all)]
pub async fn file_appeal<A: Filing>(
    Submission { viewer, form, .. }: Submission<A>,
    db: web::Data<Db>,
    calendar: web::Data<CalendarHandle>,
    id: web::Path<String>,
) -> Result<HttpResponse, UiError> {
    let id = id.into_inner();
    let file = casework::decision_file(&db, viewer.actor(), id.clone()).await?;
    let state = AppealForm::from_form(&form);
    let (draft, edge) = state.to_draft(&file.decision, A::FILER);
    let (status, errors) = if edge.is_empty() {
        match crate::appeals::filing::file(&db, &calendar, viewer.actor(), id.clone(), draft, None).await {
            Ok(_) => return Ok(respond::see_other(&format!("{}?filed=1", A::FILER.decision_path(&id)))),
            Err(e) => filing_problem(e)?,
        }
    } else {
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            all_problems(draft, &viewer.actor, edge),
        )
    };
    let errors = FormErrors::new("appeal", errors);
    Ok(respond::html(
        status,
        page::decision_file(&viewer, A::FILER, &file, &state, &errors, false),
    ))
}
