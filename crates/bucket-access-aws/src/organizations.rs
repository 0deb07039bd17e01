//! Reads the organization: its id, and the SCPs (or RCPs) attached along the path from the root down to an
//! account (`ListParents`, `ListPoliciesForTarget`, `DescribePolicy`); or, for an operator that accepts
//! them unread, the check with those layers skipped and the reason.

use super::error::ReadError;
use super::Reader;
use aws_sdk_organizations::types::PolicyType;
use s3_diagnosis::snapshot::{NamedPolicy, Snapshot, SnapshotLayer, Unavailable};
use s3_diagnosis::source::Target;

/// The organization's id and its management account; `Ok(None)`: not in an organization.
pub async fn organization_id(r: &Reader) -> Result<Option<(String, String)>, ReadError> {
    match r
        .call(
            "organizations:DescribeOrganization",
            r.organizations.describe_organization().send(),
        )
        .await
    {
        // "Not in an organization" is only `AWSOrganizationsNotInUseException`: an answer that names no
        // organization is a failed read.
        Ok(out) => match out.organization().and_then(|o| Some((o.id()?, o))) {
            Some((id, o)) => Ok(Some((
                id.to_owned(),
                o.master_account_id().unwrap_or_default().to_owned(),
            ))),
            None => Err(ReadError::other(
                "organizations:DescribeOrganization",
                "the answer names no organization (an account outside one is answered with `AWSOrganizationsNotInUseException`)",
            )),
        },
        Err(e) if e.is_code(&["AWSOrganizationsNotInUseException"]) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A refused organization read, said plainly: reading SCPs and RCPs needs the management account or a
/// delegated administrator, which an ordinary member account's credentials are not. Other failures stay as
/// they are.
pub fn unreadable(e: ReadError, reader_configured: bool) -> ReadError {
    let refused =
        e.is_code(&["AccessDeniedException", "AccessDenied"]) || e.message.contains("HTTP 403");
    if !refused {
        return e;
    }
    let how = if reader_configured {
        "the organization reader role (`run --org-reader-role-arn`) is refused: check its policy and trust policy (deploy/iam/organization-reader-*.json) and that it is in the management account or a delegated administrator"
    } else {
        "the operator's own credentials are not the management account's or a delegated administrator's: name an organization reader role with `run --org-reader-role-arn` and `--org-reader-external-id` (chart values `organization.readerRoleArn`, `organization.externalId`; deploy/iam/organization-reader-*.json), or have the management account delegate the reads to the operator's account (deploy/iam/organization-delegation-policy.json), or run the operator with `--organization-unread` (every check then assumes them)"
    };
    ReadError {
        message: format!(
            "the organization's SCPs and RCPs cannot be read: {how}; or let the scope allow `skipLayers: [scp, rcp]`. AWS answered: {}",
            e.message
        ),
        ..e
    }
}

/// The targets from the root down to `account`: `[root, ou, ..., account]`.
pub async fn path(r: &Reader, account: &str) -> Result<Vec<String>, ReadError> {
    let mut path = vec![account.to_owned()];
    let mut child = account.to_owned();
    for _ in 0..8 {
        let out = r
            .call(
                "organizations:ListParents",
                r.organizations.list_parents().child_id(&child).send(),
            )
            .await?;
        // Every account and OU of an organization has a parent, up to the root: an answer without one, or
        // one without its id, is no answer (a path cut short would skip the root's and the OUs' policies).
        let parent = out
            .parents()
            .first()
            .and_then(|p| Some((p.id()?, p.r#type()?)))
            .ok_or_else(|| {
                ReadError::other("organizations:ListParents", "the answer names no parent")
            })?;
        let (id, kind) = (parent.0.to_owned(), parent.1.as_str());
        path.push(id.clone());
        if kind == "ROOT" {
            path.reverse();
            return Ok(path);
        }
        child = id;
    }
    Err(ReadError::other(
        "organizations:ListParents",
        "the path from the account does not reach the root within 8 levels",
    ))
}

/// Policies at each level of an account's path, from the root down.
pub type Levels = Vec<Vec<NamedPolicy>>;

/// The SCPs along the principal account's path and the RCPs along the resource account's; none for the
/// management account, which neither restricts, and no RCPs for a resource account outside the organization. The path of an account that is both is read once.
pub async fn controls(
    r: &Reader,
    principal_account: &str,
    resource_account: &str,
    management: &str,
) -> (Result<Levels, ReadError>, Result<Levels, ReadError>) {
    let principal_path = if principal_account == management {
        None
    } else {
        Some(path(r, principal_account).await)
    };
    let resource_path = if resource_account == management {
        None
    } else if resource_account == principal_account {
        principal_path.clone()
    } else {
        // An account the organization does not have is outside it: its RCPs do not govern the bucket.
        match path(r, resource_account).await {
            Err(e) if e.is_code(&["AccountNotFoundException"]) => None,
            read => Some(read),
        }
    };
    let along = |path: Option<Result<Vec<String>, ReadError>>, kind: PolicyType| async move {
        match path {
            None => Ok(Vec::new()),
            Some(path) => policies_along(r, &path?, kind).await,
        }
    };
    (
        along(principal_path, PolicyType::ServiceControlPolicy).await,
        along(resource_path, PolicyType::ResourceControlPolicy).await,
    )
}

/// The policies of `kind` attached at each level of `path`.
pub async fn policies_along(
    r: &Reader,
    path: &[String],
    kind: PolicyType,
) -> Result<Levels, ReadError> {
    let mut levels = Vec::with_capacity(path.len());
    for target in path {
        let listed = every!(
            r,
            "organizations:ListPoliciesForTarget",
            r.organizations
                .list_policies_for_target()
                .target_id(target)
                .filter(kind.clone()),
            |page: aws_sdk_organizations::operation::list_policies_for_target::ListPoliciesForTargetOutput| {
                page.policies.unwrap_or_default()
            }
        )
        .await?;
        let mut level = Vec::new();
        for summary in &listed {
            let id = summary.id().unwrap_or_default().to_owned();
            let described = r
                .call(
                    "organizations:DescribePolicy",
                    r.organizations.describe_policy().policy_id(&id).send(),
                )
                .await?;
            let content = described
                .policy()
                .and_then(|p| p.content())
                .ok_or_else(|| {
                    ReadError::other(
                        "organizations:DescribePolicy",
                        "the answer has no policy content",
                    )
                })?;
            level.push(NamedPolicy {
                id: id.clone(),
                name: summary.name().unwrap_or_default().to_owned(),
                source: None,
                document: super::policy_document(content),
            });
        }
        levels.push(level);
    }
    Ok(levels)
}

/// The organization's layers of an operator that accepts them unread (`--organization-unread`).
const ORGANIZATION: [SnapshotLayer; 2] = [SnapshotLayer::Scp, SnapshotLayer::Rcp];

/// The check with the organization's layers skipped, as a check's `skipLayers` skips them.
pub(crate) fn accepted_unread(target: &Target) -> Target {
    let mut target = target.clone();
    for layer in ORGANIZATION {
        if !target.request.skip_layers.contains(&layer) {
            target.request.skip_layers.push(layer);
        }
    }
    target
}

/// Records why the organization's layers were not read, which the check's assumptions then give.
pub(crate) fn say_why_unread(snapshot: &mut Snapshot) {
    let unread = ReadError::not_called(
        "organizations:DescribeOrganization",
        "the operator runs with `--organization-unread`: the organization's SCPs and RCPs are accepted unread",
    );
    for layer in ORGANIZATION {
        if !snapshot.unavailable.iter().any(|u| u.layer == layer) {
            snapshot.unavailable.push(Unavailable {
                layer,
                reason: unread.reason(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_organization_read_says_how_to_enable_it() {
        let refused = ReadError {
            code: Some("AccessDeniedException".into()),
            ..ReadError::other("organizations:ListPoliciesForTarget", "not authorized")
        };
        let own = unreadable(refused.clone(), false);
        assert!(
            own.message.contains("--org-reader-role-arn")
                && own.message.contains("organization.readerRoleArn")
                && own.message.contains("skipLayers: [scp, rcp]")
                && own.message.contains("not authorized"),
            "{own}"
        );
        let configured = unreadable(refused, true);
        assert!(
            configured
                .message
                .contains("reader role (`run --org-reader-role-arn`) is refused"),
            "{configured}"
        );
        // Anything else is left as it was.
        let throttled = ReadError {
            code: Some("TooManyRequestsException".into()),
            ..ReadError::other("organizations:ListParents", "slow down")
        };
        assert_eq!(unreadable(throttled.clone(), false), throttled);
    }
}
