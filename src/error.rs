//! Every error leaves as RFC 9457 `application/problem+json` with a stable `code`.
//! Client errors say exactly what was wrong and where; a 500 says nothing and logs everything.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::db::DbError;
use crate::domain::FieldError;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// The body of every error response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    pub code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &'static str, detail: Option<String>) -> Self {
        Self {
            type_uri: format!("tag:recourse.dev,2026:problem:{code}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            code,
            detail,
            errors: Vec::new(),
        }
    }

    pub fn into_response(self) -> HttpResponse {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut builder = HttpResponse::build(status);
        builder.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        if status == StatusCode::UNAUTHORIZED {
            builder.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        builder.body(serde_json::to_string(&self).unwrap_or_default())
    }

    /// The stable code for a status when nothing more specific is known (router and framework errors).
    pub fn code_for_status(status: StatusCode) -> &'static str {
        match status {
            StatusCode::BAD_REQUEST => "bad_request",
            StatusCode::UNAUTHORIZED => "unauthorized",
            StatusCode::FORBIDDEN => "forbidden",
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
            StatusCode::CONFLICT => "conflict",
            StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            StatusCode::UNPROCESSABLE_ENTITY => "validation_failed",
            StatusCode::TOO_MANY_REQUESTS => "too_many_requests",
            StatusCode::SERVICE_UNAVAILABLE => "unavailable",
            s if s.is_client_error() => "client_error",
            _ => "internal_error",
        }
    }
}

#[derive(thiserror::Error)]
pub enum ApiError {
    /// A client error with a specific code and message.
    #[error("{code}")]
    Client {
        status: StatusCode,
        code: &'static str,
        detail: String,
    },
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// The database cannot be reached or the pool is exhausted; safe to retry.
    #[error("service unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Anything unexpected. The cause is logged, never returned.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    pub fn client(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self::Client {
            status,
            code,
            detail: detail.into(),
        }
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::client(StatusCode::BAD_REQUEST, code, detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::client(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::client(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::client(StatusCode::NOT_FOUND, "not_found", detail)
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::client(StatusCode::CONFLICT, code, detail)
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        Self::Validation(errors)
    }

    pub fn invalid_field(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(pointer, detail)])
    }

    pub fn internal(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Internal(Box::new(e))
    }
}

/// Debug output reaches the logs (the tracing middleware prints it), so it names the kind of
/// error only: field details can echo client input, which may be personal data.
impl std::fmt::Debug for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Client { status, code, .. } => write!(f, "Client({status}, {code})"),
            ApiError::Validation(errors) => write!(f, "Validation({} field(s))", errors.len()),
            ApiError::Unavailable(cause) => {
                write!(f, "Unavailable({})", cause_chain(cause.as_ref()))
            }
            ApiError::Internal(cause) => write!(f, "Internal({})", cause_chain(cause.as_ref())),
        }
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        match e {
            e if e.is_unavailable() => ApiError::Unavailable(Box::new(e)),
            DbError::Query(diesel::result::Error::NotFound) => ApiError::not_found("no such resource"),
            other => ApiError::Internal(Box::new(other)),
        }
    }
}

/// Writes the whole cause chain of an error, for the log. A cause that only repeats the text of
/// the error it caused (a wrapper that says what its source says) is written once.
pub fn cause_chain(e: &dyn std::error::Error) -> String {
    let mut last = e.to_string();
    let mut out = last.clone();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if text != last {
            out.push_str(": ");
            out.push_str(&text);
        }
        last = text;
        source = s.source();
    }
    out
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Client { status, .. } => *status,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let problem = match self {
            ApiError::Client { code, detail, .. } => Problem::new(status, code, Some(detail.clone())),
            ApiError::Validation(errors) => Problem {
                errors: errors.clone(),
                ..Problem::new(
                    status,
                    "validation_failed",
                    Some(format!("{} field(s) failed validation; see errors", errors.len())),
                )
            },
            ApiError::Unavailable(cause) => {
                tracing::warn!(error = %cause_chain(cause.as_ref()), "database unavailable");
                Problem::new(
                    status,
                    "unavailable",
                    Some("the service is temporarily unavailable; retry shortly".into()),
                )
            }
            ApiError::Internal(cause) => {
                tracing::error!(error = %cause_chain(cause.as_ref()), "internal error");
                Problem::new(status, "internal_error", None)
            }
        };
        let mut response = problem.into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}
