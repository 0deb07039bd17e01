//! Stage 5 of the diagnosis: from the decided requests to causes. For one request, the engine's
//! classification says which layer failed and how; its recorded statements (denying ones, and near misses:
//! Allows whose action matched but another element did not) say which statement and which condition. Each
//! becomes a catalog cause with remediations (`denies`, `gaps`, `keys`, `fixes`). For the check, the rules
//! that are not policies are added (`s3`, `kms`).

use super::causes::Severity;
use super::causes::{Cause, CauseId, StatementPointer};
use super::decide::Decided;
use super::implied::{Implied, KeyUse, Target};
use super::kms;
use super::remediation::Remediation;
use super::request::only_bucket_owner_full_control;
use super::request::Purpose;
use super::s3;
use super::snapshot::{Snapshot, SnapshotLayer};
use super::verdict::{EvaluationSummary, LayeredStatement, RequestDecision};
use iam_policy::outcome::StatementOutcome;
use iam_policy::outcome::Uncertain;
use iam_policy::Decision;
use iam_policy::{Classification, Evaluation, Layer, PolicySet, Request, StatementRef};

mod access_points;
mod denies;
mod exemption;
mod fixes;
mod gaps;
mod keys;
mod multipart;
mod near_miss;
mod object_fixes;

use denies::{deny_causes, unknown_resource_cause, unknown_value_cause};
pub use fixes::find_document;
use gaps::{
    bounded, identity_gap, resource_gap, resource_near_misses, scp_no_allow, vpce_no_allow,
};
use keys::purpose_id;

/// One evaluated request, with everything attribution needs.
pub struct Evaluated<'a> {
    /// The snapshot (after optimistic filling).
    pub snapshot: &'a Snapshot,
    /// Why the request is made.
    pub purpose: Purpose,
    /// The engine's request.
    pub request: &'a Request,
    /// The engine's policies.
    pub policies: &'a PolicySet,
    /// The evaluation.
    pub evaluation: &'a Evaluation,
    /// The caller and the resource are in one account.
    pub same_account: bool,
    /// Which resource the request is decided on.
    pub side: Side,
}

/// The resource a request is decided on: it says what the resource-policy layer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The bucket, addressed by its name.
    Bucket,
    /// An access point the request is addressed to.
    AccessPoint,
    /// The bucket behind that access point (its policy must grant or delegate too).
    BucketBehindAccessPoint,
    /// The KMS key.
    Key,
}

impl Side {
    /// The side of an implied request.
    pub fn of(implied: &Implied<'_>, target: Target) -> Self {
        match target {
            Target::Kms => Self::Key,
            Target::Bucket => Self::BucketBehindAccessPoint,
            Target::S3 if implied.bucket_policies.is_some() => Self::AccessPoint,
            Target::S3 | Target::Object => Self::Bucket,
        }
    }
}

impl Evaluated<'_> {
    /// The ARN pattern of every object the request's resource stands for: through an access point, its
    /// objects; else the bucket's.
    pub fn objects_arn(&self) -> String {
        match (self.side, crate::access_point::used(self.snapshot)) {
            (Side::AccessPoint, Some(ap)) => ap.objects_arn(),
            _ => self.snapshot.request.objects_arn(),
        }
    }
}

/// The snapshot layer of an engine layer, for this kind of request.
pub fn snapshot_layer(layer: Layer, side: Side) -> SnapshotLayer {
    match layer {
        Layer::Identity => SnapshotLayer::Identity,
        Layer::ResourcePolicy => match side {
            Side::Key => SnapshotLayer::KmsKeyPolicy,
            Side::AccessPoint => SnapshotLayer::AccessPointPolicy,
            Side::Bucket | Side::BucketBehindAccessPoint => SnapshotLayer::BucketPolicy,
        },
        Layer::Scp => SnapshotLayer::Scp,
        Layer::Rcp => SnapshotLayer::Rcp,
        Layer::PermissionBoundary => SnapshotLayer::PermissionsBoundary,
        Layer::SessionPolicy => SnapshotLayer::SessionPolicy,
        Layer::VpcEndpointPolicy => SnapshotLayer::VpcEndpointPolicy,
    }
}

