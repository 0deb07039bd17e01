//! Exempting one caller from a Deny statement for one action on one resource, and for nothing more: the
//! statement keeps applying to everyone else (an `ArnNotEquals` exemption merged into its conditions, never
//! replacing them), and to the caller for every other action and resource it covered, through statements
//! restricted to the caller's ARN. Where IAM's grammar cannot subtract the checked action or resource (a
//! wildcard such as `s3:Put*` that covers other actions of the service, a resource pattern that covers the
//! checked resources and others), what the exemption would lift beyond them is said, and the caller gets no
//! edit. JSON in, JSON out.

use iam_policy::glob::{wild_match_text, wild_match_text_folded};
use serde_json::{json, Map, Value};

/// What is exempted: the caller's ARN (as `aws:PrincipalArn` holds it), the action, and the resource pattern
/// the check covers (the bucket's objects, `arn:aws:s3:::bucket/*`, or the key's ARN).
pub(super) struct Checked<'a> {
    /// The caller's ARN, as `aws:PrincipalArn` holds it.
    pub principal_arn: &'a str,
    /// The checked action (`s3:PutObject`).
    pub action: &'a str,
    /// The checked resources: one ARN, or one literal prefix followed by `*`.
    pub resource: &'a str,
}

/// The statements that replace a Deny, and what they would lift beyond the checked action and resource.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Exemption {
    /// The statement for everyone else, then the caller's statements for what it still denies them.
    pub statements: Vec<Value>,
    /// What else the exemption lifts for the caller (empty when it is exactly the checked request).
    pub beyond: Vec<String>,
}

/// The exemption of `checked` from `statement`; `None` when the statement is not an object with its
/// `Action`/`NotAction` and `Resource`/`NotResource` as strings. For the caller, the statement's actions and
/// resources minus the checked pair are split in two: every action on the other resources, and the other
/// actions on the checked resources.
pub(super) fn exempt(statement: &Value, checked: &Checked<'_>) -> Option<Exemption> {
    let original = statement.as_object()?;
    let actions = element(original, "Action", "NotAction")?;
    let resources = element(original, "Resource", "NotResource")?;
    let mut others = original.clone();
    add_condition_value(
        &mut others,
        "ArnNotEquals",
        "aws:PrincipalArn",
        checked.principal_arn,
    );
    let mut exemption = Exemption {
        statements: vec![Value::Object(others)],
        beyond: Vec::new(),
    };
    let mut caller = |suffix: &str, action: Option<Part>, resource: Part| -> Option<()> {
        let mut statement = restricted_to_caller(original, checked, suffix)?;
        if let Some((name, list)) = action {
            statement.remove("Action");
            statement.remove("NotAction");
            statement.insert(name.to_owned(), json!(list));
        }
        let (name, list) = resource;
        statement.remove("Resource");
        statement.remove("NotResource");
        statement.insert(name.to_owned(), json!(list));
        exemption.statements.push(Value::Object(statement));
        Some(())
    };
    let mut beyond = Vec::new();
    // Every action of the statement, on its other resources.
    match without_checked_resources(&resources, checked) {
        Ok(Some(rest)) => caller("OtherResources", None, rest)?,
        Ok(None) => {}
        Err(lifted) => beyond.push(lifted.to_string()),
    }
    // The other actions, on the checked resources.
    match (
        checked_resources(&resources, checked),
        other_actions(&actions, checked),
    ) {
        (Ok(Some(within)), Ok(Some(rest))) => caller("OtherActions", Some(rest), within)?,
        (within, rest) => beyond.extend(
            within
                .err()
                .into_iter()
                .chain(rest.err())
                .map(|lifted| lifted.to_string()),
        ),
    }
    exemption.beyond = beyond;
    Some(exemption)
}

