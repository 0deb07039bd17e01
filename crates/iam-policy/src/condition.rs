//! Condition operators: every operator AWS documents, the `...IfExists` suffix, the `ForAllValues:` and
//! `ForAnyValue:` set qualifiers, and the rules for keys absent from the request.

use super::arn::ArnPattern;
use super::context::{Context, ContextEntry, Unknown};
use super::glob::Glob;
use super::model::{Condition, Operand, TextMatcher, TextOperand};
use crate::operator::{Cidr, Family, OpKind, SetQualifier};
use base64::Engine as _;
use std::net::IpAddr;

/// Parses a number as IAM writes them: optional sign, digits, optional fraction.
pub fn parse_number(text: &str) -> Option<f64> {
    let t = text.trim();
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let well_formed = !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
        && !(digits.contains('.') && frac.is_empty());
    if !well_formed {
        return None;
    }
    t.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// Parses a date as IAM accepts them: ISO 8601 date-time (with zone, or UTC), a plain date, or epoch seconds.
/// Returns milliseconds since the epoch.
pub fn parse_date(text: &str) -> Option<i64> {
    let t = text.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse::<i64>().ok()?.checked_mul(1000);
    }
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(t) {
        return Some(dt.timestamp_millis());
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(naive) = chrono::NaiveDateTime::parse_from_str(t, format) {
            return Some(naive.and_utc().timestamp_millis());
        }
    }
    let date = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn decode_base64(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()
}

/// Parses one written value for `kind`; `template` is set when the policy version allows variables.
pub fn parse_operand(kind: OpKind, written: &str, variables: bool) -> Result<Operand, String> {
    let family = kind.family();
    if variables && kind.takes_variables() {
        if let Some(template) = super::variables::Template::parse(written)? {
            return Ok(Operand::Text(TextOperand::Template(template)));
        }
    }
    let bad = |what: &str| format!("`{written}` is not {what}, as `{}` needs", kind.name());
    Ok(match family {
        Family::StringExact => {
            Operand::Text(TextOperand::Static(TextMatcher::Exact(written.to_owned())))
        }
        Family::StringFolded => Operand::Text(TextOperand::Static(TextMatcher::Folded(
            written.to_lowercase(),
        ))),
        Family::StringLike => Operand::Text(TextOperand::Static(TextMatcher::Like(Glob::new(
            written, false,
        )))),
        Family::Arn => {
            let pattern = ArnPattern::new(written);
            // The ARN operators compare each of the six segments on its own (IAM User Guide, ARN
            // condition operators): a shorter pattern has no documented meaning there.
            if pattern.is_short() {
                return Err(bad(
                    "an ARN of six parts (arn:partition:service:region:account:resource) with no wildcard in the service",
                ));
            }
            Operand::Text(TextOperand::Static(TextMatcher::Arn(pattern)))
        }
        Family::Numeric(_) => {
            Operand::Number(parse_number(written).ok_or_else(|| bad("a number"))?)
        }
        Family::Date(_) => Operand::Date(
            parse_date(written).ok_or_else(|| bad("a date (ISO 8601 or epoch seconds)"))?,
        ),
        Family::Bool => Operand::Bool(parse_bool(written).ok_or_else(|| bad("`true` or `false`"))?),
        Family::Binary => Operand::Binary(decode_base64(written).ok_or_else(|| bad("base64"))?),
        Family::Ip => {
            Operand::Cidr(Cidr::parse(written).ok_or_else(|| bad("an IP address or CIDR block"))?)
        }
        Family::Null => Operand::Null(parse_bool(written).ok_or_else(|| bad("`true` or `false`"))?),
    })
}

/// What evaluating a clause learned beyond true/false: keys that were absent, variables that did not resolve.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClauseNotes {
    /// The clause's key was absent from the request.
    pub key_missing: bool,
    /// A policy variable named this key and it had no value.
    pub unresolved_variable: Option<String>,
    /// The clause reads a key (directly or through a policy variable) whose value is unknown: its result
    /// means nothing.
    pub unknown_value: bool,
}

/// Evaluates one clause against the request context.
pub fn evaluate(condition: &Condition, context: &Context, notes: &mut ClauseNotes) -> bool {
    let op = &condition.operator;
    let entry = context.get(&condition.key_lower);
    let unknown = context.unknown(&condition.key_lower);
    let unknown_key = unknown.is_some();
    if op.kind == OpKind::Null {
        // A key with an unknown value is present: `Null` decides it. A key that may be absent leaves it open.
        if unknown == Some(Unknown::Presence) {
            notes.unknown_value = true;
            return false;
        }
        let absent = entry.is_none() && !unknown_key;
        if absent {
            notes.key_missing = true;
        }
        return condition
            .values
            .iter()
            .any(|v| matches!(v, Operand::Null(expect_absent) if *expect_absent == absent));
    }
    let reads_unknown = condition.values.iter().any(|v| match v {
        Operand::Text(TextOperand::Template(template)) => {
            template.keys().any(|k| context.is_unknown(k))
        }
        _ => false,
    });
    if unknown_key || reads_unknown {
        notes.unknown_value = true;
        return false;
    }
    let Some(entry) = entry else {
        notes.key_missing = true;
        return match op.qualifier {
            Some(SetQualifier::ForAllValues) => true,
            Some(SetQualifier::ForAnyValue) => false,
            None => op.if_exists || op.kind.negated(),
        };
    };
    evaluate_present(condition, entry, context, notes)
}

