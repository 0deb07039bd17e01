//! AWS change events: the CloudTrail management events an EventBridge rule delivers to an SQS queue, turned
//! once, here, into typed changes (`Change`), and what a change touches: the cached reads it makes stale
//! (`Collector::invalidate`) and the checks whose last snapshot read it (`dependencies`). An
//! event of no interest is `Ignored`; a message that is not an event is `Malformed`.

use iam_policy::PrincipalKind;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

/// What changed in AWS, as far as a check's reads are concerned.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    /// A role's or user's own policies, boundary or tags (or the principal itself).
    Principal {
        /// Its account.
        account: String,
        /// Role or user.
        kind: PrincipalKind,
        /// Its name (no path: events name principals by name).
        name: String,
    },
    /// A group's policies: every user of the account may be in it.
    Group {
        /// Its account.
        account: String,
    },
    /// A managed policy's default version: every principal it is attached to (or bounded by).
    ManagedPolicy {
        /// Its ARN.
        arn: String,
    },
    /// A bucket's policy, ACL, Object Ownership, Block Public Access, encryption, tags or Requester Pays.
    Bucket {
        /// The bucket's account.
        account: String,
        /// Its name.
        name: String,
    },
    /// An account's Block Public Access settings.
    AccountPublicAccessBlock {
        /// The account.
        account: String,
    },
    /// A KMS key's policy, grants, state, tags or aliases.
    Key {
        /// The key's account.
        account: String,
        /// Its id (or an alias name, `alias/...`).
        id: String,
    },
    /// An SCP or RCP, or where one is attached: what the event says it touches.
    Organization {
        /// The checks it may touch.
        target: OrgTarget,
    },
    /// A VPC endpoint's policy.
    VpcEndpoint {
        /// Its id.
        id: String,
    },
    /// An access point's policy (or the access point itself).
    AccessPoint {
        /// Its account.
        account: String,
        /// Its name.
        name: String,
    },
}

/// What an Organizations event touches, as far as the event says.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum OrgTarget {
    /// Where policies apply in general (a policy type enabled or disabled, a policy attached to a root or an
    /// OU, whose accounts the event does not list): every check.
    Everything,
    /// One account (a policy attached to or detached from it, the account moved or removed): the checks of its
    /// principals and buckets.
    Account(String),
    /// One policy's content (updated or deleted): the checks that read it, and those whose organization was
    /// not read.
    Policy(String),
}

impl Change {
    /// Whether the change may touch every check (rate-limited by the operator).
    pub fn is_fleet_wide(&self) -> bool {
        matches!(
            self,
            Self::Organization {
                target: OrgTarget::Everything
            }
        )
    }
}

/// What one queue message says.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// A change event: what it changes, its name (`iam:PutRolePolicy`) and when it happened.
    Changes {
        /// The changes (one event can touch several things).
        changes: Vec<Change>,
        /// `SOURCE:EventName`, for logs.
        event: String,
        /// When AWS made the change (the event's time).
        at: Option<SystemTime>,
    },
    /// An event of no interest to any check (counted, deleted).
    Ignored(String),
}

/// Why a message is not an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// Not JSON, or not an EventBridge event of CloudTrail.
    #[error("the message is not a CloudTrail event from EventBridge: {0}")]
    Malformed(String),
}

/// The EventBridge envelope of a CloudTrail event.
#[derive(Debug, Deserialize)]
struct Envelope {
    #[serde(rename = "detail-type")]
    detail_type: String,
    #[serde(default)]
    account: String,
    #[serde(default)]
    time: Option<String>,
    detail: Detail,
}

/// The CloudTrail record inside it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Detail {
    #[serde(default)]
    event_source: String,
    #[serde(default)]
    event_name: String,
    #[serde(default)]
    event_time: Option<String>,
    #[serde(default)]
    recipient_account_id: Option<String>,
    #[serde(default)]
    request_parameters: Option<Value>,
    #[serde(default)]
    resources: Vec<Resource>,
    #[serde(default)]
    error_code: Option<String>,
}

/// A resource CloudTrail names (KMS events name their key here).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Resource {
    #[serde(default, rename = "ARN")]
    arn: Option<String>,
}

/// The detail-type of the CloudTrail events EventBridge delivers.
pub const CLOUDTRAIL_DETAIL_TYPE: &str = "AWS API Call via CloudTrail";

