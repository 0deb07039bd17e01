//! Causes of a missing grant: no Allow in the identity policies, the resource policy, the boundary or
//! session policy, an SCP or RCP level, or the VPC endpoint policy, with the near misses (statements that
//! would grant but for one element) that explain it.

use super::super::acl;
use super::super::causes::{Cause, CauseId};
use super::super::remediation::Remediation;
use super::super::request::Purpose;
use super::super::snapshot::SnapshotLayer;
use super::fixes::{grant, patched_near_miss, replace_edit, request_fix};
use super::keys::{bucket_condition_id, general_condition_id, kms_condition_id};
use super::near_miss::{near_misses, NearMiss};
use super::{layer_of, pointer, statement_name, Evaluated};
use iam_policy::model::{Effect, PrincipalEntry, Statement};
use iam_policy::outcome::{Mismatch, StatementOutcome, Uncertain};
use iam_policy::trace::explain;
use iam_policy::{Layer, Principal};
use serde_json::json;

pub(super) fn near_miss_message(e: &Evaluated<'_>, miss: &NearMiss<'_>) -> String {
    let detail = explain(
        e.policies,
        e.request,
        &miss.at,
        Some(Effect::Allow),
        miss.mismatch,
    )
    .map(|d| d.message);
    format!(
        "{} would allow {}, but {}",
        statement_name(e.policies, &miss.at),
        e.purpose.action(),
        detail.unwrap_or_else(|| "one of its elements does not match".to_owned())
    )
}

/// A cause for a near miss, with its id chosen by layer and condition key.
pub(super) fn near_miss_cause(e: &Evaluated<'_>, miss: &NearMiss<'_>, id: CauseId) -> Cause {
    let mut fixes = Vec::new();
    if let Mismatch::Condition { clause } = miss.mismatch {
        if let Some(condition) = miss.statement.conditions.get(clause as usize) {
            fixes.extend(request_fix(e, condition, Effect::Allow));
        }
    }
    let patch = patched_near_miss(e, miss);
    let what = match miss.mismatch {
        Mismatch::Condition { .. } => "relax its condition to admit the request",
        Mismatch::Resource => "extend its `Resource`",
        Mismatch::Principal => {
            "name the caller's role ARN as principal (or use `aws:PrincipalArn`)"
        }
    };
    let edit = patch
        .as_ref()
        .and_then(|p| replace_edit(e, &miss.at, std::slice::from_ref(p)));
    fixes.push(
        Remediation::policy(
            format!("in {}, {what}", statement_name(e.policies, &miss.at)),
            patch,
        )
        .with_edit(edit),
    );
    Cause::error(
        id,
        layer_of(e, miss.at.layer),
        e.purpose.action(),
        near_miss_message(e, miss),
    )
    .at(Some(pointer(e.policies, &miss.at)))
    .fix(fixes)
}

/// No identity statement allows: near misses by resource or condition, else the plain gap.
pub(super) fn identity_gap(e: &Evaluated<'_>) -> Vec<Cause> {
    let kms = e.purpose.is_kms();
    let misses = near_misses(e, Layer::Identity);
    let mut causes: Vec<Cause> = misses
        .iter()
        .filter(|m| m.mismatch != Mismatch::Principal)
        .map(|miss| near_miss_cause(e, miss, near_miss_id(miss, kms)))
        .collect();
    if causes.is_empty() {
        causes.push(no_identity_allow(e));
    }
    // Same account: a bucket policy that names only the account delegates to IAM and grants nothing.
    if e.same_account && !kms {
        causes.extend(account_principal_same_account(e));
    }
    causes
}

