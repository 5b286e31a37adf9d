//! Plain-language notice texts. They carry the deadline, the reasons and the redress routes
//! (GDPR Art. 12(4), DSA Art. 20(5)).
//!
//! Dates arrive already on the controller's calendar
//! ([`LegalCalendar::local_date`](crate::domain::legal_clock::LegalCalendar::local_date)), so a
//! deadline reads as the day it ends there, not as a UTC date.

use chrono::NaiveDate;

/// Routes to redress that every notice ends with.
pub const REDRESS: &str = "If you are not satisfied, you can complain to the data protection \
supervisory authority (for example, in the UK the Information Commissioner's Office, in the EU \
the authority of your country of residence), and you can seek a remedy before the courts. \
Using this appeal does not affect those rights.";

fn date(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

pub struct DecisionFacts<'a> {
    pub decision_type: &'a str,
    pub outcome: &'a str,
    /// The local date of the decision.
    pub decided_on: NaiveDate,
}

/// `received_on` and `due_on` are local dates; `due_on` is the last day to reply.
pub fn acknowledgement(d: &DecisionFacts<'_>, received_on: NaiveDate, due_on: NaiveDate) -> String {
    format!(
        "We received your appeal on {received} against the automated {kind} decision of {decided} \
(outcome: {outcome}). A person with the authority to change the decision will review it, \
including your statement and any corrected information you gave. We will reply by {due}. \
If we need more time, we will tell you before then, with our reasons.\n\n{REDRESS}",
        received = date(received_on),
        kind = d.decision_type.replace('_', " "),
        decided = date(d.decided_on),
        outcome = d.outcome,
        due = date(due_on),
    )
}

/// Sent before a restriction of processing is lifted (GDPR Art. 18(3)).
pub fn restriction_lift(reason: &str) -> String {
    format!(
        "We restricted the processing of your data, at your request or while a question about it \
was settled. We are now lifting that restriction, so your data will be processed again, \
including by the scoring systems that made decisions about you. Our reason: {reason}\n\n{REDRESS}"
    )
}

/// `new_due_on` is the local date of the new deadline.
pub fn extension(new_due_on: NaiveDate, months: u32, reason: &str) -> String {
    format!(
        "We need more time to review your appeal properly, so we have extended the deadline by \
{months} month{s}. We will now reply by {due}. Our reason: {reason}\n\n{REDRESS}",
        s = if months == 1 { "" } else { "s" },
        due = date(new_due_on),
    )
}

/// An outcome code as words a person reads (`approved_reduced` -> "approved reduced").
pub fn outcome_words(code: &str) -> String {
    code.split(['_', '-'])
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Who asked for the review that an outcome notice reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewCause {
    /// The subject's own appeal (or one filed for them).
    Appeal,
    /// A mandatory review because the model that decided was suspended (AI Act Art. 26(5)).
    SuspendedModel,
}

pub fn outcome(
    d: &DecisionFacts<'_>,
    cause: ReviewCause,
    result: &str,
    new_outcome: Option<&str>,
    rationale: &str,
) -> String {
    let what = match (result, new_outcome) {
        ("overturn", Some(new)) => {
            format!(
                "We have overturned the decision. The outcome is now: {}.",
                outcome_words(new)
            )
        }
        ("amend", Some(new)) => format!(
            "We have amended the decision. The outcome is now: {}.",
            outcome_words(new)
        ),
        _ => format!(
            "We have reviewed the decision and upheld it. The outcome remains: {}.",
            outcome_words(d.outcome)
        ),
    };
    let who = match cause {
        ReviewCause::Appeal => "A person has reviewed your appeal against",
        ReviewCause::SuspendedModel => {
            "The automated system that made this decision was suspended for checks, so a person has \
reviewed"
        }
    };
    format!(
        "{who} the automated {kind} decision of {decided}. \
{what}\n\nThe reviewer's reasons: {rationale}\n\n{REDRESS}",
        kind = d.decision_type.replace('_', " "),
        decided = date(d.decided_on),
    )
}

/// Art. 12(4): an appeal was not answered by its deadline.
pub fn overdue(d: &DecisionFacts<'_>, due_on: NaiveDate) -> String {
    format!(
        "We have not answered your appeal against the automated {kind} decision of {decided} by \
{due}, the date we gave you. We are sorry. It has been escalated and a person with the authority \
to change the decision will answer it as soon as possible. You do not need to do anything, and \
you need not wait for us: you have the rights below now.\n\n{REDRESS}",
        kind = d.decision_type.replace('_', " "),
        decided = date(d.decided_on),
        due = date(due_on),
    )
}

/// Art. 12(4): an appeal could not be taken because the filing window had closed.
pub fn filing_refused(d: &DecisionFacts<'_>, closed_on: NaiveDate) -> String {
    format!(
        "We could not take your appeal against the automated {kind} decision of {decided}: appeals \
against this kind of decision can be made until {closed}, and that date has passed. You can \
still ask us for a copy of your data, or to correct it, at any time.\n\n{REDRESS}",
        kind = d.decision_type.replace('_', " "),
        decided = date(d.decided_on),
        closed = date(closed_on),
    )
}

/// Art. 12(4): a rectification was rejected.
pub fn rectification_rejected(reason: &str) -> String {
    format!(
        "You asked us to correct information we hold about you. We have looked at your request and \
we are not making the correction. Our reason: {reason}\n\nIf you still think the information is \
wrong, you can send us more evidence, or ask us to add your own statement to it.\n\n{REDRESS}"
    )
}

/// Art. 12(4) and 21(1): compelling legitimate grounds override an objection to profiling.
pub fn objection_overridden(grounds: &str) -> String {
    format!(
        "You objected to the automated profiling of your data. We have considered your objection, \
and we will continue that processing because we have compelling legitimate grounds that we \
believe override your interests. Our grounds: {grounds}\n\nAn objection to direct marketing \
is always respected.\n\n{REDRESS}"
    )
}

/// One decision kept under a legal hold, as the erasure notice lists it.
pub struct Held<'a> {
    pub decision_type: &'a str,
    pub reason: &'a str,
    /// The last day it is kept.
    pub until_on: NaiveDate,
}

