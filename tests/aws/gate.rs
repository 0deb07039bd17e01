//! `check` as a CI gate, against moto: every input form (file, directory with `-R`, stdin, several documents
//! with other kinds), strict manifests with suggestions, every output format read back by a real parser
//! (Python's XML parser for JUnit, JSON for SARIF, a YAML parser for YAML, the workflow-command grammar for
//! GitHub), the exit code of mixed verdicts, a what-if that turns an Allowed check Denied and a Denied one
//! Allowed while the live documents stay as they are, and 1,000 manifests in one run (one AWS read per
//! distinct input).

use crate::support::{root, Moto, TempDir};
use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Instant;

struct Gate<'a> {
    moto: &'a Moto,
    dir: TempDir,
}

impl Gate<'_> {
    /// `program` with the AWS configuration that points at moto.
    fn with_aws(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        self.moto.configure(&mut cmd);
        cmd
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = self.with_aws(env!("CARGO_BIN_EXE_bucket-access-operator"));
        cmd.args(args);
        cmd
    }

    /// (exit code, stdout, stderr), with `stdin` on standard input.
    fn run(&self, args: &[&str], stdin: &str) -> (i32, String, String) {
        let out = fed(self.command(args), stdin);
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    }

    /// `check -f FILE --with bucketPolicy=DOCUMENT -o json`.
    fn with_bucket_policy(&self, file: &str, document: &str) -> (i32, Value) {
        let with = format!("bucketPolicy={document}");
        self.json(&["check", "-f", file, "--with", &with, "-o", "json"], "")
    }

    fn json(&self, args: &[&str], stdin: &str) -> (i32, Value) {
        let (code, stdout, stderr) = self.run(args, stdin);
        let v = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout} {stderr}"));
        (code, v)
    }

    /// Python from the test virtualenv on `input`, with the AWS configuration of the CLI (for a CLI it runs).
    fn python(&self, code: &str, input: &str) -> String {
        let mut cmd = self.with_aws(root().join(".venv/bin/python"));
        cmd.args(["-c", code]);
        python(cmd, input)
    }

    fn write(&self, name: &str, text: &str) -> String {
        let path = self.dir.0.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path.to_string_lossy().into_owned()
    }
}

fn manifest(name: &str, spec: Value) -> String {
    format!(
        "apiVersion: bucketaccess.io/v1alpha1\nkind: BucketAccessCheck\nmetadata:\n  name: {name}\n  namespace: ci\n  labels: {{team: media}}\nspec: {spec}\n"
    )
}

fn verdicts(v: &Value) -> Vec<(String, String)> {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["verdict"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The first check's verdict without and with the proposed documents.
fn before_and_after(v: &Value) -> (Option<&str>, Option<&str>) {
    (
        v["checks"][0]["before"].as_str(),
        v["checks"][0]["verdict"].as_str(),
    )
}

#[test]
fn check_is_a_ci_gate() {
    let moto = Moto::start();
    let seeded = moto.seed(&[]);
    let gate = Gate {
        moto: &moto,
        dir: TempDir::new("gate"),
    };
    let uploader = seeded["uploader"].as_str().unwrap().to_owned();
    let allowed = manifest(
        "allowed",
        json!({"roleArn": uploader, "bucket": "plain-bucket"}),
    );
    let denied = manifest(
        "denied",
        json!({"roleArn": uploader, "bucket": "seed-storage-class"}),
    );
    let unknown = manifest(
        "unknown",
        json!({"roleArn": "arn:aws:iam::999999999999:role/uploader", "bucket": "plain-bucket"}),
    );
    let deployment =
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 1}\n";

    // Several documents in one file, another kind among them (skipped and counted), lines kept.
    let multi = gate.write(
        "multi.yaml",
        &format!("{deployment}---\n{allowed}---\n{denied}"),
    );
    let (code, v) = gate.json(&["check", "-f", &multi, "-o", "json"], "");
    assert_eq!(code, 1, "the worst verdict is Denied: {v}");
    assert_eq!(
        verdicts(&v),
        [
            ("allowed".into(), "Allowed".into()),
            ("denied".into(), "Denied".into())
        ]
    );
    assert_eq!(v["summary"]["skippedDocuments"], 1);
    assert_eq!(v["checks"][1]["line"], 14, "{v}");
    assert_eq!(v["checks"][1]["diagnosis"]["fix"]["verified"], true);

    directories_and_stdin(&gate, &allowed, &denied, &unknown);
    strict_manifests(&gate, &allowed, &uploader);
    output_formats(&gate, &multi);
    // One check by flags.
    let (code, v) = gate.json(
        &[
            "check",
            "--role-arn",
            &uploader,
            "--bucket",
            "seed-storage-class",
            "--storage-class",
            "STANDARD_IA",
            "-o",
            "json",
        ],
        "",
    );
    assert_eq!((code, v["verdict"].as_str()), (0, Some("Allowed")), "{v}");

    what_if(&gate, &allowed, &denied);
}

/// A directory, recursively; standard input; both at once.
fn directories_and_stdin(gate: &Gate<'_>, allowed: &str, denied: &str, unknown: &str) {
    gate.write("dir/a.yaml", allowed);
    gate.write("dir/nested/b.yml", unknown);
    gate.write("dir/notes.txt", "not a manifest");
    let dir = gate.dir.0.join("dir").to_string_lossy().into_owned();
    let (code, v) = gate.json(&["check", "-f", &dir, "-o", "json"], "");
    assert_eq!(
        (code, verdicts(&v).len()),
        (0, 1),
        "without -R only the top level: {v}"
    );
    let (code, v) = gate.json(&["check", "-R", "-f", &dir, "-o", "json"], "");
    assert_eq!(code, 3, "Allowed and Unknown: Unknown: {v}");
    assert_eq!(verdicts(&v).len(), 2);
    let (code, v) = gate.json(&["check", "-f", "-", &dir, "-o", "json"], denied);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["checks"][0]["file"], "<stdin>");
}

