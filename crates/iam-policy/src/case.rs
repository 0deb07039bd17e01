//! The simulate case format: one JSON file → a request and its policies, and the JSON line the `simulate`
//! command prints for it.

use super::arn::Arn;
use super::context::{Context, ContextValue, Principal, Request};
use super::eval::{evaluate, PolicySet};
use super::model::InputError;
use super::outcome::{Classification, Decision, Evaluation};
use super::parse::{parse_policy, PolicyKind};
use super::trace::{locate, mismatches, LayerOutcomes, MismatchDetail, StatementLocation};
use serde::Serialize;
use serde_json::Value;

/// The longest request value (resource or context value) a case may give: S3 keys are at most 1,024 bytes
/// and ARNs 2,048; matching costs in proportion to the value's length.
pub const MAX_REQUEST_VALUE_BYTES: usize = 4096;

/// Why a case file cannot be evaluated at all (exit code 4).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    /// Not JSON.
    #[error("case `{name}` is not valid JSON: {message}")]
    InvalidJson {
        /// The case file.
        name: String,
        /// The parser's message.
        message: String,
    },
    /// A required field is missing.
    #[error("case `{name}` has no `{field}`")]
    MissingField {
        /// The case.
        name: String,
        /// The field.
        field: &'static str,
    },
    /// A field has the wrong type or an unusable value.
    #[error("case `{name}`: `{field}` {message}")]
    InvalidField {
        /// The case.
        name: String,
        /// The field.
        field: String,
        /// What is wrong.
        message: String,
    },
}

/// A loaded case.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// The case's name.
    pub name: String,
    /// The request.
    pub request: Request,
    /// The policies.
    pub policies: PolicySet,
    /// The expected decision, if given.
    pub expect: Option<Decision>,
}

/// Parses a case from its JSON text; `fallback_name` names it when it has no `name`.
pub fn load_case(text: &str, fallback_name: &str) -> Result<Case, CaseError> {
    let value: Value = serde_json::from_str(text).map_err(|e| CaseError::InvalidJson {
        name: fallback_name.to_owned(),
        message: e.to_string(),
    })?;
    load_case_value(&value, fallback_name)
}

/// Parses a case from a JSON value.
pub fn load_case_value(value: &Value, fallback_name: &str) -> Result<Case, CaseError> {
    let name = value
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or(fallback_name)
        .to_owned();
    let invalid = |field: &str, message: String| CaseError::InvalidField {
        name: name.clone(),
        field: field.to_owned(),
        message,
    };
    if !value.is_object() {
        return Err(invalid("(root)", "must be a JSON object".to_owned()));
    }
    let required = |field: &'static str| -> Result<&str, CaseError> {
        match value.get(field) {
            None | Some(Value::Null) => Err(CaseError::MissingField {
                name: name.clone(),
                field,
            }),
            Some(Value::String(s)) => Ok(s.as_str()),
            Some(_) => Err(invalid(field, "must be a string".to_owned())),
        }
    };
    let principal_text = required("principal")?;
    let action = required("action")?;
    let resource = required("resource")?;
    if resource.len() > MAX_REQUEST_VALUE_BYTES {
        return Err(invalid(
            "resource",
            format!("longer than {MAX_REQUEST_VALUE_BYTES} bytes"),
        ));
    }
    let principal = Principal::parse(principal_text)
        .map_err(|e| invalid("principal", format!("is unusable: {e}")))?;
    if !action.contains(':') {
        return Err(invalid(
            "action",
            format!("`{action}` is not of the form `service:action`"),
        ));
    }

    let resource_account = resource_account(value, resource, &name, &invalid)?;
    let context = case_context(value, &invalid)?;
    let policies = case_policies(value, &invalid)?;
    let expect = match value.get("expect") {
        None | Some(Value::Null) => None,
        Some(v) => Some(serde_json::from_value::<Decision>(v.clone()).map_err(|_| {
            invalid(
                "expect",
                "must be `Allowed`, `ImplicitDeny` or `ExplicitDeny`".to_owned(),
            )
        })?),
    };
    Ok(Case {
        request: Request::new(principal, action, resource, resource_account, context),
        name,
        policies,
        expect,
    })
}

