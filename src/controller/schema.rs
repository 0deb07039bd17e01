//! Schema pieces the derive cannot express: the `actions` enum and the free-form (but structural) context.

use schemars::{json_schema, Schema, SchemaGenerator};

/// `actions`: a list of `PutObject` / `GetObject`.
pub fn actions(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "array",
        "items": {"type": "string", "enum": ["PutObject", "GetObject"]}
    })
}

/// `context`: keys → a string or a list of strings (kept as given; validated by the operator).
pub fn context(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "maxProperties": 64,
        "additionalProperties": {"x-kubernetes-preserve-unknown-fields": true}
    })
}
