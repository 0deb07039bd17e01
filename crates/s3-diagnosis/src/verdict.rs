//! The diagnosis (format version 1) and the verdict rules: `Allowed` only when every implied request is
//! allowed and no layer that could change it is missing; `Denied` when a definite cause denies whatever the
//! missing layers hold; `Unknown` otherwise; `Invalid` for a malformed request.

use super::assumptions::Gap;
use super::causes::{Cause, CauseId, Severity, StatementPointer};
use super::fix::Fix;
use super::problem::Problem;
use super::snapshot::{Snapshot, SnapshotLayer};
use serde::{Deserialize, Serialize};

/// The most causes a diagnosis lists (a policy of 10,000 matching Deny statements has 10,000): the rest are
/// counted in `causesOmitted`.
pub const MAX_CAUSES: usize = 100;

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The diagnosis format version.
pub const DIAGNOSIS_VERSION: u32 = 1;

/// The verdict: `Allowed`, `Denied`, `Unknown` (it depends on data that could not be read) or `Invalid` (the
/// check is malformed, names a principal IAM does not have, or no scope allows it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum Verdict {
    /// Every implied request is allowed, on data seen.
    Allowed,
    /// At least one implied request is denied whatever the unseen layers hold.
    Denied,
    /// The answer depends on data that could not be read.
    Unknown,
    /// The request itself is malformed.
    Invalid,
}

/// The decision of one implied request, as the diagnosis reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
#[derive(strum::IntoStaticStr)]
#[strum(serialize_all = "camelCase")]
pub enum RequestDecision {
    /// Allowed.
    Allowed,
    /// No statement allows it (or a layer that must allow does not).
    ImplicitDeny,
    /// A Deny statement applies.
    ExplicitDeny,
    /// It depends on data not seen, or on a statement with errors.
    Unknown,
}

impl Verdict {
    /// The name in the diagnosis JSON and the status: `Allowed`, `Denied`, `Unknown`, `Invalid`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl RequestDecision {
    /// The name in the diagnosis JSON.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// An implicit or explicit deny.
    pub fn is_denied(self) -> bool {
        matches!(self, Self::ImplicitDeny | Self::ExplicitDeny)
    }
}

impl std::fmt::Display for RequestDecision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One implied IAM request and its decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EvaluationSummary {
    /// e.g. `s3:PutObject`.
    pub action: String,
    /// The S3 request, where the action stands for several (`CompleteMultipartUpload`); an extension of
    /// the diagnosis format.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    /// The object or key ARN.
    pub resource: String,
    /// `allowed`, `implicitDeny`, `explicitDeny` or `unknown`.
    pub decision: RequestDecision,
    /// The statements that decided (for an implicit deny: the near misses).
    pub determining_statements: Vec<LayeredStatement>,
    /// Context keys the policies read and the request lacked.
    pub missing_context_keys: Vec<String>,
    /// Reported for information; does not decide the verdict (a `bucket-owner-full-control`-only ACL).
    #[serde(skip)]
    pub advisory: bool,
}

/// A statement with its layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LayeredStatement {
    /// The layer.
    pub layer: SnapshotLayer,
    /// The statement.
    #[serde(flatten)]
    pub statement: StatementPointer,
}

/// A layer taken as allowing because the user chose not to read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assumption {
    /// The layer.
    pub layer: SnapshotLayer,
    /// What was assumed.
    pub text: String,
}

/// A layer whose absence makes the verdict Unknown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnknownLayer {
    /// The layer.
    pub layer: SnapshotLayer,
    /// Why it was not seen.
    pub reason: String,
}

/// The diagnosis of one snapshot.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Diagnosis {
    /// Always 1.
    pub version: u32,
    /// The verdict.
    pub verdict: Verdict,
    /// One sentence.
    pub summary: String,
    /// One entry per implied IAM request.
    pub evaluations: Vec<EvaluationSummary>,
    /// Every cause, in the order to fix them (at most `MAX_CAUSES`).
    pub causes: Vec<Cause>,
    /// Extension: causes found beyond `MAX_CAUSES`, left out.
    #[serde(skip_serializing_if = "is_zero")]
    pub causes_omitted: usize,
    /// Layers assumed to allow.
    pub assumptions: Vec<Assumption>,
    /// Layers that made the verdict Unknown.
    pub unknown: Vec<UnknownLayer>,
    /// Extension: one fix for the whole check, verified by re-diagnosis (`Denied` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<Fix>,
}

