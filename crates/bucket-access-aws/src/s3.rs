//! Reads the bucket: Region, policy, Object Ownership, Block Public Access (bucket, and account through
//! s3control), default encryption, Object Lock, Requester Pays. "Not configured" answers mean absent, not
//! unreadable.

use super::error::ReadError;
use super::Reader;
use aws_sdk_s3::operation as s3_op;
use s3_diagnosis::snapshot::{AclGrant, BucketAcl, ObjectData};
use s3_diagnosis::snapshot::{BucketData, Encryption, PublicAccessBlock, SnapshotLayer};
use std::collections::BTreeMap;

/// The bucket, and each layer that could not be read.
#[derive(Clone)]
pub struct BucketRead {
    /// What was read.
    pub bucket: BucketData,
    /// What was not.
    pub unavailable: Vec<(SnapshotLayer, ReadError)>,
}

/// `Ok(None)` for a "there is none" answer (`error::is_not_found_answer`: no bucket policy, no Object
/// Ownership setting, ...), the error otherwise.
pub(crate) fn absent_as_none<T>(result: Result<T, ReadError>) -> Result<Option<T>, ReadError> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e)
            if e.code
                .as_deref()
                .is_some_and(super::error::is_not_found_answer) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// A Block Public Access configuration: AWS always sends its four settings; one missing is no answer
/// (`None`), never "off".
fn block(
    acls: Option<bool>,
    ignore: Option<bool>,
    policy: Option<bool>,
    restrict: Option<bool>,
) -> Option<PublicAccessBlock> {
    Some(PublicAccessBlock {
        block_public_acls: acls?,
        ignore_public_acls: ignore?,
        block_public_policy: policy?,
        restrict_public_buckets: restrict?,
    })
}

/// What a read that answered must hold: `take` finds it in the answer, and an answer without it is a failed
/// read naming `what` (AWS answers "there is none" with an error code, which `absent_as_none` reads).
pub(crate) fn required<O, T>(
    api: &'static str,
    read: Result<Option<O>, ReadError>,
    what: &str,
    take: impl FnOnce(&O) -> Option<T>,
) -> Result<Option<T>, ReadError> {
    match read? {
        None => Ok(None),
        Some(answer) => take(&answer)
            .map(Some)
            .ok_or_else(|| ReadError::other(api, format!("the answer has no {what}"))),
    }
}

/// One bucket setting: "none" only from AWS's own answer for none, an answer without what AWS always sends
/// (`what`) a failed read, and a failed read noted against `layer`.
fn setting<O, T>(
    api: &'static str,
    read: Result<O, ReadError>,
    what: &str,
    layer: SnapshotLayer,
    u: &mut Vec<(SnapshotLayer, ReadError)>,
    take: impl FnOnce(&O) -> Option<T>,
) -> Option<T> {
    noted(required(api, absent_as_none(read), what, take), layer, u)
}

fn block_from_s3(
    c: &aws_sdk_s3::types::PublicAccessBlockConfiguration,
) -> Option<PublicAccessBlock> {
    block(
        c.block_public_acls(),
        c.ignore_public_acls(),
        c.block_public_policy(),
        c.restrict_public_buckets(),
    )
}

pub(crate) fn block_from_s3control(
    c: &aws_sdk_s3control::types::PublicAccessBlockConfiguration,
) -> Option<PublicAccessBlock> {
    block(
        c.block_public_acls(),
        c.ignore_public_acls(),
        c.block_public_policy(),
        c.restrict_public_buckets(),
    )
}

/// The bucket's Region (`GetBucketLocation`; empty means us-east-1, `EU` means eu-west-1). Every bucket
/// call names the account the check expects to own the bucket (`ExpectedBucketOwner`): bucket names are
/// global, and another account's bucket of that name answers 403 instead of being read as the check's.
pub async fn bucket_region(r: &Reader, bucket: &str, account: &str) -> Result<String, ReadError> {
    let out = r
        .call(
            "s3:GetBucketLocation",
            r.s3.get_bucket_location()
                .bucket(bucket)
                .expected_bucket_owner(account)
                .send(),
        )
        .await?;
    let region = out
        .location_constraint()
        .map(|c| c.as_str().to_owned())
        .unwrap_or_default();
    Ok(match region.as_str() {
        "" => "us-east-1".to_owned(),
        "EU" => "eu-west-1".to_owned(),
        _ => region,
    })
}

