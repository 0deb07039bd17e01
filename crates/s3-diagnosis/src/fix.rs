//! The whole-check fix, as the diagnosis reports it: the request to send, the policy documents to put and the
//! settings to change, and whether re-diagnosing with all of it applied gave `Allowed`. Found by `fix_search`.

use super::snapshot::{Network, Upload};
use serde::Serialize;
use serde_json::Value;

/// The name of the inline policy a fix adds to the principal.
pub const FIX_POLICY_NAME: &str = "bucket-access-fix";

/// One fix for the whole check.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Fix {
    /// True only when the snapshot with all of this applied diagnoses `Allowed`.
    pub verified: bool,
    /// The upload request that satisfies every request-side condition, when the request must change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<RequestFix>,
    /// Every document that must change, whole.
    pub policies: Vec<PolicyFix>,
    /// Settings that are not policies.
    pub config: Vec<ConfigFix>,
    /// What still fails with all of it applied, and why no fix could be computed for it.
    pub remaining: Vec<String>,
}

/// The request as it should be made.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestFix {
    /// Each change, in words (`--storage-class STANDARD_IA` instead of `GLACIER`).
    pub changes: Vec<String>,
    /// The upload's headers, all of them.
    pub upload: Upload,
    /// Where it comes from.
    pub network: Network,
    /// The one command that makes it.
    pub command: String,
    /// Conditions no single request satisfies together (then fixed by a policy change), in words.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<String>,
}

/// One document, patched.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyFix {
    /// The policy id, as causes point at it.
    pub policy_id: String,
    /// The account where it is changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The minimal change, in words.
    pub changes: Vec<String>,
    /// The whole document, patched.
    pub document: Value,
    /// The command that applies it (the document saved to the file it names).
    pub command: String,
}

/// One setting.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigFix {
    /// What to change.
    pub text: String,
    /// The command.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
}
