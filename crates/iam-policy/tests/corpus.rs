//! The corpus: every case file under `tests/corpus/cases/` (simulate-case format with our `expect*` fields)
//! and every operator table under `tests/corpus/operators/`, each its own test named by its path (so a
//! failure names the file), plus the coverage checks (case count, every operator has rows). The harness is
//! libtest-mimic: the standard harness cannot name tests at run time.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a failed unwrap is a failed test"
)]

use iam_policy::case::{load_case_value, CaseResult};
use iam_policy::{Classification, Decision};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn corpus_dir(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(sub)
}

fn classification_name(c: Classification) -> String {
    match c {
        Classification::Allowed(_) => "Allowed".to_owned(),
        other => serde_json::to_value(other)
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned(),
    }
}

/// `layer/policy/statement`, or `layer/level/policy/statement` for SCPs and RCPs.
fn statement_key(v: &Value) -> String {
    let layer = v["layer"].as_str().unwrap();
    match v.get("level") {
        Some(level) => format!(
            "{layer}/{level}/{}/{}",
            v["policyIndex"], v["statementIndex"]
        ),
        None => format!("{layer}/{}/{}", v["policyIndex"], v["statementIndex"]),
    }
}

fn check_case(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).unwrap();
    let value: Value = serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}"))?;
    let case = load_case_value(&value, &path.display().to_string()).map_err(|e| e.to_string())?;
    let result = CaseResult::evaluate(&case);
    let out = serde_json::to_value(&result).unwrap();
    let mut problems = Vec::new();

    let expect = case.expect.ok_or("the case has no `expect`")?;
    if result.decision != expect {
        problems.push(format!(
            "decision {:?}, expected {expect:?}",
            result.decision
        ));
    }
    let expected_determining = value
        .get("expectDetermining")
        .and_then(Value::as_array)
        .ok_or("the case has no `expectDetermining`")?;
    let mut want: Vec<String> = expected_determining
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    let mut got: Vec<String> = out["determiningStatements"]
        .as_array()
        .unwrap()
        .iter()
        .map(statement_key)
        .collect();
    want.sort();
    got.sort();
    if want != got {
        problems.push(format!("determining statements {got:?}, expected {want:?}"));
    }
    if let Some(c) = value.get("expectClassification").and_then(Value::as_str) {
        let name = classification_name(result.classification);
        if name != c {
            problems.push(format!("classification {name}, expected {c}"));
        }
    }
    if let Some(fc) = value.get("expectFailingCondition") {
        let found = out["mismatches"].as_array().unwrap().iter().any(|m| {
            m["element"] == "condition" && m["key"] == fc["key"] && m["operator"] == fc["operator"]
        });
        if !found {
            problems.push(format!(
                "no condition mismatch {fc}; mismatches: {}",
                out["mismatches"]
            ));
        }
    }
    if let Some(keys) = value.get("expectMissingContextKeys") {
        if out["missingContextKeys"] != *keys {
            problems.push(format!(
                "missing context keys {}, expected {keys}",
                out["missingContextKeys"]
            ));
        }
    }
    let pointers: Vec<&str> = out["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    let want_pointers: Vec<&str> = value
        .get("expectErrorPointers")
        .map(|p| {
            p.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect()
        })
        .unwrap_or_default();
    if pointers != want_pointers {
        problems.push(format!(
            "error pointers {pointers:?}, expected {want_pointers:?}: {}",
            out["errors"]
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// Builds a case around one condition and evaluates it as an `Allow` and as a `Deny`.
fn condition_holds(operator: &str, policy: &Value, request: &Value) -> (Decision, Decision) {
    let mut context = serde_json::Map::new();
    if !request.is_null() {
        context.insert("test:key".into(), request.clone());
    }
    let statement = |effect: &str| {
        json!({"Effect": effect, "Action": "s3:PutObject", "Resource": "*",
        "Condition": {operator: {"test:key": policy}}})
    };
    let run = |identity: Value| {
        let case = json!({"name": "op", "principal": "arn:aws:iam::111122223333:role/r", "action": "s3:PutObject",
            "resource": "arn:aws:s3:::b/k", "resourceAccount": "111122223333", "context": context,
            "identityPolicies": [identity]});
        let case = load_case_value(&case, "op").unwrap();
        let result = CaseResult::evaluate(&case);
        assert!(result.errors.is_empty(), "{operator}: {:?}", result.errors);
        result.decision
    };
    let as_allow = run(json!({"Version": "2012-10-17", "Statement": [statement("Allow")]}));
    let as_deny = run(json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}, statement("Deny")]}));
    (as_allow, as_deny)
}

