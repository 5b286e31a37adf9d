//! The headers every UI response carries.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse};

const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; \
form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Headers for every UI response: a strict content security policy, no framing, no sniffing,
/// and no Referer (a login link carries a token in its URL). Also turns the redirect to the
/// login page into a plain response, so that the request log does not report it as an error.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let res = next.call(req).await?;
    let mut res = if res.status() == StatusCode::SEE_OTHER && res.response().error().is_some() {
        let location = res.headers().get(header::LOCATION).cloned();
        let (req, _) = res.into_parts();
        let mut fresh = HttpResponse::SeeOther();
        if let Some(location) = location {
            fresh.insert_header((header::LOCATION, location));
        }
        ServiceResponse::new(req, fresh.finish())
    } else {
        res.map_into_boxed_body()
    };
    let headers = res.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(res)
}
