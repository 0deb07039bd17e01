//! The layering, from the resolved dependency graph (`cargo metadata`): the engine (`iam-policy`) and the
//! diagnosis (`s3-diagnosis`) reach no AWS SDK, kube, k8s-openapi or tokio, not even transitively, and the
//! engine does not depend on the diagnosis. The compiler enforces the rest: the pure crates cannot name the
//! adapter's modules.
//!
//! The graph is the one for the platform this test was built for (`--filter-platform`): that needs only the
//! manifests the build itself downloaded, so the test passes offline from a cargo home that holds nothing but
//! this build's crates (a newcomer's). The unfiltered graph would need every platform's crates (`windows-*`,
//! `anstyle-wincon`), which no Linux build downloads.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// Every package a workspace member reaches through normal (non-dev, non-build) dependencies.
fn normal_closure(metadata: &Value, package: &str) -> BTreeSet<String> {
    let names: BTreeMap<&str, &str> = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
        .collect();
    let nodes: BTreeMap<&str, &Value> = metadata["resolve"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["id"].as_str().unwrap(), n))
        .collect();
    let start = names
        .iter()
        .find(|(_, name)| **name == package)
        .map(|(id, _)| *id)
        .unwrap_or_else(|| panic!("`{package}` is not in the workspace"));
    let mut seen = BTreeSet::new();
    let mut todo = vec![start];
    while let Some(id) = todo.pop() {
        if !seen.insert(id) {
            continue;
        }
        for dep in nodes[id]["deps"].as_array().unwrap() {
            let normal = dep["dep_kinds"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k["kind"].is_null());
            if normal {
                todo.push(dep["pkg"].as_str().unwrap());
            }
        }
    }
    seen.iter().map(|id| names[id].to_owned()).collect()
}

#[test]
fn the_pure_crates_reach_no_adapter() {
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--offline",
            "--locked",
            "--filter-platform",
            env!("BAO_TARGET"),
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metadata: Value = serde_json::from_slice(&out.stdout).unwrap();
    let forbidden = |name: &str| {
        name.starts_with("aws-")
            || name.starts_with("kube")
            || name.starts_with("k8s-openapi")
            || name == "tokio"
            || name == "hyper"
            || name == "bucket-access-operator"
    };
    for package in ["iam-policy", "s3-diagnosis"] {
        let closure = normal_closure(&metadata, package);
        assert!(closure.contains("serde_json"), "{package}: {closure:?}");
        let offences: Vec<&String> = closure.iter().filter(|n| forbidden(n)).collect();
        assert!(offences.is_empty(), "`{package}` depends on {offences:?}");
    }
    assert!(!normal_closure(&metadata, "iam-policy").contains("s3-diagnosis"));
    // The check itself can fail: the operator crate does reach the SDK.
    assert!(normal_closure(&metadata, "bucket-access-operator").contains("aws-sdk-s3"));
}
