//! The layering, from the resolved dependency graph in `Cargo.lock`: the engine (`iam-policy`) and the
//! diagnosis (`s3-diagnosis`) reach no AWS SDK, kube, k8s-openapi or tokio, not even transitively, and the
//! engine does not depend on the diagnosis. The compiler enforces the rest: the pure crates cannot name the
//! adapter's modules.
//!
//! The lock file is the whole resolved graph, for every platform, and reading it needs no cargo, no download
//! and no network: the test passes the same on a newcomer's empty cargo home. It does not tell normal from dev
//! and build dependencies, so the closure checked here is a superset of what the pure crates build with
//! (their own dev-dependencies included): stricter, never weaker. The lock format is a plain list of
//! `[[package]]` tables; reading the three keys needed here by hand spares a TOML parser.

use std::collections::{BTreeMap, BTreeSet};

/// One locked package: its name, version and dependency references (`name`, or `name version` when several
/// versions of that name are locked).
#[derive(Debug, Default)]
struct Locked {
    name: String,
    version: String,
    dependencies: Vec<String>,
}

fn unquote(text: &str) -> String {
    text.trim()
        .trim_end_matches(',')
        .trim()
        .trim_matches('"')
        .to_owned()
}

fn packages(lock: &str) -> Vec<Locked> {
    let mut out: Vec<Locked> = Vec::new();
    let mut in_dependencies = false;
    for line in lock.lines() {
        let line = line.trim();
        if line == "[[package]]" {
            out.push(Locked::default());
            in_dependencies = false;
            continue;
        }
        let Some(package) = out.last_mut() else {
            continue;
        };
        if in_dependencies {
            if line == "]" {
                in_dependencies = false;
            } else {
                package.dependencies.push(unquote(line));
            }
        } else if let Some(name) = line.strip_prefix("name = ") {
            package.name = unquote(name);
        } else if let Some(version) = line.strip_prefix("version = ") {
            package.version = unquote(version);
        } else if line == "dependencies = [" {
            in_dependencies = true;
        }
    }
    out
}

/// The names of every package `start` reaches.
fn closure(packages: &[Locked], start: &str) -> BTreeSet<String> {
    let mut by_name: BTreeMap<&str, Vec<&Locked>> = BTreeMap::new();
    for p in packages {
        by_name.entry(p.name.as_str()).or_default().push(p);
    }
    let resolve = |reference: &str| -> &Locked {
        let mut parts = reference.split_whitespace();
        let name = parts.next().unwrap();
        let candidates = &by_name[name];
        match parts.next() {
            Some(version) => candidates
                .iter()
                .find(|p| p.version == version)
                .unwrap_or_else(|| panic!("`{reference}` is not locked")),
            None => {
                assert_eq!(candidates.len(), 1, "`{name}` is ambiguous");
                candidates[0]
            }
        }
    };
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut todo = vec![resolve(start)];
    while let Some(p) = todo.pop() {
        if !seen.insert(format!("{} {}", p.name, p.version)) {
            continue;
        }
        todo.extend(p.dependencies.iter().map(|d| resolve(d)));
    }
    seen.iter()
        .map(|id| id.split(' ').next().unwrap().to_owned())
        .collect()
}

#[test]
fn the_pure_crates_reach_no_adapter() {
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.lock")).unwrap();
    let packages = packages(&lock);
    assert!(packages.len() > 100, "{} packages read", packages.len());
    let forbidden = |name: &str| {
        name.starts_with("aws-")
            || name.starts_with("kube")
            || name.starts_with("k8s-openapi")
            || name == "tokio"
            || name == "hyper"
            || name == "bucket-access-operator"
    };
    for package in ["iam-policy", "s3-diagnosis"] {
        let reached = closure(&packages, package);
        assert!(reached.contains("serde_json"), "{package}: {reached:?}");
        let offences: Vec<&String> = reached.iter().filter(|n| forbidden(n)).collect();
        assert!(offences.is_empty(), "`{package}` depends on {offences:?}");
    }
    assert!(!closure(&packages, "iam-policy").contains("s3-diagnosis"));
    // The check itself can fail: the operator crate does reach the SDK and kube.
    let operator = closure(&packages, "bucket-access-operator");
    assert!(
        operator.contains("aws-sdk-s3") && operator.contains("kube"),
        "{operator:?}"
    );
}

