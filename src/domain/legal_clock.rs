//! The legal clock (GDPR Art. 12(3)): answer within one month of receipt, extendable once by up
//! to two further months, before the deadline and with reasons.
//!
//! Periods are counted as EU Regulation 1182/71 counts them, which is how the EDPB reads
//! Art. 12(3) (see [`LegalCalendar`]): in the controller's days, not in UTC instants.

use std::collections::BTreeSet;

use chrono::offset::LocalResult;
use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveTime, Offset, TimeDelta, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

/// DSA Art. 20 keeps complaint systems open for at least six months after the decision.
pub const DEFAULT_FILING_WINDOW_MONTHS: u32 = 6;
pub const RESPONSE_MONTHS: u32 = 1;
pub const MAX_EXTENSION_MONTHS: u32 = 2;

/// `t` plus `months` calendar months to the same instant, clamped to the last day of a shorter
/// month. For storage periods (retention), not for the periods a person is owed: those are
/// counted by [`LegalCalendar`].
pub fn add_months(t: DateTime<Utc>, months: u32) -> DateTime<Utc> {
    // chrono clamps the day of month; it fails only past year 262,143.
    t.checked_add_months(Months::new(months))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The day on which a period of `months` months that runs from `start` ends, before any move
/// past a weekend or holiday: the day of the last month with the same date as `start`, or that
/// month's last day when it has no such date (31 Jan + 1 month -> 28/29 Feb).
pub fn period_end(start: NaiveDate, months: u32) -> NaiveDate {
    start.checked_add_months(Months::new(months)).unwrap_or(NaiveDate::MAX)
}

/// The controller's legal calendar: its time zone and its public holidays.
///
/// Rules (Regulation 1182/71 Art. 3, as the EDPB applies them to Art. 12(3)):
/// - the period runs from the *local date* of receipt in the controller's zone;
/// - a period of N months ends at the end of the day of the last month with the same date as the
///   day of receipt, or at the end of that month's last day when it has no such date;
/// - an end on a Saturday, Sunday or public holiday moves to the end of the next working day;
/// - "the end of the day" is stored as an instant: the next local midnight minus 1 µs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegalCalendar {
    zone: Tz,
    holidays: BTreeSet<NaiveDate>,
}

impl Default for LegalCalendar {
    /// UTC with no holidays (weekends still move an end).
    fn default() -> Self {
        Self::new(Tz::UTC, BTreeSet::new())
    }
}

/// One microsecond, the resolution of stored times on both backends.
const MICROSECOND: TimeDelta = TimeDelta::microseconds(1);

impl LegalCalendar {
    pub fn new(zone: Tz, holidays: BTreeSet<NaiveDate>) -> Self {
        Self { zone, holidays }
    }

    pub fn zone(&self) -> Tz {
        self.zone
    }

    pub fn holidays(&self) -> &BTreeSet<NaiveDate> {
        &self.holidays
    }

