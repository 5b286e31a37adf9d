//! Field-level validation errors, addressed by JSON Pointer (RFC 6901).

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use super::fields::{Kind, MAX_FEATURE_NAME, MAX_SCALAR_TEXT, Shape};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// JSON Pointer to the offending field, e.g. `/explanation/reason_codes/2/text`.
    pub pointer: String,
    pub detail: String,
}

impl FieldError {
    pub fn new(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            pointer: pointer.into(),
            detail: detail.into(),
        }
    }

    /// The same error, re-rooted under `prefix` (e.g. `/decisions/3`).
    pub fn under(self, prefix: &str) -> Self {
        Self {
            pointer: format!("{prefix}{}", self.pointer),
            detail: self.detail,
        }
    }
}

/// Escapes one reference token for use in a JSON Pointer.
pub fn escape_pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// The earliest time a decision, an awareness of a breach or any other recorded event can have:
/// automated decisions about people under these laws did not happen before 1970, and a date such
/// as `-0001-01-01` is a mistake, not a record.
pub fn earliest_plausible() -> DateTime<Utc> {
    DateTime::UNIX_EPOCH
}

/// How far past this server's clock a reported time may lie: the clocks of the systems that
/// report to it drift.
pub const REPORTING_CLOCK_SKEW: TimeDelta = TimeDelta::minutes(5);

const DECEPTIVE: &str = "must not contain direction overrides, byte-order marks or noncharacters";

/// Characters that make text display other than it reads: bidirectional embeddings, overrides
/// and isolates (U+202E can make a notice or a reviewer's screen show "approved" for
/// "devorppa"; the "Trojan Source" attacks use the isolates), the byte-order mark U+FEFF, and
/// the noncharacters of the Basic Multilingual Plane. The plain marks U+200E/U+200F stay allowed:
/// right-to-left writing needs them and they reorder nothing. The JSON Schema patterns of the
/// text fields (`fields::TEXT_PATTERN`, `fields::PROSE_PATTERN`) refuse the same set.
pub fn deceptive(c: char) -> bool {
    matches!(c,
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}' | '\u{fdd0}'..='\u{fdef}' | '\u{fffe}' | '\u{ffff}')
}

/// Collects errors while checking a document, so a client sees every problem at once.
#[derive(Debug, Default)]
pub struct Checker {
    errors: Vec<FieldError>,
}

impl Checker {
    pub fn fail(&mut self, pointer: impl Into<String>, detail: impl Into<String>) {
        self.errors.push(FieldError::new(pointer, detail));
    }

    /// Checks a field against its shape in the contract (see `fields`): the rule and the length
    /// that its schema states.
    pub fn check<S: Shape>(&mut self, pointer: &str, value: &str) {
        match S::KIND {
            Kind::Ident => self.identifier(pointer, value, S::MAX),
            Kind::Text => self.text(pointer, value, S::MAX),
            Kind::Prose => self.prose(pointer, value, S::MAX),
        }
    }

    /// Checks a required free-text field: non-blank, within `max` characters, no control
    /// characters and no [`deceptive`] ones.
    fn text(&mut self, pointer: &str, value: &str, max: usize) {
        if value.trim().is_empty() {
            self.fail(pointer, "must not be empty");
        } else if value.chars().count() > max {
            self.fail(pointer, format!("must be at most {max} characters"));
        } else if value.chars().any(|c| c.is_control()) {
            self.fail(pointer, "must not contain control characters");
        } else if value.chars().any(deceptive) {
            self.fail(pointer, DECEPTIVE);
        }
    }

    /// Checks an identifier: 1..=max characters of ASCII letters, digits and `-_.:@`.
    fn identifier(&mut self, pointer: &str, value: &str, max: usize) {
        if value.is_empty() {
            self.fail(pointer, "must not be empty");
        } else if value.len() > max {
            self.fail(pointer, format!("must be at most {max} characters"));
        } else if !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '@'))
        {
            self.fail(pointer, "may contain only ASCII letters, digits and - _ . : @");
        }
    }

    /// Checks free prose (statements, rationales): like `text`, but line breaks and tabs are fine.
    fn prose(&mut self, pointer: &str, value: &str, max: usize) {
        if value.trim().is_empty() {
            self.fail(pointer, "must not be empty");
        } else if value.chars().count() > max {
            self.fail(pointer, format!("must be at most {max} characters"));
        } else if value
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            self.fail(pointer, "must not contain control characters");
        } else if value.chars().any(deceptive) {
            self.fail(pointer, DECEPTIVE);
        }
    }

    /// Checks a map of feature name to scalar value (inputs, corrections, counterfactual changes).
    pub fn scalar_map(
        &mut self,
        at: &str,
        map: &std::collections::BTreeMap<String, serde_json::Value>,
        max_entries: usize,
    ) {
        use serde_json::Value;
        if map.len() > max_entries {
            self.fail(at, format!("must have at most {max_entries} entries"));
        }
        for (key, value) in map {
            let pointer = format!("{at}/{}", escape_pointer_token(key));
            if key.trim().is_empty() || key.chars().count() > MAX_FEATURE_NAME {
                self.fail(
                    &pointer,
                    format!("feature names must be 1 to {MAX_FEATURE_NAME} characters"),
                );
            }
            match value {
                Value::Null | Value::Bool(_) | Value::Number(_) => {}
                Value::String(s) if s.chars().count() > MAX_SCALAR_TEXT => {
                    self.fail(&pointer, format!("must be at most {MAX_SCALAR_TEXT} characters"));
                }
                Value::String(_) => {}
                Value::Array(_) | Value::Object(_) => {
                    self.fail(&pointer, "must be a scalar: string, number, boolean or null");
                }
            }
        }
    }

    /// Checks when a recorded event happened (a decision, the awareness of a breach): not in the
    /// future beyond [`REPORTING_CLOCK_SKEW`], and not before [`earliest_plausible`].
    pub fn happened(&mut self, pointer: &str, at: DateTime<Utc>, now: DateTime<Utc>) {
        if at > now + REPORTING_CLOCK_SKEW {
            self.fail(pointer, "must not be in the future");
        } else if at < earliest_plausible() {
            self.fail(pointer, "must not be before 1970");
        }
    }

    pub fn finite(&mut self, pointer: &str, value: f64) {
        if !value.is_finite() {
            self.fail(pointer, "must be a finite number");
        }
    }

    pub fn finish<T>(self, value: T) -> Result<T, Vec<FieldError>> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            Err(self.errors)
        }
    }
}

