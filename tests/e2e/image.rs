//! The container image and the chart, as a user gets them. The environment builds the image with
//! `deploy/image/build.py` around the binary under test (the same recipe `make image` runs around the release
//! binary), pushes it to a local registry (`crane registry serve`, crane built from the Go module proxy with the
//! control plane), packages the chart reproducibly and pushes it there too, and installs it from `oci://` with
//! the image pinned by digest (`build_and_push`, `push_chart`). The trial builds the image again (as `nobody`
//! when run as root), with the same digest, pulls it back by digest and unpacks it; then the operator started
//! from the image's file system (`unshare -r chroot`,
//! with the in-cluster configuration a pod gets: the service account's token, CA and namespace files, and
//! `KUBERNETES_SERVICE_HOST`/`PORT`) in place of the environment's replicas: it becomes ready, takes the Lease,
//! evaluates a new check, and exits cleanly on SIGTERM. Where unprivileged user namespaces are off, the trial
//! says so and ends there.

use crate::cluster::{evaluated, lease_holder, wait_for, Cluster, Operator, Registry};
use crate::support::root;
use crate::Env;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Builds the image around `binary` into `out`; its manifest digest. As `nobody` when asked (and run as
/// root): the same inputs must give the same digest whoever builds them.
fn build(binary: &Path, out: &Path, cache: Option<&Path>, as_nobody: bool) -> String {
    let script = root().join("deploy/image/build.py");
    let built = if as_nobody {
        std::fs::create_dir_all(out).unwrap();
        let open = std::os::unix::fs::PermissionsExt::from_mode(0o777);
        std::fs::set_permissions(out, open).unwrap();
        let command = format!(
            "python3 {} --binary {} --out {}{}",
            script.display(),
            binary.display(),
            out.display(),
            cache.map_or_else(String::new, |c| format!(" --cache {}", c.display()))
        );
        Command::new("su")
            .args(["-s", "/bin/sh", "nobody", "-c", &command])
            .output()
            .unwrap()
    } else {
        let mut command = Command::new("python3");
        command
            .arg(&script)
            .arg("--binary")
            .arg(binary)
            .arg("--out")
            .arg(out);
        if let Some(cache) = cache {
            command.arg("--cache").arg(cache);
        }
        command.output().unwrap()
    };
    assert!(
        built.status.success(),
        "deploy/image/build.py: {}",
        String::from_utf8_lossy(&built.stderr)
    );
    String::from_utf8(built.stdout).unwrap().trim().to_owned()
}

/// Where `deploy/image/build.py` keeps its downloads by default.
fn dirs_cache() -> PathBuf {
    PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/bucket-access-operator/image")
}

/// Whether this machine lets a normal user enter a user namespace (`unshare -r`).
fn user_namespaces() -> bool {
    Command::new("unshare")
        .args(["-r", "true"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The image's file system, pulled from `reference` and unpacked into `into`.
fn unpack(registry: &Registry, reference: &str, into: &Path) {
    let tar = into.with_extension("tar");
    registry.crane(&["export", reference, tar.to_str().unwrap(), "--insecure"]);
    std::fs::create_dir_all(into).unwrap();
    let untarred = Command::new("tar")
        .args(["-xf", tar.to_str().unwrap(), "-C", into.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(untarred.success());
}

/// Builds the image around the binary under test and pushes it to `registry`: its digest.
pub(crate) fn build_and_push(dir: &Path, registry: &Registry) -> String {
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_bucket-access-operator"));
    let layout = dir.join("image-layout");
    // Debian's packages are downloaded once per machine, into the user's cache (as Go modules are).
    let digest = build(&binary, &layout, None, false);
    assert!(digest.starts_with("sha256:"), "{digest}");
    let pushed = registry.crane(&[
        "push",
        layout.to_str().unwrap(),
        &format!("{}/bucket-access-operator:test", registry.address),
        "--insecure",
    ]);
    assert!(pushed.trim().ends_with(&digest), "{pushed} is not {digest}");
    digest
}

/// The chart's version (`Chart.yaml`).
pub(crate) fn chart_version() -> String {
    std::fs::read_to_string(root().join(crate::CHART).join("Chart.yaml"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("version: "))
        .unwrap()
        .trim()
        .to_owned()
}

/// Packages the chart twice (the same bytes: `SOURCE_DATE_EPOCH` fixes the archive's times), pushes it to
/// `registry` (`helm push`), and returns its `oci://` reference.
pub(crate) fn push_chart(cluster: &Cluster, registry: &Registry, dir: &Path) -> String {
    let package = |into: &Path| {
        let out = std::process::Command::new(&cluster.helm)
            .args(["package", root().join(crate::CHART).to_str().unwrap(), "-d"])
            .arg(into)
            .env("SOURCE_DATE_EPOCH", "1796601600")
            .env("HELM_CACHE_HOME", dir.join("helm/cache"))
            .env("HELM_CONFIG_HOME", dir.join("helm/config"))
            .env("HELM_DATA_HOME", dir.join("helm/data"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "helm package: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::read(into.join(format!("bucket-access-operator-{}.tgz", chart_version()))).unwrap()
    };
    let first = package(&dir.join("chart-a"));
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert!(
        first == package(&dir.join("chart-b")),
        "helm package is not reproducible"
    );
    let archive = dir
        .join("chart-a")
        .join(format!("bucket-access-operator-{}.tgz", chart_version()));
    let repository = format!("oci://{}/charts", registry.address);
    let pushed = cluster.helm(&[
        "push",
        archive.to_str().unwrap(),
        &repository,
        "--plain-http",
    ]);
    assert!(
        pushed.status.success(),
        "helm push: {}",
        String::from_utf8_lossy(&pushed.stderr)
    );
    format!("{repository}/bucket-access-operator")
}

/// What a pod's containers get: the service account's files, and `/etc/hosts` (the kubelet writes both).
fn in_cluster_files(env: &Env, rootfs: &Path) {
    let secrets = rootfs.join("var/run/secrets/kubernetes.io/serviceaccount");
    std::fs::create_dir_all(&secrets).unwrap();
    let kubeconfig = std::fs::read_to_string(&env.cluster.operator).unwrap();
    let token = kubeconfig
        .lines()
        .find_map(|l| l.trim().strip_prefix("user: {token: \""))
        .and_then(|t| t.strip_suffix("\"}"))
        .expect("the operator's token in its kubeconfig");
    std::fs::write(secrets.join("token"), token).unwrap();
    std::fs::copy(
        env.cluster.dir.join("pki/apiserver.crt"),
        secrets.join("ca.crt"),
    )
    .unwrap();
    std::fs::write(secrets.join("namespace"), crate::OPERATOR_NS).unwrap();
    std::fs::write(rootfs.join("etc/hosts"), "127.0.0.1 localhost\n").unwrap();
}

/// The image built again from the same inputs, elsewhere and with a cache of its own (by `nobody` when the
/// tests run as root, as CI's do): its digest.
fn rebuilt_elsewhere(binary: &Path) -> String {
    let root_user = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    let elsewhere = std::env::temp_dir().join(format!("bao-image-{}", std::process::id()));
    let debs = elsewhere.join("cache/debs");
    std::fs::create_dir_all(&debs).unwrap();
    for deb in std::fs::read_dir(dirs_cache().join("debs")).unwrap() {
        let deb = deb.unwrap().path();
        std::fs::copy(&deb, debs.join(deb.file_name().unwrap())).unwrap();
    }
    let copy = elsewhere.join("bucket-access-operator");
    std::fs::copy(binary, &copy).unwrap();
    if root_user {
        for p in [&elsewhere, &elsewhere.join("cache"), &debs] {
            std::fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(0o777))
                .unwrap();
        }
    }
    let again = build(
        &copy,
        &elsewhere.join("layout"),
        Some(&elsewhere.join("cache")),
        root_user,
    );
    let _ = std::fs::remove_dir_all(&elsewhere);
    again
}

pub(crate) fn the_image_runs_the_operator(env: &Env) {
    let dir = env.dir.0.join("image");
    std::fs::create_dir_all(&dir).unwrap();
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_bucket-access-operator"));
    let digest = &env.image;
    // The chart was installed from the registry, with the image pinned by that digest.
    let deployed = env.cluster.ok(&[
        "get",
        "deployment",
        "bucket-access-operator",
        "-n",
        crate::OPERATOR_NS,
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    ]);
    let pinned = format!("{}/bucket-access-operator@{digest}", env.registry.address);
    assert_eq!(deployed, pinned);
    // Reproducible: a second build from the same inputs, elsewhere, gives the same digest.
    let again = rebuilt_elsewhere(&binary);
    assert_eq!(*digest, again, "two builds of the same inputs");
    // The image's configuration: the binary as entrypoint, `run` by default, uid 65532, the CA bundle named.
    let config: serde_json::Value =
        serde_json::from_str(&env.registry.crane(&["config", &pinned, "--insecure"])).unwrap();
    let config = &config["config"];
    assert_eq!(
        config["Entrypoint"][0],
        "/usr/local/bin/bucket-access-operator"
    );
    assert_eq!(config["Cmd"][0], "run");
    assert_eq!(config["User"], "65532:65532");
    assert!(config["Env"]
        .to_string()
        .contains("SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"));
    let rootfs = dir.join("rootfs");
    unpack(&env.registry, &pinned, &rootfs);
    assert!(rootfs.join("usr/local/bin/bucket-access-operator").exists());
    assert!(rootfs.join("etc/ssl/certs/ca-certificates.crt").exists());
    assert!(std::fs::read_to_string(rootfs.join("etc/passwd"))
        .unwrap()
        .contains(":65532:65532:"));
    // What image scanners read: one dpkg status file per package.
    assert!(rootfs.join("var/lib/dpkg/status.d/libc6").exists());
    assert!(rootfs.join("etc/nsswitch.conf").exists());

    if !user_namespaces() {
        eprintln!(
            "SKIPPED the run from the image: this machine does not let a normal user enter a user namespace (`unshare -r true` fails), which the chroot needs; the image was built, pushed, pulled and unpacked"
        );
        return;
    }
    in_cluster_files(env, &rootfs);
    // The environment's replicas hand the Lease over (SIGTERM releases it); the image's operator takes it.
    for operator in env.operators().iter_mut().filter(|o| o.running()) {
        operator.terminate();
    }
    let mut from_image = Operator::start_from_image(&env.cluster, &env.moto, "op-image", &rootfs);
    wait_for("the operator from the image leads", 60, || {
        Some(lease_holder(&env.cluster).as_deref() == Some("op-image"))
    });
    let manifest = dir.join("from-image.yaml");
    std::fs::write(
        &manifest,
        std::fs::read_to_string(root().join("examples/08-sse-fixed.yaml"))
            .unwrap()
            .replace("name: sse-fixed", "name: from-image"),
    )
    .unwrap();
    env.cluster.ok(&["apply", "-f", manifest.to_str().unwrap()]);
    wait_for(
        "the operator from the image evaluates a new check",
        120,
        || {
            let check = env.cluster.check("from-image");
            Some(evaluated(&check) && check["status"]["verdict"] == "Allowed")
        },
    );
    let status = from_image.terminate();
    assert!(status.success(), "{status:?}\n{}", from_image.log());
}
