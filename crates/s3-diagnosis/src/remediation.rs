//! Remediations: the request change (an `aws s3api` command with the flag that fixes it, built from the
//! upload as the workload makes it) and the policy change (a sentence, and a JSON statement where one can be
//! computed). Each carries, where it can, the `Edit` it makes to the snapshot: the whole-check fix (`fix`)
//! applies edits and re-diagnoses.

use super::headers::HEADERS;
use super::snapshot::{CheckRequest, KmsKey, Network, Upload};
use serde::Serialize;
use serde_json::Value;

/// What a remediation changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub enum RemediationKind {
    /// How the workload makes the request (headers, network path).
    Request,
    /// A policy document.
    Policy,
    /// Extension: a bucket or key setting that is not a policy (Object Ownership, key state, default encryption).
    Config,
}

/// The document a statement is added to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyTarget {
    /// An inline policy of the principal (created when it has none of that name).
    Identity,
    /// The principal's permissions boundary.
    PermissionsBoundary,
    /// The bucket policy (created when the bucket has none).
    Bucket,
    /// The policy of the access point the requests go through (created when it has none).
    AccessPoint,
    /// The key policy of this key ARN.
    Key(String),
    /// The VPC endpoint's policy.
    Endpoint,
    /// The session policy the workload's session was created with.
    Session,
}

/// A setting that is not a policy.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigEdit {
    /// The bucket's Object Ownership becomes this.
    ObjectOwnership(String),
    /// The key (ARN) becomes `Enabled`.
    EnableKey(String),
    /// The object's ACL gains a `READ` grant to this canonical user (the caller's account).
    ObjectReadGrant(String),
    /// A new customer managed key (its policy allowing the caller) becomes the bucket's default encryption, and
    /// the key an upload names by the AWS managed alias.
    CustomerManagedKey(Box<KmsKey>),
}

/// What a remediation changes in the snapshot, so that the whole-check fix can apply it and re-diagnose.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    /// The upload, as the workload should make it (boxed: it is most of the enum's size).
    Upload(Box<Upload>),
    /// Where the requests should come from.
    Network(Network),
    /// One statement of a document (by policy id and index), replaced by one or more.
    ReplaceStatement {
        /// The policy id, as causes point at it.
        policy_id: String,
        /// The statement's index.
        index: u32,
        /// The statements that replace it, in order.
        statements: Vec<Value>,
    },
    /// A statement added to a document.
    AddStatement {
        /// Which document.
        target: PolicyTarget,
        /// The statement.
        statement: Value,
    },
    /// A setting.
    Config(ConfigEdit),
}

/// One way to fix a cause.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Remediation {
    /// Request, policy or configuration.
    pub kind: RemediationKind,
    /// What to do, for a person.
    pub text: String,
    /// A command that does it, when one exists.
    pub command: Option<String>,
    /// A policy statement (or document) to add or use instead, when one can be computed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_patch: Option<Value>,
    /// What it changes in the snapshot, where that can be said (the fix object shows the result).
    #[serde(skip)]
    pub edit: Option<Edit>,
}

impl Remediation {
    /// A request change with the upload command that makes it.
    pub fn request(text: impl Into<String>, command: Option<String>) -> Self {
        Self {
            kind: RemediationKind::Request,
            text: text.into(),
            command,
            policy_patch: None,
            edit: None,
        }
    }

    /// A request change of the upload's headers: the command with `change` applied, and the edit.
    pub fn upload(
        text: impl Into<String>,
        request: &CheckRequest,
        change: impl FnOnce(&mut Upload),
    ) -> Self {
        let mut upload = request.upload.clone();
        change(&mut upload);
        let command = upload_command(request, |u| *u = upload.clone());
        Self {
            edit: Some(Edit::Upload(Box::new(upload))),
            ..Self::request(text, Some(command))
        }
    }

    /// The same remediation, with the edit it makes.
    #[must_use]
    pub fn with_edit(mut self, edit: Option<Edit>) -> Self {
        self.edit = edit;
        self
    }

    /// A policy change with an optional statement.
    pub fn policy(text: impl Into<String>, patch: Option<Value>) -> Self {
        Self {
            kind: RemediationKind::Policy,
            text: text.into(),
            command: None,
            policy_patch: patch,
            edit: None,
        }
    }

    /// A configuration change with an optional command.
    pub fn config(text: impl Into<String>, command: Option<String>) -> Self {
        Self {
            kind: RemediationKind::Config,
            text: text.into(),
            command,
            policy_patch: None,
            edit: None,
        }
    }
}

/// Quotes a value for a POSIX shell when it needs it.
fn quote(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@,+".contains(&b));
    if plain {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

/// The upload command the workload would run, with `change` applied to its headers: `put-object`, or
/// `create-multipart-upload` for multipart uploads (the headers go on the first call).
pub fn upload_command(request: &CheckRequest, change: impl FnOnce(&mut Upload)) -> String {
    let mut upload = request.upload.clone();
    change(&mut upload);
    let mut parts = vec![
        "aws s3api".to_owned(),
        if upload.multipart {
            "create-multipart-upload"
        } else {
            "put-object"
        }
        .to_owned(),
        format!("--bucket {}", quote(&request.bucket)),
        format!("--key {}", quote(request.key())),
    ];
    if !upload.multipart {
        parts.push("--body <FILE>".to_owned());
    }
    for header in &HEADERS {
        if let Some(v) = (header.get)(&upload) {
            parts.push(format!("--{} {}", header.flag, quote(v)));
        }
    }
    if let Some(owner) = &upload.expected_bucket_owner {
        parts.push(format!("--expected-bucket-owner {}", quote(owner)));
    }
    // Conditional writes: on `put-object` (a multipart upload sends them on `complete-multipart-upload`).
    if !upload.multipart {
        if let Some(v) = &upload.if_none_match {
            parts.push(format!("--if-none-match {}", quote(v)));
        }
        if let Some(v) = &upload.if_match {
            parts.push(format!("--if-match {}", quote(v)));
        }
    }
    if upload.sse_customer_algorithm.is_some() {
        parts.push("--sse-customer-key fileb://<KEY-FILE>".to_owned());
    }
    match upload.bucket_key_enabled {
        Some(true) => parts.push("--bucket-key-enabled".to_owned()),
        Some(false) => parts.push("--no-bucket-key-enabled".to_owned()),
        None => {}
    }
    if !upload.tags.is_empty() {
        let tagging: Vec<String> = upload
            .tags
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        parts.push(format!("--tagging {}", quote(&tagging.join("&"))));
    }
    if upload.request_payer {
        parts.push("--request-payer requester".to_owned());
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_the_command_with_the_change() {
        let request = CheckRequest {
            principal_arn: "arn:aws:iam::111122223333:role/r".into(),
            bucket: "doc-example-bucket".into(),
            key: Some("uploads/a b.jpg".into()),
            upload: Upload {
                acl: Some("public-read".into()),
                ..Upload::default()
            },
            ..CheckRequest::default()
        };
        let cmd = upload_command(&request, |u| u.storage_class = Some("STANDARD_IA".into()));
        assert_eq!(
            cmd,
            "aws s3api put-object --bucket doc-example-bucket --key 'uploads/a b.jpg' --body <FILE> --acl public-read --storage-class STANDARD_IA"
        );
        let mut multipart = request.clone();
        multipart.upload.multipart = true;
        assert!(upload_command(&multipart, |u| u.acl = None)
            .starts_with("aws s3api create-multipart-upload"));
    }
}
