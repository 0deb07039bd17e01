//! Property tests: an explicit deny anywhere always wins; statement and policy order never change the
//! decision; the wildcard matcher agrees with a regex oracle; arbitrary JSON never panics the engine.

use iam_policy::case::{load_case_value, CaseResult};
use iam_policy::glob::Glob;
use iam_policy::{parse_policy, Decision, PolicyKind};
use proptest::prelude::*;
use serde_json::{json, Value};

const ROLE: &str = "arn:aws:iam::111122223333:role/uploader";

fn action() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!("s3:PutObject")),
        Just(json!("s3:*")),
        Just(json!("s3:Get*")),
        Just(json!("*")),
        Just(json!("kms:*")),
        Just(json!(["s3:GetObject", "s3:PutObject"])),
    ]
}

fn resource() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!("arn:aws:s3:::doc-example-bucket/*")),
        Just(json!("*")),
        Just(json!("arn:aws:s3:::doc-example-bucket")),
        Just(json!("arn:aws:s3:::other/*")),
    ]
}

fn condition() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        Just(None),
        Just(Some(json!({"StringEquals": {"s3:x-amz-acl": "private"}}))),
        Just(Some(
            json!({"StringNotEquals": {"s3:x-amz-storage-class": "STANDARD_IA"}})
        )),
        Just(Some(
            json!({"IpAddress": {"aws:SourceIp": "54.240.143.0/24"}})
        )),
        Just(Some(
            json!({"Null": {"s3:x-amz-server-side-encryption": "true"}})
        )),
        Just(Some(
            json!({"ForAnyValue:StringLike": {"s3:RequestObjectTagKeys": "t*"}})
        )),
    ]
}

fn principal() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!("*")),
        Just(json!({"AWS": ROLE})),
        Just(json!({"AWS": "111122223333"})),
        Just(json!({"AWS": "arn:aws:iam::444455556666:root"})),
    ]
}

/// A statement; `with_principal` for resource-based layers.
fn statement(with_principal: bool) -> impl Strategy<Value = Value> {
    (
        any::<bool>(),
        action(),
        resource(),
        condition(),
        principal(),
    )
        .prop_map(move |(allow, a, r, c, p)| {
            let mut s =
                json!({"Effect": if allow { "Allow" } else { "Deny" }, "Action": a, "Resource": r});
            if let Some(c) = c {
                s["Condition"] = c;
            }
            if with_principal {
                s["Principal"] = p;
            }
            s
        })
}

fn policy(with_principal: bool) -> impl Strategy<Value = Value> {
    prop::collection::vec(statement(with_principal), 1..5)
        .prop_map(|statements| json!({"Version": "2012-10-17", "Statement": statements}))
}

fn context() -> impl Strategy<Value = Value> {
    (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(acl, ip, tags)| {
        let mut c = serde_json::Map::new();
        if acl {
            c.insert("s3:x-amz-acl".into(), json!("private"));
        }
        if ip {
            c.insert("aws:SourceIp".into(), json!("54.240.143.7"));
        }
        if tags {
            c.insert("s3:RequestObjectTagKeys".into(), json!(["team"]));
        }
        Value::Object(c)
    })
}

/// A random case: identity policies, optional boundary, bucket policy, SCP levels, VPC endpoint policy.
fn case() -> impl Strategy<Value = Value> {
    (
        prop::collection::vec(policy(false), 0..4),
        prop::option::of(policy(false)),
        prop::option::of(policy(true)),
        prop::collection::vec(prop::collection::vec(policy(false), 1..3), 0..3),
        prop::option::of(policy(true)),
        context(),
        any::<bool>(),
    )
        .prop_map(|(identity, boundary, bucket, scps, vpce, context, cross)| {
            json!({"name": "prop",
                "principal": if cross { "arn:aws:iam::444455556666:role/partner" } else { ROLE },
                "action": "s3:PutObject", "resource": "arn:aws:s3:::doc-example-bucket/uploads/a.jpg",
                "resourceAccount": "111122223333", "context": context, "identityPolicies": identity,
                "permissionBoundary": boundary, "resourcePolicy": bucket, "scps": scps, "vpcEndpointPolicy": vpce})
        })
}

fn evaluate(case: &Value) -> CaseResult {
    CaseResult::evaluate(&load_case_value(case, "prop").unwrap())
}

const UNCONDITIONAL_DENY: &str =
    r#"{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}"#;

/// Adds an unconditional deny to the layer numbered `where_` (creating the policy when absent).
fn add_deny(case: &mut Value, where_: usize) {
    let deny: Value = serde_json::from_str(UNCONDITIONAL_DENY).unwrap();
    let mut identity_deny = deny.clone();
    identity_deny.as_object_mut().unwrap().remove("Principal");
    let wrap = |s: Value| json!({"Version": "2012-10-17", "Statement": [s]});
    match where_ {
        0 => case["identityPolicies"]
            .as_array_mut()
            .unwrap()
            .push(wrap(identity_deny)),
        1 => push_statement(case, "permissionBoundary", identity_deny),
        2 => push_statement(case, "resourcePolicy", deny),
        3 => push_statement(case, "vpcEndpointPolicy", deny),
        _ => {
            let levels = case["scps"].as_array_mut().unwrap();
            if levels.is_empty() {
                levels.push(json!([]));
            }
            levels[0].as_array_mut().unwrap().push(wrap(identity_deny));
        }
    }
}