impl Diagnosis {
    /// The ids of the causes, in order (errors and warnings).
    pub fn cause_ids(&self) -> Vec<CauseId> {
        self.causes.iter().map(|c| c.id).collect()
    }
}

/// The diagnosis of a malformed request.
pub fn invalid(problems: Vec<Problem>) -> Diagnosis {
    let summary = format!(
        "the request is invalid: {}",
        problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    );
    Diagnosis {
        version: DIAGNOSIS_VERSION,
        verdict: Verdict::Invalid,
        summary,
        evaluations: Vec::new(),
        causes: problems
            .into_iter()
            .map(|p| {
                Cause::error(
                    CauseId::InvalidRequest,
                    SnapshotLayer::Request,
                    "",
                    p.to_string(),
                )
                .fix([super::remediation::Remediation::request(
                    format!("correct the check: {p}"),
                    None,
                )])
            })
            .collect(),
        causes_omitted: 0,
        assumptions: Vec::new(),
        unknown: Vec::new(),
        fix: None,
    }
}

/// The diagnosis of a check whose role or user IAM does not have at exactly its ARN: it does not exist, or it
/// exists at another path. `Invalid`, with one message for both: which of the two it is would tell a tenant
/// which names exist, and IAM's own answer is not repeated.
pub fn principal_not_found(snapshot: &Snapshot) -> Diagnosis {
    let arn = &snapshot.request.principal_arn;
    let parsed = iam_policy::PrincipalArn::parse(arn).ok();
    let kind = parsed.as_ref().map_or("role", |p| p.kind().as_str());
    let (name, path) = parsed
        .as_ref()
        .map_or(("NAME", "/"), |p| (p.name(), p.path()));
    let cause = Cause::error(
        CauseId::PrincipalNotFound,
        SnapshotLayer::Identity,
        "",
        format!("IAM has no {kind} at exactly `{arn}` (the name may differ in case; the path must be the same)"),
    )
    .fix([
        super::remediation::Remediation::config(
            format!("write the {kind}'s ARN as IAM shows it, path included, in the check's `{kind}Arn`; or create the {kind}"),
            Some(if kind == "role" {
                format!("aws iam get-role --role-name {name} --query Role.Arn")
            } else {
                format!("aws iam get-user --user-name {name} --query User.Arn")
            }),
        ),
        super::remediation::Remediation::config(
            format!("create the {kind} `{name}` at path `{path}`"),
            Some(if kind == "role" {
                format!("aws iam create-role --role-name {name} --path {path} --assume-role-policy-document file://trust-policy.json")
            } else {
                format!("aws iam create-user --user-name {name} --path {path}")
            }),
        ),
    ]);
    Diagnosis {
        version: DIAGNOSIS_VERSION,
        verdict: Verdict::Invalid,
        summary: format!("the check is invalid: IAM has no {kind} at exactly `{arn}`"),
        evaluations: Vec::new(),
        causes: vec![cause],
        causes_omitted: 0,
        assumptions: Vec::new(),
        unknown: Vec::new(),
        fix: None,
    }
}

/// The diagnosis of a snapshot read with no credentials at all: `Unknown`, one reason, and how to give the
/// reading identity credentials (no `skipLayers` advice: skipping every layer would decide nothing).
pub fn no_credentials(why: &str) -> Diagnosis {
    let reason = format!(
        "no AWS credentials: nothing was read ({why}). The operator needs an IAM role for its ServiceAccount (IRSA or EKS Pod Identity); the CLI, the standard AWS configuration (AWS_PROFILE, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, SSO)"
    );
    Diagnosis {
        version: DIAGNOSIS_VERSION,
        verdict: Verdict::Unknown,
        summary: format!("cannot decide: {reason}"),
        evaluations: Vec::new(),
        causes: Vec::new(),
        causes_omitted: 0,
        assumptions: Vec::new(),
        unknown: vec![UnknownLayer {
            layer: SnapshotLayer::Identity,
            reason,
        }],
        fix: None,
    }
}

