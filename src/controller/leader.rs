//! Leader election on a `coordination.k8s.io/v1` Lease with `kube-lease-manager`, so that two replicas never
//! both write: a replica waits until it holds the Lease, then the manager renews it `grace` before it expires;
//! when it is taken or cannot be renewed, this replica stops leading at once (the process exits and restarts
//! as a follower). Updates are server-side apply patches, so two replicas cannot both take the Lease; a
//! follower takes an expired Lease only after its renew time plus duration by its own clock, and the holder
//! renews `grace` early, so clocks may disagree by up to `grace`.

use kube::Client;
use kube_lease_manager::{LeaseManager, LeaseManagerBuilder, LeaseManagerError};
use std::time::Duration;

/// Settings of the election.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseConfig {
    /// Namespace of the Lease.
    pub namespace: String,
    /// Name of the Lease.
    pub name: String,
    /// This replica's identity (the pod name).
    pub identity: String,
    /// How long a Lease is valid without renewal, in seconds (at least 2).
    pub duration_seconds: u64,
    /// How long before expiry the holder renews, in seconds: the clock skew the election tolerates.
    pub grace_seconds: u64,
}

impl LeaseConfig {
    /// A configuration for a Lease valid `duration_seconds` (at least 2) renewed a third of it early.
    pub fn new(namespace: String, name: String, identity: String, duration_seconds: u64) -> Self {
        let duration_seconds = duration_seconds.max(2);
        Self {
            namespace,
            name,
            identity,
            duration_seconds,
            // The manager requires 0 < grace < duration.
            grace_seconds: (duration_seconds / 3).clamp(1, duration_seconds - 1),
        }
    }

    /// How long a follower waits before trying again after an error.
    fn retry_after(&self) -> Duration {
        Duration::from_secs(self.grace_seconds)
    }
}

/// This replica's part in the election.
pub struct Election {
    manager: LeaseManager,
    client: Client,
    config: LeaseConfig,
}

impl std::fmt::Debug for Election {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Election")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Election {
    /// Joins the election (creates the Lease when there is none).
    pub async fn join(client: Client, config: LeaseConfig) -> Result<Self, LeaseManagerError> {
        let manager = manager(client.clone(), &config).await?;
        Ok(Self {
            manager,
            client,
            config,
        })
    }

    /// Waits until this replica leads. A Lease deleted meanwhile is created again.
    pub async fn acquire(&mut self) {
        loop {
            match self.manager.changed().await {
                Ok(true) => return,
                Ok(false) => {
                    tracing::debug!(lease = %self.config.name, "another replica leads; waiting");
                }
                Err(LeaseManagerError::NonexistentLease(_)) => {
                    tracing::warn!(lease = %self.config.name, "the lease was deleted: creating it again");
                    match manager(self.client.clone(), &self.config).await {
                        Ok(manager) => self.manager = manager,
                        Err(e) => {
                            tracing::warn!(error = %e, "cannot create the lease");
                            tokio::time::sleep(self.config.retry_after()).await;
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read or write the lease");
                    tokio::time::sleep(self.config.retry_after()).await;
                }
            }
        }
    }

    /// Renews the Lease until it is taken or cannot be renewed (returns then: the replica must stop leading,
    /// since another may take the Lease once it expires).
    pub async fn keep(&self) {
        loop {
            match self.manager.changed().await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::error!(lease = %self.config.name, "another replica took the lease");
                    return;
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot renew the lease");
                    return;
                }
            }
        }
    }

    /// Gives the Lease up on shutdown, so that another replica can lead at once.
    pub async fn release(&self) {
        if let Err(e) = self.manager.release().await {
            tracing::warn!(error = %e, "cannot release the lease");
        }
    }
}

/// A manager of the Lease `config` names (created when absent).
async fn manager(client: Client, config: &LeaseConfig) -> Result<LeaseManager, LeaseManagerError> {
    LeaseManagerBuilder::new(client, &config.name)
        .with_namespace(&config.namespace)
        .with_identity(&config.identity)
        .with_duration(config.duration_seconds)
        .with_grace(config.grace_seconds)
        .with_field_manager(format!("bucket-access-operator-{}", config.identity))
        .build()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grace_is_a_third_and_always_below_the_duration() {
        let config = |s| LeaseConfig::new("ns".into(), "l".into(), "me".into(), s);
        assert_eq!(config(15).grace_seconds, 5);
        assert_eq!(config(15).duration_seconds, 15);
        assert_eq!(
            (config(2).duration_seconds, config(2).grace_seconds),
            (2, 1)
        );
        assert_eq!(
            (config(0).duration_seconds, config(0).grace_seconds),
            (2, 1)
        );
        assert_eq!(config(6).grace_seconds, 2);
    }
}
