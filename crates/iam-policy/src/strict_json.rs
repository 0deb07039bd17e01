//! JSON text to a `serde_json::Value` that refuses duplicate object keys. `serde_json` keeps the last of two
//! equal keys silently; in a policy that hides a second `Effect`, `Statement` or condition operator (IAM
//! Access Analyzer flags them), so a document read from text goes through here and a duplicate is an error
//! with its JSON pointer. Also bounds nesting depth (serde_json stops at 128 levels by itself). Hand-written:
//! no maintained crate offers a duplicate-refusing `Value`, and it is one small visitor.

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

/// Why a text is not strict JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StrictJsonError {
    /// An object has the same key twice.
    #[error("duplicate key `{key}` at `{pointer}`")]
    DuplicateKey {
        /// The key.
        key: String,
        /// The JSON pointer of the object that holds it twice.
        pointer: String,
    },
    /// Not JSON at all.
    #[error("{0}")]
    Syntax(String),
}

/// Parses `text`, refusing duplicate keys at any depth.
pub fn from_str(text: &str) -> Result<Value, StrictJsonError> {
    let mut found = None;
    let mut de = serde_json::Deserializer::from_str(text);
    let value = Seed {
        pointer: String::new(),
        found: &mut found,
    }
    .deserialize(&mut de)
    .and_then(|v| de.end().map(|()| v));
    match (found, value) {
        (Some(duplicate), _) => Err(duplicate),
        (None, Ok(value)) => Ok(value),
        (None, Err(e)) => Err(StrictJsonError::Syntax(e.to_string())),
    }
}

/// One value at `pointer`; the first duplicate found is stored in `found` (and aborts the parse).
struct Seed<'f> {
    pointer: String,
    found: &'f mut Option<StrictJsonError>,
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        loop {
            let seed = Seed {
                pointer: format!("{}/{}", self.pointer, items.len()),
                found: &mut *self.found,
            };
            match seq.next_element_seed(seed)? {
                Some(item) => items.push(item),
                None => return Ok(Value::Array(items)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                let pointer = if self.pointer.is_empty() {
                    "/".to_owned()
                } else {
                    self.pointer.clone()
                };
                *self.found = Some(StrictJsonError::DuplicateKey {
                    key: key.clone(),
                    pointer,
                });
                return Err(serde::de::Error::custom("duplicate key"));
            }
            let seed = Seed {
                pointer: format!("{}/{}", self.pointer, escape_pointer(&key)),
                found: &mut *self.found,
            };
            let value = map.next_value_seed(seed)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// Escapes one JSON pointer segment (RFC 6901).
pub fn escape_pointer(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_duplicates_at_any_depth_with_their_pointer() {
        assert_eq!(
            from_str(r#"{"Statement": [{"Effect": "Allow", "Effect": "Deny"}]}"#),
            Err(StrictJsonError::DuplicateKey {
                key: "Effect".into(),
                pointer: "/Statement/0".into()
            })
        );
        assert!(matches!(
            from_str(r#"{"a": 1, "a": 2}"#),
            Err(StrictJsonError::DuplicateKey { pointer, .. }) if pointer == "/"
        ));
        assert_eq!(
            from_str(r#"{"a": [1, {"b": null}], "c": "d"}"#).unwrap(),
            serde_json::json!({"a": [1, {"b": null}], "c": "d"})
        );
        assert!(matches!(from_str("{"), Err(StrictJsonError::Syntax(_))));
        assert!(matches!(from_str("{} x"), Err(StrictJsonError::Syntax(_))));
    }
}
