//! AWS change events: the CloudTrail management events an EventBridge rule delivers to an SQS queue, turned
//! once, here, into typed changes (`Change`), and what a change touches: the cached reads it makes stale
//! (`Collector::invalidate`) and the checks whose last snapshot read it (`Dependencies::touched_by`). An
//! event of no interest is `Ignored`; a message that is not an event is `Malformed`.

use iam_policy::{PrincipalArn, PrincipalKind};
use s3_diagnosis::snapshot::Snapshot;
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
    /// An SCP or RCP, or where one is attached.
    Organization,
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
        "organizations.amazonaws.com" => organization_changes(name),
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
    let mut ids: BTreeSet<String> = resources
        .iter()
        .filter_map(|r| r.arn.as_deref())
        .filter(|arn| arn.contains(":kms:"))
        .map(key_id)
        .collect();
    for field in ["keyId", "targetKeyId", "aliasName"] {
        ids.extend(param(params, field).map(|k| key_id(&k)));
    }
    ids.into_iter()
        .map(|id| Change::Key {
            account: account.to_owned(),
            id,
        })
        .collect()
}

/// The key id of a key ARN, key id, alias ARN or alias name (`alias/NAME` for aliases).
fn key_id(reference: &str) -> String {
    match reference.rsplit_once(":key/") {
        Some((_, id)) => id.to_owned(),
        None => match reference.find("alias/") {
            Some(at) => reference.get(at..).unwrap_or(reference).to_owned(),
            None => reference.to_owned(),
        },
    }
}

fn organization_changes(name: &str) -> Vec<Change> {
    let interesting = matches!(
        name,
        "AttachPolicy"
            | "DetachPolicy"
            | "UpdatePolicy"
            | "DeletePolicy"
            | "EnablePolicyType"
            | "DisablePolicyType"
            | "MoveAccount"
            | "RemoveAccountFromOrganization"
    );
    if interesting {
        vec![Change::Organization]
    } else {
        Vec::new()
    }
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

/// What a check's last snapshot read, compactly: enough to tell whether a change touches it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dependencies {
    principal: Option<PrincipalArn>,
    managed_policies: BTreeSet<String>,
    bucket: String,
    bucket_account: Option<String>,
    keys: BTreeSet<String>,
    endpoint: Option<String>,
    access_point: Option<(String, String)>,
}

impl Dependencies {
    /// What `snapshot` read.
    pub fn of(snapshot: &Snapshot) -> Self {
        let request = &snapshot.request;
        let principal = PrincipalArn::parse(&request.principal_arn).ok();
        let managed_policies = snapshot
            .principal
            .iter()
            .flat_map(|p| p.policies.iter().chain(&p.permissions_boundary))
            .filter(|n| n.id.contains(":policy/"))
            .map(|n| n.id.clone())
            .collect();
        let bucket_account = snapshot
            .bucket
            .as_ref()
            .map(|b| b.account_id.clone())
            .filter(|a| !a.is_empty());
        let keys = snapshot
            .kms_keys
            .iter()
            .flat_map(|k| std::iter::once(key_id(&k.arn)).chain(k.aliases.iter().cloned()))
            .chain(request.upload.sse_kms_key_id.as_deref().map(key_id))
            .collect();
        Self {
            principal,
            managed_policies,
            bucket: request.bucket.clone(),
            bucket_account,
            keys,
            endpoint: request.network.vpc_endpoint_id.clone(),
            access_point: snapshot
                .access_point
                .as_ref()
                .map(|a| (a.account_id.clone(), a.name.clone())),
        }
    }

    /// Whether `change` touches what the check read.
    pub fn touched_by(&self, change: &Change) -> bool {
        match change {
            Change::Principal {
                account,
                kind,
                name,
            } => self
                .principal
                .as_ref()
                .is_some_and(|p| p.account() == account && p.kind() == *kind && p.name() == name),
            Change::Group { account } => self
                .principal
                .as_ref()
                .is_some_and(|p| p.account() == account && p.kind() == PrincipalKind::User),
            Change::ManagedPolicy { arn } => self.managed_policies.contains(arn),
            // A bucket whose account was not read is matched by its name.
            Change::Bucket { account, name } => {
                self.bucket == *name && self.bucket_account.as_ref().is_none_or(|a| a == account)
            }
            Change::AccountPublicAccessBlock { account } => {
                self.bucket_account.as_deref() == Some(account.as_str())
            }
            Change::Key { id, .. } => self.keys.contains(id),
            // A snapshot without an organization may be missing it for want of one (or of reading it): any
            // organization change re-evaluates every check.
            Change::Organization => true,
            Change::VpcEndpoint { id } => self.endpoint.as_deref() == Some(id.as_str()),
            Change::AccessPoint { account, name } => self
                .access_point
                .as_ref()
                .is_some_and(|(a, n)| a == account && n == name),
        }
    }
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
            vec![Change::Organization]
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
}