/// A check of a kind the diagnosis does not evaluate yet (a directory bucket, an access point alias, a
/// Multi-Region Access Point): `Unknown`, saying what is not evaluated; never `Allowed`.
pub fn not_evaluated(layer: SnapshotLayer, what: &str) -> Diagnosis {
    Diagnosis {
        version: DIAGNOSIS_VERSION,
        verdict: Verdict::Unknown,
        summary: format!("cannot decide: {what}"),
        evaluations: Vec::new(),
        causes: Vec::new(),
        causes_omitted: 0,
        assumptions: Vec::new(),
        unknown: vec![UnknownLayer {
            layer,
            reason: what.to_owned(),
        }],
        fix: None,
    }
}

/// What the analysis of the filled snapshot found, for the verdict.
pub struct Findings {
    /// One per implied request (decisions as evaluated on the filled snapshot).
    pub evaluations: Vec<EvaluationSummary>,
    /// Causes, already ordered.
    pub causes: Vec<Cause>,
    /// Layers that matter for this check (a missing layer outside this set cannot change the answer).
    pub relevant: Vec<SnapshotLayer>,
    /// Problems in policy documents: (layer, message).
    pub policy_errors: Vec<(SnapshotLayer, String)>,
}

/// Applies the verdict rules.
pub fn assemble(snapshot: &Snapshot, gaps: &[Gap], findings: Findings) -> Diagnosis {
    let Findings {
        mut evaluations,
        causes,
        relevant,
        policy_errors,
    } = findings;
    let (mut assumptions, unknown) = unread(gaps, &relevant, &policy_errors);
    // The keys that came from the client model, said.
    assumptions.extend(snapshot.request.client.assumption().map(|text| Assumption {
        layer: SnapshotLayer::Request,
        text,
    }));
    let verdict = decide(&causes, &evaluations, &unknown);
    if verdict == Verdict::Unknown {
        for e in evaluations.iter_mut().filter(|e| !e.advisory) {
            if e.decision == RequestDecision::Allowed {
                e.decision = RequestDecision::Unknown;
            }
        }
    }
    let summary = match verdict {
        Verdict::Allowed => allowed_summary(snapshot, &evaluations, &causes),
        Verdict::Denied => denied_summary(&causes),
        Verdict::Unknown => unknown_summary(&causes, &unknown),
        Verdict::Invalid => "the request is invalid".to_owned(),
    };
    let mut causes = causes;
    let causes_omitted = causes.len().saturating_sub(MAX_CAUSES);
    causes.truncate(MAX_CAUSES);
    for evaluation in &mut evaluations {
        evaluation.determining_statements.truncate(MAX_CAUSES);
    }
    Diagnosis {
        version: DIAGNOSIS_VERSION,
        verdict,
        summary,
        evaluations,
        causes,
        causes_omitted,
        assumptions,
        unknown,
        fix: None,
    }
}

/// The relevant layers not read: assumed to allow when skipped on purpose, unknown otherwise; and the policy
/// documents with errors, unknown too.
fn unread(
    gaps: &[Gap],
    relevant: &[SnapshotLayer],
    policy_errors: &[(SnapshotLayer, String)],
) -> (Vec<Assumption>, Vec<UnknownLayer>) {
    let mut unknown = Vec::new();
    let mut assumptions = Vec::new();
    for gap in gaps.iter().filter(|g| relevant.contains(&g.layer)) {
        if gap.skipped {
            assumptions.push(Assumption {
                layer: gap.layer,
                text: format!(
                    "{} not read ({}); assumed to allow",
                    gap.layer.name(),
                    gap.reason
                ),
            });
        } else {
            unknown.push(UnknownLayer {
                layer: gap.layer,
                reason: format!(
                    "{}; or accept it unread with `skipLayers: [{}]`",
                    gap.reason,
                    gap.layer.name()
                ),
            });
        }
    }
    for (layer, message) in policy_errors {
        unknown.push(UnknownLayer {
            layer: *layer,
            reason: format!("policy document error: {message}"),
        });
    }
    (assumptions, unknown)
}