/// The crate edges, as drawn in docs/development.md: the Kubernetes API crate and the AWS adapter each build
/// on the pure crates and never on each other; neither reaches the operator; only the API crate (and the
/// operator) reach kube, only the adapter (and the operator) reach the AWS SDK. With the crates apart, no
/// module cycle can span them.
#[test]
fn the_api_crate_and_the_aws_adapter_stand_apart() {
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.lock")).unwrap();
    let packages = packages(&lock);
    let api = closure(&packages, "bucket-access-api");
    let aws = closure(&packages, "bucket-access-aws");
    for (name, reached) in [("bucket-access-api", &api), ("bucket-access-aws", &aws)] {
        assert!(
            reached.contains("s3-diagnosis") && reached.contains("iam-policy"),
            "`{name}` builds on the pure crates: {reached:?}"
        );
        assert!(
            !reached.contains("bucket-access-operator"),
            "`{name}` reaches the operator"
        );
    }
    // (`aws-lc-rs` is rustls's crypto, reached through kube's client in the lock: not the SDK.)
    let sdk: Vec<&String> = api
        .iter()
        .filter(|n| {
            [
                "aws-sdk-",
                "aws-smithy-",
                "aws-config",
                "aws-sigv4",
                "aws-runtime",
            ]
            .iter()
            .any(|p| n.starts_with(p))
        })
        .collect();
    assert!(sdk.is_empty(), "the API crate reaches the AWS SDK: {sdk:?}");
    assert!(!api.contains("bucket-access-aws"));
    assert!(api.contains("kube-core") && api.contains("k8s-openapi"));
    // The lock's `kube` carries every feature the workspace enables (its client and runtime, for the
    // operator); the API crate itself asks for the derives only.
    let manifest = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/crates/bucket-access-api/Cargo.toml"
    ))
    .unwrap();
    let kube_line = manifest.lines().find(|l| l.starts_with("kube =")).unwrap();
    assert!(
        kube_line.contains("default-features = false")
            && kube_line.contains(r#"features = ["derive"]"#),
        "{kube_line}"
    );
    assert!(!manifest.contains("tokio") && !manifest.contains("kube-runtime"));
    let kube: Vec<&String> = aws
        .iter()
        .filter(|n| n.starts_with("kube") || n.starts_with("k8s-openapi"))
        .collect();
    assert!(kube.is_empty(), "the AWS adapter reaches kube: {kube:?}");
    assert!(!aws.contains("bucket-access-api"));
    assert!(aws.contains("aws-sdk-iam"));
}

/// The root crate's modules, from their `crate::` paths: the CLI may start the operator (`run`), the operator
/// never reaches into the CLI, and neither holds Kubernetes types of its own (those are the API crate's).
#[test]
fn the_root_crate_has_no_module_cycle() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut edges: BTreeSet<(String, String)> = BTreeSet::new();
    for path in rust_files(std::slice::from_ref(&src)) {
        let relative = path.strip_prefix(&src).unwrap();
        let from = relative
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        for piece in text.split("crate::").skip(1) {
            let to: String = piece
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !to.is_empty() && to != from {
                edges.insert((from.clone(), to));
            }
        }
        // Kubernetes resources are derived in the API crate only.
        assert!(
            !text.contains("derive(kube::CustomResource") && !text.contains("CustomResource)"),
            "{} derives a Kubernetes resource: it belongs in bucket-access-api",
            path.display()
        );
    }
    let expected = BTreeSet::from([("cli".to_owned(), "controller".to_owned())]);
    assert_eq!(
        edges, expected,
        "the root crate's module edges changed (an edge back from `controller` to `cli` is a cycle)"
    );
}

/// Every `.rs` file below `dirs` (build output left out).
pub(crate) fn rust_files(dirs: &[std::path::PathBuf]) -> Vec<std::path::PathBuf> {
    let mut todo = dirs.to_vec();
    let mut files = Vec::new();
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if !path.ends_with("target") {
                    todo.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The workspace's sources and tests.
fn workspace_files() -> Vec<std::path::PathBuf> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = rust_files(&[root.join("src"), root.join("crates"), root.join("tests")]);
    assert!(files.len() > 100, "{} files read", files.len());
    files
}

/// No function of the workspace (tests included) is longer than 100 lines: a long one is split into its
/// steps. A function is measured from its `fn` line to the closing brace at its own indentation.
#[test]
fn no_function_is_longer_than_a_hundred_lines() {
    let mut long = Vec::new();
    for path in workspace_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (at, line) in lines.iter().enumerate() {
            let indent = &line[..line.len() - line.trim_start().len()];
            let rest = line.trim_start();
            let rest = rest
                .strip_prefix("pub(crate) ")
                .or(rest.strip_prefix("pub(super) "))
                .or(rest.strip_prefix("pub "))
                .unwrap_or(rest);
            let rest = rest.strip_prefix("async ").unwrap_or(rest);
            if !rest.starts_with("fn ") || line.trim_end().ends_with(';') {
                continue;
            }
            let close = format!("{indent}}}");
            if let Some(end) = lines.iter().skip(at + 1).position(|l| *l == close) {
                let length = end + 2;
                if length > 100 {
                    long.push(format!("{}:{} ({length} lines)", path.display(), at + 1));
                }
            }
        }
    }
    assert!(long.is_empty(), "functions over 100 lines: {long:#?}");
}

/// No source file of the workspace (tests included) is longer than 700 lines: a longer one holds several rooms
/// and is split into modules named after them.
#[test]
fn no_file_is_longer_than_seven_hundred_lines() {
    let long: Vec<String> = workspace_files()
        .iter()
        .filter_map(|path| {
            let lines = std::fs::read_to_string(path).unwrap().lines().count();
            (lines > 700).then(|| format!("{} ({lines} lines)", path.display()))
        })
        .collect();
    assert!(long.is_empty(), "files over 700 lines: {long:#?}");
}
