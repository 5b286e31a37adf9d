//! Errors of the web UI, rendered as HTML pages: a browser user gets a readable page with a way
//! back, never problem+json. Causes of 5xx pages go to the log, never to the page.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, ResponseError};

use super::layout;
use crate::appeals::AppealError;
use crate::db::DbError;
use crate::error::{ApiError, cause_chain};
use crate::sessions::SessionError;

type Cause = Box<dyn std::error::Error + Send + Sync>;

#[derive(thiserror::Error)]
pub enum UiError {
    /// No live session: the browser is sent to the login page.
    #[error("login required")]
    LoginRequired,
    #[error("forbidden")]
    Forbidden(String),
    /// A form without the session's CSRF token, or with a wrong one.
    #[error("csrf")]
    Csrf,
    #[error("not found")]
    NotFound(String),
    #[error("conflict")]
    Conflict(String),
    #[error("bad form")]
    BadForm(StatusCode, String),
    #[error("unavailable")]
    Unavailable(#[source] Cause),
    #[error("internal")]
    Internal(#[source] Cause),
}

/// Like `ApiError`, the debug form names the kind only: details can echo personal data.
impl std::fmt::Debug for UiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UiError::Unavailable(c) => write!(f, "Unavailable({})", cause_chain(c.as_ref())),
            UiError::Internal(c) => write!(f, "Internal({})", cause_chain(c.as_ref())),
            other => f.write_str(match other {
                UiError::LoginRequired => "LoginRequired",
                UiError::Forbidden(_) => "Forbidden",
                UiError::Csrf => "Csrf",
                UiError::NotFound(_) => "NotFound",
                UiError::Conflict(_) => "Conflict",
                _ => "BadForm",
            }),
        }
    }
}

impl From<DbError> for UiError {
    fn from(e: DbError) -> Self {
        match e {
            e if e.is_unavailable() => UiError::Unavailable(Box::new(e)),
            other => UiError::Internal(Box::new(other)),
        }
    }
}

impl From<AppealError> for UiError {
    fn from(e: AppealError) -> Self {
        match e {
            AppealError::NotFound => {
                UiError::NotFound("There is no such appeal or decision, or it is not yours to see.".into())
            }
            AppealError::Forbidden(why) => UiError::Forbidden(why),
            AppealError::StaleLease => UiError::Conflict(
                "You no longer hold this case: the lease expired, was released, or the case was given to someone else."
                    .into(),
            ),
            AppealError::Db(e) => e.into(),
            AppealError::Corrupt(why) => UiError::Internal(why.into()),
            AppealError::Invalid(errors) => UiError::BadForm(
                StatusCode::UNPROCESSABLE_ENTITY,
                errors.into_iter().map(|e| e.detail).collect::<Vec<_>>().join("; "),
            ),
            other => UiError::Conflict(other.to_string()),
        }
    }
}

impl From<SessionError> for UiError {
    fn from(e: SessionError) -> Self {
        match e {
            SessionError::Db(e) => e.into(),
            SessionError::LinkUsed => UiError::Forbidden(
                "This sign-in link has already been used. Each link works once; ask for a new one.".into(),
            ),
            SessionError::Expired => UiError::Forbidden("The token has expired. Ask for a new one.".into()),
            SessionError::Corrupt(why) => UiError::Internal(why.into()),
        }
    }
}

/// `require_role` and the other API-edge checks speak `ApiError`; the UI shows them as pages.
impl From<ApiError> for UiError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::Client { status, detail, .. } if status == StatusCode::FORBIDDEN => UiError::Forbidden(detail),
            ApiError::Client { status, detail, .. } if status == StatusCode::NOT_FOUND => UiError::NotFound(detail),
            ApiError::Client { status, detail, .. } => UiError::BadForm(status, detail),
            ApiError::Validation(errors) => UiError::BadForm(
                StatusCode::UNPROCESSABLE_ENTITY,
                errors.into_iter().map(|e| e.detail).collect::<Vec<_>>().join("; "),
            ),
            ApiError::Unavailable(c) => UiError::Unavailable(c),
            ApiError::Internal(c) => UiError::Internal(c),
        }
    }
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
        let mut res = layout::html(status, layout::error_page(status, title, &message));
        if status == StatusCode::SERVICE_UNAVAILABLE {
            res.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        }
        res
    }
}