/// The answer of a read, or none with the layer noted as unavailable.
fn noted<T>(
    read: Result<Option<T>, ReadError>,
    layer: SnapshotLayer,
    unavailable: &mut Vec<(SnapshotLayer, ReadError)>,
) -> Option<T> {
    read.unwrap_or_else(|e| {
        unavailable.push((layer, e));
        None
    })
}

/// The bucket's default encryption (its first rule), with the encryption types it blocks.
fn default_encryption(
    answer: &aws_sdk_s3::operation::get_bucket_encryption::GetBucketEncryptionOutput,
) -> Option<Encryption> {
    let rule = answer
        .server_side_encryption_configuration()?
        .rules()
        .first()?;
    let default = rule.apply_server_side_encryption_by_default()?;
    Some(Encryption {
        sse_algorithm: default.sse_algorithm().as_str().to_owned(),
        kms_master_key_id: default.kms_master_key_id().map(str::to_owned),
        bucket_key_enabled: rule.bucket_key_enabled().unwrap_or(false),
        blocked_encryption_types: rule
            .blocked_encryption_types()
            .map(|b| {
                b.encryption_type()
                    .iter()
                    .map(|t| t.as_str().to_owned())
                    .collect()
            })
            .unwrap_or_default(),
    })
}

/// Reads everything about a bucket that the diagnosis uses. `r` must hold credentials of the bucket's
/// account and a client for its Region.
pub async fn read_bucket(r: &Reader, name: &str, account: &str, region: &str) -> BucketRead {
    let mut unavailable = Vec::new();
    let mut bucket = BucketData {
        name: name.to_owned(),
        account_id: account.to_owned(),
        region: region.to_owned(),
        ..BucketData::default()
    };
    let (policy, ownership, pab, account_pab, encryption, lock, payment) = tokio::join!(
        r.call(
            "s3:GetBucketPolicy",
            r.s3.get_bucket_policy()
                .bucket(name)
                .expected_bucket_owner(account)
                .send()
        ),
        r.call(
            "s3:GetBucketOwnershipControls",
            r.s3.get_bucket_ownership_controls()
                .bucket(name)
                .expected_bucket_owner(account)
                .send()
        ),
        r.call(
            "s3:GetPublicAccessBlock",
            r.s3.get_public_access_block()
                .bucket(name)
                .expected_bucket_owner(account)
                .send()
        ),
        r.call(
            "s3control:GetPublicAccessBlock",
            r.s3control
                .get_public_access_block()
                .account_id(account)
                .send()
        ),
        r.call(
            "s3:GetBucketEncryption",
            r.s3.get_bucket_encryption()
                .bucket(name)
                .expected_bucket_owner(account)
                .send()
        ),
        r.call(
            "s3:GetObjectLockConfiguration",
            r.s3.get_object_lock_configuration()
                .bucket(name)
                .expected_bucket_owner(account)
                .send()
        ),
        r.call(
            "s3:GetBucketRequestPayment",
            r.s3.get_bucket_request_payment()
                .bucket(name)
                .expected_bucket_owner(account)
                .send()
        ),
    );
    let u = &mut unavailable;
    access_settings(&mut bucket, policy, ownership, pab, account_pab, u);
    storage_settings(&mut bucket, encryption, lock, payment, u);
    BucketRead {
        bucket,
        unavailable,
    }
}

