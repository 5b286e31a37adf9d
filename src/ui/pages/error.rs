//! How a `UiError` looks: an HTML page with a way back, never problem+json. Causes of 5xx pages
//! go to the log, never to the page.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, ResponseError};
use maud::{Markup, html};

use super::shell::page;
use crate::error::cause_chain;
use crate::ui::error::UiError;
use crate::ui::respond;

fn error_page(status: StatusCode, title: &str, message: &str) -> Markup {
    page(
        title,
        None,
        html! {
            h1 { (title) }
            p.lead { (message) }
            p.muted { "Status " (status.as_u16()) "." }
            p { a href="/ui" { "Go to your start page" } }
        },
    )
}

impl ResponseError for UiError {
    fn status_code(&self) -> StatusCode {
        match self {
            UiError::LoginRequired => StatusCode::SEE_OTHER,
            UiError::Forbidden(_) | UiError::Csrf => StatusCode::FORBIDDEN,
            UiError::NotFound(_) => StatusCode::NOT_FOUND,
            UiError::Conflict(_) => StatusCode::CONFLICT,
            UiError::BadForm(status, _) => *status,
            UiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            UiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let (title, message) = match self {
            UiError::LoginRequired => {
                return HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, "/ui/login"))
                    .finish();
            }
            UiError::Forbidden(why) => ("Not allowed", why.clone()),
            UiError::Csrf => (
                "This form could not be accepted",
                "The form did not carry this session's security token, so it was refused (it may be old, \
                 or it may not have come from Recourse). Go back, reload the page and try again."
                    .to_owned(),
            ),
            UiError::NotFound(why) => ("Not found", why.clone()),
            UiError::Conflict(why) => ("That could not be done", why.clone()),
            UiError::BadForm(_, why) => ("That could not be done", why.clone()),
            UiError::Unavailable(cause) => {
                tracing::warn!(error = %cause_chain(cause.as_ref()), "database unavailable");
                (
                    "Please try again",
                    "Recourse is briefly unavailable. Wait a moment and reload the page.".to_owned(),
                )
            }
            UiError::Internal(cause) => {
                tracing::error!(error = %cause_chain(cause.as_ref()), "internal error");
                (
                    "Something went wrong",
                    "Recourse could not show this page. The problem has been logged; quote the request id \
                     in the x-request-id header if you report it."
                        .to_owned(),
                )
            }
        };
        let mut res = respond::html(status, error_page(status, title, &message));
        if status == StatusCode::SERVICE_UNAVAILABLE {
            res.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        }
        res
    }
}
