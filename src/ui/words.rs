//! Plain words for statuses, grounds, outcomes and field names: what a subject reads and an agent
//! reads out. Also the form values of grounds and channels, which the forms parse back.

use crate::appeals::model::OutcomeView;
use crate::domain::appeal::{AppealStatus, Channel, Ground};
use crate::domain::decision::DecisionStatus;

pub const GROUNDS: [Ground; 5] = [
    Ground::InaccurateData,
    Ground::WrongLogic,
    Ground::ChangedCircumstances,
    Ground::NotSolelyAutomatedReview,
    Ground::Other,
];

pub fn ground_value(g: Ground) -> &'static str {
    match g {
        Ground::InaccurateData => "inaccurate_data",
        Ground::WrongLogic => "wrong_logic",
        Ground::ChangedCircumstances => "changed_circumstances",
        Ground::NotSolelyAutomatedReview => "not_solely_automated_review",
        Ground::Other => "other",
    }
}

pub fn parse_ground(s: &str) -> Option<Ground> {
    GROUNDS.into_iter().find(|g| ground_value(*g) == s)
}

/// How a subject would say it.
pub fn ground_label(g: Ground) -> &'static str {
    match g {
        Ground::InaccurateData => "Some of the information used about me was wrong",
        Ground::WrongLogic => "The reasoning does not fit my situation",
        Ground::ChangedCircumstances => "My circumstances have changed",
        Ground::NotSolelyAutomatedReview => "I want a person, not only a computer, to decide",
        Ground::Other => "Another reason (explain below)",
    }
}

pub const CHANNELS: [Channel; 5] = [
    Channel::Phone,
    Channel::Email,
    Channel::Letter,
    Channel::Web,
    Channel::Api,
];

pub fn parse_channel(s: &str) -> Option<Channel> {
    CHANNELS.into_iter().find(|c| c.as_str() == s)
}

pub fn channel_label(c: Channel) -> &'static str {
    match c {
        Channel::Phone => "Phone call",
        Channel::Email => "Email",
        Channel::Letter => "Letter",
        Channel::Web => "Web",
        Channel::Api => "Another system (API)",
    }
}

/// An appeal's status as the subject reads it, and as an agent can say it.
pub fn appeal_status(s: AppealStatus) -> &'static str {
    match s {
        AppealStatus::Queued => "Received, waiting for a reviewer",
        AppealStatus::InReview => "A reviewer is looking at it now",
        AppealStatus::AwaitingApproval => "Reviewed; a second person is checking the result",
        AppealStatus::Decided => "Decided",
        AppealStatus::Withdrawn => "Withdrawn",
    }
}

/// The status as a sentence an agent reads out ("It is waiting for a reviewer.").
pub fn appeal_status_said(s: AppealStatus) -> &'static str {
    match s {
        AppealStatus::Queued => "It is waiting for a reviewer.",
        AppealStatus::InReview => "A reviewer is looking at it now.",
        AppealStatus::AwaitingApproval => "It has been reviewed, and a second person is checking the result.",
        AppealStatus::Decided => "It has been decided.",
        AppealStatus::Withdrawn => "It was withdrawn.",
    }
}

pub fn appeal_status_class(s: AppealStatus) -> &'static str {
    match s {
        AppealStatus::Queued => "tag tag-waiting",
        AppealStatus::InReview | AppealStatus::AwaitingApproval => "tag tag-progress",
        AppealStatus::Decided => "tag tag-done",
        AppealStatus::Withdrawn => "tag tag-muted",
    }
}

pub fn decision_status(s: DecisionStatus) -> &'static str {
    match s {
        DecisionStatus::Effective => "In force",
        DecisionStatus::UnderAppeal => "Under appeal",
        DecisionStatus::Upheld => "Upheld after a human review",
        DecisionStatus::Overturned => "Overturned after a human review",
        DecisionStatus::Amended => "Amended after a human review",
    }
}

/// The result of a review in one sentence.
pub fn outcome_sentence(o: &OutcomeView, original: &str) -> String {
    match (o.result.as_str(), o.new_outcome.as_deref()) {
        ("overturn", Some(new)) => format!("The decision was overturned. The outcome is now: {new}."),
        ("amend", Some(new)) => format!("The decision was amended. The outcome is now: {new}."),
        _ => format!("The decision was upheld. The outcome stays: {original}."),
    }
}

pub fn review_outcome_label(s: &str) -> &'static str {
    match s {
        "uphold" => "Uphold",
        "overturn" => "Overturn",
        "amend" => "Amend",
        _ => "Unknown",
    }
}

/// A decision type as a heading says it: "credit_limit" -> "Credit limit".
pub fn kind_label(decision_type: &str) -> String {
    humanize(decision_type)
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
