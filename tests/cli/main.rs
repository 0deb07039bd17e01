//! The binary's offline commands (`diagnose`, `simulate`) and the workspace's layering.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a failed unwrap is a failed test"
)]

#[path = "../support/temp_dir.rs"]
mod temp_dir;

mod architecture;
mod deploy_aws;
mod diagnose;
mod generated;
mod markdown;
mod module_graph;
mod simulate;
