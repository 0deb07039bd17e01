//! The AWS policy grammar: JSON (object, string, or percent-encoded string as IAM returns it) into `model`
//! types. Every problem is collected with a JSON pointer; a statement with a problem is kept and marked
//! `broken`, so that evaluation can still prove it does not apply.

use super::elements::{display, kind_of};
use super::model::{ActionElement, InputError, Policy, Statement, Version};
use super::strict_json::{self, escape_pointer, StrictJsonError};
use serde_json::{Map, Value};

mod statement;

use statement::parse_statement;

/// Which kind of policy a document is: decides whether `Principal` is required, allowed or forbidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// Identity-based policy (managed, inline, group).
    Identity,
    /// Permissions boundary.
    PermissionBoundary,
    /// Session policy.
    SessionPolicy,
    /// Service control policy.
    Scp,
    /// Resource control policy (Principal required).
    Rcp,
    /// Bucket policy or KMS key policy (Principal required).
    Resource,
    /// VPC endpoint policy (Principal optional: absent means everyone).
    VpcEndpoint,
}

impl PolicyKind {
    fn principal_rule(self) -> PrincipalRule {
        match self {
            Self::Identity | Self::PermissionBoundary | Self::SessionPolicy | Self::Scp => {
                PrincipalRule::Forbidden
            }
            Self::Rcp | Self::Resource => PrincipalRule::Required,
            Self::VpcEndpoint => PrincipalRule::Optional,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Identity => "an identity-based policy",
            Self::PermissionBoundary => "a permissions boundary",
            Self::SessionPolicy => "a session policy",
            Self::Scp => "a service control policy",
            Self::Rcp => "a resource control policy",
            Self::Resource => "a resource-based policy",
            Self::VpcEndpoint => "a VPC endpoint policy",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PrincipalRule {
    Forbidden,
    Required,
    Optional,
}

/// Percent-decodes `text` (RFC 3986, as IAM encodes policy documents). `None` when the result is not UTF-8
/// or an escape is malformed.
pub fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Reads a document that is a JSON object, or a string holding one (possibly percent-encoded). An object is
/// borrowed, not copied.
pub fn document_value<'a>(
    document: &'a Value,
    pointer: &str,
) -> Result<std::borrow::Cow<'a, Value>, InputError> {
    match document {
        Value::String(text) => {
            let parsed = strict_json::from_str(text).or_else(|first| {
                match (
                    &first,
                    text.contains('%').then(|| percent_decode(text)).flatten(),
                ) {
                    (StrictJsonError::Syntax(_), Some(decoded)) => strict_json::from_str(&decoded),
                    _ => Err(first),
                }
            });
            parsed
                .map(std::borrow::Cow::Owned)
                .map_err(|e| match e {
                    StrictJsonError::DuplicateKey { key, pointer: at } => InputError {
                        pointer: format!("{pointer}{}", if at == "/" { "" } else { &at }),
                        message: format!(
                            "duplicate key `{key}`: a second value would be silently dropped (IAM Access Analyzer reports it); the document cannot be read for certain"
                        ),
                    },
                    StrictJsonError::Syntax(e) => InputError {
                        pointer: pointer.to_owned(),
                        message: format!(
                            "the policy document is not valid JSON (nor percent-encoded JSON): {e}"
                        ),
                    },
                })
        }
        other => Ok(std::borrow::Cow::Borrowed(other)),
    }
}

/// Parses one policy document given as JSON (object or string). Never fails: problems are in `errors`.
pub fn parse_policy(id: &str, document: &Value, kind: PolicyKind, pointer: &str) -> Policy {
    parse_policy_for(id, document, kind, pointer, None)
}

/// Like `parse_policy`, but statements whose `Action` can match none of `actions` (lowercase) are kept only
/// as placeholders that never apply: not compiled, and not validated. For callers that evaluate a known,
/// small set of actions against large documents (the diagnosis). `NotAction` statements are always parsed.
pub fn parse_policy_for(
    id: &str,
    document: &Value,
    kind: PolicyKind,
    pointer: &str,
    actions: Option<&[&str]>,
) -> Policy {
    match document_value(document, pointer) {
        Ok(value) => parse_value(id, value.as_ref(), kind, pointer, actions),
        Err(error) => Policy::unreadable(id, error),
    }
}

/// Whether a raw statement's `Action` may match one of `actions`; true when in doubt.
fn may_apply(statement: &Map<String, Value>, actions: &[&str]) -> bool {
    let matches = |pattern: &Value| match pattern {
        Value::String(p) => {
            // The text before the first wildcard must begin the action: most patterns name another service
            // and fail this byte comparison without a call to the matcher.
            let literal = p
                .as_bytes()
                .split(|&b| b == b'*' || b == b'?')
                .next()
                .unwrap_or_default();
            actions.iter().any(|a| {
                a.as_bytes()
                    .get(..literal.len())
                    .is_some_and(|start| start.eq_ignore_ascii_case(literal))
                    && super::glob::wild_match_text_folded(p.as_bytes(), a.as_bytes())
            })
        }
        _ => true,
    };
    match statement.get("Action") {
        Some(Value::Array(list)) => list.iter().any(matches),
        Some(single) => matches(single),
        None => true,
    }
}

/// A statement that can never apply, standing in for one that was not parsed.
fn placeholder_statement() -> Statement {
    Statement {
        sid: None,
        effect: None,
        principal: None,
        action: Some(ActionElement {
            negated: false,
            patterns: Vec::new(),
            written: Vec::new(),
        }),
        resource: None,
        conditions: Vec::new(),
        broken: false,
    }
}

/// Parses a policy from its JSON text.
pub fn parse_policy_text(id: &str, text: &str, kind: PolicyKind) -> Policy {
    parse_policy(id, &Value::String(text.to_owned()), kind, "")
}

/// The most statements of one policy that are read: a key policy, AWS's largest, holds 32 KB.
pub const MAX_STATEMENTS: usize = 2000;

fn parse_value(
    id: &str,
    value: &Value,
    kind: PolicyKind,
    pointer: &str,
    actions: Option<&[&str]>,
) -> Policy {
    let mut errors = Vec::new();
    let Some(object) = value.as_object() else {
        errors.push(InputError {
            pointer: pointer.to_owned(),
            message: format!(
                "a policy document must be a JSON object, not {}",
                kind_of(value)
            ),
        });
        return Policy {
            id: id.into(),
            version: Version::V2008_10_17,
            statements: std::sync::Arc::from([Statement::unreadable()]),
            errors,
        };
    };
    let version = policy_version(object, pointer, &mut errors);
    for key in object.keys() {
        if !matches!(key.as_str(), "Version" | "Id" | "Statement") {
            errors.push(InputError {
                pointer: format!("{pointer}/{}", escape_pointer(key)),
                message: format!(
                    "unknown policy element `{key}` (expected `Version`, `Id`, `Statement`)"
                ),
            });
        }
    }
    let statements = statements(object, kind, version, pointer, actions, &mut errors);
    Policy {
        id: id.into(),
        version,
        statements: statements.into(),
        errors,
    }
}

/// `Version`: absent is 2008-10-17 (no policy variables); an unknown one is an error, read as 2012-10-17.
fn policy_version(
    object: &Map<String, Value>,
    pointer: &str,
    errors: &mut Vec<InputError>,
) -> Version {
    match object.get("Version") {
        None => Version::V2008_10_17,
        Some(Value::String(v)) if v == "2012-10-17" => Version::V2012_10_17,
        Some(Value::String(v)) if v == "2008-10-17" => Version::V2008_10_17,
        Some(other) => {
            errors.push(InputError {
                pointer: format!("{pointer}/Version"),
                message: format!(
                    "`Version` must be `2012-10-17` or `2008-10-17`, not `{}`",
                    display(other)
                ),
            });
            Version::V2012_10_17
        }
    }
}

/// `Statement`: one object or an array of them; what cannot be read is an unreadable statement (it proves
/// nothing), and a statement that cannot apply to `actions` is a placeholder (not parsed).
fn statements(
    object: &Map<String, Value>,
    kind: PolicyKind,
    version: Version,
    pointer: &str,
    actions: Option<&[&str]>,
    errors: &mut Vec<InputError>,
) -> Vec<Statement> {
    let mut unreadable = |at: String, message: String| {
        errors.push(InputError {
            pointer: at,
            message,
        });
        vec![Statement::unreadable()]
    };
    let list = match object.get("Statement") {
        None => return unreadable(pointer.to_owned(), "the policy has no `Statement`".to_owned()),
        Some(Value::Object(single)) => {
            return vec![parse_statement(
                single,
                kind,
                version,
                &|| format!("{pointer}/Statement"),
                errors,
            )]
        }
        Some(Value::Array(list)) if list.len() > MAX_STATEMENTS => {
            return unreadable(
                format!("{pointer}/Statement"),
                format!(
                    "{} statements: AWS allows no policy that large (its largest hold 32 KB, a few hundred statements), and at most {MAX_STATEMENTS} are read",
                    list.len()
                ),
            )
        }
        Some(Value::Array(list)) => list,
        Some(other) => {
            return unreadable(
                format!("{pointer}/Statement"),
                format!(
                    "`Statement` must be an object or an array of objects, not {}",
                    kind_of(other)
                ),
            )
        }
    };
    let mut statements = Vec::with_capacity(list.len());
    for (index, item) in list.iter().enumerate() {
        let at = || format!("{pointer}/Statement/{index}");
        statements.push(match item.as_object() {
            Some(single) if actions.is_some_and(|a| !may_apply(single, a)) => {
                placeholder_statement()
            }
            Some(single) => parse_statement(single, kind, version, &at, errors),
            None => {
                errors.push(InputError {
                    pointer: at(),
                    message: format!("a statement must be a JSON object, not {}", kind_of(item)),
                });
                Statement::unreadable()
            }
        });
    }
    statements
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elements::aws_principal;
    use crate::model::PrincipalEntry;
    use serde_json::json;

    #[test]
    fn string_or_array_and_single_statement() {
        let p = parse_policy(
            "p",
            &json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}}),
            PolicyKind::Identity,
            "",
        );
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(p.statements.len(), 1);
    }

    #[test]
    fn percent_encoded_documents() {
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3A%2A%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D";
        let p = parse_policy_text("p", encoded, PolicyKind::Identity);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(p.statements.len(), 1);
    }

    #[test]
    fn collects_every_problem_with_pointers() {
        let p = parse_policy(
            "p",
            &json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Alow", "Action": "s3:PutObject", "Resource": "*"},
                {"Effect": "Allow", "Action": "PutObject", "Resource": "*", "Condition": {"StringEqualz": {"a": "b"}}},
                {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}
            ]}),
            PolicyKind::Identity,
            "/identityPolicies/0",
        );
        let pointers: Vec<_> = p.errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/identityPolicies/0/Statement/0/Effect",
                "/identityPolicies/0/Statement/1/Action/0",
                "/identityPolicies/0/Statement/1/Condition/StringEqualz",
                "/identityPolicies/0/Statement/2/Principal",
            ]
        );
        assert!(p.statements.iter().all(|s| s.broken));
    }

    #[test]
    fn principal_forms() {
        assert_eq!(
            aws_principal("111122223333"),
            Ok(PrincipalEntry::Account("111122223333".into()))
        );
        assert_eq!(
            aws_principal("arn:aws:iam::111122223333:root"),
            Ok(PrincipalEntry::Account("111122223333".into()))
        );
        assert!(
            matches!(aws_principal("arn:aws:iam::111122223333:role/a/b"), Ok(PrincipalEntry::Role { name, .. }) if name == "b")
        );
        assert!(matches!(
            aws_principal("AROAEXAMPLEID12345678"),
            Ok(PrincipalEntry::UniqueId(_))
        ));
        assert!(aws_principal("arn:aws:iam::111122223333:role/*").is_err());
        assert!(aws_principal("arn:aws:iam::*:root").is_err());
    }
}
