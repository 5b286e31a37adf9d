//! Signing in (a pasted token, or a one-time login link), signing out, and the start page.

use std::time::Duration;

use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::auth::{Claims, TokenVerifier};
use crate::db::Db;
use crate::sessions;
use crate::ui::audience::{Anyone, home_of};
use crate::ui::cookies;
use crate::ui::error::UiError;
use crate::ui::extract::{LoginForm, Submission};
use crate::ui::pages::sign_in as page;
use crate::ui::respond;
use crate::ui::viewer::Viewer;

pub async fn home(viewer: Viewer) -> HttpResponse {
    respond::see_other(home_of(viewer.actor.role))
}

/// For roles without screens yet (engine, dpo, admin).
pub async fn show_welcome(viewer: Viewer) -> HttpResponse {
    respond::ok(page::welcome(&viewer))
}

fn with_cookie(mut res: HttpResponse, cookie: Option<Cookie<'static>>) -> HttpResponse {
    if let Some(c) = cookie {
        let _ = res.add_cookie(&c);
    }
    res
}

#[derive(Deserialize)]
pub struct LoginQuery {
    signed_out: Option<String>,
}

pub async fn login_page(req: HttpRequest, query: web::Query<LoginQuery>) -> HttpResponse {
    let (csrf, cookie) = cookies::login_csrf(&req);
    let message = query.signed_out.as_ref().map(|_| "You have signed out.");
    with_cookie(respond::ok(page::login(&csrf, None, message)), cookie)
}

/// What opening a session takes from the request besides the token's claims: its longest life,
/// the session it replaces, and the request id for the audit entry.
fn opening(req: &HttpRequest) -> (Duration, Option<String>, Option<String>) {
    (
        cookies::settings(req).session_ttl,
        cookies::session_cookie_value(req),
        cookies::request_id(req),
    )
}

/// Starts the session: cookie set, login cookie cleared, off to the role's start page.
fn signed_in(req: &HttpRequest, started: &sessions::Started) -> HttpResponse {
    let settings = cookies::settings(req);
    let mut res = respond::see_other(home_of(started.session.role));
    let _ = res.add_cookie(&cookies::session_cookie(&settings, started));
    let _ = res.add_cookie(&cookies::expired_cookie(
        &settings,
        cookies::login_cookie_name(&settings),
    ));
    res
}

fn login_refused(form: &LoginForm, why: &str) -> HttpResponse {
    tracing::info!(reason = why, "refused a sign-in token");
    respond::html(
        StatusCode::UNPROCESSABLE_ENTITY,
        page::login(&form.0.text("csrf"), Some(why), None),
    )
}

#[tracing::instrument(skip_all)]
pub async fn login_with_token(
    req: HttpRequest,
    db: web::Data<Db>,
    verifier: web::Data<TokenVerifier>,
    form: LoginForm,
) -> Result<HttpResponse, UiError> {
    let claims = match verifier.verify(&form.0.text("token")) {
        Ok(claims) if !claims.sub.is_empty() => claims,
        Ok(_) => return Ok(login_refused(&form, "this token names nobody (its subject is empty)")),
        Err(e) => return Ok(login_refused(&form, page::token_problem(&e))),
    };
    let (ttl, replaces, request_id) = opening(&req);
    let started = sessions::service::start(&db, claims, ttl, replaces, request_id).await?;
    Ok(signed_in(&req, &started))
}

#[derive(Deserialize)]
pub struct LinkQuery {
    t: Option<String>,
}

fn link_claims(verifier: &TokenVerifier, token: &str) -> Result<Claims, UiError> {
    verifier.verify_login_link(token).map_err(|e| {
        UiError::Forbidden(format!(
            "This sign-in link cannot be used: {}.",
            page::token_problem(&e)
        ))
    })
}

/// Shows who the link signs in as and asks to continue. Opening the link spends nothing, so a
/// mail scanner that follows links cannot use it up; continuing is a same-site POST, so the
/// SameSite=Strict session cookie works from the first page.
pub async fn confirm_login_link(
    req: HttpRequest,
    db: web::Data<Db>,
    verifier: web::Data<TokenVerifier>,
    query: web::Query<LinkQuery>,
) -> Result<HttpResponse, UiError> {
    let token = query.into_inner().t.unwrap_or_default();
    let claims = link_claims(&verifier, &token)?;
    if sessions::service::link_spent(&db, claims.jti.clone().unwrap_or_default()).await? {
        return Err(sessions::SessionError::LinkUsed.into());
    }
    let (csrf, cookie) = cookies::login_csrf(&req);
    Ok(with_cookie(
        respond::ok(page::confirm_link(&claims, &token, &csrf)),
        cookie,
    ))
}

#[tracing::instrument(skip_all)]
pub async fn redeem_login_link(
    req: HttpRequest,
    db: web::Data<Db>,
    verifier: web::Data<TokenVerifier>,
    form: LoginForm,
) -> Result<HttpResponse, UiError> {
    let claims = link_claims(&verifier, &form.0.text("t"))?;
    let (ttl, replaces, request_id) = opening(&req);
    let started = sessions::service::redeem_link(&db, claims, ttl, replaces, request_id).await?;
    Ok(signed_in(&req, &started))
}

#[tracing::instrument(skip_all)]
pub async fn logout(
    req: HttpRequest,
    db: web::Data<Db>,
    Submission { viewer, .. }: Submission<Anyone>,
) -> Result<HttpResponse, UiError> {
    let actor = viewer.actor();
    sessions::service::end(&db, viewer.session, actor).await?;
    let settings = cookies::settings(&req);
    let mut res = respond::see_other("/ui/login?signed_out=1");
    let _ = res.add_cookie(&cookies::expired_cookie(
        &settings,
        cookies::session_cookie_name(&settings),
    ));
    Ok(res)
}
