//! The fail-closed properties, over every scenario of `tests/scenarios/` (and so every path a scenario
//! reaches), each mutation one that must never turn an answer into `Allowed`:
//! - a fact made unknown-existence (an object's, a bucket's or a key's tags not read; the object not read),
//!   and an upload made multipart (more requests, each decided): no `Denied`, `Unknown` or `Invalid`
//!   becomes `Allowed`;
//! - an enumerated value near-missed (another case, padding), in the check or in the facts read: the answer
//!   is `Invalid`, naming the field, whatever it was before;
//! - every `Unknown`, of a scenario or of a mutation, names what is missing: an unread layer, or an
//!   undecided cause.
//!
//! A new scenario is covered without anyone remembering: the mutations are derived from its fields. The
//! counts are printed (`cargo test -p s3-diagnosis --test diagnosis fail_closed -- --nocapture`).

use s3_diagnosis::causes::Severity;
use s3_diagnosis::snapshot::Snapshot;
use s3_diagnosis::{diagnose, Diagnosis, Verdict};
use serde_json::{json, Value};

fn diagnosis(snapshot: &Value) -> Option<Diagnosis> {
    serde_json::from_value::<Snapshot>(snapshot.clone())
        .ok()
        .map(|s| diagnose(&s))
}

/// Every mutation that makes a fact unknown-existence, or adds requests: (what, mutated snapshot).
fn unknowing(snapshot: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let mut nulled = |pointer: &str, what: &str| {
        if snapshot.pointer(pointer).is_some_and(|v| !v.is_null()) {
            let mut s = snapshot.clone();
            if let Some(v) = s.pointer_mut(pointer) {
                *v = Value::Null;
            }
            out.push((format!("{what} not read"), s));
        }
    };
    nulled("/object/tags", "the object's tags");
    nulled("/object", "the object");
    nulled("/bucket/tags", "the bucket's tags");
    nulled("/bucket/abacEnabled", "whether the bucket has ABAC");
    nulled(
        "/principal/accountCanonicalId",
        "the caller account's canonical id",
    );
    let keys = snapshot.pointer("/kmsKeys").and_then(Value::as_array);
    for k in 0..keys.map_or(0, Vec::len) {
        nulled(&format!("/kmsKeys/{k}/tags"), &format!("key {k}'s tags"));
    }
    let uploads = snapshot
        .pointer("/request/actions")
        .and_then(Value::as_array)
        .is_none_or(|a| a.iter().any(|x| x == "PutObject"));
    let multipart = snapshot.pointer("/request/upload/multipart") == Some(&json!(true));
    if uploads && !multipart {
        let mut s = snapshot.clone();
        if let Some(request) = s.pointer_mut("/request").and_then(Value::as_object_mut) {
            let upload = request.entry("upload").or_insert_with(|| json!({}));
            if let Some(upload) = upload.as_object_mut() {
                upload.insert("multipart".into(), json!(true));
            }
        }
        out.push(("the upload made multipart".to_owned(), s));
    }
    out
}

