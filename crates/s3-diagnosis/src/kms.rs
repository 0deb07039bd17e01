//! KMS rules that are not IAM policy evaluation: which key an upload uses (request header, else bucket
//! default, else `aws/s3`), key state, key spec, Region, the AWS managed key used across accounts, alias
//! resolution in the caller's account, and grants.

use super::causes::{Cause, CauseId};
use super::remediation::{ConfigEdit, Edit, Remediation};
use super::snapshot::{KmsKey, Snapshot, SnapshotLayer};
use iam_policy::arn::Arn;
use serde_json::{json, Value};

/// The key an upload would use and how it was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyChoice {
    /// The reference as written (ARN, key id, alias, `alias/aws/s3`).
    pub reference: String,
    /// Where it comes from.
    pub source: KeySource,
    /// The S3 Bucket Key is used.
    pub bucket_key: bool,
}

/// Where the key reference comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    /// `x-amz-server-side-encryption-aws-kms-key-id`.
    RequestHeader,
    /// `aws:kms` requested without a key id: the AWS managed key.
    RequestDefault,
    /// The bucket's default encryption key.
    BucketDefault,
}

/// The SSE-KMS key the upload uses, if any. `None` for SSE-S3, SSE-C, or no encryption.
pub fn key_choice(snapshot: &Snapshot) -> Option<KeyChoice> {
    let upload = &snapshot.request.upload;
    let default = snapshot.bucket.as_ref().and_then(|b| b.encryption.as_ref());
    let default_bucket_key = default.is_some_and(|e| e.bucket_key_enabled);
    match upload.server_side_encryption.as_deref() {
        Some("aws:kms" | "aws:kms:dsse") => {
            let (reference, source) = match &upload.sse_kms_key_id {
                Some(id) => (id.clone(), KeySource::RequestHeader),
                None => ("alias/aws/s3".to_owned(), KeySource::RequestDefault),
            };
            Some(KeyChoice {
                reference,
                source,
                bucket_key: upload.bucket_key_enabled.unwrap_or(default_bucket_key),
            })
        }
        Some(_) => None,
        None if upload.sse_customer_algorithm.is_some() => None,
        None => {
            let encryption = default?;
            if !encryption.sse_algorithm.starts_with("aws:kms") {
                return None;
            }
            Some(KeyChoice {
                reference: encryption
                    .kms_master_key_id
                    .clone()
                    .unwrap_or_else(|| "alias/aws/s3".to_owned()),
                source: KeySource::BucketDefault,
                bucket_key: upload
                    .bucket_key_enabled
                    .unwrap_or(encryption.bucket_key_enabled),
            })
        }
    }
}

/// Finds the snapshot's key for a reference: key ARN, key id, alias name or alias ARN.
pub fn find_key<'a>(snapshot: &'a Snapshot, reference: &str) -> Option<&'a KmsKey> {
    let alias = reference
        .find("alias/")
        .and_then(|at| reference.get(at..))
        .map(str::to_owned);
    snapshot.kms_keys.iter().find(|key| {
        key.arn == reference
            || key.arn.rsplit('/').next() == Some(reference)
            || alias
                .as_deref()
                .is_some_and(|a| key.aliases.iter().any(|k| k == a))
    })
}

/// True for AWS managed keys (`aws/...` aliases, or KeyManager AWS).
pub fn is_aws_managed(key: &KmsKey) -> bool {
    key.key_manager == "AWS" || key.aliases.iter().any(|a| a.starts_with("alias/aws/"))
}

/// The key's own causes for a check that reads and/or writes: a check that does both through another
/// account's AWS managed key is refused both ways, and the download's cause says what the download needs.
pub fn blockers(
    snapshot: &Snapshot,
    choice: &KeyChoice,
    key: &KmsKey,
    reading: bool,
    writing: bool,
) -> Vec<Cause> {
    let mut causes = key_causes(snapshot, choice, key, reading && !writing);
    let managed = causes
        .iter()
        .any(|c| c.id == CauseId::KmsAwsManagedKeyCrossAccount);
    if reading && writing && managed {
        let caller = Arn::parse(&snapshot.request.principal_arn)
            .map(|a| a.account.to_owned())
            .unwrap_or_default();
        causes.push(aws_managed_download(snapshot, key, &caller));
    }
    causes
}