/// Integer fields accept any JSON number without a fractional part (`2` or `2.0`): JSON Schema,
/// and so OpenAPI 3.1, counts `2.0` as an integer, and clients that only have doubles send it.
pub mod integral {
    use serde::de::{Deserialize, Deserializer, Error, Unexpected};

    pub fn deserialize<'de, D, T>(d: D) -> Result<T, D::Error>
    where
        D: Deserializer<'de>,
        T: TryFrom<i64> + TryFrom<u64>,
    {
        let n = serde_json::Number::deserialize(d)?;
        let expected = &"an integer in range";
        if let Some(i) = n.as_i64() {
            return T::try_from(i).map_err(|_| D::Error::invalid_value(Unexpected::Signed(i), expected));
        }
        if let Some(u) = n.as_u64() {
            return T::try_from(u).map_err(|_| D::Error::invalid_value(Unexpected::Unsigned(u), expected));
        }
        let f = n.as_f64().unwrap_or(f64::NAN);
        // 2^63: beyond it, a double has no fractional part but no longer names one integer.
        if f.fract() == 0.0 && f.abs() < 9.223_372_036_854_776e18 {
            let i = f as i64; // exact: integral and within i64, checked above
            return T::try_from(i).map_err(|_| D::Error::invalid_value(Unexpected::Float(f), expected));
        }
        Err(D::Error::invalid_type(Unexpected::Float(f), &"an integer"))
    }

    /// The same, for an optional field (use with `#[serde(default)]`).
    pub fn option<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
    where
        D: Deserializer<'de>,
        T: TryFrom<i64> + TryFrom<u64>,
    {
        Option::<serde_json::Number>::deserialize(d)?
            .map(|n| deserialize(n).map_err(D::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_that_would_display_other_than_it_reads_is_refused() {
        for bad in [
            "approved\u{202e}",
            "\u{feff}name",
            "a\u{2066}b\u{2069}",
            "x\u{fdd0}",
            "x\u{ffff}",
        ] {
            let mut c = Checker::default();
            c.text("/t", bad, 100);
            c.prose("/p", bad, 100);
            assert_eq!(c.finish(()).unwrap_err().len(), 2, "{bad:?}");
        }
        let mut c = Checker::default();
        c.text("/t", "\u{5e9}\u{5dc}\u{5d5}\u{5dd}\u{200f} (Hebrew) and Ünïcödé", 100);
        assert!(c.finish(()).is_ok());
    }

    #[test]
    fn pointer_tokens_are_escaped() {
        assert_eq!(escape_pointer_token("a/b~c"), "a~1b~0c");
    }

    #[test]
    fn checker_collects_every_error() {
        let mut c = Checker::default();
        c.text("/a", "  ", 10);
        c.identifier("/b", "has space", 10);
        c.finite("/c", f64::NAN);
        c.text("/d", "fine", 10);
        let errors = c.finish(()).unwrap_err();
        let pointers: Vec<_> = errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(pointers, ["/a", "/b", "/c"]);
    }

    #[test]
    fn integral_accepts_whole_floats_only() {
        #[derive(serde::Deserialize, Debug)]
        struct N {
            #[serde(deserialize_with = "integral::deserialize")]
            n: u32,
        }
        let n = |s: &str| serde_json::from_str::<N>(s).map(|v| v.n).map_err(|e| e.to_string());
        assert_eq!(n(r#"{"n": 2}"#), Ok(2));
        assert_eq!(n(r#"{"n": 2.0}"#), Ok(2));
        assert!(n(r#"{"n": 2.5}"#).is_err());
        assert!(n(r#"{"n": -1}"#).is_err());
        assert!(n(r#"{"n": 1e300}"#).is_err());
        assert!(n(r#"{"n": "2"}"#).is_err());
    }
}
