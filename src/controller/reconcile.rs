//! Reconcile one `BucketAccessCheck`, as its steps: validate the spec (an invalid spec is a verdict, not a
//! retry loop), decide whether a scope allows it (with `--scope-mode enforce`; out of scope is a verdict too,
//! reached with no AWS call), collect with the scope's identities (a new generation whose reads take longer
//! than a second says `Ready=Unknown / Reconciling=True` meanwhile) and diagnose, project the diagnosis at the
//! scope's detail level, build the status (`bucket_access_api::status::build`) and write it with server-side
//! apply on the status subresource (one field manager) when its result changed or its `lastEvaluated` is an
//! hour old, publish an Event only on transitions, and requeue after the interval (with jitter) or, while
//! Unknown, with a per-object exponential backoff.

use super::context::Context;
use super::error::Error;
use super::events;
use super::scope::caches::Boundary;
use super::visits::{
    backoff, jittered, Held, DEFAULT_MIN_INTERVAL, NAMESPACE_FRESH_READS, NAMESPACE_WINDOW,
};
pub use super::{FIELD_MANAGER, REQUESTED_AT};
use bucket_access_api::scope::{Authorization, Grant};
use bucket_access_api::spec::{BucketAccessCheck, SpecError, API_VERSION, KIND};
use bucket_access_api::status::{
    build, handled, project, same_result, transition, BucketAccessCheckStatus, Diagnosed, Outcome,
    Owners, RefreshedBy, Stamp, StatusScope, View,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType};
use kube::runtime::reflector::ObjectRef;
use kube::{Api, Resource, ResourceExt};
use s3_diagnosis::diagnose;
use s3_diagnosis::snapshot::Snapshot;
use s3_diagnosis::source::{Collected, ReadAccess, SnapshotSource, Target};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::Instrument;

/// `sha256:` of the snapshot without its collection time, so that drift in AWS is visible in the status;
/// none when the snapshot does not serialize (no digest rather than the digest of nothing). Under a scope
/// (`without_organization`), the organization's SCPs and RCPs are left out: no scope lists them, and a digest
/// that moved with them would tell a tenant that they changed.
pub fn digest(snapshot: &Snapshot, without_organization: bool) -> Option<String> {
    let mut s = snapshot.clone();
    s.collected_at = None;
    if without_organization {
        s.organization = None;
    }
    let mut hasher = Sha256::new();
    serde_json::to_writer(&mut hasher, &s).ok()?;
    Some(format!("sha256:{:x}", hasher.finalize()))
}

/// A new generation whose collection takes longer than this says `Evaluating` meanwhile; a faster one (every
/// read cached) writes its result at once, in one write.
pub const EVALUATING_AFTER: Duration = Duration::from_secs(1);

/// An evaluation whose result did not change is written at most this often, to move `lastEvaluated`: a
/// check costs the API server one write an hour when nothing changes, not one per evaluation.
pub const HEARTBEAT: Duration = Duration::from_secs(3600);

/// Writes the check's status, and remembers it as the check's current one until the watch delivers it.
async fn write_status<S>(
    ctx: &Context<S>,
    visit: &Facts<'_>,
    status: &BucketAccessCheckStatus,
) -> Result<(), Error> {
    ctx.metrics.status_written();
    let patch = serde_json::json!({"apiVersion": API_VERSION, "kind": KIND, "status": status});
    let params = PatchParams::apply(FIELD_MANAGER).force();
    ctx.writes
        .write(
            visit
                .api
                .patch_status(&visit.name, &params, &Patch::Apply(&patch)),
        )
        .await?;
    ctx.own_writes.wrote(&visit.uid, status);
    Ok(())
}

/// Reconciles one object, in one tracing span named after it.
pub async fn reconcile<S: SnapshotSource>(
    obj: Arc<BucketAccessCheck>,
    ctx: Arc<Context<S>>,
) -> Result<Action, Error> {
    let check = format!("{}/{}", obj.namespace().unwrap_or_default(), obj.name_any());
    let span = tracing::info_span!("reconcile", check = %check);
    reconcile_check(&obj, &ctx, &check).instrument(span).await
}

