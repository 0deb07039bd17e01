//! Reads the principal: the role or user (IAM's own ARN, path and letter case), its identity policies
//! (attached managed: default version; inline; for users, every group's policies; every listing read to its
//! end through the SDK's paginators), its permissions boundary and tags. Documents arrive percent-encoded
//! from IAM and are decoded here, once.

use super::error::ReadError;
use super::Reader;
use aws_sdk_iam::types::{AttachedPolicy, Tag};
use iam_policy::parse::percent_decode;
use s3_diagnosis::snapshot::{NamedPolicy, PrincipalData};
use serde_json::Value;
use std::collections::BTreeMap;

/// A document as AWS returns it (IAM percent-encodes it) → JSON; the text itself when it is not strict JSON
/// (not JSON, or a key given twice, which a plain JSON reader would drop silently): the policy parser then
/// reports it, and the document fails closed.
pub fn decode_document(raw: &str) -> Value {
    let decoded = percent_decode(raw).unwrap_or_else(|| raw.to_owned());
    super::policy_document(&decoded)
}

/// What kind of principal, and its name.
fn name_of(arn: &str) -> (&str, &str) {
    let resource = arn.splitn(6, ':').nth(5).unwrap_or("");
    let (kind, rest) = resource.split_once('/').unwrap_or(("", ""));
    (kind, rest.rsplit('/').next().unwrap_or(rest))
}

/// Reads a managed policy's default version.
async fn managed(r: &Reader, policy_arn: &str, source: &str) -> Result<NamedPolicy, ReadError> {
    let policy = r
        .call(
            "iam:GetPolicy",
            r.iam.get_policy().policy_arn(policy_arn).send(),
        )
        .await?;
    let p = policy.policy();
    let version = p
        .and_then(|p| p.default_version_id())
        .unwrap_or("v1")
        .to_owned();
    let name = p
        .and_then(|p| p.policy_name())
        .unwrap_or_default()
        .to_owned();
    let document = r
        .call(
            "iam:GetPolicyVersion",
            r.iam
                .get_policy_version()
                .policy_arn(policy_arn)
                .version_id(&version)
                .send(),
        )
        .await?
        .policy_version()
        .and_then(|v| v.document())
        .map(decode_document)
        .ok_or_else(|| {
            ReadError::other(
                "iam:GetPolicyVersion",
                format!("policy `{policy_arn}` version `{version}` has no document"),
            )
        })?;
    let source = if policy_arn.starts_with("arn:aws:iam::aws:") && source == "managed" {
        "awsManaged"
    } else {
        source
    };
    Ok(NamedPolicy {
        id: policy_arn.to_owned(),
        name,
        source: Some(source.to_owned()),
        document,
    })
}

/// Reads the managed policies of a complete listing (`source`: `managed` or `groupManaged`).
async fn push_attached(
    r: &Reader,
    attached: &[AttachedPolicy],
    source: &str,
    policies: &mut Vec<NamedPolicy>,
) -> Result<(), ReadError> {
    for policy_arn in attached.iter().filter_map(AttachedPolicy::policy_arn) {
        policies.push(managed(r, policy_arn, source).await?);
    }
    Ok(())
}

/// The attached and inline policies of one IAM entity (a role, a user or a group), appended to `$policies`
/// with their sources (`$sources`: attached, inline). The three kinds differ only in the names of their
/// calls, which the SDK types apart: a macro rather than three copies.
macro_rules! entity_policies {
    ($r:expr, $policies:expr, $owner:expr, $sources:expr, $attached_api:literal, $attached:expr,
     $inline_api:literal, $inline:expr, $get_api:literal, $get:expr) => {{
        let attached = every!($r, $attached_api, $attached).await?;
        push_attached($r, &attached, $sources.0, $policies).await?;
        let names = every!($r, $inline_api, $inline).await?;
        for policy_name in &names {
            let p = $r.call($get_api, ($get)(policy_name).send()).await?;
            $policies.push(inline_policy(
                $owner,
                policy_name,
                $sources.1,
                p.policy_document(),
            ));
        }
    }};
}