/// The bucket's access settings from their answers: policy, Object Ownership, Block Public Access (the
/// bucket's and its account's).
fn access_settings(
    bucket: &mut BucketData,
    policy: Result<s3_op::get_bucket_policy::GetBucketPolicyOutput, ReadError>,
    ownership: Result<
        s3_op::get_bucket_ownership_controls::GetBucketOwnershipControlsOutput,
        ReadError,
    >,
    pab: Result<s3_op::get_public_access_block::GetPublicAccessBlockOutput, ReadError>,
    account_pab: Result<
        aws_sdk_s3control::operation::get_public_access_block::GetPublicAccessBlockOutput,
        ReadError,
    >,
    u: &mut Vec<(SnapshotLayer, ReadError)>,
) {
    // "None" only where AWS says so (its error codes); an answer lacking what AWS always sends is a failed
    // read of its layer.
    bucket.policy = setting(
        "s3:GetBucketPolicy",
        policy,
        "policy",
        SnapshotLayer::BucketPolicy,
        u,
        |p| p.policy().map(super::policy_document),
    );
    bucket.ownership = setting(
        "s3:GetBucketOwnershipControls",
        ownership,
        "Object Ownership rule",
        SnapshotLayer::BucketOwnership,
        u,
        |o| {
            o.ownership_controls()
                .and_then(|c| c.rules().first())
                .map(|rule| rule.object_ownership().as_str().to_owned())
        },
    );
    bucket.public_access_block = setting(
        "s3:GetPublicAccessBlock",
        pab,
        "complete Block Public Access configuration",
        SnapshotLayer::PublicAccessBlock,
        u,
        |p| {
            p.public_access_block_configuration()
                .and_then(block_from_s3)
        },
    );
    bucket.account_public_access_block = setting(
        "s3control:GetPublicAccessBlock",
        account_pab,
        "complete Block Public Access configuration",
        SnapshotLayer::AccountPublicAccessBlock,
        u,
        |p| {
            p.public_access_block_configuration()
                .and_then(block_from_s3control)
        },
    );
}

/// The bucket's storage settings from their answers: default encryption, Object Lock, Requester Pays.
fn storage_settings(
    bucket: &mut BucketData,
    encryption: Result<s3_op::get_bucket_encryption::GetBucketEncryptionOutput, ReadError>,
    lock: Result<s3_op::get_object_lock_configuration::GetObjectLockConfigurationOutput, ReadError>,
    payment: Result<s3_op::get_bucket_request_payment::GetBucketRequestPaymentOutput, ReadError>,
    u: &mut Vec<(SnapshotLayer, ReadError)>,
) {
    bucket.encryption = setting(
        "s3:GetBucketEncryption",
        encryption,
        "default encryption rule",
        SnapshotLayer::BucketEncryption,
        u,
        default_encryption,
    );
    bucket.object_lock_enabled = noted(absent_as_none(lock), SnapshotLayer::Request, u)
        .and_then(|l| {
            l.object_lock_configuration()
                .and_then(|c| c.object_lock_enabled().map(|e| e.as_str() == "Enabled"))
        })
        .unwrap_or(false);
    bucket.requester_pays = noted(
        required(
            "s3:GetBucketRequestPayment",
            payment.map(Some),
            "payer",
            |p| p.payer().map(|payer| payer.as_str() == "Requester"),
        ),
        SnapshotLayer::Request,
        u,
    )
    .unwrap_or(false);
}

/// The bucket's tags and whether ABAC is enabled on it (only then do its tags act in authorization). No tag
/// set is no tags; a server that cannot say whether ABAC is enabled fails the read (never guessed).
pub async fn read_tags(
    r: &Reader,
    name: &str,
    account: &str,
) -> Result<(BTreeMap<String, String>, bool), ReadError> {
    let (tagging, abac) = tokio::join!(
        r.call(
            "s3:GetBucketTagging",
            r.s3.get_bucket_tagging()
                .bucket(name)
                .expected_bucket_owner(account)
                .send()
        ),
        r.call(
            "s3:GetBucketAbac",
            r.s3.get_bucket_abac()
                .bucket(name)
                .expected_bucket_owner(account)
                .send()
        ),
    );
    let tags = absent_as_none(tagging)?
        .map(|t| {
            t.tag_set()
                .iter()
                .map(|tag| (tag.key().to_owned(), tag.value().to_owned()))
                .collect()
        })
        .unwrap_or_default();
    let enabled = abac?
        .abac_status()
        .and_then(|a| a.status())
        .map(|s| s.as_str() == "Enabled")
        .ok_or_else(|| ReadError::other("s3:GetBucketAbac", "the answer has no ABAC status"))?;
    Ok((tags, enabled))
}