/// The cause of an identity statement that missed by its resource or a condition.
fn near_miss_id(miss: &NearMiss<'_>, kms: bool) -> CauseId {
    match (miss.mismatch, kms) {
        (Mismatch::Resource, true) => CauseId::KmsIdentityNoAllow,
        (Mismatch::Resource, false) => CauseId::IdentityWrongResourceArn,
        (Mismatch::Condition { .. }, _) => {
            let key = miss.condition_key();
            let specific = if kms {
                kms_condition_id(key)
            } else {
                general_condition_id(key)
            };
            specific.unwrap_or(if kms {
                CauseId::KmsIdentityNoAllow
            } else {
                CauseId::IdentityConditionUnmet
            })
        }
        (Mismatch::Principal, _) => CauseId::IdentityNoAllow,
    }
}

/// No identity statement comes near: the plain gap, by purpose, with the grant that closes it (and, for an
/// ACL or tags, the upload without them). Not definite while an Allow statement with errors might allow.
fn no_identity_allow(e: &Evaluated<'_>) -> Cause {
    let kms = e.purpose.is_kms();
    let action = e.purpose.action();
    let id = match e.purpose {
        _ if kms => CauseId::KmsIdentityNoAllow,
        Purpose::Acl => CauseId::IdentityNoPutObjectAcl,
        Purpose::Tagging => CauseId::IdentityNoPutObjectTagging,
        Purpose::Retention | Purpose::LegalHold => CauseId::IdentityNoObjectLockPermission,
        _ => CauseId::IdentityNoAllow,
    };
    let principal = &e.snapshot.request.principal_arn;
    let why = if e.same_account {
        "and the resource policy does not grant it either"
    } else {
        "and a request from another account needs an identity-based Allow as well as a resource-policy Allow"
    };
    let mut fixes = Vec::new();
    if e.purpose == Purpose::Acl {
        fixes.push(Remediation::upload(
            "send no ACL header",
            &e.snapshot.request,
            super::super::headers::clear_acl,
        ));
    }
    if e.purpose == Purpose::Tagging {
        fixes.push(Remediation::upload(
            "upload without tags and tag later",
            &e.snapshot.request,
            |u| u.tags.clear(),
        ));
    }
    fixes.push(grant(
        e,
        Layer::Identity,
        format!("attach an identity-based policy to `{principal}` that allows {action}"),
    ));
    let broken: Vec<String> = e
        .evaluation
        .layer(Layer::Identity)
        .statements
        .iter()
        .filter(|r| {
            r.outcome == StatementOutcome::Indeterminate(Uncertain::Errors)
                && r.effect == Some(Effect::Allow)
        })
        .map(|r| statement_name(e.policies, &r.at))
        .collect();
    let mut message = format!(
        "no identity-based policy of `{principal}` allows {action} on `{}` {why}",
        e.request.resource
    );
    if !broken.is_empty() {
        message.push_str(&format!(
            "; statement {} has errors and might allow it once fixed",
            broken.join(", ")
        ));
    }
    let mut cause = Cause::error(id, SnapshotLayer::Identity, action, message).fix(fixes);
    cause.definite = broken.is_empty();
    cause
}

/// A same-account bucket policy that grants only the account: it delegates to IAM and grants nothing.
fn account_principal_same_account(e: &Evaluated<'_>) -> Option<Cause> {
    let account_only = e
        .evaluation
        .layer(Layer::ResourcePolicy)
        .statements
        .iter()
        .any(|s| {
            s.allows()
                && matches!(
                    s.outcome,
                    StatementOutcome::Applies(iam_policy::outcome::PrincipalMatch::Account)
                )
        });
    account_only.then(|| {
        Cause::error(
                CauseId::BucketPolicyAccountPrincipalSameAccount,
                SnapshotLayer::BucketPolicy,
                e.purpose.action(),
                "the bucket policy grants the account, which only delegates to IAM: in the same account that grants nothing without an identity-based Allow".to_owned(),
            )
            .fix([grant(
                e,
                Layer::ResourcePolicy,
                "name the role ARN in the bucket policy, or grant the role in IAM",
            )])
    })
}

