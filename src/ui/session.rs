//! Session cookies and the extractors that every page uses: `Viewer` (a live session) for
//! pages, and `Submission` (a live session plus a form carrying its CSRF token) for every POST.

use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use rand::RngCore;
use tracing_actix_web::RequestId;

use super::error::UiError;
use super::forms::{FORM_LIMIT, FormData, same_secret};
use crate::calendar::CalendarHandle;
use crate::config::UiSettings;
use crate::db::Db;
use crate::domain::{Actor, Role};
use crate::sessions::{self, WebSession};

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

pub fn settings(req: &HttpRequest) -> UiSettings {
    req.app_data::<web::Data<UiSettings>>()
        .map(|s| *s.get_ref())
        .unwrap_or_default()
}

pub fn request_id(req: &HttpRequest) -> Option<String> {
    req.extensions().get::<RequestId>().map(ToString::to_string)
}

/// The signed-in person: their session and the actor it stands for.
pub struct Viewer {
    pub session: WebSession,
    pub actor: Actor,
    /// The controller's time zone: pages show dates and deadlines on the controller's
    /// calendar, the days in which legal periods are counted.
    pub zone: chrono_tz::Tz,
}

impl Viewer {
    pub fn csrf(&self) -> &str {
        &self.session.csrf_token
    }

    /// Refuses with 403 unless the viewer holds one of `roles`: the API's own check.
    pub fn require(&self, roles: &[Role]) -> Result<(), UiError> {
        crate::auth::require_role(&self.actor, roles).map_err(UiError::from)
    }

    pub fn actor(&self) -> Actor {
        self.actor.clone()
    }
}

async fn load_viewer(
    db: Option<web::Data<Db>>,
    zone: chrono_tz::Tz,
    cookie: Option<String>,
    request_id: Option<String>,
) -> Result<Viewer, UiError> {
    let db = db.ok_or_else(|| UiError::Internal("database missing from app data".into()))?;
    let cookie = cookie.filter(|c| !c.is_empty()).ok_or(UiError::LoginRequired)?;
    let session = sessions::service::find(&db, cookie)
        .await?
        .ok_or(UiError::LoginRequired)?;
    Ok(Viewer {
        actor: session.actor(request_id),
        session,
        zone,
    })
}

impl FromRequest for Viewer {
    type Error = UiError;
    type Future = LocalBoxFuture<'static, Result<Self, UiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let db = req.app_data::<web::Data<Db>>().cloned();
        let zone = req
            .app_data::<web::Data<CalendarHandle>>()
            .map_or(chrono_tz::Tz::UTC, |c| c.zone());
        let cookie = req
            .cookie(session_cookie_name(&settings(req)))
            .map(|c| c.value().to_owned());
        let request_id = request_id(req);
        Box::pin(load_viewer(db, zone, cookie, request_id))
    }
}

/// Reads a form body: it must be urlencoded and at most `FORM_LIMIT` bytes.
pub fn parse_form(req: &HttpRequest, body: &[u8]) -> Result<FormData, UiError> {
    let urlencoded = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !urlencoded {
        return Err(UiError::BadForm(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "forms must be sent as application/x-www-form-urlencoded".into(),
        ));
    }
    FormData::parse(body)
}

/// A POSTed form from a signed-in person whose CSRF token matched their session's.
/// Without a session the browser goes to the login page; with a missing or wrong token, 403.
pub struct Submission {
    pub viewer: Viewer,
    pub form: FormData,
}

impl FromRequest for Submission {
    type Error = UiError;
    type Future = LocalBoxFuture<'static, Result<Self, UiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let viewer = Viewer::from_request(req, payload);
        let body = web::Bytes::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let viewer = viewer.await?;
            let body = body.await.map_err(|_| {
                UiError::BadForm(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("the form is larger than {} KiB", FORM_LIMIT / 1024),
                )
            })?;
            let form = parse_form(&req, &body)?;
            match form.get("csrf") {
                Some(token) if same_secret(token, viewer.csrf()) => Ok(Submission { viewer, form }),
                _ => {
                    tracing::info!(role = %viewer.actor.role, "refused a form without the session's CSRF token");
                    Err(UiError::Csrf)
                }
            }
        })
    }
}

/// Checks the double-submit token of a login form against its cookie.
pub fn check_login_csrf(req: &HttpRequest, form: &FormData) -> Result<(), UiError> {
    let cookie = req.cookie(login_cookie_name(&settings(req)));
    match (cookie, form.get("csrf")) {
        (Some(c), Some(token)) if !token.is_empty() && same_secret(c.value(), token) => Ok(()),
        _ => Err(UiError::Csrf),
    }
}
