//! The status of a `BucketAccessCheck`: its types (`types`), what a reader may see of a diagnosis at the
//! scope's detail level (`projection`, with whose each layer is: `owners`), the one condition builder of checks and scopes (`condition`),
//! `build`, the one function that makes a check's whole status, and `compare`: whether a result changed,
//! and what the controller keeps of a watched status.

mod build;
mod compare;
mod condition;
mod owners;
mod projection;
mod types;

pub use build::{build, transition, Diagnosed, Outcome, Stamp, Transition};
pub use compare::{handled, kept, same_result};
pub use condition::condition;
pub use owners::{Owner, Owners};
pub use projection::{
    evaluations, listed, project, scrub, Projection, View, OPERATOR_SESSION, OUTSIDE_ACCOUNT,
    OUTSIDE_ARN, WITHHELD,
};
pub use types::{
    reasons, BucketAccessCheckStatus, Detail, Holds, Reason, RefreshedBy, State, StatusCause,
    StatusEvaluation, StatusFix, StatusLayerNote, StatusRemediation, StatusScope,
    MAX_STATUS_CAUSES,
};