/// Strict manifests: an unknown field at three depths names its path and the field meant; exit 4, and an
/// invalid manifest is the worst verdict of a run.
fn strict_manifests(gate: &Gate<'_>, allowed: &str, uploader: &str) {
    for (text, message) in [
        (
            allowed.replace("spec:", "specc:"),
            "`specc`: unknown field, did you mean `spec`?",
        ),
        (
            allowed.replace("\"bucket\"", "\"bukcet\""),
            "`spec.bukcet`: unknown field, did you mean `bucket`?",
        ),
        (
            manifest(
                "typo",
                json!({"roleArn": uploader, "bucket": "plain-bucket", "upload": {"storageClas": "STANDARD_IA"}}),
            ),
            "`spec.upload.storageClas`: unknown field, did you mean `storageClass`?",
        ),
    ] {
        let file = gate.write("typo.yaml", &format!("{text}---\n{allowed}"));
        let (code, stdout, _) = gate.run(&["check", "-f", &file], "");
        assert_eq!(code, 4, "{stdout}");
        assert!(stdout.contains(message), "{message} not in {stdout}");
    }
}

/// Output formats, read back by real parsers.
fn output_formats(gate: &Gate<'_>, multi: &str) {
    let (code, junit, _) = gate.run(&["check", "-f", multi, "-o", "junit"], "");
    assert_eq!(code, 1);
    let parsed = gate.python(
        "import sys, xml.etree.ElementTree as ET; r = ET.fromstring(sys.stdin.read()); s = r.find('testsuite'); \
         cases = s.findall('testcase'); \
         print(s.get('tests'), s.get('failures'), len(cases), [c.get('name') for c in cases if c.find('failure') is not None])",
        &junit,
    );
    assert_eq!(parsed.trim(), "2 1 2 ['ci/denied']", "{junit}");
    let (code, sarif, _) = gate.run(&["check", "-f", multi, "-o", "sarif"], "");
    assert_eq!(code, 1);
    let sarif: Value = serde_json::from_str(&sarif).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "bucket-access-operator");
    let rules: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let results = run["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        assert!(rules.contains(&r["ruleId"].as_str().unwrap()), "{r}");
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
        let location = &r["locations"][0]["physicalLocation"];
        assert_eq!(location["artifactLocation"]["uri"], multi);
        assert!(location["region"]["startLine"].as_u64().unwrap() >= 1);
    }
    assert!(results
        .iter()
        .any(|r| r["ruleId"] == "BUCKET_POLICY_CONDITION_STORAGE_CLASS"
            && r["locations"][0]["physicalLocation"]["region"]["startLine"] == 14));
    let (code, github, _) = gate.run(&["check", "-f", multi, "-o", "github"], "");
    assert_eq!(code, 1);
    let lines: Vec<&str> = github.lines().collect();
    assert_eq!(
        lines.len(),
        2,
        "one annotation for the denial, one summary: {github}"
    );
    let annotation = lines[0];
    assert!(
        annotation.starts_with(&format!(
            "::error file={multi},line=14,title=ci/denied Denied::"
        )),
        "{annotation}"
    );
    // The message's second line (the fix) is escaped into the one-line command.
    assert!(
        annotation.contains("%0Afix: aws s3api put-object"),
        "{annotation}"
    );
    assert!(lines[1]
        .starts_with("::notice title=bucket-access-operator::2 checks: 1 Allowed, 1 Denied"));
    let (_, yaml, _) = gate.run(&["check", "-f", multi, "-o", "yaml"], "");
    let from_yaml: Value = serde_saphyr::from_str(&yaml).unwrap();
    assert_eq!(from_yaml["summary"]["skippedDocuments"], 1, "{yaml}");
    assert_eq!(from_yaml["checks"][1]["verdict"], "Denied", "{yaml}");
    assert_eq!(from_yaml["checks"][1]["line"], 14, "{yaml}");
}

