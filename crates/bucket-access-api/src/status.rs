//! The status of a `BucketAccessCheck` and `build`, the pure function that computes it
//! from the previous status and the outcome: verdict, causes, and the Ready / Stalled / Reconciling conditions
//! of the spec's table, each with `observedGeneration`, keeping `lastTransitionTime` when a condition's status
//! does not change.

use crate::spec::SpecError;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use s3_diagnosis::causes::{CauseId, Severity, StatementPointer};
use s3_diagnosis::remediation::RemediationKind;
use s3_diagnosis::snapshot::SnapshotLayer;
use s3_diagnosis::{Diagnosis, RequestDecision, Verdict};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

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
    pub detail: crate::scope::Detail,
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
    /// When the check was last evaluated (RFC 3339).
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
}

/// What a reconcile learned.
#[derive(Debug, Clone, Copy)]
pub enum Outcome<'a> {
    /// A new generation, before any AWS call.
    Evaluating,
    /// A diagnosis, as its reader may see it (`scope::disclosure::project`).
    Diagnosed(&'a Projection),
    /// The spec is invalid.
    InvalidSpec(&'a [SpecError]),
    /// No scope allows the check (the message says what is not allowed, by which scopes).
    OutOfScope(&'a str),
}

fn condition(
    type_: &str,
    status: Holds,
    reason: State,
    message: &str,
    generation: Option<i64>,
    now: &Time,
    old: Option<&BucketAccessCheckStatus>,
) -> Condition {
    let previous = old.and_then(|o| o.conditions.iter().find(|c| c.type_ == type_));
    let last_transition_time = match previous {
        Some(p) if p.status == <&str>::from(status) => p.last_transition_time.clone(),
        _ => now.clone(),
    };
    Condition {
        type_: type_.to_owned(),
        status: <&str>::from(status).to_owned(),
        reason: reason.as_str().to_owned(),
        message: message.to_owned(),
        observed_generation: generation,
        last_transition_time,
    }
}

/// Everything a status shows of a diagnosis, decided by `scope::disclosure::project` for its reader.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    /// The verdict.
    pub verdict: Verdict,
    /// One sentence (also every condition's message).
    pub summary: String,
    /// The first `MAX_STATUS_CAUSES` causes.
    pub causes: Vec<StatusCause>,
    /// How many were left out.
    pub causes_omitted: Option<u64>,
    /// One per implied request.
    pub evaluations: Vec<StatusEvaluation>,
    /// Layers assumed to allow.
    pub assumptions: Vec<StatusLayerNote>,
    /// Layers that made the verdict Unknown.
    pub unknown: Vec<StatusLayerNote>,
    /// The whole-check fix.
    pub fix: Option<StatusFix>,
    /// The snapshot's digest.
    pub input_digest: Option<String>,
}

/// The causes a status lists, each made by `cause`: the first `MAX_STATUS_CAUSES`, and how many are left out
/// (with those the diagnosis itself left out).
pub fn listed(
    d: &Diagnosis,
    cause: impl Fn(&s3_diagnosis::Cause) -> StatusCause,
) -> (Vec<StatusCause>, Option<u64>) {
    let omitted = d.causes.len().saturating_sub(MAX_STATUS_CAUSES) + d.causes_omitted;
    let causes = d.causes.iter().take(MAX_STATUS_CAUSES).map(cause).collect();
    (causes, (omitted > 0).then_some(omitted as u64))
}

/// One entry per implied IAM request (typed data only: shown at every level).
pub fn evaluations(d: &Diagnosis) -> Vec<StatusEvaluation> {
    d.evaluations
        .iter()
        .map(|e| StatusEvaluation {
            action: e.action.clone(),
            decision: e.decision,
        })
        .collect()
}

impl Projection {
    /// Everything the diagnosis says, as the operator itself (or the CLI) sees it.
    pub fn of(d: &Diagnosis, digest: &str) -> Self {
        let (causes, causes_omitted) = listed(d, |c| StatusCause {
            id: c.id,
            layer: c.layer,
            action: c.action.clone(),
            statement: c.statement.clone(),
            message: c.message.clone(),
            severity: c.severity,
            remediation: c
                .remediation
                .iter()
                .map(|r| StatusRemediation {
                    kind: r.kind,
                    text: r.text.clone(),
                    command: r.command.clone(),
                    policy_patch: r.policy_patch.as_ref().map(ToString::to_string),
                })
                .collect(),
        });
        let note = |layer: SnapshotLayer, text: &str| StatusLayerNote {
            layer,
            text: text.to_owned(),
        };
        Self {
            verdict: d.verdict,
            summary: d.summary.clone(),
            causes,
            causes_omitted,
            evaluations: evaluations(d),
            assumptions: d
                .assumptions
                .iter()
                .map(|a| note(a.layer, &a.text))
                .collect(),
            unknown: d.unknown.iter().map(|u| note(u.layer, &u.reason)).collect(),
            fix: d.fix.as_ref().map(StatusFix::of),
            input_digest: Some(digest.to_owned()),
        }
    }

    /// The same with every text held to `accounts`: the operator's session ARN, and ARNs and account ids
    /// outside them, replaced (`scope::disclosure::scrub`), in every string field.
    pub fn scrubbed(self, accounts: &BTreeSet<String>) -> Self {
        use crate::scope::disclosure::scrub;
        let all = |texts: Vec<String>| -> Vec<String> {
            texts.iter().map(|t| scrub(t, accounts)).collect()
        };
        let notes = |notes: Vec<StatusLayerNote>| -> Vec<StatusLayerNote> {
            notes
                .into_iter()
                .map(|n| StatusLayerNote {
                    text: scrub(&n.text, accounts),
                    ..n
                })
                .collect()
        };
        Self {
            summary: scrub(&self.summary, accounts),
            causes: self
                .causes
                .into_iter()
                .map(|c| StatusCause {
                    action: scrub(&c.action, accounts),
                    statement: c.statement.map(|s| StatementPointer {
                        policy_id: scrub(&s.policy_id, accounts),
                        sid: s.sid.map(|sid| scrub(&sid, accounts)),
                        statement_index: s.statement_index,
                    }),
                    message: scrub(&c.message, accounts),
                    remediation: c
                        .remediation
                        .into_iter()
                        .map(|r| StatusRemediation {
                            text: scrub(&r.text, accounts),
                            command: r.command.map(|t| scrub(&t, accounts)),
                            policy_patch: r.policy_patch.map(|t| scrub(&t, accounts)),
                            ..r
                        })
                        .collect(),
                    ..c
                })
                .collect(),
            assumptions: notes(self.assumptions),
            unknown: notes(self.unknown),
            fix: self.fix.map(|f| StatusFix {
                verified: f.verified,
                request: f.request.map(|t| scrub(&t, accounts)),
                policies: all(f.policies),
                config: all(f.config),
                remaining: all(f.remaining),
            }),
            ..self
        }
    }
}

/// A problem of the spec as a status cause.
fn invalid_spec_cause(problem: &SpecError) -> StatusCause {
    StatusCause {
        id: CauseId::InvalidRequest,
        layer: SnapshotLayer::Request,
        action: String::new(),
        statement: None,
        message: problem.to_string(),
        severity: Severity::Error,
        remediation: Vec::new(),
    }
}

/// The (status, reason) of Ready, Stalled and Reconciling for a diagnosed verdict.
type Conditions = ((Holds, State), (Holds, State), (Holds, State));

fn diagnosed_conditions(verdict: Verdict) -> Conditions {
    use Holds::*;
    use State::*;
    match verdict {
        Verdict::Allowed => (
            (True, AccessAllowed),
            (False, AccessAllowed),
            (False, Evaluated),
        ),
        Verdict::Denied => (
            (False, AccessDenied),
            (True, AccessDenied),
            (False, Evaluated),
        ),
        Verdict::Invalid => (
            (False, InvalidSpec),
            (True, InvalidSpec),
            (False, Evaluated),
        ),
        Verdict::Unknown => (
            (Unknown, EvaluationIncomplete),
            (False, EvaluationIncomplete),
            (True, RetryingEvaluation),
        ),
    }
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

/// Computes the status. `now` stamps conditions that change status and `lastEvaluated`.
pub fn build(
    old: Option<&BucketAccessCheckStatus>,
    outcome: Outcome<'_>,
    generation: Option<i64>,
    principal: &str,
    now: &Time,
    timestamp: &str,
) -> BucketAccessCheckStatus {
    use reasons::*;
    use Holds::*;
    use State::*;
    let mut status = BucketAccessCheckStatus {
        observed_generation: generation,
        principal: Some(principal.to_owned()),
        last_evaluated: Some(timestamp.to_owned()),
        ..BucketAccessCheckStatus::default()
    };
    let (ready, stalled, reconciling, message) = match outcome {
        Outcome::Evaluating => {
            let message = format!("evaluating generation {}", generation.unwrap_or(0));
            status.summary = Some(message.clone());
            status.last_evaluated = old.and_then(|o| o.last_evaluated.clone());
            (
                (Unknown, Evaluating),
                (False, Evaluating),
                (True, Evaluating),
                message,
            )
        }
        Outcome::InvalidSpec(problems) => {
            status.verdict = Some(Verdict::Invalid);
            status.summary = Some(format!(
                "the spec is invalid: {}",
                problems
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
            status.causes = problems.iter().map(invalid_spec_cause).collect();
            (
                (False, InvalidSpec),
                (True, InvalidSpec),
                (False, Evaluated),
                status.summary.clone().unwrap_or_default(),
            )
        }
        Outcome::OutOfScope(message) => {
            status.verdict = Some(Verdict::Invalid);
            status.summary = Some(format!("out of scope, nothing was read: {message}"));
            (
                (False, OutOfScope),
                (True, OutOfScope),
                (False, Evaluated),
                status.summary.clone().unwrap_or_default(),
            )
        }
        Outcome::Diagnosed(p) => {
            status.verdict = Some(p.verdict);
            status.summary = Some(p.summary.clone());
            status.causes = p.causes.clone();
            status.causes_omitted = p.causes_omitted;
            status.evaluations = p.evaluations.clone();
            status.assumptions = p.assumptions.clone();
            status.unknown = p.unknown.clone();
            status.input_digest = p.input_digest.clone();
            status.fix = p.fix.clone();
            let (ready, stalled, reconciling) = diagnosed_conditions(p.verdict);
            (ready, stalled, reconciling, p.summary.clone())
        }
    };
    status.reason = status
        .causes
        .iter()
        .find(|c| c.severity == Severity::Error)
        .map(|c| Reason::Cause(c.id))
        .or(Some(Reason::State(ready.1)));
    status.conditions = vec![
        condition(READY, ready.0, ready.1, &message, generation, now, old),
        condition(
            STALLED, stalled.0, stalled.1, &message, generation, now, old,
        ),
        condition(
            RECONCILING,
            reconciling.0,
            reconciling.1,
            &message,
            generation,
            now,
            old,
        ),
    ];
    status
}

/// Whether two statuses differ in anything but `lastEvaluated` (no write when nothing changed).
pub fn same_result(a: &BucketAccessCheckStatus, b: &BucketAccessCheckStatus) -> bool {
    // When and why it was evaluated are not its result.
    let strip = |s: &BucketAccessCheckStatus| BucketAccessCheckStatus {
        last_evaluated: None,
        refreshed_by: None,
        ..s.clone()
    };
    strip(a) == strip(b)
}

/// An Event to publish on a transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// Warning (true) or Normal.
    pub warning: bool,
    /// `AccessDenied`, `AccessAllowed`, `EvaluationIncomplete`, `InvalidSpec`, `OutOfScope`.
    pub reason: State,
    /// The summary.
    pub note: String,
}

/// The Event for a change of verdict or of the set of cause ids; none when nothing changed or while evaluating.
pub fn transition(
    old: Option<&BucketAccessCheckStatus>,
    new: &BucketAccessCheckStatus,
) -> Option<Transition> {
    use State::*;
    let verdict = new.verdict?;
    let ids = |s: &BucketAccessCheckStatus| {
        s.causes
            .iter()
            .map(|c| c.id)
            .collect::<std::collections::BTreeSet<_>>()
    };
    let out_of_scope = |s: &BucketAccessCheckStatus| s.reason == Some(Reason::State(OutOfScope));
    // The last verdict reached, whatever was written in between (the Evaluating status has none).
    let unchanged = old.is_some_and(|o| {
        o.verdict == Some(verdict) && ids(o) == ids(new) && out_of_scope(o) == out_of_scope(new)
    });
    if unchanged {
        return None;
    }
    let (warning, reason) = match verdict {
        Verdict::Invalid if out_of_scope(new) => (true, OutOfScope),
        Verdict::Allowed => (false, AccessAllowed),
        Verdict::Denied => (true, AccessDenied),
        Verdict::Invalid => (true, InvalidSpec),
        Verdict::Unknown => (true, EvaluationIncomplete),
    };
    Some(Transition {
        warning,
        reason,
        note: new.summary.clone().unwrap_or_default(),
    })
}
