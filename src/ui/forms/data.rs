//! `application/x-www-form-urlencoded` bodies as ordered name/value pairs. Repeated names
//! (checkbox groups) are kept, which serde's struct deserialisation of forms cannot do.

use actix_web::HttpRequest;
use actix_web::http::{StatusCode, header};

use crate::ui::error::UiError;

/// Largest form body accepted.
pub const FORM_LIMIT: usize = 64 * 1024;

#[derive(Debug, Default, Clone)]
pub struct FormData(Vec<(String, String)>);

impl FormData {
    /// Reads a form body: it must be urlencoded (the body's size is limited by `FORM_LIMIT`).
    pub fn read(req: &HttpRequest, body: &[u8]) -> Result<Self, UiError> {
        let urlencoded = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !urlencoded {
            return Err(UiError::BadForm(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "forms must be sent as application/x-www-form-urlencoded".into(),
            ));
        }
        Self::parse(body)
    }

    fn parse(bytes: &[u8]) -> Result<Self, UiError> {
        let fields = serde_urlencoded::from_bytes::<Vec<(String, String)>>(bytes)
            .map_err(|e| UiError::BadForm(StatusCode::BAD_REQUEST, format!("the form could not be read: {e}")))?;
        // NUL cannot be stored as text on PostgreSQL; refuse it here, the same on both backends.
        if fields.iter().any(|(k, v)| k.contains('\0') || v.contains('\0')) {
            return Err(UiError::BadForm(
                StatusCode::BAD_REQUEST,
                "the form contains a NUL character, which no field can hold".into(),
            ));
        }
        Ok(FormData(fields))
    }

    /// The first value of `name`, as sent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The first value of `name`, trimmed; empty when absent.
    pub fn text(&self, name: &str) -> String {
        self.get(name).map(str::trim).unwrap_or_default().to_owned()
    }

    /// The first value of `name`, trimmed, or `None` when absent or blank.
    pub fn opt(&self, name: &str) -> Option<String> {
        Some(self.text(name)).filter(|v| !v.is_empty())
    }

    /// Every value of `name` (a checkbox group).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Pairs whose name starts with `prefix`, with the prefix removed, blank values skipped.
    pub fn with_prefix(&self, prefix: &str) -> Vec<(String, String)> {
        self.0
            .iter()
            .filter_map(|(k, v)| {
                let rest = k.strip_prefix(prefix)?;
                let v = v.trim();
                (!v.is_empty()).then(|| (rest.to_owned(), v.to_owned()))
            })
            .collect()
    }
}

/// Compares secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_names_and_prefixes_survive_parsing() {
        let f = FormData::parse(b"grounds=a&grounds=b&correct.income=41%2C000&correct.x=+&csrf=t").unwrap();
        assert_eq!(f.all("grounds"), ["a", "b"]);
        assert_eq!(f.with_prefix("correct."), [("income".to_owned(), "41,000".to_owned())]);
        assert_eq!(f.opt("missing"), None);
        assert_eq!(f.text("csrf"), "t");
    }

    #[test]
    fn secrets_compare_exactly() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
        assert!(!same_secret("", "a"));
    }
}
