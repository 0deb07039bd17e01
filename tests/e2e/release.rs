//! The release workflow (`.github/workflows/release.yml`) cannot run in the project's CI: here it passes
//! actionlint (built from its Go module with the control plane), every `make` target it calls exists, and the
//! krew manifest it fills names the archives the workflow attaches, with the binary the plugin needs.

use crate::support::root;
use crate::Env;
use serde_json::Value;
use std::process::Command;

/// The image's package lock pins every package for both architectures the workflow builds (an
/// architecture-independent package once).
fn the_lock_covers_both_architectures() {
    let lock = std::fs::read_to_string(root().join("deploy/image/packages.lock")).unwrap();
    let rows: Vec<Vec<&str>> = lock
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split_whitespace().collect())
        .collect();
    let names: std::collections::BTreeSet<&str> = rows.iter().map(|r| r[0]).collect();
    assert!(names.len() >= 6, "{names:?}");
    for arch in ["amd64", "arm64"] {
        for name in &names {
            assert!(
                rows.iter()
                    .any(|r| r[0] == *name && (r[2] == arch || r[2] == "all")),
                "the lock has no {arch} row for {name}"
            );
        }
    }
}

pub(crate) fn the_release_workflow_lints_and_calls_what_exists(env: &Env) {
    the_lock_covers_both_architectures();
    let workflow = root().join(".github/workflows/release.yml");
    let actionlint = env.cluster.kubectl.with_file_name("actionlint");
    let linted = Command::new(&actionlint)
        .arg("-no-color")
        .arg(&workflow)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        linted.status.success(),
        "actionlint: {}{}",
        String::from_utf8_lossy(&linted.stdout),
        String::from_utf8_lossy(&linted.stderr)
    );
    let text = std::fs::read_to_string(&workflow).unwrap();
    let makefile = std::fs::read_to_string(root().join("Makefile")).unwrap();
    let targets: Vec<&str> = text
        .split("make ")
        .skip(1)
        .filter_map(|rest| rest.split_whitespace().next())
        .filter(|t| !t.contains('=') && t.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        .collect();
    assert!(
        targets.contains(&"test") && targets.contains(&"image"),
        "{targets:?}"
    );
    for target in targets {
        assert!(
            makefile
                .lines()
                .any(|l| l.starts_with(&format!("{target}:"))),
            "the release workflow runs `make {target}`, which the Makefile lacks"
        );
    }
    // The krew manifest: the plugin `bac`, one archive per architecture the workflow builds, each with the
    // binary kubectl looks for, and the placeholders the workflow fills.
    let krew: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(root().join("deploy/krew/bac.yaml")).unwrap(),
    )
    .unwrap();
    assert_eq!(krew["metadata"]["name"], "bac");
    let platforms = krew["spec"]["platforms"].as_array().unwrap();
    assert_eq!(
        platforms.len(),
        2,
        "one archive per architecture the workflow builds"
    );
    for (platform, arch) in platforms.iter().zip(["amd64", "arm64"]) {
        assert_eq!(platform["selector"]["matchLabels"]["arch"], arch);
        assert_eq!(platform["bin"], "kubectl-bac");
        let archive = format!("kubectl-bac-linux-{arch}.tar.gz");
        assert!(
            platform["uri"].as_str().unwrap().ends_with(&archive),
            "{platform}"
        );
        assert!(text.contains("kubectl-bac-linux-${{ matrix.arch }}.tar.gz"));
        assert_eq!(
            platform["sha256"],
            format!("SHA256_{}", arch.to_uppercase()),
            "filled by the workflow"
        );
        assert!(text.contains(&format!("SHA256_{}", arch.to_uppercase())));
    }
}