/// The enumerated fields, in the check and in the facts: (JSON pointer, what it is).
fn enumerated(snapshot: &Value) -> Vec<String> {
    let mut pointers: Vec<String> = [
        "/request/upload/acl",
        "/request/upload/storageClass",
        "/request/upload/serverSideEncryption",
        "/request/upload/objectLockMode",
        "/request/upload/objectLockLegalHold",
        "/request/upload/ifNoneMatch",
        "/request/network/tlsVersion",
        "/principal/kind",
        "/bucket/ownership",
        "/object/storageClass",
        "/vpcEndpoint/type",
        "/accessPoint/networkOrigin",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    let count = |p: &str| {
        snapshot
            .pointer(p)
            .and_then(Value::as_array)
            .map_or(0, Vec::len)
    };
    for i in 0..count("/principal/policies") {
        pointers.push(format!("/principal/policies/{i}/source"));
    }
    pointers.push("/bucket/encryption/sseAlgorithm".to_owned());
    for i in 0..count("/bucket/acl/grants") {
        pointers.push(format!("/bucket/acl/grants/{i}/granteeType"));
        pointers.push(format!("/bucket/acl/grants/{i}/permission"));
    }
    for i in 0..count("/object/acl") {
        pointers.push(format!("/object/acl/{i}/granteeType"));
        pointers.push(format!("/object/acl/{i}/permission"));
    }
    for k in 0..count("/kmsKeys") {
        pointers.push(format!("/kmsKeys/{k}/keyManager"));
        pointers.push(format!("/kmsKeys/{k}/keyState"));
    }
    pointers
        .into_iter()
        .filter(|p| {
            snapshot
                .pointer(p)
                .and_then(Value::as_str)
                .is_some_and(|v| !v.is_empty())
        })
        .collect()
}

/// Near misses of a value: another case, padding.
fn near_misses(value: &str) -> Vec<String> {
    let mut out = vec![format!("{value} "), format!(" {value}")];
    for other in [value.to_lowercase(), value.to_uppercase()] {
        if other != value {
            out.push(other);
        }
    }
    // One letter's case flipped, where neither whole-case form differs enough (`Enabled` → `enabled`).
    let mut chars: Vec<char> = value.chars().collect();
    if let Some(c) = chars.iter_mut().find(|c| c.is_alphabetic()) {
        *c = if c.is_uppercase() {
            c.to_ascii_lowercase()
        } else {
            c.to_ascii_uppercase()
        };
        let flipped: String = chars.into_iter().collect();
        if !out.contains(&flipped) && flipped != value {
            out.push(flipped);
        }
    }
    out
}

/// Whether an `Unknown` says what is missing: an unread layer, or an undecided error cause.
fn names_what_is_missing(d: &Diagnosis) -> bool {
    !d.unknown.is_empty()
        || d.causes
            .iter()
            .any(|c| c.severity == Severity::Error && !c.definite)
}

#[test]
fn no_mutation_that_loses_a_fact_or_adds_a_request_yields_allowed() {
    let (mut checked, mut failures) = (0, Vec::new());
    for (name, snapshot) in crate::scenarios::snapshots() {
        let before = diagnosis(&snapshot).map(|d| d.verdict);
        if matches!(before, Some(Verdict::Allowed) | None) {
            continue;
        }
        for (what, mutated) in unknowing(&snapshot) {
            checked += 1;
            if diagnosis(&mutated).map(|d| d.verdict) == Some(Verdict::Allowed) {
                failures.push(format!("{name}: {what}: {before:?} became Allowed"));
            }
        }
    }
    println!("fail-closed: {checked} unknowing or multipart mutations of non-Allowed scenarios");
    assert!(checked > 100, "only {checked} mutations checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_near_miss_of_any_enumerated_value_is_invalid_naming_the_field() {
    let (mut checked, mut failures) = (0, Vec::new());
    for (name, snapshot) in crate::scenarios::snapshots() {
        // A near miss of a value already refused may be the right one.
        if diagnosis(&snapshot).is_none_or(|d| d.verdict == Verdict::Invalid) {
            continue;
        }
        for pointer in enumerated(&snapshot) {
            let value = snapshot
                .pointer(&pointer)
                .and_then(Value::as_str)
                .unwrap_or_default();
            for miss in near_misses(value) {
                let mut s = snapshot.clone();
                if let Some(v) = s.pointer_mut(&pointer) {
                    *v = json!(miss);
                }
                checked += 1;
                let Some(d) = diagnosis(&s) else {
                    // Refused by the snapshot's reader: as good as Invalid.
                    continue;
                };
                if d.verdict != Verdict::Invalid {
                    failures.push(format!("{name}: {pointer} = `{miss}` gave {:?}", d.verdict));
                }
            }
        }
    }
    println!("fail-closed: {checked} near misses of enumerated values");
    assert!(checked > 500, "only {checked} near misses checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_unknown_names_what_is_missing() {
    let (mut checked, mut failures) = (0, Vec::new());
    for (name, snapshot) in crate::scenarios::snapshots() {
        let mutated = unknowing(&snapshot);
        let all = std::iter::once(("as written".to_owned(), snapshot.clone())).chain(mutated);
        for (what, s) in all {
            let Some(d) = diagnosis(&s) else { continue };
            if d.verdict != Verdict::Unknown {
                continue;
            }
            checked += 1;
            if !names_what_is_missing(&d) {
                failures.push(format!(
                    "{name} ({what}): Unknown without naming what is missing: {}",
                    d.summary
                ));
            }
        }
    }
    println!("fail-closed: {checked} Unknown answers checked for what they name");
    assert!(checked > 50, "only {checked} Unknown answers checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
