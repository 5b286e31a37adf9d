//! `ApiJson<T>`: a JSON body extractor whose every failure is a precise problem response:
//! 415 for a wrong content type, 413 past the size limit (checked before buffering),
//! 400 for malformed JSON with line and column, 422 with a JSON pointer for wrong shapes.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::web::BytesMut;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use crate::config::Limits;
use crate::domain::FieldError;
use crate::domain::validation::escape_pointer_token;
use crate::error::ApiError;

/// Overrides the JSON body limit for one route (e.g. batch ingestion).
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// Caps how many bodies of one route are buffered at once (e.g. 1,000-decision batches), so
/// that concurrent large requests cannot add up to an unbounded amount of memory.
#[derive(Debug, Clone)]
pub struct BodyPermits(pub std::sync::Arc<tokio::sync::Semaphore>);

/// A parsed JSON body; the second field holds the route's body permit, if it has one, for as
/// long as the handler keeps the body.
pub struct ApiJson<T>(pub T, pub Option<tokio::sync::OwnedSemaphorePermit>);

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<BodyLimit>()
            .map(|l| l.0)
            .or_else(|| {
                req.app_data::<actix_web::web::Data<Limits>>()
                    .map(|l| l.json_body_bytes)
            })
            .unwrap_or(64 * 1024);
        // JSON is UTF-8 (RFC 8259); a body declared in another charset is refused, not misread.
        let content_type_ok = match req.mime_type() {
            Ok(Some(mime)) => {
                mime.type_() == "application"
                    && (mime.subtype() == "json" || mime.suffix().is_some_and(|s| s == "json"))
                    && mime
                        .get_param("charset")
                        .is_none_or(|charset| charset.as_str().eq_ignore_ascii_case("utf-8"))
            }
            _ => false,
        };
        let declared_length = req
            .headers()
            .get(actix_web::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let max_depth = req
            .app_data::<actix_web::web::Data<Limits>>()
            .map_or(crate::config::DEFAULT_JSON_MAX_DEPTH, |l| l.json_max_depth);
        let permits = req.app_data::<BodyPermits>().map(|p| p.0.clone());
        let mut payload = payload.take();
        Box::pin(async move {
            let permit = match permits {
                Some(p) => Some(p.acquire_owned().await.map_err(ApiError::internal)?),
                None => None,
            };
            if !content_type_ok {
                return Err(ApiError::client(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "the request body must be JSON in UTF-8, with Content-Type: application/json",
                ));
            }
            let too_large = || {
                ApiError::client(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    format!("the request body exceeds the limit of {limit} bytes"),
                )
            };
            if declared_length.is_some_and(|n| n > limit) {
                return Err(too_large());
            }
            let mut body = BytesMut::with_capacity(declared_length.unwrap_or(1024).min(limit));
            while let Some(chunk) = payload.next().await {
                let chunk =
                    chunk.map_err(|e| ApiError::bad_request("bad_body", format!("cannot read the body: {e}")))?;
                if body.len() + chunk.len() > limit {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            check_depth(&body, max_depth)?;
            parse(&body).map(|value| ApiJson(value, permit))
        })
    }
}

/// A JSON body that may be left out: no body at all (no Content-Type and no content) gives
/// `T::default()`; anything sent is parsed exactly as [`ApiJson`] parses it.
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Default + 'static> FromRequest for OptionalJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let headers = req.headers();
        let no_body = !headers.contains_key(actix_web::http::header::CONTENT_TYPE)
            && !headers.contains_key(actix_web::http::header::TRANSFER_ENCODING)
            && headers
                .get(actix_web::http::header::CONTENT_LENGTH)
                .is_none_or(|v| v.as_bytes() == b"0");
        if no_body {
            return Box::pin(async { Ok(OptionalJson(T::default())) });
        }
        let body = ApiJson::<T>::from_request(req, payload);
        Box::pin(async move { body.await.map(|b| OptionalJson(b.0)) })
    }
}

