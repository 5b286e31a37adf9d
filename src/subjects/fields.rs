//! The OpenAPI schemas of the rights requests' text fields, each defined once. They say what
//! `intake` and `domain::validation::Checker` enforce: free text is not blank, at most 2,000
//! characters, and free of control characters (line breaks and tabs aside) and of characters
//! that make text display other than it reads; the identity method is one such line of at most
//! 100 characters.

use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};

use super::intake::MAX_PROSE;

const PROSE: &str = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff\ufdd0-\ufdef\ufffe\uffff]*[^\s\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff\ufdd0-\ufdef\ufffe\uffff][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff\ufdd0-\ufdef\ufffe\uffff]*$";
const LINE: &str = r"^[^\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff\ufdd0-\ufdef\ufffe\uffff]*[^\s\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff\ufdd0-\ufdef\ufffe\uffff][^\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff\ufdd0-\ufdef\ufffe\uffff]*$";

/// Grounds, notes and reasons.
pub fn prose() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(MAX_PROSE))
        .pattern(Some(PROSE))
        .into()
}

/// How an agent verified the caller's identity; absent when no agent acts.
fn identity_method(description: &str) -> Schema {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .description(Some(description))
        .min_length(Some(1))
        .max_length(Some(100))
        .pattern(Some(LINE))
        .into()
}

pub fn objector_identity_method() -> Schema {
    identity_method("Required when an agent objects for a caller: how the caller's identity was verified.")
}

pub fn rectification_identity_method() -> Schema {
    identity_method("Required when an agent asks for a caller: how the caller's identity was verified.")
}
