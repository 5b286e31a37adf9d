//! Personal-data breaches (GDPR Art. 33/34): the life of a report and its 72-hour clock.
//!
//! suspected → confirmed → authority_notified → subjects_notified, or dismissed from suspected
//! or confirmed. The supervisory authority must be told within 72 hours of the controller
//! becoming aware; a later notification must give the reasons for the delay (Art. 33(1)).

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::fields::{Prose, SubjectId, Text};
use super::validation::{Checker, FieldError};

/// Art. 33(1): "not later than 72 hours after having become aware of it".
pub const NOTIFY_AUTHORITY_WITHIN: TimeDelta = TimeDelta::hours(72);
pub const MAX_DESCRIPTION: usize = 10_000;
pub const MAX_NOTE: usize = 4_000;
/// Most subjects one notification step may name.
pub const MAX_SUBJECTS: usize = 10_000;

/// What happened, as reported.
pub type Description = Prose<MAX_DESCRIPTION>;
/// A step's note, its delay reason and the notice to subjects.
pub type Note = Prose<MAX_NOTE>;
/// The supervisory authority's case reference.
pub type AuthorityReference = Text<200>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BreachStatus {
    Suspected,
    Confirmed,
    AuthorityNotified,
    SubjectsNotified,
    Dismissed,
}

impl BreachStatus {
    pub const ALL: [BreachStatus; 5] = [
        BreachStatus::Suspected,
        BreachStatus::Confirmed,
        BreachStatus::AuthorityNotified,
        BreachStatus::SubjectsNotified,
        BreachStatus::Dismissed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BreachStatus::Suspected => "suspected",
            BreachStatus::Confirmed => "confirmed",
            BreachStatus::AuthorityNotified => "authority_notified",
            BreachStatus::SubjectsNotified => "subjects_notified",
            BreachStatus::Dismissed => "dismissed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.as_str() == s)
    }

    /// The statuses reachable from this one.
    pub fn successors(self) -> &'static [BreachStatus] {
        match self {
            BreachStatus::Suspected => &[BreachStatus::Confirmed, BreachStatus::Dismissed],
            BreachStatus::Confirmed => &[BreachStatus::AuthorityNotified, BreachStatus::Dismissed],
            BreachStatus::AuthorityNotified => &[BreachStatus::SubjectsNotified],
            BreachStatus::SubjectsNotified | BreachStatus::Dismissed => &[],
        }
    }

    /// Whether the authority still has to be told: the clock is running.
    pub fn awaits_authority(self) -> bool {
        matches!(self, BreachStatus::Suspected | BreachStatus::Confirmed)
    }
}

/// When the supervisory authority must have been notified.
pub fn notify_by(aware_at: DateTime<Utc>) -> DateTime<Utc> {
    aware_at + NOTIFY_AUTHORITY_WITHIN
}

/// Overdue: the authority has not been told and the 72 hours have passed.
pub fn is_overdue(status: BreachStatus, aware_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    status.awaits_authority() && now > notify_by(aware_at)
}

/// A new report as received.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BreachReport {
    /// What happened, what data and how many people may be affected, as far as known.
    #[schema(value_type = Description)]
    pub description: String,
    /// When the organisation became aware; defaults to the time of the report.
    pub aware_at: Option<DateTime<Utc>>,
}

/// A checked report.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidReport {
    pub description: String,
    pub aware_at: DateTime<Utc>,
}

impl ValidReport {
    pub fn parse(report: BreachReport, now: DateTime<Utc>) -> Result<Self, Vec<FieldError>> {
        let mut c = Checker::default();
        c.check::<Description>("/description", &report.description);
        let aware_at = report.aware_at.unwrap_or(now);
        c.happened("/aware_at", aware_at, now);
        c.finish(ValidReport {
            description: report.description,
            aware_at,
        })
    }
}

