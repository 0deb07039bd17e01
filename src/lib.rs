//! bucket-access-operator: can this IAM role or user upload to this S3 bucket, and if not, why and what to
//! change. The engine (`iam-policy`), the diagnosis (`s3-diagnosis`), the Kubernetes API (`bucket-access-api`)
//! and the AWS adapter (`bucket-access-aws`) are crates of their own; this crate holds the two programs on top
//! of them: `controller` (the Kubernetes operator) and `cli` (the commands of the one binary).

pub mod cli;
pub mod controller;
