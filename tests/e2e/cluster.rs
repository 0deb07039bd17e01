//! The control plane, the operator processes and the `kubectl` helpers the end-to-end trials share.

use crate::support::{free_port, root, Moto};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

pub(crate) const OPERATOR_NS: &str = "bucket-access-operator";
pub(crate) const SA: &str = "system:serviceaccount:bucket-access-operator:bucket-access-operator";

/// The control plane started by `tests/apiserver/start.sh`; stopped on drop.
pub(crate) struct Cluster {
    pub(crate) dir: PathBuf,
    pub(crate) kubectl: PathBuf,
    pub(crate) helm: PathBuf,
    pub(crate) admin: PathBuf,
    pub(crate) operator: PathBuf,
}

impl Cluster {
    pub(crate) fn start(dir: &Path) -> Self {
        let out = Command::new(root().join("tests/apiserver/start.sh"))
            .arg(dir)
            .stderr(Stdio::inherit())
            .output()
            .expect("run tests/apiserver/start.sh");
        assert!(out.status.success(), "the control plane did not start");
        let bin = env_value(dir, "BIN");
        Self {
            dir: dir.to_owned(),
            kubectl: Path::new(&bin).join("kubectl"),
            helm: Path::new(&bin).join("helm"),
            admin: dir.join("admin.kubeconfig"),
            operator: dir.join("operator.kubeconfig"),
        }
    }

    /// A value `start.sh` wrote into its `env` file (`SERVER`, `APISERVER_PID`, ...).
    pub(crate) fn env(&self, key: &str) -> String {
        env_value(&self.dir, key)
    }

    pub(crate) fn run(&self, args: &[&str]) -> Output {
        Command::new(&self.kubectl)
            .arg("--kubeconfig")
            .arg(&self.admin)
            .args(args)
            .output()
            .expect("run kubectl")
    }