/// A requested step in the register, as received.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    pub to: BreachStatus,
    /// Why, and what was done (Art. 33(5) documentation).
    #[schema(value_type = Note)]
    pub note: String,
    /// Required when the authority is notified after the 72 hours, refused before.
    #[schema(value_type = Option<Note>)]
    pub delay_reason: Option<String>,
    /// The authority's case reference, for `authority_notified` only.
    #[schema(value_type = Option<AuthorityReference>)]
    pub authority_reference: Option<String>,
    /// For `subjects_notified` only: who is told (e.g. from the audit's subjects-accessed answer).
    #[serde(default)]
    #[schema(value_type = Vec<SubjectId>, max_items = 10000)]
    pub subjects: Vec<String>,
    /// For `subjects_notified` only: the notice each subject receives (Art. 34(2): the nature of
    /// the breach, a contact point, the likely consequences and the measures taken).
    #[schema(value_type = Option<Note>)]
    pub subject_notice: Option<String>,
}

/// A checked step, ready to apply.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidTransition {
    pub from: BreachStatus,
    pub to: BreachStatus,
    pub note: String,
    pub delay_reason: Option<String>,
    pub authority_reference: Option<String>,
    pub subjects: Vec<String>,
    pub subject_notice: Option<String>,
}

/// Why a step cannot be taken.
#[derive(Debug, Clone, PartialEq)]
pub enum TransitionError {
    /// Not reachable from the current status (→ 409).
    Illegal { from: BreachStatus, to: BreachStatus },
    /// The request is incomplete or malformed (→ 422).
    Invalid(Vec<FieldError>),
}