/// Causes that come from the key itself, not from policies. `action` names the S3 action they break.
pub fn key_causes(
    snapshot: &Snapshot,
    choice: &KeyChoice,
    key: &KmsKey,
    reading: bool,
) -> Vec<Cause> {
    let action = if reading {
        "kms:Decrypt"
    } else {
        "kms:GenerateDataKey"
    };
    let caller_account = Arn::parse(&snapshot.request.principal_arn)
        .map(|a| a.account.to_owned())
        .unwrap_or_default();
    let cross_account = !key.account_id.is_empty() && key.account_id != caller_account;
    let managed_elsewhere = (is_aws_managed(key) && cross_account)
        .then(|| aws_managed_cross_account(snapshot, key, action, reading, &caller_account));
    // An alias or id resolves in the caller's account: a customer managed key of another account is missed.
    let alias_elsewhere =
        (!is_aws_managed(key) && cross_account && !choice.reference.starts_with("arn:"))
            .then(|| alias_in_caller_account(snapshot, choice, key, action, &caller_account));
    [
        key_state(key, action),
        wrong_region(snapshot, key, action),
        not_symmetric(key, action),
        managed_elsewhere,
        alias_elsewhere,
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// A key not `Enabled`: disabled, pending deletion, or unavailable.
fn key_state(key: &KmsKey, action: &str) -> Option<Cause> {
    match key.key_state.as_str() {
        "" | "Enabled" => None,
        "Disabled" => Some(
            Cause::error(CauseId::KmsKeyDisabled, SnapshotLayer::KmsKey, action, format!("KMS key `{}` is disabled", key.arn)).fix([
                Remediation::config(
                    "enable the key (in the key's account), or encrypt with another key",
                    Some(format!("aws kms enable-key --key-id {}", key.arn)),
                )
                .with_edit(Some(Edit::Config(ConfigEdit::EnableKey(key.arn.clone())))),
            ]),
        ),
        state => Some(
            Cause::error(
                CauseId::KmsKeyPendingDeletionOrUnavailable,
                SnapshotLayer::KmsKey,
                action,
                format!("KMS key `{}` is in state `{state}`; S3 cannot use it", key.arn),
            )
            .fix([Remediation::config(
                if state == "PendingDeletion" {
                    "cancel the key's deletion and enable it again"
                } else {
                    "bring the key back to `Enabled` (reconnect its key store, import its material), or use another key"
                },
                (state == "PendingDeletion").then(|| {
                    format!("aws kms cancel-key-deletion --key-id {0} && aws kms enable-key --key-id {0}", key.arn)
                }),
            )
            .with_edit((state == "PendingDeletion").then(|| Edit::Config(ConfigEdit::EnableKey(key.arn.clone()))))]),
        ),
    }
}

/// A key in another Region than the bucket.
fn wrong_region(snapshot: &Snapshot, key: &KmsKey, action: &str) -> Option<Cause> {
    let bucket = snapshot.bucket.as_ref()?;
    if key.region.is_empty() || bucket.region.is_empty() || key.region == bucket.region {
        return None;
    }
    Some(
        Cause::error(
            CauseId::KmsKeyNotFoundOrWrongRegion,
            SnapshotLayer::KmsKey,
            action,
            format!(
                "KMS key `{}` is in `{}` but the bucket is in `{}`; S3 needs a key in the bucket's Region",
                key.arn, key.region, bucket.region
            ),
        )
        .fix([Remediation::request(
            format!("use a key in `{}`", bucket.region),
            None,
        )]),
    )
}

/// An asymmetric or HMAC key: S3 uses symmetric keys only.
fn not_symmetric(key: &KmsKey, action: &str) -> Option<Cause> {
    (!key.key_spec.is_empty() && key.key_spec != "SYMMETRIC_DEFAULT").then(|| {
        Cause::error(
            CauseId::KmsKeyNotSymmetric,
            SnapshotLayer::KmsKey,
            action,
            format!("KMS key `{}` has key spec `{}`; S3 supports only symmetric encryption keys (`SYMMETRIC_DEFAULT`)", key.arn, key.key_spec),
        )
    })
}

/// The AWS managed key of another account: no caller from elsewhere can use it, and its policy is fixed.
fn aws_managed_cross_account(
    snapshot: &Snapshot,
    key: &KmsKey,
    action: &str,
    reading: bool,
    caller_account: &str,
) -> Cause {
    if reading {
        return aws_managed_download(snapshot, key, caller_account);
    }
    let id = CauseId::KmsAwsManagedKeyCrossAccount;
    Cause::error(
        id,
        SnapshotLayer::KmsKey,
        action,
        format!(
            "the upload uses the AWS managed key `{}` of account `{}`; callers from account `{caller_account}` can never use it and its key policy cannot be changed",
            key.aliases.first().map_or(key.arn.as_str(), String::as_str),
            key.account_id
        ),
    )
    .fix([
        Remediation::request(
            "send a customer managed key that the caller may use",
            Some(super::remediation::upload_command(&snapshot.request, |u| {
                u.server_side_encryption = Some("aws:kms".into());
                u.sse_kms_key_id = Some("arn:aws:kms:<REGION>:<ACCOUNT>:key/<KEY-ID>".into());
            })),
        ),
        replacement_key_fix(snapshot, key),
    ])
}

/// A download of an object encrypted with another account's AWS managed key: nothing the caller or the key
/// can change lets it decrypt; the object must be encrypted again, by its bucket's account, with a key the
/// caller may use.
pub fn aws_managed_download(snapshot: &Snapshot, key: &KmsKey, caller_account: &str) -> Cause {
    let bucket = &snapshot.request.bucket;
    let object = snapshot.request.key();
    Cause::error(
        CauseId::GetKmsAwsManagedKeyCrossAccount,
        SnapshotLayer::KmsKey,
        "kms:Decrypt",
        format!(
            "the object is encrypted with the AWS managed key `{}` of account `{}`; callers from account `{caller_account}` can never decrypt it and its key policy cannot be changed",
            key.aliases.first().map_or(key.arn.as_str(), String::as_str),
            key.account_id
        ),
    )
    .fix([Remediation::config(
        "in the bucket's account, copy the object onto itself encrypted with a customer managed key whose key policy lets the caller decrypt (and make that key the bucket's default encryption for new objects)",
        Some(format!(
            "aws s3 cp s3://{bucket}/{object} s3://{bucket}/{object} --sse aws:kms --sse-kms-key-id <CUSTOMER-MANAGED-KEY-ARN>  # in account {}",
            key.account_id
        )),
    )])
}

/// The config fix of an AWS managed key used across accounts: create a customer managed key for the caller
/// (its key policy is the remediation's patch) and make it the bucket's default encryption.
fn replacement_key_fix(snapshot: &Snapshot, key: &KmsKey) -> Remediation {
    let new_key = replacement_key(snapshot, key);
    let command = format!(
        "aws kms create-key --description 'uploads of {caller}' --policy file://key-policy.json  # in account {account}; then: aws s3api put-bucket-encryption --bucket {bucket} --server-side-encryption-configuration '{{\"Rules\":[{{\"ApplyServerSideEncryptionByDefault\":{{\"SSEAlgorithm\":\"aws:kms\",\"KMSMasterKeyID\":\"<NEW-KEY-ARN>\"}}}}]}}'",
        caller = snapshot.request.principal_arn,
        account = key.account_id,
        bucket = snapshot.request.bucket,
    );
    let mut fix = Remediation::config(
        "create a customer managed key in the bucket's account whose key policy lets the caller use it (and nobody else use it), and make it the bucket's default encryption",
        Some(command),
    )
    .with_edit(
        new_key
            .clone()
            .map(|k| Edit::Config(ConfigEdit::CustomerManagedKey(Box::new(k)))),
    );
    fix.policy_patch = new_key.and_then(|k| k.policy);
    fix
}

/// The customer managed key that replaces an AWS managed one used across accounts: in the bucket's account and
/// Region, symmetric and enabled; its policy lets the key's account administer it (no use of it) and the caller
/// generate data keys and decrypt with it, nothing else.
fn replacement_key(snapshot: &Snapshot, key: &KmsKey) -> Option<KmsKey> {
    let bucket = snapshot.bucket.as_ref()?;
    let partition = snapshot.request.partition();
    let (account, region) = (&key.account_id, &bucket.region);
    let caller = &snapshot.request.principal_arn;
    Some(KmsKey {
        arn: format!("arn:{partition}:kms:{region}:{account}:key/NEW-CUSTOMER-MANAGED-KEY"),
        account_id: account.clone(),
        region: region.clone(),
        aliases: Vec::new(),
        key_manager: "CUSTOMER".to_owned(),
        key_state: "Enabled".to_owned(),
        key_spec: "SYMMETRIC_DEFAULT".to_owned(),
        policy: Some(serde_json::json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "KeyAdministration", "Effect": "Allow",
             "Principal": {"AWS": format!("arn:{partition}:iam::{account}:root")},
             "Action": ["kms:Describe*", "kms:Get*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Enable*",
                        "kms:Disable*", "kms:Revoke*", "kms:TagResource", "kms:UntagResource",
                        "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion"],
             "Resource": "*"},
            {"Sid": "UploadsOfTheCaller", "Effect": "Allow", "Principal": {"AWS": caller},
             "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": "*"}]})),
        grants: Vec::new(),
        tags: Some(std::collections::BTreeMap::new()),
    })
}

