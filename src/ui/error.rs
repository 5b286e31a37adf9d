//! Errors of the web UI, and how each service error becomes one. `pages::error` renders them as
//! HTML pages: a browser user gets a readable page with a way back, never problem+json.

use actix_web::http::StatusCode;

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
