//! A scope's own status: `Valid` (`True`, or `False` with every problem, in which case the scope grants
//! nothing) and how many namespaces it selects, written with server-side apply on the status subresource.

use super::resource::{BucketAccessScope, ScopeStatus};
use crate::controller::reconcile::FIELD_MANAGER;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::api::{Patch, PatchParams};
use kube::{Api, ResourceExt};

/// The condition type.
pub const VALID: &str = "Valid";

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
    let previous = scope
        .status
        .as_ref()
        .and_then(|s| s.conditions.iter().find(|c| c.type_ == VALID));
    let last_transition_time = match previous {
        Some(p) if p.status == status => p.last_transition_time.clone(),
        _ => now.clone(),
    };
    ScopeStatus {
        observed_generation: scope.metadata.generation,
        selected_namespaces: Some(u32::try_from(selected).unwrap_or(u32::MAX)),
        conditions: vec![Condition {
            type_: VALID.to_owned(),
            status: status.to_owned(),
            reason: reason.to_owned(),
            message,
            observed_generation: scope.metadata.generation,
            last_transition_time,
        }],
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