/// Art. 12(4) and 17(3)(b): all or part of an erasure is refused because of a legal hold.
pub fn erasure_held(held: &[Held<'_>], partly_erased: bool) -> String {
    let opening = if partly_erased {
        "We have erased the data you asked us to erase, except for the records below, which the law \
requires us to keep."
    } else {
        "You asked us to erase your data. We cannot erase the records below yet, because the law \
requires us to keep them."
    };
    let items: Vec<String> = held
        .iter()
        .map(|h| {
            format!(
                "- a {kind} decision, kept until {until} ({reason})",
                kind = h.decision_type.replace('_', " "),
                until = date(h.until_on),
                reason = h.reason,
            )
        })
        .collect();
    format!(
        "{opening}\n{items}\n\nWe keep them only for that legal obligation: they are not used for \
any other purpose, and we will erase them when the period ends.\n\n{REDRESS}",
        items = items.join("\n"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_codes_read_as_words_and_suspension_reviews_say_why() {
        assert_eq!(outcome_words("approved_reduced"), "approved reduced");
        let facts = DecisionFacts {
            decision_type: "credit_limit",
            outcome: "approved_reduced",
            decided_on: "2026-01-05".parse().unwrap(),
        };
        let upheld = outcome(&facts, ReviewCause::Appeal, "uphold", None, "reasons");
        assert!(upheld.contains("remains: approved reduced.") && !upheld.contains("approved_reduced"));
        let mandatory = outcome(&facts, ReviewCause::SuspendedModel, "uphold", None, "reasons");
        assert!(mandatory.contains("was suspended") && !mandatory.contains("your appeal"));
    }

    #[test]
    fn notices_carry_deadlines_reasons_and_redress() {
        let facts = DecisionFacts {
            decision_type: "credit_limit",
            outcome: "declined",
            decided_on: "2026-01-05".parse().unwrap(),
        };
        let ack = acknowledgement(&facts, "2026-01-31".parse().unwrap(), "2026-03-02".parse().unwrap());
        assert!(
            ack.contains("31 January 2026")
                && ack.contains("2 March 2026")
                && ack.contains("5 January 2026")
                && ack.contains("credit limit")
                && ack.contains(REDRESS)
        );
        let out = outcome(
            &facts,
            ReviewCause::Appeal,
            "overturn",
            Some("approved"),
            "Income was misread.",
        );
        assert!(
            out.contains("overturned")
                && out.contains("approved")
                && out.contains("Income was misread.")
                && out.contains("courts")
        );
        let held = erasure_held(
            &[Held {
                decision_type: "credit_limit",
                reason: "legal hold: Reg B",
                until_on: "2028-01-05".parse().unwrap(),
            }],
            true,
        );
        assert!(held.contains("5 January 2028") && held.contains("Reg B") && held.contains(REDRESS));
        let ext = extension("2026-04-28".parse().unwrap(), 2, "Awaiting bank records.");
        assert!(ext.contains("2 months") && ext.contains("28 April 2026") && ext.contains("Awaiting bank records."));
    }

    #[test]
    fn a_deadline_reads_as_the_controllers_day() {
        use crate::domain::legal_clock::LegalCalendar;
        // Due at the end of 2 March in Berlin: 22:59:59.999999 UTC, still 2 March in UTC; but
        // in New York the same end is 23:59:59 local, 04:59:59 UTC the next day.
        let new_york = LegalCalendar::new(chrono_tz::America::New_York, Default::default());
        let received: chrono::DateTime<chrono::Utc> = "2026-01-31T15:00:00Z".parse().unwrap();
        let due = new_york.due_at(received);
        assert_eq!(due.date_naive().to_string(), "2026-03-03");
        let facts = DecisionFacts {
            decision_type: "credit_limit",
            outcome: "declined",
            decided_on: new_york.local_date(received),
        };
        let ack = acknowledgement(&facts, new_york.local_date(received), new_york.local_date(due));
        assert!(ack.contains("reply by 2 March 2026"), "{ack}");
    }
}
