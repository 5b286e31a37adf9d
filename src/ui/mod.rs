//! The web UI under `/ui`: server-rendered HTML over the same service functions as the REST API.
//! Handlers (`handlers/`) stay thin: extract, call one service, render a page (`pages/`) or
//! redirect. Forms are parsed in `forms/`. Every page works without JavaScript; `app.js` only
//! adds a lease countdown. Every asset is served from here, and the content security policy
//! allows nothing else.

mod assets;
mod audience;
mod cookies;
mod error;
mod extract;
mod forms;
mod handlers;
mod headers;
mod pages;
mod respond;
mod viewer;
mod words;

use actix_web::middleware::from_fn;
use actix_web::{HttpResponse, web};

pub use cookies::{login_cookie_name, session_cookie_name};
pub use error::UiError;

use crate::config::UiSettings;
use audience::{Agents, Subjects};
use handlers::{agent, decision_file, portal, reviewer, sign_in, supervisor};

async fn not_found() -> Result<HttpResponse, UiError> {
    Err(UiError::NotFound("There is no page at this address.".into()))
}

async fn root() -> HttpResponse {
    respond::see_other("/ui")
}

/// Registers the UI. `/` redirects to `/ui`; everything else lives under `/ui`.
pub fn routes(cfg: &mut web::ServiceConfig, settings: UiSettings) {
    use web::{get, post, resource};
    cfg.service(resource("/").route(get().to(root))).service(
        web::scope("/ui")
            .app_data(web::Data::new(settings))
            .app_data(web::PayloadConfig::new(forms::data::FORM_LIMIT))
            .wrap(from_fn(headers::security_headers))
            .service(resource("").route(get().to(sign_in::home)))
            .service(resource("/").route(get().to(sign_in::home)))
            .service(resource("/welcome").route(get().to(sign_in::show_welcome)))
            .service(resource("/static/app.css").route(get().to(assets::app_css)))
            .service(resource("/static/app.js").route(get().to(assets::app_js)))
            .service(
                resource("/login")
                    .route(get().to(sign_in::login_page))
                    .route(post().to(sign_in::login_with_token)),
            )
            .service(
                resource("/login/link")
                    .route(get().to(sign_in::confirm_login_link))
                    .route(post().to(sign_in::redeem_login_link)),
            )
            .service(resource("/logout").route(post().to(sign_in::logout)))
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
            .service(resource("/agent/decisions/{id}").route(get().to(decision_file::show_decision::<Agents>)))
            .service(resource("/agent/decisions/{id}/appeals").route(post().to(decision_file::file_appeal::<Agents>)))
            .service(resource("/portal").route(get().to(portal::show_decisions)))
            .service(resource("/portal/decisions/{id}").route(get().to(decision_file::show_decision::<Subjects>)))
            .service(
                resource("/portal/decisions/{id}/appeals").route(post().to(decision_file::file_appeal::<Subjects>)),
            )
            .service(resource("/supervisor").route(get().to(supervisor::show_dashboard)))
            .service(resource("/supervisor/appeals/{id}").route(get().to(supervisor::show_appeal)))
            .service(resource("/supervisor/appeals/{id}/assignment").route(post().to(supervisor::reassign)))
            .service(resource("/supervisor/appeals/{id}/extension").route(post().to(supervisor::extend_deadline)))
            .service(resource("/supervisor/appeals/{id}/approval").route(post().to(supervisor::approve_review)))
            .default_service(web::to(not_found)),
    );
}
