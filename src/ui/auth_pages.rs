//! Signing in (a pasted token, or a one-time login link), signing out, and the start page.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;

use super::error::UiError;
use super::forms::FormData;
use super::layout::{self, home_of, page};
use super::session::{self, Submission, Viewer, check_login_csrf, parse_form};
use crate::auth::{Claims, TokenVerifier};
use crate::db::Db;
use crate::sessions;

pub async fn home(viewer: Viewer) -> HttpResponse {
    layout::see_other(home_of(viewer.actor.role))
}

/// For roles without screens yet (engine, dpo, admin).
pub async fn welcome(viewer: Viewer) -> HttpResponse {
    let body = html! {
        h1 { "Welcome, " (viewer.actor.id) }
        p.lead { "You are signed in with the role " strong { (viewer.actor.role) } "." }
        p { "The web screens are for reviewers, call-centre agents, supervisors and customers. \
             Your role works through the REST API under " code { "/v1" } "; see docs/API.md." }
    };
    layout::ok(page("Welcome", Some(&viewer), body))
}

fn token_problem(e: &jsonwebtoken::errors::Error) -> &'static str {
    use jsonwebtoken::errors::ErrorKind;
    match e.kind() {
        ErrorKind::ExpiredSignature => "this token has expired; ask for a new one",
        ErrorKind::ImmatureSignature => "this token is not valid yet",
        ErrorKind::InvalidIssuer | ErrorKind::InvalidAudience => "this token was not issued for Recourse sign-in",
        ErrorKind::InvalidAlgorithm => "this token is signed with an algorithm Recourse does not accept",
        _ => "this is not a valid Recourse token",
    }
}

fn login_form(csrf: &str, error: Option<&str>, notice: Option<&str>) -> Markup {
    html! {
        h1 { "Sign in to Recourse" }
        (layout::notice(notice))
        @if let Some(e) = error {
            div.error-summary role="alert" {
                h2 { "There is a problem" }
                p { a href="#token" { (e) } }
            }
        }
        form.stack method="post" action="/ui/login" {
            input type="hidden" name="csrf" value=(csrf);
            div.field.error[error.is_some()] {
                label for="token" { "Access token" }
                p.hint id="token-hint" {
                    "Paste the token your administrator gave you, or the output of "
                    code { "recourse token --role ROLE --sub YOUR-ID" } "."
                }
                @if let Some(e) = error {
                    p.field-error id="token-error" { span.visually-hidden { "Error: " } (e) }
                }
                textarea #token name="token" rows="4" required autocomplete="off" spellcheck="false"
                    aria-describedby=(if error.is_some() { "token-hint token-error" } else { "token-hint" }) {}
            }
            button.button type="submit" { "Sign in" }
        }
        h2 { "Have a sign-in link?" }
        p { "Open it in this browser. Each link works once: "
            code { "recourse token --login-link --role ROLE --sub YOUR-ID" }
            " prints one, and " code { "recourse serve --demo" } " prints one for every demo role." }
    }
}

/// The login CSRF token: the existing cookie's, or a new cookie to set.
fn login_csrf(req: &HttpRequest) -> (String, Option<actix_web::cookie::Cookie<'static>>) {
    let settings = session::settings(req);
    match req.cookie(session::login_cookie_name(&settings)) {
        Some(c) if !c.value().is_empty() => (c.value().to_owned(), None),
        _ => {
            let c = session::new_login_cookie(&settings);
            (c.value().to_owned(), Some(c))
        }
    }
}

fn with_cookie(mut res: HttpResponse, cookie: Option<actix_web::cookie::Cookie<'static>>) -> HttpResponse {
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
    let (csrf, cookie) = login_csrf(&req);
    let notice = query.signed_out.as_ref().map(|_| "You have signed out.");
    with_cookie(
        layout::ok(page("Sign in", None, login_form(&csrf, None, notice))),
        cookie,
    )
}

