//! Every snapshot under `tests/scenarios/` is diagnosed and checked against its `expect`: the verdict, the
//! error cause ids, the warning ids, the denied actions, the unknown and assumed layers, and that the
//! remediations name the expected flag or statement. Failures are collected and reported together.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a failed unwrap is a failed test"
)]

use bucket_access_operator::diagnose::causes::Severity;
use bucket_access_operator::diagnose::diagnose;
use bucket_access_operator::diagnose::snapshot::Snapshot;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

fn strings(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

fn check(path: &Path) -> Result<(), String> {
    let scenario: Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).map_err(|e| e.to_string())?;
    let snapshot: Snapshot = serde_json::from_value(scenario["snapshot"].clone())
        .map_err(|e| format!("snapshot: {e}"))?;
    let expect = &scenario["expect"];
    let d = diagnose(&snapshot);
    let out = serde_json::to_value(&d).unwrap();
    let mut problems = Vec::new();

    let verdict = out["verdict"].as_str().unwrap();
    if verdict != expect["verdict"] {
        problems.push(format!("verdict {verdict}, expected {}", expect["verdict"]));
    }
    let errors: BTreeSet<String> = d
        .causes
        .iter()
        .filter(|c| c.severity == Severity::Error)
        .map(|c| c.id.to_owned())
        .collect();
    if errors != strings(&expect["causes"]) {
        problems.push(format!(
            "error causes {errors:?}, expected {:?}",
            strings(&expect["causes"])
        ));
    }
    if let Some(w) = expect.get("warnings") {
        let warnings: BTreeSet<String> = d
            .causes
            .iter()
            .filter(|c| c.severity == Severity::Warning)
            .map(|c| c.id.to_owned())
            .collect();
        if warnings != strings(w) {
            problems.push(format!("warnings {warnings:?}, expected {:?}", strings(w)));
        }
    }
    let denied: BTreeSet<String> = d
        .evaluations
        .iter()
        .filter(|e| e.decision == "implicitDeny" || e.decision == "explicitDeny")
        .map(|e| e.action.clone())
        .collect();
    if denied != strings(&expect["deniedActions"]) {
        problems.push(format!(
            "denied actions {denied:?}, expected {:?}",
            strings(&expect["deniedActions"])
        ));
    }
    let remediation: String = d
        .causes
        .iter()
        .map(|c| serde_json::to_string(&c.remediation).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
        .replace("\\\"", "\"");
    for needle in expect["fix"].as_array().unwrap() {
        let needle = needle.as_str().unwrap();
        if !remediation.contains(needle) {
            problems.push(format!("no remediation names `{needle}`"));
        }
    }
    if let Some(u) = expect.get("unknownLayers") {
        let got: BTreeSet<String> = out["unknown"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["layer"].as_str().unwrap().to_owned())
            .collect();
        if got != strings(u) {
            problems.push(format!("unknown layers {got:?}, expected {:?}", strings(u)));
        }
    }
    if let Some(a) = expect.get("assumptionLayers") {
        let got: BTreeSet<String> = out["assumptions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["layer"].as_str().unwrap().to_owned())
            .collect();
        if got != strings(a) {
            problems.push(format!(
                "assumption layers {got:?}, expected {:?}",
                strings(a)
            ));
        }
    }
    // Every error cause explains itself and says what to change.
    for c in d
        .causes
        .iter()
        .filter(|c| c.severity == Severity::Error && c.id != "INVALID_REQUEST")
    {
        if c.message.is_empty() {
            problems.push(format!("cause {} has no message", c.id));
        }
        if c.remediation.is_empty()
            && !matches!(
                c.id,
                "KMS_KEY_NOT_SYMMETRIC" | "KMS_GRANT_MISSING_OR_CONSTRAINED"
            )
        {
            problems.push(format!("cause {} has no remediation", c.id));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}\n    summary: {}",
            problems.join("\n    "),
            d.summary
        ))
    }
}

#[test]
fn every_scenario_holds() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 100,
        "expected the scenario corpus, found {}",
        files.len()
    );
    let failures: Vec<String> = files
        .iter()
        .filter_map(|f| {
            check(f)
                .err()
                .map(|e| format!("{}:\n    {e}", f.file_name().unwrap().to_string_lossy()))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} scenarios fail:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn every_implemented_cause_id_has_a_scenario() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let mut covered = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            covered.extend(strings(&v["expect"]["causes"]));
            if let Some(w) = v["expect"].get("warnings") {
                covered.extend(strings(w));
            }
        }
    }
    let source = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src/diagnose/causes.rs"),
    )
    .unwrap();
    let declared: Vec<&str> = source
        .lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix("pub const ")
                .and_then(|r| r.split(':').next())
        })
        .collect();
    assert!(declared.len() > 60);
    let missing: Vec<&&str> = declared
        .iter()
        .filter(|id| !covered.contains(**id))
        .collect();
    assert!(
        missing.is_empty(),
        "cause ids without a scenario: {missing:?}"
    );
}
