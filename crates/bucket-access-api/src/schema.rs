//! Schema pieces the derive cannot express: the principal ARNs (patterns built from the partition list), the
//! `actions` enum and the free-form (but structural) context.

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

/// The pattern of a role or user ARN (`kind`): a known partition, a literal account, IAM's path and name
/// grammar (`PrincipalArn::parse` is the exact rule; this is what admission can say of it).
fn principal_arn(kind: &str) -> Schema {
    let partitions = iam_policy::arn::PARTITIONS.map(|(p, _)| p).join("|");
    let pattern =
        format!(r"^arn:({partitions}):iam::[0-9]{{12}}:{kind}/([\x21-\x7E]*/)?[\w+=,.@-]{{1,64}}$");
    json_schema!({"type": "string", "nullable": true, "maxLength": 700, "pattern": pattern})
}

/// A scope's `principals`: 1 to 256 patterns, each with a known partition and a literal account (the
/// partitions come from the one list, `iam_policy::arn::PARTITIONS`).
pub fn principal_patterns(_: &mut SchemaGenerator) -> Schema {
    let partitions = iam_policy::arn::PARTITIONS.map(|(p, _)| p).join("|");
    let pattern = format!(r"^arn:({partitions}):iam::[0-9]{{12}}:(role/[^\s]+|user/[^\s]+|\*\*)$");
    json_schema!({
        "type": "array",
        "minItems": 1,
        "maxItems": 256,
        "items": {"type": "string", "maxLength": 2048, "pattern": pattern}
    })
}

/// `roleArn`.
pub fn role_arn(_: &mut SchemaGenerator) -> Schema {
    principal_arn("role")
}

/// `userArn`.
pub fn user_arn(_: &mut SchemaGenerator) -> Schema {
    principal_arn("user")
}

/// `readRoleArns`: account ids → role ARNs, bounded (the operator validates each).
pub fn read_role_arns(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "maxProperties": 100,
        "additionalProperties": {"type": "string", "maxLength": 2048}
    })
}

/// The JSON Schema of the snapshot format (what `snapshot` writes and `diagnose` reads), generated from the
/// diagnosis's own types: every enumerated field carries the values the diagnosis accepts, from the same
/// lists its validation uses. `docs/snapshot.schema.json` is this, written by `make crds`.
pub fn snapshot_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(s3_diagnosis::snapshot::Snapshot);
    schema.to_value()
}
