//! A scope's own status: `Valid` (`True`, or `False` with every problem, in which case the scope grants
//! nothing), the kstatus conditions GitOps tools read (`Ready`, and `Stalled` for an invalid scope, so that
//! Flux and kstatus see an invalid scope as failed, not healthy), and how many namespaces it selects, written
//! with server-side apply on the status subresource.

use crate::controller::reconcile::FIELD_MANAGER;
use bucket_access_api::scope::resource::{BucketAccessScope, ScopeStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::api::{Patch, PatchParams};
use kube::{Api, ResourceExt};

/// The condition type that says whether the scope grants anything.
pub const VALID: &str = "Valid";
/// kstatus: the scope is in effect.
pub const READY: &str = "Ready";
/// kstatus: the scope cannot take effect until it is edited.
pub const STALLED: &str = "Stalled";

/// The status `scope` should have when it selects `selected` namespaces.
pub fn desired(scope: &BucketAccessScope, selected: usize, now: &Time) -> ScopeStatus {
    let problems = scope.spec.problems();
    let (status, reason, message) = if problems.is_empty() {
        ("True", "Valid", "the scope is valid".to_owned())
    } else {
        (
            "False",
            "InvalidScope",
            format!("the scope grants nothing: {}", problems.join("; ")),
        )
    };
    let condition = |type_: &str, status: &str, reason: &str, message: &str| {
        let previous = scope
            .status
            .as_ref()
            .and_then(|s| s.conditions.iter().find(|c| c.type_ == type_));
        let last_transition_time = match previous {
            Some(p) if p.status == status => p.last_transition_time.clone(),
            _ => now.clone(),
        };
        Condition {
            type_: type_.to_owned(),
            status: status.to_owned(),
            reason: reason.to_owned(),
            message: message.to_owned(),
            observed_generation: scope.metadata.generation,
            last_transition_time,
        }
    };
    let valid = status == "True";
    let (ready, stalled) = if valid {
        ("True", "False")
    } else {
        ("False", "True")
    };
    ScopeStatus {
        observed_generation: scope.metadata.generation,
        selected_namespaces: Some(u32::try_from(selected).unwrap_or(u32::MAX)),
        conditions: vec![
            condition(VALID, status, reason, &message),
            condition(READY, ready, reason, &message),
            condition(STALLED, stalled, reason, &message),
        ],
    }
}

/// Writes `status` (the caller writes only statuses that changed).
pub async fn write(
    api: &Api<BucketAccessScope>,
    scope: &BucketAccessScope,
    status: &ScopeStatus,
) -> Result<(), kube::Error> {
    let patch = serde_json::json!({
        "apiVersion": "bucketaccess.io/v1alpha1",
        "kind": "BucketAccessScope",
        "status": status,
    });
    api.patch_status(
        &scope.name_any(),
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&patch),
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bucket_access_api::scope::resource::{ScopeAccount, ScopeSpec};

    fn scope(accounts: Vec<ScopeAccount>) -> BucketAccessScope {
        let mut s = BucketAccessScope::new(
            "media",
            ScopeSpec {
                namespaces: vec!["media".into()],
                principals: vec!["arn:aws:iam::111122223333:role/media-*".into()],
                buckets: vec!["media-*".into()],
                accounts,
                ..ScopeSpec::default()
            },
        );
        s.metadata.generation = Some(3);
        s
    }

    fn of<'a>(status: &'a ScopeStatus, type_: &str) -> (&'a str, &'a str) {
        status
            .conditions
            .iter()
            .find(|c| c.type_ == type_)
            .map(|c| (c.status.as_str(), c.reason.as_str()))
            .unwrap_or(("absent", ""))
    }

    #[test]
    fn an_invalid_scope_is_stalled_for_kstatus_and_flux() {
        let now = Time(jiff::Timestamp::UNIX_EPOCH);
        let valid = desired(
            &scope(vec![ScopeAccount {
                id: "111122223333".into(),
                ..ScopeAccount::default()
            }]),
            1,
            &now,
        );
        assert_eq!(of(&valid, VALID), ("True", "Valid"));
        assert_eq!(of(&valid, READY), ("True", "Valid"));
        assert_eq!(of(&valid, STALLED), ("False", "Valid"));
        let invalid = desired(&scope(Vec::new()), 1, &now);
        assert_eq!(of(&invalid, VALID), ("False", "InvalidScope"));
        assert_eq!(of(&invalid, READY), ("False", "InvalidScope"));
        assert_eq!(of(&invalid, STALLED), ("True", "InvalidScope"));
        assert!(invalid
            .conditions
            .iter()
            .all(|c| c.observed_generation == Some(3)));
    }
}