/// Whether a principal mismatch is worth reporting: the statement names something close to the caller.
pub(super) fn close_principal(statement: &Statement, caller: &Principal) -> bool {
    let Some(element) = &statement.principal else {
        return false;
    };
    let (account, role) = match caller {
        Principal::RoleSession { account, role, .. } => (account.as_str(), Some(role.as_str())),
        Principal::User { account, name, .. } => (account.as_str(), Some(name.as_str())),
        _ => return false,
    };
    element.entries.iter().any(|entry| match entry {
        PrincipalEntry::UniqueId(_) => true,
        PrincipalEntry::Role {
            account: a, name, ..
        } => a == account || Some(name.as_str()) == role,
        PrincipalEntry::RoleSession {
            account: a,
            role: r,
            ..
        } => a == account || Some(r.as_str()) == role,
        PrincipalEntry::User { arn } => arn.contains(account),
        _ => false,
    })
}

/// Near misses in the resource policy (bucket or key): condition, resource, close principal.
pub(super) fn resource_near_misses(e: &Evaluated<'_>, only_specific: bool) -> Vec<Cause> {
    let kms = e.purpose.is_kms();
    near_misses(e, Layer::ResourcePolicy)
        .iter()
        .filter_map(|miss| {
            let id = match miss.mismatch {
                Mismatch::Condition { .. } => {
                    let key = miss.condition_key();
                    if kms {
                        kms_condition_id(key)
                            .or((!only_specific).then_some(CauseId::KmsKeyPolicyNoAllow))?
                    } else {
                        bucket_condition_id(key)
                            .or((!only_specific).then_some(CauseId::BucketPolicyExplicitDeny))?
                    }
                }
                Mismatch::Resource if kms => return None,
                Mismatch::Resource => CauseId::BucketPolicyResourceMismatch,
                Mismatch::Principal => {
                    if !close_principal(miss.statement, &e.request.principal) {
                        return None;
                    }
                    let stale = miss.statement.principal.as_ref().is_some_and(|p| {
                        p.entries
                            .iter()
                            .any(|en| matches!(en, PrincipalEntry::UniqueId(_)))
                    });
                    match (stale, kms) {
                        (true, _) => CauseId::BucketPolicyPrincipalStaleUniqueId,
                        (false, true) => return None,
                        (false, false) => CauseId::BucketPolicyPrincipalMismatch,
                    }
                }
            };
            Some(near_miss_cause(e, miss, id))
        })
        .collect()
}

