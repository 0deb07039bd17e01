//! Reads a KMS key: metadata (state, spec, manager, Region), aliases, key policy (`default`) and grants.
//! AWS managed keys are also recognised by their `alias/aws/...` aliases.

use super::error::ReadError;
use super::Reader;
use s3_diagnosis::snapshot::{KmsGrant, KmsKey, SnapshotLayer};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The key, and each of its layers that could not be read.
#[derive(Clone)]
pub struct KeyRead {
    /// What was read (`None` when even the metadata could not be read).
    pub key: Option<KmsKey>,
    /// What was not.
    pub unavailable: Vec<(SnapshotLayer, ReadError)>,
}

/// Reads the key `reference` (ARN, key id or alias). `r` must hold credentials that resolve the reference:
/// the caller's account for ids and aliases, the key's account for the key policy.
pub async fn read_key(r: &Reader, reference: &str) -> KeyRead {
    let mut unavailable = Vec::new();
    let described = match r
        .call(
            "kms:DescribeKey",
            r.kms.describe_key().key_id(reference).send(),
        )
        .await
    {
        Ok(d) => d,
        Err(e) if e.is_code(&["NotFoundException"]) => {
            return KeyRead {
                key: None,
                unavailable,
            }
        }
        Err(e) => {
            unavailable.push((SnapshotLayer::KmsKey, e));
            return KeyRead {
                key: None,
                unavailable,
            };
        }
    };
    let Some(meta) = described.key_metadata() else {
        unavailable.push((
            SnapshotLayer::KmsKey,
            ReadError::other("kms:DescribeKey", "no key metadata in the answer"),
        ));
        return KeyRead {
            key: None,
            unavailable,
        };
    };
    let mut key = key_of(meta, reference);
    let key_id = meta.key_id().to_owned();
    let (aliases, policy, grants) = tokio::join!(
        every!(r, "kms:ListAliases", r.kms.list_aliases().key_id(&key_id)),
        r.call(
            "kms:GetKeyPolicy",
            r.kms
                .get_key_policy()
                .key_id(&key_id)
                .policy_name("default")
                .send()
        ),
        every!(r, "kms:ListGrants", r.kms.list_grants().key_id(&key_id)),
    );
    match aliases {
        Ok(a) => {
            key.aliases = a
                .iter()
                .filter_map(|a| a.alias_name().map(str::to_owned))
                .collect()
        }
        Err(e) => unavailable.push((SnapshotLayer::KmsKey, e)),
    }
    if reference.starts_with("alias/") && !key.aliases.iter().any(|a| a == reference) {
        key.aliases.push(reference.to_owned());
    }
    if key.aliases.iter().any(|a| a.starts_with("alias/aws/")) {
        key.key_manager = "AWS".to_owned();
    }
    // Every key has a key policy: an answer without one is a failed read, not "no policy".
    match policy.and_then(|p| {
        p.policy()
            .map(super::policy_document)
            .ok_or_else(|| ReadError::other("kms:GetKeyPolicy", "the answer has no policy"))
    }) {
        Ok(p) => key.policy = Some(p),
        Err(e) => unavailable.push((SnapshotLayer::KmsKeyPolicy, e)),
    }
    match grants {
        Ok(g) => key.grants = g.iter().map(grant_of).collect(),
        Err(e) => unavailable.push((SnapshotLayer::KmsGrants, e)),
    }
    KeyRead {
        key: Some(key),
        unavailable,
    }
}

/// The key as `DescribeKey` describes it (aliases, policy and grants are read next).
fn key_of(meta: &aws_sdk_kms::types::KeyMetadata, reference: &str) -> KmsKey {
    let arn = meta.arn().unwrap_or(reference).to_owned();
    let region = arn.split(':').nth(3).unwrap_or_default().to_owned();
    KmsKey {
        arn: arn.clone(),
        account_id: meta.aws_account_id().unwrap_or_default().to_owned(),
        region,
        aliases: Vec::new(),
        key_manager: meta
            .key_manager()
            .map(|m| m.as_str().to_owned())
            .unwrap_or_default(),
        key_state: meta
            .key_state()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        key_spec: meta
            .key_spec()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        policy: None,
        grants: Vec::new(),
        tags: None,
    }
}

/// One grant: its grantee, operations and encryption-context constraints.
fn grant_of(grant: &aws_sdk_kms::types::GrantListEntry) -> KmsGrant {
    KmsGrant {
        grantee_principal: grant.grantee_principal().unwrap_or_default().to_owned(),
        operations: grant
            .operations()
            .iter()
            .map(|o| o.as_str().to_owned())
            .collect(),
        constraints: grant.constraints().map(|c| {
            let mut out = Map::new();
            if let Some(subset) = c.encryption_context_subset() {
                out.insert("encryptionContextSubset".into(), json!(subset));
            }
            if let Some(equals) = c.encryption_context_equals() {
                out.insert("encryptionContextEquals".into(), json!(equals));
            }
            Value::Object(out)
        }),
    }
}

/// The key's tags (its `aws:ResourceTag/...` values).
pub async fn read_tags(r: &Reader, key_arn: &str) -> Result<BTreeMap<String, String>, ReadError> {
    let tags = every!(
        r,
        "kms:ListResourceTags",
        r.kms.list_resource_tags().key_id(key_arn)
    )
    .await?;
    Ok(tags
        .iter()
        .map(|t| (t.tag_key().to_owned(), t.tag_value().to_owned()))
        .collect())
}
