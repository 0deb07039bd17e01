//! The `run` command: serves the endpoints, waits for leadership, then runs the controller until SIGTERM or
//! the loss of the Lease. With `--scope-mode enforce` it also watches scopes and namespaces: their caches feed
//! the scope decision, their changes re-evaluate exactly the checks they affect, and each scope's own status
//! is kept. Everything is wired here; the logic lives in `reconcile` and `scope`.

use super::context::Context;
use super::events::{self, EventIndex};
use super::leader::{Election, LeaseConfig};
use super::metrics::OperatorMetrics;
use super::publisher::Publisher;
use super::reconcile::{error_policy, reconcile};
use super::scope::caches::{Boundary, CheckList, ScopeCaches};
use super::scope::status as scope_status;
use super::scope::triggers::Triggers;
use super::server::{serve, Health};
use super::watch;
use bucket_access_api::scope::BucketAccessScope;
use bucket_access_api::spec::BucketAccessCheck;
use bucket_access_aws::{Collector, CollectorOptions};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Namespace;
use kube::core::PartialObjectMeta;
use kube::runtime::events::Reporter;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{reflector::reflector, watcher, Controller, WatchStreamExt};
use kube::{Api, Client, ResourceExt};
use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Whether scopes are enforced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, strum::IntoStaticStr)]
#[strum(serialize_all = "lowercase")]
pub enum ScopeMode {
    /// Every check must be allowed by a `BucketAccessScope` (multi-tenant safe).
    #[default]
    Enforce,
    /// No scopes: checks choose their reader roles (`spec.readRoleArns`); for single-tenant clusters.
    Off,
}

impl ScopeMode {
    /// The mode's name.
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// Options of `run`.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Watch one namespace (else all).
    pub namespace: Option<String>,
    /// Address of `/metrics`, `/healthz`, `/readyz`.
    pub listen: String,
    /// The Lease.
    pub lease: LeaseConfig,
    /// Reuse AWS reads for this long.
    pub cache_ttl: Duration,
    /// Reconciles at once.
    pub concurrency: u16,
    /// Writes to the Kubernetes API in flight at most (the window's ceiling).
    pub kube_writes: usize,
    /// AWS calls in flight at once.
    pub aws_concurrency: usize,
    /// Of those, how many one namespace's checks may hold.
    pub namespace_aws_share: usize,
    /// The role that reads the organization (none: the operator's own credentials).
    pub organization_reader: Option<s3_diagnosis::source::ReaderRole>,
    /// Accept the organization's SCPs and RCPs unread.
    pub organization_unread: bool,
    /// Whether scopes are enforced.
    pub scope_mode: ScopeMode,
    /// The change events queue (none: the interval only).
    pub events_queue_url: Option<String>,
    /// This shard's label selector (none: every check).
    pub selector: Option<String>,
    /// From how many checked principals of one account on its IAM is read at once.
    pub account_read_threshold: usize,
    /// Up to how many checks each one has metric series of its own.
    pub per_check_metrics_limit: usize,
}

