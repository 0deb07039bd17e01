//! Causes of an explicit deny: one per denying statement, named by its layer and the condition key it
//! tests, with the request change and the policy change.

use super::super::causes::{Cause, CauseId};
use super::super::remediation::Remediation;
use super::fixes::{deny_policy_fix, describe_held, request_fix};
use super::keys::{bucket_condition_id, general_condition_id, kms_condition_id};
use super::{layer_of, pointer, statement_name, Evaluated};
use iam_policy::model::{Effect, Statement};
use iam_policy::outcome::StatementOutcome;
use iam_policy::outcome::Uncertain;
use iam_policy::{Layer, StatementRef};

/// Causes for every denying statement.
pub(super) fn deny_causes(e: &Evaluated<'_>) -> Vec<Cause> {
    let mut causes = Vec::new();
    for layer in &e.evaluation.layers {
        for result in layer.statements.iter().filter(|s| s.denies()) {
            // The diagnosis lists at most `MAX_CAUSES`: no more are built for one request.
            if causes.len() >= crate::verdict::MAX_CAUSES {
                break;
            }
            let at = result.at;
            let Some(statement) = e.policies.statement(&at) else {
                continue;
            };
            match result.outcome {
                StatementOutcome::Indeterminate(Uncertain::UnknownValue { clause }) => {
                    causes.extend(unknown_value_cause(e, &at, statement, clause, "deny"));
                }
                StatementOutcome::Indeterminate(Uncertain::Errors) => {
                    causes.push(broken_deny(e, &at));
                }
                StatementOutcome::Indeterminate(Uncertain::UnknownResource) => {
                    causes.extend(unknown_resource_cause(e, &at, statement, "deny"));
                }
                _ => causes.push(deny_cause(e, &at, statement)),
            }
        }
    }
    causes
}

/// A Deny statement with errors: it might deny, so the answer is not certain.
fn broken_deny(e: &Evaluated<'_>, at: &StatementRef) -> Cause {
    let action = e.purpose.action();
    let mut cause = Cause::error(
        CauseId::PolicyDocumentInvalid,
        layer_of(e, at.layer),
        action,
        format!(
            "statement {} has errors and might deny {action}; it cannot be evaluated for certain",
            statement_name(e.policies, at)
        ),
    )
    .at(Some(pointer(e.policies, at)))
    .fix([Remediation::policy(
        "fix the statement's errors (see the evaluation's errors)",
        None,
    )]);
    cause.definite = false;
    cause
}

