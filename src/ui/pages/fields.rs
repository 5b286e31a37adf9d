//! Form-field markup shared by every form: element ids from JSON pointers, the error summary at
//! the top of a form and the inline errors beside each field (the GOV.UK pattern).

use maud::{Markup, html};

use crate::ui::forms::errors::FormErrors;
use crate::ui::words::humanize;

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
