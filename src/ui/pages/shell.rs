//! The page shell every screen shares: head, skip link, header with navigation and sign-out,
//! footer. Also the notice shown at the top of a page after a redirect.

use maud::{DOCTYPE, Markup, html};

use crate::domain::Role;
use crate::ui::viewer::Viewer;

fn nav_links(role: Role) -> &'static [(&'static str, &'static str)] {
    match role {
        Role::Reviewer => &[("/ui/reviewer", "My queue")],
        Role::Agent => &[("/ui/agent", "Find a caller")],
        Role::Subject => &[("/ui/portal", "My decisions")],
        Role::Supervisor => &[("/ui/supervisor", "Dashboard")],
        Role::Engine | Role::Dpo | Role::Admin | Role::System => &[],
    }
}

/// A whole HTML document: `body` inside the shell. Without a `viewer` (before signing in, or
/// on an error page) the header has no navigation and no sign-out.
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

/// A short notice at the top of a page (after a redirect).
pub fn notice(text: Option<&str>) -> Markup {
    html! {
        @if let Some(t) = text {
            div.notice role="status" { (t) }
        }
    }
}
