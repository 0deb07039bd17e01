//! Stage 6 of the diagnosis: the causes in the order to fix them (severity, then category: configuration
//! blockers, organization policies, explicit denies, conditions, the network path, missing grants, KMS
//! grants, advice), each reported once.

use super::causes::Cause;

/// The causes, ranked and without repeats (same id, layer, action and statement).
pub fn rank(mut causes: Vec<Cause>) -> Vec<Cause> {
    // Stable: within one rank, the order in which the requests were decided.
    causes.sort_by_key(Cause::rank);
    causes.dedup_by(|a, b| {
        a.id == b.id && a.layer == b.layer && a.action == b.action && a.statement == b.statement
    });
    causes
}
