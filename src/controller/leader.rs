//! Leader election on a `coordination.k8s.io/v1` Lease, so that two replicas never both write: a replica
//! waits until it holds the Lease (free, expired, or already its own), then renews it; when it cannot renew
//! within the lease duration it stops leading (the process exits and restarts as a follower).
//! Updates use the Lease's resourceVersion, so two replicas cannot both take it.

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::api::{Api, ObjectMeta, PostParams};
use kube::Client;
use std::time::Duration;

/// Settings of the election.
#[derive(Debug, Clone)]
pub struct LeaseConfig {
    /// Namespace of the Lease.
    pub namespace: String,
    /// Name of the Lease.
    pub name: String,
    /// This replica's identity (the pod name).
    pub identity: String,
    /// How long a Lease is valid without renewal.
    pub duration: Duration,
    /// How often the holder renews (and a follower retries).
    pub renew_every: Duration,
}

fn now() -> MicroTime {
    MicroTime(jiff::Timestamp::now())
}

/// How far the clocks of two replicas may disagree: another replica's Lease counts as expired only this long
/// after its renew time plus its duration, by the local clock (renew times are written by the holder's).
pub const CLOCK_SKEW_MARGIN_SECONDS: i64 = 2;

/// Whether `lease` may be taken by `identity` now.
pub fn takeable(lease: &Lease, identity: &str, now: jiff::Timestamp) -> bool {
    let Some(spec) = &lease.spec else { return true };
    let holder = spec.holder_identity.as_deref().unwrap_or("");
    if holder.is_empty() || holder == identity {
        return true;
    }
    let duration = i64::from(spec.lease_duration_seconds.unwrap_or(15));
    match &spec.renew_time {
        Some(MicroTime(renewed)) => {
            renewed
                .as_second()
                .saturating_add(duration)
                .saturating_add(CLOCK_SKEW_MARGIN_SECONDS)
                < now.as_second()
        }
        None => true,
    }
}

/// One attempt to take or renew the Lease; `Ok(true)` when this replica holds it afterwards.
pub async fn try_acquire(api: &Api<Lease>, config: &LeaseConfig) -> Result<bool, kube::Error> {
    let seconds = i32::try_from(config.duration.as_secs()).unwrap_or(15);
    match api.get_opt(&config.name).await? {
        None => {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(config.name.clone()),
                    namespace: Some(config.namespace.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(LeaseSpec {
                    holder_identity: Some(config.identity.clone()),
                    lease_duration_seconds: Some(seconds),
                    acquire_time: Some(now()),
                    renew_time: Some(now()),
                    lease_transitions: Some(0),
                    ..LeaseSpec::default()
                }),
            };
            match api.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(true),
                Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
                Err(e) => Err(e),
            }
        }
        Some(mut lease) => {
            if !takeable(&lease, &config.identity, jiff::Timestamp::now()) {
                return Ok(false);
            }
            let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
            if spec.holder_identity.as_deref() != Some(config.identity.as_str()) {
                spec.holder_identity = Some(config.identity.clone());
                spec.acquire_time = Some(now());
                spec.lease_transitions =
                    Some(spec.lease_transitions.unwrap_or(0).saturating_add(1));
            }
            spec.lease_duration_seconds = Some(seconds);
            spec.renew_time = Some(now());
            // The resourceVersion read above makes this a compare-and-swap: a 409 means another replica won.
            match api
                .replace(&config.name, &PostParams::default(), &lease)
                .await
            {
                Ok(_) => Ok(true),
                Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
                Err(e) => Err(e),
            }
        }
    }
}

/// Waits until this replica leads.
pub async fn acquire(client: Client, config: &LeaseConfig) {
    let api: Api<Lease> = Api::namespaced(client, &config.namespace);
    loop {
        match try_acquire(&api, config).await {
            Ok(true) => return,
            Ok(false) => tracing::debug!(lease = %config.name, "another replica leads; waiting"),
            Err(e) => tracing::warn!(error = %e, "cannot read or write the lease"),
        }
        tokio::time::sleep(config.renew_every).await;
    }
}

/// Renews the Lease until it is lost (returns then).
pub async fn keep(client: Client, config: &LeaseConfig) {
    let api: Api<Lease> = Api::namespaced(client, &config.namespace);
    let mut last = tokio::time::Instant::now();
    loop {
        tokio::time::sleep(config.renew_every).await;
        match try_acquire(&api, config).await {
            Ok(true) => last = tokio::time::Instant::now(),
            Ok(false) => {
                tracing::error!(lease = %config.name, "another replica took the lease");
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot renew the lease");
                if last.elapsed() > config.duration {
                    return;
                }
            }
        }
    }
}

/// Gives the Lease up on shutdown, so that another replica can lead at once.
pub async fn release(client: Client, config: &LeaseConfig) {
    let api: Api<Lease> = Api::namespaced(client, &config.namespace);
    if let Ok(Some(mut lease)) = api.get_opt(&config.name).await {
        if let Some(spec) = lease.spec.as_mut() {
            if spec.holder_identity.as_deref() == Some(config.identity.as_str()) {
                spec.holder_identity = None;
                let _ = api
                    .replace(&config.name, &PostParams::default(), &lease)
                    .await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(holder: Option<&str>, renewed: &str, seconds: i32) -> Lease {
        Lease {
            metadata: ObjectMeta::default(),
            spec: Some(LeaseSpec {
                holder_identity: holder.map(str::to_owned),
                lease_duration_seconds: Some(seconds),
                renew_time: Some(MicroTime(renewed.parse().unwrap())),
                ..LeaseSpec::default()
            }),
        }
    }

    #[test]
    fn who_may_take_the_lease() {
        let now: jiff::Timestamp = "2026-11-28T10:00:30Z".parse().unwrap();
        assert!(
            takeable(&lease(None, "2026-11-28T10:00:29Z", 15), "b", now),
            "free"
        );
        assert!(
            takeable(&lease(Some("b"), "2026-11-28T10:00:29Z", 15), "b", now),
            "own"
        );
        assert!(
            !takeable(&lease(Some("a"), "2026-11-28T10:00:20Z", 15), "b", now),
            "held and fresh"
        );
        assert!(
            takeable(&lease(Some("a"), "2026-11-28T10:00:10Z", 15), "b", now),
            "expired"
        );
        assert!(
            !takeable(&lease(Some("a"), "2026-11-28T10:00:14Z", 15), "b", now),
            "expired by this clock, but within the skew margin"
        );
    }
}
