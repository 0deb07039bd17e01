//! One statement of a policy: its elements read from the JSON object, each checked and turned into `model`
//! types, with every problem reported at its JSON pointer.

use super::{PolicyKind, PrincipalRule};
use crate::arn::ArnPattern;
use crate::elements::{display, kind_of, parse_conditions, parse_principal, string_list};
use crate::glob::Glob;
use crate::model::{
    ActionElement, Effect, InputError, PrincipalElement, ResourceElement, ResourcePattern,
    Statement, Version,
};
use crate::strict_json::escape_pointer;
use crate::variables::Template;
use serde_json::{Map, Value};

/// The elements of one statement, as found in its JSON object.
#[derive(Default)]
struct Elements<'a> {
    sid: Option<&'a Value>,
    effect: Option<&'a Value>,
    principal: Option<&'a Value>,
    not_principal: Option<&'a Value>,
    action: Option<&'a Value>,
    not_action: Option<&'a Value>,
    resource: Option<&'a Value>,
    not_resource: Option<&'a Value>,
    condition: Option<&'a Value>,
}

/// Where one statement is, and the problems found in it.
struct Report<'a, 'e> {
    pointer: &'a dyn Fn() -> String,
    errors: &'e mut Vec<InputError>,
}

impl Report<'_, '_> {
    /// The pointer of one element (formatted only when there is a problem to report).
    fn at(&self, element: &str) -> String {
        format!("{}/{element}", (self.pointer)())
    }

    fn err(&mut self, pointer: String, message: String) {
        self.errors.push(InputError { pointer, message });
    }

    /// A problem of the statement as a whole.
    fn statement(&mut self, message: String) {
        let pointer = (self.pointer)();
        self.err(pointer, message);
    }
}

/// One of a pair of elements (`Principal`/`NotPrincipal`, `Action`/`NotAction`, `Resource`/`NotResource`):
/// neither, both (an error said here), or one, with its name and whether it is the negated one.
enum Pair<'v> {
    Neither,
    Both,
    One {
        negated: bool,
        name: &'static str,
        value: &'v Value,
    },
}

fn pair<'v>(
    plain: Option<&'v Value>,
    negated: Option<&'v Value>,
    [name, not_name]: [&'static str; 2],
    report: &mut Report<'_, '_>,
) -> Pair<'v> {
    match (plain, negated) {
        (Some(_), Some(_)) => {
            report.statement(format!(
                "a statement cannot have both `{name}` and `{not_name}`"
            ));
            Pair::Both
        }
        (None, None) => Pair::Neither,
        (Some(value), None) => Pair::One {
            negated: false,
            name,
            value,
        },
        (None, Some(value)) => Pair::One {
            negated: true,
            name: not_name,
            value,
        },
    }
}

pub(super) fn parse_statement(
    object: &Map<String, Value>,
    kind: PolicyKind,
    version: Version,
    pointer: &dyn Fn() -> String,
    errors: &mut Vec<InputError>,
) -> Statement {
    let before = errors.len();
    let mut report = Report { pointer, errors };
    let element = elements(object, &mut report);
    let sid = parse_sid(element.sid, &mut report);
    let effect = parse_effect(element.effect, &mut report);
    let principal = match pair(
        element.principal,
        element.not_principal,
        ["Principal", "NotPrincipal"],
        &mut report,
    ) {
        Pair::Neither => {
            if kind.principal_rule() == PrincipalRule::Required {
                report.statement(format!(
                    "a statement of {} needs a `Principal`",
                    kind.describe()
                ));
            }
            None
        }
        Pair::Both => None,
        Pair::One {
            negated,
            name,
            value,
        } => principal_element(kind, effect, negated, name, value, &mut report),
    };
    let action = match pair(
        element.action,
        element.not_action,
        ["Action", "NotAction"],
        &mut report,
    ) {
        Pair::One {
            negated,
            name,
            value,
        } => action_element(negated, name, value, &mut report),
        other => missing(other, "`Action` or `NotAction`", &mut report),
    };
    let resource = match pair(
        element.resource,
        element.not_resource,
        ["Resource", "NotResource"],
        &mut report,
    ) {
        Pair::One {
            negated,
            name,
            value,
        } => resource_element(version, negated, name, value, &mut report),
        other => missing(other, "`Resource` or `NotResource`", &mut report),
    };
    let conditions = parse_condition_block(element.condition, version, &mut report);
    Statement {
        sid,
        effect,
        principal,
        action,
        resource,
        conditions,
        broken: report.errors.len() > before,
    }
}

/// A required pair given neither way: said (both ways was said already).
fn missing<T>(pair: Pair<'_>, names: &str, report: &mut Report<'_, '_>) -> Option<T> {
    if matches!(pair, Pair::Neither) {
        report.statement(format!("the statement has no {names}"));
    }
    None
}