/// What an exemption would lift for the caller beyond the checked action and resource, where IAM's grammar
/// cannot subtract them (said in `Exemption::beyond`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum Beyond {
    /// Wildcards that cover other actions of the service.
    #[error("the caller's other actions matched by {}", quoted(.0))]
    OtherActions(Vec<String>),
    /// Resource patterns that cover the checked resources and others.
    #[error("the caller's actions on the resources matched by {} other than `{resource}`", quoted(.patterns))]
    ResourcesOtherThan {
        /// The patterns.
        patterns: Vec<String>,
        /// The checked resources.
        resource: String,
    },
    /// A `NotResource` that keeps some of the checked resources.
    #[error("the caller's other actions on `{resource}` except {}", quoted(.excluded))]
    ExceptOn {
        /// The checked resources.
        resource: String,
        /// What the `NotResource` excludes.
        excluded: Vec<String>,
    },
    /// Resource patterns that cover part of the checked resources.
    #[error("the caller's other actions on the resources matched by {} within `{resource}`", quoted(.patterns))]
    ResourcesWithin {
        /// The patterns.
        patterns: Vec<String>,
        /// The checked resources.
        resource: String,
    },
}

/// An element of a statement to write: its name (`Action`, `NotResource`, ...) and its values.
type Part = (&'static str, Vec<String>);

/// A statement's element given positively (`Action`) or negatively (`NotAction`), as a list of strings.
enum Element {
    Listed(Vec<String>),
    AllBut(Vec<String>),
}

fn element(statement: &Map<String, Value>, listed: &str, negated: &str) -> Option<Element> {
    match (statement.get(listed), statement.get(negated)) {
        (Some(v), None) => strings(v).map(Element::Listed),
        (None, Some(v)) => strings(v).map(Element::AllBut),
        _ => None,
    }
}

fn strings(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(list) => list.iter().map(|v| v.as_str().map(str::to_owned)).collect(),
        _ => None,
    }
}

fn has_wildcard(pattern: &str) -> bool {
    pattern.contains(['*', '?'])
}

fn quoted(patterns: &[String]) -> String {
    patterns
        .iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The statement's actions other than the checked one, as they apply to the checked resources: `None`
/// when there are none; `Err` when a wildcard cannot lose the checked action.
fn other_actions(actions: &Element, checked: &Checked<'_>) -> Result<Option<Part>, Beyond> {
    let patterns = match actions {
        Element::AllBut(excluded) => {
            let mut excluded = excluded.clone();
            excluded.push(checked.action.to_owned());
            return Ok(Some(("NotAction", excluded)));
        }
        Element::Listed(patterns) => patterns,
    };
    let action = checked.action.to_ascii_lowercase();
    let (matching, rest): (Vec<&String>, Vec<&String>) = patterns
        .iter()
        .partition(|p| wild_match_text_folded(p.as_bytes(), action.as_bytes()));
    let wild: Vec<&String> = matching.into_iter().filter(|p| has_wildcard(p)).collect();
    if wild.is_empty() {
        // Only literal names match: the others are the rest.
        return Ok((!rest.is_empty()).then(|| ("Action", rest.into_iter().cloned().collect())));
    }
    // On the checked resources only their own service's actions apply: there, `*` and `SERVICE:*` are every
    // action, and every action but the checked one is `NotAction` of it.
    let service = checked.resource.split(':').nth(2).unwrap_or_default();
    let whole_service = |p: &&String| {
        p.as_str() == "*"
            || p.strip_suffix(":*")
                .is_some_and(|s| s.eq_ignore_ascii_case(service))
    };
    if wild.iter().all(whole_service) {
        Ok(Some(("NotAction", vec![checked.action.to_owned()])))
    } else {
        Err(Beyond::OtherActions(wild.into_iter().cloned().collect()))
    }
}

/// The statement's resources other than the checked ones: `None` when there are none; `Err` when a
/// pattern covers some of the checked resources and others.
fn without_checked_resources(
    resources: &Element,
    checked: &Checked<'_>,
) -> Result<Option<Part>, Beyond> {
    match resources {
        Element::AllBut(excluded) => {
            let mut excluded = excluded.clone();
            excluded.push(checked.resource.to_owned());
            Ok(Some(("NotResource", excluded)))
        }
        Element::Listed(patterns) if patterns.iter().any(|p| p == "*") => {
            Ok(Some(("NotResource", vec![checked.resource.to_owned()])))
        }
        Element::Listed(patterns) => match partition(patterns, checked.resource) {
            Ok((outside, _)) => Ok((!outside.is_empty()).then_some(("Resource", outside))),
            Err(overlapping) => Err(Beyond::ResourcesOtherThan {
                patterns: overlapping.into_iter().cloned().collect(),
                resource: checked.resource.to_owned(),
            }),
        },
    }
}

/// The part of the checked resources that the statement covers: `None` when it covers none of them;
/// `Err` when that part cannot be written.
fn checked_resources(resources: &Element, checked: &Checked<'_>) -> Result<Option<Part>, Beyond> {
    let whole = || Some(("Resource", vec![checked.resource.to_owned()]));
    match resources {
        Element::AllBut(excluded) if excluded.iter().all(|p| disjoint(p, checked.resource)) => {
            Ok(whole())
        }
        Element::AllBut(excluded) => Err(Beyond::ExceptOn {
            resource: checked.resource.to_owned(),
            excluded: excluded.clone(),
        }),
        Element::Listed(patterns) if patterns.iter().any(|p| contains(p, checked.resource)) => {
            Ok(whole())
        }
        Element::Listed(patterns) => match partition(patterns, checked.resource) {
            Ok((_, within)) => Ok((!within.is_empty()).then_some(("Resource", within))),
            Err(overlapping) => Err(Beyond::ResourcesWithin {
                patterns: overlapping.into_iter().cloned().collect(),
                resource: checked.resource.to_owned(),
            }),
        },
    }
}

/// The patterns that match none of the checked resources, and those that match only checked ones; `Err`
/// with the patterns that may match some of each.
fn partition<'p>(
    patterns: &'p [String],
    checked: &str,
) -> Result<(Vec<String>, Vec<String>), Vec<&'p String>> {
    let overlapping: Vec<&String> = patterns
        .iter()
        .filter(|p| !disjoint(p, checked) && !inside(p, checked))
        .collect();
    if !overlapping.is_empty() {
        return Err(overlapping);
    }
    let (outside, within) = patterns.iter().cloned().partition(|p| disjoint(p, checked));
    Ok((outside, within))
}

