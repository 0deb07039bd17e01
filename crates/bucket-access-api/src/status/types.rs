//! The status subresource's types: the verdict and causes as a reader sees them, the fix, the scope a check
//! was evaluated under, and the states and reasons its conditions and `REASON` column show.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use s3_diagnosis::causes::{CauseId, Severity, StatementPointer};
use s3_diagnosis::remediation::RemediationKind;
use s3_diagnosis::snapshot::SnapshotLayer;
use s3_diagnosis::{RequestDecision, Verdict};
use serde::{Deserialize, Serialize};

/// Condition types, in one place.
pub mod reasons {
    /// Condition type: the check passes.
    pub const READY: &str = "Ready";
    /// Condition type: a terminal failure (kstatus Failed).
    pub const STALLED: &str = "Stalled";
    /// Condition type: an evaluation is in progress or will be retried.
    pub const RECONCILING: &str = "Reconciling";
}

/// Where a check stands: the reason of its conditions, and of the `REASON` column when no cause names it.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
pub enum State {
    /// The first visit of a generation, before any AWS call.
    Evaluating,
    /// Allowed.
    AccessAllowed,
    /// Denied.
    AccessDenied,
    /// The spec is invalid.
    InvalidSpec,
    /// Unknown: data could not be read.
    EvaluationIncomplete,
    /// Unknown: the evaluation will be retried.
    RetryingEvaluation,
    /// An evaluation ended with a verdict.
    Evaluated,
    /// No `BucketAccessScope` allows the check: nothing was read.
    OutOfScope,
}

impl State {
    /// The name, as the conditions write it.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A condition's status, as Kubernetes spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
pub enum Holds {
    /// The condition holds.
    True,
    /// It does not.
    False,
    /// It cannot be told yet.
    Unknown,
}

/// The `REASON` column: the id of the first error cause, else the check's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Reason {
    /// A cause of the diagnosis (or of the spec's validation).
    Cause(CauseId),
    /// No error cause: where the check stands.
    State(State),
}

impl Reason {
    /// The name, as the column shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cause(id) => id.as_str(),
            Self::State(state) => state.as_str(),
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One string enum of every cause id and state (the CRD's schema lists them; admission refuses others).
impl schemars::JsonSchema for Reason {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Reason".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        use strum::VariantArray;
        let names: Vec<&str> = State::VARIANTS
            .iter()
            .map(|s| s.as_str())
            .chain(CauseId::ALL.iter().map(|id| id.as_str()))
            .collect();
        schemars::json_schema!({"type": "string", "enum": names})
    }
}

/// The most causes a status lists.
pub const MAX_STATUS_CAUSES: usize = 20;

/// One remediation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusRemediation {
    /// `request`, `policy` or `config`.
    pub kind: RemediationKind,
    /// What to do.
    pub text: String,
    /// A command that does it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// A policy statement to use (JSON text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_patch: Option<String>,
}

/// One cause, as the status shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusCause {
    /// The catalog id.
    pub id: CauseId,
    /// The layer.
    pub layer: SnapshotLayer,
    /// The IAM action.
    pub action: String,
    /// The statement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement: Option<StatementPointer>,
    /// Expected and actual values.
    pub message: String,
    /// `error` or `warning`.
    pub severity: Severity,
    /// What to change.
    #[serde(default)]
    pub remediation: Vec<StatusRemediation>,
}

/// One implied IAM request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusEvaluation {
    /// The action.
    pub action: String,
    /// `allowed`, `implicitDeny`, `explicitDeny` or `unknown`.
    pub decision: RequestDecision,
}

/// A layer assumed, or not seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusLayerNote {
    /// The layer.
    pub layer: SnapshotLayer,
    /// What was assumed, or why it was not seen.
    pub text: String,
}

/// The whole-check fix, summarised (the patched documents themselves: `bucket-access-operator check
/// --fixed-snapshot-out` or `-o json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusFix {
    /// Whether re-diagnosing with all of it applied gives `Allowed`.
    pub verified: bool,
    /// The one upload command that satisfies every request-side condition, when the request must change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    /// Each document to change: the command that applies it, and the account.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<String>,
    /// Each setting to change.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub config: Vec<String>,
    /// What would still fail.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remaining: Vec<String>,
}

