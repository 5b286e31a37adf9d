//! The responses a UI handler sends: an HTML page, or a redirect after a form (POST-redirect-GET).

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header;
use maud::Markup;

/// An HTML response. Pages can hold personal data, so they are never cached.
pub fn html(status: StatusCode, page: Markup) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(page.into_string())
}

pub fn ok(page: Markup) -> HttpResponse {
    html(StatusCode::OK, page)
}

/// POST-redirect-GET.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}
