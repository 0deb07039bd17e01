//! Reconcile one `BucketAccessCheck`: validate the spec (an invalid spec is a verdict, not a retry loop),
//! decide whether a scope allows it (with `--scope-mode enforce`; out of scope is a verdict too, reached with
//! no AWS call), write `Ready=Unknown / Reconciling=True` on a new generation before any AWS call, collect
//! with the scope's identities and diagnose, cut the status to the scope's detail level,
//! write the status with server-side apply on the status subresource (one field manager) only when it
//! changed, publish an Event only on transitions, and requeue after the interval (with jitter) or, while
//! Unknown, with a per-object exponential backoff.

use super::events::{self, EventIndex};
use super::metrics::OperatorMetrics;
use bucket_access_api::scope::disclosure::{project, View};
use bucket_access_api::scope::{
    authorize, Authorization, BucketAccessScope, CheckInNamespace, Grant,
};
use bucket_access_api::spec::{BucketAccessCheck, SpecError, API_VERSION, KIND};
use bucket_access_api::status::{build, same_result, transition, BucketAccessCheckStatus, Outcome};
use bucket_access_api::status::{RefreshedBy, StatusScope};
use bucket_access_aws::events::Dependencies;
use bucket_access_aws::metrics::counting_calls;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Patch, PatchParams};
use kube::core::PartialObjectMeta;
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType, Recorder};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Api, Client, Resource, ResourceExt};
use s3_diagnosis::diagnose;
use s3_diagnosis::snapshot::Snapshot;
use s3_diagnosis::source::ReadAccess;
use s3_diagnosis::source::{SnapshotSource, Target};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The annotation that asks for a re-evaluation now, with fresh reads (any new value; e.g. a timestamp),
/// echoed in `status.lastHandledRequestedAt` once handled.
pub const REQUESTED_AT: &str = "bucketaccess.io/requested-at";

/// The one field manager that writes status.
pub const FIELD_MANAGER: &str = "bucket-access-operator";

/// Why a reconcile failed (Kubernetes API failures only: AWS failures are a verdict, `Unknown`).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A Kubernetes API call failed.
    #[error("kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    /// The object has no namespace.
    #[error("object `{0}` has no namespace")]
    NoNamespace(String),
    /// The caches of scopes and namespaces did not fill in time: nothing can be decided yet.
    #[error("the scopes and namespaces are not known yet")]
    ScopesNotReady,
}

impl Error {
    /// A short label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Self::Kube(_) => "kube",
            Self::NoNamespace(_) => "no_namespace",
            Self::ScopesNotReady => "scopes_not_ready",
        }
    }
}

/// The checks a namespace's count cap counts: the controller's own (one shard: every check), or, for a shard,
/// the metadata of every check of every shard.
#[derive(Clone)]
pub enum CheckList {
    /// The controller's store, which holds every check.
    Shard(Store<BucketAccessCheck>),
    /// Every check's metadata.
    Every(Store<PartialObjectMeta<BucketAccessCheck>>),
}

impl CheckList {
    /// Whether the list has filled (false: it never will).
    async fn wait_until_ready(&self) -> bool {
        match self {
            Self::Shard(store) => store.wait_until_ready().await.is_ok(),
            Self::Every(store) => store.wait_until_ready().await.is_ok(),
        }
    }

    /// How many checks of `namespace` are older than `obj` (by creation time, then name): the count cap keeps
    /// the oldest.
    fn older_in(&self, namespace: &str, obj: &BucketAccessCheck) -> usize {
        let key = |m: &kube::core::ObjectMeta| {
            (
                m.creation_timestamp.as_ref().map(|t| t.0),
                m.name.clone().unwrap_or_default(),
            )
        };
        let own = key(obj.meta());
        let older =
            |m: &kube::core::ObjectMeta| m.namespace.as_deref() == Some(namespace) && key(m) < own;
        match self {
            Self::Shard(store) => store.state().iter().filter(|c| older(c.meta())).count(),
            Self::Every(store) => store.state().iter().filter(|c| older(&c.metadata)).count(),
        }
    }
}

