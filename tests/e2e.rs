//! End to end: a real kube-apiserver and etcd (built from Go modules by `tests/apiserver/`), a real moto
//! seeded with the seed article's situations, the CRD from `crds/` and the RBAC from `deploy/`, and the
//! operator binary running under its ServiceAccount's token. Everything is asserted through `kubectl`, as a
//! user would see it.
//!
//! Ignored by a plain `cargo test` because it needs the Go-built control plane; `make e2e` (part of
//! `make test`, and so of CI) builds it and runs this test with `--ignored`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a failed unwrap is a failed test"
)]

mod support;

use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};
use support::{aws_env, free_port, root, Moto, TempDir};

const OPERATOR_NS: &str = "bucket-access-operator";
const SA: &str = "system:serviceaccount:bucket-access-operator:bucket-access-operator";

/// The control plane started by `tests/apiserver/start.sh`; stopped on drop.
struct Cluster {
    dir: PathBuf,
    kubectl: PathBuf,
    admin: PathBuf,
    operator: PathBuf,
}

impl Cluster {
    fn start(dir: &Path) -> Self {
        let out = Command::new(root().join("tests/apiserver/start.sh"))
            .arg(dir)
            .stderr(Stdio::inherit())
            .output()
            .expect("run tests/apiserver/start.sh");
        assert!(out.status.success(), "the control plane did not start");
        let env = std::fs::read_to_string(dir.join("env")).unwrap();
        let bin = env
            .lines()
            .find_map(|l| l.strip_prefix("BIN="))
            .expect("BIN in env");
        Self {
            dir: dir.to_owned(),
            kubectl: Path::new(bin).join("kubectl"),
            admin: dir.join("admin.kubeconfig"),
            operator: dir.join("operator.kubeconfig"),
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(&self.kubectl)
            .arg("--kubeconfig")
            .arg(&self.admin)
            .args(args)
            .output()
            .expect("run kubectl")
    }

    /// `kubectl ARGS`, which must succeed; its standard output.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "kubectl {}: {}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["-o", "json"]);
        serde_json::from_str(&self.ok(&all)).unwrap()
    }

    fn check(&self, name: &str) -> Value {
        self.json(&["get", "bac", name])
    }

    /// `kubectl auth can-i` as the operator's ServiceAccount.
    fn operator_can(&self, args: &[&str]) -> bool {
        let mut all = vec!["auth", "can-i", "--as", SA];
        all.extend(args);
        let out = self.run(&all);
        String::from_utf8_lossy(&out.stdout).trim() == "yes"
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(root().join("tests/apiserver/stop.sh"))
            .arg(&self.dir)
            .status();
    }
}

/// One operator process (`bucket-access-operator run`) under the ServiceAccount's kubeconfig.
struct Operator {
    child: Option<Child>,
    identity: String,
    port: u16,
    log: PathBuf,
}