/// A customer managed key of another account referenced by alias or id: KMS looks in the caller's account.
fn alias_in_caller_account(
    snapshot: &Snapshot,
    choice: &KeyChoice,
    key: &KmsKey,
    action: &str,
    caller_account: &str,
) -> Cause {
    Cause::error(
        CauseId::KmsAliasResolvesInCallerAccount,
        SnapshotLayer::BucketEncryption,
        action,
        format!(
            "the key is referenced as `{}`, which KMS resolves in the caller's account `{caller_account}`, not in the key's account `{}`",
            choice.reference, key.account_id
        ),
    )
    .fix([
        Remediation::upload(
            "send the key by its full ARN in the upload's header",
            &snapshot.request,
            |u| {
                u.server_side_encryption = Some("aws:kms".into());
                u.sse_kms_key_id = Some(key.arn.clone());
            },
        ),
        Remediation::config(
            "reference the key by its full ARN (request header or bucket default encryption)",
            Some(format!(
                "aws s3api put-bucket-encryption --bucket {} --server-side-encryption-configuration '{{\"Rules\":[{{\"ApplyServerSideEncryptionByDefault\":{{\"SSEAlgorithm\":\"aws:kms\",\"KMSMasterKeyID\":\"{}\"}},\"BucketKeyEnabled\":true}}]}}'",
                snapshot.request.bucket, key.arn
            )),
        ),
    ])
}

