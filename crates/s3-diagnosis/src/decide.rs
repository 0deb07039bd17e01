//! Stage 4 of the diagnosis: the engine decides every implied request. For an explicit deny it decides the
//! request once more without any Deny statement (what would still fail once the denies are gone); for a
//! multipart upload that is allowed it decides the parts (UploadPart, CompleteMultipartUpload), which carry
//! none of the upload headers. Nothing here edits a decision.

use super::implied::{Implied, ImpliedRequest, Target};
use super::request::{s3_context, Purpose, Shape};
use iam_policy::context::Unknown;
use iam_policy::outcome::StatementOutcome;
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

/// One of the requests a multipart upload makes, each authorized as `s3:PutObject`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MultipartStep {
    /// `CreateMultipartUpload`: the upload headers, no conditional-write header.
    Create,
    /// `UploadPart`: the data, no upload or conditional-write header.
    UploadPart,
    /// `CompleteMultipartUpload`: creates the object, with the conditional-write headers.
    Complete,
}

impl MultipartStep {
    /// Every step, in the order a client makes them.
    pub const ALL: [Self; 3] = [Self::Create, Self::UploadPart, Self::Complete];

    /// The S3 API name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Create => "CreateMultipartUpload",
            Self::UploadPart => "UploadPart",
            Self::Complete => "CompleteMultipartUpload",
        }
    }

    /// What S3 puts in the request's context; `with_headers`: every step carries the upload headers (the
    /// reading AWS documents), else only `CreateMultipartUpload` does (an inference, reported as a warning).
    fn shape(self, with_headers: bool) -> Shape {
        Shape {
            headers: with_headers || self == Self::Create,
            creates: self == Self::Complete,
            body: self == Self::UploadPart,
        }
    }
}

/// One request of a multipart upload, decided.
#[derive(Debug, Clone)]
pub struct PartDecision {
    /// Which request.
    pub step: MultipartStep,
    /// The request as decided (with the client's value that decided it worst).
    pub request: Request,
    /// Its decision.
    pub evaluation: Evaluation,
}

/// The requests of a multipart upload, decided: the worst of them, twice.
#[derive(Debug, Clone)]
pub struct Parts {
    /// Each request with the upload headers: it differs from a single `PutObject` only where AWS documents
    /// it (the conditional-write headers, `s3:ObjectCreationOperation`, the client's payload values). Not
    /// allowed: the multipart upload is denied.
    pub documented: PartDecision,
    /// `UploadPart` and `CompleteMultipartUpload` without the upload headers: a policy keyed on a header
    /// may then fail them (the catalog marks this an inference: a warning).
    pub inferred: PartDecision,
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
            // Every request of a multipart upload is decided, for its Allows as well as its Denies; where
            // the upload as a whole is already refused, they add nothing.
            let parts = (matches!(r.target, Target::S3 | Target::Bucket)
                && r.purpose == Purpose::Upload
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

/// The requests of an allowed multipart upload, each decided for every value of `s3:x-amz-content-sha256`
/// it may carry; the worst decision holds, as every request is made.
fn parts(implied: &Implied<'_>, r: &ImpliedRequest, policies: &PolicySet) -> Parts {
    // The context of a single PutObject, once: each step differs from it only where its shape does.
    let whole = s3_context(implied.snapshot, Shape::PUT_OBJECT, policies);
    let worst = |with_headers: bool| {
        MultipartStep::ALL
            .into_iter()
            .map(|step| decide_step(implied, r, policies, &whole, step, with_headers))
            .reduce(|worst, next| {
                if severity(&next.evaluation) > severity(&worst.evaluation) {
                    next
                } else {
                    worst
                }
            })
    };
    let documented = worst(true);
    let inferred = worst(false);
    match (documented, inferred) {
        (Some(documented), Some(inferred)) => Parts {
            documented,
            inferred,
        },
        // `ALL` is not empty: both are always there. Decided as the request itself otherwise.
        _ => {
            let whole = PartDecision {
                step: MultipartStep::Create,
                request: r.request.clone(),
                evaluation: evaluate(&r.request, policies),
            };
            Parts {
                documented: whole.clone(),
                inferred: whole,
            }
        }
    }
}

/// How bad a decision is, for the worst of several requests: a certain denial first, then a missing
/// grant, then a Deny that only may apply (its statements indeterminate), then an allow.
fn severity(evaluation: &Evaluation) -> u8 {
    match evaluation.decision {
        Decision::Allowed => 0,
        Decision::ImplicitDeny => 2,
        Decision::ExplicitDeny => {
            let certain = evaluation
                .layers
                .iter()
                .flat_map(|l| l.statements.iter())
                .any(|r| r.denies() && matches!(r.outcome, StatementOutcome::Applies(_)));
            if certain {
                3
            } else {
                1
            }
        }
    }
}

/// One request of a multipart upload, decided for every value of `s3:x-amz-content-sha256` the client
/// model gives it (only when a policy tests the key and the check does not give it).
fn decide_step(
    implied: &Implied<'_>,
    r: &ImpliedRequest,
    policies: &PolicySet,
    whole: &iam_policy::Context,
    step: MultipartStep,
    with_headers: bool,
) -> PartDecision {
    let s = implied.snapshot;
    let shape = step.shape(with_headers);
    // The implied request's context (with what its side set: an access point's keys, the resource account),
    // changed only where this step differs from a single PutObject: its headers, its conditional-write keys,
    // `s3:ObjectCreationOperation`, its payload value.
    let shaped = s3_context(s, shape, policies);
    let mut context = (*r.request.context).clone();
    let keys: Vec<String> = whole
        .entries()
        .map(|e| e.key.to_string())
        .chain(whole.unknown_keys().map(str::to_owned))
        .chain(shaped.entries().map(|e| e.key.to_string()))
        .chain(shaped.unknown_keys().map(str::to_owned))
        .collect();
    for key in keys {
        let same =
            whole.get(&key) == shaped.get(&key) && whole.unknown(&key) == shaped.unknown(&key);
        if same {
            continue;
        }
        context.remove(&key);
        match (shaped.get(&key), shaped.unknown(&key)) {
            (Some(entry), _) => context.insert(key, entry.value.clone()),
            (None, Some(Unknown::Value)) => context.insert_unknown(key),
            (None, Some(Unknown::Presence)) => context.insert_unknown_presence(key),
            (None, None) => {}
        }
    }
    let request = Request {
        context: std::sync::Arc::new(context),
        ..r.request.clone()
    };
    let key = crate::client::CONTENT_SHA256;
    let settled = s.request.context.contains_key(key)
        || !super::request::tests_key(policies, crate::client::CONTENT_SHA256);
    let mut worst = PartDecision {
        step,
        evaluation: evaluate(&request, policies),
        request: request.clone(),
    };
    for value in s
        .request
        .client
        .content_sha256(shape.body)
        .iter()
        .filter(|_| !settled)
    {
        let mut context = (*request.context).clone();
        context.insert(key, iam_policy::ContextValue::One((*value).to_owned()));
        let candidate = Request {
            context: std::sync::Arc::new(context),
            ..request.clone()
        };
        let evaluation = evaluate(&candidate, policies);
        if severity(&evaluation) > severity(&worst.evaluation) {
            worst = PartDecision {
                step,
                request: candidate,
                evaluation,
            };
        }
    }
    worst
}

impl Decided<'_> {
    /// The request as decided.
    pub fn request(&self) -> &Request {
        self.undecided_client
            .as_ref()
            .unwrap_or(&self.implied.request)
    }
}
