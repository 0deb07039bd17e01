//! The AWS adapter against a real moto server: collection, faults, scale, and the operator's IAM policy
//! against the calls the adapter makes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a failed unwrap is a failed test"
)]

#[path = "../support/mod.rs"]
mod support;

mod account_reads;
mod events;
mod fault_suite;
mod faults;
mod gate;
mod moto;
mod operator_iam_policy;
mod organization_unread;
mod scale;
mod scope;
