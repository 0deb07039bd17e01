//! Read errors: what failed (the API, as `service:Operation`), the error code AWS gave, and a message. A read
//! error becomes an `unavailable` entry of the snapshot; it never aborts a collection.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// One failed read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} calling {api}: {message}", code.as_deref().unwrap_or("error"))]
pub struct ReadError {
    /// `iam:GetRole`, `s3:GetBucketPolicy`, ...
    pub api: &'static str,
    /// The AWS error code, when AWS answered (`AccessDenied`, `Throttling`, ...).
    pub code: Option<String>,
    /// What happened.
    pub message: String,
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
        }
    }
}

/// Converts an SDK error, keeping the code and the full context of the message.
pub fn from_sdk<E, R>(api: &'static str, error: &SdkError<E, R>) -> ReadError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let code = error
        .as_service_error()
        .and_then(|e| e.code())
        .map(str::to_owned);
    let message = match error.as_service_error().and_then(|e| e.message()) {
        Some(m) if !m.is_empty() => m.to_owned(),
        _ => concise(&DisplayErrorContext(error).to_string()),
    };
    ReadError { api, code, message }
}

/// The readable part of an SDK error chain: without the debug dump the SDK appends, and not too long.
fn concise(full: &str) -> String {
    let readable = full.split(" (").next().unwrap_or(full).trim();
    let mut out: String = readable.chars().take(240).collect();
    if readable.chars().count() > 240 {
        out.push('…');
    }
    out
}

/// The outcome label of a call, for metrics.
pub fn outcome_label(result: &Result<(), &ReadError>) -> String {
    match result {
        Ok(()) => "ok".to_owned(),
        Err(e) => e.code.clone().unwrap_or_else(|| "error".to_owned()),
    }
}
