//! The IAM policy engine: a pure function from a request and a set of policies to a decision and its
//! explanation. No AWS SDK, no kube, no tokio, no I/O: everything arrives as values.
//!
//! `parse` reads the AWS grammar into `model`; `eval` classifies every statement and layer and derives the
//! decision; `trace` turns the classification into sentences; `case` is the `simulate` file format.

pub mod arn;
mod arn_short;
pub mod case;
mod classify;
pub mod condition;
pub mod context;
mod elements;
pub mod eval;
pub mod glob;
pub mod layers;
pub mod model;
pub mod operator;
pub mod outcome;
pub mod parse;
pub mod principal_arn;
mod principal_match;
pub mod strict_json;
pub mod trace;
pub mod variables;

pub use context::{Context, ContextValue, Principal, Request};
pub use eval::{evaluate, PolicySet};
pub use layers::{Layer, Layers};
pub use model::{Effect, InputError, Policy};
pub use outcome::{Classification, Decision, Evaluation, Grant, LayerOutcome, StatementRef};
pub use parse::{parse_policy, parse_policy_text, PolicyKind};
pub use principal_arn::{PrincipalArn, PrincipalArnError, PrincipalKind};
