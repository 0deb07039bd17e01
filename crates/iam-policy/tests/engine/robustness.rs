//! Bad input never panics and never silently allows: huge policies, deep nesting, wrong types, garbage.

use iam_policy::case::{load_case, load_case_value, CaseResult};
use iam_policy::{parse_policy_text, Decision, PolicyKind};
use serde_json::json;

fn case_with_identity(doc: serde_json::Value) -> serde_json::Value {
    json!({"name": "r", "principal": "arn:aws:iam::111122223333:role/r", "action": "s3:PutObject",
        "resource": "arn:aws:s3:::b/k", "resourceAccount": "111122223333", "identityPolicies": [doc]})
}

#[test]
fn a_large_policy_is_evaluated_and_an_impossible_one_refused() {
    // 1,999 statements that do not apply, then the one that does: about 350 KB of JSON, far above any
    // policy AWS accepts, still evaluated.
    let statement = |i: usize| {
        json!({"Sid": format!("S{i}"), "Effect": "Allow", "Action": format!("s3:GetObject{i}"),
            "Resource": format!("arn:aws:s3:::bucket-{i}/some/long/prefix/that/makes/the/document/large/*"),
            "Condition": {"StringEquals": {"aws:PrincipalTag/team": format!("team-{i}")}}})
    };
    let last = json!({"Sid": "Last", "Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"});
    let mut statements: Vec<_> = (0..1999).map(statement).collect();
    statements.push(last.clone());
    let doc = json!({"Version": "2012-10-17", "Statement": statements});
    let case = load_case_value(&case_with_identity(doc), "big").unwrap();
    let result = CaseResult::evaluate(&case);
    assert_eq!(result.decision, Decision::Allowed);
    assert_eq!(
        result.determining_statements[0].sid.as_deref(),
        Some("Last")
    );
    // 6,000 statements (1 MB) cannot come from AWS: refused, and the document fails closed.
    let mut statements: Vec<_> = (0..6000).map(statement).collect();
    statements.push(last);
    let doc = json!({"Version": "2012-10-17", "Statement": statements});
    assert!(doc.to_string().len() > 1_000_000);
    let case = load_case_value(&case_with_identity(doc), "huge").unwrap();
    let result = CaseResult::evaluate(&case);
    assert_eq!(result.decision, Decision::ExplicitDeny);
    assert!(
        result
            .errors
            .iter()
            .any(|e| e.message.contains("6001 statements")),
        "{:?}",
        result.errors
    );
}

#[test]
fn deeply_nested_documents_are_errors_not_crashes() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let policy = parse_policy_text("deep", &deep, PolicyKind::Identity);
    assert_eq!(policy.errors.len(), 1);
    assert!(
        policy.errors[0].message.contains("not valid JSON"),
        "{}",
        policy.errors[0].message
    );
    // A nested value inside a condition is reported, not evaluated.
    let doc = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*",
        "Condition": {"StringEquals": {"s3:x-amz-acl": [[[["private"]]]]}}}]});
    let result =
        CaseResult::evaluate(&load_case_value(&case_with_identity(doc), "nested").unwrap());
    assert_eq!(result.decision, Decision::ImplicitDeny);
    assert_eq!(
        result.errors[0].pointer,
        "/identityPolicies/0/Statement/0/Condition/StringEquals/s3:x-amz-acl/0"
    );
}

#[test]
fn wrong_types_everywhere_are_reported() {
    for doc in [
        json!(42),
        json!("\"just a string\""),
        json!([]),
        json!({"Statement": 7}),
        json!({"Version": 2012, "Statement": [{"Effect": true, "Action": {}, "Resource": null}]}),
    ] {
        let result = CaseResult::evaluate(
            &load_case_value(&case_with_identity(doc.clone()), "types").unwrap(),
        );
        assert_ne!(result.decision, Decision::Allowed, "{doc}");
        assert!(!result.errors.is_empty(), "{doc}");
    }
}

#[test]
fn bad_case_files_are_errors_naming_the_field() {
    let err = load_case("{", "broken.json").unwrap_err().to_string();
    assert!(err.contains("not valid JSON"), "{err}");
    let err = load_case(
        r#"{"name": "n", "action": "s3:PutObject", "resource": "arn:aws:s3:::b/k"}"#,
        "x",
    )
    .unwrap_err()
    .to_string();
    assert_eq!(err, "case `n` has no `principal`");
    let err = load_case(
        r#"{"name": "n", "principal": "uploader", "action": "s3:PutObject", "resource": "r"}"#,
        "x",
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("`principal`") && err.contains("`uploader`"),
        "{err}"
    );
    let err = load_case(r#"{"name": "n", "principal": "anonymous", "action": "s3:PutObject", "resource": "arn:aws:s3:::b/k"}"#, "x")
        .unwrap_err()
        .to_string();
    assert_eq!(err, "case `n` has no `resourceAccount`");
}