impl StatusFix {
    /// The summary of a diagnosis's fix.
    pub fn of(fix: &s3_diagnosis::fix::Fix) -> Self {
        Self {
            verified: fix.verified,
            request: fix.request.as_ref().map(|r| r.command.clone()),
            policies: fix
                .policies
                .iter()
                .map(|p| match &p.account {
                    Some(a) => format!("{} (account {a}): {}", p.policy_id, p.command),
                    None => format!("{}: {}", p.policy_id, p.command),
                })
                .collect(),
            config: fix
                .config
                .iter()
                .map(|c| c.command.clone().unwrap_or_else(|| c.text.clone()))
                .collect(),
            remaining: fix.remaining.clone(),
        }
    }
}

/// The scope a check was evaluated under.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusScope {
    /// The `BucketAccessScope` that allows the check.
    pub name: String,
    /// What the status shows: `Full` or `Summary`.
    pub detail: Detail,
    /// What the scope changed (an ignored `readRoleArns`, a raised interval).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The status subresource.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, kube::KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct BucketAccessCheckStatus {
    /// The generation this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Allowed`, `Denied`, `Unknown` or `Invalid`; absent while the first evaluation runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
    /// The first error cause's id, or where the check stands (`OutOfScope`, `AccessAllowed`, ...): the
    /// `REASON` column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<crate::status::Reason>,
    /// the principal checked (the `PRINCIPAL` column).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    /// One sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// When an evaluation last confirmed the current result (RFC 3339): written when the result changes, and
    /// otherwise once an hour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_evaluated: Option<String>,
    /// The causes, in the order to fix them: the first 20 (the object must stay far below etcd's size limit;
    /// `bucket-access-operator check` lists them all).
    #[serde(default)]
    pub causes: Vec<StatusCause>,
    /// How many causes were left out of `causes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causes_omitted: Option<u64>,
    /// One entry per implied IAM request.
    #[serde(default)]
    pub evaluations: Vec<StatusEvaluation>,
    /// Layers assumed to allow.
    #[serde(default)]
    pub assumptions: Vec<StatusLayerNote>,
    /// Layers that made the verdict Unknown.
    #[serde(default)]
    pub unknown: Vec<StatusLayerNote>,
    /// the value of the `bucketaccess.io/requested-at` annotation last handled (a re-evaluation
    /// asked for with fresh reads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_requested_at: Option<String>,
    /// what started the last evaluation against AWS: its `interval`, an AWS change `event` it read, or a
    /// re-evaluation `requested` with the annotation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refreshed_by: Option<RefreshedBy>,
    /// one fix for the whole check (a `Denied` one), verified by re-evaluation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<StatusFix>,
    /// the scope that allows the check, and what it changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<StatusScope>,
    /// `sha256:...` of the snapshot evaluated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_digest: Option<String>,
    /// Ready, Stalled, Reconciling.
    #[serde(default)]
    #[x_kube(merge_strategy = kube::core::ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,
    /// In the controller's memory only: the SHA-256 of the result of the status this one was `kept` from.
    /// Not in the schema, so the API server prunes it from anything written, and never set in a status the
    /// operator writes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(skip)]
    pub result_digest: Option<[u8; 32]>,
    /// In the controller's memory only, as `result_digest`: the SHA-256 of `lastHandledRequestedAt` of the
    /// status this one was `kept` from (a tenant's value may be 256 KiB; the digest is 32 bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(skip)]
    pub handled_digest: Option<[u8; 32]>,
}

/// What started an evaluation against AWS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum RefreshedBy {
    /// The check's interval came round (or its spec changed).
    Interval,
    /// An AWS change event touched what it read.
    Event,
    /// The `bucketaccess.io/requested-at` annotation asked for it.
    Requested,
}

/// How much a check's status and Events show.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub enum Detail {
    /// Everything: condition values, policy statements, patched documents.
    #[default]
    Full,
    /// The verdict, cause ids, statement Sids and the fixes' words; no condition values, policy text or
    /// patched documents.
    Summary,
}