/// An inline policy of `owner` (a role, user or group ARN) as IAM returned it.
fn inline_policy(owner: &str, name: &str, source: &str, raw_document: &str) -> NamedPolicy {
    NamedPolicy {
        id: format!("{owner}/inline/{name}"),
        name: name.to_owned(),
        source: Some(source.to_owned()),
        document: decode_document(raw_document),
    }
}

/// IAM tags as a map.
fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect()
}

/// Reads a role or user and every policy that applies to it. The second value is the error of reading the
/// permissions boundary, which makes only that layer unavailable.
pub async fn read_principal(
    r: &Reader,
    arn: &str,
    account: &str,
) -> Result<(PrincipalData, Option<ReadError>), ReadError> {
    let (kind, name) = name_of(arn);
    let mut data = PrincipalData {
        arn: arn.to_owned(),
        account_id: account.to_owned(),
        kind: kind.to_owned(),
        ..PrincipalData::default()
    };
    let mut boundary_arn = None;
    if kind == "role" {
        let role = r
            .call("iam:GetRole", r.iam.get_role().role_name(name).send())
            .await?;
        if let Some(role) = role.role() {
            // IAM's own ARN: the role's real path and the letter case of its name (names are
            // case-insensitive), whatever the check wrote.
            data.arn = role.arn().to_owned();
            data.unique_id = Some(role.role_id().to_owned());
            boundary_arn = role
                .permissions_boundary()
                .and_then(|b| b.permissions_boundary_arn())
                .map(str::to_owned);
            data.tags = tag_map(role.tags());
        }
        entity_policies!(
            r,
            &mut data.policies,
            arn,
            ("managed", "inline"),
            "iam:ListAttachedRolePolicies",
            r.iam.list_attached_role_policies().role_name(name),
            "iam:ListRolePolicies",
            r.iam.list_role_policies().role_name(name),
            "iam:GetRolePolicy",
            |p: &str| r.iam.get_role_policy().role_name(name).policy_name(p)
        );
    } else {
        let user = r
            .call("iam:GetUser", r.iam.get_user().user_name(name).send())
            .await?;
        if let Some(user) = user.user() {
            data.arn = user.arn().to_owned();
            data.unique_id = Some(user.user_id().to_owned());
            boundary_arn = user
                .permissions_boundary()
                .and_then(|b| b.permissions_boundary_arn())
                .map(str::to_owned);
            data.tags = tag_map(user.tags());
        }
        entity_policies!(
            r,
            &mut data.policies,
            arn,
            ("managed", "inline"),
            "iam:ListAttachedUserPolicies",
            r.iam.list_attached_user_policies().user_name(name),
            "iam:ListUserPolicies",
            r.iam.list_user_policies().user_name(name),
            "iam:GetUserPolicy",
            |p: &str| r.iam.get_user_policy().user_name(name).policy_name(p)
        );
        let groups = every!(
            r,
            "iam:ListGroupsForUser",
            r.iam.list_groups_for_user().user_name(name)
        )
        .await?;
        for group in &groups {
            let group_name = group.group_name();
            entity_policies!(
                r,
                &mut data.policies,
                group.arn(),
                ("groupManaged", "groupInline"),
                "iam:ListAttachedGroupPolicies",
                r.iam.list_attached_group_policies().group_name(group_name),
                "iam:ListGroupPolicies",
                r.iam.list_group_policies().group_name(group_name),
                "iam:GetGroupPolicy",
                |p: &str| r
                    .iam
                    .get_group_policy()
                    .group_name(group_name)
                    .policy_name(p)
            );
        }
    }
    let mut boundary_error = None;
    if let Some(boundary) = boundary_arn {
        match managed(r, &boundary, "managed").await {
            Ok(mut policy) => {
                policy.source = None;
                data.permissions_boundary = Some(policy);
            }
            Err(e) => {
                boundary_error = Some(ReadError {
                    message: format!("permissions boundary `{boundary}`: {}", e.message),
                    ..e
                })
            }
        }
    }
    Ok((data, boundary_error))
}
