//! The appeal form of a decision's screen, for an agent filing for a caller or a subject filing
//! for themselves.

use maud::{Markup, html};

use super::fields::{described_by, error_summary, field_errors, field_id};
use super::format;
use crate::decisions::model::Decision;
use crate::domain::appeal::Channel;
use crate::ui::audience::Filer;
use crate::ui::forms::appeal::AppealForm;
use crate::ui::forms::errors::FormErrors;
use crate::ui::words;
use crate::ui::words::humanize;

const FORM: &str = "appeal";

/// The appeal form. Agents also record the channel and how they checked the caller's identity.
pub fn appeal_form(filer: Filer, csrf: &str, d: &Decision, state: &AppealForm, errors: &FormErrors) -> Markup {
    let by_agent = filer == Filer::Agent;
    let action = format!("{}/appeals", filer.decision_path(&d.id));
    let err = |p: &str| field_errors(errors, FORM, p);
    let has = |p: &str| !errors.at(FORM, p).is_empty();
    html! {
        (error_summary(errors, FORM))
        form.stack method="post" action=(action) novalidate {
            input type="hidden" name="csrf" value=(csrf);
            @if by_agent {
                div.field.error[has("/channel")] {
                    label for=(field_id(FORM, "/channel")) { "How did the caller contact us?" }
                    (err("/channel"))
                    select id=(field_id(FORM, "/channel")) name="channel" aria-describedby=[described_by(errors, FORM, "/channel", None)] {
                        @for c in words::CHANNELS {
                            option value=(c.as_str()) selected[state.channel == c.as_str() || (state.channel.is_empty() && c == Channel::Phone)] { (words::channel_label(c)) }
                        }
                    }
                }
                fieldset.field.error[has("/identity_check")] id=(field_id(FORM, "/identity_check")) {
                    legend { "Identity check" }
                    p.hint { "Check who the caller is before you file for them. Only a verified caller can appeal." }
                    (err("/identity_check"))
                    label for="identity_method" { "How did you check?" }
                    select #identity_method name="identity_method" {
                        option value="" { "Choose a method" }
                        @for m in ["Security questions", "One-time code to the registered phone", "Account number and date of birth", "Photo ID in branch"] {
                            option value=(m) selected[state.id_method == m] { (m) }
                        }
                    }
                    div.radios role="radiogroup" aria-label="Result of the identity check" {
                        @for (value, label) in [("verified", "Verified"), ("failed", "Failed"), ("inconclusive", "Inconclusive")] {
                            div.radio {
                                input type="radio" id=(format!("identity-{value}")) name="identity_result" value=(value) checked[state.id_result == value];
                                label for=(format!("identity-{value}")) { (label) }
                            }
                        }
                    }
                }
            }
            fieldset.field.error[has("/grounds")] id=(field_id(FORM, "/grounds")) {
                legend { "Why is the decision wrong?" }
                p.hint { "Choose all that apply." }
                (err("/grounds"))
                @for g in words::GROUNDS {
                    @let v = words::ground_value(g);
                    div.checkbox {
                        input type="checkbox" id=(format!("ground-{v}")) name="grounds" value=(v) checked[state.grounds.iter().any(|s| s == v)];
                        label for=(format!("ground-{v}")) { (words::ground_label(g)) }
                    }
                }
            }
            div.field.error[has("/statement")] {
                label for=(field_id(FORM, "/statement")) { @if by_agent { "The caller's account, in their words" } @else { "Your side of the story" } }
                p.hint id="statement-hint" { "A person will read this. Say what is wrong and what you would like to happen." }
                (err("/statement"))
                textarea id=(field_id(FORM, "/statement")) name="statement" rows="6"
                    aria-describedby=[described_by(errors, FORM, "/statement", Some("statement-hint"))] { (state.statement) }
            }
            fieldset.field.error[has("/corrected_inputs")] id=(field_id(FORM, "/corrected_inputs")) {
                legend { "Correct any information that was wrong" }
                p.hint { "Leave a box empty if the value is right." }
                (err("/corrected_inputs"))
                table.data.inputs-form {
                    thead { tr { th scope="col" { "Information" } th scope="col" { "Value used" } th scope="col" { "Correct value" } } }
                    tbody {
                        @for (name, v) in &d.explanation.inputs {
                            @let id = field_id("correct", &format!("/{name}"));
                            tr {
                                th scope="row" { label for=(id) { (humanize(name)) } }
                                td { (format::value(v)) }
                                td { input type="text" id=(id) name=(format!("correct.{name}")) value=(state.corrections.get(name).map(String::as_str).unwrap_or_default()); }
                            }
                        }
                    }
                }
            }
            div.field.error[has("/requested_outcome")] {
                label for=(field_id(FORM, "/requested_outcome")) { "What outcome is being asked for? (optional)" }
                (err("/requested_outcome"))
                input type="text" id=(field_id(FORM, "/requested_outcome")) name="requested_outcome" value=(state.requested_outcome);
            }
            button.button type="submit" { @if by_agent { "File the appeal for the caller" } @else { "Send my appeal" } }
        }
    }
}