/// Whether `pattern` matches every one of `checked`'s resources.
fn contains(pattern: &str, checked: &str) -> bool {
    if pattern == "*" || pattern == checked {
        return true;
    }
    match checked.strip_suffix('*') {
        // `checked` is a prefix and a star: `pattern` must be a prefix of it and a star.
        Some(prefix) if !has_wildcard(prefix) => pattern
            .strip_suffix('*')
            .is_some_and(|p| !has_wildcard(p) && prefix.starts_with(p)),
        Some(_) => false,
        None => wild_match_text(pattern.as_bytes(), checked.as_bytes()),
    }
}

/// The literal text of a pattern, up to its first wildcard.
fn literal(pattern: &str) -> &str {
    pattern
        .find(['*', '?'])
        .and_then(|at| pattern.get(..at))
        .unwrap_or(pattern)
}

/// Whether every resource `pattern` matches is one of `checked`'s.
fn inside(pattern: &str, checked: &str) -> bool {
    match checked.strip_suffix('*') {
        Some(prefix) if !has_wildcard(prefix) => pattern.starts_with(prefix),
        _ => pattern == checked,
    }
}

/// Whether `pattern` matches none of `checked`'s resources (false when unsure).
fn disjoint(pattern: &str, checked: &str) -> bool {
    if !has_wildcard(pattern) {
        return !wild_match_text(checked.as_bytes(), pattern.as_bytes());
    }
    if !has_wildcard(checked) {
        return !wild_match_text(pattern.as_bytes(), checked.as_bytes());
    }
    let (a, b) = (literal(pattern), literal(checked));
    !a.starts_with(b) && !b.starts_with(a)
}