/// One operator table: every row as an `Allow` and as a `Deny`.
fn check_table(file: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(file).map_err(|e| e.to_string())?;
    let table: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let default_op = table["operator"].as_str().unwrap_or_default();
    let mut failures = Vec::new();
    for (i, row) in table["rows"].as_array().into_iter().flatten().enumerate() {
        let op = row
            .get("operator")
            .and_then(Value::as_str)
            .unwrap_or(default_op);
        let expect = row["expect"].as_bool().ok_or("row without `expect`")?;
        let (as_allow, as_deny) = condition_holds(op, &row["policy"], &row["request"]);
        let want_allow = if expect {
            Decision::Allowed
        } else {
            Decision::ImplicitDeny
        };
        let want_deny = if expect {
            Decision::ExplicitDeny
        } else {
            Decision::Allowed
        };
        if as_allow != want_allow || as_deny != want_deny {
            failures.push(format!(
                "row {i}: {op} {} vs {}: allow form {as_allow:?}, deny form {as_deny:?}, expected the condition to be {expect}",
                row["policy"], row["request"]
            ));
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n"))
    }
}

/// The operators the tables cover, and their row count.
fn coverage(files: &[PathBuf]) -> Result<(), String> {
    let mut covered = std::collections::BTreeSet::new();
    let mut rows = 0;
    for file in files {
        let table: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        let default_op = table["operator"].as_str().unwrap();
        for row in table["rows"].as_array().unwrap() {
            rows += 1;
            covered.insert(
                row.get("operator")
                    .and_then(Value::as_str)
                    .unwrap_or(default_op)
                    .to_owned(),
            );
        }
    }
    for kind in iam_policy::operator::ALL_OPERATORS {
        if !covered.contains(kind.name()) {
            return Err(format!("no table rows for `{}`", kind.name()));
        }
    }
    if rows < 100 {
        return Err(format!("only {rows} operator rows"));
    }
    Ok(())
}

fn trial_name(file: &Path) -> String {
    file.strip_prefix(corpus_dir(""))
        .unwrap_or(file)
        .display()
        .to_string()
}

fn main() -> std::process::ExitCode {
    let args = libtest_mimic::Arguments::from_args();
    let cases = files(&corpus_dir("cases"));
    let tables = files(&corpus_dir("operators"));
    let mut trials = Vec::new();
    let count = cases.len();
    trials.push(libtest_mimic::Trial::test(
        "coverage::at_least_150_cases",
        move || {
            if count >= 150 {
                Ok(())
            } else {
                Err(format!("the corpus must have at least 150 cases, has {count}").into())
            }
        },
    ));
    let all_tables = tables.clone();
    trials.push(libtest_mimic::Trial::test(
        "coverage::every_operator_has_rows",
        move || coverage(&all_tables).map_err(Into::into),
    ));
    for file in cases {
        trials.push(libtest_mimic::Trial::test(trial_name(&file), move || {
            check_case(&file).map_err(Into::into)
        }));
    }
    for file in tables {
        trials.push(libtest_mimic::Trial::test(trial_name(&file), move || {
            check_table(&file).map_err(Into::into)
        }));
    }
    libtest_mimic::run(&args, trials).exit_code()
}