/// Builds the error of one field of the case.
type Invalid<'a> = dyn Fn(&str, String) -> CaseError + 'a;

/// `resourceAccount`, or the account of the resource's ARN; an S3 ARN (which has none) needs it.
fn resource_account(
    value: &Value,
    resource: &str,
    name: &str,
    invalid: &Invalid<'_>,
) -> Result<Option<String>, CaseError> {
    match value.get("resourceAccount") {
        Some(Value::String(s)) => Ok(Some(s.clone())),
        None | Some(Value::Null) => {
            let from_arn = Arn::parse(resource)
                .ok()
                .map(|a| a.account)
                .filter(|a| !a.is_empty());
            match from_arn {
                Some(account) => Ok(Some(account.to_owned())),
                None if resource.starts_with("arn:aws:s3:::") => Err(CaseError::MissingField {
                    name: name.to_owned(),
                    field: "resourceAccount",
                }),
                None => Ok(None),
            }
        }
        Some(_) => Err(invalid("resourceAccount", "must be a string".to_owned())),
    }
}

/// The request context: `context` (a string or an array of strings per key) and the extension
/// `unknownContextKeys` (keys every such request carries whose values the case does not know).
fn case_context(value: &Value, invalid: &Invalid<'_>) -> Result<Context, CaseError> {
    let mut context = Context::default();
    match value.get("context") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (key, v) in map {
                context.insert(key.clone(), context_value(key, v, invalid)?);
            }
        }
        Some(_) => return Err(invalid("context", "must be an object".to_owned())),
    }
    for key in key_list(value, "unknownContextKeys", invalid)? {
        context.insert_unknown(key);
    }
    // Keys the request may or may not carry (a tag of a resource whose tags were not read).
    for key in key_list(value, "unknownPresenceContextKeys", invalid)? {
        context.insert_unknown_presence(key);
    }
    Ok(context)
}

/// The keys listed in `field` (an array of strings, or absent).
fn key_list(value: &Value, field: &str, invalid: &Invalid<'_>) -> Result<Vec<String>, CaseError> {
    let not_strings = || invalid(field, "must be an array of strings".to_owned());
    match value.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(keys)) => keys
            .iter()
            .map(|k| k.as_str().map(str::to_owned).ok_or_else(not_strings))
            .collect(),
        Some(_) => Err(not_strings()),
    }
}

/// One context key's value: a scalar or an array of scalars, none longer than a request AWS accepts.
fn context_value(key: &str, v: &Value, invalid: &Invalid<'_>) -> Result<ContextValue, CaseError> {
    let parsed = match v {
        Value::Array(items) => items
            .iter()
            .map(scalar_text)
            .collect::<Option<Vec<_>>>()
            .map(ContextValue::Many),
        other => scalar_text(other).map(ContextValue::One),
    };
    let parsed = parsed.ok_or_else(|| {
        invalid(
            &format!("context/{key}"),
            "must be a string or an array of strings".to_owned(),
        )
    })?;
    let longest = match &parsed {
        ContextValue::One(v) => v.len(),
        ContextValue::Many(vs) => vs.iter().map(String::len).max().unwrap_or(0),
    };
    if longest > MAX_REQUEST_VALUE_BYTES {
        return Err(invalid(
            &format!("context/{key}"),
            format!(
                "a value longer than {MAX_REQUEST_VALUE_BYTES} bytes is not a request AWS accepts"
            ),
        ));
    }
    Ok(parsed)
}

