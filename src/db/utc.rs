//! Times are stored without a zone, always in UTC (`TIMESTAMP`; see [`super::now`]). Rows that are
//! also API views serialise them with these, so that JSON always carries the `Z`.

use chrono::NaiveDateTime;
use serde::Serialize;

/// Serialises a stored UTC time as an RFC 3339 time in UTC.
pub fn as_utc<S: serde::Serializer>(t: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
    t.and_utc().serialize(s)
}

/// [`as_utc`] for a time that may be absent (`null`).
pub fn opt_utc<S: serde::Serializer>(t: &Option<NaiveDateTime>, s: S) -> Result<S::Ok, S::Error> {
    t.map(|t| t.and_utc()).serialize(s)
}