/// The bucket's ACL: its owner's canonical id and every grant.
pub async fn read_acl(r: &Reader, name: &str, account: &str) -> Result<BucketAcl, ReadError> {
    let answer = r
        .call(
            "s3:GetBucketAcl",
            r.s3.get_bucket_acl()
                .bucket(name)
                .expected_bucket_owner(account)
                .send(),
        )
        .await?;
    Ok(BucketAcl {
        owner: answer
            .owner()
            .and_then(|o| o.id())
            .unwrap_or_default()
            .to_owned(),
        grants: grants(answer.grants()),
    })
}

/// An ACL's grants, as the snapshot holds them.
fn grants(grants: &[aws_sdk_s3::types::Grant]) -> Vec<AclGrant> {
    grants
        .iter()
        .filter_map(|g| {
            let grantee = g.grantee()?;
            let who = grantee.id().or(grantee.uri()).or(grantee.email_address())?;
            Some(AclGrant {
                grantee_type: grantee.r#type().as_str().to_owned(),
                grantee: who.to_owned(),
                permission: g.permission()?.as_str().to_owned(),
            })
        })
        .collect()
}

/// The canonical user id of the account of `r`'s credentials (the owner `ListBuckets` names).
pub async fn account_canonical_id(r: &Reader) -> Result<String, ReadError> {
    let answer = r
        .call("s3:ListBuckets", r.s3.list_buckets().max_buckets(1).send())
        .await?;
    answer
        .owner()
        .and_then(|o| o.id())
        .map(str::to_owned)
        .ok_or_else(|| ReadError::other("s3:ListBuckets", "no owner in the answer"))
}

/// The object a download reads: whether it exists, its owner, storage class and restore state
/// (`ListObjectsV2`, which needs `s3:ListBucket` only, never `s3:GetObject`), its tags (`GetObjectTagging`),
/// and, when `acls_act` (Object Ownership is not `BucketOwnerEnforced`), its ACL's grants (`GetObjectAcl`).
pub async fn read_object(
    r: &Reader,
    name: &str,
    key: &str,
    account: &str,
    acls_act: bool,
) -> Result<ObjectData, ReadError> {
    let listed = r
        .call(
            "s3:ListObjectsV2",
            r.s3.list_objects_v2()
                .bucket(name)
                .prefix(key)
                .max_keys(1)
                .fetch_owner(true)
                .optional_object_attributes(
                    aws_sdk_s3::types::OptionalObjectAttributes::RestoreStatus,
                )
                .expected_bucket_owner(account)
                .send(),
        )
        .await?;
    // Keys sort in byte order: the key itself comes first among those it prefixes.
    let Some(object) = listed.contents().first().filter(|o| o.key() == Some(key)) else {
        return Ok(ObjectData::default());
    };
    // A listed object always comes with its storage class and (asked for) its owner: without them the
    // object's facts are not known (an archived object would read as readable, another account's as the
    // bucket owner's).
    if object.storage_class().is_none() || object.owner().and_then(|o| o.id()).is_none() {
        return Err(ReadError::other(
            "s3:ListObjectsV2",
            "the answer lists the object without its storage class or owner",
        ));
    }
    let tagging = r
        .call(
            "s3:GetObjectTagging",
            r.s3.get_object_tagging()
                .bucket(name)
                .key(key)
                .expected_bucket_owner(account)
                .send(),
        )
        .await;
    // An archived object's tags may not be readable (`InvalidObjectState`): they stay unknown.
    let tags = match tagging {
        Ok(t) => Some(
            t.tag_set()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect(),
        ),
        Err(e) if e.is_code(&["InvalidObjectState"]) => None,
        Err(e) => return Err(e),
    };
    let acl = if acls_act {
        let answer = r
            .call(
                "s3:GetObjectAcl",
                r.s3.get_object_acl()
                    .bucket(name)
                    .key(key)
                    .expected_bucket_owner(account)
                    .send(),
            )
            .await?;
        Some(grants(answer.grants()))
    } else {
        None
    };
    Ok(ObjectData {
        exists: true,
        owner: object.owner().and_then(|o| o.id()).map(str::to_owned),
        acl,
        storage_class: object.storage_class().map(|c| c.as_str().to_owned()),
        restored: object.restore_status().map(|r| {
            !r.is_restore_in_progress().unwrap_or(false) && r.restore_expiry_date().is_some()
        }),
        tags,
        // The listing describes the current version (a version of its own is not read).
        version_id: None,
    })
}
