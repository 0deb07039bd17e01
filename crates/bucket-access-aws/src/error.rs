//! Read errors: what failed (the API, as `service:Operation`), the error code AWS gave, and a message. A read
//! error becomes an `unavailable` entry of the snapshot; it never aborts a collection.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// One failed read, or one read not made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct ReadError {
    /// `iam:GetRole`, `s3:GetBucketPolicy`, ...
    pub api: &'static str,
    /// The AWS error code, when AWS answered with one (`AccessDenied`, `Throttling`, ...).
    pub code: Option<String>,
    /// What happened.
    pub message: String,
    /// What happened to the call: it failed, it was not made, or its answer is not used (the text says
    /// which, never that a call failed when none was made).
    pub kind: ReadKind,
}

/// What happened to a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadKind {
    /// The call was made and failed (or AWS answered something unusable).
    Failed,
    /// The call was not made: the scope does not allow it, or the credentials are another account's.
    NotCalled,
    /// The call was made, and the scope does not allow its answer to be used.
    Withheld,
}

impl ReadError {
    /// Whether AWS answered with one of these codes.
    pub fn is_code(&self, codes: &[&str]) -> bool {
        self.code.as_deref().is_some_and(|c| codes.contains(&c))
    }

    /// A read error with no AWS answer (bad input to the read, nothing found).
    pub fn other(api: &'static str, message: impl Into<String>) -> Self {
        Self {
            api,
            code: None,
            message: message.into(),
            kind: ReadKind::Failed,
        }
    }

    /// A call that was not made, and why.
    pub fn not_called(api: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind: ReadKind::NotCalled,
            ..Self::other(api, message)
        }
    }

    /// An answer that is not used, and why.
    pub fn withheld(api: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind: ReadKind::Withheld,
            ..Self::other(api, message)
        }
    }

    /// `AccessDenied calling s3:GetBucketPolicy: ...`, `not read (kms:DescribeKey not called): ...`, or
    /// `not used (ec2:DescribeVpcEndpoints answered): ...`.
    fn describe(&self) -> String {
        match self.kind {
            ReadKind::Failed => format!(
                "{} calling {}: {}",
                self.code.as_deref().unwrap_or("error"),
                self.api,
                self.message
            ),
            ReadKind::NotCalled => format!("not read ({} not called): {}", self.api, self.message),
            ReadKind::Withheld => format!("not used ({} answered): {}", self.api, self.message),
        }
    }
}

/// The code of a read that could not be signed: the reading identity has no usable credentials.
pub const NO_CREDENTIALS: &str = "NoCredentials";

/// The credentials provider's own error, when the call failed for want of credentials (found in the error's
/// chain of sources): no request was sent.
fn credentials_error(error: &(dyn std::error::Error + 'static)) -> Option<Credentials> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if let Some(c) = e.downcast_ref::<aws_credential_types::provider::error::CredentialsError>()
        {
            let full = DisplayErrorContext(c).to_string();
            // A reader role that could not be assumed is a failed read of `sts:AssumeRole` (throttled,
            // refused, cut off), not credentials missing: said whole, so that the read is named.
            if let Some(at) = full.find(READER_ROLE_FAILED) {
                let said: String = without_debug(full.get(at..).unwrap_or_default())
                    .chars()
                    .take(400)
                    .collect();
                return Some(Credentials::ReaderRole(said));
            }
            return Some(Credentials::Missing(concise(&full)));
        }
        source = e.source();
    }
    None
}

/// What a credentials error was.
enum Credentials {
    /// No credentials could be loaded.
    Missing(String),
    /// A reader role could not be assumed (the message names it and why).
    ReaderRole(String),
}

/// How the reader-role provider (`assume`) begins the message of a failed `sts:AssumeRole`.
pub const READER_ROLE_FAILED: &str = "cannot assume reader role";

/// Converts an SDK error: the code and message AWS sent, else the HTTP status and the readable part of the
/// error chain.
pub fn from_sdk<E>(api: &'static str, error: &SdkError<E, HttpResponse>) -> ReadError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match credentials_error(error) {
        Some(Credentials::Missing(missing)) => {
            return ReadError {
                code: Some(NO_CREDENTIALS.to_owned()),
                ..ReadError::not_called(api, missing)
            }
        }
        Some(Credentials::ReaderRole(why)) => {
            return ReadError::other("sts:AssumeRole", format!("{why} (needed for {api})"))
        }
        None => {}
    }
    let service = error.as_service_error();
    let code = service.and_then(|e| e.code()).map(str::to_owned);
    let mut message = match service.and_then(|e| e.message()) {
        Some(m) if !m.is_empty() => m.to_owned(),
        _ => concise(&DisplayErrorContext(error).to_string()),
    };
    if code.is_none() {
        // The answer had no error code we could read: its HTTP status still says what kind of failure it was.
        if let Some(status) = error.raw_response().map(|r| r.status().as_u16()) {
            let kind = match status {
                403 => " (access denied)",
                429 | 503 => " (throttled or unavailable)",
                _ => "",
            };
            message = format!("HTTP {status}{kind}: {message}");
        }
    }
    ReadError {
        api,
        code,
        message,
        kind: ReadKind::Failed,
    }
}

