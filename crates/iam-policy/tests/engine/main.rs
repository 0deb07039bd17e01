//! The engine's own tests, one binary: properties against oracles and robustness against hostile input.
//! The data-driven corpus is `tests/corpus.rs` (one test per file).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a failed unwrap is a failed test"
)]

mod properties;
mod robustness;