async fn reconcile_check<S: SnapshotSource>(
    obj: &BucketAccessCheck,
    ctx: &Context<S>,
    check: &str,
) -> Result<Action, Error> {
    let uid = uid_of(obj);
    let boundary_changed = matches!(&ctx.boundary, Boundary::Enforce(c) if c.take_changed(
        &obj.namespace().unwrap_or_default(),
        &obj.name_any()
    ));
    // A change event touched what it read: due now.
    let event = ctx.events.as_ref().and_then(|e| e.take(check));
    let requested = obj.annotations().get(REQUESTED_AT).map(String::as_str);
    // Nothing that starts an evaluation changed since the last one (same generation and requested-at value,
    // no scope, namespace or AWS change affecting it, requeue time not reached): edits of labels or other
    // annotations, and the operator's own status writes, then cost nothing.
    let quiet = !boundary_changed && event.is_none() && obj.status.is_some();
    if let Some(left) = quiet
        .then(|| ctx.visits.not_due(&uid, obj.meta().generation, requested))
        .flatten()
    {
        tracing::debug!("nothing that starts an evaluation changed: not due yet");
        return Ok(Action::requeue(left));
    }
    let started = Instant::now();
    let result = Box::pin(steps(obj, ctx, event.is_some())).await;
    if result.is_err() {
        // Failed: the next try evaluates, whatever the last success said.
        ctx.visits.forget(&uid);
    }
    if let (Ok(_), Some(Some(at))) = (&result, event) {
        ctx.metrics.event_lag(events::lag(at));
    }
    ctx.metrics.reconciled(
        started.elapsed(),
        result.as_ref().err().map(Error::metric_label),
    );
    ctx.metrics.set_remembered(ctx.visits.approximate_len());
    result
}

/// The object's uid (its namespace and name when it has none, as in tests): the key of everything the
/// controller remembers of it.
fn uid_of(obj: &BucketAccessCheck) -> String {
    obj.uid()
        .unwrap_or_else(|| format!("{}/{}", obj.namespace().unwrap_or_default(), obj.name_any()))
}

/// One reconcile's fixed facts about its object.
struct Facts<'a> {
    obj: &'a BucketAccessCheck,
    name: String,
    namespace: String,
    uid: String,
    api: Api<BucketAccessCheck>,
    previous: Option<BucketAccessCheckStatus>,
    principal: String,
    requested: Option<&'a str>,
    /// A change event touched what the check read.
    event: bool,
}

impl Facts<'_> {
    /// The stamp of a status built now.
    fn stamp(&self) -> Stamp<'_> {
        Stamp {
            generation: self.obj.meta().generation,
            principal: &self.principal,
            requested: self.requested,
            now: Time(jiff::Timestamp::now()),
        }
    }
}

/// What the scope decided for the check.
enum Decision {
    /// The spec is invalid: nothing is read.
    Invalid(Vec<SpecError>),
    /// No scope allows it: nothing is read.
    OutOfScope(String),
    /// Allowed (by this grant; none with `--scope-mode off`): the spec parsed once, what is read.
    Granted(Box<Target>, Option<Box<Grant>>),
}

/// The status a reconcile computed.
struct Evaluated {
    /// The status before it (the previous one, or the `Evaluating` one just written).
    current: Option<BucketAccessCheckStatus>,
    /// The new status.
    new: BucketAccessCheckStatus,
    /// Whether AWS was read (a collection was made).
    collected: bool,
    /// The AWS calls the collection made itself.
    aws_calls: u64,
}

/// The reconcile, as its steps: authorize → (collect → diagnose → project) → write if changed → Event →
/// requeue.
async fn steps<S: SnapshotSource>(
    obj: &BucketAccessCheck,
    ctx: &Context<S>,
    event: bool,
) -> Result<Action, Error> {
    let started = Instant::now();
    let visit = Facts {
        event,
        ..facts_of(obj, ctx)?
    };
    let decision = decide(&visit, ctx).await?;
    let interval = match &decision {
        Decision::Granted(_, Some(grant)) => grant.interval,
        _ => obj.spec.interval(),
    };
    let evaluated = match decision {
        Decision::Invalid(problems) => without_reading(&visit, Outcome::InvalidSpec(&problems)),
        Decision::OutOfScope(refusal) => {
            ctx.metrics.out_of_scope(&visit.namespace);
            tracing::info!(reason = %refusal, "out of scope: nothing read");
            without_reading(&visit, Outcome::OutOfScope(&refusal))
        }
        Decision::Granted(target, grant) => {
            match evaluate(&visit, ctx, &target, grant.as_deref()).await? {
                Some(evaluated) => evaluated,
                // The scope changed during the collection: nothing written, decided again at once.
                None => return Ok(Action::requeue(Duration::from_secs(1))),
            }
        }
    };
    let new = write(&visit, ctx, evaluated, started).await?;
    publish(&visit, ctx, &new).await?;
    Ok(requeue(&visit, ctx, &new, interval))
}