/// How checks are bounded: `Enforce` (the default) decides every check against the scopes before any AWS
/// call; `Off` keeps the single-tenant behaviour (the spec's `readRoleArns`, everything readable).
pub enum Boundary {
    /// No scopes.
    Off,
    /// Scopes enforced, from these caches.
    Enforce(ScopeCaches),
}

/// The caches the scope decision reads: scopes, namespaces (labels), and the checks (for the count cap).
pub struct ScopeCaches {
    /// Every `BucketAccessScope`.
    pub scopes: Store<BucketAccessScope>,
    /// Every namespace's metadata.
    pub namespaces: Store<PartialObjectMeta<Namespace>>,
    /// Every check (of every shard), for the count cap.
    pub checks: CheckList,
    /// True once all three have filled.
    ready: tokio::sync::watch::Receiver<bool>,
    /// Checks (`namespace/name`) a scope or namespace change affected since their last evaluation.
    changed: Arc<Mutex<HashSet<String>>>,
}

impl ScopeCaches {
    /// The caches, and one task that waits for all three to fill. Reconciles wait on that task's answer, not
    /// on the stores: a store's readiness wakes only the last of several concurrent waiters (a oneshot
    /// channel underneath), and the others slept until their timeout.
    pub fn new(
        scopes: Store<BucketAccessScope>,
        namespaces: Store<PartialObjectMeta<Namespace>>,
        checks: CheckList,
    ) -> Self {
        let (tx, ready) = tokio::sync::watch::channel(false);
        let stores = (scopes.clone(), namespaces.clone(), checks.clone());
        tokio::spawn(async move {
            let filled = stores.0.wait_until_ready().await.is_ok()
                && stores.1.wait_until_ready().await.is_ok()
                && stores.2.wait_until_ready().await;
            let _ = tx.send(filled);
            // Keep the sender while anyone listens: a dropped sender reads as "never ready".
            tx.closed().await;
        });
        Self {
            scopes,
            namespaces,
            checks,
            ready,
            changed: Arc::default(),
        }
    }

    /// Records that a scope or namespace change affects the check `namespace/name`: its next reconcile
    /// evaluates it, whatever else it holds.
    pub fn mark_changed(&self, namespace: &str, name: &str) {
        if let Ok(mut changed) = self.changed.lock() {
            changed.insert(format!("{namespace}/{name}"));
        }
    }

    /// The same, for a stream that outlives this borrow.
    pub fn changes(&self) -> Arc<Mutex<HashSet<String>>> {
        Arc::clone(&self.changed)
    }

    /// Whether a boundary change affected `namespace/name` since it was last asked (and forgets it).
    fn take_changed(&self, namespace: &str, name: &str) -> bool {
        self.changed
            .lock()
            .is_ok_and(|mut c| c.remove(&format!("{namespace}/{name}")))
    }

    /// The decision for one check (after the caches have filled).
    async fn authorize(
        &self,
        obj: &BucketAccessCheck,
        target: &Target,
        namespace: &str,
    ) -> Result<Authorization, Error> {
        let mut ready = self.ready.clone();
        let filled = tokio::time::timeout(Duration::from_secs(30), ready.wait_for(|r| *r)).await;
        if !matches!(filled, Ok(Ok(_))) {
            return Err(Error::ScopesNotReady);
        }
        let scopes = self.scopes.state();
        let labels = self
            .namespaces
            .get(&ObjectRef::new(namespace))
            .map(|ns| ns.labels().clone())
            .unwrap_or_default();
        let rank = self.checks.older_in(namespace, obj);
        Ok(authorize(
            scopes
                .iter()
                .map(|s| (s.metadata.name.as_deref().unwrap_or_default(), &s.spec)),
            &CheckInNamespace {
                spec: &obj.spec,
                target,
                namespace,
                labels: &labels,
                rank,
            },
        ))
    }
}

/// What every reconcile shares.
pub struct Context<S> {
    /// The Kubernetes client.
    pub client: Client,
    /// Publishes Events (one per process: it aggregates repeats).
    pub recorder: Recorder,
    /// Where snapshots come from.
    pub source: Arc<S>,
    /// Counters for `/metrics`.
    pub metrics: Arc<OperatorMetrics>,
    /// Scopes enforced or not.
    pub boundary: Boundary,
    /// Consecutive failures per object (uid), for backoff.
    failures: Mutex<HashMap<String, u32>>,
    /// When each object (uid) was last read fresh on request, to hold requests to one per `minInterval`.
    refreshed: moka::sync::Cache<String, Instant>,
    /// What each object (uid) was last evaluated for, and when it is due again.
    visits: moka::sync::Cache<String, Visit>,
    /// With change events: what each check read, and which checks an event touched.
    events: Option<Arc<EventIndex>>,
}

