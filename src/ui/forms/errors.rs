//! The validation problems of one form, kept to show them beside its fields.

use crate::domain::FieldError;

/// Validation problems of one form on a page, to show inline beside the fields.
#[derive(Debug, Clone, Default)]
pub struct FormErrors {
    /// Which form on the page they belong to.
    pub form: &'static str,
    pub errors: Vec<FieldError>,
}

impl FormErrors {
    pub fn new(form: &'static str, errors: Vec<FieldError>) -> Self {
        Self { form, errors }
    }

    /// The errors of `form` at `pointer` or below it.
    pub fn at(&self, form: &str, pointer: &str) -> Vec<&str> {
        if self.form != form {
            return Vec::new();
        }
        self.errors
            .iter()
            .filter(|e| {
                if pointer.is_empty() {
                    e.pointer.is_empty()
                } else {
                    e.pointer == pointer || e.pointer.starts_with(&format!("{pointer}/"))
                }
            })
            .map(|e| e.detail.as_str())
            .collect()
    }

    pub fn of(&self, form: &str) -> &[FieldError] {
        if self.form == form { &self.errors } else { &[] }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_found_by_form_and_pointer() {
        let e = FormErrors::new(
            "appeal",
            vec![
                FieldError::new("/statement", "must not be empty"),
                FieldError::new("/identity_check/result", "must be verified"),
            ],
        );
        assert_eq!(e.at("appeal", "/statement"), ["must not be empty"]);
        assert_eq!(e.at("appeal", "/identity_check"), ["must be verified"]);
        assert!(e.at("review", "/statement").is_empty());
    }
}