/// The object's facts, once.
fn facts_of<'a, S>(obj: &'a BucketAccessCheck, ctx: &Context<S>) -> Result<Facts<'a>, Error> {
    let name = obj.name_any();
    let namespace = obj
        .namespace()
        .ok_or_else(|| Error::NoNamespace(name.clone()))?;
    let uid = uid_of(obj);
    Ok(Facts {
        obj,
        previous: ctx.own_writes.current(&uid, obj.status.as_ref()),
        uid,
        api: Api::namespaced(ctx.client.clone(), &namespace),
        principal: obj.spec.principal_arn().unwrap_or_default().to_owned(),
        requested: obj.annotations().get(REQUESTED_AT).map(String::as_str),
        event: false,
        name,
        namespace,
    })
}

/// Step 1: is the check valid, and which scope allows it (what may be read, as whom, and shown)?
async fn decide<S>(visit: &Facts<'_>, ctx: &Context<S>) -> Result<Decision, Error> {
    let target = match visit.obj.spec.checked() {
        Ok(target) => Box::new(target),
        Err(problems) => return Ok(Decision::Invalid(problems)),
    };
    tracing::debug!("reconcile: deciding the scope");
    match &ctx.boundary {
        Boundary::Off => Ok(Decision::Granted(target, None)),
        Boundary::Enforce(caches) => match caches
            .authorize(visit.obj, &target, &visit.namespace)
            .await?
        {
            Authorization::InScope(grant) => Ok(Decision::Granted(target, Some(grant))),
            Authorization::OutOfScope(refusal) => Ok(Decision::OutOfScope(refusal.message)),
        },
    }
}

/// A verdict reached without reading anything (invalid, out of scope): over the previous status.
fn without_reading(visit: &Facts<'_>, outcome: Outcome<'_>) -> Evaluated {
    Evaluated {
        current: visit.previous.clone(),
        new: build(visit.previous.as_ref(), outcome, &visit.stamp()),
        collected: false,
        aws_calls: 0,
    }
}

/// Steps 2 to 4 for a check in scope: say `Evaluating` on a new generation, collect with the grant's access,
/// decide the scope again (none: it changed, nothing is written), diagnose, and project the status at the
/// scope's level.
async fn evaluate<S: SnapshotSource>(
    visit: &Facts<'_>,
    ctx: &Context<S>,
    target: &Target,
    grant: Option<&Grant>,
) -> Result<Option<Evaluated>, Error> {
    let (access, coalesced) = access_for(visit, ctx, target, grant);
    tracing::debug!("reconcile: collecting");
    // Boxed: the collection's future is large, and reconciles run on worker threads with small stacks.
    let collecting = Box::pin(ctx.source.collect(target, &access));
    let (collected, current) = collect_saying_evaluating(visit, ctx, collecting).await?;
    let snapshot = collected.snapshot;
    if let Some(index) = &ctx.events {
        let check = format!("{}/{}", visit.namespace, visit.name);
        index.record(&check, ObjectRef::from_obj(visit.obj), &snapshot);
    }
    if scope_moved(visit, ctx, target, grant).await? {
        return Ok(None);
    }
    tracing::debug!("reconcile: diagnosing");
    let diagnosis = diagnose(&snapshot);
    // What the check's readers may see: decided from the diagnosis at the scope's level.
    let view = grant.map(|g| View {
        detail: g.detail,
        accounts: g.accounts.clone(),
    });
    let projection = project(
        &diagnosis,
        &Owners::of(&snapshot),
        digest(&snapshot, view.is_some()).as_deref(),
        view.as_ref(),
    );
    let refreshed_by = if access.fresh || coalesced.is_some() {
        RefreshedBy::Requested
    } else if visit.event {
        RefreshedBy::Event
    } else {
        RefreshedBy::Interval
    };
    let scope = grant.map(|grant| StatusScope {
        name: grant.scope.clone(),
        detail: grant.detail,
        notes: grant.notes.iter().cloned().chain(coalesced).collect(),
    });
    let outcome = Outcome::Diagnosed(Box::new(Diagnosed {
        projection,
        refreshed_by: Some(refreshed_by),
        scope,
    }));
    Ok(Some(Evaluated {
        new: build(current.as_ref(), outcome, &visit.stamp()),
        current,
        collected: true,
        aws_calls: collected.aws_calls,
    }))
}

