//! The legal clock (GDPR Art. 12(3)): answer within one calendar month of receipt, extendable
//! once by up to two further months, before the deadline and with reasons. Where the target
//! month has no such day, the deadline is that month's last day (31 Jan -> 28/29 Feb).

use chrono::{DateTime, Months, Utc};

/// DSA Art. 20 keeps complaint systems open for at least six months after the decision.
pub const DEFAULT_FILING_WINDOW_MONTHS: u32 = 6;
pub const RESPONSE_MONTHS: u32 = 1;
pub const MAX_EXTENSION_MONTHS: u32 = 2;

/// `t` plus `months` calendar months, clamped to the last day of a shorter month.
pub fn add_months(t: DateTime<Utc>, months: u32) -> DateTime<Utc> {
    // chrono clamps the day of month; it fails only past year 262,143.
    t.checked_add_months(Months::new(months))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// When the answer to an appeal received at `received_at` is due.
pub fn due_at(received_at: DateTime<Utc>) -> DateTime<Utc> {
    add_months(received_at, RESPONSE_MONTHS)
}

/// Whether an appeal filed `now` is inside the filing window of a decision made at `decided_at`.
pub fn within_filing_window(decided_at: DateTime<Utc>, window_months: u32, now: DateTime<Utc>) -> bool {
    now <= add_months(decided_at, window_months)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtensionError {
    #[error("the deadline has already been extended once")]
    AlreadyExtended,
    #[error("the deadline has passed; an extension must be made before it")]
    PastDue,
    #[error("an extension is 1 or 2 months")]
    InvalidLength,
}

/// The new deadline after extending by `months` (1 or 2). Counted from receipt, so the
/// end-of-month rule applies to the whole period: received 31 Jan + 1 + 2 months -> 30 Apr.
pub fn extend(
    received_at: DateTime<Utc>,
    due_at: DateTime<Utc>,
    now: DateTime<Utc>,
    months: u32,
    already_extended: bool,
) -> Result<DateTime<Utc>, ExtensionError> {
    if !(1..=MAX_EXTENSION_MONTHS).contains(&months) {
        return Err(ExtensionError::InvalidLength);
    }
    if already_extended {
        return Err(ExtensionError::AlreadyExtended);
    }
    if now >= due_at {
        return Err(ExtensionError::PastDue);
    }
    Ok(add_months(received_at, RESPONSE_MONTHS + months))
}

/// How far along the clock is: 0.0 at receipt, 1.0 at the deadline, more when overdue.
pub fn elapsed_fraction(received_at: DateTime<Utc>, due_at: DateTime<Utc>, now: DateTime<Utc>) -> f64 {
    let total = (due_at - received_at).num_milliseconds();
    if total <= 0 {
        return f64::INFINITY;
    }
    (now - received_at).num_milliseconds() as f64 / total as f64
}

/// Escalation steps as the deadline nears: 1 at half the clock, 2 at 80%, 3 when overdue.
pub fn escalation_level(received_at: DateTime<Utc>, due_at: DateTime<Utc>, now: DateTime<Utc>) -> i32 {
    let fraction = elapsed_fraction(received_at, due_at, now);
    if fraction >= 1.0 {
        3
    } else if fraction >= 0.8 {
        2
    } else if fraction >= 0.5 {
        1
    } else {
        0
    }
}

/// When an appeal at `level` should next be escalated: the 50% mark, the 80% mark, the
/// deadline itself, then never.
pub fn next_escalation_at(received_at: DateTime<Utc>, due_at: DateTime<Utc>, level: i32) -> Option<DateTime<Utc>> {
    let span = due_at - received_at;
    match level {
        0 => Some(received_at + span / 2),
        1 => Some(received_at + span * 4 / 5),
        2 => Some(due_at),
        _ => None,
    }
}

/// Priority added when an appeal reaches an escalation level.
pub fn escalation_bump(level: i32) -> i32 {
    match level {
        1 | 2 => 10,
        3 => 50,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn one_calendar_month_in_an_ordinary_month() {
        assert_eq!(due_at(t("2026-03-15T09:30:00Z")), t("2026-04-15T09:30:00Z"));
        assert_eq!(due_at(t("2026-12-20T00:00:00Z")), t("2027-01-20T00:00:00Z"));
    }

    #[test]
    fn month_ends_clamp_to_the_last_day() {
        assert_eq!(due_at(t("2026-01-31T12:00:00Z")), t("2026-02-28T12:00:00Z"));
        assert_eq!(due_at(t("2026-03-31T12:00:00Z")), t("2026-04-30T12:00:00Z"));
        assert_eq!(due_at(t("2026-08-31T12:00:00Z")), t("2026-09-30T12:00:00Z"));
        assert_eq!(due_at(t("2026-01-30T12:00:00Z")), t("2026-02-28T12:00:00Z"));
    }

    #[test]
    fn leap_years_have_a_29th_of_february() {
        assert_eq!(due_at(t("2028-01-31T12:00:00Z")), t("2028-02-29T12:00:00Z"));
        assert_eq!(due_at(t("2028-01-29T12:00:00Z")), t("2028-02-29T12:00:00Z"));
        assert_eq!(due_at(t("2028-02-29T12:00:00Z")), t("2028-03-29T12:00:00Z"));
        assert_eq!(due_at(t("2100-01-31T12:00:00Z")), t("2100-02-28T12:00:00Z"));
    }

    #[test]
    fn an_extension_counts_from_receipt() {
        let received = t("2026-01-31T12:00:00Z");
        let due = due_at(received);
        let now = t("2026-02-10T00:00:00Z");
        assert_eq!(extend(received, due, now, 2, false), Ok(t("2026-04-30T12:00:00Z")));
        assert_eq!(extend(received, due, now, 1, false), Ok(t("2026-03-31T12:00:00Z")));
    }

    #[test]
    fn an_extension_after_the_deadline_is_refused() {
        let received = t("2026-01-10T00:00:00Z");
        let due = due_at(received);
        assert_eq!(extend(received, due, due, 1, false), Err(ExtensionError::PastDue));
        assert_eq!(
            extend(received, due, t("2026-03-01T00:00:00Z"), 2, false),
            Err(ExtensionError::PastDue)
        );
    }

    #[test]
    fn a_second_extension_is_refused_and_lengths_are_bounded() {
        let received = t("2026-01-10T00:00:00Z");
        let due = due_at(received);
        let now = t("2026-01-20T00:00:00Z");
        assert_eq!(
            extend(received, due, now, 1, true),
            Err(ExtensionError::AlreadyExtended)
        );
        assert_eq!(extend(received, due, now, 0, false), Err(ExtensionError::InvalidLength));
        assert_eq!(extend(received, due, now, 3, false), Err(ExtensionError::InvalidLength));
    }

    #[test]
    fn the_filing_window_is_inclusive_of_its_last_day() {
        let decided = t("2026-08-31T10:00:00Z");
        assert!(within_filing_window(decided, 6, t("2027-02-28T10:00:00Z")));
        assert!(!within_filing_window(decided, 6, t("2027-02-28T10:00:01Z")));
    }

    #[test]
    fn the_next_escalation_time_agrees_with_the_levels() {
        let received = t("2026-04-01T00:00:00Z");
        let due = due_at(received);
        let mut level = 0;
        while let Some(at) = next_escalation_at(received, due, level) {
            assert_eq!(escalation_level(received, due, at), level + 1);
            level += 1;
        }
        assert_eq!(level, 3);
    }

    #[test]
    fn escalation_steps_at_half_eighty_percent_and_overdue() {
        let received = t("2026-04-01T00:00:00Z");
        let due = due_at(received); // 30 days later
        assert_eq!(escalation_level(received, due, t("2026-04-10T00:00:00Z")), 0);
        assert_eq!(escalation_level(received, due, t("2026-04-16T00:00:00Z")), 1);
        assert_eq!(escalation_level(received, due, t("2026-04-25T00:00:00Z")), 2);
        assert_eq!(escalation_level(received, due, due), 3);
    }
}