/// The case's policies, by layer.
fn case_policies(value: &Value, invalid: &Invalid<'_>) -> Result<PolicySet, CaseError> {
    Ok(PolicySet {
        identity: policy_list(value, "identityPolicies", PolicyKind::Identity)
            .map_err(|m| invalid("identityPolicies", m))?,
        permission_boundary: optional_policy(
            value,
            "permissionBoundary",
            PolicyKind::PermissionBoundary,
        ),
        session_policy: optional_policy(value, "sessionPolicy", PolicyKind::SessionPolicy),
        scps: levels(value, "scps", PolicyKind::Scp).map_err(|m| invalid("scps", m))?,
        rcps: levels(value, "rcps", PolicyKind::Rcp).map_err(|m| invalid("rcps", m))?,
        resource_policies: optional_policy(value, "resourcePolicy", PolicyKind::Resource)
            .into_iter()
            .collect(),
        vpc_endpoint_policy: optional_policy(value, "vpcEndpointPolicy", PolicyKind::VpcEndpoint),
    })
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn optional_policy(value: &Value, field: &str, kind: PolicyKind) -> Option<super::model::Policy> {
    match value.get(field) {
        None | Some(Value::Null) => None,
        Some(document) => Some(parse_policy(field, document, kind, &format!("/{field}"))),
    }
}

fn policy_list(
    value: &Value,
    field: &str,
    kind: PolicyKind,
) -> Result<Vec<super::model::Policy>, String> {
    match value.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => Ok(items
            .iter()
            .enumerate()
            .map(|(i, doc)| {
                parse_policy(&format!("{field}/{i}"), doc, kind, &format!("/{field}/{i}"))
            })
            .collect()),
        Some(_) => Err("must be an array of policy documents".to_owned()),
    }
}

fn levels(
    value: &Value,
    field: &str,
    kind: PolicyKind,
) -> Result<Vec<Vec<super::model::Policy>>, String> {
    match value.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(levels)) => levels
            .iter()
            .enumerate()
            .map(|(level, item)| match item {
                Value::Array(docs) => Ok(docs
                    .iter()
                    .enumerate()
                    .map(|(i, doc)| {
                        parse_policy(
                            &format!("{field}/{level}/{i}"),
                            doc,
                            kind,
                            &format!("/{field}/{level}/{i}"),
                        )
                    })
                    .collect()),
                _ => {
                    Err("must be an array of levels, each an array of policy documents".to_owned())
                }
            })
            .collect(),
        Some(_) => Err("must be an array of levels, each an array of policy documents".to_owned()),
    }
}

/// The JSON line `simulate` prints for a case (the spec's fields, then our documented extensions).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseResult {
    /// The case's name.
    pub name: String,
    /// The decision.
    pub decision: Decision,
    /// The statements that decided.
    pub determining_statements: Vec<StatementLocation>,
    /// Each layer's outcome.
    pub layers: LayerOutcomes,
    /// Context keys the policies read and the request lacked.
    pub missing_context_keys: Vec<String>,
    /// Problems in the input.
    pub errors: Vec<InputError>,
    /// Extension: why, as one word.
    pub classification: Classification,
    /// Extension: statements for this action that did not apply, and which element failed.
    pub mismatches: Vec<MismatchDetail>,
}

impl CaseResult {
    /// Evaluates a case.
    pub fn evaluate(case: &Case) -> Self {
        let evaluation = evaluate(&case.request, &case.policies);
        Self::from_evaluation(case, &evaluation)
    }

    /// Builds the output from an evaluation already made.
    pub fn from_evaluation(case: &Case, evaluation: &Evaluation) -> Self {
        Self {
            name: case.name.clone(),
            decision: evaluation.decision,
            determining_statements: evaluation
                .determining
                .iter()
                .map(|at| locate(&case.policies, at))
                .collect(),
            layers: evaluation.layers.map(|l| l.outcome),
            missing_context_keys: evaluation.missing_context_keys.clone(),
            errors: evaluation.errors.clone(),
            classification: evaluation.classification,
            mismatches: mismatches(evaluation, &case.policies, &case.request),
        }
    }
}