/// One evaluation's inputs from the object itself, and when the next is due.
#[derive(Debug, Clone, PartialEq)]
struct Visit {
    generation: Option<i64>,
    requested: Option<String>,
    due: Instant,
}

impl<S> Context<S> {
    /// A context.
    pub fn new(
        client: Client,
        recorder: Recorder,
        source: Arc<S>,
        metrics: Arc<OperatorMetrics>,
        boundary: Boundary,
    ) -> Self {
        Self {
            client,
            recorder,
            source,
            metrics,
            boundary,
            failures: Mutex::new(HashMap::new()),
            // Entries of deleted checks go after a week unused (a check is visited at least every interval).
            refreshed: moka::sync::Cache::builder()
                .time_to_idle(Duration::from_secs(7 * 86_400))
                .build(),
            visits: moka::sync::Cache::builder()
                .time_to_idle(Duration::from_secs(7 * 86_400))
                .build(),
            events: None,
        }
    }

    /// The same context, following AWS change events through `index`.
    #[must_use]
    pub fn with_events(mut self, index: Arc<EventIndex>) -> Self {
        self.events = Some(index);
        self
    }

    fn failures(&self, uid: &str, failed: bool) -> u32 {
        let Ok(mut map) = self.failures.lock() else {
            return 0;
        };
        if failed {
            let n = map.entry(uid.to_owned()).or_insert(0);
            *n = n.saturating_add(1);
            *n
        } else {
            map.remove(uid);
            0
        }
    }
}

impl<S> Context<S> {
    /// How long until `obj` is due, when nothing that starts an evaluation changed since its last one: the
    /// same generation (spec) and requested-at annotation, no scope or namespace change affecting it, and its
    /// requeue time not reached. Edits of its labels or other annotations, and the operator's own status
    /// writes, then cost nothing: each would otherwise be a free evaluation for whoever may edit the check.
    fn not_due(
        &self,
        uid: &str,
        obj: &BucketAccessCheck,
        boundary_changed: bool,
    ) -> Option<Duration> {
        if boundary_changed || obj.status.is_none() {
            return None;
        }
        let visit = self.visits.get(uid)?;
        let same = visit.generation == obj.meta().generation
            && visit.requested.as_ref() == obj.annotations().get(REQUESTED_AT);
        let left = visit.due.checked_duration_since(Instant::now())?;
        // A second of slack: a requeue that fires a little early is due.
        (same && left > Duration::from_secs(1)).then_some(left)
    }

    /// Forgets the last evaluation of `uid` (the next reconcile evaluates).
    fn forget(&self, uid: &str) {
        self.visits.invalidate(uid);
    }

    /// Records an evaluation of `obj`, due again after `after`.
    fn visited(&self, uid: &str, obj: &BucketAccessCheck, after: Duration) {
        self.visits.insert(
            uid.to_owned(),
            Visit {
                generation: obj.meta().generation,
                requested: obj.annotations().get(REQUESTED_AT).cloned(),
                due: Instant::now() + after,
            },
        );
    }

    /// Whether `uid` may be read fresh now, given at most one fresh read per `min_interval` (none: no limit);
    /// when it may, the time is recorded.
    fn may_refresh(&self, uid: &str, min_interval: Option<Duration>) -> bool {
        let now = Instant::now();
        let allowed = match (min_interval, self.refreshed.get(uid)) {
            (Some(min), Some(last)) => now.duration_since(last) >= min,
            _ => true,
        };
        if allowed {
            self.refreshed.insert(uid.to_owned(), now);
        }
        allowed
    }
}