/// Reads one queue message.
pub fn parse(body: &str) -> Result<Message, EventError> {
    let envelope: Envelope = serde_json::from_str(body).map_err(|e| {
        EventError::Malformed(format!(
            "{e} (at most 200 bytes shown: `{}`)",
            preview(body)
        ))
    })?;
    let detail = &envelope.detail;
    let event = format!(
        "{}:{}",
        detail.event_source.trim_end_matches(".amazonaws.com"),
        detail.event_name
    );
    if envelope.detail_type != CLOUDTRAIL_DETAIL_TYPE {
        return Ok(Message::Ignored(format!(
            "detail-type `{}`",
            envelope.detail_type
        )));
    }
    // A call that failed changed nothing.
    if detail.error_code.is_some() {
        return Ok(Message::Ignored(format!("{event} (failed)")));
    }
    let account = detail
        .recipient_account_id
        .clone()
        .unwrap_or_else(|| envelope.account.clone());
    let params = detail.request_parameters.clone().unwrap_or(Value::Null);
    let changes = changes_of(
        &detail.event_source,
        &detail.event_name,
        &account,
        &params,
        &detail.resources,
    );
    if changes.is_empty() {
        return Ok(Message::Ignored(event));
    }
    let at = detail
        .event_time
        .as_deref()
        .or(envelope.time.as_deref())
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(SystemTime::from);
    Ok(Message::Changes { changes, event, at })
}

fn preview(body: &str) -> String {
    body.chars().take(200).collect()
}

/// A string request parameter.
fn param(params: &Value, name: &str) -> Option<String> {
    params.get(name).and_then(Value::as_str).map(str::to_owned)
}

/// The changes of one event (empty: of no interest).
fn changes_of(
    source: &str,
    name: &str,
    account: &str,
    params: &Value,
    resources: &[Resource],
) -> Vec<Change> {
    match source {
        "iam.amazonaws.com" => iam_changes(name, account, params),
        "s3.amazonaws.com" => s3_changes(name, account, params),
        "kms.amazonaws.com" => kms_changes(name, account, params, resources),
        "organizations.amazonaws.com" => organization_changes(name, params),
        "ec2.amazonaws.com" => ec2_changes(name, params),
        _ => Vec::new(),
    }
}

fn iam_changes(name: &str, account: &str, params: &Value) -> Vec<Change> {
    let principal = |kind: PrincipalKind, field: &str| {
        param(params, field).map(|name| Change::Principal {
            account: account.to_owned(),
            kind,
            name,
        })
    };
    let change = match name {
        "PutRolePolicy"
        | "DeleteRolePolicy"
        | "AttachRolePolicy"
        | "DetachRolePolicy"
        | "PutRolePermissionsBoundary"
        | "DeleteRolePermissionsBoundary"
        | "TagRole"
        | "UntagRole"
        | "CreateRole"
        | "DeleteRole" => principal(PrincipalKind::Role, "roleName"),
        "PutUserPolicy"
        | "DeleteUserPolicy"
        | "AttachUserPolicy"
        | "DetachUserPolicy"
        | "PutUserPermissionsBoundary"
        | "DeleteUserPermissionsBoundary"
        | "TagUser"
        | "UntagUser"
        | "CreateUser"
        | "DeleteUser"
        | "AddUserToGroup"
        | "RemoveUserFromGroup" => principal(PrincipalKind::User, "userName"),
        "PutGroupPolicy" | "DeleteGroupPolicy" | "AttachGroupPolicy" | "DetachGroupPolicy" => {
            Some(Change::Group {
                account: account.to_owned(),
            })
        }
        "CreatePolicyVersion"
        | "SetDefaultPolicyVersion"
        | "DeletePolicyVersion"
        | "DeletePolicy" => param(params, "policyArn").map(|arn| Change::ManagedPolicy { arn }),
        _ => None,
    };
    change.into_iter().collect()
}

fn s3_changes(name: &str, account: &str, params: &Value) -> Vec<Change> {
    let bucket = param(params, "bucketName").map(|name| Change::Bucket {
        account: account.to_owned(),
        name,
    });
    let owner = param(params, "accountId").unwrap_or_else(|| account.to_owned());
    let change = match name {
        "PutBucketPolicy"
        | "DeleteBucketPolicy"
        | "PutBucketOwnershipControls"
        | "DeleteBucketOwnershipControls"
        | "PutBucketPublicAccessBlock"
        | "DeleteBucketPublicAccessBlock"
        | "PutBucketEncryption"
        | "DeleteBucketEncryption"
        | "PutBucketAcl"
        | "PutBucketTagging"
        | "DeleteBucketTagging"
        | "PutBucketRequestPayment"
        | "PutObjectLockConfiguration"
        | "PutBucketAbac"
        | "CreateBucket"
        | "DeleteBucket" => bucket,
        // The same call names a bucket, or (s3control) only an account.
        "PutPublicAccessBlock" | "DeletePublicAccessBlock" => {
            bucket.or(Some(Change::AccountPublicAccessBlock { account: owner }))
        }
        "PutAccountPublicAccessBlock" | "DeleteAccountPublicAccessBlock" => {
            Some(Change::AccountPublicAccessBlock { account: owner })
        }
        "PutAccessPointPolicy"
        | "DeleteAccessPointPolicy"
        | "CreateAccessPoint"
        | "DeleteAccessPoint" => param(params, "name").map(|name| Change::AccessPoint {
            account: owner,
            name,
        }),
        _ => None,
    };
    change.into_iter().collect()
}

