//! Reads the principal: the role or user (IAM's own ARN, path and letter case), its identity policies
//! (attached managed: default version; inline; for users, every group's policies; every listing read to its
//! end through the SDK's paginators), its permissions boundary and tags. Documents arrive percent-encoded
//! from IAM and are decoded here, once.

use super::error::ReadError;
use super::Reader;
use aws_sdk_iam::types::{AttachedPolicy, Tag};
use iam_policy::parse::percent_decode;
use iam_policy::{PrincipalArn, PrincipalKind};
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

/// The one answer for a principal IAM does not have at exactly the check's ARN: missing, or another path.
/// The two are never told apart (a tenant would learn which names exist), and IAM's own message is dropped.
pub const NOT_AT_THIS_ARN: &str = "IAM has no role or user at exactly this ARN";

pub(crate) fn not_at_this_arn(api: &'static str) -> ReadError {
    ReadError {
        code: Some("NoSuchEntity".to_owned()),
        ..ReadError::other(api, NOT_AT_THIS_ARN)
    }
}

/// IAM's answer for the check's principal, held to it: the same partition, account, kind and path, the same
/// name in any case. Anything else is `NOT_AT_THIS_ARN`, and nothing more of it is read.
pub(crate) fn the_same(
    api: &'static str,
    wanted: &PrincipalArn,
    read: &str,
) -> Result<PrincipalArn, ReadError> {
    match PrincipalArn::parse(read) {
        Ok(read) if read.same_entity(wanted) => Ok(read),
        Ok(_) | Err(_) => Err(not_at_this_arn(api)),
    }
}

/// A `NoSuchEntity` answer becomes `NOT_AT_THIS_ARN`; other errors stay as they are.
fn missing_as_not_here(e: ReadError) -> ReadError {
    if e.is_code(&["NoSuchEntity"]) {
        not_at_this_arn(e.api)
    } else {
        e
    }
}

/// Reads a managed policy's default version.
pub(crate) async fn managed(
    r: &Reader,
    policy_arn: &str,
    source: &str,
) -> Result<NamedPolicy, ReadError> {
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
    let source = managed_source(policy_arn, source);
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
pub(crate) fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect()
}

/// A user's own attached and inline policies, then those of every group it is in.
async fn read_user_policies(
    r: &Reader,
    name: &str,
    owner: &str,
    policies: &mut Vec<NamedPolicy>,
) -> Result<(), ReadError> {
    entity_policies!(
        r,
        policies,
        owner,
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
            policies,
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
    Ok(())
}

/// Reads a role or user and every policy that applies to it: `GetRole`/`GetUser` by name first, and the rest
/// only when IAM's ARN is the check's (`the_same`). The second value is the error of reading the permissions
/// boundary, which makes only that layer unavailable.
pub async fn read_principal(
    r: &Reader,
    arn: &PrincipalArn,
) -> Result<(PrincipalData, Option<ReadError>), ReadError> {
    let name = arn.name();
    let mut data = PrincipalData {
        account_id: arn.account().to_owned(),
        kind: arn.kind().as_str().to_owned(),
        ..PrincipalData::default()
    };
    let boundary_arn;
    match arn.kind() {
        PrincipalKind::Role => {
            let answer = r
                .call("iam:GetRole", r.iam.get_role().role_name(name).send())
                .await
                .map_err(missing_as_not_here)?;
            let role = answer
                .role()
                .ok_or_else(|| ReadError::other("iam:GetRole", "the answer has no role"))?;
            // IAM's own ARN: the letter case of its name (names are case-insensitive).
            data.arn = the_same("iam:GetRole", arn, role.arn())?.to_string();
            data.unique_id = Some(role.role_id().to_owned());
            boundary_arn = role
                .permissions_boundary()
                .and_then(|b| b.permissions_boundary_arn())
                .map(str::to_owned);
            data.tags = tag_map(role.tags());
            entity_policies!(
                r,
                &mut data.policies,
                &data.arn,
                ("managed", "inline"),
                "iam:ListAttachedRolePolicies",
                r.iam.list_attached_role_policies().role_name(name),
                "iam:ListRolePolicies",
                r.iam.list_role_policies().role_name(name),
                "iam:GetRolePolicy",
                |p: &str| r.iam.get_role_policy().role_name(name).policy_name(p)
            );
        }
        PrincipalKind::User => {
            let answer = r
                .call("iam:GetUser", r.iam.get_user().user_name(name).send())
                .await
                .map_err(missing_as_not_here)?;
            let user = answer
                .user()
                .ok_or_else(|| ReadError::other("iam:GetUser", "the answer has no user"))?;
            data.arn = the_same("iam:GetUser", arn, user.arn())?.to_string();
            data.unique_id = Some(user.user_id().to_owned());
            boundary_arn = user
                .permissions_boundary()
                .and_then(|b| b.permissions_boundary_arn())
                .map(str::to_owned);
            data.tags = tag_map(user.tags());
            read_user_policies(r, name, &data.arn, &mut data.policies).await?;
        }
    }
    sort_policies(&mut data.policies);
    let mut boundary_error = None;
    if let Some(boundary) = boundary_arn {
        let read = managed(r, &boundary, "managed").await;
        (data.permissions_boundary, boundary_error) = boundary_of(&boundary, read);
    }
    Ok((data, boundary_error))
}

/// The permissions boundary as the snapshot holds it (no source), or why it could not be read: only that
/// layer is then unavailable.
pub(crate) fn boundary_of(
    arn: &str,
    read: Result<NamedPolicy, ReadError>,
) -> (Option<NamedPolicy>, Option<ReadError>) {
    match read {
        Ok(policy) => (
            Some(NamedPolicy {
                source: None,
                ..policy
            }),
            None,
        ),
        Err(e) => (
            None,
            Some(ReadError {
                message: format!("permissions boundary `{arn}`: {}", e.message),
                ..e
            }),
        ),
    }
}

/// The source a managed policy is recorded with: `awsManaged` for an AWS managed policy attached to the
/// principal itself, else `source` (`managed`, `groupManaged`).
pub(crate) fn managed_source<'a>(policy_arn: &str, source: &'a str) -> &'a str {
    if policy_arn.starts_with("arn:aws:iam::aws:") && source == "managed" {
        "awsManaged"
    } else {
        source
    }
}

/// The principal's policies in one order, whichever read gave them (IAM's listings and its account
/// details list them in orders of their own): the principal's own managed, then inline, then its groups'
/// managed and inline; by id within each.
pub(crate) fn sort_policies(policies: &mut [NamedPolicy]) {
    let rank = |p: &NamedPolicy| match p.source.as_deref() {
        Some("managed" | "awsManaged") => 0,
        Some("inline") => 1,
        Some("groupManaged") => 2,
        _ => 3,
    };
    policies.sort_by(|a, b| (rank(a), &a.id).cmp(&(rank(b), &b.id)));
}
