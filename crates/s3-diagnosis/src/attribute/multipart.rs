//! Causes of a multipart upload's own requests (`CreateMultipartUpload`, `UploadPart`,
//! `CompleteMultipartUpload`), which the single `PutObject` the check describes does not show: a request AWS
//! documents as denied is a definite cause naming that request; one denied only if the parts lack the upload
//! headers (an inference) is a warning.

use super::super::causes::{Cause, CauseId};
use super::super::decide::{PartDecision, Parts};
use super::super::remediation::Remediation;
use super::{attribute, pointer, Evaluated, Side};
use iam_policy::model::{Effect, Statement};
use iam_policy::outcome::{Mismatch, StatementOutcome};
use iam_policy::{Decision, PolicySet, StatementRef};

/// Whether a statement tests a conditional-write key (`s3:if-none-match`, `s3:if-match`).
fn conditional(statement: &Statement) -> bool {
    statement
        .conditions
        .iter()
        .any(|c| matches!(c.key_lower.as_str(), "s3:if-none-match" | "s3:if-match"))
}

fn name(policies: &PolicySet, at: &StatementRef) -> String {
    pointer(policies, at)
        .sid
        .unwrap_or_else(|| format!("#{}", at.statement))
}

/// The causes of a multipart upload's requests. `e` is the single request the check describes; `parts`
/// their decisions. Empty when every request is allowed.
pub(super) fn causes(e: &Evaluated<'_>, parts: &Parts) -> Vec<Cause> {
    if parts.documented.evaluation.decision != Decision::Allowed {
        return denied(e, &parts.documented);
    }
    inferred(e.policies, &parts.inferred, e.side)
}

/// A request of the upload is denied as AWS documents it: every cause, each naming the request.
fn denied(e: &Evaluated<'_>, part: &PartDecision) -> Vec<Cause> {
    let step = part.step.name();
    let evaluated = Evaluated {
        request: &part.request,
        evaluation: &part.evaluation,
        ..*e
    };
    // Statements on the conditional-write keys: the request cannot carry them, whatever the client does.
    let mut special = Vec::new();
    for result in part
        .evaluation
        .layers
        .iter()
        .flat_map(|l| l.statements.iter())
    {
        let Some(statement) = e.policies.statement(&result.at) else {
            continue;
        };
        if !conditional(statement) {
            continue;
        }
        let denies = result.denies();
        let misses = result.effect == Some(Effect::Allow)
            && matches!(
                result.outcome,
                StatementOutcome::DoesNotApply(Mismatch::Condition { .. })
            );
        if denies {
            special.push((result.at, conditional_deny(e, &result.at, step)));
        } else if misses && part.evaluation.decision == Decision::ImplicitDeny {
            special.push((result.at, conditional_allow(e, &result.at, step)));
        }
    }
    let mut causes: Vec<Cause> = attribute(&evaluated)
        .into_iter()
        .filter(|c| {
            !special
                .iter()
                .any(|(at, _)| c.statement.as_ref() == Some(&pointer(e.policies, at)))
        })
        .map(|mut c| {
            c.message = format!("{step} of the multipart upload: {}", c.message);
            c
        })
        .collect();
    causes.extend(special.into_iter().map(|(_, c)| c));
    causes
}

/// A conditional-write `Deny` that does not exempt the parts.
fn conditional_deny(e: &Evaluated<'_>, at: &StatementRef, step: &str) -> Cause {
    Cause::error(
        CauseId::BucketPolicyConditionalWrites,
        super::snapshot_layer(at.layer, e.side),
        "s3:PutObject",
        format!(
            "statement `{}` requires a conditional write, and {step} of the multipart upload takes no conditional header (AWS documents that CreateMultipartUpload, UploadPart and UploadPartCopy accept none): the multipart upload fails",
            name(e.policies, at),
        ),
    )
    .at(Some(pointer(e.policies, at)))
    .fix([Remediation::policy(
        "exempt the parts: add `\"Bool\": {\"s3:ObjectCreationOperation\": \"true\"}` to the statement's conditions, so that it applies only to the request that creates the object (PutObject, CompleteMultipartUpload)",
        None,
    )])
}

/// An `Allow` that holds only with a conditional-write header, which the parts cannot send: nothing allows
/// them.
fn conditional_allow(e: &Evaluated<'_>, at: &StatementRef, step: &str) -> Cause {
    let layer = super::snapshot_layer(at.layer, e.side);
    let id = match e.side {
        Side::Bucket | Side::BucketBehindAccessPoint
            if at.layer == iam_policy::Layer::ResourcePolicy =>
        {
            CauseId::BucketPolicyConditionalWrites
        }
        _ => CauseId::IdentityConditionUnmet,
    };
    Cause::error(
        id,
        layer,
        "s3:PutObject",
        format!(
            "statement `{}` allows s3:PutObject only with a conditional-write header, and {step} of the multipart upload cannot send one (AWS documents that CreateMultipartUpload, UploadPart and UploadPartCopy accept none): nothing allows it, so the multipart upload fails",
            name(e.policies, at),
        ),
    )
    .at(Some(pointer(e.policies, at)))
    .fix([Remediation::policy(
        "allow the parts too: add a statement that allows s3:PutObject on the same resources with `\"Bool\": {\"s3:ObjectCreationOperation\": \"false\"}` (CreateMultipartUpload, UploadPart), keeping the conditional-write requirement for the request that creates the object; or upload in one part",
        None,
    )])
}

/// The parts are denied only if they lack the upload headers: the catalog marks that an inference, so a
/// warning for each statement that decides it.
fn inferred(policies: &PolicySet, part: &PartDecision, side: Side) -> Vec<Cause> {
    let step = part.step.name();
    let warning = |at: &StatementRef, what: &str| {
        let keys: Vec<String> = policies
            .statement(at)
            .map(|st| {
                st.conditions
                    .iter()
                    .map(|c| format!("`{}`", c.key))
                    .collect()
            })
            .unwrap_or_default();
        Cause::warning(
            CauseId::MultipartHeaderCondition,
            super::snapshot_layer(at.layer, side),
            "s3:PutObject",
            format!(
                "UploadPart and CompleteMultipartUpload send no upload headers, and statement `{}` {what} s3:PutObject on {}: {step} of a multipart upload may be denied",
                name(policies, at),
                keys.join(", ")
            ),
        )
        .at(Some(pointer(policies, at)))
        .fix([Remediation::policy(
            "write the condition with `...IfExists` plus a separate `Null` check on CreateMultipartUpload/PutObject, or rely on default encryption instead of a header requirement",
            None,
        )])
    };
    match part.evaluation.decision {
        Decision::Allowed => Vec::new(),
        Decision::ExplicitDeny => part
            .evaluation
            .determining
            .iter()
            .map(|at| warning(at, "denies"))
            .collect(),
        Decision::ImplicitDeny => part
            .evaluation
            .layers
            .iter()
            .flat_map(|l| l.statements.iter())
            .filter(|r| {
                r.effect == Some(Effect::Allow)
                    && matches!(
                        r.outcome,
                        StatementOutcome::DoesNotApply(Mismatch::Condition { .. })
                    )
            })
            .map(|r| warning(&r.at, "allows only with a condition that fails for it on"))
            .collect(),
    }
}