fn kms_changes(name: &str, account: &str, params: &Value, resources: &[Resource]) -> Vec<Change> {
    let interesting = matches!(
        name,
        "PutKeyPolicy"
            | "CreateGrant"
            | "RetireGrant"
            | "RevokeGrant"
            | "EnableKey"
            | "DisableKey"
            | "ScheduleKeyDeletion"
            | "CancelKeyDeletion"
            | "TagResource"
            | "UntagResource"
            | "CreateAlias"
            | "UpdateAlias"
            | "DeleteAlias"
    );
    if !interesting {
        return Vec::new();
    }
    // The key's own account where a reference is an ARN (a cross-account grant names its key by ARN); the
    // account the event was recorded in for a bare id or alias.
    let of = |reference: &str| {
        let account = iam_policy::arn::Arn::parse(reference)
            .ok()
            .map(|a| a.account.to_owned())
            .filter(|a| !a.is_empty())
            .unwrap_or_else(|| account.to_owned());
        (account, key_id(reference))
    };
    let mut ids: BTreeSet<(String, String)> = resources
        .iter()
        .filter_map(|r| r.arn.as_deref())
        .filter(|arn| arn.contains(":kms:"))
        .map(of)
        .collect();
    for field in ["keyId", "targetKeyId", "aliasName"] {
        ids.extend(param(params, field).map(|k| of(&k)));
    }
    ids.into_iter()
        .map(|(account, id)| Change::Key { account, id })
        .collect()
}

/// The key id of a key ARN, key id, alias ARN or alias name (`alias/NAME` for aliases).
pub(crate) fn key_id(reference: &str) -> String {
    match reference.rsplit_once(":key/") {
        Some((_, id)) => id.to_owned(),
        None => match reference.find("alias/") {
            Some(at) => reference.get(at..).unwrap_or(reference).to_owned(),
            None => reference.to_owned(),
        },
    }
}

fn organization_changes(name: &str, params: &Value) -> Vec<Change> {
    let account = |field: &str| {
        param(params, field)
            .filter(|id| iam_policy::arn::is_account_id(id))
            .map(OrgTarget::Account)
    };
    let target = match name {
        // A policy attached to an account touches that account; to a root or an OU, every account under it.
        "AttachPolicy" | "DetachPolicy" => {
            Some(account("targetId").unwrap_or(OrgTarget::Everything))
        }
        "UpdatePolicy" | "DeletePolicy" => Some(
            param(params, "policyId")
                .map(OrgTarget::Policy)
                .unwrap_or(OrgTarget::Everything),
        ),
        "MoveAccount" | "RemoveAccountFromOrganization" => {
            Some(account("accountId").unwrap_or(OrgTarget::Everything))
        }
        "EnablePolicyType" | "DisablePolicyType" => Some(OrgTarget::Everything),
        _ => None,
    };
    target
        .map(|target| Change::Organization { target })
        .into_iter()
        .collect()
}

fn ec2_changes(name: &str, params: &Value) -> Vec<Change> {
    if name != "ModifyVpcEndpoint" {
        return Vec::new();
    }
    // EC2 nests its parameters under the request's name.
    let id = param(params, "vpcEndpointId").or_else(|| {
        params
            .get("ModifyVpcEndpointRequest")
            .and_then(|r| param(r, "VpcEndpointId"))
    });
    id.map(|id| Change::VpcEndpoint { id })
        .into_iter()
        .collect()
}

