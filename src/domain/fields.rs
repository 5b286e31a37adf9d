//! The shapes of the contract's text fields, each defined once: an identifier ([`Ident`]), one
//! line of text ([`Text`]), prose ([`Prose`]), a token ([`NotBlank`]) and a map of feature values
//! ([`scalar_map`]). The validator checks a value against its shape (`Checker::check` in
//! `validation`) and the OpenAPI document states the same shape, so a body that is valid by the
//! document is one the service accepts.
//!
//! A field names its shape in its schema: `#[schema(value_type = Text<64>)]`, or
//! `Option<Text<64>>`, `Vec<Ident<128>>`. The shapes are types, not constants, because utoipa
//! takes a `pattern` only as a string literal. Each appears once in the document, as a component
//! named by its kind and length (`Text64`, `Ident128`, `Prose2000`). The field itself stays a
//! `String`: a shape has no values.
//!
//! The patterns say what `Checker`'s `identifier`, `text` and `prose` check, in JSON Schema's
//! words: change one and you change the other.

use std::borrow::Cow;

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::{PartialSchema, ToSchema};

/// ASCII letters, digits and `- _ . : @`: what an id may be made of in a URL, a log line or a
/// CSV export without quoting.
pub const IDENT_PATTERN: &str = r"^[A-Za-z0-9_.:@-]+$";

/// Not blank, and no control characters (C0, DEL, C1) nor the characters that make text display
/// other than it reads (`validation::deceptive`): direction embeddings,
/// overrides and isolates, the byte-order mark, the noncharacters of the Basic Multilingual Plane.
pub const TEXT_PATTERN: &str = r"^[^\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff\ufdd0-\ufdef\ufffe\uffff]*[^\s\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff\ufdd0-\ufdef\ufffe\uffff][^\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff\ufdd0-\ufdef\ufffe\uffff]*$";

/// As [`TEXT_PATTERN`], but tab, line feed and carriage return are allowed.
pub const PROSE_PATTERN: &str = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff\ufdd0-\ufdef\ufffe\uffff]*[^\s\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff\ufdd0-\ufdef\ufffe\uffff][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff\ufdd0-\ufdef\ufffe\uffff]*$";

/// Not blank, and no NUL (which no text column can store): a token or a feature name, whose
/// other characters are the caller's business.
pub const NOT_BLANK_PATTERN: &str = r"^[^\x00]*[^\s\x00][^\x00]*$";

/// Most entries in a map of feature values.
pub const MAX_SCALAR_ENTRIES: usize = 256;
/// Longest feature name in a map of feature values.
pub const MAX_FEATURE_NAME: usize = 128;
/// Longest string value in a map of feature values.
pub const MAX_SCALAR_TEXT: usize = 1024;

/// The rule a shape asks the validator to apply, and the schema states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// [`IDENT_PATTERN`], counted in bytes (they are ASCII).
    Ident,
    /// [`TEXT_PATTERN`], counted in characters.
    Text,
    /// [`PROSE_PATTERN`], counted in characters.
    Prose,
}

impl Kind {
    /// The start of a shape's component name: `Text` in `Text64`.
    const fn name(self) -> &'static str {
        match self {
            Kind::Ident => "Ident",
            Kind::Text => "Text",
            Kind::Prose => "Prose",
        }
    }

    const fn pattern(self) -> &'static str {
        match self {
            Kind::Ident => IDENT_PATTERN,
            Kind::Text => TEXT_PATTERN,
            Kind::Prose => PROSE_PATTERN,
        }
    }

    fn describe(self, max: usize) -> String {
        match self {
            Kind::Ident => format!("An identifier of 1 to {max} ASCII letters, digits and `- _ . : @`"),
            Kind::Text => format!(
                "One line of 1 to {max} characters, not blank: no control characters, direction \
                 overrides, byte-order marks or noncharacters"
            ),
            Kind::Prose => format!(
                "1 to {max} characters, not blank, line breaks and tabs allowed: no other control \
                 characters, no direction overrides, byte-order marks or noncharacters"
            ),
        }
    }
}

/// A text field's shape: its rule and its longest length. The validator reads these, and so
/// does the shape's schema.
pub trait Shape {
    const KIND: Kind;
    const MAX: usize;
}

/// An identifier of 1 to `MAX` characters from [`IDENT_PATTERN`].
pub enum Ident<const MAX: usize> {}

/// One line of 1 to `MAX` characters, by [`TEXT_PATTERN`].
pub enum Text<const MAX: usize> {}

