//! The two cookies of the UI: the session cookie, and the double-submit cookie that protects the
//! login forms. Both are `HttpOnly; SameSite=Strict; Path=/`, and `Secure` with
//! `--ui-secure-cookies`.

use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::{HttpMessage, HttpRequest, web};
use rand::RngCore;
use tracing_actix_web::RequestId;

use crate::config::UiSettings;
use crate::sessions;

/// The session cookie. With Secure cookies it takes the `__Host-` prefix, which browsers only
/// accept from HTTPS, for the whole host (`Path=/`) and without a `Domain`.
pub fn session_cookie_name(settings: &UiSettings) -> &'static str {
    if settings.secure_cookies {
        "__Host-recourse_session"
    } else {
        "recourse_session"
    }
}

/// The double-submit cookie that protects the login forms, which run before any session exists.
pub fn login_cookie_name(settings: &UiSettings) -> &'static str {
    if settings.secure_cookies {
        "__Host-recourse_login"
    } else {
        "recourse_login"
    }
}

fn cookie(settings: &UiSettings, name: &'static str, value: String, max_age_secs: i64) -> Cookie<'static> {
    Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(settings.secure_cookies)
        .max_age(time::Duration::seconds(max_age_secs.max(0)))
        .finish()
}

pub fn session_cookie(settings: &UiSettings, session: &sessions::Started) -> Cookie<'static> {
    let remaining = (session.session.expires_at - chrono::Utc::now()).num_seconds();
    cookie(
        settings,
        session_cookie_name(settings),
        session.cookie_value.clone(),
        remaining,
    )
}

pub fn expired_cookie(settings: &UiSettings, name: &'static str) -> Cookie<'static> {
    cookie(settings, name, String::new(), 0)
}

pub fn new_login_cookie(settings: &UiSettings) -> Cookie<'static> {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    cookie(settings, login_cookie_name(settings), hex::encode(bytes), 3600)
}

/// The login CSRF token: the existing login cookie's, or a new cookie to set.
pub fn login_csrf(req: &HttpRequest) -> (String, Option<Cookie<'static>>) {
    let settings = settings(req);
    match req.cookie(login_cookie_name(&settings)) {
        Some(c) if !c.value().is_empty() => (c.value().to_owned(), None),
        _ => {
            let c = new_login_cookie(&settings);
            (c.value().to_owned(), Some(c))
        }
    }
}

/// The session cookie's value as the browser sent it.
pub fn session_cookie_value(req: &HttpRequest) -> Option<String> {
    req.cookie(session_cookie_name(&settings(req)))
        .map(|c| c.value().to_owned())
}

pub fn settings(req: &HttpRequest) -> UiSettings {
    req.app_data::<web::Data<UiSettings>>()
        .map(|s| *s.get_ref())
        .unwrap_or_default()
}

pub fn request_id(req: &HttpRequest) -> Option<String> {
    req.extensions().get::<RequestId>().map(ToString::to_string)
}