/// Refuses a body whose arrays and objects nest deeper than `max` with 400 `json_too_deep`.
/// One pass over the bytes, no recursion and no allocation, before any deserialising: a body of
/// 60,000 opening brackets is refused as cheaply as a short one. serde_json's own recursion
/// limit (128) stays as a second line of defence. Malformed JSON is left for the parser to name.
pub fn check_depth(bytes: &[u8], max: usize) -> Result<(), ApiError> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (offset, &b) in bytes.iter().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > max {
                    return Err(ApiError::bad_request(
                        "json_too_deep",
                        format!("the body nests arrays and objects deeper than {max} levels (at byte {offset})"),
                    ));
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Deserialises `bytes`, turning serde's error into a 400 or a 422 with a pointer. The whole
/// body is first read once as plain JSON, so a syntax error anywhere (a truncated body) is a 400
/// `malformed_json` before any field is judged, and a key repeated in any object, or a string or
/// key holding NUL, is a 422 at that place, whether the target type would have noticed it or not.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    unique_keys::check(bytes)?;
    if shape::wants_object::<T>()
        && bytes
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|&b| b != b'{')
    {
        // serde lets a struct be read from an array of its fields in order; the contract says
        // object, so an array (or anything else) is refused before it is read.
        if serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok() {
            return Err(ApiError::Validation(vec![FieldError::new("", "must be a JSON object")]));
        }
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(json_error)?;
    de.end().map_err(|e| classify(String::new(), e))?;
    Ok(value)
}

mod shape {
    use serde::de::{self, Deserialize, Visitor};

    /// Whether `T` reads a JSON object at its top level (a struct or a map), found by asking its
    /// `Deserialize` impl which shape it asks for first.
    pub fn wants_object<'de, T: Deserialize<'de>>() -> bool {
        matches!(T::deserialize(Probe), Err(e) if e.to_string() == OBJECT)
    }

    const OBJECT: &str = "object";

    struct Probe;

    impl<'de> de::Deserializer<'de> for Probe {
        type Error = de::value::Error;

        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("any"))
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            _: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom(OBJECT))
        }

        fn deserialize_map<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom(OBJECT))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct enum identifier ignored_any
        }
    }

    #[cfg(test)]
    mod tests {
        use std::collections::BTreeMap;

        #[derive(serde::Deserialize)]
        #[expect(dead_code)]
        struct Input {
            name: String,
        }

        #[test]
        fn structs_and_maps_want_objects_and_values_do_not() {
            assert!(super::wants_object::<Input>());
            assert!(super::wants_object::<BTreeMap<String, i64>>());
            assert!(!super::wants_object::<serde_json::Value>());
            assert!(!super::wants_object::<Vec<Input>>());
        }
    }
}

mod unique_keys {
    use std::cell::RefCell;
    use std::collections::HashSet;
    use std::fmt;

    use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

    use crate::domain::validation::escape_pointer_token;
    use crate::error::ApiError;

    /// Where the walk is, and the first refusal found there.
    #[derive(Default)]
    struct Walk {
        path: Vec<String>,
        refused: Option<(String, &'static str)>,
    }

    impl Walk {
        fn refuse(&mut self, why: &'static str) {
            self.refused = Some((format!("/{}", self.path.join("/")), why));
        }
    }

    const REPEATED: &str = "appears twice in the same object; send each key once";
    /// PostgreSQL cannot store NUL in text (SQLite can): it is refused here, the same on both.
    const NUL: &str = "must not contain a NUL character (\\u0000)";
    const NUL_KEY: &str = "has a key with a NUL character (\\u0000)";

    #[derive(Clone, Copy)]
    struct Node<'a>(&'a RefCell<Walk>);