/// The resource policy lacks an Allow (cross-account, anonymous, key policies).
pub(super) fn resource_gap(e: &Evaluated<'_>) -> Vec<Cause> {
    let kms = e.purpose.is_kms();
    let mut causes = resource_near_misses(e, false);
    if causes.is_empty() {
        let action = e.purpose.action();
        // The bucket may grant the upload through its ACL, and the grant be ignored.
        let ignored = match e.purpose {
            Purpose::Upload if !kms => acl::ignored_grant(e.snapshot),
            p if p.is_read() => read_gap(e),
            _ => None,
        };
        let (id, message) = match (kms, e.same_account, ignored) {
            (true, true, _) => (
                CauseId::KmsKeyPolicyNoAllow,
                format!(
                    "the key policy of `{}` neither allows `{}` {action} nor delegates to IAM with the account principal (without it, IAM policies for the key are ineffective)",
                    e.request.resource, e.snapshot.request.principal_arn
                ),
            ),
            (true, false, _) => (
                CauseId::KmsCrossAccountKeyPolicyMissing,
                format!(
                    "the key `{}` belongs to another account and its key policy does not allow account `{}` or the role {action}",
                    e.request.resource,
                    e.request.principal.account().unwrap_or_default()
                ),
            ),
            (false, _, _) if e.purpose == Purpose::Acl => (
                CauseId::IdentityNoPutObjectAcl,
                format!("the bucket policy does not allow {action} to `{}`, which a cross-account upload with an ACL needs", e.snapshot.request.principal_arn),
            ),
            (false, _, Some(ignored)) => ignored,
            (false, _, None) => (
                CauseId::BucketPolicyNoAllowCrossAccount,
                format!(
                    "the caller is in account `{}` and the bucket in `{}`: the bucket policy must allow {action} too, and no statement does",
                    e.request.principal.account().unwrap_or_default(),
                    e.request.resource_account.as_deref().unwrap_or("?")
                ),
            ),
        };
        let target = if kms { "key policy" } else { "bucket policy" };
        // An ACL that could not be read might grant the upload: the missing grant is then not certain.
        let acl_unread = id == CauseId::BucketPolicyNoAllowCrossAccount
            && e.snapshot
                .unavailable
                .iter()
                .any(|u| u.layer == SnapshotLayer::BucketAcl);
        // A grant to a canonical user who may be the caller's account: not known either way.
        let maybe_grant = (id == CauseId::BucketPolicyNoAllowCrossAccount
            && e.purpose == Purpose::Upload)
            .then(|| crate::acl::undecided_upload_grant(e.snapshot))
            .flatten();
        let message = match (acl_unread, &maybe_grant) {
            (true, _) => format!("{message}; the bucket's ACL could not be read and might grant it"),
            (false, Some(grantee)) => format!("{message}; the bucket's ACL grants WRITE to canonical user `{grantee}`, and the caller account's canonical id is not known, so that grant may be the caller's (let the operator read it: `s3:ListBuckets` in the caller's account answers with its canonical id)"),
            (false, None) => message,
        };
        let acl_unread = acl_unread || maybe_grant.is_some();
        let fix = format!(
            "add a statement for the caller to the {target} (in the resource owner's account)"
        );
        let remediation = if id == CauseId::GetObjectOwnedByOtherAccount {
            super::object_fixes::owned_by_other_account(e)
        } else {
            vec![grant(e, Layer::ResourcePolicy, fix)]
        };
        let layer = if id == CauseId::GetObjectOwnedByOtherAccount {
            SnapshotLayer::Object
        } else {
            layer_of(e, Layer::ResourcePolicy)
        };
        let mut cause = Cause::error(id, layer, action, message).fix(remediation);
        cause.definite = !acl_unread;
        causes.push(cause);
    }
    causes
}

/// A permissions boundary or session policy lacks an Allow.
pub(super) fn bounded(e: &Evaluated<'_>, layer: Layer) -> Vec<Cause> {
    let kms = e.purpose.is_kms();
    let action = e.purpose.action();
    let (id, name) = match (layer, kms) {
        (_, true) => (
            CauseId::KmsBoundaryOrSessionNoKms,
            if layer == Layer::PermissionBoundary {
                "permissions boundary"
            } else {
                "session policy"
            },
        ),
        (Layer::PermissionBoundary, false) => {
            (CauseId::PermissionBoundaryNoAllow, "permissions boundary")
        }
        _ => (CauseId::SessionPolicyNoAllow, "session policy"),
    };
    let mut causes = vec![Cause::error(
        id,
        layer_of(e, layer),
        action,
        format!(
            "the {name} does not allow {action} on `{}`",
            e.request.resource
        ),
    )
    .fix([grant(e, layer, format!("add {action} to the {name}"))])];
    let identity_allows =
        e.evaluation.layer(Layer::Identity).outcome == iam_policy::LayerOutcome::Allowed;
    let role_grant = e
        .evaluation
        .layer(Layer::ResourcePolicy)
        .statements
        .iter()
        .any(|s| s.allows());
    if e.same_account && !identity_allows && role_grant && !kms {
        causes.push(
            Cause::error(
                CauseId::SameAccountRoleArnGrantBounded,
                SnapshotLayer::BucketPolicy,
                action,
                format!("the bucket policy grants the role ARN, and such grants stay limited by the {name}, which does not allow {action}"),
            )
            .fix([Remediation::policy(
                format!("allow {action} in the {name}, or grant with `\"Principal\": \"*\"` and an `aws:PrincipalArn` condition (not limited by implicit denies)"),
                None,
            )]),
        );
    }
    causes
}

