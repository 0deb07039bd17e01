//! The `diagnose` command as a user runs it: real binary, real files, exit codes, JSON and text output.

use crate::temp_dir::TempDir;
use std::path::PathBuf;
use std::process::Command;

/// The snapshot of a diagnosis scenario, written as a file into `dir`.
fn snapshot_file(dir: &TempDir, scenario: &str) -> PathBuf {
    let path = format!(
        "{}/crates/s3-diagnosis/tests/scenarios/{scenario}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let out = dir.join(&format!("{scenario}.json"));
    std::fs::write(&out, serde_json::to_string(&v["snapshot"]).unwrap()).unwrap();
    out
}

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_bucket-access-operator"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn exit_codes_follow_the_verdict() {
    let dir = TempDir::new("diagnose");
    for (scenario, code) in [
        ("allowed-plain", 0),
        ("seed-storage-class-deny-condition-denied", 1),
        ("unknown-scp-unreadable", 3),
        ("invalid-bucket-name", 4),
    ] {
        let file = snapshot_file(&dir, scenario);
        let (status, stdout, stderr) = run(&["diagnose", file.to_str().unwrap(), "-o", "json"]);
        assert_eq!(status, Some(code), "{scenario}: {stdout}{stderr}");
        let d: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(d["version"], 1);
        assert!(d["summary"].as_str().unwrap().len() > 10);
    }
}

#[test]
fn json_output_has_the_spec_fields() {
    let dir = TempDir::new("diagnose");
    let file = snapshot_file(&dir, "seed-source-ip-allow-condition-denied");
    let (status, stdout, _) = run(&["diagnose", file.to_str().unwrap(), "--output", "json"]);
    assert_eq!(status, Some(1));
    let d: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(d["verdict"], "Denied");
    let cause = &d["causes"][0];
    assert_eq!(cause["id"], "BUCKET_POLICY_CONDITION_SOURCE_IP");
    assert_eq!(cause["layer"], "bucketPolicy");
    assert_eq!(cause["action"], "s3:PutObject");
    assert_eq!(cause["statement"]["sid"], "AllowWithCondition");
    assert_eq!(cause["statement"]["policyId"], "bucket-policy");
    assert_eq!(cause["statement"]["statementIndex"], 0);
    assert!(cause["message"].as_str().unwrap().contains("203.0.113.9"));
    assert_eq!(cause["remediation"][0]["kind"], "request");
    assert_eq!(cause["remediation"][1]["kind"], "policy");
    let e = &d["evaluations"][0];
    assert_eq!(e["action"], "s3:PutObject");
    assert_eq!(e["decision"], "implicitDeny");
    assert_eq!(e["determiningStatements"][0]["layer"], "bucketPolicy");
    assert_eq!(e["determiningStatements"][0]["sid"], "AllowWithCondition");
    assert!(d["assumptions"].as_array().unwrap().is_empty());
    assert!(d["unknown"].as_array().unwrap().is_empty());
}

#[test]
fn text_output_leads_with_the_verdict_and_has_no_colour_when_piped() {
    let dir = TempDir::new("diagnose");
    let file = snapshot_file(&dir, "seed-storage-class-deny-condition-denied");
    let (status, stdout, _) = run(&["diagnose", file.to_str().unwrap()]);
    assert_eq!(status, Some(1));
    assert!(stdout.starts_with("DENIED "), "{stdout}");
    assert!(stdout.contains("--storage-class STANDARD_IA"));
    assert!(
        !stdout.contains('\u{1b}'),
        "no ANSI codes when stdout is not a terminal"
    );
}