    impl<'de> DeserializeSeed<'de> for Node<'_> {
        type Value = ();
        fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for Node<'_> {
        type Value = ();

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_bool<E>(self, _: bool) -> Result<(), E> {
            Ok(())
        }
        fn visit_i64<E>(self, _: i64) -> Result<(), E> {
            Ok(())
        }
        fn visit_u64<E>(self, _: u64) -> Result<(), E> {
            Ok(())
        }
        fn visit_f64<E>(self, _: f64) -> Result<(), E> {
            Ok(())
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
            if v.contains('\0') {
                self.0.borrow_mut().refuse(NUL);
                return Err(E::custom("NUL"));
            }
            Ok(())
        }
        fn visit_unit<E>(self) -> Result<(), E> {
            Ok(())
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            let mut index = 0usize;
            loop {
                self.0.borrow_mut().path.push(index.to_string());
                let more = seq.next_element_seed(self)?;
                self.0.borrow_mut().path.pop();
                if more.is_none() {
                    return Ok(());
                }
                index += 1;
            }
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            let mut seen = HashSet::new();
            while let Some(key) = map.next_key::<String>()? {
                let mut walk = self.0.borrow_mut();
                // Refused at its object: a pointer never carries the NUL itself.
                if key.contains('\0') {
                    walk.refuse(NUL_KEY);
                    return Err(de::Error::custom("NUL"));
                }
                walk.path.push(escape_pointer_token(&key));
                if !seen.insert(key) {
                    walk.refuse(REPEATED);
                    return Err(de::Error::custom("repeated key"));
                }
                drop(walk);
                map.next_value_seed(self)?;
                self.0.borrow_mut().path.pop();
            }
            Ok(())
        }
    }

    /// A syntax error is 400 `malformed_json`; a repeated key is 422 at its pointer.
    pub fn check(bytes: &[u8]) -> Result<(), ApiError> {
        let walk = RefCell::new(Walk::default());
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let result = Node(&walk).deserialize(&mut de).and_then(|()| de.end());
        let walk = walk.into_inner();
        match (result, walk.refused) {
            (Ok(()), _) => Ok(()),
            (Err(_), Some((pointer, why))) => Err(ApiError::invalid_field(pointer, why)),
            // The path still names where the walk stopped, for the one syntax error that is
            // about a field: a number out of range.
            (Err(e), None) => {
                let at: String = walk.path.iter().map(|token| format!("/{token}")).collect();
                Err(super::classify(at, e))
            }
        }
    }
}

/// Deserialises an already-parsed JSON value, with the same error mapping as a body.
pub fn from_value<T: DeserializeOwned>(value: &serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(json_error)
}

pub fn json_error(err: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let pointer = path_to_pointer(err.path());
    classify(pointer, err.into_inner())
}

fn classify(pointer: String, inner: serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    let message = strip_position(&inner.to_string());
    match inner.classify() {
        Category::Data => data_error(pointer, &message),
        Category::Syntax if message.starts_with("number out of range") && !pointer.is_empty() => {
            ApiError::invalid_field(pointer, "must be a finite number")
        }
        Category::Syntax | Category::Eof | Category::Io => ApiError::bad_request(
            "malformed_json",
            format!(
                "the body is not valid JSON: {message} at line {} column {}",
                inner.line(),
                inner.column()
            ),
        ),
    }
}

/// Missing and unknown fields are reported at the field itself, not at its parent object.
fn data_error(pointer: String, message: &str) -> ApiError {
    let quoted = |prefix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned)
    };
    if let Some(field) = quoted("missing field `") {
        return ApiError::invalid_field(format!("{pointer}/{}", escape_pointer_token(&field)), "is required");
    }
    if let Some(field) = quoted("unknown field `") {
        let at = if pointer.ends_with(&format!("/{}", escape_pointer_token(&field))) {
            pointer
        } else {
            format!("{pointer}/{}", escape_pointer_token(&field))
        };
        return ApiError::invalid_field(at, "is not a known field");
    }
    ApiError::Validation(vec![FieldError::new(pointer, message)])
}

