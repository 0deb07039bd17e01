//! bucket-access-operator: can this IAM role or user upload to this S3 bucket, and if not, why and what to
//! change. `policy` is the pure IAM engine; `cli` holds the commands of the one binary.

#[cfg(feature = "aws")]
pub mod aws;
pub mod cli;
#[cfg(feature = "kube")]
pub mod controller;
pub mod diagnose;
pub mod policy;
pub mod spec;
