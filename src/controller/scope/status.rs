//! Writing a scope's own status (`BucketAccessScope::desired_status`) with server-side apply on the status
//! subresource.

use crate::controller::FIELD_MANAGER;
use bucket_access_api::scope::resource::{BucketAccessScope, ScopeStatus};
use kube::api::{Patch, PatchParams};
use kube::{Api, Resource, ResourceExt};

/// Writes `status` (the caller writes only statuses that changed).
pub async fn write(
    api: &Api<BucketAccessScope>,
    scope: &BucketAccessScope,
    status: &ScopeStatus,
) -> Result<(), kube::Error> {
    let patch = serde_json::json!({
        "apiVersion": BucketAccessScope::api_version(&()),
        "kind": BucketAccessScope::kind(&()),
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