fn push_statement(case: &mut Value, field: &str, statement: Value) {
    if case[field].is_null() {
        case[field] = json!({"Version": "2012-10-17", "Statement": []});
    }
    case[field]["Statement"]
        .as_array_mut()
        .unwrap()
        .push(statement);
}

/// Reverses statements within every policy and policies within every list.
fn reorder(case: &mut Value) {
    fn reverse_statements(policy: &mut Value) {
        if let Some(list) = policy.get_mut("Statement").and_then(Value::as_array_mut) {
            list.reverse();
        }
    }
    let list = case["identityPolicies"].as_array_mut().unwrap();
    list.reverse();
    list.iter_mut().for_each(reverse_statements);
    for field in ["permissionBoundary", "resourcePolicy", "vpcEndpointPolicy"] {
        reverse_statements(&mut case[field]);
    }
    for level in case["scps"].as_array_mut().unwrap() {
        let list = level.as_array_mut().unwrap();
        list.reverse();
        list.iter_mut().for_each(reverse_statements);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn explicit_deny_anywhere_always_wins(mut case in case(), where_ in 0usize..5) {
        add_deny(&mut case, where_);
        let result = evaluate(&case);
        prop_assert_eq!(result.decision, Decision::ExplicitDeny);
        prop_assert!(!result.determining_statements.is_empty());
    }

    #[test]
    fn order_never_changes_the_decision(case in case()) {
        let before = evaluate(&case);
        let mut reordered = case.clone();
        reorder(&mut reordered);
        let after = evaluate(&reordered);
        prop_assert_eq!(before.decision, after.decision);
        prop_assert_eq!(before.classification, after.classification);
        prop_assert_eq!(before.determining_statements.len(), after.determining_statements.len());
        prop_assert_eq!(before.missing_context_keys, after.missing_context_keys);
    }

    #[test]
    fn adding_an_allow_to_an_identity_policy_never_turns_allow_into_deny(case in case()) {
        let before = evaluate(&case);
        let mut more = case.clone();
        more["identityPolicies"].as_array_mut().unwrap().push(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}]}));
        let after = evaluate(&more);
        if before.decision == Decision::Allowed {
            prop_assert_eq!(after.decision, Decision::Allowed);
        }
    }

    #[test]
    fn glob_agrees_with_a_regex_oracle(pattern in "[ab*?]{0,8}", text in "[ab]{0,10}", fold in any::<bool>()) {
        let mut oracle = String::from("^");
        for c in pattern.chars() {
            match c {
                '*' => oracle.push_str(".*"),
                '?' => oracle.push('.'),
                other => oracle.push_str(&regex::escape(&other.to_string())),
            }
        }
        oracle.push('$');
        let re = regex::Regex::new(&oracle).unwrap();
        prop_assert_eq!(Glob::new(&pattern, fold).matches(&text), re.is_match(&text), "pattern {} text {}", pattern, text);
    }

    #[test]
    fn glob_agrees_with_regex_on_unicode(pattern in "[aé*?]{0,6}", text in "[aé]{0,8}") {
        let oracle = format!("^{}$", pattern.chars().map(|c| match c {
            '*' => ".*".to_owned(), '?' => ".".to_owned(), other => regex::escape(&other.to_string()) }).collect::<String>());
        prop_assert_eq!(Glob::new(&pattern, false).matches(&text), regex::Regex::new(&oracle).unwrap().is_match(&text));
    }

    #[test]
    fn arbitrary_json_policies_never_panic_and_lose_no_error(doc in arbitrary_json()) {
        for kind in [PolicyKind::Identity, PolicyKind::Resource, PolicyKind::Scp, PolicyKind::VpcEndpoint] {
            let _ = parse_policy("fuzz", &doc, kind, "");
        }
        let case = json!({"name": "j", "principal": ROLE, "action": "s3:PutObject", "resource": "arn:aws:s3:::b/k",
            "resourceAccount": "111122223333", "identityPolicies": [doc.clone()], "resourcePolicy": doc});
        let result = evaluate(&case);
        // Every problem of either document reaches the result, with its pointer, and the result serialises.
        let identity_errors = parse_policy("i", &doc, PolicyKind::Identity, "/identityPolicies/0").errors;
        // `null` means "no resource policy" in the case format.
        let resource_errors = if doc.is_null() {
            Vec::new()
        } else {
            parse_policy("r", &doc, PolicyKind::Resource, "/resourcePolicy").errors
        };
        let expected: Vec<_> = identity_errors.into_iter().chain(resource_errors).collect();
        prop_assert_eq!(&result.errors, &expected);
        prop_assert!(serde_json::to_string(&result).is_ok());
    }
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        prop_oneof![
            Just("Allow".to_owned()),
            Just("Deny".to_owned()),
            Just("*".to_owned()),
            Just("s3:*".to_owned()),
            Just("2012-10-17".to_owned()),
            Just("${aws:username}".to_owned()),
            Just("arn:aws:s3:::b/*".to_owned()),
            ".{0,12}",
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("Version".to_owned()),
                    Just("Statement".to_owned()),
                    Just("Effect".to_owned()),
                    Just("Action".to_owned()),
                    Just("Resource".to_owned()),
                    Just("Principal".to_owned()),
                    Just("Condition".to_owned()),
                    Just("NotAction".to_owned()),
                    Just("StringLike".to_owned()),
                    Just("AWS".to_owned()),
                    Just("Null".to_owned()),
                    Just("ForAllValues:IpAddress".to_owned()),
                    "[a-zA-Z:]{1,10}",
                ],
                inner,
                0..6,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
