//! The elements of a statement that need more than a string list: the `Condition` block (operators, keys,
//! values) and the `Principal` / `NotPrincipal` element (AWS account, role, user, session, service,
//! federated, canonical user). Every problem is collected with its JSON pointer.

use super::arn::{is_account_id, Arn};
use super::condition::parse_operand;
use super::model::{Condition, PrincipalEntry, Version};
use super::operator::Operator;
use super::strict_json::escape_pointer;
use serde_json::{Map, Value};

pub(crate) fn parse_conditions(
    block: &Map<String, Value>,
    version: Version,
    pointer: &dyn Fn() -> String,
    err: &mut impl FnMut(String, String),
) -> Vec<Condition> {
    let mut conditions = Vec::new();
    for (op_name, keys) in block {
        let op_at = || format!("{}/{}", pointer(), escape_pointer(op_name));
        let operator = match Operator::parse(op_name) {
            Ok(op) => op,
            Err(message) => {
                err(op_at(), message);
                continue;
            }
        };
        let Some(keys) = keys.as_object() else {
            err(
                op_at(),
                format!(
                    "the value of condition operator `{op_name}` must be an object of keys, not {}",
                    kind_of(keys)
                ),
            );
            continue;
        };
        for (key, values) in keys {
            let key_at = || format!("{}/{}", op_at(), escape_pointer(key));
            let Some(written) = string_list(values, &key_at, key, err) else {
                continue;
            };
            if written.is_empty() {
                err(
                    key_at(),
                    format!("condition key `{key}` under `{op_name}` has no values"),
                );
                continue;
            }
            let mut operands = Vec::with_capacity(written.len());
            for (i, value) in written.iter().enumerate() {
                match parse_operand(operator.kind, value, version == Version::V2012_10_17) {
                    Ok(operand) => operands.push(operand),
                    Err(message) => err(format!("{}/{i}", key_at()), message),
                }
            }
            if operands.len() != written.len() {
                continue;
            }
            conditions.push(Condition {
                operator: operator.clone(),
                key: key.clone(),
                key_lower: key.to_ascii_lowercase(),
                values: operands,
                written,
            });
        }
    }
    conditions
}

/// A string, or an array of strings; numbers and booleans are taken as their text (as AWS does in conditions).
pub(crate) fn string_list(
    value: &Value,
    pointer: &dyn Fn() -> String,
    name: &str,
    err: &mut impl FnMut(String, String),
) -> Option<Vec<String>> {
    let list = string_list_unbounded(value, pointer, name, err)?;
    // AWS's largest policy (a key policy) holds 32 KB: a longer value cannot come from AWS, and matching
    // it against a request value costs in proportion to both lengths.
    if let Some((i, _)) = list
        .iter()
        .enumerate()
        .find(|(_, v)| v.len() > MAX_VALUE_BYTES)
    {
        err(
            format!("{}/{i}", pointer()),
            format!("a value of `{name}` longer than {MAX_VALUE_BYTES} bytes cannot be read: AWS allows no policy that large"),
        );
        return None;
    }
    Some(list)
}

/// The longest value of a policy element that is read.
pub const MAX_VALUE_BYTES: usize = 32 * 1024;

fn string_list_unbounded(
    value: &Value,
    pointer: &dyn Fn() -> String,
    name: &str,
    err: &mut impl FnMut(String, String),
) -> Option<Vec<String>> {
    let scalar = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    match value {
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                match scalar(item) {
                    Some(s) => out.push(s),
                    None => {
                        err(
                            format!("{}/{i}", pointer()),
                            format!("values of `{name}` must be strings, not {}", kind_of(item)),
                        );
                        return None;
                    }
                }
            }
            Some(out)
        }
        other => match scalar(other) {
            Some(s) => Some(vec![s]),
            None => {
                err(
                    pointer(),
                    format!(
                        "`{name}` must be a string or an array of strings, not {}",
                        kind_of(other)
                    ),
                );
                None
            }
        },
    }
}

