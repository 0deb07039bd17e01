//! The one condition builder of checks and scopes: a Kubernetes condition with its `observedGeneration`,
//! keeping `lastTransitionTime` while its status does not change.

use super::types::Holds;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

/// The condition `type_` at `now`, over the object's `previous` conditions: `lastTransitionTime` moves only
/// when its status changes.
pub fn condition(
    type_: &str,
    status: Holds,
    reason: &str,
    message: &str,
    generation: Option<i64>,
    now: &Time,
    previous: &[Condition],
) -> Condition {
    let previous = previous.iter().find(|c| c.type_ == type_);
    let last_transition_time = match previous {
        Some(p) if p.status == <&str>::from(status) => p.last_transition_time.clone(),
        _ => now.clone(),
    };
    Condition {
        type_: type_.to_owned(),
        status: <&str>::from(status).to_owned(),
        reason: reason.to_owned(),
        message: message.to_owned(),
        observed_generation: generation,
        last_transition_time,
    }
}
