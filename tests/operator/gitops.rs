//! The GitOps contract, checked on what is shipped: `deploy/gitops/argocd/health.lua` run by Lua 5.1 (Argo
//! CD's gopher-lua is a Lua 5.1; built from vendored sources by `mlua`, no system Lua), and the
//! `healthCheckExprs` of `deploy/gitops/flux/kustomizations.yaml` evaluated by a CEL implementation
//! (cel-python, in the repository's `.venv`), against statuses made by the real `status::build` for every
//! row of the spec's table.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code"
)]

use bucket_access_api::spec::CheckSpec;
use bucket_access_api::status::{build, Outcome, Projection, Stamp};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use s3_diagnosis::diagnose;
use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Stdio};

use crate::scenario;

/// (row, object as the API server returns it, Argo CD health, Flux: inProgress, failed, current).
fn rows() -> Vec<(&'static str, Value, &'static str, [&'static str; 3])> {
    let stamp = Stamp {
        generation: Some(1),
        principal: "p",
        requested: None,
        now: Time("2026-11-28T10:00:00Z".parse().unwrap()),
    };
    let object = |generation: i64, status: Value| {
        json!({"apiVersion": "bucketaccess.io/v1alpha1", "kind": "BucketAccessCheck",
        "metadata": {"name": "c", "namespace": "n", "generation": generation}, "spec": {}, "status": status})
    };
    let diagnosed = |name: &str| {
        let d = diagnose(&scenario(name));
        serde_json::to_value(build(
            None,
            Projection::of(&d, Some("sha256:x")).into(),
            &stamp,
        ))
        .unwrap()
    };
    let evaluating = serde_json::to_value(build(None, Outcome::Evaluating, &stamp)).unwrap();
    let problems = CheckSpec {
        bucket: "x".into(),
        ..CheckSpec::default()
    }
    .validate();
    let invalid =
        serde_json::to_value(build(None, Outcome::InvalidSpec(&problems), &stamp)).unwrap();
    let out_of_scope = serde_json::to_value(build(
        None,
        Outcome::OutOfScope("no BucketAccessScope selects namespace `n`"),
        &stamp,
    ))
    .unwrap();
    let mut no_status = object(1, Value::Null);
    no_status.as_object_mut().unwrap().remove("status");
    vec![
        (
            "evaluating",
            object(1, evaluating),
            "Progressing",
            ["true", "false", "false"],
        ),
        (
            "allowed",
            object(1, diagnosed("allowed-plain")),
            "Healthy",
            ["false", "false", "true"],
        ),
        (
            "denied",
            object(1, diagnosed("seed-sse-deny-condition-denied")),
            "Degraded",
            ["false", "true", "false"],
        ),
        (
            "invalid",
            object(1, invalid),
            "Degraded",
            ["false", "true", "false"],
        ),
        (
            "out of scope",
            object(1, out_of_scope),
            "Degraded",
            ["false", "true", "false"],
        ),
        (
            "unknown",
            object(1, diagnosed("unknown-scp-unreadable")),
            "Progressing",
            ["true", "false", "false"],
        ),
        (
            "stale generation",
            object(2, diagnosed("allowed-plain")),
            "Progressing",
            ["false", "false", "true"],
        ),
        (
            "no status",
            no_status,
            "Progressing",
            ["error", "error", "error"],
        ),
    ]
}

/// A JSON value as a Lua table constructor.
fn lua(v: &Value) -> String {
    match v {
        Value::Null => "nil".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("{s:?}"),
        Value::Array(items) => format!(
            "{{{}}}",
            items.iter().map(lua).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("[{k:?}] = {}", lua(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[test]
fn the_argocd_health_check_implements_the_table() {
    let script = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/gitops/argocd/health.lua"
    ))
    .unwrap();
    for (row, object, health, _) in rows() {
        // Argo CD gives the script the object as `obj` and reads the table it returns.
        let lua51 = mlua::Lua::new();
        let program = format!(
            "obj = {}\nlocal function check()\n{script}\nend\nreturn check()\n",
            lua(&object)
        );
        let hs: mlua::Table = lua51
            .load(&program)
            .eval()
            .unwrap_or_else(|e| panic!("{row}: {e}"));
        let status: String = hs.get("status").unwrap();
        let message: String = hs.get("message").unwrap_or_default();
        assert_eq!(status, health, "{row}");
        assert!(!message.is_empty(), "{row}: a message");
        let version: String = lua51.globals().get("_VERSION").unwrap();
        assert_eq!(version, "Lua 5.1", "Argo CD's gopher-lua is Lua 5.1");
    }
}

#[test]
fn the_flux_health_expressions_implement_the_table() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/gitops/flux/kustomizations.yaml"
    ))
    .unwrap();
    let docs: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap();
    let checks = docs
        .iter()
        .find(|d| d["metadata"]["name"] == "access-checks")
        .unwrap();
    assert_eq!(checks["spec"]["wait"], true);
    let app = docs
        .iter()
        .find(|d| d["metadata"]["name"] == "media-app")
        .unwrap();
    assert_eq!(app["spec"]["dependsOn"][0]["name"], "access-checks");
    let exprs = &checks["spec"]["healthCheckExprs"][0];
    assert_eq!(exprs["kind"], "BucketAccessCheck");
    let rows = rows();
    let request = json!({"exprs": {"inProgress": exprs["inProgress"], "failed": exprs["failed"], "current": exprs["current"]},
        "objects": rows.iter().map(|r| r.1.clone()).collect::<Vec<_>>()});
    let python = crate::support::root().join(".venv/bin/python");
    let mut child = Command::new(&python)
        .arg(crate::support::root().join("deploy/gitops/flux/check_exprs.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the venv is missing: run `make test-env`");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    for ((row, _, _, expected), got) in rows.iter().zip(&results) {
        let got: Vec<String> = ["inProgress", "failed", "current"]
            .iter()
            .map(|k| got[*k].to_string().trim_matches('"').to_owned())
            .collect();
        assert_eq!(got, expected.to_vec(), "{row}");
    }
}

/// The ConfigMap patch users apply holds the tested script, verbatim.
#[test]
fn the_argocd_cm_patch_holds_the_health_script() {
    let root = env!("CARGO_MANIFEST_DIR");
    let script =
        std::fs::read_to_string(format!("{root}/deploy/gitops/argocd/health.lua")).unwrap();
    let patch =
        std::fs::read_to_string(format!("{root}/deploy/gitops/argocd/argocd-cm-patch.yaml"))
            .unwrap();
    let patch: serde_json::Value = serde_saphyr::from_str(&patch).unwrap();
    assert_eq!(patch["kind"], "ConfigMap");
    assert_eq!(patch["metadata"]["name"], "argocd-cm");
    assert_eq!(
        patch["data"]["resource.customizations.health.bucketaccess.io_BucketAccessCheck"]
            .as_str()
            .unwrap(),
        script
    );
}
