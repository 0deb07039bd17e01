//! `check --with LAYER=FILE`: a proposed document replaces the live one in the snapshot before the diagnosis,
//! so that a pipeline can ask whether a policy change would break the uploads it depends on before the
//! change is applied. Layers: `bucketPolicy`, `identity:NAME-OR-ARN` (a new inline policy when the principal
//! has none of that name), `permissionsBoundary`, `kmsKeyPolicy[:KEY-ARN]`, `vpcEndpointPolicy`, `scp:ID`.

use s3_diagnosis::snapshot::{NamedPolicy, Snapshot};
use serde_json::Value;
use std::path::PathBuf;

/// Which document a proposal replaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The bucket policy.
    BucketPolicy,
    /// An identity policy of the principal, by name or ARN.
    Identity(String),
    /// The permissions boundary.
    PermissionsBoundary,
    /// A key policy (the key the upload uses, or this ARN).
    KmsKeyPolicy(Option<String>),
    /// The VPC endpoint's policy.
    VpcEndpointPolicy,
    /// A service control policy, by id or ARN.
    Scp(String),
}

/// One proposed document.
#[derive(Debug, Clone)]
pub struct Proposal {
    /// What it replaces.
    pub target: Target,
    /// The file it comes from.
    pub file: PathBuf,
    /// The document.
    pub document: Value,
    /// `LAYER=FILE` as given.
    pub given: String,
}

/// Why a proposal cannot be used; each names the `--with` argument as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WhatIfError {
    /// Not `LAYER=FILE`.
    #[error("`--with {given}`: expected LAYER=FILE")]
    NotLayerFile {
        /// The argument.
        given: String,
    },
    /// A layer that cannot be replaced.
    #[error("`--with {given}`: unknown layer `{layer}` (bucketPolicy, identity:NAME-OR-ARN, permissionsBoundary, kmsKeyPolicy[:KEY-ARN], vpcEndpointPolicy, scp:ID)")]
    UnknownLayer {
        /// The argument.
        given: String,
        /// Its layer.
        layer: String,
    },
    /// The file cannot be read.
    #[error("`--with {given}`: cannot read `{file}`: {message}")]
    Unreadable {
        /// The argument.
        given: String,
        /// The file.
        file: String,
        /// The system's words.
        message: String,
    },
    /// The file is not a JSON policy.
    #[error("`--with {given}`: `{file}` is not a JSON policy: {message}")]
    NotAPolicy {
        /// The argument.
        given: String,
        /// The file.
        file: String,
        /// The parser's words.
        message: String,
    },
    /// The check reads no document of that layer (no key, no such SCP).
    #[error("`--with {given}`: the check reads no such document")]
    NotRead {
        /// The argument.
        given: String,
    },
}

/// Parses `LAYER=FILE` and reads the file (strict JSON: a key given twice is refused).
pub fn parse(given: &str) -> Result<Proposal, WhatIfError> {
    let (layer, file) = given
        .split_once('=')
        .ok_or_else(|| WhatIfError::NotLayerFile {
            given: given.to_owned(),
        })?;
    let (name, arg) = match layer.split_once(':') {
        Some((n, a)) => (n, Some(a.to_owned())),
        None => (layer, None),
    };
    let target = match (name, arg) {
        ("bucketPolicy", None) => Target::BucketPolicy,
        ("identity", Some(a)) if !a.is_empty() => Target::Identity(a),
        ("permissionsBoundary", None) => Target::PermissionsBoundary,
        ("kmsKeyPolicy", a) => Target::KmsKeyPolicy(a),
        ("vpcEndpointPolicy", None) => Target::VpcEndpointPolicy,
        ("scp", Some(a)) if !a.is_empty() => Target::Scp(a),
        _ => {
            return Err(WhatIfError::UnknownLayer {
                given: given.to_owned(),
                layer: layer.to_owned(),
            })
        }
    };
    let file = PathBuf::from(file);
    let text = std::fs::read_to_string(&file).map_err(|e| WhatIfError::Unreadable {
        given: given.to_owned(),
        file: file.display().to_string(),
        message: e.to_string(),
    })?;
    let document =
        iam_policy::strict_json::from_str(&text).map_err(|e| WhatIfError::NotAPolicy {
            given: given.to_owned(),
            file: file.display().to_string(),
            message: e.to_string(),
        })?;
    Ok(Proposal {
        target,
        file,
        document,
        given: given.to_owned(),
    })
}

/// The snapshot with the proposals in place of the live documents; an error names a proposal whose
/// document is not in the snapshot (a key policy when no key is used, an SCP the path does not hold).
pub fn apply(snapshot: &Snapshot, proposals: &[Proposal]) -> Result<Snapshot, WhatIfError> {
    let mut s = snapshot.clone();
    for p in proposals {
        let doc = p.document.clone();
        let missing = || WhatIfError::NotRead {
            given: p.given.clone(),
        };
        match &p.target {
            Target::BucketPolicy => s.bucket.as_mut().ok_or_else(missing)?.policy = Some(doc),
            Target::Identity(which) => {
                let principal = s.principal.as_mut().ok_or_else(missing)?;
                match principal
                    .policies
                    .iter_mut()
                    .find(|n| n.id == *which || n.name == *which)
                {
                    Some(n) => n.document = doc,
                    None => principal.policies.push(NamedPolicy {
                        id: which.clone(),
                        name: which.rsplit('/').next().unwrap_or(which).to_owned(),
                        source: Some("inline".to_owned()),
                        document: doc,
                    }),
                }
            }
            Target::PermissionsBoundary => {
                let principal = s.principal.as_mut().ok_or_else(missing)?;
                match principal.permissions_boundary.as_mut() {
                    Some(b) => b.document = doc,
                    None => {
                        principal.permissions_boundary = Some(NamedPolicy {
                            id: "proposed-permissions-boundary".to_owned(),
                            name: "proposed-permissions-boundary".to_owned(),
                            source: Some("proposed".to_owned()),
                            document: doc,
                        });
                    }
                }
            }
            Target::KmsKeyPolicy(arn) => {
                let key = match arn {
                    Some(a) => s.kms_keys.iter_mut().find(|k| k.arn == *a),
                    None => s.kms_keys.first_mut(),
                };
                key.ok_or_else(missing)?.policy = Some(doc);
            }
            Target::VpcEndpointPolicy => {
                s.vpc_endpoint.as_mut().ok_or_else(missing)?.policy = Some(doc);
            }
            Target::Scp(id) => {
                let scp = s
                    .organization
                    .as_mut()
                    .ok_or_else(missing)?
                    .scps
                    .iter_mut()
                    .flatten()
                    .find(|n| n.id == *id || n.id.ends_with(&format!("/{id}")) || n.name == *id)
                    .ok_or_else(missing)?;
                scp.document = doc;
            }
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_are_named_or_refused() {
        let message = |given: &str| parse(given).unwrap_err().to_string();
        assert!(message("nonsense").contains("LAYER=FILE"));
        assert!(message("bucket=x.json").contains("unknown layer"));
        assert!(message("bucketPolicy=/nonexistent.json").contains("cannot read"));
    }
}
