//! The sign-in pages: the login form (paste a token), the confirmation of a one-time link, and
//! the start page of roles without screens.

use maud::{Markup, html};

use super::shell::{notice, page};
use crate::auth::Claims;
use crate::ui::viewer::Viewer;

/// For roles without screens yet (engine, dpo, admin).
pub fn welcome(viewer: &Viewer) -> Markup {
    let body = html! {
        h1 { "Welcome, " (viewer.actor.id) }
        p.lead { "You are signed in with the role " strong { (viewer.actor.role) } "." }
        p { "The web screens are for reviewers, call-centre agents, supervisors and customers. \
             Your role works through the REST API under " code { "/v1" } "; see docs/API.md." }
    };
    page("Welcome", Some(viewer), body)
}

/// Why a pasted token or a link's token was refused, in words for the person signing in.
pub fn token_problem(e: &jsonwebtoken::errors::Error) -> &'static str {
    use jsonwebtoken::errors::ErrorKind;
    match e.kind() {
        ErrorKind::ExpiredSignature => "this token has expired; ask for a new one",
        ErrorKind::ImmatureSignature => "this token is not valid yet",
        ErrorKind::InvalidIssuer | ErrorKind::InvalidAudience => "this token was not issued for Recourse sign-in",
        ErrorKind::InvalidAlgorithm => "this token is signed with an algorithm Recourse does not accept",
        _ => "this is not a valid Recourse token",
    }
}

/// The login page: the form carries the login CSRF token `csrf`; `error` is why the last token
/// was refused, `message` a notice on top (after signing out).
pub fn login(csrf: &str, error: Option<&str>, message: Option<&str>) -> Markup {
    let body = html! {
        h1 { "Sign in to Recourse" }
        (notice(message))
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
    };
    page("Sign in", None, body)
}

/// Who a one-time link signs in as, and the button that spends it.
pub fn confirm_link(claims: &Claims, token: &str, csrf: &str) -> Markup {
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
    page("Sign in", None, body)
}
