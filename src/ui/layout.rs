//! The page shell and small rendering helpers shared by every screen.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use maud::{DOCTYPE, Markup, html};
use serde_json::Value;

use super::forms::FormErrors;
use super::session::Viewer;
use crate::domain::Role;

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

/// Where each role starts.
pub fn home_of(role: Role) -> &'static str {
    match role {
        Role::Reviewer => "/ui/reviewer",
        Role::Agent => "/ui/agent",
        Role::Subject => "/ui/portal",
        Role::Supervisor => "/ui/supervisor",
        Role::Engine | Role::Dpo | Role::Admin | Role::System => "/ui/welcome",
    }
}

fn nav_links(role: Role) -> &'static [(&'static str, &'static str)] {
    match role {
        Role::Reviewer => &[("/ui/reviewer", "My queue")],
        Role::Agent => &[("/ui/agent", "Find a caller")],
        Role::Subject => &[("/ui/portal", "My decisions")],
        Role::Supervisor => &[("/ui/supervisor", "Dashboard")],
        Role::Engine | Role::Dpo | Role::Admin | Role::System => &[],
    }
}

pub fn page(title: &str, viewer: Option<&Viewer>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Recourse" }
                link rel="stylesheet" href="/ui/static/app.css";
                script src="/ui/static/app.js" defer {}
            }
            body {
                a.skip-link href="#main" { "Skip to main content" }
                header.site-header {
                    div.wrap.header-row {
                        a.brand href="/ui" { "Recourse" }
                        @if let Some(v) = viewer {
                            nav aria-label="Main" {
                                ul.nav {
                                    @for (href, label) in nav_links(v.actor.role) {
                                        li { a href=(href) { (label) } }
                                    }
                                }
                            }
                            div.whoami {
                                span { "Signed in as " strong { (v.actor.id) } " (" (v.actor.role) ")" }
                                form method="post" action="/ui/logout" {
                                    input type="hidden" name="csrf" value=(v.csrf());
                                    button.link-button type="submit" { "Sign out" }
                                }
                            }
                        }
                    }
                }
                main #main .wrap tabindex="-1" {
                    (body)
                }
                footer.site-footer {
                    div.wrap {
                        p { "Recourse: human review of automated decisions (GDPR Art. 22(3))." }
                    }
                }
            }
        }
    }
}

pub fn error_page(status: StatusCode, title: &str, message: &str) -> Markup {
    page(
        title,
        None,
        html! {
            h1 { (title) }
            p.lead { (message) }
            p.muted { "Status " (status.as_u16()) "." }
            p { a href="/ui" { "Go to your start page" } }
        },
    )
}

/// "3 December 2026": the date in the controller's zone `tz`.
pub fn date(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%-d %B %Y").to_string()
}

/// "3 December 2026, 14:05 CET": the time in the controller's zone `tz`, with its abbreviation.
pub fn datetime(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%-d %B %Y, %H:%M %Z").to_string()
}

/// "in 29 days", "in 5 hours", "3 days ago".
pub fn relative(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (t - now).num_seconds();
    let (n, unit) = match secs.abs() {
        s if s < 90 => {
            return if secs >= 0 {
                "in a minute".into()
            } else {
                "just now".into()
            };
        }
        s if s < 90 * 60 => ((s + 30) / 60, "minute"),
        s if s < 36 * 3600 => ((s + 1800) / 3600, "hour"),
        s => ((s + 43_200) / 86_400, "day"),
    };
    let plural = if n == 1 { "" } else { "s" };
    if secs >= 0 {
        format!("in {n} {unit}{plural}")
    } else {
        format!("{n} {unit}{plural} ago")
    }
}

