//! Stage 4 of the diagnosis: the engine decides every implied request. For an explicit deny it decides the
//! request once more without any Deny statement (what would still fail once the denies are gone); for a
//! multipart upload that is allowed it decides the parts (UploadPart, CompleteMultipartUpload), which carry
//! none of the upload headers. Nothing here edits a decision.

use super::implied::{Implied, ImpliedRequest};
use super::request::{s3_context, Purpose};
use iam_policy::{
    evaluate, Classification, Decision, Effect, Evaluation, Policy, PolicySet, Request,
};

/// The evaluation without denies, with the policies it was made on.
#[derive(Debug, Clone)]
pub struct WithoutDenies {
    /// The policies without Deny statements.
    pub policies: PolicySet,
    /// Their decision.
    pub evaluation: Evaluation,
}

/// The parts of a multipart upload, decided without the upload headers.
#[derive(Debug, Clone)]
pub struct Parts {
    /// Its decision.
    pub evaluation: Evaluation,
}

/// One decided request.
#[derive(Debug, Clone)]
pub struct Decided<'i> {
    /// The implied request.
    pub implied: &'i ImpliedRequest,
    /// The engine's evaluation.
    pub evaluation: Evaluation,
    /// For an explicit deny: the decision without denies.
    pub without_denies: Option<WithoutDenies>,
    /// For an allowed multipart upload: the decision of its parts.
    pub parts: Option<Parts>,
}

/// The policies with every statement that denies (or might) removed.
fn without_denies(policies: &PolicySet) -> PolicySet {
    let strip = |p: &Policy| {
        let mut p = p.clone();
        p.statements = p
            .statements
            .iter()
            .filter(|st| st.effect == Some(Effect::Allow))
            .cloned()
            .collect();
        p
    };
    PolicySet {
        identity: policies.identity.iter().map(strip).collect(),
        permission_boundary: policies.permission_boundary.as_ref().map(strip),
        session_policy: policies.session_policy.as_ref().map(strip),
        scps: policies
            .scps
            .iter()
            .map(|l| l.iter().map(strip).collect())
            .collect(),
        rcps: policies
            .rcps
            .iter()
            .map(|l| l.iter().map(strip).collect())
            .collect(),
        resource_policies: policies.resource_policies.iter().map(strip).collect(),
        vpc_endpoint_policy: policies.vpc_endpoint_policy.as_ref().map(strip),
    }
}

/// Decides every implied request.
pub fn decide<'i>(implied: &'i Implied<'_>) -> Vec<Decided<'i>> {
    implied
        .requests
        .iter()
        .map(|r| {
            let policies = implied.policies(r.target);
            let evaluation = evaluate(&r.request, policies);
            let without = (evaluation.classification == Classification::ExplicitDeny).then(|| {
                let open = without_denies(policies);
                let evaluation = evaluate(&r.request, &open);
                WithoutDenies {
                    policies: open,
                    evaluation,
                }
            });
            let parts = (r.purpose == Purpose::Upload
                && implied.snapshot.request.upload.multipart
                && evaluation.decision == Decision::Allowed)
                .then(|| {
                    let request = Request::new(
                        implied.principal.clone(),
                        "s3:PutObject",
                        &r.request.resource,
                        Some(implied.bucket_account.clone()),
                        s3_context(implied.snapshot, false, policies),
                    );
                    let evaluation = evaluate(&request, policies);
                    Parts { evaluation }
                });
            Decided {
                implied: r,
                evaluation,
                without_denies: without,
                parts,
            }
        })
        .collect()
}
