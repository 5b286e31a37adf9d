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

pub fn outcome(d: &DecisionFacts<'_>, result: &str, new_outcome: Option<&str>, rationale: &str) -> String {
    let what = match (result, new_outcome) {
        ("overturn", Some(new)) => {
            format!("We have overturned the decision. The outcome is now: {new}.")
        }
        ("amend", Some(new)) => format!("We have amended the decision. The outcome is now: {new}."),
        _ => format!(
            "We have reviewed the decision and upheld it. The outcome remains: {}.",
            d.outcome
        ),
    };
    format!(
        "A person has reviewed your appeal against the automated {kind} decision of {decided}. \
{what}\n\nThe reviewer's reasons: {rationale}\n\n{REDRESS}",
        kind = d.decision_type.replace('_', " "),
        decided = date(d.decided_on),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let out = outcome(&facts, "overturn", Some("approved"), "Income was misread.");
        assert!(
            out.contains("overturned")
                && out.contains("approved")
                && out.contains("Income was misread.")
                && out.contains("courts")
        );
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
