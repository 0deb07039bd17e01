//! The diagnosis's own tests, one binary: properties over the scenarios and mutated snapshots. The
//! data-driven scenarios are `tests/scenarios.rs` (one test per file).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a failed unwrap is a failed test"
)]

mod fail_closed;
mod fixes;
mod monotone;
mod properties;
mod scenarios;
mod sloppy;
