//! Whether a new status says anything the written one does not (`same_result`), and what the controller
//! keeps of a status it watches (`kept`): the fields its next reconcile reads, and a digest of the rest, so
//! that a watched check costs a few hundred bytes whatever its causes and fix say.

use super::types::{BucketAccessCheckStatus, StatusCause};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use sha2::{Digest, Sha256};

/// The SHA-256 of a status' result: everything but when and why it was evaluated.
fn result_digest(status: &BucketAccessCheckStatus) -> [u8; 32] {
    let result = BucketAccessCheckStatus {
        last_evaluated: None,
        refreshed_by: None,
        result_digest: None,
        handled_digest: None,
        ..status.clone()
    };
    let mut hasher = Sha256::new();
    // A status always serializes (strings, numbers and lists only); were it ever not to, the digest of
    // what was written so far differs from any written status' and the status is written again.
    let _ = serde_json::to_writer(&mut hasher, &result);
    hasher.finalize().into()
}

/// The digest of `status`' result: the one `kept` recorded, or computed from the whole status.
fn result_of(status: &BucketAccessCheckStatus) -> [u8; 32] {
    status
        .result_digest
        .unwrap_or_else(|| result_digest(status))
}

/// Whether two statuses differ in anything but `lastEvaluated` and `refreshedBy` (no write when nothing
/// changed). Either may be one the controller `kept`.
pub fn same_result(a: &BucketAccessCheckStatus, b: &BucketAccessCheckStatus) -> bool {
    result_of(a) == result_of(b)
}

/// Whether `status` says it handled the `requested-at` value `requested` (a kept status by its digest).
pub fn handled(status: &BucketAccessCheckStatus, requested: &str) -> bool {
    match (&status.handled_digest, &status.last_handled_requested_at) {
        (Some(digest), _) => *digest == <[u8; 32]>::from(Sha256::digest(requested.as_bytes())),
        (None, Some(handled)) => handled == requested,
        (None, None) => false,
    }
}

/// What the controller keeps of a watched check's status: what `build`, `same_result` and `transition`
/// read of a previous status (generation, verdict, reason, cause ids, the conditions' status and times,
/// when it was last evaluated, and the digest of the request it handled) and the digest of the whole result. Summaries,
/// messages, remediations, evaluations and fixes are dropped: they are rebuilt by every evaluation.
pub fn kept(status: &BucketAccessCheckStatus) -> BucketAccessCheckStatus {
    BucketAccessCheckStatus {
        observed_generation: status.observed_generation,
        verdict: status.verdict,
        reason: status.reason,
        last_evaluated: status.last_evaluated.clone(),
        handled_digest: status
            .last_handled_requested_at
            .as_deref()
            .map(|r| Sha256::digest(r.as_bytes()).into()),
        causes: status
            .causes
            .iter()
            .map(|c| StatusCause {
                id: c.id,
                layer: c.layer,
                action: String::new(),
                statement: None,
                message: String::new(),
                severity: c.severity,
                remediation: Vec::new(),
            })
            .collect(),
        conditions: status
            .conditions
            .iter()
            .map(|c| Condition {
                message: String::new(),
                ..c.clone()
            })
            .collect(),
        // Computed here, whatever the status read says (the API server prunes the field anyway).
        result_digest: Some(result_digest(status)),
        ..BucketAccessCheckStatus::default()
    }
}