/// `sha256:` of the snapshot without its collection time, so that drift in AWS is visible in the status.
pub fn digest(snapshot: &Snapshot) -> String {
    let mut s = snapshot.clone();
    s.collected_at = None;
    let bytes = serde_json::to_vec(&s).unwrap_or_default();
    let hash = Sha256::digest(&bytes);
    format!(
        "sha256:{}",
        hash.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

/// The requeue delay: the interval with up to ±10% jitter, fixed per object so that checks spread out.
pub fn jittered(interval: Duration, uid: &str) -> Duration {
    let seed = uid
        .bytes()
        .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    let permille = (seed % 201) as i64 - 100; // -100..=100
    let millis = interval.as_millis() as i64;
    Duration::from_millis((millis + millis * permille / 1000).max(1000) as u64)
}

/// Backoff after `failures` consecutive failures: 5 s doubling, at most `cap`.
pub fn backoff(failures: u32, cap: Duration) -> Duration {
    let secs = 5u64.saturating_mul(1u64 << failures.saturating_sub(1).min(16));
    Duration::from_secs(secs).min(cap)
}

fn now() -> (Time, String) {
    let ts = jiff::Timestamp::now();
    (Time(ts), ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
}

async fn write_status(
    api: &Api<BucketAccessCheck>,
    name: &str,
    status: &BucketAccessCheckStatus,
) -> Result<(), Error> {
    let patch = serde_json::json!({"apiVersion": API_VERSION, "kind": KIND, "status": status});
    api.patch_status(
        name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&patch),
    )
    .await?;
    Ok(())
}

/// Reconciles one object.
pub async fn reconcile<S: SnapshotSource>(
    obj: Arc<BucketAccessCheck>,
    ctx: Arc<Context<S>>,
) -> Result<Action, Error> {
    let uid = uid_of(&obj);
    let (namespace, name) = (obj.namespace().unwrap_or_default(), obj.name_any());
    let boundary_changed =
        matches!(&ctx.boundary, Boundary::Enforce(c) if c.take_changed(&namespace, &name));
    // A change event touched what it read: due now.
    let event = ctx
        .events
        .as_ref()
        .and_then(|e| e.take(&format!("{namespace}/{name}")));
    if let Some(left) = ctx.not_due(&uid, &obj, boundary_changed || event.is_some()) {
        tracing::debug!(check = %format!("{namespace}/{name}"), "nothing that starts an evaluation changed: not due yet");
        return Ok(Action::requeue(left));
    }
    let started = Instant::now();
    let result = Box::pin(reconcile_inner(&obj, &ctx, event.is_some())).await;
    if result.is_err() {
        // Failed: the next try evaluates, whatever the last success said.
        ctx.forget(&uid);
    }
    if let (Ok(_), Some(Some(at))) = (&result, event) {
        ctx.metrics.event_lag(events::lag(at));
    }
    ctx.metrics.reconciled(
        started.elapsed(),
        result.as_ref().err().map(Error::metric_label),
    );
    result
}

/// The object's uid (its namespace and name when it has none, as in tests).
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
    generation: Option<i64>,
    previous: Option<BucketAccessCheckStatus>,
    principal: String,
    requested: Option<&'a String>,
    /// A change event touched what the check read.
    event: bool,
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

/// The status a reconcile computed, and what it cost.
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
async fn reconcile_inner<S: SnapshotSource>(
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
            tracing::info!(check = %format!("{}/{}", visit.namespace, visit.name), reason = %refusal, "out of scope: nothing read");
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
    let new = write(&visit, evaluated, started).await?;
    publish(&visit, ctx, &new).await?;
    Ok(requeue(&visit, ctx, &new, interval))
}

/// The object's facts, once.
fn facts_of<'a, S>(obj: &'a BucketAccessCheck, ctx: &Context<S>) -> Result<Facts<'a>, Error> {
    let name = obj.name_any();
    let namespace = obj
        .namespace()
        .ok_or_else(|| Error::NoNamespace(name.clone()))?;
    Ok(Facts {
        obj,
        uid: uid_of(obj),
        api: Api::namespaced(ctx.client.clone(), &namespace),
        generation: obj.meta().generation,
        previous: obj.status.clone(),
        principal: obj.spec.principal_arn().unwrap_or_default().to_owned(),
        requested: obj.annotations().get(REQUESTED_AT),
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
    tracing::debug!(check = %format!("{}/{}", visit.namespace, visit.name), "reconcile: deciding the scope");
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
    let (time, stamp) = now();
    Evaluated {
        current: visit.previous.clone(),
        new: build(
            visit.previous.as_ref(),
            outcome,
            visit.generation,
            &visit.principal,
            &time,
            &stamp,
        ),
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
    let check = format!("{}/{}", visit.namespace, visit.name);
    let (time, stamp) = now();
    // A new generation: say so before any AWS call.
    let mut current = visit.previous.clone();
    if visit.previous.as_ref().and_then(|s| s.observed_generation) != visit.generation
        || visit.previous.is_none()
    {
        let evaluating = build(
            visit.previous.as_ref(),
            Outcome::Evaluating,
            visit.generation,
            &visit.principal,
            &time,
            &stamp,
        );
        write_status(&visit.api, &visit.name, &evaluating).await?;
        current = Some(evaluating);
    }
    let (access, coalesced) = access_for(visit, ctx, grant);
    // Boxed: the collection's future is large, and reconciles run on worker threads with small stacks.
    tracing::debug!(check = %check, "reconcile: collecting");
    let (snapshot, aws_calls) =
        counting_calls(Box::pin(ctx.source.snapshot(target, &access))).await;
    if let Some(index) = &ctx.events {
        index.record(
            &check,
            ObjectRef::from_obj(visit.obj),
            Dependencies::of(&snapshot),
        );
    }
    // The collection can take minutes: the scope may have changed since it was decided. What was read under a
    // grant that no longer holds is not written; the check is decided again at once.
    if let (Boundary::Enforce(caches), Some(granted)) = (&ctx.boundary, grant) {
        let still = caches
            .authorize(visit.obj, target, &visit.namespace)
            .await?;
        if !matches!(&still, Authorization::InScope(now) if **now == *granted) {
            caches.mark_changed(&visit.namespace, &visit.name);
            tracing::info!(check = %check, "the scope changed during the collection: nothing written, deciding again");
            return Ok(None);
        }
    }
    tracing::debug!(check = %check, "reconcile: diagnosing");
    let diagnosis = diagnose(&snapshot);
    let (time, stamp) = now();
    // What the check's readers may see: decided from the diagnosis at the scope's level.
    let view = grant.map(|g| View {
        detail: g.detail,
        accounts: g.accounts.clone(),
    });
    let projection = project(&diagnosis, &digest(&snapshot), view.as_ref());
    let mut new = build(
        current.as_ref(),
        Outcome::Diagnosed(&projection),
        visit.generation,
        &visit.principal,
        &time,
        &stamp,
    );
    new.refreshed_by = Some(if access.fresh || coalesced.is_some() {
        RefreshedBy::Requested
    } else if visit.event {
        RefreshedBy::Event
    } else {
        RefreshedBy::Interval
    });
    if let Some(grant) = grant {
        new.scope = Some(StatusScope {
            name: grant.scope.clone(),
            detail: grant.detail,
            notes: grant.notes.iter().cloned().chain(coalesced).collect(),
        });
    }
    Ok(Some(Evaluated {
        current,
        new,
        collected: true,
        aws_calls,
    }))
}

/// What the collection may read and as whom, and whether it reads fresh: a new requested-at value reads
/// fresh once per the scope's `minInterval` (a tenant changing the annotation in a loop cannot spend the AWS
/// read budget of all); a request within it is answered from the cache, and the note says so.
fn access_for<S>(
    visit: &Facts<'_>,
    ctx: &Context<S>,
    grant: Option<&Grant>,
) -> (ReadAccess, Option<String>) {
    let mut access = grant.map_or_else(
        || ReadAccess::unrestricted(&visit.obj.spec.read_role_arns),
        |g| g.access.clone(),
    );
    let asked = visit.requested.is_some()
        && visit.requested
            != visit
                .previous
                .as_ref()
                .and_then(|s| s.last_handled_requested_at.as_ref());
    let min_interval = grant.and_then(|g| g.min_interval);
    access.fresh = asked && ctx.may_refresh(&visit.uid, min_interval);
    let coalesced = (asked && !access.fresh).then(|| {
        format!(
            "a requested re-evaluation came within {}s, the scope's `limits.minInterval`, of the last one: answered from cached reads",
            min_interval.unwrap_or_default().as_secs()
        )
    });
    (access, coalesced)
}

/// Step 5: log the evaluation and write the status. An evaluation against AWS is written even when its
/// result is unchanged, so that `lastEvaluated` (the LAST-EVALUATED column) says when the check was last
/// evaluated: once per interval, as evaluations happen only then or when something that matters changed
/// (`not_due`). The conditions' lastTransitionTime and the Events change only with the result; a verdict
/// reached without reading AWS is written only when it changed.
async fn write(
    visit: &Facts<'_>,
    evaluated: Evaluated,
    started: Instant,
) -> Result<BucketAccessCheckStatus, Error> {
    let Evaluated {
        current,
        mut new,
        collected,
        aws_calls,
    } = evaluated;
    new.last_handled_requested_at = visit.requested.cloned();
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
    if collected || !current.as_ref().is_some_and(|c| same_result(c, &new)) {
        write_status(&visit.api, &visit.name, &new).await?;
    }
    Ok(new)
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
        ctx.recorder
            .publish(&event, &visit.obj.object_ref(&()))
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
    let failures = ctx.failures(&visit.uid, unknown);
    let after = if unknown {
        backoff(failures, interval)
    } else {
        jittered(interval, &visit.uid)
    };
    ctx.visited(&visit.uid, visit.obj, after);
    Action::requeue(after)
}

/// After a Kubernetes API error: exponential backoff per object.
pub fn error_policy<S: SnapshotSource>(
    obj: Arc<BucketAccessCheck>,
    _error: &Error,
    ctx: Arc<Context<S>>,
) -> Action {
    let uid = obj.uid().unwrap_or_else(|| obj.name_any());
    let failures = ctx.failures(&uid, true);
    Action::requeue(backoff(failures, Duration::from_secs(300)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let cap = Duration::from_secs(600);
        let delays: Vec<u64> = (1..=9).map(|n| backoff(n, cap).as_secs()).collect();
        assert_eq!(delays, [5, 10, 20, 40, 80, 160, 320, 600, 600]);
    }

    /// A shard counts a namespace's older checks over every shard, whatever their labels: the count cap holds
    /// against a tenant spreading its checks over shards.
    #[test]
    fn a_shard_counts_older_checks_of_every_shard() {
        use kube::core::PartialObjectMetaExt;
        use kube::runtime::watcher::Event;
        let meta = |name: &str, namespace: &str, second: u32, shard: &str| {
            kube::core::ObjectMeta {
                name: Some(name.to_owned()),
                namespace: Some(namespace.to_owned()),
                creation_timestamp: Some(Time(
                    format!("2026-12-05T10:00:{second:02}Z")
                        .parse()
                        .unwrap_or_default(),
                )),
                labels: Some([("bucketaccess.io/shard".to_owned(), shard.to_owned())].into()),
                ..kube::core::ObjectMeta::default()
            }
            .into_response_partial::<BucketAccessCheck>()
        };
        let (store, mut writer) = kube::runtime::reflector::store();
        for m in [
            meta("z-one", "team", 1, "a"),
            meta("z-two", "team", 2, "b"),
            meta("elsewhere", "other", 0, "a"),
            meta("a-four", "team", 4, "b"),
        ] {
            writer.apply_watcher_event(&Event::Apply(m));
        }
        let list = CheckList::Every(store);
        let mut third =
            BucketAccessCheck::new("m-three", bucket_access_api::spec::CheckSpec::default());
        third.metadata.namespace = Some("team".to_owned());
        third.metadata.creation_timestamp =
            Some(Time("2026-12-05T10:00:03Z".parse().unwrap_or_default()));
        assert_eq!(list.older_in("team", &third), 2);
    }

    #[test]
    fn jitter_stays_within_ten_percent_and_is_stable() {
        let interval = Duration::from_secs(600);
        for uid in ["a", "b", "0f9c", "uid-with-more-characters"] {
            let d = jittered(interval, uid).as_secs();
            assert!((540..=660).contains(&d), "{uid}: {d}");
            assert_eq!(jittered(interval, uid), jittered(interval, uid));
        }
    }
}
