//! The web UI under `/ui`: server-rendered HTML over the same service functions as the REST API
//! (handlers stay thin: extract, authorise, call one service, render). Every page works without
//! JavaScript; `app.js` only adds a lease countdown. Every asset is served from here, and the
//! content security policy allows nothing else.

mod agent;
mod auth_pages;
mod charts;
mod error;
mod forms;
mod layout;
mod portal;
mod reviewer;
mod session;
mod supervisor;
mod views;
mod words;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::{Next, from_fn};
use actix_web::{Error, HttpResponse, web};

pub use error::UiError;
pub use session::{login_cookie_name, session_cookie_name};

use crate::config::UiSettings;

const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; \
form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Headers for every UI response: a strict content security policy, no framing, no sniffing,
/// and no Referer (a login link carries a token in its URL). Also turns the redirect to the
/// login page into a plain response, so that the request log does not report it as an error.
async fn security_headers(
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

const APP_CSS: &str = include_str!("static/app.css");
const APP_JS: &str = include_str!("static/app.js");

async fn app_css() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/css; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(APP_CSS)
}

async fn app_js() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/javascript; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(APP_JS)
}

async fn not_found() -> Result<HttpResponse, UiError> {
    Err(UiError::NotFound("There is no page at this address.".into()))
}

async fn root() -> HttpResponse {
    layout::see_other("/ui")
}

/// Registers the UI. `/` redirects to `/ui`; everything else lives under `/ui`.
pub fn routes(cfg: &mut web::ServiceConfig, settings: UiSettings) {
    use web::{get, post, resource};
    cfg.service(resource("/").route(get().to(root))).service(
        web::scope("/ui")
            .app_data(web::Data::new(settings))
            .app_data(web::PayloadConfig::new(forms::FORM_LIMIT))
            .wrap(from_fn(security_headers))
            .service(resource("").route(get().to(auth_pages::home)))
            .service(resource("/").route(get().to(auth_pages::home)))
            .service(resource("/welcome").route(get().to(auth_pages::welcome)))
            .service(resource("/static/app.css").route(get().to(app_css)))
            .service(resource("/static/app.js").route(get().to(app_js)))
            .service(
                resource("/login")
                    .route(get().to(auth_pages::login_page))
                    .route(post().to(auth_pages::login_with_token)),
            )
            .service(
                resource("/login/link")
                    .route(get().to(auth_pages::confirm_login_link))
                    .route(post().to(auth_pages::redeem_login_link)),
            )
            .service(resource("/logout").route(post().to(auth_pages::logout)))
            .service(resource("/reviewer").route(get().to(reviewer::show_queues)))
            .service(resource("/reviewer/claim").route(post().to(reviewer::claim_next)))
            .service(resource("/reviewer/cases/{id}").route(get().to(reviewer::show_case)))
            .service(resource("/reviewer/cases/{id}/initial-view").route(post().to(reviewer::record_initial_view)))
            .service(resource("/reviewer/cases/{id}/review").route(post().to(reviewer::submit_review)))
            .service(resource("/reviewer/cases/{id}/release").route(post().to(reviewer::release_case)))
            .service(resource("/reviewer/cases/{id}/heartbeat").route(post().to(reviewer::extend_lease)))
            .service(resource("/reviewer/appeals/{id}").route(get().to(reviewer::show_result)))
            .service(resource("/agent").route(get().to(agent::show_console)))
            .service(resource("/agent/lookup").route(post().to(agent::look_up_caller)))
            .service(resource("/agent/decisions/{id}").route(get().to(agent::show_decision)))
            .service(resource("/agent/decisions/{id}/appeals").route(post().to(agent::file_appeal)))
            .service(resource("/portal").route(get().to(portal::show_decisions)))
            .service(resource("/portal/decisions/{id}").route(get().to(portal::show_decision)))
            .service(resource("/portal/decisions/{id}/appeals").route(post().to(portal::file_appeal)))
            .service(resource("/supervisor").route(get().to(supervisor::show_dashboard)))
            .service(resource("/supervisor/appeals/{id}").route(get().to(supervisor::show_appeal)))
            .service(resource("/supervisor/appeals/{id}/assignment").route(post().to(supervisor::reassign)))
            .service(resource("/supervisor/appeals/{id}/extension").route(post().to(supervisor::extend_deadline)))
            .service(resource("/supervisor/appeals/{id}/approval").route(post().to(supervisor::approve_review)))
            .default_service(web::to(not_found)),
    );
}