/// A pointer to a statement, for output.
pub fn pointer(policies: &PolicySet, at: &StatementRef) -> StatementPointer {
    StatementPointer {
        policy_id: policies
            .policy(at)
            .map(|p| p.id.to_string())
            .unwrap_or_default(),
        sid: policies.statement(at).and_then(|s| s.sid.clone()),
        statement_index: at.statement,
    }
}

fn statement_name(policies: &PolicySet, at: &StatementRef) -> String {
    pointer(policies, at).to_string()
}

/// Every cause of one evaluated request that is not allowed.
pub fn attribute(e: &Evaluated<'_>) -> Vec<Cause> {
    let mut causes = match e.evaluation.classification {
        Classification::Allowed(_) => return Vec::new(),
        Classification::ExplicitDeny => deny_causes(e),
        Classification::ScpNoAllow => vec![scp_no_allow(e)],
        Classification::VpcEndpointNoAllow => vec![vpce_no_allow(e)],
        Classification::NoAllow => {
            let mut c = identity_gap(e);
            c.extend(resource_near_misses(e, true));
            c
        }
        Classification::IdentityNoAllow => identity_gap(e),
        Classification::ResourcePolicyNoAllow => resource_gap(e),
        Classification::PermissionBoundaryNoAllow => bounded(e, Layer::PermissionBoundary),
        Classification::SessionPolicyNoAllow => bounded(e, Layer::SessionPolicy),
    };
    // A key-policy statement that names the caller and fails only on its encryption context (object ARNs
    // while a Bucket Key makes the context the bucket ARN, or the reverse) is the cause, not a missing IAM
    // grant: fixing the context fixes the request.
    if e.purpose.is_kms()
        && matches!(
            e.evaluation.classification,
            Classification::NoAllow | Classification::IdentityNoAllow
        )
    {
        let context: Vec<Cause> = resource_near_misses(e, true)
            .into_iter()
            .filter(|c| c.id == CauseId::KmsEncryptionContextMismatch)
            .collect();
        if !context.is_empty() {
            causes = context;
        }
    }
    // An Allow that holds or not depending on a value the check does not give: the gap may not be one.
    if !matches!(e.evaluation.classification, Classification::ExplicitDeny) {
        let uncertain: Vec<Cause> = e
            .evaluation
            .layers
            .iter()
            .flat_map(|l| l.statements.iter())
            .filter(|r| r.effect == Some(iam_policy::Effect::Allow))
            .filter_map(|r| match r.outcome {
                StatementOutcome::Indeterminate(Uncertain::UnknownValue { clause }) => {
                    let statement = e.policies.statement(&r.at)?;
                    unknown_value_cause(e, &r.at, statement, clause, "allow")
                }
                StatementOutcome::Indeterminate(Uncertain::UnknownResource) => {
                    let statement = e.policies.statement(&r.at)?;
                    unknown_resource_cause(e, &r.at, statement, "allow")
                }
                _ => None,
            })
            .collect();
        if !uncertain.is_empty() {
            for cause in &mut causes {
                cause.definite = false;
            }
            causes.extend(uncertain);
        }
    }
    access_point_ids(e, &mut causes);
    // The purpose can name the cause better than the layer.
    for cause in &mut causes {
        if let Some(id) = purpose_id(e.purpose, cause.id) {
            cause.id = id;
            if id == CauseId::KmsNoDecryptForMultipart {
                cause.remediation.insert(
                    0,
                    Remediation::request(
                        "workaround only: keep uploads single-part (below 5 GB) by raising the CLI's multipart threshold; the fix is to allow kms:Decrypt",
                        Some("aws configure set default.s3.multipart_threshold 5GB".to_owned()),
                    ),
                );
            }
        }
    }
    causes
}

/// Through an access point, its policy's causes have ids of their own, and the bucket behind it lacking a
/// grant is the missing delegation.
fn access_point_ids(e: &Evaluated<'_>, causes: &mut Vec<Cause>) {
    match e.side {
        Side::AccessPoint => {
            let explicit = e.evaluation.classification == Classification::ExplicitDeny;
            for cause in causes.iter_mut() {
                // An undecided statement keeps the id that says so.
                if cause.layer == SnapshotLayer::AccessPointPolicy
                    && cause.id != CauseId::ContextValueUnknown
                {
                    cause.id = if explicit {
                        CauseId::AccessPointPolicyExplicitDeny
                    } else {
                        CauseId::AccessPointPolicyNoAllow
                    };
                }
            }
        }
        Side::BucketBehindAccessPoint
            if e.evaluation.classification != Classification::ExplicitDeny =>
        {
            causes.retain(|c| c.id == CauseId::ContextValueUnknown);
            causes.insert(0, access_points::not_delegated(e));
        }
        Side::Bucket | Side::BucketBehindAccessPoint | Side::Key => {}
    }
}