fn evaluate_present(
    condition: &Condition,
    entry: &ContextEntry,
    context: &Context,
    notes: &mut ClauseNotes,
) -> bool {
    let op = &condition.operator;
    let negated = op.kind.negated();
    // One request value against the operator: "some policy value matches", flipped for negated operators.
    // A policy variable that cannot be resolved is a null value (IAM User Guide, policy variables with no
    // value): nothing equals or is like it, so it never matches, and a negated operator (`StringNotEquals`,
    // `StringNotLike`, ...) holds against it.
    let mut holds_for = |value: &str| -> bool {
        let mut any = false;
        for operand in &condition.values {
            match operand_matches(op.kind, operand, value, context) {
                Ok(true) => {
                    any = true;
                    break;
                }
                Ok(false) => {}
                Err(key) => {
                    if notes.unresolved_variable.is_none() {
                        notes.unresolved_variable = Some(key);
                    }
                }
            }
        }
        any != negated
    };
    let values = entry.values();
    let result = match op.qualifier {
        Some(SetQualifier::ForAllValues) => values.iter().all(|v| holds_for(v)),
        Some(SetQualifier::ForAnyValue) => values.iter().any(|v| holds_for(v)),
        // Without a qualifier a multi-valued key matches when any value matches (all, for negated operators).
        None if negated => values.iter().all(|v| holds_for(v)),
        None => values.iter().any(|v| holds_for(v)),
    };
    result
}

/// Whether one policy operand matches one request value (positively: negation is applied by the caller).
/// `Err(key)` when a policy variable could not be resolved.
fn operand_matches(
    kind: OpKind,
    operand: &Operand,
    value: &str,
    context: &Context,
) -> Result<bool, String> {
    Ok(match (kind.family(), operand) {
        (_, Operand::Text(TextOperand::Static(matcher))) => text_matches(matcher, value),
        (family, Operand::Text(TextOperand::Template(template))) => {
            let resolved = template.resolve(context)?;
            let matcher = match family {
                Family::StringFolded => TextMatcher::Folded(resolved.text().to_lowercase()),
                Family::StringLike => {
                    TextMatcher::Like(Glob::from_pieces(&resolved.pieces(), false))
                }
                Family::Arn => TextMatcher::Arn(ArnPattern::from_pieces(&resolved.pieces())),
                _ => TextMatcher::Exact(resolved.text()),
            };
            text_matches(&matcher, value)
        }
        (Family::Numeric(cmp), Operand::Number(policy)) => {
            parse_number(value).is_some_and(|v| v.partial_cmp(policy).is_some_and(|o| cmp.holds(o)))
        }
        (Family::Date(cmp), Operand::Date(policy)) => {
            parse_date(value).is_some_and(|v| cmp.holds(v.cmp(policy)))
        }
        (Family::Bool, Operand::Bool(policy)) => parse_bool(value) == Some(*policy),
        (Family::Binary, Operand::Binary(policy)) => {
            decode_base64(value).is_some_and(|v| v == *policy)
        }
        (Family::Ip, Operand::Cidr(cidr)) => value
            .trim()
            .parse::<IpAddr>()
            .is_ok_and(|ip| cidr.contains(ip)),
        // An operand of another family cannot be built by `parse_operand`; it never matches.
        _ => false,
    })
}