/// A statement that denies: named by its layer and the condition key it tests, with what holds, the request
/// change and the policy change.
fn deny_cause(e: &Evaluated<'_>, at: &StatementRef, statement: &Statement) -> Cause {
    let kms = e.purpose.is_kms();
    let action = e.purpose.action();
    let keyed = statement.conditions.iter().find_map(|c| {
        let id = if kms {
            kms_condition_id(&c.key_lower)
        } else if at.layer == Layer::ResourcePolicy {
            bucket_condition_id(&c.key_lower)
        } else if at.layer == Layer::Scp && c.key_lower == "aws:requestedregion" {
            Some(CauseId::ScpRegionDeny)
        } else {
            general_condition_id(&c.key_lower)
        };
        id.map(|id| (id, c))
    });
    let not_principal = statement.principal.as_ref().is_some_and(|p| p.negated);
    let id = match (at.layer, kms, keyed) {
        (Layer::Scp, true, _) => CauseId::KmsScpDeny,
        (Layer::Rcp, true, _) => CauseId::KmsRcpDeny,
        (_, true, Some((id, _))) => id,
        (_, true, None) => CauseId::KmsExplicitDeny,
        (Layer::ResourcePolicy, false, _) if not_principal => CauseId::BucketPolicyNotprincipalDeny,
        (Layer::Rcp, false, _) => CauseId::RcpExplicitDenyS3,
        (_, false, Some((id, _))) => id,
        (Layer::Identity, false, None) => CauseId::IdentityExplicitDeny,
        (Layer::PermissionBoundary, false, None) => CauseId::PermissionBoundaryExplicitDeny,
        (Layer::SessionPolicy, false, None) => CauseId::SessionPolicyExplicitDeny,
        (Layer::Scp, false, None) => CauseId::ScpExplicitDeny,
        (Layer::ResourcePolicy, false, None) => CauseId::BucketPolicyExplicitDeny,
        (Layer::VpcEndpointPolicy, false, None) => CauseId::VpcePolicyExplicitDeny,
    };
    // "Upload through an access point" would send a request that already goes through one elsewhere.
    let id = match id {
        CauseId::BucketPolicyAccessPointOnly if crate::access_point::used(e.snapshot).is_some() => {
            CauseId::BucketPolicyExplicitDeny
        }
        id => id,
    };
    let mut message = format!(
        "statement {} denies {action}",
        statement_name(e.policies, at)
    );
    if not_principal {
        message.push_str(&format!(
            ": its `NotPrincipal` does not exclude `{}` (AWS checks the account, the role and the session, and never excludes a principal with a permissions boundary)",
            e.snapshot.request.principal_arn
        ));
    } else if statement.conditions.is_empty() {
        message.push_str(" unconditionally");
    } else {
        let held: Vec<String> = statement
            .conditions
            .iter()
            .map(|c| describe_held(c, e.request))
            .collect();
        message.push_str(&format!(": {}", held.join(" and ")));
    }
    let mut remediation = Vec::new();
    if let Some(condition) = keyed
        .map(|(_, c)| c)
        .or_else(|| statement.conditions.first())
    {
        remediation.extend(request_fix(e, condition, Effect::Deny));
    }
    remediation.push(deny_policy_fix(e, at, statement, not_principal));
    Cause::error(id, layer_of(e, at.layer), action, message)
        .at(Some(pointer(e.policies, at)))
        .fix(remediation)
}

/// The check does not say a value every real request carries, and a condition on it decides whether
/// `statement` denies (`verb` = `deny`) or allows (`allow`): the verdict cannot be `Allowed`, and it is not
/// `Denied` either. Names the key, and the field of the check that settles it.
pub(super) fn unknown_value_cause(
    e: &Evaluated<'_>,
    at: &StatementRef,
    statement: &Statement,
    clause: u32,
    verb: &str,
) -> Option<Cause> {
    let condition = statement.conditions.get(clause as usize)?;
    let key = e
        .request
        .context
        .unknown_keys()
        .find(|k| {
            k.eq_ignore_ascii_case(&condition.key)
                || condition.written.iter().any(|w| {
                    w.to_ascii_lowercase()
                        .contains(&format!("${{{}", k.to_ascii_lowercase()))
                })
        })
        .unwrap_or(&condition.key)
        .to_owned();
    let through_access_point = e.side == super::Side::AccessPoint
        && key.to_ascii_lowercase().starts_with("aws:resourcetag/");
    let settles = if through_access_point {
        format!("which resource's tags `aws:ResourceTag` carries for a request through an access point (the access point's or the bucket's) is not documented: give `{key}` in the check's `context` to decide it")
    } else {
        settled_by(&key)
    };
    let action = e.purpose.action();
    let unknown = match e.request.context.unknown(&key) {
        Some(iam_policy::context::Unknown::Presence) => {
            "which the request may or may not carry, with a value not known either"
        }
        Some(iam_policy::context::Unknown::Value) | None => "whose value the check does not give",
    };
    let mut cause = Cause::error(
        CauseId::ContextValueUnknown,
        layer_of(e, at.layer),
        action,
        format!(
            "statement {} would {verb} {action} depending on `{key}` (`{}` on `{}`: {}), {unknown}: {settles}",
            statement_name(e.policies, at),
            condition.operator.written,
            condition.key,
            condition.written.join(", ")
        ),
    )
    .at(Some(pointer(e.policies, at)))
    .fix([Remediation::request(settles, None)]);
    cause.definite = false;
    Some(cause)
}