/// An SCP level without an Allow (an RCP level always holds `RCPFullAWSAccess`).
pub(super) fn scp_no_allow(e: &Evaluated<'_>) -> Cause {
    let layer = Layer::Scp;
    let result = e.evaluation.layer(layer);
    let level = result
        .levels
        .iter()
        .position(|o| *o != iam_policy::LayerOutcome::Allowed)
        .unwrap_or(0);
    let action = e.purpose.action();
    Cause::error(
        CauseId::ScpNoAllow,
        layer_of(e, layer),
        action,
        format!("no service control policies at level {level} (0 = organization root) of the path allow {action}; every level must"),
    )
    .fix([Remediation::policy(
        format!("attach an Allow for {action} (or `FullAWSAccess`) at level {level}"),
        Some(json!({"Effect": "Allow", "Action": [action], "Resource": "*"})),
    )])
}

/// The VPC endpoint policy lacks an Allow.
pub(super) fn vpce_no_allow(e: &Evaluated<'_>) -> Cause {
    let action = e.purpose.action();
    let endpoint = e
        .snapshot
        .vpc_endpoint
        .as_ref()
        .map_or("the VPC endpoint", |v| v.id.as_str())
        .to_owned();
    let misses = near_misses(e, Layer::VpcEndpointPolicy);
    let detail = misses
        .first()
        .map(|m| format!("; closest: {}", near_miss_message(e, m)))
        .unwrap_or_default();
    Cause::error(
        CauseId::VpcePolicyNoAllow,
        SnapshotLayer::VpcEndpointPolicy,
        action,
        format!("the policy of VPC endpoint `{endpoint}` does not allow {action} on `{}`{detail}", e.request.resource),
    )
    .fix([Remediation {
        command: Some(format!("aws ec2 modify-vpc-endpoint --vpc-endpoint-id {endpoint} --policy-document file://endpoint-policy.json")),
        ..grant(
            e,
            Layer::VpcEndpointPolicy,
            format!("add a statement allowing {action} on the bucket to the endpoint policy"),
        )
    }])
}

/// Why a download lacks a resource grant, when its object says more than "the bucket policy does not grant
/// it": the object belongs to another account (`GET_OBJECT_OWNED_BY_OTHER_ACCOUNT`), its only grant is a
/// public ACL grant S3 ignores (`GET_PUBLIC_ACL_IGNORED`), or the caller uploads to the bucket of another
/// account, whose owner owns what it uploads (`GET_UPLOADER_LOST_ACCESS_AFTER_OWNERSHIP_TRANSFER`).
fn read_gap(e: &Evaluated<'_>) -> Option<(CauseId, String)> {
    let s = e.snapshot;
    let key = s.request.key();
    if let Some(owner) = acl::foreign_owner(s) {
        return Some((
            CauseId::GetObjectOwnedByOtherAccount,
            format!("object `{key}` belongs to the account of canonical user `{owner}`, not to the bucket owner: bucket-policy grants do not reach it, and its ACL grants `{}` nothing", s.request.principal_arn),
        ));
    }
    if let Some(message) = acl::ignored_object_grant(s) {
        return Some((CauseId::GetPublicAclIgnored, message));
    }
    let writes = s.request.actions().iter().any(|a| a == "PutObject");
    let owned_by_bucket = s
        .bucket
        .as_ref()
        .is_some_and(|b| b.ownership.as_deref() != Some("ObjectWriter") && b.ownership.is_some());
    (writes && !e.same_account && owned_by_bucket).then(|| {
        (
            CauseId::GetUploaderLostAccessAfterOwnershipTransfer,
            format!(
                "`{}` may upload to bucket `{}` but not read back: what it uploads belongs to the bucket owner (Object Ownership `{}`), and the bucket policy does not grant it s3:GetObject",
                s.request.principal_arn,
                s.request.bucket,
                s.bucket.as_ref().and_then(|b| b.ownership.as_deref()).unwrap_or_default()
            ),
        )
    })
}