fn layer_of(e: &Evaluated<'_>, layer: Layer) -> SnapshotLayer {
    snapshot_layer(layer, e.side)
}

/// What attribution found for the whole check: one summary per decided request (in order) and the causes,
/// in the order found (the rank stage orders them).
#[derive(Debug, Clone)]
pub struct Attributed {
    /// One per implied request that the diagnosis reports.
    pub evaluations: Vec<EvaluationSummary>,
    /// Every cause, unranked.
    pub causes: Vec<Cause>,
}

fn reported(decision: Decision) -> RequestDecision {
    match decision {
        Decision::Allowed => RequestDecision::Allowed,
        Decision::ImplicitDeny => RequestDecision::ImplicitDeny,
        Decision::ExplicitDeny => RequestDecision::ExplicitDeny,
    }
}

/// Stage 5: the causes of every decided request, plus the rules that are not IAM policies (Object
/// Ownership, Block Public Access, encryption settings, the KMS key's state and kind).
pub fn attribute_check(implied: &Implied<'_>, decided: &[Decided<'_>]) -> Attributed {
    let s = implied.snapshot;
    let request = &s.request;
    let (mut evaluations, mut causes) = s3_sides(implied, decided);
    causes.extend(access_points::network_origin(implied));
    let bucket_side = implied.policies(Target::Bucket);
    let access_point = crate::access_point::used(s);
    causes.extend(s3::overlay_causes(
        s,
        !implied.same_account,
        s3::ResourcePolicies {
            bucket: bucket_side
                .resource_policies
                .iter()
                .find(|p| &*p.id == crate::documents::BUCKET_POLICY_ID),
            access_point: access_point.and_then(|ap| {
                implied
                    .s3_policies
                    .resource_policies
                    .iter()
                    .find(|p| *p.id == ap.arn)
            }),
        },
    ));
    causes.extend(object_causes(implied));
    match &implied.key {
        None => {}
        Some(KeyUse::NotFound(choice)) => causes.push(
            Cause::error(
                CauseId::KmsKeyNotFoundOrWrongRegion,
                SnapshotLayer::KmsKey,
                "kms:GenerateDataKey",
                format!("KMS key `{}` does not exist (in the caller's account and the bucket's Region, where KMS resolves it)", choice.reference),
            )
            .fix([Remediation::request(
                "reference an existing key by its full ARN, in the bucket's Region",
                None,
            )]),
        ),
        Some(KeyUse::Found {
            choice,
            key,
            same_account,
        }) => {
            let reading = request.actions().iter().any(|a| a == "GetObject");
            let writing = request.actions().iter().any(|a| a == "PutObject");
            let blockers = kms::blockers(s, choice, key, reading, writing);
            // A key that cannot be used at all: its policy details are noise next to that.
            let blocked = !blockers.is_empty();
            causes.extend(blockers);
            for d in decided.iter().filter(|d| d.implied.target == Target::Kms) {
                let purpose = d.implied.purpose;
                let has_grants_for_caller = key
                    .grants
                    .iter()
                    .any(|g| g.grantee_principal == request.principal_arn);
                let mut extra = Vec::new();
                if d.evaluation.decision == Decision::ImplicitDeny && has_grants_for_caller {
                    let operation = purpose.action().trim_start_matches("kms:");
                    extra.push(Cause::error(
                        CauseId::KmsGrantMissingOrConstrained,
                        SnapshotLayer::KmsGrants,
                        purpose.action(),
                        format!("the caller has grants on `{}`, but none allows `{operation}` with this encryption context", key.arn),
                    ));
                }
                let (summary, found) = summarize(implied, d, *same_account, extra);
                // A single-part upload makes no kms:Decrypt call: only its warning is reported.
                let large_file = purpose == Purpose::KmsDecryptLargeFile;
                if !large_file {
                    evaluations.push(summary);
                }
                if blocked {
                    continue;
                }
                causes.extend(found.into_iter().map(|mut cause| {
                    if large_file {
                        cause.severity = Severity::Warning;
                        cause.message.push_str(" (a single-part upload does not need it, but `aws s3 cp` and SDK transfer managers switch to multipart for large files, which does)");
                    }
                    cause
                }));
            }
        }
    }
    Attributed {
        evaluations,
        causes,
    }
}