#[test]
fn bad_files_exit_four_with_a_message() {
    let (status, _, stderr) = run(&["diagnose", "/nonexistent/snapshot.json"]);
    assert_eq!(status, Some(4));
    assert!(stderr.contains("cannot read"), "{stderr}");
    let dir = TempDir::new("diagnose");
    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"{"version": 1, "request": {"bucket": "b"}}"#).unwrap();
    let (status, _, stderr) = run(&["diagnose", bad.to_str().unwrap()]);
    assert_eq!(status, Some(4));
    assert!(stderr.contains("principalArn"), "{stderr}");
    let (status, _, _) = run(&["diagnose", bad.to_str().unwrap(), "-o", "yaml"]);
    assert_eq!(status, Some(2));
}

/// An unknown field at any depth of a snapshot, or a key given twice, is refused with its path: before,
/// `bucket.Policy` or `organisation` were ignored and the check came out `Allowed`.
#[test]
fn unknown_fields_and_duplicate_keys_are_refused_with_their_path() {
    let dir = TempDir::new("diagnose");
    let base: serde_json::Value = {
        let file = snapshot_file(&dir, "bucket-explicit-deny");
        serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap()
    };
    let variant = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut v = base.clone();
        edit(&mut v);
        v
    };
    let cases = [
        (
            variant(&|v| {
                let policy = v["bucket"]["policy"].take();
                v["bucket"].as_object_mut().unwrap().remove("policy");
                v["bucket"]["Policy"] = policy;
            }),
            "`bucket.Policy`: unknown field `Policy`",
        ),
        (
            variant(&|v| v["organisation"] = serde_json::json!({"scps": []})),
            "`organisation`: unknown field `organisation`",
        ),
        (
            variant(&|v| v["request"]["upload"]["storageClas"] = "STANDARD_IA".into()),
            "`request.upload.storageClas`: unknown field `storageClas`",
        ),
    ];
    for (i, (snapshot, expected)) in cases.iter().enumerate() {
        let file = dir.join(&format!("strict-{i}.json"));
        std::fs::write(&file, serde_json::to_string(snapshot).unwrap()).unwrap();
        let (status, stdout, stderr) = run(&["diagnose", file.to_str().unwrap()]);
        assert_eq!(status, Some(4), "{expected}: {stdout}{stderr}");
        assert!(stderr.contains(expected), "{expected}: {stderr}");
    }
    // A second `version` key: JSON readers keep one of the two, silently.
    let text = serde_json::to_string(&base).unwrap();
    let doubled = text.replacen('{', "{\"version\":2,", 1);
    assert_ne!(text, doubled);
    let file = dir.join("strict-dup.json");
    std::fs::write(&file, doubled).unwrap();
    let (status, _, stderr) = run(&["diagnose", file.to_str().unwrap()]);
    assert_eq!(status, Some(4), "{stderr}");
    assert!(stderr.contains("duplicate key `version`"), "{stderr}");
}

#[test]
fn the_fixed_snapshot_diagnoses_allowed_and_the_text_shows_the_whole_fix() {
    let dir = TempDir::new("diagnose");
    let file = snapshot_file(&dir, "multi-request-and-identity-grant");
    let fixed = dir.join("fixed.json");
    let (status, stdout, stderr) = run(&[
        "diagnose",
        file.to_str().unwrap(),
        "--fixed-snapshot-out",
        fixed.to_str().unwrap(),
    ]);
    assert_eq!(status, Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("Fix for the whole check (verified"),
        "{stdout}"
    );
    assert!(
        stdout.contains("--acl bucket-owner-full-control"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "aws iam put-role-policy --role-name uploader --policy-name bucket-access-fix"
        ),
        "{stdout}"
    );
    // Anyone can re-run `diagnose` on the fixed snapshot: it is allowed.
    let (status, stdout, stderr) = run(&["diagnose", fixed.to_str().unwrap(), "-o", "json"]);
    assert_eq!(status, Some(0), "{stdout}{stderr}");
    let d: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(d["verdict"], "Allowed");
    assert!(d.get("fix").is_none(), "an allowed check has no fix");
    // The JSON form of the denial carries the fix object.
    let (_, stdout, _) = run(&["diagnose", file.to_str().unwrap(), "-o", "json"]);
    let d: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(d["fix"]["verified"], true);
    assert_eq!(
        d["fix"]["policies"][0]["policyId"],
        "uploader/inline/bucket-access-fix"
    );
    assert!(d["fix"]["policies"][0]["document"]["Statement"].is_array());
}

