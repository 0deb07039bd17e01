//! The `run` command: serves the endpoints, waits for leadership, then runs the controller until SIGTERM or
//! the loss of the Lease. Everything is wired here; the logic lives in `reconcile`.

use super::leader::{self, LeaseConfig};
use super::metrics::OperatorMetrics;
use super::reconcile::{error_policy, reconcile, Context};
use super::server::{serve, Health};
use crate::aws::{Collector, CollectorOptions};
use crate::spec::BucketAccessCheck;
use futures::StreamExt;
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::{watcher, Controller};
use kube::{Api, Client};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

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
}

/// Why the operator could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// No usable Kubernetes configuration, or the API server refused.
    #[error("kubernetes client: {0}")]
    Kube(#[from] kube::Error),
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
            ..CollectorOptions::default()
        })
        .await,
    );
    let metrics = Arc::new(OperatorMetrics::with_aws(collector.metrics()));
    let health = Arc::new(Health::default());
    let listener = tokio::net::TcpListener::bind(&options.listen).await?;
    tracing::info!(listen = %options.listen, "serving /metrics, /healthz, /readyz");
    let server = tokio::spawn(serve(listener, Arc::clone(&metrics), Arc::clone(&health)));

    // Followers are ready: they serve their endpoints and stand by.
    health.ready.store(true, Ordering::Relaxed);
    tracing::info!(lease = %options.lease.name, identity = %options.lease.identity, "waiting for leadership");
    tokio::select! {
        () = leader::acquire(client.clone(), &options.lease) => {}
        () = shutdown_signal() => {
            server.abort();
            return Ok(());
        }
    }
    tracing::info!("leading: starting the controller");

    let api: Api<BucketAccessCheck> = match &options.namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    let recorder = Recorder::new(
        client.clone(),
        Reporter {
            controller: "bucket-access-operator".into(),
            instance: Some(options.lease.identity.clone()),
        },
    );
    let context = Arc::new(Context::new(
        client.clone(),
        recorder,
        collector,
        Arc::clone(&metrics),
    ));
    let controller = Controller::new(api, watcher::Config::default().any_semantic());
    metrics.count_checks_in(controller.store());
    let controller = controller
        .with_config(kube::runtime::controller::Config::default().concurrency(options.concurrency))
        .graceful_shutdown_on(shutdown_signal())
        .run(reconcile, error_policy, context)
        .for_each(|result| async move {
            if let Err(e) = result {
                tracing::warn!(error = %e, "reconcile failed");
            }
        });
    tokio::select! {
        () = controller => tracing::info!("controller stopped"),
        () = leader::keep(client.clone(), &options.lease) => tracing::error!("lost the lease: exiting"),
    }
    leader::release(client, &options.lease).await;
    server.abort();
    Ok(())
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
