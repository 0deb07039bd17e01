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
    /// The request as decided, when it is not the implied one: the client model allows values of
    /// `s3:x-amz-content-sha256` that decide it differently, so it is decided with that key unknown.
    pub undecided_client: Option<Request>,
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
            let (evaluation, undecided_client) = decide_client_values(r, policies);
            let request = undecided_client.as_ref().unwrap_or(&r.request);
            let without = (evaluation.classification == Classification::ExplicitDeny).then(|| {
                let open = without_denies(policies);
                let evaluation = evaluate(request, &open);
                WithoutDenies {
                    policies: open,
                    evaluation,
                }
            });
            let parts = (r.purpose == Purpose::Upload
                && r.target == super::implied::Target::S3
                && implied.snapshot.request.upload.multipart
                && evaluation.decision == Decision::Allowed)
                .then(|| parts(implied, r, policies));
            Decided {
                implied: r,
                undecided_client,
                evaluation,
                without_denies: without,
                parts,
            }
        })
        .collect()
}

/// The request decided for every value of `s3:x-amz-content-sha256` the client model allows: one decision for
/// all is that decision; different ones are decided again with the key unknown (the engine then names the
/// condition that depends on it), and that request is returned.
fn decide_client_values(r: &ImpliedRequest, policies: &PolicySet) -> (Evaluation, Option<Request>) {
    let evaluation = evaluate(&r.request, policies);
    let agree = r
        .alternatives
        .iter()
        .all(|alternative| evaluate(alternative, policies).decision == evaluation.decision);
    if agree {
        return (evaluation, None);
    }
    let mut context = (*r.request.context).clone();
    context.insert_unknown(crate::client::CONTENT_SHA256);
    let undecided = Request {
        context: std::sync::Arc::new(context),
        ..r.request.clone()
    };
    (evaluate(&undecided, policies), Some(undecided))
}

/// The parts of an allowed multipart upload (UploadPart and CompleteMultipartUpload: no upload headers),
/// decided for every value of `s3:x-amz-content-sha256` either may carry; the worst decision holds, as both
/// requests are made.
fn parts(implied: &Implied<'_>, r: &ImpliedRequest, policies: &PolicySet) -> Parts {
    let s = implied.snapshot;
    let request = Request::new(
        implied.principal.clone(),
        "s3:PutObject",
        &r.request.resource,
        r.request.resource_account.clone(),
        s3_context(s, false, policies),
    );
    let client = s.request.client;
    let key = crate::client::CONTENT_SHA256;
    // Only when a policy tests the key (and the check does not give it) do the client's values matter.
    let settled = s.request.context.contains_key(key)
        || !super::request::tests_key(policies, crate::client::CONTENT_SHA256);
    let mut worst = evaluate(&request, policies);
    let values = client
        .content_sha256(true)
        .iter()
        .chain(client.content_sha256(false));
    for value in values.filter(|_| !settled) {
        let mut context = (*request.context).clone();
        context.insert(key, iam_policy::ContextValue::One((*value).to_owned()));
        let evaluation = evaluate(
            &Request {
                context: std::sync::Arc::new(context),
                ..request.clone()
            },
            policies,
        );
        if evaluation.decision != Decision::Allowed && worst.decision == Decision::Allowed {
            worst = evaluation;
        }
    }
    Parts { evaluation: worst }
}

impl Decided<'_> {
    /// The request as decided.
    pub fn request(&self) -> &Request {
        self.undecided_client
            .as_ref()
            .unwrap_or(&self.implied.request)
    }
}