/// Denied on a definite error; else Unknown when anything is unread, undecided or in error; else Allowed.
fn decide(
    causes: &[Cause],
    evaluations: &[EvaluationSummary],
    unknown: &[UnknownLayer],
) -> Verdict {
    let definite = causes
        .iter()
        .any(|c| c.severity == Severity::Error && c.definite);
    let all_allowed = evaluations
        .iter()
        .filter(|e| !e.advisory)
        .all(|e| e.decision == RequestDecision::Allowed);
    if definite {
        Verdict::Denied
    } else if !unknown.is_empty()
        || !all_allowed
        || causes.iter().any(|c| c.severity == Severity::Error)
    {
        Verdict::Unknown
    } else {
        Verdict::Allowed
    }
}

/// `PRINCIPAL may upload to OBJECT: ACTIONS allowed (N warnings)`.
fn allowed_summary(
    snapshot: &Snapshot,
    evaluations: &[EvaluationSummary],
    causes: &[Cause],
) -> String {
    let principal = &snapshot.request.principal_arn;
    let target = snapshot.request.object_arn();
    let actions: Vec<&str> = evaluations
        .iter()
        .filter(|e| !e.advisory)
        .map(|e| e.action.as_str())
        .collect();
    let warnings = causes.len();
    let tail = if warnings > 0 {
        format!(
            " ({warnings} warning{})",
            if warnings == 1 { "" } else { "s" }
        )
    } else {
        String::new()
    };
    let actions_asked = snapshot.request.actions();
    let uploads = actions_asked.iter().any(|a| a == "PutObject");
    let downloads = actions_asked.iter().any(|a| a == "GetObject");
    let verb = match (uploads, downloads) {
        (true, true) => "upload to and download",
        (false, true) => "download",
        (true, false) | (false, false) => "upload to",
    };
    let mut listed: Vec<&str> = Vec::new();
    for action in actions {
        if !listed.contains(&action) {
            listed.push(action);
        }
    }
    format!(
        "`{principal}` may {verb} `{target}`: {} allowed{tail}",
        listed.join(", ")
    )
}

/// `ACTION is denied: FIRST CAUSE (and N more causes)`.
fn denied_summary(causes: &[Cause]) -> String {
    let first = causes
        .iter()
        .find(|c| c.severity == Severity::Error && c.definite);
    let more = causes
        .iter()
        .filter(|c| c.severity == Severity::Error)
        .count()
        .saturating_sub(1);
    let tail = if more > 0 {
        format!(
            " (and {more} more cause{})",
            if more == 1 { "" } else { "s" }
        )
    } else {
        String::new()
    };
    first.map_or_else(
        || "denied".to_owned(),
        |c| {
            let action = if c.action.is_empty() {
                "the upload".to_owned()
            } else {
                c.action.clone()
            };
            // S3 refuses an ACL on a bucket with ACLs disabled with 400, before any authorization.
            let outcome = if c.id == CauseId::OwnershipEnforcedAcl {
                "fails with 400 AccessControlListNotSupported, not an access denial"
            } else {
                "is denied"
            };
            format!("{action} {outcome}: {}{tail}", c.message)
        },
    )
}

/// `cannot decide: …`, naming the layers not read, or the undecided cause.
fn unknown_summary(causes: &[Cause], unknown: &[UnknownLayer]) -> String {
    let layers: Vec<String> = unknown
        .iter()
        .map(|u| format!("{} ({})", u.layer.name(), u.reason))
        .collect();
    let undecided = causes
        .iter()
        .find(|c| c.severity == Severity::Error && !c.definite);
    if let (true, Some(cause)) = (layers.is_empty(), undecided) {
        format!("cannot decide: {}", cause.message)
    } else if layers.is_empty() {
        "cannot decide: a policy with errors decides the outcome".to_owned()
    } else {
        format!(
            "cannot decide: {} could not be read or evaluated",
            layers.join("; ")
        )
    }
}