/// A copy of the statement that applies to the caller only: `aws:PrincipalArn` equal to the caller's, with
/// an operator that the statement does not already use on that key (conditions are ANDed). Its `Sid`, if
/// any, gets `suffix`.
fn restricted_to_caller(
    original: &Map<String, Value>,
    checked: &Checked<'_>,
    suffix: &str,
) -> Option<Map<String, Value>> {
    let mut caller = original.clone();
    let operator = ["ArnEquals", "ArnLike", "StringEquals", "StringLike"]
        .into_iter()
        .find(|op| {
            !caller
                .get("Condition")
                .and_then(|c| c.get(*op))
                .and_then(Value::as_object)
                .is_some_and(|block| {
                    block
                        .keys()
                        .any(|k| k.eq_ignore_ascii_case("aws:PrincipalArn"))
                })
        })?;
    add_condition_value(
        &mut caller,
        operator,
        "aws:PrincipalArn",
        checked.principal_arn,
    );
    if let Some(Value::String(sid)) = caller.get_mut("Sid") {
        sid.push_str("Caller");
        sid.push_str(suffix);
    }
    Some(caller)
}

/// Exempts `arn` from a statement given as JSON (merged into its `ArnNotEquals` on `aws:PrincipalArn`).
pub(super) fn add_exemption(statement: &mut Value, arn: &str) {
    if let Some(map) = statement.as_object_mut() {
        add_condition_value(map, "ArnNotEquals", "aws:PrincipalArn", arn);
    }
}

