//! The `simulate` command as a user runs it: the real binary, real files, JSON Lines out, exit codes.

use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bucket-access-operator"))
}

fn corpus(path: &str) -> String {
    format!(
        "{}/crates/iam-policy/tests/corpus/cases/{path}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn prints_one_line_per_case_in_order() {
    let out = bin()
        .args([
            "simulate",
            &corpus("seed/seed-acl-deny-condition-applies.json"),
            &corpus("action/action-exact.json"),
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["name"], "seed-acl-deny-condition-applies");
    assert_eq!(lines[0]["decision"], "ExplicitDeny");
    assert_eq!(
        lines[0]["determiningStatements"][0]["sid"],
        "DenyWithCondition"
    );
    assert_eq!(lines[0]["layers"]["resourcePolicy"], "ExplicitDeny");
    assert_eq!(lines[0]["layers"]["identity"], "Allowed");
    assert_eq!(lines[1]["decision"], "Allowed");
    // The spec's field order: name, decision, determiningStatements, layers, missingContextKeys, errors.
    let first = stdout.lines().next().unwrap();
    let order: Vec<usize> = [
        "\"name\"",
        "\"decision\"",
        "\"determiningStatements\"",
        "\"layers\"",
        "\"missingContextKeys\"",
        "\"errors\"",
    ]
    .iter()
    .map(|k| first.find(k).unwrap())
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{first}");
}

#[test]
fn bad_input_exits_four_and_still_evaluates_the_rest() {
    let dir = crate::temp_dir::TempDir::new("simulate");
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{not json").unwrap();
    let out = bin()
        .args([
            "simulate",
            bad.to_str().unwrap(),
            &corpus("action/action-exact.json"),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.json"));
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 1);
    let missing = bin()
        .args(["simulate", dir.join("nope.json").to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read"));
}

#[test]
fn usage_errors_exit_two() {
    let out = bin().args(["simulate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