impl Operator {
    fn start(cluster: &Cluster, moto: &Moto, identity: &str) -> Self {
        let port = free_port();
        let log = cluster.dir.join(format!("operator-{identity}.log"));
        let file = std::fs::File::options()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_bucket-access-operator"));
        cmd.args(["run", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--identity", identity, "--lease-seconds", "6"])
            .env("KUBECONFIG", &cluster.operator)
            .env("POD_NAMESPACE", OPERATOR_NS)
            .env("RUST_LOG", "info,bucket_access_operator=debug")
            .env(
                "AWS_ENDPOINT_URL_S3_CONTROL",
                format!("http://localhost:{}", moto.port),
            )
            .stdout(file.try_clone().unwrap())
            .stderr(file);
        aws_env(&mut cmd, &moto.endpoint(), "testing", "testing");
        let child = cmd.spawn().expect("start the operator");
        let operator = Self {
            child: Some(child),
            identity: identity.to_owned(),
            port,
            log,
        };
        wait_for(&format!("{identity} serves /healthz"), 30, || {
            http_get(port, "/healthz").map(|(code, _)| code == 200)
        });
        operator
    }

    fn metrics(&self) -> String {
        http_get(self.port, "/metrics")
            .map(|(_, body)| body)
            .unwrap_or_default()
    }

    /// The counter `bucket_access_reconciles_total`, summed over results.
    fn reconciles(&self) -> u64 {
        self.metrics()
            .lines()
            .filter(|l| l.starts_with("bucket_access_reconciles_total{"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, and the exit status (within 20 s).
    fn terminate(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        let sent = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("{} did not exit within 20 s of SIGTERM", self.identity);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGKILL: no chance to release the Lease.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A GET on 127.0.0.1: the status code and the body.
fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let code = response.split_whitespace().nth(1)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())?;
    Some((code, body))
}

/// Polls `ready` every 500 ms for up to `seconds`; panics naming `what` when it never holds.
fn wait_for(what: &str, seconds: u64, mut ready: impl FnMut() -> Option<bool>) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < deadline {
        if ready() == Some(true) {
            return;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    panic!("timed out after {seconds} s waiting until {what}");
}

fn condition<'a>(check: &'a Value, kind: &str) -> &'a Value {
    check["status"]["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == kind))
        .unwrap_or(&Value::Null)
}

/// Evaluated for its current generation: `Reconciling=False` with `observedGeneration` current.
fn evaluated(check: &Value) -> bool {
    let reconciling = condition(check, "Reconciling");
    reconciling["status"] == "False"
        && check["status"]["observedGeneration"] == check["metadata"]["generation"]
}

/// The ids of the causes with severity `error`.
fn cause_ids(check: &Value) -> Vec<String> {
    let mut ids: Vec<String> = check["status"]["causes"]
        .as_array()
        .map(|c| {
            c.iter()
                .filter(|c| c["severity"] == "error")
                .filter_map(|c| c["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids.dedup();
    ids
}

fn lease_holder(cluster: &Cluster) -> Option<String> {
    let out = cluster.run(&[
        "-n",
        OPERATOR_NS,
        "get",
        "lease",
        "bucket-access-operator",
        "-o",
        "jsonpath={.spec.holderIdentity}",
    ]);
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .filter(|h| !h.is_empty())
}

/// Events about one check, as `kubectl` lists them: (type, reason, note) in order.
fn events(cluster: &Cluster, name: &str) -> Vec<(String, String, String)> {
    let list = cluster.json(&[
        "get",
        "events",
        "--field-selector",
        &format!("involvedObject.name={name},involvedObject.kind=BucketAccessCheck"),
    ]);
    let mut items: Vec<&Value> = list["items"].as_array().unwrap().iter().collect();
    items.sort_by_key(|e| {
        e["metadata"]["creationTimestamp"]
            .as_str()
            .map(str::to_owned)
    });
    items
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
            (s("type"), s("reason"), s("message"))
        })
        .collect()
}

/// Runs python from the test virtualenv against moto (boto3), for changing AWS while the operator watches.
fn moto_python(moto: &Moto, code: &str) {
    let python = root().join(".venv/bin/python");
    let out = Command::new(python)
        .args(["-c", code, &moto.endpoint()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python against moto: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What each example in `examples/` must come to against the default seed (tests/moto/seed.py): the
/// verdict and the cause ids of the check's status.
const EXAMPLES: &[(&str, &str, &[&str])] = &[
    ("put-object-acl", "Denied", &["IDENTITY_NO_PUT_OBJECT_ACL"]),
    (
        "source-ip",
        "Denied",
        &["BUCKET_POLICY_CONDITION_SOURCE_IP"],
    ),
    (
        "storage-class",
        "Denied",
        &["BUCKET_POLICY_CONDITION_STORAGE_CLASS"],
    ),
    ("acl", "Denied", &["BUCKET_POLICY_CONDITION_ACL_REQUIRED"]),
    (
        "grant-full-control",
        "Denied",
        &["BUCKET_POLICY_CONDITION_ACL_REQUIRED"],
    ),
    (
        "kms-key-id",
        "Denied",
        &["BUCKET_POLICY_CONDITION_KMS_KEY_ID"],
    ),
    ("sse", "Denied", &["BUCKET_POLICY_CONDITION_SSE_REQUIRED"]),
    ("sse-fixed", "Allowed", &[]),
    (
        "kms-cross-account-key",
        "Denied",
        &["KMS_CROSS_ACCOUNT_KEY_POLICY_MISSING"],
    ),
    ("user-in-group", "Allowed", &[]),
];

#[test]
#[ignore = "needs the Go-built control plane: run `make e2e` (part of `make test`)"]
fn operator_on_a_real_control_plane() {
    let dir = TempDir::new("e2e");
    let moto = Moto::start();
    moto.seed(&[]);
    let cluster = Cluster::start(&dir.0);

    // The CRD from crds/ is accepted (structural schema, CEL rule) and its CEL rule is enforced.
    cluster.ok(&["apply", "-f", root().join("crds").to_str().unwrap()]);
    cluster.ok(&[
        "wait",
        "--for=condition=Established",
        "crd/bucketaccesschecks.bucketaccess.io",
        "--timeout=60s",
    ]);
    let both = dir.0.join("both.yaml");
    std::fs::write(
        &both,
        r#"{"apiVersion": "bucketaccess.io/v1alpha1", "kind": "BucketAccessCheck",
            "metadata": {"name": "both", "namespace": "default"},
            "spec": {"roleArn": "arn:aws:iam::123456789012:role/uploader",
                     "userArn": "arn:aws:iam::123456789012:user/alice", "bucket": "plain-bucket"}}"#,
    )
    .unwrap();
    let refused = cluster.run(&["apply", "-f", both.to_str().unwrap()]);
    assert!(
        !refused.status.success(),
        "roleArn and userArn together must be refused"
    );
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("set exactly one of roleArn and userArn"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    // The RBAC of deploy/ grants the operator what it needs and nothing more.
    cluster.ok(&[
        "apply",
        "-n",
        OPERATOR_NS,
        "-f",
        root().join("deploy/base/rbac.yaml").to_str().unwrap(),
    ]);
    for (allowed, args) in [
        (
            true,
            &["watch", "bucketaccesschecks.bucketaccess.io", "-A"][..],
        ),
        (
            true,
            &[
                "patch",
                "bucketaccesschecks.bucketaccess.io",
                "--subresource=status",
                "-n",
                "default",
            ],
        ),
        (true, &["create", "events.events.k8s.io", "-n", "default"]),
        (
            true,
            &["update", "leases.coordination.k8s.io", "-n", OPERATOR_NS],
        ),
        (
            false,
            &[
                "update",
                "bucketaccesschecks.bucketaccess.io",
                "-n",
                "default",
            ],
        ),
        (
            false,
            &[
                "delete",
                "bucketaccesschecks.bucketaccess.io",
                "-n",
                "default",
            ],
        ),
        (
            false,
            &[
                "create",
                "bucketaccesschecks.bucketaccess.io",
                "-n",
                "default",
            ],
        ),
        (
            false,
            &["update", "leases.coordination.k8s.io", "-n", "default"],
        ),
        (false, &["get", "secrets", "-n", OPERATOR_NS]),
        (false, &["get", "configmaps", "-n", "default"]),
    ] {
        assert_eq!(
            cluster.operator_can(args),
            allowed,
            "operator can {}",
            args.join(" ")
        );
    }

    // Two replicas: one leads (holds the Lease and reconciles), the other stands by.
    let mut a = Operator::start(&cluster, &moto, "op-a");
    let mut b = Operator::start(&cluster, &moto, "op-b");
    wait_for("one replica holds the Lease", 30, || {
        Some(lease_holder(&cluster).is_some())
    });

    // The examples, applied as a user would.
    cluster.ok(&["apply", "-f", root().join("examples").to_str().unwrap()]);
    wait_for("every example is evaluated", 120, || {
        let list = cluster.json(&["get", "bac"]);
        let items = list["items"].as_array()?;
        Some(items.len() == EXAMPLES.len() && items.iter().all(evaluated))
    });
    let holder = lease_holder(&cluster).unwrap();
    let (leader, follower) = if holder == "op-a" {
        (&mut a, &mut b)
    } else {
        (&mut b, &mut a)
    };
    assert_eq!(leader.identity, holder);
    assert!(
        leader.reconciles() >= EXAMPLES.len() as u64,
        "{}",
        leader.metrics()
    );
    assert_eq!(
        follower.reconciles(),
        0,
        "the follower reconciled: {}",
        follower.metrics()
    );
    assert!(!follower.log().contains("leading: starting the controller"));
    let gauge = leader.metrics();
    assert!(
        gauge.contains("bucket_access_checks{verdict=\"Denied\"} 8"),
        "{gauge}"
    );
    assert!(
        gauge.contains("bucket_access_checks{verdict=\"Allowed\"} 2"),
        "{gauge}"
    );

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
            // A bucket-policy cause points at the exact statement of the seed's policy.
            if first["layer"] == "bucketPolicy" {
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
        // One Event for the one transition, Warning AccessDenied or Normal AccessAllowed.
        let events = events(&cluster, name);
        let want = if *verdict == "Allowed" {
            ("Normal", "AccessAllowed")
        } else {
            ("Warning", "AccessDenied")
        };
        assert_eq!(events.len(), 1, "{name}: {events:?}");
        assert_eq!((events[0].0.as_str(), events[0].1.as_str()), want, "{name}");
    }

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

    // Unknown (a role that cannot be read) and Invalid (an interval below the minimum, which the schema's
    // pattern lets through): conditions per the spec's table, one Warning Event each, `kubectl wait` waits.
    let odd = dir.0.join("odd.yaml");
    std::fs::write(
        &odd,
        r#"{"apiVersion": "v1", "kind": "List", "items": [
            {"apiVersion": "bucketaccess.io/v1alpha1", "kind": "BucketAccessCheck",
             "metadata": {"name": "no-such-role", "namespace": "default"},
             "spec": {"roleArn": "arn:aws:iam::123456789012:role/no-such-role", "bucket": "plain-bucket"}},
            {"apiVersion": "bucketaccess.io/v1alpha1", "kind": "BucketAccessCheck",
             "metadata": {"name": "too-often", "namespace": "default"},
             "spec": {"roleArn": "arn:aws:iam::123456789012:role/uploader", "bucket": "plain-bucket", "interval": "5s"}}]}"#,
    )
    .unwrap();
    cluster.ok(&["apply", "-f", odd.to_str().unwrap()]);
    wait_for("no-such-role is Unknown and too-often Invalid", 60, || {
        let unknown = cluster.check("no-such-role");
        let invalid = cluster.check("too-often");
        Some(
            unknown["status"]["verdict"] == "Unknown"
                && invalid["status"]["verdict"] == "Invalid"
                && !events(&cluster, "no-such-role").is_empty()
                && !events(&cluster, "too-often").is_empty(),
        )
    });
    let unknown = cluster.check("no-such-role");
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
    assert!(
        unknown["status"]["summary"]
            .as_str()
            .unwrap_or_default()
            .contains("no-such-role"),
        "{}",
        unknown["status"]["summary"]
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
    let first = |name: &str| {
        let e = events(&cluster, name);
        (e[0].0.clone(), e[0].1.clone())
    };
    assert_eq!(
        first("no-such-role"),
        ("Warning".into(), "EvaluationIncomplete".into())
    );
    assert_eq!(first("too-often"), ("Warning".into(), "InvalidSpec".into()));
    for name in ["no-such-role", "too-often"] {
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
    assert!(leader
        .metrics()
        .contains("bucket_access_checks{verdict=\"Unknown\"} 1"));
    cluster.ok(&["delete", "-f", odd.to_str().unwrap()]);
    wait_for("deleted checks leave the verdict gauge", 20, || {
        let m = leader.metrics();
        Some(
            m.contains("bucket_access_checks{verdict=\"Unknown\"} 0")
                && m.contains("bucket_access_checks{verdict=\"Invalid\"} 0"),
        )
    });

    // A spec edit is re-evaluated: the storage-class check with the class the policy requires.
    cluster.ok(&[
        "patch",
        "bac",
        "storage-class",
        "--type=merge",
        "-p",
        r#"{"spec":{"upload":{"storageClass":"STANDARD_IA"}}}"#,
    ]);
    wait_for("the edited check is Allowed", 60, || {
        let c = cluster.check("storage-class");
        Some(evaluated(&c) && c["status"]["verdict"] == "Allowed")
    });
    assert_eq!(
        events(&cluster, "storage-class")
            .iter()
            .map(|e| e.1.as_str())
            .collect::<Vec<_>>(),
        ["AccessDenied", "AccessAllowed"]
    );

    // A policy fixed in AWS flips a check within its interval (30 s; reads are at most half of it old). The
    // bucket is the check's own: a read shared with another check may be up to half an interval older.
    moto_python(
        &moto,
        "import boto3,json,sys; s3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1', \
         aws_access_key_id='testing', aws_secret_access_key='testing'); s3.create_bucket(Bucket='e2e-fix'); \
         s3.put_bucket_policy(Bucket='e2e-fix', Policy=json.dumps({'Version': '2012-10-17', 'Statement': [{ \
         'Sid': 'SourceIpOnly', 'Effect': 'Deny', 'Principal': '*', 'Action': 's3:PutObject', \
         'Resource': 'arn:aws:s3:::e2e-fix/*', 'Condition': {'NotIpAddress': {'aws:SourceIp': '54.240.143.0/24'}}}]}))",
    );
    let fix = dir.0.join("fix.yaml");
    std::fs::write(
        &fix,
        r#"{"apiVersion": "bucketaccess.io/v1alpha1", "kind": "BucketAccessCheck",
            "metadata": {"name": "fix-in-aws", "namespace": "default"},
            "spec": {"roleArn": "arn:aws:iam::123456789012:role/uploader", "bucket": "e2e-fix",
                     "network": {"sourceIp": "203.0.113.9"}, "interval": "30s"}}"#,
    )
    .unwrap();
    cluster.ok(&["apply", "-f", fix.to_str().unwrap()]);
    wait_for("fix-in-aws is Denied", 60, || {
        let c = cluster.check("fix-in-aws");
        Some(evaluated(&c) && c["status"]["verdict"] == "Denied")
    });
    moto_python(
        &moto,
        "import boto3,sys; boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1', \
         aws_access_key_id='testing', aws_secret_access_key='testing').delete_bucket_policy(Bucket='e2e-fix')",
    );
    let fixed_at = Instant::now();
    wait_for("fix-in-aws is Allowed after the policy fix", 45, || {
        Some(cluster.check("fix-in-aws")["status"]["verdict"] == "Allowed")
    });
    eprintln!("policy fix seen after {:?}", fixed_at.elapsed());

    // Killing the leader loses nothing: the follower takes the Lease once it expires, keeps every status
    // (no new Event, lastTransitionTime kept) and evaluates new edits.
    let before = cluster.json(&["get", "bac"]);
    let events_before = events(&cluster, "put-object-acl");
    let leader_name = leader.identity.clone();
    leader.kill();
    wait_for("the follower takes the Lease", 30, || {
        Some(lease_holder(&cluster).is_some_and(|h| h != leader_name))
    });
    cluster.ok(&[
        "patch",
        "bac",
        "acl",
        "--type=merge",
        "-p",
        r#"{"spec":{"upload":{"acl":"bucket-owner-full-control"}}}"#,
    ]);
    wait_for("the new leader evaluates an edit", 60, || {
        let c = cluster.check("acl");
        Some(evaluated(&c) && c["status"]["verdict"] == "Allowed")
    });
    assert!(follower.reconciles() > 0);
    let check_unchanged = |name: &str| {
        let now = cluster.check(name);
        let old = before["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["metadata"]["name"] == name)
            .unwrap();
        for kind in ["Ready", "Stalled"] {
            assert_eq!(
                condition(&now, kind)["lastTransitionTime"],
                condition(old, kind)["lastTransitionTime"],
                "{name} {kind}"
            );
        }
        assert_eq!(now["status"]["verdict"], old["status"]["verdict"], "{name}");
    };
    check_unchanged("put-object-acl");
    check_unchanged("user-in-group");
    assert_eq!(events(&cluster, "put-object-acl"), events_before);

    // A replica started again stands by; SIGTERM makes the leader exit 0 and hand the Lease over at once.
    let mut again = Operator::start(&cluster, &moto, &format!("{leader_name}-again"));
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(again.reconciles(), 0);
    let status = follower.terminate();
    assert!(status.success(), "SIGTERM exit: {status}");
    wait_for("the restarted replica takes the Lease", 20, || {
        Some(lease_holder(&cluster).as_deref() == Some(again.identity.as_str()))
    });
    wait_for("the restarted replica reconciles", 60, || {
        Some(again.reconciles() >= EXAMPLES.len() as u64)
    });
    check_unchanged("put-object-acl");
    assert_eq!(events(&cluster, "put-object-acl"), events_before);
    again.terminate();
}