    /// `kubectl ARGS`, which must succeed; its standard output.
    pub(crate) fn ok(&self, args: &[&str]) -> String {
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

    pub(crate) fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["-o", "json"]);
        serde_json::from_str(&self.ok(&all)).unwrap()
    }

    pub(crate) fn check(&self, name: &str) -> Value {
        self.json(&["get", "bac", name])
    }

    /// `helm ARGS` as the cluster admin (helm's own state under the cluster's directory); its output.
    pub(crate) fn helm(&self, args: &[&str]) -> Output {
        let home = self.dir.join("helm");
        Command::new(&self.helm)
            .args(args)
            .env("KUBECONFIG", &self.admin)
            .env("HELM_CACHE_HOME", home.join("cache"))
            .env("HELM_CONFIG_HOME", home.join("config"))
            .env("HELM_DATA_HOME", home.join("data"))
            .output()
            .expect("run helm")
    }

    /// `kubectl auth can-i` as the operator's ServiceAccount.
    pub(crate) fn operator_can(&self, args: &[&str]) -> bool {
        self.user_can(SA, args)
    }

    /// `kubectl auth can-i` as `user` (impersonated: the API server decides with that user's RBAC).
    pub(crate) fn user_can(&self, user: &str, args: &[&str]) -> bool {
        let mut all = vec!["auth", "can-i", "--as", user];
        all.extend(args);
        let out = self.run(&all);
        String::from_utf8_lossy(&out.stdout).trim() == "yes"
    }

    /// A check of `namespace`.
    pub(crate) fn check_in(&self, namespace: &str, name: &str) -> Value {
        self.json(&["get", "bac", name, "-n", namespace])
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
pub(crate) struct Operator {
    child: Option<Child>,
    pub(crate) identity: String,
    port: u16,
    log: PathBuf,
}

impl Operator {
    pub(crate) fn start(cluster: &Cluster, moto: &Moto, identity: &str) -> Self {
        Self::start_with(cluster, moto, identity, &[])
    }

    /// Starts a replica with more arguments to `run` (e.g. `--scope-mode off`).
    pub(crate) fn start_with(
        cluster: &Cluster,
        moto: &Moto,
        identity: &str,
        extra: &[&str],
    ) -> Self {
        Self::start_logging(
            cluster,
            moto,
            identity,
            extra,
            "info,bucket_access_operator=debug,kube_runtime=debug",
        )
    }

    /// Starts a replica that logs at the product's default level (its own info lines), as the scale trial's
    /// does.
    pub(crate) fn start_quiet(
        cluster: &Cluster,
        moto: &Moto,
        identity: &str,
        extra: &[&str],
    ) -> Self {
        Self::start_logging(
            cluster,
            moto,
            identity,
            extra,
            "warn,bucket_access_operator=info",
        )
    }

    fn start_logging(
        cluster: &Cluster,
        moto: &Moto,
        identity: &str,
        extra: &[&str],
        log_filter: &str,
    ) -> Self {
        let port = free_port();
        let log = cluster.dir.join(format!("operator-{identity}.log"));
        let file = std::fs::File::options()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        // The binary under test; the scale trial runs the release build (`OPERATOR_BIN`).
        let binary = std::env::var_os("OPERATOR_BIN").map_or_else(
            || PathBuf::from(env!("CARGO_BIN_EXE_bucket-access-operator")),
            PathBuf::from,
        );
        let mut cmd = Command::new(binary);
        cmd.args(["run", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--identity", identity, "--lease-seconds", "10"])
            .args(["--events-queue-url", &events_queue_url(moto)])
            .args(extra)
            .env("KUBECONFIG", &cluster.operator)
            .env("POD_NAMESPACE", OPERATOR_NS)
            .env("RUST_LOG", log_filter)
            .stdout(file.try_clone().unwrap())
            .stderr(file);
        moto.configure(&mut cmd);
        Self::spawned(cmd, identity, port, log)
    }

    /// Starts a replica from an image's unpacked file system (`unshare -r chroot`), configured as a pod is:
    /// in-cluster (`KUBERNETES_SERVICE_HOST`/`PORT`, the service account's files under the root), no
    /// kubeconfig.
    pub(crate) fn start_from_image(
        cluster: &Cluster,
        moto: &Moto,
        identity: &str,
        rootfs: &Path,
    ) -> Self {
        let port = free_port();
        let log = cluster.dir.join(format!("operator-{identity}.log"));
        let file = std::fs::File::create(&log).unwrap();
        let server = cluster.env("SERVER");
        let server = server
            .strip_prefix("https://127.0.0.1:")
            .expect("SERVER on 127.0.0.1");
        let mut cmd = Command::new("unshare");
        cmd.args(["-r", "chroot"])
            .arg(rootfs)
            .arg("/usr/local/bin/bucket-access-operator")
            .args(["run", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--identity", identity, "--lease-seconds", "10"])
            .env_clear()
            // For `unshare` to find `chroot`; the image's own binaries are on the same path.
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", "/home/nonroot")
            .env("KUBERNETES_SERVICE_HOST", "127.0.0.1")
            .env("KUBERNETES_SERVICE_PORT", server)
            .env("POD_NAMESPACE", OPERATOR_NS)
            .env("RUST_LOG", "info,bucket_access_operator=debug")
            .stdout(file.try_clone().unwrap())
            .stderr(file);
        moto.configure(&mut cmd);
        Self::spawned(cmd, identity, port, log)
    }

    /// Whether the process was started and not stopped since.
    pub(crate) fn running(&self) -> bool {
        self.child.is_some()
    }

    fn spawned(mut cmd: Command, identity: &str, port: u16, log: PathBuf) -> Self {
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

    pub(crate) fn metrics(&self) -> String {
        http_get(self.port, "/metrics")
            .map(|(_, body)| body)
            .unwrap_or_default()
    }

    /// The process id, while it runs.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The resident memory of the process, from `/proc` (KiB).
    pub(crate) fn rss_kib(&self) -> Option<u64> {
        proc_status_kib(self.child.as_ref()?.id(), "VmRSS:")
    }

    /// The counter `bucket_access_reconciles_total`, summed over results.
    pub(crate) fn reconciles(&self) -> u64 {
        self.metrics()
            .lines()
            .filter(|l| l.starts_with("bucket_access_reconciles_total{"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum()
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, and the exit status (within 20 s).
    pub(crate) fn terminate(&mut self) -> ExitStatus {
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
                let log = self.log();
                let tail: Vec<&str> = log.lines().rev().take(60).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                panic!(
                    "{} did not exit within 20 s of SIGTERM; the end of its log:\n{}",
                    self.identity,
                    tail.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGKILL: no chance to release the Lease.
    pub(crate) fn kill(&mut self) {
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

/// A value of the `env` file `start.sh` wrote into `dir`.
fn env_value(dir: &Path, key: &str) -> String {
    std::fs::read_to_string(dir.join("env"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")).map(str::to_owned))
        .unwrap_or_else(|| panic!("{key} in {}/env", dir.display()))
}

/// A field of `/proc/PID/status` in KiB (`VmRSS:`, `VmHWM:`), while the process runs.
pub(crate) fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix(field))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// A GET on 127.0.0.1: the status code and the body.
pub(crate) fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
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
pub(crate) fn wait_for(what: &str, seconds: u64, ready: impl FnMut() -> Option<bool>) {
    if !eventually(seconds, ready) {
        panic!("timed out after {seconds} s waiting until {what}");
    }
}

/// Polls `ready` every 500 ms for up to `seconds`: whether it held.
pub(crate) fn eventually(seconds: u64, mut ready: impl FnMut() -> Option<bool>) -> bool {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < deadline {
        if ready() == Some(true) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    false
}

pub(crate) fn condition<'a>(check: &'a Value, kind: &str) -> &'a Value {
    check["status"]["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == kind))
        .unwrap_or(&Value::Null)
}

/// Evaluated for its current generation: `Reconciling=False` with `observedGeneration` current.
pub(crate) fn evaluated(check: &Value) -> bool {
    let reconciling = condition(check, "Reconciling");
    reconciling["status"] == "False"
        && check["status"]["observedGeneration"] == check["metadata"]["generation"]
}

/// The ids of the causes with severity `error`.
pub(crate) fn cause_ids(check: &Value) -> Vec<String> {
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

pub(crate) fn lease_holder(cluster: &Cluster) -> Option<String> {
    lease_holder_of(cluster, "bucket-access-operator")
}

/// The holder of the Lease `name`.
pub(crate) fn lease_holder_of(cluster: &Cluster, name: &str) -> Option<String> {
    let out = cluster.run(&[
        "-n",
        OPERATOR_NS,
        "get",
        "lease",
        name,
        "-o",
        "jsonpath={.spec.holderIdentity}",
    ]);
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .filter(|h| !h.is_empty())
}

/// Events about one check of namespace `default`, as `kubectl` lists them: (type, reason, note) in order.
pub(crate) fn events(cluster: &Cluster, name: &str) -> Vec<(String, String, String)> {
    events_in(cluster, "default", name)
}

/// Events about one check of `namespace`.
pub(crate) fn events_in(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
) -> Vec<(String, String, String)> {
    let list = cluster.json(&[
        "get",
        "events",
        "-n",
        namespace,
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
/// The change events queue every replica follows (`Env::start` creates it in moto).
pub(crate) fn events_queue_url(moto: &Moto) -> String {
    format!("{}/123456789012/bucket-access-events", moto.endpoint())
}

pub(crate) fn moto_python(moto: &Moto, code: &str) {
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
pub(crate) const EXAMPLES: &[(&str, &str, &[&str])] = &[
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
    ("access-point", "Allowed", &[]),
    (
        "access-point-not-delegated",
        "Denied",
        &["ACCESS_POINT_BUCKET_NOT_DELEGATED"],
    ),
    ("bucket-acl", "Denied", &["BPA_IGNORE_PUBLIC_ACLS"]),
    (
        "multipart-conditional-write",
        "Denied",
        &["BUCKET_POLICY_CONDITIONAL_WRITES"],
    ),
];

/// The value of the metric line that starts with `series` (e.g. `name{label="x"}`), 0 when absent.
pub(crate) fn metric(metrics: &str, series: &str) -> u64 {
    metrics
        .lines()
        .find(|l| {
            l.starts_with(series) && l.get(series.len()..).is_some_and(|r| r.starts_with(' '))
        })
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0)
}

/// A local OCI registry (`crane registry serve`, in memory) on 127.0.0.1; stopped on drop.
pub(crate) struct Registry {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub(crate) address: String,
    /// The crane binary.
    pub(crate) crane: PathBuf,
    docker_config: PathBuf,
}

impl Registry {
    pub(crate) fn start(cluster: &Cluster) -> Self {
        let crane = cluster.kubectl.with_file_name("crane");
        let address = format!("127.0.0.1:{}", free_port());
        // crane reads no Docker configuration (no credential helper runs).
        let docker_config = cluster.dir.join("docker-config");
        std::fs::create_dir_all(&docker_config).unwrap();
        let child = Command::new(&crane)
            .args(["registry", "serve", "--address", &address])
            .env("DOCKER_CONFIG", &docker_config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start crane registry serve");
        wait_for("the registry answers", 30, || {
            Some(
                Command::new(&crane)
                    .args(["catalog", &address, "--insecure"])
                    .env("DOCKER_CONFIG", &docker_config)
                    .output()
                    .is_ok_and(|o| o.status.success()),
            )
        });
        Self {
            child,
            address,
            crane,
            docker_config,
        }
    }

    /// `crane ARGS`; its standard output.
    pub(crate) fn crane(&self, args: &[&str]) -> String {
        let out = Command::new(&self.crane)
            .args(args)
            .env("DOCKER_CONFIG", &self.docker_config)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "crane {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
