//! Dates, times and numbers as people read them.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use maud::{Markup, html};
use serde_json::Value;

/// "3 December 2026": the date in the controller's zone `tz`.
pub fn date(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%-d %B %Y").to_string()
}

/// "3 December 2026, 14:05 CET": the time in the controller's zone `tz`, with its abbreviation.
pub fn datetime(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%-d %B %Y, %H:%M %Z").to_string()
}

/// "in 29 days", "in 5 hours", "3 days ago".
pub fn relative(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (t - now).num_seconds();
    let (n, unit) = match secs.abs() {
        s if s < 90 => {
            return if secs >= 0 {
                "in a minute".into()
            } else {
                "just now".into()
            };
        }
        s if s < 90 * 60 => ((s + 30) / 60, "minute"),
        s if s < 36 * 3600 => ((s + 1800) / 3600, "hour"),
        s => ((s + 43_200) / 86_400, "day"),
    };
    let plural = if n == 1 { "" } else { "s" };
    if secs >= 0 {
        format!("in {n} {unit}{plural}")
    } else {
        format!("{n} {unit}{plural} ago")
    }
}

/// A deadline in words, with how far off it is, and a class for how urgent it is. A deadline
/// is the end of a day in the controller's zone `tz`, so that is the date shown.
pub fn due(t: DateTime<Utc>, now: DateTime<Utc>, tz: Tz) -> Markup {
    let left = t - now;
    let class = if left.num_seconds() < 0 {
        "due overdue"
    } else if left.num_days() < 3 {
        "due soon"
    } else {
        "due"
    };
    let words = if left.num_seconds() < 0 {
        format!("overdue since {}", relative(t, now).trim_end_matches(" ago"))
    } else {
        relative(t, now)
    };
    html! { span class=(class) { time datetime=(t.to_rfc3339()) { (date(t, tz)) } " (" (words) ")" } }
}

/// A number as people write it: no trailing zeros, at most 3 decimals.
pub fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// A feature value as text.
pub fn value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.as_f64().map(num).unwrap_or_else(|| n.to_string()),
        Value::Bool(true) => "yes".into(),
        Value::Bool(false) => "no".into(),
        Value::Null => "(none)".into(),
        other => other.to_string(),
    }
}

/// A share as a percentage with at most one decimal: 0.253 -> "25.3%".
pub fn percent(v: f64) -> String {
    format!("{}%", num((v * 1000.0).round() / 10.0))
}

/// The last 8 characters of an id: enough to tell cases apart on a screen.
pub fn short(id: &str) -> &str {
    id.get(id.len().saturating_sub(8)..).unwrap_or(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::pages::fields::field_id;
    use crate::ui::words::humanize;

    #[test]
    fn relative_times_read_naturally() {
        let now: DateTime<Utc> = "2026-11-29T10:00:00Z".parse().unwrap();
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert_eq!(relative(at("2026-12-29T10:00:00Z"), now), "in 30 days");
        assert_eq!(relative(at("2026-11-29T15:00:00Z"), now), "in 5 hours");
        assert_eq!(relative(at("2026-11-26T10:00:00Z"), now), "3 days ago");
        assert_eq!(relative(at("2026-11-29T10:20:00Z"), now), "in 20 minutes");
    }

    #[test]
    fn numbers_and_names_are_readable() {
        assert_eq!(num(28000.0), "28000");
        assert_eq!(num(0.41), "0.41");
        assert_eq!(num(-0.2100001), "-0.21");
        assert_eq!(humanize("missed_payments_12m"), "Missed payments 12m");
        assert_eq!(
            field_id("appeal", "/corrected_inputs/annual income"),
            "appeal-corrected-inputs-annual-income"
        );
    }
}
