//! bucket-access-operator: can this IAM role or user upload to this S3 bucket, and if not, why and what to
//! change. The engine (`iam-policy`) and the diagnosis (`s3-diagnosis`) are crates of their own; this crate
//! holds the adapters around them: `aws` (reads the live policies into a snapshot), `controller` (the
//! Kubernetes operator), `spec` (the check as users write it) and `cli` (the commands of the one binary).

pub mod access;
#[cfg(feature = "aws")]
pub mod aws;
pub mod cli;
#[cfg(feature = "kube")]
pub mod controller;
pub mod manifests;
pub mod spec;