/// What if: a proposed bucket policy turns the Allowed check Denied and the Denied check Allowed; moto's live
/// policies are unchanged.
fn what_if(gate: &Gate<'_>, allowed: &str, denied: &str) {
    let deny_all = gate.write(
        "deny.json",
        r#"{"Version": "2012-10-17", "Statement": [{"Sid": "Freeze", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::plain-bucket/*"}]}"#,
    );
    let allowed_file = gate.write("allowed.yaml", allowed);
    let (code, v) = gate.with_bucket_policy(&allowed_file, &deny_all);
    assert_eq!(code, 1, "{v}");
    assert_eq!(before_and_after(&v), (Some("Allowed"), Some("Denied")));
    assert!(v["summary"]["proposed"][0]
        .as_str()
        .unwrap()
        .starts_with("bucketPolicy="));
    let relaxed = gate.write(
        "relaxed.json",
        r#"{"Version": "2012-10-17", "Statement": []}"#,
    );
    let denied_file = gate.write("denied.yaml", denied);
    let (code, v) = gate.with_bucket_policy(&denied_file, &relaxed);
    assert_eq!(code, 0, "{v}");
    assert_eq!(before_and_after(&v), (Some("Denied"), Some("Allowed")));
    let (code, v) = gate.json(
        &[
            "check",
            "-f",
            &allowed_file,
            "-f",
            &denied_file,
            "-o",
            "json",
        ],
        "",
    );
    assert_eq!(code, 1);
    assert_eq!(
        verdicts(&v),
        [
            ("allowed".into(), "Allowed".into()),
            ("denied".into(), "Denied".into())
        ],
        "the live documents are unchanged"
    );
}

/// Runs `cmd` with `input` on its standard input; its output.
fn fed(mut cmd: Command, input: &str) -> std::process::Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Runs a python command on `input`; its stdout.
fn python(cmd: Command, input: &str) -> String {
    let out = fed(cmd, input);
    assert!(
        out.status.success(),
        "python: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_thousand_manifests_cost_one_read_per_distinct_input() {
    let moto = Moto::start();
    let seeded = moto.seed(&["--scale"]);
    let roles = crate::support::strings(&seeded["roles"]);
    let buckets = crate::support::strings(&seeded["buckets"]);
    let gate = Gate {
        moto: &moto,
        dir: TempDir::new("gate-1000"),
    };
    let documents: Vec<String> = (0..1000)
        .map(|i| {
            manifest(
                &format!("check-{i}"),
                json!({"roleArn": roles[i % 20], "bucket": buckets[(i / 20) % 10], "key": format!("uploads/{i}.csv")}),
            )
        })
        .collect();
    let file = gate.write("thousand.yaml", &documents.join("---\n"));
    // Peak RSS of the child, from the kernel's accounting (Python's resource module reads it).
    let started = Instant::now();
    let measured = gate.python(
        &format!(
            "import resource, subprocess, sys, os; env = dict(os.environ); \
             p = subprocess.run([{bin:?}, 'check', '-f', {file:?}, '-o', 'json'], capture_output=True, env=env); \
             print(p.returncode); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); print(p.stdout.decode())",
            bin = env!("CARGO_BIN_EXE_bucket-access-operator"),
            file = file
        ),
        "",
    );
    let elapsed = started.elapsed();
    let mut lines = measured.splitn(3, '\n');
    let code: i32 = lines.next().unwrap().trim().parse().unwrap();
    let rss_kib: u64 = lines.next().unwrap().trim().parse().unwrap();
    let v: Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert_eq!(code, 0, "{}", v["summary"]);
    assert_eq!(v["summary"]["checks"], 1000);
    assert_eq!(v["summary"]["allowed"], 1000);
    // One read per distinct input: the account's IAM at once (the CLI counts the principals its manifests
    // name before reading: more than the threshold), 8 per bucket, the organization, the credentials'
    // account.
    assert_eq!(
        v["summary"]["awsCalls"],
        1 + 10 * 8 + 1 + 1,
        "{}",
        v["summary"]
    );
    println!(
        "1000 manifests in one `check` run: {} AWS calls, {:.1} s wall time (debug build), peak RSS {} MiB",
        v["summary"]["awsCalls"],
        elapsed.as_secs_f64(),
        rss_kib / 1024
    );
    assert!(rss_kib < 512 * 1024, "peak RSS {rss_kib} KiB");
}