/// Step 2: collect. On a new generation whose collection is still running after `EVALUATING_AFTER`, say
/// `Evaluating` meanwhile (`Ready=Unknown`, `Reconciling=True`); a faster one writes its result in one
/// write. Returns what was collected and the status the evaluation is built over.
async fn collect_saying_evaluating<S>(
    visit: &Facts<'_>,
    ctx: &Context<S>,
    mut collecting: impl std::future::Future<Output = Collected> + Unpin,
) -> Result<(Collected, Option<BucketAccessCheckStatus>), Error> {
    let generation = visit.obj.meta().generation;
    let previous = visit.previous.as_ref();
    if previous.is_some() && previous.and_then(|s| s.observed_generation) == generation {
        return Ok((collecting.await, visit.previous.clone()));
    }
    tokio::select! {
        biased;
        collected = &mut collecting => Ok((collected, visit.previous.clone())),
        () = tokio::time::sleep(EVALUATING_AFTER) => {
            // Written while the collection goes on: its reads are never held up by the API server.
            let evaluating = build(previous, Outcome::Evaluating, &visit.stamp());
            let (written, collected) =
                tokio::join!(write_status(ctx, visit, &evaluating), &mut collecting);
            written?;
            Ok((collected, Some(evaluating)))
        }
    }
}

/// The collection can take minutes: the scope may have changed since it was decided. What was read under a
/// grant that no longer holds is not written; the check is decided again at once.
async fn scope_moved<S>(
    visit: &Facts<'_>,
    ctx: &Context<S>,
    target: &Target,
    grant: Option<&Grant>,
) -> Result<bool, Error> {
    let (Boundary::Enforce(caches), Some(granted)) = (&ctx.boundary, grant) else {
        return Ok(false);
    };
    let still = caches
        .authorize(visit.obj, target, &visit.namespace)
        .await?;
    if matches!(&still, Authorization::InScope(now) if **now == *granted) {
        return Ok(false);
    }
    caches.mark_changed(&visit.namespace, &visit.name);
    tracing::info!("the scope changed during the collection: nothing written, deciding again");
    Ok(true)
}

/// What the collection may read and as whom, and whether it reads fresh: a new requested-at value reads
/// fresh once per `minInterval` (the scope's, or `DEFAULT_MIN_INTERVAL`) for its principal and bucket in its
/// namespace, and at most `NAMESPACE_FRESH_READS` times a minute for the namespace, whichever check asks:
/// a tenant changing the annotation in a loop, or deleting and re-creating checks, cannot spend the AWS read
/// budget of all. A request held back is answered from the cache, and the note says why.
fn access_for<S>(
    visit: &Facts<'_>,
    ctx: &Context<S>,
    target: &Target,
    grant: Option<&Grant>,
) -> (ReadAccess, Option<String>) {
    let mut access = grant.map_or_else(
        || ReadAccess::unrestricted(&visit.obj.spec.read_role_arns),
        |g| g.access.clone(),
    );
    let asked = visit.requested.is_some_and(|requested| {
        !visit
            .previous
            .as_ref()
            .is_some_and(|s| handled(s, requested))
    });
    if !asked {
        return (access, None);
    }
    let scope_min = grant.and_then(|g| g.min_interval);
    let min_interval = scope_min.unwrap_or(DEFAULT_MIN_INTERVAL);
    // The principal as IAM tells principals apart (account, kind, name folded; not its path), and what is read.
    let (request, principal) = (&target.request, &target.principal);
    let pair = format!(
        "{}|{:?}|{}|{}|{}",
        principal.account(),
        principal.kind(),
        principal.name().to_ascii_lowercase(),
        request.bucket,
        request.access_point.as_deref().unwrap_or_default()
    );
    let held = ctx
        .fresh_reads
        .may_read(&visit.namespace, &pair, min_interval)
        .err();
    access.fresh = held.is_none();
    let note = held.map(|held| match held {
        Held::Pair(min) => format!(
            "a requested re-evaluation came within {}s of the last fresh read of this principal and bucket in this namespace ({}): answered from cached reads",
            min.as_secs(),
            if scope_min.is_some() {
                "the scope's `limits.minInterval`"
            } else {
                "the operator's default, as the scope sets no `limits.minInterval`"
            }
        ),
        Held::Namespace => format!(
            "namespace `{}` asked for more than {NAMESPACE_FRESH_READS} fresh re-evaluations within {}s: answered from cached reads",
            visit.namespace,
            NAMESPACE_WINDOW.as_secs()
        ),
    });
    (access, note)
}

