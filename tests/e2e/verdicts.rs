//! The trials of what a user sees of a verdict: every example reaches its verdict, the printer columns and
//! `kubectl describe`, `kubectl bac explain`, the `kubectl wait` recipe, Unknown and Invalid checks, and the
//! conditions of the spec's table.

use crate::cluster::{cause_ids, condition, events, wait_for, EXAMPLES};
use crate::support::root;
use crate::Env;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// Every example reaches its verdict, cause ids, conditions and one Event.
pub(crate) fn examples_reach_their_verdicts(env: &Env) {
    let cluster = &env.cluster;
    for (name, verdict, causes) in EXAMPLES {
        let check = cluster.check(name);
        let status = &check["status"];
        assert_eq!(status["verdict"], *verdict, "{name}: {}", status["summary"]);
        assert_eq!(cause_ids(&check), *causes, "{name}: {}", status["summary"]);
        assert!(
            status["inputDigest"]
                .as_str()
                .unwrap_or_default()
                .starts_with("sha256:"),
            "{name}"
        );
        // Conditions per the spec's table.
        let (ready, ready_reason, stalled) = match *verdict {
            "Allowed" => ("True", "AccessAllowed", "False"),
            _ => ("False", "AccessDenied", "True"),
        };
        assert_eq!(condition(&check, "Ready")["status"], ready, "{name}");
        assert_eq!(condition(&check, "Ready")["reason"], ready_reason, "{name}");
        assert_eq!(condition(&check, "Stalled")["status"], stalled, "{name}");
        assert_eq!(
            condition(&check, "Reconciling")["reason"],
            "Evaluated",
            "{name}"
        );
        for kind in ["Ready", "Stalled", "Reconciling"] {
            assert_eq!(
                condition(&check, kind)["observedGeneration"],
                check["metadata"]["generation"],
                "{name} {kind}"
            );
        }
        if *verdict == "Denied" {
            let first = &status["causes"][0];
            // A bucket-policy statement's cause points at the exact statement of the seed's policy (a
            // missing grant or delegation points at none).
            if first["layer"] == "bucketPolicy" && !first["statement"].is_null() {
                assert_eq!(first["statement"]["sid"], "DenyWithCondition", "{name}");
                assert_eq!(first["statement"]["policyId"], "bucket-policy", "{name}");
            }
            assert!(
                first["remediation"]
                    .as_array()
                    .is_some_and(|r| !r.is_empty()),
                "{name}: a denial carries remediation"
            );
        }
        // A denial carries the whole-check fix; the storage-class one is a request change, verified.
        if *verdict == "Denied" {
            assert!(status["fix"].is_object(), "{name}: no fix in {status}");
        }
        if *name == "storage-class" {
            assert_eq!(status["fix"]["verified"], true, "{name}: {}", status["fix"]);
            assert!(
                status["fix"]["request"]
                    .as_str()
                    .is_some_and(|r| r.contains("--storage-class STANDARD_IA")),
                "{name}: {}",
                status["fix"]
            );
        }
        // A new check found denied: one Warning AccessDenied; found allowed: no Event (no news).
        let events = events(cluster, name);
        if *verdict == "Allowed" {
            assert!(events.is_empty(), "{name}: {events:?}");
        } else {
            assert_eq!(events.len(), 1, "{name}: {events:?}");
            assert_eq!(
                (events[0].0.as_str(), events[0].1.as_str()),
                ("Warning", "AccessDenied"),
                "{name}"
            );
        }
    }
}

/// `kubectl get` and `-o wide` columns; `kubectl describe` shows the Event.
pub(crate) fn printer_columns_and_describe(env: &Env) {
    let cluster = &env.cluster;
    // Printer columns.
    let table = cluster.ok(&["get", "bac"]);
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "VERDICT", "REASON", "AGE"], "{table}");
    let row = |table: &str, name: &str| -> Vec<String> {
        table
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no row for {name} in\n{table}"))
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(
        row(&table, "storage-class")[1..3],
        ["Denied", "BUCKET_POLICY_CONDITION_STORAGE_CLASS"]
    );
    assert_eq!(row(&table, "sse-fixed")[1..3], ["Allowed", "AccessAllowed"]);
    let wide = cluster.ok(&["get", "bac", "-o", "wide"]);
    let header: Vec<&str> = wide.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "NAME",
            "VERDICT",
            "REASON",
            "AGE",
            "PRINCIPAL",
            "BUCKET",
            "LAST-EVALUATED",
            "MESSAGE"
        ],
        "{wide}"
    );
    let storage = row(&wide, "storage-class");
    assert_eq!(
        storage[4], "arn:aws:iam::123456789012:role/uploader",
        "{wide}"
    );
    assert_eq!(storage[5], "seed-storage-class", "{wide}");
    assert!(
        wide.contains("s3:PutObject"),
        "the summary is in MESSAGE: {wide}"
    );

    // kubectl describe shows the Event.
    let described = cluster.ok(&["describe", "bac", "storage-class"]);
    assert!(
        described.contains("AccessDenied") && described.contains("Warning"),
        "{described}"
    );

    // The status's schema is typed: `kubectl explain` lists the verdicts.
    let field = cluster.ok(&["explain", "bucketaccesschecks.status.verdict"]);
    assert!(
        field.contains("ENUM")
            && ["Allowed", "Denied", "Unknown", "Invalid"]
                .iter()
                .all(|v| field.contains(v)),
        "{field}"
    );
    explain_prints_the_status(env);
}

