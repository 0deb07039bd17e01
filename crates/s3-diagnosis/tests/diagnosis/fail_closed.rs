//! The fail-closed properties, over every scenario of `tests/scenarios/` (and so every path a scenario
//! reaches), each mutation one that must never turn an answer into `Allowed`:
//! - a fact made unknown-existence (an object's, a bucket's or a key's tags not read; the object not read,
//!   or its facts another version's), and an upload made multipart (more requests, each decided): no
//!   `Denied`, `Unknown` or `Invalid` becomes `Allowed`;
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
    // The object's facts said to be another version's than the one the check reads.
    if snapshot.pointer("/object").is_some_and(|o| !o.is_null()) {
        let mut s = snapshot.clone();
        if let Some(object) = s.pointer_mut("/object").and_then(Value::as_object_mut) {
            object.insert("versionId".into(), json!("another-version"));
        }
        out.push(("the object's facts of another version".to_owned(), s));
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

/// The snapshot format's JSON Schema (`docs/snapshot.schema.json`, generated from the types by `make crds`
/// and held fresh by `tests/operator/crd.rs`).
fn schema() -> Value {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/snapshot.schema.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every path of the schema whose value is a string of an enumeration: segments, `*` for any array item.
/// A field added later with its values declared is covered here without anyone remembering it.
fn enumerated_paths(schema: &Value) -> Vec<Vec<String>> {
    fn walk(
        node: &Value,
        defs: &Value,
        at: &mut Vec<String>,
        out: &mut Vec<Vec<String>>,
        depth: u32,
    ) {
        if depth > 12 {
            return;
        }
        if let Some(name) = node
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/$defs/"))
        {
            walk(&defs[name], defs, at, out, depth + 1);
            return;
        }
        for any in ["anyOf", "oneOf", "allOf"] {
            for branch in node
                .get(any)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                walk(branch, defs, at, out, depth + 1);
            }
        }
        let strings = node
            .get("enum")
            .and_then(Value::as_array)
            .is_some_and(|values| {
                values.iter().all(|v| v.is_string() || v.is_null())
                    && values.iter().any(Value::is_string)
            });
        if strings && !at.is_empty() {
            out.push(at.clone());
        }
        for (name, property) in node
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            at.push(name.clone());
            walk(property, defs, at, out, depth + 1);
            at.pop();
        }
        if let Some(items) = node.get("items") {
            at.push("*".to_owned());
            walk(items, defs, at, out, depth + 1);
            at.pop();
        }
    }
    let mut out = Vec::new();
    walk(schema, &schema["$defs"], &mut Vec::new(), &mut out, 0);
    out.sort();
    out.dedup();
    out
}

/// The JSON pointers of a snapshot's values at `path` (each `*` expanded over the array it stands for).
fn pointers(snapshot: &Value, path: &[String]) -> Vec<String> {
    let mut found = vec![(String::new(), snapshot)];
    for segment in path {
        let mut next = Vec::new();
        for (pointer, value) in found {
            match (segment.as_str(), value) {
                ("*", Value::Array(items)) => {
                    for (i, item) in items.iter().enumerate() {
                        next.push((format!("{pointer}/{i}"), item));
                    }
                }
                (key, Value::Object(map)) => {
                    if let Some(v) = map.get(key) {
                        next.push((format!("{pointer}/{key}"), v));
                    }
                }
                _ => {}
            }
        }
        found = next;
    }
    found
        .into_iter()
        .filter(|(_, v)| v.as_str().is_some_and(|s| !s.is_empty()))
        .map(|(p, _)| p)
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
    let paths = enumerated_paths(&schema());
    for field in [
        "bucket/ownership",
        "object/storageClass",
        "request/upload/acl",
        "kmsKeys/*/keyState",
    ] {
        let field: Vec<String> = field.split('/').map(str::to_owned).collect();
        assert!(
            paths.contains(&field),
            "the schema declares no values for {field:?}: {paths:?}"
        );
    }
    for (name, snapshot) in crate::scenarios::snapshots() {
        // A near miss of a value already refused may be the right one.
        if diagnosis(&snapshot).is_none_or(|d| d.verdict == Verdict::Invalid) {
            continue;
        }
        for pointer in paths.iter().flat_map(|p| pointers(&snapshot, p)) {
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
    println!(
        "fail-closed: {checked} near misses of the {} enumerated fields the schema declares",
        paths.len()
    );
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
