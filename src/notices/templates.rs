//! Plain-language notice texts. They carry the deadline, the reasons and the redress routes
//! (GDPR Art. 12(4), DSA Art. 20(5)).

use chrono::{DateTime, Utc};

/// Routes to redress that every notice ends with.
pub const REDRESS: &str = "If you are not satisfied, you can complain to the data protection \
supervisory authority (for example, in the UK the Information Commissioner's Office, in the EU \
the authority of your country of residence), and you can seek a remedy before the courts. \
Using this appeal does not affect those rights.";

fn date(t: DateTime<Utc>) -> String {
    t.format("%-d %B %Y").to_string()
}

pub struct DecisionFacts<'a> {
    pub decision_type: &'a str,
    pub outcome: &'a str,
    pub decided_at: DateTime<Utc>,
}

pub fn acknowledgement(d: &DecisionFacts<'_>, received_at: DateTime<Utc>, due_at: DateTime<Utc>) -> String {
    format!(
        "We received your appeal on {received} against the automated {kind} decision of {decided} \
(outcome: {outcome}). A person with the authority to change the decision will review it, \
including your statement and any corrected information you gave. We will reply by {due}. \
If we need more time, we will tell you before then, with our reasons.\n\n{REDRESS}",
        received = date(received_at),
        kind = d.decision_type.replace('_', " "),
        decided = date(d.decided_at),
        outcome = d.outcome,
        due = date(due_at),
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

pub fn extension(new_due_at: DateTime<Utc>, months: u32, reason: &str) -> String {
    format!(
        "We need more time to review your appeal properly, so we have extended the deadline by \
{months} month{s}. We will now reply by {due}. Our reason: {reason}\n\n{REDRESS}",
        s = if months == 1 { "" } else { "s" },
        due = date(new_due_at),
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
        decided = date(d.decided_at),
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
            decided_at: "2026-01-05T00:00:00Z".parse().unwrap(),
        };
        let ack = acknowledgement(
            &facts,
            "2026-01-31T10:00:00Z".parse().unwrap(),
            "2026-02-28T10:00:00Z".parse().unwrap(),
        );
        assert!(ack.contains("28 February 2026") && ack.contains("credit limit") && ack.contains(REDRESS));
        let out = outcome(&facts, "overturn", Some("approved"), "Income was misread.");
        assert!(
            out.contains("overturned")
                && out.contains("approved")
                && out.contains("Income was misread.")
                && out.contains("courts")
        );
        let ext = extension("2026-04-30T10:00:00Z".parse().unwrap(), 2, "Awaiting bank records.");
        assert!(ext.contains("2 months") && ext.contains("30 April 2026") && ext.contains("Awaiting bank records."));
    }
}
