//! The Kubernetes side without a control plane: status building, reconcile and Lease election against a
//! mock API server, the CRD, the GitOps health contracts, and the soak.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a failed unwrap is a failed test"
)]

#[path = "../support/mod.rs"]
mod support;

mod crd;
mod disclosure;
mod gitops;
mod leader_and_endpoints;
mod reconcile_mock;
mod soak;
mod status;

/// The snapshot of a diagnosis scenario (`crates/s3-diagnosis/tests/scenarios/NAME.json`).
fn scenario(name: &str) -> s3_diagnosis::snapshot::Snapshot {
    let path = format!(
        "{}/crates/s3-diagnosis/tests/scenarios/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    serde_json::from_value(v["snapshot"].clone()).unwrap()
}