/// The readable part of an SDK error chain: without the debug dump the SDK appends, and not too long.
fn concise(full: &str) -> String {
    // The chain reads `what failed: ...: root cause`: keep the first and the last (the root cause says why,
    // e.g. `Connection refused`), each once.
    let mut parts: Vec<&str> = Vec::new();
    for part in without_debug(full)
        .split(": ")
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        if !parts.contains(&part) {
            parts.push(part);
        }
    }
    let readable = match parts.as_slice() {
        [first, .., last] => format!("{first}: {last}"),
        [only] => (*only).to_owned(),
        [] => full.trim().to_owned(),
    };
    let mut out: String = readable.chars().take(240).collect();
    if readable.chars().count() > 240 {
        out.push('…');
    }
    out
}

/// The readable chain without the SDK's debug dump that follows it (` (DispatchFailure(...))`).
fn without_debug(full: &str) -> &str {
    let mut from = 0;
    while let Some(at) = full.get(from..).and_then(|rest| rest.find(" (")) {
        let start = from + at;
        let rest = full.get(start + 2..).unwrap_or_default();
        let name_len = rest
            .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .unwrap_or(rest.len());
        let is_dump = rest.starts_with(|c: char| c.is_ascii_uppercase())
            && rest
                .get(name_len..)
                .is_some_and(|r| r.starts_with('(') || r.starts_with(" {"));
        if is_dump {
            return full.get(..start).unwrap_or(full);
        }
        from = start + 2;
    }
    full
}

/// The IAM action that authorizes an API call (they differ for a few S3 calls).
pub fn iam_action(api: &str) -> &str {
    match api {
        "s3:GetPublicAccessBlock" => "s3:GetBucketPublicAccessBlock",
        "s3control:GetPublicAccessBlock" => "s3:GetAccountPublicAccessBlock",
        "s3:GetBucketEncryption" => "s3:GetEncryptionConfiguration",
        "s3:GetObjectLockConfiguration" => "s3:GetBucketObjectLockConfiguration",
        "s3control:GetAccessPoint" => "s3:GetAccessPoint",
        "s3control:GetAccessPointPolicy" => "s3:GetAccessPointPolicy",
        "s3control:ListAccessPoints" => "s3:ListAccessPoints",
        "s3:ListBuckets" => "s3:ListAllMyBuckets",
        "s3:ListObjectsV2" => "s3:ListBucket",
        other => other,
    }
}

impl ReadError {
    /// The reason recorded for the layer: the error, and for a refusal the permission the reading identity
    /// lacks.
    pub fn reason(&self) -> String {
        if self.is_code(&[
            "AccessDenied",
            "AccessDeniedException",
            "UnauthorizedOperation",
        ]) || self.message.contains("HTTP 403")
        {
            format!(
                "{self} (the reading identity needs `{}`)",
                iam_action(self.api)
            )
        } else {
            self.to_string()
        }
    }
}

/// Error codes by which AWS answers "there is none" (no bucket policy, no Object Ownership setting, no such
/// role or key, no organization): answers about the checked account that the readers turn into an empty
/// setting or a cause, not failures of the operator's reads.
const NOT_FOUND_ANSWERS: &[&str] = &[
    "NoSuchBucketPolicy",
    "OwnershipControlsNotFoundError",
    "NoSuchPublicAccessBlockConfiguration",
    "ServerSideEncryptionConfigurationNotFoundError",
    "ObjectLockConfigurationNotFoundError",
    "NoSuchTagSet",
    "NoSuchAccessPoint",
    "NoSuchAccessPointPolicy",
    "AWSOrganizationsNotInUseException",
    "NoSuchEntity",
    "NotFoundException",
];

/// Whether an error code is a "there is none" answer.
pub fn is_not_found_answer(code: &str) -> bool {
    NOT_FOUND_ANSWERS.contains(&code)
}

/// Whether a call's outcome label is a failure to read (refused, throttled, unreachable, ...), rather than
/// `ok` or a "there is none" answer.
pub fn is_read_failure(outcome: &str) -> bool {
    outcome != "ok" && !is_not_found_answer(outcome)
}

/// The outcome label of a call, for metrics.
pub fn outcome_label(result: &Result<(), &ReadError>) -> String {
    match result {
        Ok(()) => "ok".to_owned(),
        Err(e) => e.code.clone().unwrap_or_else(|| "error".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::{concise, is_read_failure};

    #[test]
    fn not_found_answers_are_not_read_failures() {
        assert!(!is_read_failure("ok"));
        assert!(!is_read_failure("NoSuchBucketPolicy"));
        assert!(is_read_failure("AccessDenied"));
        assert!(is_read_failure("ThrottlingException"));
        assert!(is_read_failure("error"));
    }

    #[test]
    fn the_root_cause_is_kept() {
        assert_eq!(
            concise("dispatch failure: io error: client error (Connect): tcp connect error: Connection refused (os error 111): Connection refused (os error 111)"),
            "dispatch failure: Connection refused (os error 111)"
        );
        assert_eq!(concise("timeout"), "timeout");
        assert_eq!(
            concise("dispatch failure: io error: client error (Connect): tcp connect error: Connection refused (os error 111) (DispatchFailure(DispatchFailure { source: ConnectorError { kind: Io } }))"),
            "dispatch failure: Connection refused (os error 111)"
        );
    }
}