/// A deadline in words, with how far off it is, and a class for how urgent it is. A deadline
/// is the end of a day in the controller's zone `tz`, so that is the date shown.
pub fn due(t: DateTime<Utc>, now: DateTime<Utc>, tz: Tz) -> Markup {
    let left = t - now;
    let class = if left.num_seconds() < 0 {
        "due overdue"
    } else if left.num_days() < 3 {
        "due soon"
    } else {
        "due"
    };
    let words = if left.num_seconds() < 0 {
        format!("overdue since {}", relative(t, now).trim_end_matches(" ago"))
    } else {
        relative(t, now)
    };
    html! { span class=(class) { time datetime=(t.to_rfc3339()) { (date(t, tz)) } " (" (words) ")" } }
}

/// A number as people write it: no trailing zeros, at most 3 decimals.
pub fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// A feature value as text.
pub fn value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.as_f64().map(num).unwrap_or_else(|| n.to_string()),
        Value::Bool(true) => "yes".into(),
        Value::Bool(false) => "no".into(),
        Value::Null => "(none)".into(),
        other => other.to_string(),
    }
}

/// "missed_payments_12m" -> "Missed payments 12m".
pub fn humanize(name: &str) -> String {
    let spaced = name.replace(['_', '-'], " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A stable element id for a form field, from its JSON pointer.
pub fn field_id(form: &str, pointer: &str) -> String {
    let mut id = format!("{form}-");
    for c in pointer.trim_start_matches('/').chars() {
        id.push(if c.is_ascii_alphanumeric() { c } else { '-' });
    }
    id
}

/// The list of problems at the top of a form, each linking to its field (GOV.UK pattern).
pub fn error_summary(errors: &FormErrors, form: &str) -> Markup {
    let list = errors.of(form);
    html! {
        @if !list.is_empty() {
            div.error-summary role="alert" tabindex="-1" aria-labelledby=(format!("{form}-error-title")) {
                h2 id=(format!("{form}-error-title")) { "There is a problem" }
                ul {
                    @for e in list {
                        li {
                            @if e.pointer.is_empty() {
                                (e.detail)
                            } @else {
                                a href=(format!("#{}", field_id(form, &e.pointer))) { (humanize(e.pointer.trim_start_matches('/').split('/').next().unwrap_or_default())) ": " (e.detail) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The inline error messages of one field, with the id the field's `aria-describedby` names.
pub fn field_errors(errors: &FormErrors, form: &str, pointer: &str) -> Markup {
    let list = errors.at(form, pointer);
    html! {
        @if !list.is_empty() {
            p.field-error id=(format!("{}-error", field_id(form, pointer))) {
                span.visually-hidden { "Error: " }
                (list.join("; "))
            }
        }
    }
}

/// The `aria-describedby` value for a field that may have errors.
pub fn described_by(errors: &FormErrors, form: &str, pointer: &str, hint: Option<&str>) -> Option<String> {
    let mut ids = Vec::new();
    if let Some(h) = hint {
        ids.push(h.to_owned());
    }
    if !errors.at(form, pointer).is_empty() {
        ids.push(format!("{}-error", field_id(form, pointer)));
    }
    (!ids.is_empty()).then(|| ids.join(" "))
}

/// A short notice at the top of a page (after a redirect).
pub fn notice(text: Option<&str>) -> Markup {
    html! {
        @if let Some(t) = text {
            div.notice role="status" { (t) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times_read_naturally() {
        let now: DateTime<Utc> = "2026-11-29T10:00:00Z".parse().unwrap();
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert_eq!(relative(at("2026-12-29T10:00:00Z"), now), "in 30 days");
        assert_eq!(relative(at("2026-11-29T15:00:00Z"), now), "in 5 hours");
        assert_eq!(relative(at("2026-11-26T10:00:00Z"), now), "3 days ago");
        assert_eq!(relative(at("2026-11-29T10:20:00Z"), now), "in 20 minutes");
    }

    #[test]
    fn numbers_and_names_are_readable() {
        assert_eq!(num(28000.0), "28000");
        assert_eq!(num(0.41), "0.41");
        assert_eq!(num(-0.2100001), "-0.21");
        assert_eq!(humanize("missed_payments_12m"), "Missed payments 12m");
        assert_eq!(
            field_id("appeal", "/corrected_inputs/annual income"),
            "appeal-corrected-inputs-annual-income"
        );
    }
}