fn text_matches(matcher: &TextMatcher, value: &str) -> bool {
    match matcher {
        TextMatcher::Exact(policy) => policy == value,
        TextMatcher::Folded(policy) => *policy == value.to_lowercase(),
        TextMatcher::Like(glob) => glob.matches(value),
        TextMatcher::Arn(pattern) => pattern.matches(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operator::{Operator, ALL_OPERATORS};

    #[test]
    fn operator_names_round_trip() {
        for kind in ALL_OPERATORS {
            let op = Operator::parse(kind.name()).unwrap();
            assert_eq!(op.kind, kind);
            let q = Operator::parse(&format!("ForAnyValue:{}IfExists", kind.name()));
            assert_eq!(q.is_ok(), kind != OpKind::Null, "{kind:?}");
        }
        assert!(Operator::parse("StringEqualz").is_err());
        assert!(Operator::parse("stringequals").is_err());
    }

    #[test]
    fn cidr_contains() {
        let c = Cidr::parse("54.240.143.0/24").unwrap();
        assert!(c.contains("54.240.143.7".parse().unwrap()));
        assert!(!c.contains("54.240.144.7".parse().unwrap()));
        assert!(Cidr::parse("0.0.0.0/0")
            .unwrap()
            .contains("8.8.8.8".parse().unwrap()));
        let v6 = Cidr::parse("2001:db8::/32").unwrap();
        assert!(v6.contains("2001:db8::1".parse().unwrap()));
        assert!(!v6.contains("54.240.143.7".parse().unwrap()));
        assert!(Cidr::parse("10.0.0.0/33").is_none());
        assert!(Cidr::parse("10.0.0.0/").is_none());
        // A bare address is its own /32; host bits under the prefix are ignored.
        let one = Cidr::parse(" 192.0.2.9 ").unwrap();
        assert_eq!(one.to_string(), "192.0.2.9/32");
        assert!(one.contains("192.0.2.9".parse().unwrap()));
        assert!(!one.contains("192.0.2.10".parse().unwrap()));
        assert!(Cidr::parse("10.0.0.5/8")
            .unwrap()
            .contains("10.9.9.9".parse().unwrap()));
    }

    /// A value each operator family parses, for the truth table below.
    fn sample(kind: OpKind) -> &'static str {
        match kind.family() {
            Family::Numeric(_) => "10",
            Family::Date(_) => "2026-01-01T00:00:00Z",
            Family::Bool | Family::Null => "true",
            Family::Binary => "YQ==",
            Family::Ip => "10.0.0.0/8",
            Family::Arn => "arn:aws:s3:::b/*",
            Family::StringExact | Family::StringFolded | Family::StringLike => "v",
        }
    }

    fn clause(written: &str, value: &str) -> Condition {
        let operator = Operator::parse(written).unwrap();
        let operand = parse_operand(operator.kind, value, false).unwrap();
        Condition {
            operator,
            key: "test:Key".into(),
            key_lower: "test:key".into(),
            values: vec![operand],
            written: vec![value.into()],
        }
    }

    /// The four states of a key against every operator, with and without `IfExists` and the set qualifiers:
    /// a key whose presence is unknown decides nothing (not even `Null`); a key present with an unknown value
    /// decides only `Null`; an absent key follows AWS's rules (tested by the operator tables); a present key
    /// is compared.
    #[test]
    fn truth_table_over_the_four_states() {
        for kind in ALL_OPERATORS {
            let mut forms = vec![kind.name().to_owned()];
            if kind != OpKind::Null {
                forms.push(format!("{}IfExists", kind.name()));
                forms.push(format!("ForAllValues:{}", kind.name()));
                forms.push(format!("ForAnyValue:{}", kind.name()));
            }
            for form in forms {
                for null_value in ["true", "false"] {
                    let value = if kind == OpKind::Null {
                        null_value
                    } else {
                        sample(kind)
                    };
                    let c = clause(&form, value);
                    let mut presence = Context::default();
                    presence.insert_unknown_presence("Test:Key");
                    let mut notes = ClauseNotes::default();
                    evaluate(&c, &presence, &mut notes);
                    assert!(
                        notes.unknown_value,
                        "{form} {value}: unknown presence decided"
                    );

                    let mut unknown_value = Context::default();
                    unknown_value.insert_unknown("test:key");
                    let mut notes = ClauseNotes::default();
                    let holds = evaluate(&c, &unknown_value, &mut notes);
                    if kind == OpKind::Null {
                        assert!(!notes.unknown_value, "{form}: a present key decides Null");
                        assert_eq!(holds, value == "false", "{form} {value} on a present key");
                    } else {
                        assert!(notes.unknown_value, "{form}: an unknown value decided");
                    }

                    let mut notes = ClauseNotes::default();
                    evaluate(&c, &Context::default(), &mut notes);
                    assert!(!notes.unknown_value, "{form}: an absent key is known");
                    assert!(notes.key_missing, "{form}: an absent key is noted");
                }
            }
        }
    }

    #[test]
    fn a_known_value_replaces_an_unknown_state() {
        let mut context = Context::default();
        context.insert_unknown_presence("s3:ExistingObjectTag/k");
        assert_eq!(
            context.unknown("S3:existingobjecttag/K"),
            Some(Unknown::Presence)
        );
        context.insert(
            "s3:ExistingObjectTag/k",
            crate::context::ContextValue::One("v".into()),
        );
        assert_eq!(context.unknown("s3:ExistingObjectTag/k"), None);
        context.insert_unknown("s3:ExistingObjectTag/k");
        assert_eq!(
            context.unknown("s3:ExistingObjectTag/k"),
            Some(Unknown::Value)
        );
        assert!(context.get("s3:ExistingObjectTag/k").is_none());
    }

    #[test]
    fn numbers_and_dates() {
        assert_eq!(parse_number("10"), Some(10.0));
        assert_eq!(parse_number("-1.5"), Some(-1.5));
        assert_eq!(parse_number("NaN"), None);
        assert_eq!(parse_number("1e3"), None);
        assert_eq!(parse_date("1970-01-02"), Some(86_400_000));
        assert_eq!(parse_date("86400"), Some(86_400_000));
        assert_eq!(parse_date("1970-01-02T00:00:00Z"), Some(86_400_000));
        assert_eq!(parse_date("1970-01-02T01:00:00+01:00"), Some(86_400_000));
        assert_eq!(parse_date("yesterday"), None);
    }
}
