//! Rows keep their times as `NaiveDateTime` in UTC (SQLite has no time zones); the API writes
//! every time with its offset (`Z`), so a client never has to guess. For a row type that is
//! also a response: `#[serde(serialize_with = "crate::domain::utc::as_utc")]`.

use chrono::NaiveDateTime;
use serde::{Serialize, Serializer};

/// A stored UTC time, written with its offset.
pub fn as_utc<S: Serializer>(t: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
    t.and_utc().serialize(s)
}

/// [`as_utc`] for a time that may be absent (`null`).
pub fn opt_utc<S: Serializer>(t: &Option<NaiveDateTime>, s: S) -> Result<S::Ok, S::Error> {
    t.map(|t| t.and_utc()).serialize(s)
}

#[cfg(test)]
mod tests {
    #[derive(serde::Serialize)]
    struct Row {
        #[serde(serialize_with = "super::as_utc")]
        at: chrono::NaiveDateTime,
        #[serde(serialize_with = "super::opt_utc")]
        until: Option<chrono::NaiveDateTime>,
    }

    #[test]
    fn stored_times_are_written_with_their_offset() {
        let at = "2026-11-01T10:00:00.5".parse().unwrap();
        let row = Row { at, until: None };
        assert_eq!(
            serde_json::to_value(&row).unwrap(),
            serde_json::json!({"at": "2026-11-01T10:00:00.500Z", "until": null})
        );
    }
}
