//! The pure layers stay pure: nothing in `src/policy/` or `src/diagnose/` may use the AWS SDK, kube,
//! k8s-openapi, tokio, or the adapter modules.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a failed unwrap is a failed test"
)]

use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn policy_and_diagnose_depend_on_no_adapter() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let forbidden = [
        "aws_",
        "kube",
        "k8s_openapi",
        "tokio",
        "crate::aws",
        "crate::controller",
        "crate::cli",
    ];
    let mut files = Vec::new();
    rust_files(&root.join("policy"), &mut files);
    rust_files(&root.join("diagnose"), &mut files);
    assert!(
        files.len() >= 10,
        "expected the engine's files, found {}",
        files.len()
    );
    let mut offences = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let t = line.trim_start();
            let used = t
                .strip_prefix("pub use ")
                .or_else(|| t.strip_prefix("use "));
            let path_use = forbidden
                .iter()
                .any(|f| t.contains(&format!("{f}::")) && !t.starts_with("//"));
            if used.is_some_and(|u| forbidden.iter().any(|f| u.starts_with(f))) || path_use {
                offences.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        offences.is_empty(),
        "the pure layers use adapters:\n{}",
        offences.join("\n")
    );
}