/// Step 5: log the evaluation and write the status when its result changed (anything but `lastEvaluated`
/// and `refreshedBy`), or, for an evaluation against AWS, when the written `lastEvaluated` is older than
/// `HEARTBEAT`: the LAST-EVALUATED column says when the result was last confirmed, within the hour, and a
/// steady check costs one write an hour. The conditions' lastTransitionTime and the Events change only with
/// the result.
async fn write<S>(
    visit: &Facts<'_>,
    ctx: &Context<S>,
    evaluated: Evaluated,
    started: Instant,
) -> Result<BucketAccessCheckStatus, Error> {
    let Evaluated {
        current,
        new,
        collected,
        aws_calls,
    } = evaluated;
    // One line per evaluation, for log pipelines.
    tracing::info!(
        namespace = %visit.namespace,
        name = %visit.name,
        verdict = %new.verdict.map_or("Evaluating", s3_diagnosis::Verdict::as_str),
        reason = %new.reason.map_or("", |r| r.as_str()),
        causes = %new.causes.iter().map(|c| c.id.as_str()).collect::<Vec<_>>().join(","),
        fix_verified = ?new.fix.as_ref().map(|f| f.verified),
        duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        aws_calls,
        "evaluated"
    );
    let changed = !current.as_ref().is_some_and(|c| same_result(c, &new));
    let heartbeat = collected
        && current
            .as_ref()
            .is_none_or(|c| older_than(c.last_evaluated.as_deref(), HEARTBEAT));
    if changed || heartbeat {
        write_status(ctx, visit, &new).await?;
    }
    Ok(new)
}

/// Whether a written `lastEvaluated` is older than `age` (or absent, or not a time).
fn older_than(last_evaluated: Option<&str>, age: Duration) -> bool {
    let Some(at) = last_evaluated.and_then(|t| t.parse::<jiff::Timestamp>().ok()) else {
        return true;
    };
    jiff::Timestamp::now()
        .duration_since(at)
        .unsigned_abs()
        .ge(&age)
}

/// Step 6: one Event on a transition (verdict or set of cause ids), never on a mere re-evaluation.
async fn publish<S>(
    visit: &Facts<'_>,
    ctx: &Context<S>,
    new: &BucketAccessCheckStatus,
) -> Result<(), Error> {
    if let Some(t) = transition(visit.previous.as_ref(), new) {
        let event = Event {
            type_: if t.warning {
                EventType::Warning
            } else {
                EventType::Normal
            },
            reason: t.reason.as_str().to_owned(),
            note: Some(t.note.chars().take(1000).collect()),
            action: "Evaluate".to_owned(),
            secondary: None,
        };
        ctx.metrics.event_published();
        let reference = visit.obj.object_ref(&());
        ctx.writes
            .write(ctx.recorder.publish(&event, &reference))
            .await?;
    }
    Ok(())
}

/// Step 7: when to come back: the interval (jittered), or a backoff while the verdict is `Unknown`.
fn requeue<S>(
    visit: &Facts<'_>,
    ctx: &Context<S>,
    new: &BucketAccessCheckStatus,
    interval: Duration,
) -> Action {
    let unknown = new.verdict == Some(s3_diagnosis::Verdict::Unknown);
    let failures = ctx.visits.failures(&visit.uid, unknown);
    let after = if unknown {
        backoff(failures, interval)
    } else {
        jittered(interval, &visit.uid)
    };
    let generation = visit.obj.meta().generation;
    ctx.visits
        .visited(&visit.uid, generation, visit.requested, after);
    Action::requeue(after)
}

/// After a Kubernetes API error: exponential backoff per object (keyed as everything else remembered of it).
pub fn error_policy<S: SnapshotSource>(
    obj: Arc<BucketAccessCheck>,
    _error: &Error,
    ctx: Arc<Context<S>>,
) -> Action {
    let failures = ctx.visits.failures(&uid_of(&obj), true);
    Action::requeue(backoff(failures, Duration::from_secs(300)))
}