/// `explain` prints the status as `diagnose` prints a diagnosis, directly and as the kubectl plugin, for one
/// check and for all; the plugin's completion shim names the checks.
fn explain_prints_the_status(env: &Env) {
    let cluster = &env.cluster;
    let explained = Command::new(env!("CARGO_BIN_EXE_bucket-access-operator"))
        .args(["explain", "storage-class", "-n", "default"])
        .env("KUBECONFIG", &cluster.admin)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&explained.stdout);
    assert_eq!(explained.status.code(), Some(1), "Denied: {text}");
    assert!(text.starts_with("DENIED "), "{text}");
    assert!(
        text.contains("1. BUCKET_POLICY_CONDITION_STORAGE_CLASS"),
        "{text}"
    );
    assert!(text.contains("Fix for the whole check (verified"), "{text}");
    assert!(text.contains("--storage-class STANDARD_IA"), "{text}");
    let plugins = env.dir.0.join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    let plugin = plugins.join("kubectl-bac");
    let _ = std::fs::remove_file(&plugin);
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_bucket-access-operator"), &plugin).unwrap();
    let path = format!(
        "{}:{}",
        plugins.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let via_kubectl = Command::new(&cluster.kubectl)
        .args(["bac", "explain", "storage-class"])
        .env("KUBECONFIG", &cluster.admin)
        .env("PATH", path)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&via_kubectl.stdout),
        text,
        "{}",
        String::from_utf8_lossy(&via_kubectl.stderr)
    );
    // Every check of every namespace, as JSON, through a named kubeconfig and context: the worst verdict.
    let context = cluster.ok(&["config", "current-context"]);
    let all = Command::new(env!("CARGO_BIN_EXE_bucket-access-operator"))
        .args(["explain", "-A", "-o", "json", "--context", context.trim()])
        .arg("--kubeconfig")
        .arg(&cluster.admin)
        .env_remove("KUBECONFIG")
        .output()
        .unwrap();
    assert_eq!(
        all.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&all.stderr)
    );
    let listed: serde_json::Value = serde_json::from_slice(&all.stdout).unwrap();
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["metadata"]["name"] == "storage-class" && c["status"]["verdict"] == "Denied"),
        "{listed}"
    );
    // The plugin's completion shim names the checks.
    let kubectl_dir = Path::new(&cluster.kubectl).parent().unwrap().to_owned();
    let completed = Command::new("sh")
        .arg(root().join("deploy/kubectl/kubectl_complete-bac"))
        .args(["explain", ""])
        .env("KUBECONFIG", &cluster.admin)
        .env(
            "PATH",
            format!(
                "{}:{}",
                kubectl_dir.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .output()
        .unwrap();
    let candidates = String::from_utf8_lossy(&completed.stdout);
    assert!(
        candidates.lines().any(|l| l == "storage-class") && candidates.ends_with(":4\n"),
        "{candidates}"
    );
}

/// The CI recipe `deploy/gitops/ci/wait-for-check.sh`.
pub(crate) fn wait_recipe_fails_on_denied_passes_on_allowed(env: &Env) {
    let cluster = &env.cluster;
    // The kubectl wait recipe (deploy/gitops/ci/wait-for-check.sh): fails on Denied, passes on Allowed.
    let recipe = |name: &str| {
        Command::new("bash")
            .arg(root().join("deploy/gitops/ci/wait-for-check.sh"))
            .args([name, "default", "60s"])
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    cluster.kubectl.parent().unwrap().display(),
                    std::env::var("PATH").unwrap()
                ),
            )
            .env("KUBECONFIG", &cluster.admin)
            .output()
            .unwrap()
    };
    let denied = recipe("storage-class");
    assert!(!denied.status.success());
    assert!(
        String::from_utf8_lossy(&denied.stderr).contains("BUCKET_POLICY_CONDITION_STORAGE_CLASS")
            || String::from_utf8_lossy(&denied.stderr).contains("STANDARD_IA"),
        "the recipe prints the summary: {}",
        String::from_utf8_lossy(&denied.stderr)
    );
    let allowed = recipe("sse-fixed");
    assert!(
        allowed.status.success(),
        "{}",
        String::from_utf8_lossy(&allowed.stderr)
    );
}