fn path_to_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("/{index}")),
            Segment::Map { key } => out.push_str(&format!("/{}", escape_pointer_token(key))),
            Segment::Enum { .. } | Segment::Unknown => {}
        }
    }
    out
}

/// serde_json appends " at line L column C"; the pointer says where, so drop it for 422s.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::decision::DecisionDraft;

    fn pointers(body: &str) -> Vec<String> {
        match parse::<DecisionDraft>(body.as_bytes()) {
            Err(ApiError::Validation(errors)) => errors.into_iter().map(|e| e.pointer).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn syntax_errors_are_400_with_position() {
        match parse::<serde_json::Value>(b"{\n  \"a\": }") {
            Err(ApiError::Client { code, detail, .. }) => {
                assert_eq!(code, "malformed_json");
                assert!(detail.contains("line 2"), "{detail}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse::<serde_json::Value>(b"{} trailing"),
            Err(ApiError::Client { .. })
        ));
    }

    #[test]
    fn depth_is_counted_outside_strings_only() {
        let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(check_depth(nested(32).as_bytes(), 32).is_ok());
        assert!(matches!(
            check_depth(nested(33).as_bytes(), 32),
            Err(ApiError::Client {
                code: "json_too_deep",
                ..
            })
        ));
        let in_string = format!(r#"{{"a": "{}\\", "b": "\"[[["}}"#, "[".repeat(100));
        assert!(check_depth(in_string.as_bytes(), 2).is_ok(), "{in_string}");
        assert!(check_depth(b"[[[", 2).is_err());
    }

    #[test]
    fn syntax_errors_win_over_field_errors_and_repeated_keys_are_pointed_at() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[expect(dead_code)]
        struct Typed {
            a: u32,
        }
        let truncated = parse::<Typed>(br#"{"broken":"#).unwrap_err();
        assert!(
            matches!(&truncated, ApiError::Client { code, .. } if *code == "malformed_json"),
            "{truncated:?}"
        );
        assert_eq!(pointers(r#"{"a":1,"a":2}"#), ["/a"]);
        let nested = parse::<serde_json::Value>(br#"{"inputs":{"x":1,"y":[{"k":1,"k":2}]}}"#).unwrap_err();
        assert!(
            matches!(&nested, ApiError::Validation(errors) if errors[0].pointer == "/inputs/y/0/k"),
            "{nested:?}"
        );
        assert!(
            parse::<serde_json::Value>(br#"{"a":{"k":1},"b":{"k":1}}"#).is_ok(),
            "same key, two objects"
        );
    }

    #[test]
    fn a_nul_in_any_string_or_key_is_refused_where_it_is_but_an_escaped_backslash_is_not() {
        let at = |body: &[u8]| match parse::<serde_json::Value>(body) {
            Err(ApiError::Validation(errors)) => Some(errors[0].pointer.clone()),
            _ => None,
        };
        assert_eq!(at(br#"{"a":"x\u0000y"}"#).as_deref(), Some("/a"));
        assert_eq!(
            at(br#"{"a":[1,{"k\u0000":1}]}"#).as_deref(),
            Some("/a/1"),
            "at the key's object"
        );
        assert_eq!(at(br#"{"a":"x\\u0000y"}"#), None, "a backslash, then u0000");
        assert_eq!(at(br#"{"a":"\u0001"}"#), None);
    }

    #[test]
    fn shape_errors_point_at_the_field() {
        assert_eq!(pointers(r#"{"external_id": 5}"#), ["/external_id"]);
        assert_eq!(pointers(r#"{"external_id": "x"}"#), ["/subject_id"]);
        assert_eq!(pointers(r#"{"surprise": 1}"#), ["/surprise"]);
        assert_eq!(
            pointers(r#"{"external_id":"a","subject_id":"b","decision_type":"c","outcome":"d","score":1e999}"#),
            ["/score"]
        );
    }
}