/// How long after an event its re-evaluation finished, for the lag metric (zero when the event's time is in
/// the future, as with clock skew).
pub fn lag(at: SystemTime) -> Duration {
    SystemTime::now().duration_since(at).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(source: &str, name: &str, params: Value) -> String {
        json!({"version": "0", "id": "e1", "detail-type": CLOUDTRAIL_DETAIL_TYPE, "source": "aws.s3",
            "account": "111122223333", "time": "2026-12-05T10:00:00Z", "region": "us-east-1",
            "detail": {"eventSource": source, "eventName": name, "eventTime": "2026-12-05T10:00:00Z",
                "recipientAccountId": "111122223333", "requestParameters": params}})
        .to_string()
    }

    fn changes(body: &str) -> Vec<Change> {
        match parse(body) {
            Ok(Message::Changes { changes, .. }) => changes,
            other => panic!("expected changes, got {other:?}"),
        }
    }

    #[test]
    fn each_kind_of_event_names_what_it_changes() {
        let a = "111122223333".to_owned();
        assert_eq!(
            changes(&event(
                "iam.amazonaws.com",
                "PutRolePolicy",
                json!({"roleName": "uploader"})
            )),
            vec![Change::Principal {
                account: a.clone(),
                kind: PrincipalKind::Role,
                name: "uploader".into()
            }]
        );
        assert_eq!(
            changes(&event(
                "iam.amazonaws.com",
                "AddUserToGroup",
                json!({"groupName": "g", "userName": "alice"})
            )),
            vec![Change::Principal {
                account: a.clone(),
                kind: PrincipalKind::User,
                name: "alice".into()
            }]
        );
        assert_eq!(
            changes(&event(
                "iam.amazonaws.com",
                "SetDefaultPolicyVersion",
                json!({"policyArn": "arn:aws:iam::111122223333:policy/p", "versionId": "v2"})
            )),
            vec![Change::ManagedPolicy {
                arn: "arn:aws:iam::111122223333:policy/p".into()
            }]
        );
        assert_eq!(
            changes(&event(
                "s3.amazonaws.com",
                "PutBucketPolicy",
                json!({"bucketName": "media"})
            )),
            vec![Change::Bucket {
                account: a.clone(),
                name: "media".into()
            }]
        );
        assert_eq!(
            changes(&event(
                "s3.amazonaws.com",
                "PutPublicAccessBlock",
                json!({"accountId": "111122223333"})
            )),
            vec![Change::AccountPublicAccessBlock { account: a.clone() }]
        );
        assert_eq!(
            changes(&event(
                "s3.amazonaws.com",
                "PutAccessPointPolicy",
                json!({"name": "uploads", "accountId": "111122223333"})
            )),
            vec![Change::AccessPoint {
                account: a.clone(),
                name: "uploads".into()
            }]
        );
        assert_eq!(
            changes(&event(
                "kms.amazonaws.com",
                "PutKeyPolicy",
                json!({"keyId": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"})
            )),
            vec![Change::Key {
                account: a.clone(),
                id: "1234abcd-12ab-34cd-56ef-1234567890ab".into()
            }]
        );
        assert_eq!(
            changes(&event(
                "organizations.amazonaws.com",
                "UpdatePolicy",
                json!({"policyId": "p-1"})
            )),
            vec![Change::Organization {
                target: OrgTarget::Policy("p-1".into())
            }]
        );
        assert_eq!(
            changes(&event(
                "ec2.amazonaws.com",
                "ModifyVpcEndpoint",
                json!({"ModifyVpcEndpointRequest": {"VpcEndpointId": "vpce-0a1b2c3d"}})
            )),
            vec![Change::VpcEndpoint {
                id: "vpce-0a1b2c3d".into()
            }]
        );
    }

    #[test]
    fn unrelated_failed_and_malformed_messages_are_told_apart() {
        assert!(matches!(
            parse(&event("s3.amazonaws.com", "ListBuckets", json!({}))),
            Ok(Message::Ignored(_))
        ));
        assert!(matches!(
            parse(&event("sqs.amazonaws.com", "SendMessage", json!({}))),
            Ok(Message::Ignored(_))
        ));
        let mut failed: Value = serde_json::from_str(&event(
            "s3.amazonaws.com",
            "PutBucketPolicy",
            json!({"bucketName": "b"}),
        ))
        .unwrap_or_default();
        failed["detail"]["errorCode"] = json!("AccessDenied");
        assert!(matches!(
            parse(&failed.to_string()),
            Ok(Message::Ignored(_))
        ));
        assert!(matches!(parse("not json"), Err(EventError::Malformed(_))));
        assert!(matches!(
            parse("{\"detail-type\": 1}"),
            Err(EventError::Malformed(_))
        ));
    }

    /// An Organizations event names the account a policy is attached to (narrowed), or a root or an OU
    /// (every check).
    #[test]
    fn organizations_events_name_what_they_reach() {
        let org = |target: OrgTarget| Change::Organization { target };
        assert_eq!(
            changes(&event(
                "organizations.amazonaws.com",
                "AttachPolicy",
                json!({"policyId": "p-2", "targetId": "444455556666"})
            )),
            vec![org(OrgTarget::Account("444455556666".into()))]
        );
        assert_eq!(
            changes(&event(
                "organizations.amazonaws.com",
                "AttachPolicy",
                json!({"policyId": "p-2", "targetId": "ou-ab12-cdef3456"})
            )),
            vec![org(OrgTarget::Everything)]
        );
    }
}
