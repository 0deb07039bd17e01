//! `build`: the one function that makes a check's whole status from its previous status, what the reconcile
//! learned and when (verdict, causes, the Ready / Stalled / Reconciling conditions of the spec's table, each
//! with `observedGeneration`), and the Event a change of result publishes.

use super::condition::condition;
use super::projection::Projection;
use super::types::{
    reasons, BucketAccessCheckStatus, Holds, Reason, RefreshedBy, State, StatusCause, StatusScope,
};
use crate::spec_error::SpecError;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use s3_diagnosis::causes::{CauseId, Severity};
use s3_diagnosis::snapshot::SnapshotLayer;
use s3_diagnosis::Verdict;

/// What a reconcile learned.
#[derive(Debug, Clone)]
pub enum Outcome<'a> {
    /// A new generation, before any AWS call.
    Evaluating,
    /// A diagnosis, as its reader may see it (`project`), and how the evaluation came about.
    Diagnosed(Box<Diagnosed>),
    /// The spec is invalid.
    InvalidSpec(&'a [SpecError]),
    /// No scope allows the check (the message says what is not allowed, by which scopes).
    OutOfScope(&'a str),
}

/// An evaluation against AWS: what its reader sees, what started it, and the scope it ran under.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnosed {
    /// The diagnosis at the reader's detail level.
    pub projection: Projection,
    /// What started the evaluation.
    pub refreshed_by: Option<RefreshedBy>,
    /// The scope that allowed it (none with `--scope-mode off`).
    pub scope: Option<StatusScope>,
}

impl From<Projection> for Outcome<'_> {
    fn from(projection: Projection) -> Self {
        Self::Diagnosed(Box::new(Diagnosed {
            projection,
            refreshed_by: None,
            scope: None,
        }))
    }
}

/// The object a status is built for, and when: its generation, the principal it names, the requested-at
/// value it answers (echoed in `lastHandledRequestedAt` once handled), and the time.
#[derive(Debug, Clone)]
pub struct Stamp<'a> {
    /// `metadata.generation`.
    pub generation: Option<i64>,
    /// The principal ARN the spec names.
    pub principal: &'a str,
    /// The `bucketaccess.io/requested-at` value of the object.
    pub requested: Option<&'a str>,
    /// Now: the time of conditions that change status, and of `lastEvaluated`.
    pub now: Time,
}

impl Stamp<'_> {
    /// `now` as `lastEvaluated` writes it.
    fn timestamp(&self) -> String {
        self.now.0.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
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

/// The whole status of a check, from its previous status, what the reconcile learned, and the stamp: the one
/// place every field of a check's status is written.
pub fn build(
    old: Option<&BucketAccessCheckStatus>,
    outcome: Outcome<'_>,
    stamp: &Stamp<'_>,
) -> BucketAccessCheckStatus {
    let generation = stamp.generation;
    let mut status = BucketAccessCheckStatus {
        observed_generation: generation,
        principal: Some(stamp.principal.to_owned()),
        last_evaluated: Some(stamp.timestamp()),
        last_handled_requested_at: stamp.requested.map(str::to_owned),
        ..BucketAccessCheckStatus::default()
    };
    let (ready, stalled, reconciling) = match outcome {
        Outcome::Evaluating => {
            status.summary = Some(format!("evaluating generation {}", generation.unwrap_or(0)));
            status.last_evaluated = old.and_then(|o| o.last_evaluated.clone());
            status.last_handled_requested_at = None;
            evaluating_conditions()
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
            refused_conditions(State::InvalidSpec)
        }
        Outcome::OutOfScope(message) => {
            status.verdict = Some(Verdict::Invalid);
            status.summary = Some(format!("out of scope, nothing was read: {message}"));
            refused_conditions(State::OutOfScope)
        }
        Outcome::Diagnosed(diagnosed) => {
            let Diagnosed {
                projection: p,
                refreshed_by,
                scope,
            } = *diagnosed;
            status.verdict = Some(p.verdict);
            status.summary = Some(p.summary);
            status.causes = p.causes;
            status.causes_omitted = p.causes_omitted;
            status.evaluations = p.evaluations;
            status.assumptions = p.assumptions;
            status.unknown = p.unknown;
            status.input_digest = p.input_digest;
            status.fix = p.fix;
            status.refreshed_by = refreshed_by;
            status.scope = scope;
            diagnosed_conditions(p.verdict)
        }
    };
    status.reason = status
        .causes
        .iter()
        .find(|c| c.severity == Severity::Error)
        .map(|c| Reason::Cause(c.id))
        .or(Some(Reason::State(ready.1)));
    let message = status.summary.clone().unwrap_or_default();
    let previous = old.map_or(&[][..], |o| o.conditions.as_slice());
    status.conditions = [
        (reasons::READY, ready),
        (reasons::STALLED, stalled),
        (reasons::RECONCILING, reconciling),
    ]
    .into_iter()
    .map(|(type_, (holds, state))| {
        condition(
            type_,
            holds,
            state.as_str(),
            &message,
            generation,
            &stamp.now,
            previous,
        )
    })
    .collect();
    status
}

fn evaluating_conditions() -> Conditions {
    use Holds::*;
    use State::Evaluating;
    (
        (Unknown, Evaluating),
        (False, Evaluating),
        (True, Evaluating),
    )
}

/// Invalid or out of scope: a verdict reached without reading anything.
fn refused_conditions(state: State) -> Conditions {
    use Holds::*;
    ((False, state), (True, state), (False, State::Evaluated))
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

/// The Event for a change of verdict or of the set of cause ids; none when nothing changed, while evaluating,
/// and for a new check's first verdict when it is `Allowed`.
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
    // A new check (no status at all) found allowed is no news: its status says so, and 100,000 new checks cost
    // no Event each. A check that had a status (even one still `Evaluating`) gets its Event.
    let first_allowed = verdict == Verdict::Allowed && old.is_none();
    if unchanged || first_allowed {
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