/// Text of 1 to `MAX` characters over any number of lines, by [`PROSE_PATTERN`].
pub enum Prose<const MAX: usize> {}

/// A token that is not blank and holds no NUL, by [`NOT_BLANK_PATTERN`] (a lease token, an
/// actor id as the audit log records it).
pub enum NotBlank {}

/// An outcome as the engines name it: a decision's, the one an appeal asks for, a review's new
/// one.
pub type Outcome = Text<64>;
/// A data subject, as the engines identify them.
pub type SubjectId = Ident<128>;
/// A kind of decision (`credit_limit`); reviewers are given authority over decision types.
pub type DecisionType = Ident<64>;
/// A model's name, without its version.
pub type ModelName = Ident<128>;
/// How an agent checked a caller's identity (GDPR Art. 12(2),(6)).
pub type IdentityMethod = Text<100>;

/// Makes `$shape<MAX>` a [`Shape`] of `$kind` and a schema component named by the kind and the
/// length (`Text64`).
macro_rules! shape {
    ($shape:ident, $kind:expr) => {
        impl<const MAX: usize> Shape for $shape<MAX> {
            const KIND: Kind = $kind;
            const MAX: usize = MAX;
        }

        impl<const MAX: usize> PartialSchema for $shape<MAX> {
            fn schema() -> RefOr<Schema> {
                string(Self::KIND.pattern())
                    .min_length(Some(1))
                    .max_length(Some(MAX))
                    .description(Some(Self::KIND.describe(MAX)))
                    .into()
            }
        }

        impl<const MAX: usize> ToSchema for $shape<MAX> {
            fn name() -> Cow<'static, str> {
                Cow::Owned(format!("{}{MAX}", Self::KIND.name()))
            }
        }
    };
}

shape!(Ident, Kind::Ident);
shape!(Text, Kind::Text);
shape!(Prose, Kind::Prose);

fn string(pattern: &str) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String).pattern(Some(pattern))
}

impl PartialSchema for NotBlank {
    fn schema() -> RefOr<Schema> {
        string(NOT_BLANK_PATTERN).description(Some("Not blank, no NUL")).into()
    }
}

impl ToSchema for NotBlank {}

/// Feature name to scalar value (inputs, corrections, counterfactual changes), as
/// `Checker::scalar_map` checks it: at most [`MAX_SCALAR_ENTRIES`] entries, names of 1 to
/// [`MAX_FEATURE_NAME`] characters that are not blank, values that are strings (at most
/// [`MAX_SCALAR_TEXT`] characters), numbers, booleans or null. For `schema_with`.
pub fn scalar_map() -> Schema {
    scalar_map_schema(0, false)
}

/// A [`scalar_map`] that names at least one feature.
pub fn scalar_map_nonempty() -> Schema {
    scalar_map_schema(1, false)
}

/// A [`scalar_map`] or null.
pub fn scalar_map_nullable() -> Schema {
    scalar_map_schema(0, true)
}

fn scalar_map_schema(min_properties: usize, nullable: bool) -> Schema {
    let object = if nullable {
        SchemaType::from_iter([Type::Object, Type::Null])
    } else {
        SchemaType::Type(Type::Object)
    };
    let name = string(NOT_BLANK_PATTERN)
        .min_length(Some(1))
        .max_length(Some(MAX_FEATURE_NAME))
        .build();
    let value = ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([
            Type::String,
            Type::Number,
            Type::Boolean,
            Type::Null,
        ]))
        .max_length(Some(MAX_SCALAR_TEXT))
        .build();
    ObjectBuilder::new()
        .schema_type(object)
        .min_properties(Some(min_properties))
        .max_properties(Some(MAX_SCALAR_ENTRIES))
        .property_names(Some(name))
        .additional_properties(Some(AdditionalProperties::RefOr(RefOr::T(value.into()))))
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_shape_is_one_component_named_by_its_kind_and_length() {
        assert_eq!(Ident::<64>::name(), "Ident64");
        assert_eq!(Outcome::name(), "Text64");
        assert_eq!(Prose::<2000>::name(), "Prose2000");
        let RefOr::T(Schema::Object(text)) = Text::<100>::schema() else {
            panic!("a text shape is an inline object schema")
        };
        assert_eq!(text.max_length, Some(100));
        assert_eq!(text.min_length, Some(1));
        assert_eq!(text.pattern.as_deref(), Some(TEXT_PATTERN));
    }
}
