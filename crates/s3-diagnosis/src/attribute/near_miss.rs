//! Near misses: the Allow statements for the checked action that did not apply, and which element failed.

use super::Evaluated;
use iam_policy::model::{Effect, Statement};
use iam_policy::outcome::{Mismatch, StatementOutcome, StatementResult};
use iam_policy::{Layer, StatementRef};

/// A near miss: an Allow statement for this action that did not apply.
pub(super) struct NearMiss<'s> {
    pub(super) at: StatementRef,
    pub(super) mismatch: Mismatch,
    pub(super) statement: &'s Statement,
}

impl NearMiss<'_> {
    /// The key of the condition clause that failed (empty for a resource or principal miss).
    pub(super) fn condition_key(&self) -> &str {
        match self.mismatch {
            Mismatch::Condition { clause } => self
                .statement
                .conditions
                .get(clause as usize)
                .map_or("", |c| c.key_lower.as_str()),
            Mismatch::Resource | Mismatch::Principal => "",
        }
    }
}

pub(super) fn near_misses<'s>(e: &'s Evaluated<'_>, layer: Layer) -> Vec<NearMiss<'s>> {
    e.evaluation
        .layer(layer)
        .statements
        .iter()
        .filter(|s: &&StatementResult| s.effect == Some(Effect::Allow))
        // A KMS grant that does not apply is reported as `KMS_GRANT_MISSING_OR_CONSTRAINED`, not as a near
        // miss of the key policy.
        .filter(|s| {
            !e.policies
                .policy(&s.at)
                .is_some_and(|p| crate::kms::is_grant_policy(&p.id))
        })
        .filter_map(|s| match s.outcome {
            StatementOutcome::DoesNotApply(mismatch) => Some(NearMiss {
                at: s.at,
                mismatch,
                statement: e.policies.statement(&s.at)?,
            }),
            _ => None,
        })
        .collect()
}