/// Adds `value` to `key` under `operator` in the statement's conditions, keeping every value and key already
/// there (a key is matched in any case, as IAM matches it).
fn add_condition_value(statement: &mut Map<String, Value>, operator: &str, key: &str, value: &str) {
    let conditions = statement.entry("Condition").or_insert_with(|| json!({}));
    let Some(conditions) = conditions.as_object_mut() else {
        return;
    };
    let block = conditions.entry(operator).or_insert_with(|| json!({}));
    let Some(block) = block.as_object_mut() else {
        return;
    };
    let existing = block.keys().find(|k| k.eq_ignore_ascii_case(key)).cloned();
    match existing.and_then(|k| block.get_mut(&k)) {
        Some(Value::Array(values)) => {
            if !values.iter().any(|v| v.as_str() == Some(value)) {
                values.push(json!(value));
            }
        }
        Some(single) => {
            if single.as_str() != Some(value) {
                *single = json!([single.clone(), value]);
            }
        }
        None => {
            block.insert(key.to_owned(), json!(value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CALLER: &str = "arn:aws:iam::111122223333:role/uploader";

    fn checked() -> Checked<'static> {
        Checked {
            principal_arn: CALLER,
            action: "s3:PutObject",
            resource: "arn:aws:s3:::bucket/*",
        }
    }

    #[test]
    fn an_existing_exemption_keeps_its_principals_and_other_keys() {
        let statement = json!({"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::bucket/*",
            "Condition": {"ArnNotEquals": {"aws:principalarn": "arn:aws:iam::111122223333:role/admin", "aws:SourceArn": "arn:aws:s3:::x"}}});
        let e = exempt(&statement, &checked()).unwrap();
        assert_eq!(e.statements.len(), 1, "{:?}", e.statements);
        assert_eq!(
            e.statements[0]["Condition"]["ArnNotEquals"],
            json!({"aws:principalarn": ["arn:aws:iam::111122223333:role/admin", CALLER], "aws:SourceArn": "arn:aws:s3:::x"})
        );
        assert!(e.beyond.is_empty());
    }

    #[test]
    fn literal_actions_are_subtracted_and_star_resources_kept_for_the_caller() {
        let statement = json!({"Sid": "NoWrites", "Effect": "Deny", "Action": ["s3:PutObject", "s3:DeleteObject"], "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalTag/team": "media"}}});
        let e = exempt(&statement, &checked()).unwrap();
        assert!(e.beyond.is_empty());
        assert_eq!(e.statements.len(), 3);
        // Every action of the statement on the other resources.
        let elsewhere = &e.statements[1];
        assert_eq!(elsewhere["Sid"], "NoWritesCallerOtherResources");
        assert_eq!(
            elsewhere["Action"],
            json!(["s3:PutObject", "s3:DeleteObject"])
        );
        assert_eq!(elsewhere["NotResource"], json!(["arn:aws:s3:::bucket/*"]));
        assert!(elsewhere.get("Resource").is_none());
        assert_eq!(
            elsewhere["Condition"],
            json!({"StringEquals": {"aws:PrincipalTag/team": "media"}, "ArnEquals": {"aws:PrincipalArn": CALLER}})
        );
        // The other actions on the bucket's objects.
        let here = &e.statements[2];
        assert_eq!(here["Sid"], "NoWritesCallerOtherActions");
        assert_eq!(here["Action"], json!(["s3:DeleteObject"]));
        assert_eq!(here["Resource"], json!(["arn:aws:s3:::bucket/*"]));
    }

    #[test]
    fn a_service_wildcard_becomes_not_action_on_the_checked_resources() {
        let statement = json!({"Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": ["arn:aws:s3:::bucket", "arn:aws:s3:::bucket/*"]});
        let e = exempt(&statement, &checked()).unwrap();
        assert!(e.beyond.is_empty(), "{:?}", e.beyond);
        assert_eq!(e.statements.len(), 3, "{:?}", e.statements);
        assert_eq!(e.statements[1]["Action"], "s3:*");
        assert_eq!(e.statements[1]["Resource"], json!(["arn:aws:s3:::bucket"]));
        assert_eq!(e.statements[2]["NotAction"], json!(["s3:PutObject"]));
        assert_eq!(
            e.statements[2]["Resource"],
            json!(["arn:aws:s3:::bucket/*"])
        );
        // `s3:*` on every resource: the same, with the other resources as `NotResource`.
        let everywhere = json!({"Effect": "Deny", "Action": "s3:*", "Resource": "*"});
        let e = exempt(&everywhere, &checked()).unwrap();
        assert!(e.beyond.is_empty(), "{:?}", e.beyond);
        assert_eq!(
            e.statements[1]["NotResource"],
            json!(["arn:aws:s3:::bucket/*"])
        );
        assert_eq!(e.statements[2]["NotAction"], json!(["s3:PutObject"]));
        // Another service's wildcard is not every action on S3 resources.
        let other = json!({"Effect": "Deny", "Action": ["s3:PutObject", "kms:*"], "Resource": "*"});
        assert!(exempt(&other, &checked()).unwrap().beyond.is_empty());
    }

    #[test]
    fn what_cannot_be_subtracted_is_said() {
        let statement =
            json!({"Effect": "Deny", "Action": "s3:Put*", "Resource": "arn:aws:s3:::*"});
        let e = exempt(&statement, &checked()).unwrap();
        assert_eq!(e.beyond.len(), 2, "{:?}", e.beyond);
        assert!(e.beyond[0].contains("`arn:aws:s3:::*`"), "{:?}", e.beyond);
        assert!(e.beyond[1].contains("`s3:Put*`"), "{:?}", e.beyond);
    }

    #[test]
    fn not_action_and_not_resource_are_extended() {
        let statement =
            json!({"Effect": "Deny", "NotAction": "iam:*", "NotResource": "arn:aws:s3:::other/*"});
        let e = exempt(&statement, &checked()).unwrap();
        assert!(e.beyond.is_empty());
        assert_eq!(e.statements[1]["NotAction"], "iam:*");
        assert_eq!(
            e.statements[1]["NotResource"],
            json!(["arn:aws:s3:::other/*", "arn:aws:s3:::bucket/*"])
        );
        assert_eq!(
            e.statements[2]["NotAction"],
            json!(["iam:*", "s3:PutObject"])
        );
        assert_eq!(
            e.statements[2]["Resource"],
            json!(["arn:aws:s3:::bucket/*"])
        );
    }

    #[test]
    fn an_operator_already_on_the_principal_is_not_reused_for_the_caller() {
        let statement = json!({"Effect": "Deny", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": "arn:aws:s3:::bucket/*",
            "Condition": {"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/*"}}});
        let e = exempt(&statement, &checked()).unwrap();
        assert_eq!(
            e.statements[1]["Condition"],
            json!({"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/*"}, "ArnLike": {"aws:PrincipalArn": CALLER}})
        );
    }

    #[test]
    fn a_malformed_statement_has_no_exemption() {
        assert!(exempt(
            &json!({"Effect": "Deny", "Action": 3, "Resource": "*"}),
            &checked()
        )
        .is_none());
        assert!(exempt(&json!("text"), &checked()).is_none());
    }
}