/// Whether a policy id is one of `grant_policies`.
pub fn is_grant_policy(id: &str) -> bool {
    id.rsplit_once("#grant-")
        .is_some_and(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The key's grants, each as a policy of the key's resource layer (id `KEY_ARN#grant-N`): an Allow for the
/// grantee and the grant's operations, its encryption-context constraints as conditions. A grant whose
/// constraints S3's request can never meet (a key other than `aws:s3:arn`, an unknown constraint kind, a
/// malformed value) allows nothing and is left out: the engine must never see it as broader than it is.
pub fn grant_policies(key: &KmsKey) -> Vec<iam_policy::Policy> {
    key.grants
        .iter()
        .enumerate()
        .filter_map(|(i, grant)| {
            let condition = grant_condition(grant.constraints.as_ref())?;
            let actions: Vec<String> = grant
                .operations
                .iter()
                .map(|o| format!("kms:{o}"))
                .collect();
            let mut statement = json!({
                "Sid": format!("grant-{i}"),
                "Effect": "Allow",
                "Principal": {"AWS": grant.grantee_principal},
                "Action": actions,
                "Resource": "*",
            });
            if let (Some(obj), false) = (statement.as_object_mut(), condition.is_empty()) {
                obj.insert("Condition".into(), json!({"StringEquals": condition}));
            }
            let document = json!({"Version": "2012-10-17", "Statement": [statement]});
            Some(iam_policy::parse_policy(
                &format!("{}#grant-{i}", key.arn),
                &document,
                iam_policy::PolicyKind::Resource,
                "",
            ))
        })
        .collect()
}

/// The `StringEquals` pairs of a grant's constraints; `None` when S3's encryption context (exactly one pair,
/// `aws:s3:arn`) can never satisfy them. Context keys are case-sensitive in KMS and not in IAM conditions:
/// only the exact key `aws:s3:arn` is translated.
fn grant_condition(constraints: Option<&Value>) -> Option<serde_json::Map<String, Value>> {
    let mut pairs = serde_json::Map::new();
    let Some(constraints) = constraints else {
        return Some(pairs);
    };
    for (kind, wanted) in constraints.as_object()? {
        let wanted = wanted.as_object()?;
        let equals = match kind.to_ascii_lowercase().as_str() {
            "encryptioncontextsubset" => false,
            "encryptioncontextequals" => true,
            _ => return None,
        };
        if equals && wanted.len() != 1 {
            return None;
        }
        for (k, v) in wanted {
            if k != "aws:s3:arn" || !v.is_string() {
                return None;
            }
            pairs.insert(format!("kms:EncryptionContext:{k}"), v.clone());
        }
    }
    Some(pairs)
}
