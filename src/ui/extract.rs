//! The extractors every handler starts with. `Viewer` is a live session; `SignedIn<A>` is a
//! live session whose role belongs to audience `A`; `Submission<A>` is that plus a POSTed form
//! carrying the session's CSRF token; `LoginForm` is a form of the login pages, which run before
//! any session exists and carry the double-submit token instead.

use std::marker::PhantomData;
use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

use super::audience::Audience;
use super::cookies;
use super::error::UiError;
use super::forms::data::{FORM_LIMIT, FormData, same_secret};
use super::viewer::Viewer;
use crate::calendar::CalendarHandle;
use crate::db::Db;
use crate::sessions;

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

/// Without a session the browser goes to the login page.
impl FromRequest for Viewer {
    type Error = UiError;
    type Future = LocalBoxFuture<'static, Result<Self, UiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let db = req.app_data::<web::Data<Db>>().cloned();
        let zone = req
            .app_data::<web::Data<CalendarHandle>>()
            .map_or(chrono_tz::Tz::UTC, |c| c.zone());
        let cookie = cookies::session_cookie_value(req);
        let request_id = cookies::request_id(req);
        Box::pin(load_viewer(db, zone, cookie, request_id))
    }
}

/// A signed-in person whose role belongs to audience `A`; any other role gets 403.
pub struct SignedIn<A> {
    viewer: Viewer,
    audience: PhantomData<A>,
}

impl<A> Deref for SignedIn<A> {
    type Target = Viewer;

    fn deref(&self) -> &Viewer {
        &self.viewer
    }
}

impl<A: Audience> FromRequest for SignedIn<A> {
    type Error = UiError;
    type Future = LocalBoxFuture<'static, Result<Self, UiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let viewer = Viewer::from_request(req, payload);
        Box::pin(async move {
            let viewer = viewer.await?;
            A::admit(&viewer.actor)?;
            Ok(SignedIn {
                viewer,
                audience: PhantomData,
            })
        })
    }
}

/// A POSTed form from a signed-in person whose CSRF token matched their session's, and whose
/// role belongs to audience `A`. Without a session the browser goes to the login page; with a
/// missing or wrong token, 403; then, with a role outside `A`, 403.
pub struct Submission<A> {
    pub viewer: Viewer,
    pub form: FormData,
    audience: PhantomData<A>,
}

fn body_too_large() -> UiError {
    UiError::BadForm(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("the form is larger than {} KiB", FORM_LIMIT / 1024),
    )
}

impl<A: Audience> FromRequest for Submission<A> {
    type Error = UiError;
    type Future = LocalBoxFuture<'static, Result<Self, UiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let viewer = Viewer::from_request(req, payload);
        let body = web::Bytes::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let viewer = viewer.await?;
            let body = body.await.map_err(|_| body_too_large())?;
            let form = FormData::read(&req, &body)?;
            match form.get("csrf") {
                Some(token) if same_secret(token, viewer.csrf()) => {}
                _ => {
                    tracing::info!(role = %viewer.actor.role, "refused a form without the session's CSRF token");
                    return Err(UiError::Csrf);
                }
            }
            A::admit(&viewer.actor)?;
            Ok(Submission {
                viewer,
                form,
                audience: PhantomData,
            })
        })
    }
}

/// A form of the login pages whose double-submit token matches the login cookie.
pub struct LoginForm(pub FormData);

impl FromRequest for LoginForm {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Bytes::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let body = body.await?;
            let form = FormData::read(&req, &body)?;
            let cookie = req.cookie(cookies::login_cookie_name(&cookies::settings(&req)));
            match (cookie, form.get("csrf")) {
                (Some(c), Some(token)) if !token.is_empty() && same_secret(c.value(), token) => Ok(LoginForm(form)),
                _ => Err(UiError::Csrf.into()),
            }
        })
    }
}