pub(crate) fn parse_principal(
    value: &Value,
    pointer: &dyn Fn() -> String,
    err: &mut impl FnMut(String, String),
) -> Option<Vec<PrincipalEntry>> {
    match value {
        Value::String(s) if s == "*" => Some(vec![PrincipalEntry::Everyone]),
        Value::Object(map) => {
            let mut entries = Vec::new();
            let mut ok = true;
            for (kind, values) in map {
                let at = || format!("{}/{}", pointer(), escape_pointer(kind));
                let Some(list) = string_list(values, &at, kind, err) else {
                    ok = false;
                    continue;
                };
                for (i, text) in list.into_iter().enumerate() {
                    let entry = match kind.as_str() {
                        "AWS" => aws_principal(&text),
                        "Service" => Ok(PrincipalEntry::Service(text)),
                        "Federated" => Ok(PrincipalEntry::Federated(text)),
                        "CanonicalUser" => Ok(PrincipalEntry::CanonicalUser(text)),
                        other => Err(format!(
                            "unknown principal type `{other}` (expected `AWS`, `Service`, `Federated`, `CanonicalUser`)"
                        )),
                    };
                    match entry {
                        Ok(entry) => entries.push(entry),
                        Err(message) => {
                            ok = false;
                            err(format!("{}/{i}", at()), message);
                        }
                    }
                }
            }
            ok.then_some(entries)
        }
        other => {
            err(
                pointer(),
                format!(
                    "a principal must be `\"*\"` or an object such as {{\"AWS\": ...}}, not `{}`",
                    display(other)
                ),
            );
            None
        }
    }
}

/// One value of `"AWS"` in a principal.
pub(crate) fn aws_principal(text: &str) -> Result<PrincipalEntry, String> {
    if text == "*" {
        return Ok(PrincipalEntry::Everyone);
    }
    if is_account_id(text) {
        return Ok(PrincipalEntry::Account(text.to_owned()));
    }
    if text.len() >= 16
        && text.starts_with('A')
        && text
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        return Ok(PrincipalEntry::UniqueId(text.to_owned()));
    }
    let bad = || {
        format!("principal `{text}` is not an account id, an account, role, user or session ARN, or `*`")
    };
    let arn = Arn::parse(text).map_err(|_| bad())?;
    if text.contains('*') || text.contains('?') {
        return Err(format!(
            "principal `{text}` has a wildcard: principal ARNs take none; use `\"Principal\": \"*\"` with an `ArnLike` condition on `aws:PrincipalArn`"
        ));
    }
    if !is_account_id(arn.account) {
        return Err(bad());
    }
    let account = arn.account.to_owned();
    match (arn.service, arn.resource.split_once('/')) {
        ("iam", None) if arn.resource == "root" => Ok(PrincipalEntry::Account(account)),
        ("iam", Some(("role", rest))) if !rest.is_empty() => Ok(PrincipalEntry::Role {
            account,
            name: rest.rsplit('/').next().unwrap_or(rest).to_owned(),
            arn: text.to_owned(),
        }),
        ("iam", Some(("user", rest))) if !rest.is_empty() => Ok(PrincipalEntry::User {
            arn: text.to_owned(),
        }),
        ("sts", Some(("assumed-role", rest))) => match rest.split_once('/') {
            Some((role, session)) if !role.is_empty() && !session.is_empty() => {
                Ok(PrincipalEntry::RoleSession {
                    account,
                    role: role.to_owned(),
                    session: session.to_owned(),
                })
            }
            _ => Err(bad()),
        },
        ("sts", Some(("federated-user", _))) => Ok(PrincipalEntry::FederatedUser {
            arn: text.to_owned(),
        }),
        _ => Err(bad()),
    }
}

pub(crate) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(crate) fn display(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => {
            let text = other.to_string();
            if text.len() > 60 {
                format!("{}…", text.chars().take(60).collect::<String>())
            } else {
                text
            }
        }
    }
}