impl ValidTransition {
    /// Checks `request` against a breach in status `from`, aware since `aware_at`.
    pub fn parse(
        request: TransitionRequest,
        from: BreachStatus,
        aware_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Self, TransitionError> {
        if !from.successors().contains(&request.to) {
            return Err(TransitionError::Illegal { from, to: request.to });
        }
        let mut c = Checker::default();
        c.check::<Note>("/note", &request.note);
        let late = request.to == BreachStatus::AuthorityNotified && now > notify_by(aware_at);
        match &request.delay_reason {
            Some(reason) => c.check::<Note>("/delay_reason", reason),
            None if late => c.fail(
                "/delay_reason",
                "the 72 hours have passed: notifying the authority now requires the reasons for the delay (GDPR Art. 33(1))",
            ),
            None => {}
        }
        if request.delay_reason.is_some() && !late {
            c.fail(
                "/delay_reason",
                "only a notification after the 72 hours has a delay to explain",
            );
        }
        match (&request.authority_reference, request.to) {
            (Some(reference), BreachStatus::AuthorityNotified) => {
                c.check::<AuthorityReference>("/authority_reference", reference)
            }
            (Some(_), _) => c.fail("/authority_reference", "belongs only to the authority_notified step"),
            (None, _) => {}
        }
        if request.to == BreachStatus::SubjectsNotified {
            if request.subjects.is_empty() || request.subjects.len() > MAX_SUBJECTS {
                c.fail(
                    "/subjects",
                    format!("name between 1 and {MAX_SUBJECTS} subjects to notify"),
                );
            }
            for (i, subject) in request.subjects.iter().enumerate() {
                c.check::<SubjectId>(&format!("/subjects/{i}"), subject);
            }
            match &request.subject_notice {
                Some(notice) => c.check::<Note>("/subject_notice", notice),
                None => c.fail(
                    "/subject_notice",
                    "the notice the subjects receive is required (GDPR Art. 34(2))",
                ),
            }
        } else {
            if !request.subjects.is_empty() {
                c.fail("/subjects", "belongs only to the subjects_notified step");
            }
            if request.subject_notice.is_some() {
                c.fail("/subject_notice", "belongs only to the subjects_notified step");
            }
        }
        let mut subjects = request.subjects;
        subjects.sort();
        subjects.dedup();
        c.finish(ValidTransition {
            from,
            to: request.to,
            note: request.note,
            delay_reason: request.delay_reason,
            authority_reference: request.authority_reference,
            subjects,
            subject_notice: request.subject_notice,
        })
        .map_err(TransitionError::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn request(to: BreachStatus) -> TransitionRequest {
        TransitionRequest {
            to,
            note: "Confirmed with the infrastructure team".into(),
            delay_reason: None,
            authority_reference: None,
            subjects: vec![],
            subject_notice: None,
        }
    }

    #[test]
    fn the_clock_is_72_hours_from_awareness() {
        let aware = at("2026-11-27T10:00:00Z");
        assert_eq!(notify_by(aware), at("2026-11-30T10:00:00Z"));
        assert!(!is_overdue(BreachStatus::Suspected, aware, at("2026-11-30T10:00:00Z")));
        assert!(is_overdue(BreachStatus::Suspected, aware, at("2026-11-30T10:00:01Z")));
        assert!(is_overdue(BreachStatus::Confirmed, aware, at("2026-12-01T00:00:00Z")));
        for done in [
            BreachStatus::AuthorityNotified,
            BreachStatus::SubjectsNotified,
            BreachStatus::Dismissed,
        ] {
            assert!(!is_overdue(done, aware, at("2027-01-01T00:00:00Z")), "{done:?}");
        }
    }

    #[test]
    fn only_the_documented_steps_are_legal() {
        use BreachStatus::*;
        let legal = [
            (Suspected, Confirmed),
            (Suspected, Dismissed),
            (Confirmed, AuthorityNotified),
            (Confirmed, Dismissed),
            (AuthorityNotified, SubjectsNotified),
        ];
        for from in BreachStatus::ALL {
            for to in BreachStatus::ALL {
                assert_eq!(
                    from.successors().contains(&to),
                    legal.contains(&(from, to)),
                    "{from:?} → {to:?}"
                );
            }
        }
        let now = at("2026-11-29T00:00:00Z");
        assert_eq!(
            ValidTransition::parse(request(SubjectsNotified), Confirmed, now, now),
            Err(TransitionError::Illegal {
                from: Confirmed,
                to: SubjectsNotified
            })
        );
    }

    #[test]
    fn a_late_notification_must_explain_the_delay() {
        let aware = at("2026-11-20T00:00:00Z");
        let now = at("2026-11-29T00:00:00Z");
        let err = ValidTransition::parse(
            request(BreachStatus::AuthorityNotified),
            BreachStatus::Confirmed,
            aware,
            now,
        )
        .unwrap_err();
        let TransitionError::Invalid(errors) = err else {
            panic!("{err:?}")
        };
        assert_eq!(errors[0].pointer, "/delay_reason");
        let mut explained = request(BreachStatus::AuthorityNotified);
        explained.delay_reason = Some("The processor told us only on day five".into());
        assert!(ValidTransition::parse(explained.clone(), BreachStatus::Confirmed, aware, now).is_ok());
        // In time, there is no delay to explain.
        assert!(ValidTransition::parse(explained, BreachStatus::Confirmed, now, now).is_err());
    }

    #[test]
    fn notifying_subjects_needs_who_and_what() {
        let now = at("2026-11-29T00:00:00Z");
        let bare = request(BreachStatus::SubjectsNotified);
        let Err(TransitionError::Invalid(errors)) =
            ValidTransition::parse(bare.clone(), BreachStatus::AuthorityNotified, now, now)
        else {
            panic!("expected validation errors")
        };
        let pointers: Vec<&str> = errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(pointers, ["/subjects", "/subject_notice"]);
        let mut full = bare;
        full.subjects = vec!["cust-2".into(), "cust-1".into(), "cust-2".into()];
        full.subject_notice = Some("Your case file was read by an unauthorised person.".into());
        let ok = ValidTransition::parse(full, BreachStatus::AuthorityNotified, now, now).unwrap();
        assert_eq!(ok.subjects, ["cust-1", "cust-2"]);
    }

    #[test]
    fn a_report_cannot_be_aware_in_the_future() {
        let now = at("2026-11-29T00:00:00Z");
        let report = |aware_at| BreachReport {
            description: "A laptop with exports was stolen".into(),
            aware_at,
        };
        assert_eq!(ValidReport::parse(report(None), now).unwrap().aware_at, now);
        assert!(ValidReport::parse(report(Some(at("2026-11-29T01:00:00Z"))), now).is_err());
        assert!(ValidReport::parse(report(Some(at("2026-11-28T01:00:00Z"))), now).is_ok());
    }
}
