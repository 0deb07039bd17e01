//! Losing information never yields `Allowed`: for every scenario whose verdict is not `Allowed`, removing
//! any one statement, any one layer, or any one value of the request, and marking what was removed as not
//! read, never makes the verdict `Allowed`. Exhaustive over the scenarios (every statement of every
//! document, every layer, every request value), so a failure names the scenario and the mutation.

use s3_diagnosis::snapshot::Snapshot;
use s3_diagnosis::{diagnose, Verdict};
use serde_json::{json, Value};

fn verdict(snapshot: &Value) -> Option<Verdict> {
    serde_json::from_value::<Snapshot>(snapshot.clone())
        .ok()
        .map(|s| diagnose(&s).verdict)
}

fn unread(snapshot: &mut Value, layer: &str) {
    let list = snapshot
        .as_object_mut()
        .unwrap()
        .entry("unavailable")
        .or_insert_with(|| json!([]));
    if let Some(list) = list.as_array_mut() {
        list.push(json!({"layer": layer, "reason": "removed by the property test"}));
    }
}

/// Every document of a snapshot: (JSON pointer to the document, its layer).
fn documents(snapshot: &Value) -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    let policies = snapshot
        .pointer("/principal/policies")
        .and_then(Value::as_array);
    for i in 0..policies.map_or(0, Vec::len) {
        out.push((format!("/principal/policies/{i}/document"), "identity"));
    }
    if snapshot
        .pointer("/principal/permissionsBoundary/document")
        .is_some_and(|d| !d.is_null())
    {
        out.push((
            "/principal/permissionsBoundary/document".into(),
            "permissionsBoundary",
        ));
    }
    if snapshot
        .pointer("/principal/sessionPolicy")
        .is_some_and(|d| !d.is_null())
    {
        out.push(("/principal/sessionPolicy".into(), "sessionPolicy"));
    }
    for (field, layer) in [("scps", "scp"), ("rcps", "rcp")] {
        let levels = snapshot
            .pointer(&format!("/organization/{field}"))
            .and_then(Value::as_array);
        for (l, level) in levels.into_iter().flatten().enumerate() {
            for p in 0..level.as_array().map_or(0, Vec::len) {
                out.push((format!("/organization/{field}/{l}/{p}/document"), layer));
            }
        }
    }
    if snapshot
        .pointer("/bucket/policy")
        .is_some_and(|d| !d.is_null())
    {
        out.push(("/bucket/policy".into(), "bucketPolicy"));
    }
    if snapshot
        .pointer("/vpcEndpoint/policy")
        .is_some_and(|d| !d.is_null())
    {
        out.push(("/vpcEndpoint/policy".into(), "vpcEndpointPolicy"));
    }
    let keys = snapshot.pointer("/kmsKeys").and_then(Value::as_array);
    for k in 0..keys.map_or(0, Vec::len) {
        if snapshot
            .pointer(&format!("/kmsKeys/{k}/policy"))
            .is_some_and(|d| !d.is_null())
        {
            out.push((format!("/kmsKeys/{k}/policy"), "kmsKeyPolicy"));
        }
    }
    out
}

/// Every mutation of a snapshot that loses information and says so: (what, the mutated snapshot). Layers
/// the check lists in `skipLayers` are left alone: there the user accepts what is not read.
pub(crate) fn mutations(snapshot: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let skipped = |layer: &str| {
        snapshot
            .pointer("/request/skipLayers")
            .and_then(Value::as_array)
            .is_some_and(|l| l.iter().any(|s| s == layer))
    };
    // One statement removed from one document.
    for (pointer, layer) in documents(snapshot).into_iter().filter(|(_, l)| !skipped(l)) {
        let count = match snapshot.pointer(&format!("{pointer}/Statement")) {
            Some(Value::Array(list)) => list.len(),
            Some(Value::Object(_)) => 1,
            _ => 0,
        };
        for i in 0..count {
            let mut s = snapshot.clone();
            match s.pointer_mut(&format!("{pointer}/Statement")) {
                Some(Value::Array(list)) => {
                    list.remove(i);
                }
                Some(single) => *single = json!([]),
                None => {}
            }
            unread(&mut s, layer);
            out.push((
                format!("statement {i} of {pointer} removed, {layer} unread"),
                s,
            ));
        }
        // The whole document removed.
        let mut s = snapshot.clone();
        if let Some(d) = s.pointer_mut(&pointer) {
            *d = Value::Null;
        }
        unread(&mut s, layer);
        out.push((format!("{pointer} removed, {layer} unread"), s));
    }
    // A whole layer's container removed.
    for (field, layers) in [
        ("principal", &["identity"][..]),
        ("organization", &["scp", "rcp"][..]),
        (
            "bucket",
            &[
                "bucketPolicy",
                "bucketOwnership",
                "publicAccessBlock",
                "accountPublicAccessBlock",
                "bucketEncryption",
            ][..],
        ),
        ("vpcEndpoint", &["vpcEndpointPolicy"][..]),
    ] {
        if snapshot.get(field).is_some_and(|v| !v.is_null()) && !layers.iter().any(|l| skipped(l)) {
            let mut s = snapshot.clone();
            s[field] = Value::Null;
            for layer in layers {
                unread(&mut s, layer);
            }
            out.push((format!("{field} removed"), s));
        }
    }
    // One value of the request removed: AWS still sends one, the check no longer says which.
    for pointer in [
        "/request/network/sourceIp",
        "/request/network/tlsVersion",
        "/request/network/vpcEndpointId",
        "/collectedAt",
    ] {
        if snapshot.pointer(pointer).is_some() {
            let mut s = snapshot.clone();
            let (parent, key) = pointer.rsplit_once('/').unwrap();
            let parent = if parent.is_empty() {
                Some(&mut s)
            } else {
                s.pointer_mut(parent)
            };
            if let Some(Value::Object(map)) = parent {
                map.remove(key);
            }
            out.push((format!("{pointer} removed"), s));
        }
    }
    out
}

#[test]
fn losing_information_never_yields_allowed() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for (name, snapshot) in crate::scenarios::snapshots() {
        match verdict(&snapshot) {
            Some(Verdict::Allowed) | None => continue,
            Some(_) => {}
        }
        for (what, mutated) in mutations(&snapshot) {
            checked += 1;
            if verdict(&mutated) == Some(Verdict::Allowed) {
                failures.push(format!("{name}: {what}"));
            }
        }
    }
    assert!(checked > 300, "only {checked} mutations checked");
    assert!(
        failures.is_empty(),
        "{} of {checked} mutations turned a verdict Allowed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
