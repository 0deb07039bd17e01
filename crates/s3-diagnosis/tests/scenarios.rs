//! Every snapshot under `tests/scenarios/` is diagnosed and checked against its `expect`: the verdict, the
//! error cause ids, the warning ids, the denied actions, the unknown and assumed layers, and that the
//! remediations name the expected flag or statement. Each file is its own test, named by the file (the harness
//! is libtest-mimic: the standard harness cannot name tests at run time); two more check that every cause id
//! has a scenario and is in the catalog users read, `docs/causes.md`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a failed unwrap is a failed test"
)]

use s3_diagnosis::causes::{CauseId, Severity};
use s3_diagnosis::diagnose;
use s3_diagnosis::snapshot::Snapshot;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

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
        .map(|c| c.id.to_string())
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
            .map(|c| c.id.to_string())
            .collect();
        if warnings != strings(w) {
            problems.push(format!("warnings {warnings:?}, expected {:?}", strings(w)));
        }
    }
    let denied: BTreeSet<String> = d
        .evaluations
        .iter()
        .filter(|e| e.decision.is_denied())
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
    if let Some(text) = expect.get("summaryContains").and_then(Value::as_str) {
        if !d.summary.contains(text) {
            problems.push(format!("the summary does not say `{text}`"));
        }
    }
    if let Some(whole) = expect.get("wholeFix") {
        problems.extend(whole_fix_problems(&out["fix"], whole));
    }
    problems.extend(layer_problems(&out, expect));
    problems.extend(unexplained(&d));
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

/// The unknown and assumed layers against `expect.unknownLayers` and `expect.assumptionLayers`.
fn layer_problems(out: &Value, expect: &Value) -> Vec<String> {
    let mut problems = Vec::new();
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
    problems
}

/// Every error cause explains itself and says what to change.
fn unexplained(d: &s3_diagnosis::Diagnosis) -> Vec<String> {
    let mut problems = Vec::new();
    for c in d
        .causes
        .iter()
        .filter(|c| c.severity == Severity::Error && c.id != CauseId::InvalidRequest)
    {
        if c.message.is_empty() {
            problems.push(format!("cause {} has no message", c.id));
        }
        if c.remediation.is_empty()
            && !matches!(
                c.id,
                CauseId::KmsKeyNotSymmetric | CauseId::KmsGrantMissingOrConstrained
            )
        {
            problems.push(format!("cause {} has no remediation", c.id));
        }
    }
    problems
}

/// The whole-check fix against `expect.wholeFix`: verified or not, text the request command must contain,
/// the ids of the patched documents, text the patched documents must contain, the number of conflicts.
fn whole_fix_problems(fix: &Value, whole: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    if fix.is_null() {
        return vec!["no whole-check fix".to_owned()];
    }
    if fix["verified"] != whole["verified"] {
        problems.push(format!(
            "fix verified {}, remaining {}",
            fix["verified"], fix["remaining"]
        ));
    }
    let command = fix["request"]["command"].as_str().unwrap_or_default();
    for needle in whole["request"].as_array().unwrap() {
        if !command.contains(needle.as_str().unwrap()) {
            problems.push(format!("the fixed request `{command}` has no `{needle}`"));
        }
    }
    let ids: BTreeSet<String> = fix["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["policyId"].as_str().unwrap().to_owned())
        .collect();
    if ids != strings(&whole["policies"]) {
        problems.push(format!(
            "patched documents {ids:?}, expected {:?}",
            strings(&whole["policies"])
        ));
    }
    let documents = serde_json::to_string(&fix["policies"]).unwrap();
    for needle in whole
        .get("document")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if !documents.contains(needle.as_str().unwrap()) {
            problems.push(format!("no patched document contains {needle}"));
        }
    }
    if let Some(n) = whole.get("conflicts").and_then(Value::as_u64) {
        let got = fix["request"]["conflicts"].as_array().map_or(0, Vec::len) as u64;
        if got < n {
            problems.push(format!("{got} request conflicts, expected at least {n}"));
        }
    }
    problems
}

fn scenario_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

/// Every cause id the diagnosis can emit is expected by at least one scenario.
fn every_cause_id_has_a_scenario(files: &[PathBuf]) -> Result<(), String> {
    if files.len() < 100 {
        return Err(format!(
            "expected the scenario corpus, found {}",
            files.len()
        ));
    }
    let mut covered = BTreeSet::new();
    for path in files {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        covered.extend(strings(&v["expect"]["causes"]));
        if let Some(w) = v["expect"].get("warnings") {
            covered.extend(strings(w));
        }
    }
    let missing: Vec<&str> = CauseId::ALL
        .iter()
        .map(|id| id.as_str())
        .filter(|id| !covered.contains(*id))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("cause ids without a scenario: {missing:?}"))
    }
}

/// Every cause id is in the catalog users read (`docs/causes.md`), with the meaning and remediation in
/// general words that a `Summary` status shows (`CauseId::meaning`, `CauseId::general_remediation`).
fn every_cause_id_is_documented() -> Result<(), String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/causes.md");
    let catalog = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    // Each id's row shows the code's general texts (what a `Summary` status shows): meaning, then the
    // documentation link, then the remediation.
    let missing: Vec<&str> = CauseId::ALL
        .iter()
        .filter(|id| {
            let row = format!("| `{}` | {} | ", id.as_str(), id.meaning());
            let end = format!(" | {} |", id.general_remediation());
            !catalog
                .lines()
                .any(|line| line.starts_with(&row) && line.trim_end().ends_with(&end))
        })
        .map(|id| id.as_str())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "cause ids missing from docs/causes.md, or whose row differs from their texts in the code: {missing:?}"
        ))
    }
}

fn main() -> std::process::ExitCode {
    let args = libtest_mimic::Arguments::from_args();
    let files = scenario_files();
    let mut trials = vec![libtest_mimic::Trial::test(
        "coverage::every_cause_id_is_documented",
        || every_cause_id_is_documented().map_err(Into::into),
    )];
    let all = files.clone();
    trials.push(libtest_mimic::Trial::test(
        "coverage::every_cause_id_has_a_scenario",
        move || every_cause_id_has_a_scenario(&all).map_err(Into::into),
    ));
    for file in files {
        let name = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        trials.push(libtest_mimic::Trial::test(name, move || {
            check(&file).map_err(Into::into)
        }));
    }
    libtest_mimic::run(&args, trials).exit_code()
}