    /// The date of `t` on the controller's calendar: the date a person would expect to read
    /// (23:30 UTC on 30 January is 31 January in Berlin).
    pub fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        // Not `with_timezone`, which panics at the ends of chrono's range.
        let offset = self.zone.offset_from_utc_datetime(&t.naive_utc()).fix();
        t.naive_utc()
            .checked_add_offset(offset)
            .map_or(t.date_naive(), |local| local.date())
    }

    /// Neither a Saturday, a Sunday nor a configured public holiday.
    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && !self.holidays.contains(&d)
    }

    /// `d` if it is a working day, else the next working day.
    pub fn next_working_day(&self, d: NaiveDate) -> NaiveDate {
        let mut day = d;
        // Ends: the holiday set is finite, and weekends are two days in seven.
        while !self.is_working_day(day) {
            match day.succ_opt() {
                Some(next) => day = next,
                None => return day,
            }
        }
        day
    }

    /// The first instant of local day `d`: local midnight, or the earlier of two midnights
    /// in an overlap, or, where midnight falls in a gap (clocks jump forward at 00:00), the
    /// first instant that exists after it.
    fn start_of_day(&self, d: NaiveDate) -> Option<DateTime<Utc>> {
        let midnight = d.and_time(NaiveTime::MIN);
        // Gaps last an hour, rarely a whole day (Samoa, 30 Dec 2011); two days bounds the walk.
        for minutes in 0..=2 * 24 * 60 {
            let local = midnight.checked_add_signed(TimeDelta::minutes(minutes))?;
            match self.zone.from_local_datetime(&local) {
                LocalResult::Single(t) => return Some(t.with_timezone(&Utc)),
                LocalResult::Ambiguous(earliest, _) => return Some(earliest.with_timezone(&Utc)),
                LocalResult::None => {}
            }
        }
        None
    }

    /// The last instant of local day `d`: the next local midnight minus one microsecond.
    pub fn end_of_day(&self, d: NaiveDate) -> DateTime<Utc> {
        d.succ_opt()
            .and_then(|next| self.start_of_day(next))
            .map_or(DateTime::<Utc>::MAX_UTC, |t| t - MICROSECOND)
    }

    /// The end of a period of `months` months running from local day `start`, moved past
    /// weekends and holidays, as an instant.
    fn period_end_at(&self, start: NaiveDate, months: u32) -> DateTime<Utc> {
        self.end_of_day(self.next_working_day(period_end(start, months)))
    }

    /// The local day on which the answer to a request received at `received_at` is due.
    pub fn due_on(&self, received_at: DateTime<Utc>) -> NaiveDate {
        self.next_working_day(period_end(self.local_date(received_at), RESPONSE_MONTHS))
    }

    /// When the answer to a request received at `received_at` is due: the end of [`Self::due_on`].
    pub fn due_at(&self, received_at: DateTime<Utc>) -> DateTime<Utc> {
        self.period_end_at(self.local_date(received_at), RESPONSE_MONTHS)
    }

    /// The new deadline after extending by `months` (1 or 2), once, before `due_at`.
    ///
    /// Art. 12(3) adds the further months to the original period: its end date (before any
    /// move past a weekend or holiday) plus `months`, then moved past weekends and holidays.
    /// Received 31 Jan 2026: the period ends 28 Feb, so + 2 months ends 28 Apr, not 30 Apr as
    /// receipt + 3 months would give. The earlier of the two counts is taken.
    pub fn extend(
        &self,
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
        let received_on = self.local_date(received_at);
        let from_original_end = period_end(period_end(received_on, RESPONSE_MONTHS), months);
        let from_receipt = period_end(received_on, RESPONSE_MONTHS + months);
        let end = from_original_end.min(from_receipt);
        Ok(self.end_of_day(self.next_working_day(end)))
    }

    /// When the window for contesting a decision made at `decided_at` closes: the end of the
    /// matching local day `window_months` later, moved past weekends and holidays (in the
    /// person's favour).
    pub fn filing_window_closes_at(&self, decided_at: DateTime<Utc>, window_months: u32) -> DateTime<Utc> {
        self.period_end_at(self.local_date(decided_at), window_months)
    }

    /// Whether a filing at `now` is inside the window of a decision made at `decided_at`.
    pub fn within_filing_window(&self, decided_at: DateTime<Utc>, window_months: u32, now: DateTime<Utc>) -> bool {
        now <= self.filing_window_closes_at(decided_at, window_months)
    }
}

/// A line of a holiday file that is not a date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct HolidayLineError {
    /// 1-based.
    pub line: usize,
    pub message: String,
}