/// A statement whose `Resource` pattern reads a policy variable the check does not give: it may or may not
/// cover the request's resource, so it may `verb` (`deny`, `allow`) the request. Names the variable.
pub(super) fn unknown_resource_cause(
    e: &Evaluated<'_>,
    at: &StatementRef,
    statement: &Statement,
    verb: &str,
) -> Option<Cause> {
    let resource = statement.resource.as_ref()?;
    let key = resource
        .patterns
        .iter()
        .filter_map(|p| p.template.as_ref())
        .flat_map(|t| t.keys())
        .find(|k| e.request.context.is_unknown(k))?
        .to_owned();
    let written: Vec<&str> = resource
        .patterns
        .iter()
        .map(|p| p.written.as_str())
        .collect();
    let settles = settled_by(&key);
    let action = e.purpose.action();
    let mut cause = Cause::error(
        CauseId::ContextValueUnknown,
        layer_of(e, at.layer),
        action,
        format!(
            "statement {} would {verb} {action} if its resources `{}` cover `{}`, which depends on `${{{key}}}`, whose value the check does not give: {settles}",
            statement_name(e.policies, at),
            written.join("`, `"),
            e.request.resource,
        ),
    )
    .at(Some(pointer(e.policies, at)))
    .fix([Remediation::request(settles, None)]);
    cause.definite = false;
    Some(cause)
}

/// What settles the value of an always-present key.
fn settled_by(key: &str) -> String {
    match key.to_ascii_lowercase().as_str() {
        "aws:sourceip" => "set `network.sourceIp` to the workload's public address (or `network.vpcEndpointId` when it goes through a VPC endpoint)".to_owned(),
        "aws:currenttime" | "aws:epochtime" => "the time of the request: a snapshot needs `collectedAt`".to_owned(),
        "aws:userid" | "aws:tokenissuetime" | "aws:rolesessionname" => format!("`{key}` depends on the role session (its name, its start), which a check of the role cannot know; write the condition on the role (`aws:PrincipalArn`) instead"),
        "s3:tlsversion" => "set `network.tlsVersion`, or write the condition with `NumericLessThan` on a version every supported client exceeds".to_owned(),
        "s3:x-amz-content-sha256" => format!("set the check's `client` (e.g. `aws-cli-v2`, `boto3`: they send `STREAMING-UNSIGNED-PAYLOAD-TRAILER` on uploads), or give `{key}` in its `context` as the workload sends it; the SDKs for Java, Go, JavaScript and Rust send a value that depends on how the application hands over the body (a stream: `STREAMING-UNSIGNED-PAYLOAD-TRAILER`; bytes in memory: their SHA-256)"),
        "aws:principalorgpaths" => format!("give `{key}` in the check's `context` (the OU path of the caller's account)"),
        "aws:vpcsourceip" | "aws:sourcevpcarn" => format!("give `{key}` in the check's `context` (the workload's private address, or its VPC's ARN)"),
        tag if tag.starts_with("aws:resourcetag/") || tag.starts_with("s3:buckettag/") => format!(
            "the resource's tags could not be read (nor, for a bucket, whether ABAC is enabled, without which S3 ignores them): let the operator read them (`s3:GetBucketTagging`, `s3:GetBucketAbac`, `kms:ListResourceTags`), or give `{key}` in the check's `context` as the bucket (or the key) has it"
        ),
        tag if tag.starts_with("s3:existingobjecttag/") => format!(
            "the object's tags were not read, so the object may lack the tag as well as have it: let the operator read them (`s3:GetObjectTagging`, or `s3:GetObjectVersionTagging` for a `versionId`), or give `{key}` in the check's `context` as the object has it"
        ),
        "aws:resourceorgid" | "aws:resourceorgpaths" | "aws:vpceorgid" | "aws:vpceorgpaths" => format!("whether that account is in an organization is not known: give `{key}` in the check's `context` (the organization id or OU path of that account)"),
        _ => format!("give `{key}` in the check's `context`"),
    }
}