/// A role that cannot be read is `Unknown`, an interval below the minimum `Invalid`; deleted checks leave the gauge.
pub(crate) fn unknown_and_invalid_checks(env: &Env) {
    let cluster = &env.cluster;
    let dir = &env.dir;
    // Unknown (a role that cannot be read) and Invalid (an interval below the minimum, which the schema's
    // pattern lets through): conditions per the spec's table, one Warning Event each, `kubectl wait` waits.
    let odd = dir.0.join("odd.yaml");
    std::fs::write(
        &odd,
        r#"{"apiVersion": "v1", "kind": "List", "items": [
            {"apiVersion": "bucketaccess.io/v1alpha1", "kind": "BucketAccessCheck",
             "metadata": {"name": "unreadable-role", "namespace": "default"},
             "spec": {"roleArn": "arn:aws:iam::999999999999:role/uploader", "bucket": "plain-bucket"}},
            {"apiVersion": "bucketaccess.io/v1alpha1", "kind": "BucketAccessCheck",
             "metadata": {"name": "too-often", "namespace": "default"},
             "spec": {"roleArn": "arn:aws:iam::123456789012:role/uploader", "bucket": "plain-bucket", "interval": "5s"}}]}"#,
    )
    .unwrap();
    cluster.ok(&["apply", "-f", odd.to_str().unwrap()]);
    wait_for(
        "unreadable-role is Unknown and too-often Invalid",
        60,
        || {
            let unknown = cluster.check("unreadable-role");
            let invalid = cluster.check("too-often");
            Some(
                unknown["status"]["verdict"] == "Unknown"
                    && invalid["status"]["verdict"] == "Invalid"
                    && !events(cluster, "unreadable-role").is_empty()
                    && !events(cluster, "too-often").is_empty(),
            )
        },
    );
    conditions_per_the_table(cluster);
    let first = |name: &str| {
        let e = events(cluster, name);
        (e[0].0.clone(), e[0].1.clone())
    };
    assert_eq!(
        first("unreadable-role"),
        ("Warning".into(), "EvaluationIncomplete".into())
    );
    assert_eq!(first("too-often"), ("Warning".into(), "InvalidSpec".into()));
    for name in ["unreadable-role", "too-often"] {
        let waited = cluster.run(&[
            "wait",
            &format!("bac/{name}"),
            "--for=condition=Ready",
            "--timeout=2s",
        ]);
        assert!(
            !waited.status.success(),
            "kubectl wait Ready must not succeed for {name}"
        );
    }
    let leader = env.leader_metrics();
    assert!(leader.contains("bucket_access_checks{verdict=\"Unknown\"} 1"));
    cluster.ok(&["delete", "-f", odd.to_str().unwrap()]);
    wait_for("deleted checks leave the verdict gauge", 20, || {
        let m = env.leader_metrics();
        Some(
            m.contains("bucket_access_checks{verdict=\"Unknown\"} 0")
                && m.contains("bucket_access_checks{verdict=\"Invalid\"} 0"),
        )
    });
}

/// The conditions of the Unknown and the Invalid check, as the spec's table gives them, and their summaries.
fn conditions_per_the_table(cluster: &crate::cluster::Cluster) {
    let unknown = cluster.check("unreadable-role");
    let row = |c: &Value| {
        ["Ready", "Stalled", "Reconciling"].map(|k| {
            format!(
                "{}/{}",
                condition(c, k)["status"].as_str().unwrap_or("-"),
                condition(c, k)["reason"].as_str().unwrap_or("-")
            )
        })
    };
    assert_eq!(
        row(&unknown),
        [
            "Unknown/EvaluationIncomplete",
            "False/EvaluationIncomplete",
            "True/RetryingEvaluation"
        ]
        .map(String::from)
    );
    // Why the role could not be read, in its layer's note (the scope lists its account; the organization's
    // unread layers, which it does not, make the summary sentence the general one).
    assert!(
        unknown["status"]["unknown"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|n| n["text"]
                .as_str()
                .unwrap_or_default()
                .contains("999999999999")),
        "{}",
        unknown["status"]
    );
    let invalid = cluster.check("too-often");
    assert_eq!(
        row(&invalid),
        ["False/InvalidSpec", "True/InvalidSpec", "False/Evaluated"].map(String::from)
    );
    assert!(
        invalid["status"]["summary"]
            .as_str()
            .unwrap_or_default()
            .contains("interval"),
        "{}",
        invalid["status"]["summary"]
    );
}
