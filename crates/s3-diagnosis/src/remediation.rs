//! Remediations: the request change (an `aws s3api` command with the flag that fixes it, built from the
//! upload as the workload makes it) and the policy change (a sentence, and a JSON statement where one can be
//! computed). Depends on `snapshot`, `headers`; serde_json for patches.

use super::headers::HEADERS;
use super::snapshot::{CheckRequest, Upload};
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
}

impl Remediation {
    /// A request change with the upload command that makes it.
    pub fn request(text: impl Into<String>, command: Option<String>) -> Self {
        Self {
            kind: RemediationKind::Request,
            text: text.into(),
            command,
            policy_patch: None,
        }
    }

    /// A policy change with an optional statement.
    pub fn policy(text: impl Into<String>, patch: Option<Value>) -> Self {
        Self {
            kind: RemediationKind::Policy,
            text: text.into(),
            command: None,
            policy_patch: patch,
        }
    }

    /// A configuration change with an optional command.
    pub fn config(text: impl Into<String>, command: Option<String>) -> Self {
        Self {
            kind: RemediationKind::Config,
            text: text.into(),
            command,
            policy_patch: None,
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
        parts.push("--body FILE".to_owned());
    }
    for header in &HEADERS {
        if let Some(v) = (header.get)(&upload) {
            parts.push(format!("--{} {}", header.flag, quote(v)));
        }
    }
    if let Some(owner) = &upload.expected_bucket_owner {
        parts.push(format!("--expected-bucket-owner {}", quote(owner)));
    }
    if upload.sse_customer_algorithm.is_some() {
        parts.push("--sse-customer-key fileb://KEY".to_owned());
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
            "aws s3api put-object --bucket doc-example-bucket --key 'uploads/a b.jpg' --body FILE --acl public-read --storage-class STANDARD_IA"
        );
        let mut multipart = request.clone();
        multipart.upload.multipart = true;
        assert!(upload_command(&multipart, |u| u.acl = None)
            .starts_with("aws s3api create-multipart-upload"));
    }
}