/// The S3 requests' summaries and causes: the caller's request (to the bucket, or to the access point) and,
/// through an access point, the bucket's side of each.
fn s3_sides(
    implied: &Implied<'_>,
    decided: &[Decided<'_>],
) -> (Vec<EvaluationSummary>, Vec<Cause>) {
    let request = &implied.snapshot.request;
    let mut evaluations = Vec::new();
    let mut causes = Vec::new();
    for d in decided.iter().filter(|d| {
        matches!(
            d.implied.target,
            Target::S3 | Target::Bucket | Target::Object
        )
    }) {
        let same_account = d.request().resource_account.as_deref() == implied.principal.account();
        let (mut summary, mut found) = summarize(implied, d, same_account, Vec::new());
        if let Some(parts) = &d.parts {
            let e = Evaluated {
                snapshot: implied.snapshot,
                purpose: d.implied.purpose,
                request: d.request(),
                policies: implied.policies(d.implied.target),
                evaluation: &d.evaluation,
                same_account,
                side: Side::of(implied, d.implied.target),
            };
            let part_causes = multipart::causes(&e, parts);
            if parts.documented.evaluation.decision != Decision::Allowed {
                evaluations.push(part_summary(implied, d, &parts.documented, &part_causes));
            }
            found.extend(part_causes);
        }
        if d.implied.purpose == Purpose::Acl && only_bucket_owner_full_control(request) {
            // AWS's own bucket-owner-full-control examples grant only s3:PutObject: a warning, not a denial.
            summary.advisory = true;
            for cause in &mut found {
                cause.severity = Severity::Warning;
            }
        }
        evaluations.push(summary);
        causes.extend(found);
    }
    (evaluations, causes)
}

/// The statements that decided a request; for an implicit deny, the near misses its causes name.
fn determining(
    evaluation: &Evaluation,
    policies: &PolicySet,
    side: Side,
    causes: &[Cause],
) -> Vec<LayeredStatement> {
    let mut determining: Vec<LayeredStatement> = evaluation
        .determining
        .iter()
        .map(|at| LayeredStatement {
            layer: snapshot_layer(at.layer, side),
            statement: pointer(policies, at),
        })
        .collect();
    if evaluation.decision == Decision::ImplicitDeny {
        determining.extend(causes.iter().filter_map(|c| {
            c.statement.clone().map(|statement| LayeredStatement {
                layer: c.layer,
                statement,
            })
        }));
    }
    determining
}

/// The summary of a multipart upload's request that is denied: `s3:PutObject` again, named by its request.
fn part_summary(
    implied: &Implied<'_>,
    d: &Decided<'_>,
    part: &crate::decide::PartDecision,
    causes: &[Cause],
) -> EvaluationSummary {
    let policies = implied.policies(d.implied.target);
    let side = Side::of(implied, d.implied.target);
    let determining = determining(&part.evaluation, policies, side, causes);
    EvaluationSummary {
        action: "s3:PutObject".to_owned(),
        request: Some(part.step.name().to_owned()),
        resource: part.request.resource.clone(),
        decision: reported(part.evaluation.decision),
        determining_statements: determining,
        missing_context_keys: part.evaluation.missing_context_keys.clone(),
        advisory: false,
    }
}

/// One decided request: its summary for the output and its causes.
fn summarize(
    implied: &Implied<'_>,
    d: &Decided<'_>,
    same_account: bool,
    extra: Vec<Cause>,
) -> (EvaluationSummary, Vec<Cause>) {
    let policies = implied.policies(d.implied.target);
    let purpose = d.implied.purpose;
    let evaluation = &d.evaluation;
    let side = Side::of(implied, d.implied.target);
    let evaluated = Evaluated {
        snapshot: implied.snapshot,
        purpose,
        request: d.request(),
        policies,
        evaluation,
        same_account,
        side,
    };
    let mut found = attribute(&evaluated);
    if let Some(open) = &d.without_denies {
        // Report every cause: what would still fail once the denies are gone.
        let beyond = Evaluated {
            policies: &open.policies,
            evaluation: &open.evaluation,
            ..evaluated
        };
        // A layer with a statement that could not be read (a document cut off, not JSON) may hold the grant
        // that is missing: what would fail there is not certain.
        let unreadable: Vec<SnapshotLayer> = evaluation
            .layers
            .iter()
            .flat_map(|l| l.statements.iter())
            .filter(|r| {
                matches!(
                    r.outcome,
                    StatementOutcome::Indeterminate(Uncertain::Errors)
                )
            })
            .map(|r| snapshot_layer(r.at.layer, side))
            .collect();
        for mut cause in attribute(&beyond) {
            if !found
                .iter()
                .any(|f| f.id == cause.id && f.statement == cause.statement)
            {
                if unreadable.contains(&cause.layer) {
                    cause.definite = false;
                }
                found.push(cause);
            }
        }
    }
    found.extend(extra);
    let only_broken = evaluation.decision == Decision::ExplicitDeny
        && evaluation
            .layers
            .iter()
            .flat_map(|l| l.statements.iter())
            .filter(|r| r.denies())
            .all(|r| matches!(r.outcome, StatementOutcome::Indeterminate(_)));
    // An implicit deny with an Allow that may hold, on a value the check does not give.
    let uncertain_allow = evaluation.decision == Decision::ImplicitDeny
        && evaluation
            .layers
            .iter()
            .flat_map(|l| l.statements.iter())
            .any(|r| {
                r.effect == Some(iam_policy::Effect::Allow)
                    && matches!(
                        r.outcome,
                        StatementOutcome::Indeterminate(
                            Uncertain::UnknownValue { .. } | Uncertain::UnknownResource
                        )
                    )
            });
    let determining = determining(evaluation, policies, side, &found);
    let summary = EvaluationSummary {
        action: purpose.action().to_owned(),
        request: None,
        resource: d.request().resource.clone(),
        decision: if only_broken || uncertain_allow {
            RequestDecision::Unknown
        } else {
            reported(evaluation.decision)
        },
        determining_statements: determining,
        missing_context_keys: evaluation.missing_context_keys.clone(),
        advisory: false,
    };
    (summary, found)
}

/// What the object a download reads decides, beside the policies: an archived object without a restored copy
/// (403 `InvalidObjectState`), and a missing one the principal may not list the bucket for (403 instead of
/// 404). The `s3:ListBucket` request is decided here, as the one question a missing object asks.
fn object_causes(implied: &Implied<'_>) -> Vec<Cause> {
    let s = implied.snapshot;
    let Some(object) = s.object.as_ref() else {
        return Vec::new();
    };
    if !s.request.actions().iter().any(|a| a == "GetObject") {
        return Vec::new();
    }
    let bucket = &s.request.bucket;
    let key = s.request.key();
    if let Some(list) = &implied.list_request {
        let listed = iam_policy::evaluate(list, implied.policies(Target::S3));
        if listed.decision == iam_policy::Decision::Allowed {
            return Vec::new();
        }
        return vec![Cause::error(
            CauseId::GetMissingObjectWithoutListbucket,
            SnapshotLayer::Object,
            "s3:GetObject",
            format!(
                "no object has the key `{key}` in bucket `{bucket}`, and `{}` may not s3:ListBucket the bucket: S3 answers 403 AccessDenied, not 404 NoSuchKey",
                s.request.principal_arn
            ),
        )
        .fix([Remediation::request(
            "check the key: its spelling, prefix and URL encoding",
            Some(format!("aws s3api list-objects-v2 --bucket {bucket} --prefix {key}")),
        )])];
    }
    let archived = matches!(
        object.storage_class.as_deref(),
        Some("GLACIER" | "DEEP_ARCHIVE")
    );
    if archived && object.restored != Some(true) {
        return vec![Cause::error(
            CauseId::GetArchivedObject,
            SnapshotLayer::Object,
            "s3:GetObject",
            format!(
                "object `{key}` is in storage class `{}` and no restored copy is available: S3 answers 403 InvalidObjectState",
                object.storage_class.as_deref().unwrap_or_default()
            ),
        )
        .fix([Remediation::request(
            "restore the object first (it takes minutes to hours), then read it",
            Some(format!(
                "aws s3api restore-object --bucket {bucket} --key {key} --restore-request Days=1"
            )),
        )])];
    }
    Vec::new()
}