/// Starts the session: cookie set, login cookie cleared, off to the role's start page.
fn signed_in(req: &HttpRequest, started: &sessions::Started) -> HttpResponse {
    let settings = session::settings(req);
    let mut res = layout::see_other(home_of(started.session.role));
    let _ = res.add_cookie(&session::session_cookie(&settings, started));
    let _ = res.add_cookie(&session::expired_cookie(
        &settings,
        session::login_cookie_name(&settings),
    ));
    res
}

fn current_cookie(req: &HttpRequest) -> Option<String> {
    req.cookie(session::session_cookie_name(&session::settings(req)))
        .map(|c| c.value().to_owned())
}

#[tracing::instrument(skip_all)]
pub async fn login_with_token(
    req: HttpRequest,
    db: web::Data<Db>,
    verifier: web::Data<TokenVerifier>,
    body: web::Bytes,
) -> Result<HttpResponse, UiError> {
    let form = parse_form(&req, &body)?;
    check_login_csrf(&req, &form)?;
    let token = form.text("token");
    let claims = match verifier.verify(&token) {
        Ok(claims) if !claims.sub.is_empty() => claims,
        Ok(_) => {
            return Ok(login_refused(
                &req,
                &form,
                "this token names nobody (its subject is empty)",
            ));
        }
        Err(e) => return Ok(login_refused(&req, &form, token_problem(&e))),
    };
    let settings = session::settings(&req);
    let started = sessions::service::start(
        &db,
        claims,
        settings.session_ttl,
        current_cookie(&req),
        session::request_id(&req),
    )
    .await?;
    Ok(signed_in(&req, &started))
}

fn login_refused(req: &HttpRequest, form: &FormData, why: &str) -> HttpResponse {
    tracing::info!(reason = why, "refused a sign-in token");
    let _ = req;
    layout::html(
        StatusCode::UNPROCESSABLE_ENTITY,
        page("Sign in", None, login_form(&form.text("csrf"), Some(why), None)),
    )
}

#[derive(Deserialize)]
pub struct LinkQuery {
    t: Option<String>,
}

fn link_claims(verifier: &TokenVerifier, token: &str) -> Result<Claims, UiError> {
    verifier
        .verify_login_link(token)
        .map_err(|e| UiError::Forbidden(format!("This sign-in link cannot be used: {}.", token_problem(&e))))
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
    let (csrf, cookie) = login_csrf(&req);
    let body = html! {
        h1 { "Sign in to Recourse" }
        p.lead { "This link signs you in as " strong { (claims.sub) } " with the role " strong { (claims.role) } "." }
        form method="post" action="/ui/login/link" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="t" value=(token);
            button.button #continue type="submit" { "Continue as " (claims.sub) }
        }
        p.muted { "The link works once. If this is not you, close this page." }
    };
    Ok(with_cookie(layout::ok(page("Sign in", None, body)), cookie))
}

#[tracing::instrument(skip_all)]
pub async fn redeem_login_link(
    req: HttpRequest,
    db: web::Data<Db>,
    verifier: web::Data<TokenVerifier>,
    body: web::Bytes,
) -> Result<HttpResponse, UiError> {
    let form = parse_form(&req, &body)?;
    check_login_csrf(&req, &form)?;
    let claims = link_claims(&verifier, &form.text("t"))?;
    let settings = session::settings(&req);
    let started = sessions::service::redeem_link(
        &db,
        claims,
        settings.session_ttl,
        current_cookie(&req),
        session::request_id(&req),
    )
    .await?;
    Ok(signed_in(&req, &started))
}

#[tracing::instrument(skip_all)]
pub async fn logout(req: HttpRequest, db: web::Data<Db>, submission: Submission) -> Result<HttpResponse, UiError> {
    let Submission { viewer, .. } = submission;
    let actor = viewer.actor();
    sessions::service::end(&db, viewer.session, actor).await?;
    let settings = session::settings(&req);
    let mut res = layout::see_other("/ui/login?signed_out=1");
    let _ = res.add_cookie(&session::expired_cookie(
        &settings,
        session::session_cookie_name(&settings),
    ));
    Ok(res)
}
