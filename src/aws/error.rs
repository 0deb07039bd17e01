//! Read errors: what failed (the API, as `service:Operation`), the error code AWS gave, and a message. A read
//! error becomes an `unavailable` entry of the snapshot; it never aborts a collection.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// One failed read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} calling {api}: {message}", code.as_deref().unwrap_or("error"))]
pub struct ReadError {
    /// `iam:GetRole`, `s3:GetBucketPolicy`, ...
    pub api: &'static str,
    /// The AWS error code, when AWS answered with one (`AccessDenied`, `Throttling`, ...).
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

/// Converts an SDK error: the code and message AWS sent, else the HTTP status and the readable part of the
/// error chain.
pub fn from_sdk<E>(api: &'static str, error: &SdkError<E, HttpResponse>) -> ReadError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
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