/// Why the operator could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// No usable Kubernetes configuration, or the API server refused.
    #[error("kubernetes client: {0}")]
    Kube(#[from] kube::Error),
    /// The Lease cannot be read or created.
    #[error("leader election: {0}")]
    Lease(#[from] kube_lease_manager::LeaseManagerError),
    /// The endpoints' address cannot be bound.
    #[error("cannot listen on the metrics address: {0}")]
    Listen(#[from] std::io::Error),
}

/// Runs the operator; returns when it should exit.
pub async fn run(options: RunOptions) -> Result<(), RunError> {
    let client = Client::try_default().await?;
    let collector = Arc::new(
        Collector::from_env(CollectorOptions {
            ttl: options.cache_ttl,
            concurrency: options.aws_concurrency,
            namespace_share: options.namespace_aws_share,
            organization_reader: options.organization_reader.clone(),
            account_read_threshold: options.account_read_threshold,
            organization_unread: options.organization_unread,
            ..CollectorOptions::default()
        })
        .await,
    );
    let aws_account = own_aws_account(&collector).await;
    let metrics = Arc::new(OperatorMetrics::with_aws(collector.metrics(), &aws_account));
    metrics.set_scope_mode(options.scope_mode.name());
    announce(options.scope_mode);
    let health = Arc::new(Health::default());
    let listener = tokio::net::TcpListener::bind(&options.listen).await?;
    tracing::info!(listen = %options.listen, "serving /metrics, /healthz, /readyz");
    let server = tokio::spawn(serve(listener, Arc::clone(&metrics), Arc::clone(&health)));

    // Followers are ready: they serve their endpoints and stand by (and say they do not lead).
    metrics.set_leader(&options.lease.name, false);
    health.ready.store(true, Ordering::Relaxed);
    tracing::info!(lease = %options.lease.name, identity = %options.lease.identity, "waiting for leadership");
    let leading = async {
        let mut election = Election::join(client.clone(), options.lease.clone()).await?;
        election.acquire().await;
        Ok::<_, RunError>(election)
    };
    let election = tokio::select! {
        election = leading => election?,
        () = shutdown_signal() => {
            server.abort();
            return Ok(());
        }
    };
    metrics.set_leader(&options.lease.name, true);
    tracing::info!("leading: starting the controller");

    let controller = control(&client, &options, collector, &metrics);
    tokio::select! {
        () = controller => tracing::info!("controller stopped"),
        () = election.keep() => tracing::error!("lost the lease: exiting"),
    }
    metrics.set_leader(&options.lease.name, false);
    election.release().await;
    server.abort();
    Ok(())
}

/// Who the operator is in AWS, once: in the log and on the build-info series (`unknown` when its own
/// credentials cannot be used).
async fn own_aws_account(collector: &Collector) -> String {
    match collector.caller().await {
        Ok((account, arn)) => {
            tracing::info!(aws_account = %account, aws_identity = %arn, "the operator's own AWS identity");
            account
        }
        Err(e) => {
            tracing::error!(
                error = %e,
                "the operator's own AWS credentials cannot be used: every read that needs them fails (configure IRSA or EKS Pod Identity for its ServiceAccount, or the standard AWS environment)"
            );
            "unknown".to_owned()
        }
    }
}

/// Says in the log what the scope mode means.
fn announce(mode: ScopeMode) {
    match mode {
        ScopeMode::Enforce => tracing::info!(
            scope_mode = "enforce",
            "every check must be allowed by a BucketAccessScope; spec.readRoleArns is ignored"
        ),
        ScopeMode::Off => tracing::warn!(
            scope_mode = "off",
            "scopes are not enforced: any namespace may check anything the operator can read (single-tenant clusters only)"
        ),
    }
}

/// The controller of the leader: watches the checks (and, with scopes, the scopes and the namespaces) and
/// reconciles them until shutdown.
async fn control(
    client: &Client,
    options: &RunOptions,
    collector: Arc<Collector>,
    metrics: &Arc<OperatorMetrics>,
) {
    let api: Api<BucketAccessCheck> = match &options.namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    let recorder = Publisher::new(
        client.clone(),
        Reporter {
            controller: "bucket-access-operator".into(),
            instance: Some(options.lease.identity.clone()),
        },
    );
    let mut watched = watcher::Config::default().any_semantic();
    if let Some(selector) = &options.selector {
        watched = watched.labels(selector);
    }
    let (store, checks) = watch::checks(api, watched);
    let mut controller = Controller::for_stream(checks, store);
    metrics.count_checks_in(controller.store(), options.per_check_metrics_limit);
    let boundary = match options.scope_mode {
        ScopeMode::Off => Boundary::Off,
        ScopeMode::Enforce => {
            // A shard counts a namespace's checks over every shard (`limits.maxChecksPerNamespace` holds
            // whatever labels a tenant puts on its checks): it watches the checks' metadata, all of them.
            let counted = match options.selector {
                Some(_) => CheckList::Every(watch_check_metadata(client)),
                None => CheckList::Shard(controller.store()),
            };
            let (caches, scope_changes, namespace_changes) =
                watch_boundary(client, controller.store(), counted);
            controller = controller
                .reconcile_on(scope_changes)
                .reconcile_on(namespace_changes);
            Boundary::Enforce(caches)
        }
    };
    // AWS change events: the leader follows the queue while it runs the controller.
    let mut follower = None;
    let mut context = Context::new(
        client.clone(),
        recorder,
        Arc::clone(&collector),
        Arc::clone(metrics),
        boundary,
    )
    .with_write_ceiling(options.kube_writes);
    if let Some(url) = &options.events_queue_url {
        let (index, touched) = EventIndex::new();
        controller = controller.reconcile_on(touched);
        follower = Some(tokio::spawn(events::follow(
            collector.event_queue(url),
            collector,
            Arc::clone(&index),
            Arc::clone(metrics),
        )));
        context = context.with_events(index);
    }
    let context = Arc::new(context);
    controller
        .with_config(kube::runtime::controller::Config::default().concurrency(options.concurrency))
        .graceful_shutdown_on(shutdown_signal())
        .run(reconcile, error_policy, context)
        .for_each(|result| async move {
            if let Err(e) = result {
                tracing::warn!(error = %e, "reconcile failed");
            }
        })
        .await;
    if let Some(follower) = follower {
        follower.abort();
    }
}

/// The checks of `namespaces`, from the controller's cache, each marked in `changed` as affected by a
/// boundary change (so that its next reconcile evaluates it).
fn checks_in(
    checks: &Store<BucketAccessCheck>,
    namespaces: &BTreeSet<String>,
    changed: &Mutex<std::collections::HashSet<String>>,
) -> Vec<ObjectRef<BucketAccessCheck>> {
    let refs: Vec<ObjectRef<BucketAccessCheck>> = checks
        .state()
        .iter()
        .filter(|c| c.namespace().is_some_and(|ns| namespaces.contains(&ns)))
        .map(|c| ObjectRef::from_obj(c.as_ref()))
        .collect();
    if let Ok(mut changed) = changed.lock() {
        changed.extend(
            refs.iter()
                .map(|r| format!("{}/{}", r.namespace.as_deref().unwrap_or_default(), r.name)),
        );
    }
    refs
}

type Changes = futures::stream::BoxStream<'static, ObjectRef<BucketAccessCheck>>;

/// Writes the status of each of `scopes` (validity, namespaces selected now) where it changed, in the
/// background: a failed write is logged and retried at the next change.
fn refresh_scope_statuses(
    api: &Api<BucketAccessScope>,
    triggers: &Mutex<Triggers>,
    scopes: Vec<Arc<BucketAccessScope>>,
) {
    let now = k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(jiff::Timestamp::now());
    let updates: Vec<_> = scopes
        .into_iter()
        .map(|scope| {
            let selected = triggers
                .lock()
                .map(|t| t.selected_count(&scope.spec))
                .unwrap_or(0);
            let status = scope.desired_status(selected, &now);
            (scope, status)
        })
        .filter(|(scope, status)| scope.status.as_ref() != Some(status))
        .collect();
    if updates.is_empty() {
        return;
    }
    let api = api.clone();
    tokio::spawn(async move {
        for (scope, status) in updates {
            if let Err(e) = scope_status::write(&api, &scope, &status).await {
                tracing::warn!(scope = %scope.name_any(), error = %e, "cannot write the scope's status");
            }
        }
    });
}

/// Watches scopes and namespaces into caches; returns the caches and, for each, the stream of checks to
/// re-evaluate when it changes. Scope statuses are written from the scope stream.
fn watch_boundary(
    client: &Client,
    checks: Store<BucketAccessCheck>,
    counted: CheckList,
) -> (ScopeCaches, Changes, Changes) {
    let triggers = Arc::new(Mutex::new(Triggers::default()));
    let scopes_api: Api<BucketAccessScope> = Api::all(client.clone());
    let (scope_store, scope_writer) = reflector::store();
    let (namespace_store, namespace_writer) = reflector::store();
    let caches = ScopeCaches::new(scope_store.clone(), namespace_store, counted);
    let changed = caches.changes();

    let (t, c, api, marks) = (
        Arc::clone(&triggers),
        checks.clone(),
        scopes_api.clone(),
        Arc::clone(&changed),
    );
    let scope_changes = reflector(
        scope_writer,
        watcher(scopes_api.clone(), watcher::Config::default()).default_backoff(),
    )
    .filter_map(move |event| {
        let affected = match (&event, t.lock()) {
            (Ok(e), Ok(mut t)) => t.on_scope(e),
            _ => BTreeSet::new(),
        };
        if let Ok(watcher::Event::Apply(scope) | watcher::Event::InitApply(scope)) = &event {
            refresh_scope_statuses(&api, &t, vec![Arc::new(scope.clone())]);
        }
        if let Err(e) = &event {
            tracing::warn!(error = %e, "watching BucketAccessScopes");
        }
        futures::future::ready(Some(futures::stream::iter(checks_in(
            &c, &affected, &marks,
        ))))
    })
    .flatten()
    .boxed();

    let (t, c, api, scopes, marks) = (
        Arc::clone(&triggers),
        checks.clone(),
        scopes_api.clone(),
        scope_store.clone(),
        Arc::clone(&changed),
    );
    let namespace_changes = reflector(
        namespace_writer,
        watcher(
            Api::<PartialObjectMeta<Namespace>>::all(client.clone()),
            watcher::Config::default(),
        )
        .default_backoff(),
    )
    .filter_map(move |event| {
        let affected = match (&event, t.lock()) {
            (Ok(e), Ok(mut t)) => t.on_namespace(e),
            _ => BTreeSet::new(),
        };
        if let Err(e) = &event {
            tracing::warn!(error = %e, "watching namespaces");
        }
        // A namespace that appeared or was relabelled changes how many namespaces scopes select.
        if !affected.is_empty() {
            refresh_scope_statuses(&api, &t, scopes.state());
        }
        futures::future::ready(Some(futures::stream::iter(checks_in(
            &c, &affected, &marks,
        ))))
    })
    .flatten()
    .boxed();

    (caches, scope_changes, namespace_changes)
}

/// The metadata of every check (no spec, no status, no managed fields), for a shard's count of a namespace's
/// checks over all shards; watched in the background.
fn watch_check_metadata(client: &Client) -> Store<PartialObjectMeta<BucketAccessCheck>> {
    let (store, writer) = reflector::store();
    let stream = reflector(
        writer,
        watcher(
            Api::<PartialObjectMeta<BucketAccessCheck>>::all(client.clone()),
            watcher::Config::default().any_semantic(),
        )
        .default_backoff()
        .modify(|meta| meta.metadata.managed_fields = None),
    );
    tokio::spawn(stream.for_each(|event| async move {
        if let Err(e) = event {
            tracing::warn!(error = %e, "watching the checks' metadata");
        }
    }));
    store
}

/// SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}