/// The statement's elements in one pass (a statement is read once per diagnosis: the hot path); an unknown
/// element is an error.
fn elements<'v>(object: &'v Map<String, Value>, report: &mut Report<'_, '_>) -> Elements<'v> {
    let mut element = Elements::default();
    for (key, value) in object {
        let slot = match key.as_str() {
            "Sid" => &mut element.sid,
            "Effect" => &mut element.effect,
            "Principal" => &mut element.principal,
            "NotPrincipal" => &mut element.not_principal,
            "Action" => &mut element.action,
            "NotAction" => &mut element.not_action,
            "Resource" => &mut element.resource,
            "NotResource" => &mut element.not_resource,
            "Condition" => &mut element.condition,
            _ => {
                let at = report.at(&escape_pointer(key));
                report.err(at, format!("unknown statement element `{key}`"));
                continue;
            }
        };
        *slot = Some(value);
    }
    element
}

fn parse_sid(value: Option<&Value>, report: &mut Report<'_, '_>) -> Option<String> {
    match value {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            let at = report.at("Sid");
            report.err(
                at,
                format!("`Sid` must be a string, not {}", kind_of(other)),
            );
            None
        }
    }
}

fn parse_effect(value: Option<&Value>, report: &mut Report<'_, '_>) -> Option<Effect> {
    match value {
        Some(Value::String(e)) if e == "Allow" => Some(Effect::Allow),
        Some(Value::String(e)) if e == "Deny" => Some(Effect::Deny),
        Some(other) => {
            let at = report.at("Effect");
            report.err(
                at,
                format!(
                    "`Effect` must be `Allow` or `Deny`, not `{}`",
                    display(other)
                ),
            );
            None
        }
        None => {
            report.statement("the statement has no `Effect`".to_owned());
            None
        }
    }
}

fn principal_element(
    kind: PolicyKind,
    effect: Option<Effect>,
    negated: bool,
    name: &str,
    value: &Value,
    report: &mut Report<'_, '_>,
) -> Option<PrincipalElement> {
    let pointer = report.pointer;
    let at = || format!("{}/{name}", pointer());
    if kind.principal_rule() == PrincipalRule::Forbidden {
        report.err(
            at(),
            format!("`{name}` is not allowed in {}", kind.describe()),
        );
        return None;
    }
    if negated && effect == Some(Effect::Allow) {
        report.err(
            at(),
            "`NotPrincipal` is only supported with `\"Effect\": \"Deny\"`".to_owned(),
        );
    }
    parse_principal(value, &at, &mut |p, m| report.err(p, m))
        .map(|entries| PrincipalElement { negated, entries })
}

fn action_element(
    negated: bool,
    name: &str,
    value: &Value,
    report: &mut Report<'_, '_>,
) -> Option<ActionElement> {
    let pointer = report.pointer;
    let at = || format!("{}/{name}", pointer());
    let written = string_list(value, &at, name, &mut |p, m| report.err(p, m))?;
    for (i, action) in written.iter().enumerate() {
        if action != "*"
            && !action
                .split_once(':')
                .is_some_and(|(s, a)| !s.is_empty() && !a.is_empty())
        {
            report.err(
                format!("{}/{i}", at()),
                format!("action `{action}` is not of the form `service:action`"),
            );
        }
    }
    Some(ActionElement {
        negated,
        patterns: written
            .iter()
            .map(|a| Glob::new(&a.to_ascii_lowercase(), false))
            .collect(),
        written,
    })
}

fn resource_element(
    version: Version,
    negated: bool,
    name: &str,
    value: &Value,
    report: &mut Report<'_, '_>,
) -> Option<ResourceElement> {
    let pointer = report.pointer;
    let at = || format!("{}/{name}", pointer());
    let written = string_list(value, &at, name, &mut |p, m| report.err(p, m))?;
    let mut patterns = Vec::with_capacity(written.len());
    for (i, w) in written.into_iter().enumerate() {
        let template = match (version == Version::V2012_10_17).then(|| Template::parse(&w)) {
            Some(Ok(template)) => template,
            Some(Err(message)) => {
                // Kept unreadable: it might match anything, so it can prove nothing.
                report.err(format!("{}/{i}", at()), message);
                patterns.push(ResourcePattern {
                    compiled: None,
                    template: None,
                    written: w,
                });
                continue;
            }
            None => None,
        };
        let compiled = template.is_none().then(|| ArnPattern::resource(&w));
        if compiled == Some(ArnPattern::Undocumented) {
            report.err(
                format!("{}/{i}", at()),
                format!("resource `{w}` has no documented meaning (IAM takes `*`, an ARN of six parts (arn:partition:service:region:account:resource), or a shorter one whose segment ends with `*`, which expands past colons; never a wildcard in the service): an `Allow` holding it grants nothing here, and a `Deny` holding it may apply"),
            );
        }
        patterns.push(ResourcePattern {
            compiled,
            template,
            written: w,
        });
    }
    Some(ResourceElement { negated, patterns })
}

fn parse_condition_block(
    value: Option<&Value>,
    version: Version,
    report: &mut Report<'_, '_>,
) -> Vec<crate::model::Condition> {
    match value {
        None => Vec::new(),
        Some(Value::Object(block)) => {
            let pointer = report.pointer;
            let at = || format!("{}/Condition", pointer());
            parse_conditions(block, version, &at, &mut |p, m| report.err(p, m))
        }
        Some(other) => {
            let at = report.at("Condition");
            report.err(
                at,
                format!("`Condition` must be an object, not {}", kind_of(other)),
            );
            Vec::new()
        }
    }
}