#[test]
fn text_output_has_no_internal_placeholders_and_warnings_are_not_causes_to_fix() {
    let dir = TempDir::new("diagnose");
    for scenario in ["assumed-scp-skipped", "multipart-header-warning"] {
        let file = snapshot_file(&dir, scenario);
        let (status, stdout, _) = run(&["diagnose", file.to_str().unwrap()]);
        assert_eq!(status, Some(0), "{scenario}: {stdout}");
        for bad in [
            "AssumedAllow",
            "unknown identity #",
            "not read (not read",
            "(skipLayers))",
            "Causes, in the order to fix them",
        ] {
            assert!(!stdout.contains(bad), "{scenario}: `{bad}` in {stdout}");
        }
    }
    let file = snapshot_file(&dir, "multipart-header-warning");
    let (_, stdout, _) = run(&["diagnose", file.to_str().unwrap()]);
    assert!(stdout.contains("\nWarnings\n"), "{stdout}");
    let file = snapshot_file(&dir, "assumed-scp-skipped");
    let (_, stdout, _) = run(&["diagnose", file.to_str().unwrap()]);
    assert!(stdout.contains("skipped by `skipLayers`"), "{stdout}");
}

/// With no AWS credentials at all, `check` says so once (not once per layer with `skipLayers` advice) and
/// sends nothing: the only endpoint named is a closed port on 127.0.0.1.
#[test]
fn no_credentials_is_one_clear_unknown() {
    let dir = TempDir::new("no-credentials");
    let check = dir.0.join("check.yaml");
    std::fs::write(
        &check,
        "apiVersion: bucketaccess.io/v1alpha1\nkind: BucketAccessCheck\nmetadata: {name: x}\nspec: {roleArn: \"arn:aws:iam::111122223333:role/uploader\", bucket: doc-example-bucket}\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bucket-access-operator"))
        .args(["check", "-f", check.to_str().unwrap(), "-o", "json"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &dir.0)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .output()
        .unwrap();
    let d: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(d["verdict"], "Unknown", "{d}");
    assert_eq!(out.status.code(), Some(3));
    let unknown = d["unknown"].as_array().unwrap();
    assert_eq!(unknown.len(), 1, "{d}");
    let reason = unknown[0]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("no AWS credentials: nothing was read")
            && !reason.contains("skipLayers"),
        "{reason}"
    );
}

/// `explain` with no cluster to ask exits 5, not 4 (which is an invalid input); the exit codes are in
/// `--help` and in each man page.
#[test]
fn an_unreachable_cluster_has_its_own_exit_code_and_the_codes_are_documented() {
    let dir = TempDir::new("no-cluster");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bucket-access-operator"))
        .args(["explain", "x", "--kubeconfig"])
        .arg(dir.0.join("missing-kubeconfig"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot reach the cluster"));
    let (code, help, _) = run(&["--help"]);
    assert_eq!(code, Some(0));
    assert!(
        help.contains("Exit codes:") && help.contains("5  the cluster cannot be reached"),
        "{help}"
    );
    for page in [vec!["man"], vec!["man", "explain"], vec!["man", "check"]] {
        let (code, roff, _) = run(&page);
        assert_eq!(code, Some(0), "{page:?}");
        assert!(roff.contains("Exit codes:"), "{page:?}");
    }
    let (code, roff, _) = run(&["man", "explain"]);
    assert_eq!(code, Some(0));
    assert!(
        roff.contains(".TH bucket-access-operator-explain") && roff.contains("all\\-namespaces"),
        "{roff}"
    );
}