/// Parses a holiday file: one `YYYY-MM-DD` date per line; blank lines and `#` comments (whole
/// lines or after a date) are allowed. The first bad line fails the whole file.
pub fn parse_holidays(text: &str) -> Result<BTreeSet<NaiveDate>, HolidayLineError> {
    let mut dates = BTreeSet::new();
    for (i, raw) in text.trim_start_matches('\u{feff}').lines().enumerate() {
        let line = raw.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let shaped = line.len() == 10
            && line.bytes().enumerate().all(|(j, b)| {
                if j == 4 || j == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            });
        let date = shaped
            .then(|| NaiveDate::parse_from_str(line, "%Y-%m-%d").ok())
            .flatten()
            .ok_or_else(|| HolidayLineError {
                line: i + 1,
                message: format!("{line:?} is not a date written YYYY-MM-DD"),
            })?;
        dates.insert(date);
    }
    Ok(dates)
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

/// A span in nanoseconds, so that [`next_escalation_at`]'s marks land exactly on the levels
/// with deadlines that end at a day's last microsecond.
fn nanos(d: TimeDelta) -> f64 {
    d.num_nanoseconds()
        .map_or_else(|| d.num_milliseconds() as f64 * 1e6, |n| n as f64)
}

/// How far along the clock is: 0.0 at receipt, 1.0 at the deadline, more when overdue.
pub fn elapsed_fraction(received_at: DateTime<Utc>, due_at: DateTime<Utc>, now: DateTime<Utc>) -> f64 {
    let total = nanos(due_at - received_at);
    if total <= 0.0 {
        return f64::INFINITY;
    }
    nanos(now - received_at) / total
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

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn utc() -> LegalCalendar {
        LegalCalendar::default()
    }

    fn berlin() -> LegalCalendar {
        LegalCalendar::new(chrono_tz::Europe::Berlin, BTreeSet::new())
    }

    fn with_holidays(zone: Tz, days: &[&str]) -> LegalCalendar {
        LegalCalendar::new(zone, days.iter().map(|s| d(s)).collect())
    }

    /// The last microsecond of `date` in UTC.
    fn end_utc(date: &str) -> DateTime<Utc> {
        t(&format!("{date}T23:59:59.999999Z"))
    }

    #[test]
    fn one_month_ends_at_the_end_of_the_matching_day() {
        // Wed 15 Apr 2026; the time of receipt does not matter, only its date.
        assert_eq!(utc().due_at(t("2026-03-15T09:30:00Z")), end_utc("2026-04-15"));
        assert_eq!(utc().due_at(t("2026-03-15T00:00:00Z")), end_utc("2026-04-15"));
        assert_eq!(utc().due_at(t("2026-03-15T23:59:59Z")), end_utc("2026-04-15"));
        // Wed 20 Jan 2027, across a year end.
        assert_eq!(utc().due_at(t("2026-12-20T00:00:00Z")), end_utc("2027-01-20"));
    }

    #[test]
    fn month_ends_clamp_to_the_last_day() {
        assert_eq!(period_end(d("2026-01-31"), 1), d("2026-02-28"));
        assert_eq!(period_end(d("2026-03-31"), 1), d("2026-04-30"));
        assert_eq!(period_end(d("2026-08-31"), 1), d("2026-09-30"));
        assert_eq!(period_end(d("2026-01-30"), 1), d("2026-02-28"));
        // 30 Apr 2026 is a Thursday: nothing moves.
        assert_eq!(utc().due_at(t("2026-03-31T12:00:00Z")), end_utc("2026-04-30"));
        // 30 Sep 2026 is a Wednesday.
        assert_eq!(utc().due_at(t("2026-08-31T12:00:00Z")), end_utc("2026-09-30"));
        // 28 Feb 2026 is a Saturday: the period ends on Monday 2 March.
        assert_eq!(utc().due_on(t("2026-01-31T12:00:00Z")), d("2026-03-02"));
    }

    #[test]
    fn leap_years_have_a_29th_of_february() {
        // Tue 29 Feb 2028.
        assert_eq!(utc().due_at(t("2028-01-31T12:00:00Z")), end_utc("2028-02-29"));
        assert_eq!(utc().due_at(t("2028-01-29T12:00:00Z")), end_utc("2028-02-29"));
        // Wed 29 Mar 2028.
        assert_eq!(utc().due_at(t("2028-02-29T12:00:00Z")), end_utc("2028-03-29"));
        // 2100 is not a leap year.
        assert_eq!(period_end(d("2100-01-31"), 1), d("2100-02-28"));
    }

    #[test]
    fn an_end_on_a_weekend_moves_to_monday() {
        // 4 Apr 2026 is a Saturday, 5 Apr a Sunday.
        assert_eq!(utc().due_on(t("2026-03-04T10:00:00Z")), d("2026-04-06"));
        assert_eq!(utc().due_on(t("2026-03-05T10:00:00Z")), d("2026-04-06"));
        assert_eq!(utc().due_at(t("2026-03-04T10:00:00Z")), end_utc("2026-04-06"));
        // A Friday end stays.
        assert_eq!(utc().due_on(t("2026-03-03T10:00:00Z")), d("2026-04-03"));
    }

    #[test]
    fn an_end_on_a_holiday_moves_to_the_next_working_day() {
        // Fri 1 May 2026 is a holiday; Sat and Sun follow: Monday 4 May.
        let cal = with_holidays(Tz::UTC, &["2026-05-01"]);
        assert_eq!(cal.due_on(t("2026-04-01T10:00:00Z")), d("2026-05-04"));
        assert_eq!(cal.due_at(t("2026-04-01T10:00:00Z")), end_utc("2026-05-04"));
        // Christmas: Fri 25 Dec holiday, the weekend, Mon 28 Dec holiday too: Tuesday 29 Dec.
        let cal = with_holidays(Tz::UTC, &["2026-12-25", "2026-12-28"]);
        assert_eq!(cal.due_on(t("2026-11-25T10:00:00Z")), d("2026-12-29"));
        // A holiday that is not the end changes nothing.
        assert_eq!(cal.due_on(t("2026-11-24T10:00:00Z")), d("2026-12-24"));
    }

    #[test]
    fn the_same_instant_is_a_different_day_in_two_zones() {
        let instant = t("2026-01-30T23:30:00Z");
        assert_eq!(utc().local_date(instant), d("2026-01-30"));
        assert_eq!(berlin().local_date(instant), d("2026-01-31"));
        // UTC: 30 Jan -> 28 Feb (Sat) -> Mon 2 Mar. Berlin: 31 Jan -> 28 Feb -> Mon 2 Mar too,
        // but ending at Berlin's midnight.
        assert_eq!(utc().due_at(instant), end_utc("2026-03-02"));
        assert_eq!(berlin().due_at(instant), t("2026-03-02T22:59:59.999999Z"));
        // Where the month end does not hide it, the dates differ: 15 Mar UTC is 16 Mar in Tokyo.
        let tokyo = LegalCalendar::new(chrono_tz::Asia::Tokyo, BTreeSet::new());
        let instant = t("2026-03-15T20:00:00Z");
        assert_eq!(utc().due_on(instant), d("2026-04-15"));
        assert_eq!(tokyo.due_on(instant), d("2026-04-16"));
        assert_eq!(tokyo.due_at(instant), t("2026-04-16T14:59:59.999999Z"));
        // And in New York, 03:00 UTC on 16 Mar is still 15 Mar.
        let new_york = LegalCalendar::new(chrono_tz::America::New_York, BTreeSet::new());
        assert_eq!(new_york.due_on(t("2026-03-16T03:00:00Z")), d("2026-04-15"));
        assert_eq!(
            new_york.due_at(t("2026-03-16T03:00:00Z")),
            t("2026-04-16T03:59:59.999999Z")
        );
    }

    #[test]
    fn the_deadline_is_the_last_microsecond_of_the_local_day() {
        let cal = berlin();
        let due = cal.due_at(t("2026-06-10T08:00:00Z"));
        // Fri 10 Jul 2026, CEST (UTC+2).
        assert_eq!(due, t("2026-07-10T21:59:59.999999Z"));
        let local = due.with_timezone(&cal.zone());
        assert_eq!(local.date_naive(), d("2026-07-10"));
        assert_eq!(
            local.time(),
            NaiveTime::from_hms_micro_opt(23, 59, 59, 999_999).unwrap()
        );
        assert_eq!(cal.local_date(due + MICROSECOND), d("2026-07-11"));
    }

    #[test]
    fn periods_across_and_ending_on_a_dst_change_in_berlin() {
        let cal = berlin();
        // 28 Mar 2027 is the last Sunday of March (clocks go 02:00 -> 03:00). A period ending
        // that day moves to Monday 29 Mar, which ends at 24:00 CEST.
        assert_eq!(period_end(d("2027-02-28"), 1), d("2027-03-28"));
        assert_eq!(cal.due_on(t("2027-02-28T12:00:00Z")), d("2027-03-29"));
        assert_eq!(cal.due_at(t("2027-02-28T12:00:00Z")), t("2027-03-29T21:59:59.999999Z"));
        // The end of such a Sunday itself: the day has 23 hours and ends at 24:00 CEST.
        assert_eq!(cal.end_of_day(d("2027-03-28")), t("2027-03-28T21:59:59.999999Z"));
        assert_eq!(cal.end_of_day(d("2026-03-29")), t("2026-03-29T21:59:59.999999Z"));
        // 25 Oct 2026 is the last Sunday of October (03:00 -> 02:00): Monday 26 Oct, CET.
        assert_eq!(cal.due_on(t("2026-09-25T12:00:00Z")), d("2026-10-26"));
        assert_eq!(cal.due_at(t("2026-09-25T12:00:00Z")), t("2026-10-26T22:59:59.999999Z"));
        // That Sunday has 25 hours and ends at 24:00 CET.
        assert_eq!(cal.end_of_day(d("2026-10-25")), t("2026-10-25T22:59:59.999999Z"));
        // Received in winter time, due in summer time: the local day decides, not 24h steps.
        assert_eq!(cal.due_at(t("2026-03-20T23:30:00Z")), t("2026-04-21T21:59:59.999999Z"));
    }

    #[test]
    fn a_receipt_in_the_dst_change_hours_counts_from_its_local_date() {
        let cal = berlin();
        // 29 Mar 2026: 00:59:59 UTC is 01:59:59 CET, 01:00 UTC is already 03:00 CEST.
        assert_eq!(cal.local_date(t("2026-03-29T00:59:59Z")), d("2026-03-29"));
        assert_eq!(cal.local_date(t("2026-03-29T01:00:00Z")), d("2026-03-29"));
        // 29 Apr 2026 is a Wednesday.
        assert_eq!(cal.due_at(t("2026-03-29T01:30:00Z")), t("2026-04-29T21:59:59.999999Z"));
        // 25 Oct 2026: 02:30 local happens twice (00:30 UTC in CEST, 01:30 UTC in CET); both
        // are 25 Oct, and the day before ends at 22:00 UTC.
        assert_eq!(cal.local_date(t("2026-10-25T00:30:00Z")), d("2026-10-25"));
        assert_eq!(cal.local_date(t("2026-10-25T01:30:00Z")), d("2026-10-25"));
        assert_eq!(cal.local_date(t("2026-10-24T21:59:59Z")), d("2026-10-24"));
        assert_eq!(cal.local_date(t("2026-10-24T22:00:00Z")), d("2026-10-25"));
        // Both are due at the end of Wed 25 Nov 2026, CET.
        assert_eq!(cal.due_at(t("2026-10-25T00:30:00Z")), t("2026-11-25T22:59:59.999999Z"));
        assert_eq!(cal.due_at(t("2026-10-25T01:30:00Z")), t("2026-11-25T22:59:59.999999Z"));
    }

    #[test]
    fn a_missing_or_doubled_midnight_still_gives_the_real_end_of_the_day() {
        // São Paulo started summer time at midnight on 4 Nov 2018 (00:00 -> 01:00): 3 Nov ends
        // at the first instant that exists on 4 Nov, 01:00 -02 = 03:00 UTC.
        let sao_paulo = LegalCalendar::new(chrono_tz::America::Sao_Paulo, BTreeSet::new());
        let end = sao_paulo.end_of_day(d("2018-11-03"));
        assert_eq!(end, t("2018-11-04T02:59:59.999999Z"));
        assert_eq!(sao_paulo.local_date(end), d("2018-11-03"));
        assert_eq!(sao_paulo.local_date(end + MICROSECOND), d("2018-11-04"));
        // Havana ended summer time at 01:00 on 5 Nov 2023 (back to 00:00): midnight of 5 Nov
        // happens twice, and 4 Nov ends before the first one (00:00 -04 = 04:00 UTC).
        let havana = LegalCalendar::new(chrono_tz::America::Havana, BTreeSet::new());
        let end = havana.end_of_day(d("2023-11-04"));
        assert_eq!(end, t("2023-11-05T03:59:59.999999Z"));
        assert_eq!(havana.local_date(end), d("2023-11-04"));
        assert_eq!(havana.local_date(end + MICROSECOND), d("2023-11-05"));
    }

    #[test]
    fn an_extension_adds_months_to_the_original_end() {
        // Received 31 Jan 2026: the period ends 28 Feb (a Saturday, so the deadline is Mon 2 Mar);
        // + 2 months from 28 Feb is Tue 28 Apr, not 30 Apr (receipt + 3 months).
        let cal = berlin();
        let received = t("2026-01-31T09:00:00Z");
        let due = cal.due_at(received);
        assert_eq!(due, t("2026-03-02T22:59:59.999999Z"));
        let now = t("2026-02-10T00:00:00Z");
        assert_eq!(
            cal.extend(received, due, now, 2, false),
            Ok(t("2026-04-28T21:59:59.999999Z"))
        );
        // + 1 month from 28 Feb is Sat 28 Mar, moved to Mon 30 Mar (CEST by then).
        assert_eq!(
            cal.extend(received, due, now, 1, false),
            Ok(t("2026-03-30T21:59:59.999999Z"))
        );
        // Received 15 Jan: the period ends Sun 15 Feb, so the deadline is Mon 16 Feb; the
        // extension counts from the 15th, not from the moved deadline: Wed 15 Apr.
        let received = t("2026-01-15T09:00:00Z");
        let due = cal.due_at(received);
        assert_eq!(due, t("2026-02-16T22:59:59.999999Z"));
        assert_eq!(
            cal.extend(received, due, now, 2, false),
            Ok(t("2026-04-15T21:59:59.999999Z"))
        );
    }

    #[test]
    fn an_extended_end_on_a_holiday_moves_too() {
        // Received 28 Feb 2026 (UTC): + 1 month is Sat 28 Mar -> Mon 30 Mar; + 2 more months from
        // 28 Mar is Thu 28 May, a holiday here: Fri 29 May.
        let cal = with_holidays(Tz::UTC, &["2026-05-28"]);
        let received = t("2026-02-28T10:00:00Z");
        let due = cal.due_at(received);
        assert_eq!(due, end_utc("2026-03-30"));
        assert_eq!(
            cal.extend(received, due, t("2026-03-01T00:00:00Z"), 2, false),
            Ok(end_utc("2026-05-29"))
        );
    }

    #[test]
    fn an_extension_after_the_deadline_is_refused() {
        let cal = utc();
        let received = t("2026-01-10T00:00:00Z");
        let due = cal.due_at(received);
        assert_eq!(cal.extend(received, due, due, 1, false), Err(ExtensionError::PastDue));
        assert!(cal.extend(received, due, due - MICROSECOND, 1, false).is_ok());
        assert_eq!(
            cal.extend(received, due, t("2026-03-01T00:00:00Z"), 2, false),
            Err(ExtensionError::PastDue)
        );
    }

    #[test]
    fn a_second_extension_is_refused_and_lengths_are_bounded() {
        let cal = utc();
        let received = t("2026-01-10T00:00:00Z");
        let due = cal.due_at(received);
        let now = t("2026-01-20T00:00:00Z");
        assert_eq!(
            cal.extend(received, due, now, 1, true),
            Err(ExtensionError::AlreadyExtended)
        );
        assert_eq!(
            cal.extend(received, due, now, 0, false),
            Err(ExtensionError::InvalidLength)
        );
        assert_eq!(
            cal.extend(received, due, now, 3, false),
            Err(ExtensionError::InvalidLength)
        );
    }

    #[test]
    fn the_filing_window_is_inclusive_of_its_last_local_day() {
        // Decided 31 Aug 2026: six months end on Sun 28 Feb 2027, moved to Mon 1 Mar.
        let cal = utc();
        let decided = t("2026-08-31T10:00:00Z");
        assert_eq!(cal.filing_window_closes_at(decided, 6), end_utc("2027-03-01"));
        assert!(cal.within_filing_window(decided, 6, t("2027-03-01T23:59:59Z")));
        assert!(!cal.within_filing_window(decided, 6, t("2027-03-02T00:00:00Z")));
        // In Berlin, the day is Berlin's: it closes at 23:59:59.999999 CET.
        let cal = berlin();
        assert_eq!(
            cal.filing_window_closes_at(decided, 6),
            t("2027-03-01T22:59:59.999999Z")
        );
        assert!(!cal.within_filing_window(decided, 6, t("2027-03-01T23:00:00Z")));
        // Decided at 23:30 UTC on 10 Sep 2026, which is 11 Sep in Berlin: the window runs to
        // Thu 11 Mar 2027 there, to Wed 10 Mar in UTC.
        let decided = t("2026-09-10T23:30:00Z");
        assert_eq!(
            cal.filing_window_closes_at(decided, 6),
            t("2027-03-11T22:59:59.999999Z")
        );
        assert_eq!(utc().filing_window_closes_at(decided, 6), end_utc("2027-03-10"));
        // Holidays on Thu 11 and Fri 12 Mar keep it open over the weekend, to Mon 15 Mar.
        let cal = with_holidays(chrono_tz::Europe::Berlin, &["2027-03-11", "2027-03-12"]);
        assert_eq!(
            cal.filing_window_closes_at(decided, 6),
            t("2027-03-15T22:59:59.999999Z")
        );
    }

    #[test]
    fn holiday_files_allow_comments_and_blank_lines() {
        let text = "\u{feff}# Public holidays, Berlin\n\n2026-12-25\n2026-12-26 # Boxing Day\n   \n2026-12-25\n";
        let dates = parse_holidays(text).unwrap();
        assert_eq!(
            dates.into_iter().collect::<Vec<_>>(),
            [d("2026-12-25"), d("2026-12-26")]
        );
        assert_eq!(parse_holidays("").unwrap(), BTreeSet::new());
    }

    #[test]
    fn a_bad_holiday_line_is_reported_with_its_number() {
        for (text, line) in [
            ("2026-12-25\n25/12/2026\n", 2),
            ("# c\n\n2026-02-30\n", 3),
            ("2026-1-05\n", 1),
            ("2026-12-25 extra\n", 1),
            ("2026-13-01\n", 1),
        ] {
            let e = parse_holidays(text).unwrap_err();
            assert_eq!(e.line, line, "{text:?}");
            assert!(e.message.contains("YYYY-MM-DD"), "{e}");
        }
    }

    #[test]
    fn the_far_future_saturates_instead_of_panicking() {
        let cal = berlin();
        assert_eq!(cal.end_of_day(NaiveDate::MAX), DateTime::<Utc>::MAX_UTC);
        assert_eq!(period_end(NaiveDate::MAX, 1), NaiveDate::MAX);
        let _ = cal.due_at(DateTime::<Utc>::MAX_UTC);
    }

    #[test]
    fn the_next_escalation_time_agrees_with_the_levels() {
        let received = t("2026-04-01T00:00:00Z");
        let due = utc().due_at(received);
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
        let due = utc().due_at(received); // the end of Fri 1 May: 31 days later
        assert_eq!(due, end_utc("2026-05-01"));
        assert_eq!(escalation_level(received, due, t("2026-04-10T00:00:00Z")), 0);
        assert_eq!(escalation_level(received, due, t("2026-04-17T00:00:00Z")), 1);
        assert_eq!(escalation_level(received, due, t("2026-04-26T00:00:00Z")), 2);
        assert_eq!(escalation_level(received, due, due), 3);
    }
}
